"""The code passes ruff's lint and format checks (the house style)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECKED = ["app", "engine", "indexer", "analyzers", "bench", "tests", "tools", "wsgi.py", "gunicorn.conf.py"]


def ruff(*args):
    return subprocess.run([sys.executable, "-m", "ruff", *args, *CHECKED], cwd=ROOT, capture_output=True, text=True)


def test_ruff_lint_finds_nothing():
    result = ruff("check", "--no-cache")
    assert (result.returncode, result.stdout) == (0, "All checks passed!\n")


def test_ruff_format_would_change_nothing():
    result = ruff("format", "--check", "--no-cache")
    assert result.returncode == 0, result.stdout
