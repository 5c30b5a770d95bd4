"""The Whoosh internals this product relies on are checked at start (issue #15), naming what differs."""

import tempfile

import pytest
import whoosh
from conftest import settings_for

from app import create_app
from index import whoosh_compat
from indexer.cli import cli


@pytest.fixture
def another_whoosh(monkeypatch):
    """The import name ``whoosh`` provided by a release other than 2.7.4 (as whoosh-reloaded does)."""
    monkeypatch.setattr(whoosh, "__version__", (2, 7, 5))


EXPECTED = (
    "Whoosh 2.7.5 is installed, but this product reads and writes 2.7.4's files; "
    "install the pinned release: pip install -r requirements.txt (whoosh==2.7.4)"
)


def test_the_version_check_names_what_is_installed_and_the_fix(another_whoosh):
    with pytest.raises(whoosh_compat.WhooshVersionError) as error:
        whoosh_compat.install()
    assert str(error.value) == EXPECTED


def test_the_server_does_not_start_on_another_whoosh(another_whoosh, data_folder):
    with pytest.raises(whoosh_compat.WhooshVersionError) as error:
        create_app(settings_for(data_folder))
    assert str(error.value) == EXPECTED


def test_the_command_line_stops_with_the_message_on_another_whoosh(another_whoosh, data_folder, monkeypatch):
    from click.testing import CliRunner

    monkeypatch.setenv("KB_DATA_DIR", str(data_folder))
    result = CliRunner().invoke(cli, ["check"])
    assert (result.exit_code, result.output) == (1, f"Error: {EXPECTED}\n")


def test_a_whoosh_module_from_another_distribution_is_refused(monkeypatch):
    monkeypatch.setattr(
        whoosh_compat.importlib.metadata, "packages_distributions", lambda: {"whoosh": ["whoosh-reloaded"]}
    )
    with pytest.raises(whoosh_compat.WhooshVersionError) as error:
        whoosh_compat.check_version()
    assert str(error.value).startswith(
        "the 'whoosh' module comes from whoosh-reloaded, not from the Whoosh 2.7.4 release"
    )


def test_a_changed_internal_is_reported_at_start_not_mid_search(monkeypatch):
    monkeypatch.setattr(whoosh_compat, "_installed", False)
    monkeypatch.setattr(whoosh_compat, "_apply", lambda methods: None)
    monkeypatch.setattr(whoosh_compat, "_LENGTH_COLUMN", "_{}_lengths")
    with pytest.raises(whoosh_compat.WhooshVersionError) as error:
        whoosh_compat.install()
    assert str(error.value).startswith("this Whoosh differs from 2.7.4 inside")


def test_the_installed_whoosh_passes_and_install_is_idempotent():
    whoosh_compat.install()
    whoosh_compat.install()
    assert whoosh_compat._installed is True


def test_the_self_test_leaves_another_process_spill_folder_alone(tmp_path, monkeypatch):
    """Two processes starting at once (two servers, a server and the CLI) must not share the self-test's files:
    Whoosh's in-memory index spills to ``<temp>/MAIN.tmp``, the same folder for every process."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    (tmp_path / "MAIN.tmp").mkdir()
    (tmp_path / "MAIN.tmp" / "another-process.ctmp").write_bytes(b"spilled columns")
    whoosh_compat._self_test()
    assert sorted(path.name for path in tmp_path.rglob("*")) == ["MAIN.tmp", "another-process.ctmp"]


def test_the_length_total_depends_on_the_calls_not_on_how_their_commits_were_batched(tmp_path):
    from index.build import apply_changes, rebuild
    from indexer.context import open_knowledge_base
    from store.records import validate_record

    def call(number):
        words = "printer spooler stuck " + "queue " * (number % 9) + "word " * (number % 37)
        return validate_record({"id": f"R-{number:03}", "title": f"Spooler {number}", "problem": words})

    totals = []
    for batch in (1, 7, 50):
        folder = tmp_path / f"batches-of-{batch}"
        kb = open_knowledge_base(overrides={"KB_DATA_DIR": str(folder), "KB_DATABASE_URL": ""}, environ={})
        kb.store.upsert([call(0)])
        rebuild(kb.store, kb.home)
        for start in range(1, 300, batch):
            kb.store.upsert([call(number) for number in range(start, min(300, start + batch))])
            apply_changes(kb.store, kb.home)
        with kb.home.open_index().searcher() as searcher:
            totals.append((searcher.field_length("text"), whoosh_compat.length_total(searcher.reader(), "text")))
        kb.close()
    whooshs, ours = zip(*totals)
    assert len(set(whooshs)) > 1  # Whoosh's own total moves with the merges
    assert len(set(ours)) == 1
