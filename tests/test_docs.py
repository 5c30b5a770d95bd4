"""The docs name every setting, API route and CLI command (issue #2)."""

import re
from pathlib import Path

from indexer.cli import cli
from settings import SETTINGS

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_is_in_the_settings_doc():
    text = (ROOT / "docs" / "settings.md").read_text()
    assert [s.name for s in SETTINGS if f"`{s.name}`" not in text] == []


def test_every_api_route_is_in_the_api_doc(indexed_app):
    text = (ROOT / "docs" / "api.md").read_text()
    routes = {
        rule.rule.replace("<path:call_id>", "<id>").replace("<path:customer_id>", "<id>")
        for rule in indexed_app.url_map.iter_rules()
        if rule.rule.startswith("/api/") or rule.rule == "/healthz"
    }
    assert sorted(route for route in routes if route not in text) == []


def test_every_cli_command_is_in_the_readme():
    text = (ROOT / "README.md").read_text()
    commands = [name for name in cli.commands]
    assert [name for name in commands if f"python -m indexer {name}" not in text and f"`{name} " not in text] == []


def test_readme_first_screen_gives_the_two_commands():
    first_screen = "\n".join((ROOT / "README.md").read_text().splitlines()[:20])
    assert "bash scripts/serve.sh" in first_screen
    assert "bash scripts/test.sh" in first_screen


def test_readme_and_docs_point_only_inside_the_repository():
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    outside = [
        (page.name, line)
        for page in pages
        for line in page.read_text(encoding="utf-8").splitlines()
        if "FACTS.md" in line or ("../shared" in line and "default" not in line and "beside the clone" not in line)
    ]
    assert outside == []


def test_every_benchmark_the_readme_runs_exists():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    named = sorted(set(re.findall(r"python -m bench\.(\w+)", text)))
    assert [name for name in named if not (ROOT / "bench" / f"{name}.py").is_file()] == []
    assert "relevance" in named
