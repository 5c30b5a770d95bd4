"""Moving between stores: export from one, import into the other, nothing lost (issue #8)."""

import json

import pytest
from click.testing import CliRunner
from conftest import TEST_DATA
from postgres import postgres_server, postgres_url  # noqa: F401 (fixtures)

from indexer.cli import cli
from indexer.context import open_knowledge_base

pytestmark = pytest.mark.postgres


def run(environ, *args):
    result = CliRunner().invoke(cli, list(map(str, args)), env=environ, catch_exceptions=False)
    return result


def contents(environ):
    kb = open_knowledge_base(environ=environ)
    try:
        records = {record["id"]: record for record in kb.store.iter_records()}
        return records, kb.store.all_history(), kb.store.all_feedback()
    finally:
        kb.close()


def test_export_from_sqlite_and_import_into_postgres_keep_records_history_and_feedback(tmp_path, postgres_url):
    sqlite_env = {"KB_DATA_DIR": str(tmp_path / "sqlite"), "KB_DATABASE_URL": ""}
    postgres_env = {"KB_DATA_DIR": str(tmp_path / "postgres"), "KB_DATABASE_URL": postgres_url}
    assert run(sqlite_env, "import", TEST_DATA / "calls.json").exit_code == 0
    edited = tmp_path / "edited.jsonl"
    edited.write_text(json.dumps({"id": "T-001", "title": "Router keeps dropping connection (again)"}) + "\n")
    assert run(sqlite_env, "import", edited).exit_code == 0
    kb = open_knowledge_base(environ=sqlite_env)
    kb.store.add_feedback("T-005", "outlook password", "page", "2026-11-01T10:00:00.000Z")
    kb.close()

    exported = tmp_path / "everything.jsonl"
    result = run(sqlite_env, "export", "--with-history", exported)
    assert "exported 40 calls, 1 history rows, 1 feedback rows" in result.output
    assert run(postgres_env, "import", exported).exit_code == 0
    again = run(postgres_env, "import", exported)
    assert "inserted 0, updated 0, unchanged 40, skipped 0 in" in again.output

    source, target = contents(sqlite_env), contents(postgres_env)
    assert target[0] == source[0]
    assert [(h["call_id"], h["at"], h["actor"], json.loads(h["changes"])) for h in target[1]] == [
        (h["call_id"], h["at"], h["actor"], json.loads(h["changes"])) for h in source[1]
    ]
    assert target[2] == source[2]
    assert run(postgres_env, "check").exit_code == 0
