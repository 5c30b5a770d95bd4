"""The command line: import, rebuild, check, export, backup and restore (issue #2, #6)."""

import json
import multiprocessing
import shutil
import sys
from pathlib import Path

import pytest
from conftest import TEST_DATA
from whoosh.qparser import QueryParser

from index import build
from index.build import check
from indexer.context import open_knowledge_base
from store.base import StoreUnavailableError

SAMPLE_CALLS = Path(__file__).resolve().parents[1] / "sample" / "calls.jsonl"


def store_snapshot(data_folder):
    kb = open_knowledge_base(overrides={"KB_DATA_DIR": str(data_folder)}, environ={})
    try:
        return {record["id"]: record for record in kb.store.iter_records()}
    finally:
        kb.close()


def test_a_postgresql_url_without_psycopg_names_the_extra_to_install(runner, monkeypatch):
    # A None entry in sys.modules makes "import psycopg" fail as it does where psycopg is not installed.
    monkeypatch.setitem(sys.modules, "psycopg", None)
    monkeypatch.delitem(sys.modules, "store.postgres", raising=False)
    monkeypatch.setenv("KB_DATABASE_URL", "postgresql://kb@localhost/kb")
    result = runner("check")
    assert result.exit_code == 1
    assert "Error: cannot open the store: KB_DATABASE_URL names a PostgreSQL database, but psycopg" in result.output
    assert "install the 'postgres' extra (pip install 'support-kb-search[postgres]'" in result.output


def test_import_jsonl_stores_and_indexes_every_record(runner, data_folder):
    result = runner("import", TEST_DATA / "good.jsonl")
    assert result.exit_code == 0
    assert "inserted 5, updated 0, unchanged 0, skipped 0" in result.output
    assert sorted(store_snapshot(data_folder)) == ["G-1", "G-2", "G-3", "G-4", "G-5"]
    assert runner("check").exit_code == 0


def test_import_reads_csv_with_comma_separated_tags_and_keeps_extra_columns(runner, data_folder):
    result = runner("import", TEST_DATA / "good.csv")
    assert result.exit_code == 0
    records = store_snapshot(data_folder)
    assert sorted(records) == ["C-1", "C-2", "C-3", "C-4"]
    assert (records["C-3"]["tags"], records["C-3"]["resolved"]) == (["colour", "streaks", "toner"], False)
    assert (records["C-1"]["resolved"], records["C-1"]["extra"]) == (True, {"ticket_owner": "alice"})


def test_reimporting_a_csv_file_changes_nothing(runner, data_folder):
    runner("import", TEST_DATA / "good.csv")
    result = runner("import", TEST_DATA / "good.csv")
    assert "inserted 0, updated 0, unchanged 4, skipped 0" in result.output


def test_jsonl_row_with_a_wrong_type_is_refused_with_its_line_and_stores_nothing(runner, data_folder, tmp_path):
    runner("import", TEST_DATA / "good.jsonl")
    before = store_snapshot(data_folder)
    path = tmp_path / "typed.jsonl"
    rows = [{"id": "W-1", "title": "Printer offline"}, {"id": "W-2", "title": 42}, {"id": 3, "title": "x"}]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    result = runner("import", path)
    assert result.exit_code == 1
    assert "typed.jsonl:2: field 'title' must be a string" in result.output
    assert "typed.jsonl:3: field 'id' must be a string" in result.output
    assert store_snapshot(data_folder) == before


def test_import_reads_json_array(runner, data_folder):
    assert runner("import", TEST_DATA / "good.json").exit_code == 0
    assert len(store_snapshot(data_folder)) == 3


def test_reimporting_the_same_file_changes_nothing(runner, data_folder):
    runner("import", TEST_DATA / "good.jsonl")
    before = store_snapshot(data_folder)
    result = runner("import", TEST_DATA / "good.jsonl")
    assert "inserted 0, updated 0, unchanged 5, skipped 0" in result.output
    assert store_snapshot(data_folder) == before


def test_import_with_bad_rows_stores_nothing_and_names_each_line(runner, data_folder):
    runner("import", TEST_DATA / "good.jsonl")
    before = store_snapshot(data_folder)
    result = runner("import", TEST_DATA / "bad_rows.jsonl")
    assert result.exit_code == 1
    assert "bad_rows.jsonl:2: field 'id' is required (a non-empty string)" in result.output
    assert "bad_rows.jsonl:5: at least one of 'title' and 'problem' must be non-empty" in result.output
    assert "nothing imported (2 bad row(s))" in result.output
    assert store_snapshot(data_folder) == before


def test_skip_invalid_stores_the_valid_rows_and_reports_the_rest(runner, data_folder):
    result = runner("import", "--skip-invalid", TEST_DATA / "bad_rows.jsonl")
    assert result.exit_code == 0
    assert "inserted 4, updated 0, unchanged 0, skipped 2" in result.output
    assert "bad_rows.jsonl:2:" in result.output
    assert len(store_snapshot(data_folder)) == 4


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("not_array.json", "not_array.json:1: a .json file must hold an array of call records, not a dict"),
        ("broken_quoting.csv", "broken_quoting.csv:"),
        ("invalid_utf8.jsonl", "invalid_utf8.jsonl:2: invalid UTF-8"),
        ("duplicate_ids.jsonl", "duplicate_ids.jsonl:3: duplicate id"),
        ("bad_json_line.jsonl", "bad_json_line.jsonl:3: not valid JSON"),
    ],
    ids=["not-array", "broken-csv-quoting", "invalid-utf8", "duplicate-ids", "bad-json-line"],
)
def test_malformed_file_is_refused_with_its_line_and_leaves_the_store_unchanged(runner, data_folder, name, expected):
    runner("import", TEST_DATA / "good.jsonl")
    before = store_snapshot(data_folder)
    result = runner("import", TEST_DATA / name)
    assert result.exit_code == 1
    assert expected in result.output
    assert store_snapshot(data_folder) == before


def test_broken_csv_quoting_names_a_line_number(runner):
    result = runner("import", TEST_DATA / "broken_quoting.csv")
    assert "broken CSV" in result.output
    assert "broken_quoting.csv:0:" not in result.output


def test_unsupported_file_type_is_refused(runner, tmp_path):
    path = tmp_path / "calls.txt"
    path.write_text("hello")
    result = runner("import", path)
    assert result.exit_code == 1
    assert "unsupported file type '.txt': use .jsonl, .json or .csv" in result.output


def test_huge_field_is_refused_naming_the_field(runner, tmp_path):
    path = tmp_path / "huge.jsonl"
    path.write_text(json.dumps({"id": "H-1", "title": "x" * 1001}) + "\n")
    result = runner("import", path)
    assert result.exit_code == 1
    assert "huge.jsonl:1: field 'title' is 1,001 characters long; the limit is 1,000" in result.output


def test_export_writes_what_import_reads_back(runner, data_folder, tmp_path):
    runner("import", TEST_DATA / "good.csv", TEST_DATA / "good.jsonl")
    exported = tmp_path / "backup.jsonl"
    result = runner("export", exported)
    assert result.exit_code == 0
    assert "exported 9 calls" in result.output
    before = store_snapshot(data_folder)
    shutil.rmtree(data_folder)
    data_folder.mkdir()
    assert runner("import", exported).exit_code == 0
    assert store_snapshot(data_folder) == before


def test_check_reports_a_missing_document_and_repair_fixes_it(runner, data_folder):
    runner("import", TEST_DATA / "good.jsonl")
    kb = open_knowledge_base(overrides={"KB_DATA_DIR": str(data_folder)}, environ={})
    writer = kb.home.open_index().writer()
    writer.delete_by_term("id", "G-3")
    writer.commit()
    kb.close()
    result = runner("check")
    assert result.exit_code == 1
    assert "1 missing from the index: G-3" in result.output
    repaired = runner("check", "--repair")
    assert repaired.exit_code == 0
    assert "store and index agree" in repaired.output
    assert runner("check").exit_code == 0


def test_rebuild_swaps_in_a_new_index_generation(runner, data_folder):
    runner("import", TEST_DATA / "good.jsonl")
    before = (data_folder / "index" / "CURRENT").read_text()
    result = runner("rebuild")
    assert result.exit_code == 0
    assert "indexed 5 calls" in result.output
    assert (data_folder / "index" / "CURRENT").read_text() != before
    assert len(list((data_folder / "index").glob("gen-*"))) == 1


def search_ids(data_folder, words):
    kb = open_knowledge_base(overrides={"KB_DATA_DIR": str(data_folder)}, environ={})
    try:
        with kb.home.open_index().searcher() as searcher:
            query = QueryParser("text", searcher.schema).parse(words)
            hits = searcher.search(query, limit=None)
            return sorted((hit["id"], round(hit.score, 4)) for hit in hits), check(kb.store, kb.home).agrees
    finally:
        kb.close()


def test_a_rebuild_by_two_indexing_processes_finds_what_one_process_finds(runner, data_folder):
    assert runner("import", SAMPLE_CALLS).exit_code == 0
    assert runner("rebuild", "--procs", "1").exit_code == 0
    one_process = search_ids(data_folder, "printer OR outlook OR password")
    assert runner("rebuild", "--procs", "2").exit_code == 0
    two_processes = search_ids(data_folder, "printer OR outlook OR password")
    assert two_processes == (one_process[0], True)
    assert len(one_process[0]) > 20


class StoreLostDuringRebuild:
    """The store, until a rebuild has read ``after`` of its calls: then it is gone."""

    def __init__(self, store, after):
        self.store, self.after = store, after

    def __getattr__(self, name):
        return getattr(self.store, name)

    def iter_records(self):
        for number, record in enumerate(self.store.iter_records()):
            if number == self.after:
                raise StoreUnavailableError("the store went away")
            yield record


def test_a_rebuild_that_fails_stops_its_indexing_processes_and_keeps_the_index_in_use(runner, data_folder, monkeypatch):
    monkeypatch.setattr(build, "DOCUMENTS_PER_JOB", 20)
    assert runner("import", SAMPLE_CALLS).exit_code == 0
    kb = open_knowledge_base(overrides={"KB_DATA_DIR": str(data_folder)}, environ={})
    try:
        in_use = kb.home.current_dir()
        before = set(multiprocessing.active_children())
        # Both processes have had their one job and wait for more when the store fails.
        with pytest.raises(StoreUnavailableError):
            build.rebuild(StoreLostDuringRebuild(kb.store, after=50), kb.home, procs=2)
        assert set(multiprocessing.active_children()) - before == set()
        assert (kb.home.current_dir(), check(kb.store, kb.home).agrees) == (in_use, True)
    finally:
        kb.close()


def test_check_on_a_missing_index_exits_1_and_repair_builds_it(runner, data_folder):
    runner("import", TEST_DATA / "good.jsonl")
    shutil.rmtree(data_folder / "index")
    result = runner("check")
    assert result.exit_code == 1
    assert "no index in" in result.output
    assert runner("check", "--repair").exit_code == 0
    kb = open_knowledge_base(overrides={"KB_DATA_DIR": str(data_folder)}, environ={})
    assert check(kb.store, kb.home).agrees is True
    kb.close()


def test_backup_and_restore_bring_back_the_store_and_rebuild_the_index(runner, data_folder, tmp_path):
    runner("import", TEST_DATA / "good.jsonl")
    backup = tmp_path / "store.backup"
    assert runner("backup", backup).exit_code == 0
    before = store_snapshot(data_folder)
    runner("import", TEST_DATA / "good.json")
    result = runner("restore", backup)
    assert result.exit_code == 0
    assert "restored 5 calls" in result.output
    assert store_snapshot(data_folder) == before
    assert runner("check").exit_code == 0


def test_restore_refuses_a_file_that_is_not_a_backup(runner, data_folder):
    runner("import", TEST_DATA / "good.jsonl")
    result = runner("restore", TEST_DATA / "good.jsonl")
    assert result.exit_code == 1
    assert "is not a SQLite backup" in result.output or "is not a knowledge-base backup" in result.output
