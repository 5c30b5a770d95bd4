"""Nothing a client sends stops the follower, and /healthz tells the truth about it (issue #17, "One NUL byte").

The follower applies index changes first and writes the search log apart; the log keeps what it can of any
text a search accepted and drops, with one warning, a row the store still refuses. Real SQLite files and a
throwaway PostgreSQL server; the app's own follower thread does the work.
"""

import logging
import subprocess
import time

import psycopg
import pytest
from conftest import auth, settings_for
from postgres import postgres_server, postgres_store, postgres_url  # noqa: F401 (fixtures)

from app import create_app
from app.search_log import SETTLE_SECONDS, SearchLogBuffer
from index.generations import IndexHome
from store.postgres import PostgresCallStore
from store.records import validate_record

CALL = {"id": "F-1", "title": "Zqvbnm docking station flickers", "problem": "The screen flickers when docked."}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_store(request, store):
    """The SQLite store of the test data folder, or a PostgreSQL store over a fresh database."""
    return store if request.param == "sqlite" else request.getfixturevalue("postgres_store")


def logged(search_id, query):
    return {"search_id": search_id, "query": query, "results": 1, "took_ms": 2.0, "top_ids": ["T-001"]}


def test_a_search_log_row_the_store_refuses_is_dropped_with_one_warning_and_the_rest_written(any_store, caplog):
    buffer = SearchLogBuffer()
    for search_id, query in (("s1", "printer"), ("s1", "printer again"), ("s2", "router"), ("s2", "vpn")):
        buffer.add(logged(search_id, query))
    with caplog.at_level(logging.WARNING, logger="app.search_log"):
        assert buffer.flush(any_store, settle=0) == 2
    assert [row["search_id"] for row in any_store.searches_of_session("", "")] == ["s1", "s2"]
    assert (buffer.status()["pending"], buffer.status()["dropped"]) == (0, 2)
    assert [record.getMessage()[:44] for record in caplog.records] == ["search log: dropped 2 row(s) the store refus"]


def test_search_log_text_is_kept_without_nul_and_lone_surrogates(any_store):
    buffer = SearchLogBuffer()
    buffer.add({**logged("s1", "print\x00er \ud800offline"), "product": "a\x00b", "session": "x\x00y"})
    assert buffer.flush(any_store, settle=0) == 1
    assert any_store.searches_of_session("xy", "")[0]["query"] == "printer ?offline"


def wait_for(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def found(client, word):
    return [hit["id"] for hit in client.get(f"/api/v1/search?q={word}").get_json()["results"]]


@pytest.mark.postgres
def test_a_nul_byte_in_a_search_filter_leaves_the_follower_indexing_other_servers_changes(
    data_folder,
    postgres_url,  # noqa: F811
):
    app = create_app(settings_for(data_folder, KB_DATABASE_URL=postgres_url))
    client = app.test_client()
    session = {"X-KB-Session": "agent-7"}
    searched = client.get("/api/v1/search?q=printer&product=a%00b", headers=session)
    assert searched.status_code == 200
    time.sleep(SETTLE_SECONDS + 0.5)  # the row settles, so the follower's next passes write it

    other_server = PostgresCallStore(postgres_url)
    try:
        other_server.upsert([validate_record(CALL)])
    finally:
        other_server.close()
    assert wait_for(lambda: found(client, "zqvbnm") == ["F-1"])

    health = client.get("/healthz")
    follower = health.get_json()["follower"]
    assert (health.status_code, follower["ok"], follower["state"], follower["last_error"]) == (
        200,
        True,
        "following",
        "",
    )
    assert (health.get_json()["index"]["lag_changes"], follower["search_log"]["dropped"]) == (0, 0)
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT query, product FROM search_log").fetchall() == [("printer", "ab")]
    feedback = {"call_id": "F-1", "query": "printer", "search_id": searched.get_json()["search_id"]}
    assert client.post("/api/v1/feedback", json=feedback, headers=session).status_code == 201


def test_healthz_answers_503_while_the_follower_is_stuck_and_200_once_it_recovers(data_folder):
    app = create_app(settings_for(data_folder, KB_FOLLOWER_STUCK_S=0.5))
    client = app.test_client()
    lock = data_folder / "index" / "writer.lock"
    lock.unlink()
    lock.mkdir()  # the index writer cannot be taken: every pass of the follower fails

    started = time.monotonic()
    written = client.post("/api/v1/calls", json=CALL, headers=auth())
    assert (written.status_code, written.get_json().get("indexed")) == (201, False)
    assert time.monotonic() - started < 2.0
    assert wait_for(lambda: client.get("/healthz").status_code == 503)
    health = client.get("/healthz").get_json()
    assert (health["ok"], health["follower"]["ok"], health["follower"]["state"]) == (False, False, "failing")
    assert health["follower"]["last_error"].startswith("IsADirectoryError")
    assert (health["index"]["ok"], health["index"]["lag_changes"]) == (True, 1)
    assert client.get("/api/v1/search?q=printer").status_code == 200

    lock.rmdir()
    assert wait_for(lambda: client.get("/healthz").status_code == 200)
    assert found(client, "zqvbnm") == ["F-1"]
    assert client.get("/healthz").get_json()["follower"]["failing_for_s"] == 0.0


def test_a_rebuild_says_it_runs_and_the_mark_of_a_dead_one_is_ignored(data_folder):
    home = IndexHome(data_folder)
    with home.rebuilding(42):
        assert home.rebuild_in_progress() == 42
    assert home.rebuild_in_progress() is None
    (home.root / "REBUILDING").write_text(f"{_ended_pid()} 7\n")
    assert home.rebuild_in_progress() is None


def _ended_pid():
    """The process id of a process that has just ended (and been reaped)."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid
