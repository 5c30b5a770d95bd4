"""Writes from many processes through a real gunicorn never collide and are never lost (issue #6).

Each write is searchable when its response returns ``indexed: true``; under this load (four writers,
two workers, searches running, on two cores) a few wait longer than ``KB_WRITE_INDEX_WAIT_MS`` for the
follower and answer ``indexed: false``, and the follower's own passes make them searchable soon after (issue #17):
about half a second, at most 1.2 s seen in a whole-suite run on a slow day, where a write once waited 30 s for
the index writer. A backup
taken while writes go on is a consistent copy that ``restore`` brings back with its index.
"""

import multiprocessing
import sqlite3
import statistics
import threading
import time
from urllib.parse import quote

import pytest
from servers import WRITE_KEY, Server, run_cli

from indexer.context import open_knowledge_base

WRITERS = 4
WRITES_PER_WRITER = 500
# At most this share of the writes may answer indexed: false, each then searchable within LATE_WITHIN_S: well above
# the follower's pickup under this load (0.4-1.2 s measured), far below a write left waiting (30 s before #17).
LATE_SHARE = 0.02
LATE_WITHIN_S = 3.0
# Consonants only: Porter stemming leaves these tokens whole, so each names exactly one call.
_LETTERS = "bcdfghjklmnpqrtvwxz"
_SEARCHES = ("printer offline", "outlok pasword", "vpn wont conect", "colour printer", "zzzz", "AND OR NOT *")
AUTH = {"Authorization": f"Bearer {WRITE_KEY}"}


def unique_word(writer, number):
    """A made-up word that only the call (writer, number) contains."""
    value, letters = writer * 10_000 + number, []
    for _ in range(5):
        value, digit = divmod(value, len(_LETTERS))
        letters.append(_LETTERS[digit])
    return "qz" + "".join(letters)


def call_record(writer, number):
    """The call that writer ``writer`` writes as its ``number``-th."""
    return {
        "id": f"W{writer}-{number:04d}",
        "title": f"Printer {unique_word(writer, number)} offline after update",
        "problem": f"Agent {writer} reports the printer queue stuck, ticket {number}.",
        "resolution": "Restarted the spooler service.",
        "product": "Printers",
        "tags": ["load-test"],
    }


def _search_ids(server, connection, query):
    response = server.request("GET", f"/api/v1/search?q={quote(query)}&limit=10", connection=connection)
    ids = [hit["id"] for hit in response.json()["results"]] if response.status == 200 else []
    return response.status, ids


def write_and_search(server, writer, count):
    """Write ``count`` calls one per request; after each, search for it at once.

    :returns: a dict of write seconds, seconds until searchable after ``indexed: false`` (``late``), and
        every unexpected answer (a call answered ``indexed: true`` that the first search did not find is one).
    """
    connection = server.connection()
    write_seconds, late, problems = [], [], []
    for number in range(count):
        record = call_record(writer, number)
        started = time.perf_counter()
        response = server.request("POST", "/api/v1/calls", record, AUTH, connection=connection)
        answered = time.perf_counter()
        write_seconds.append(answered - started)
        if response.status != 201:
            problems.append(f"write {record['id']}: {response.status} {response.body[:200]!r}")
            continue
        indexed = response.json()["indexed"]
        while True:
            status, ids = _search_ids(server, connection, unique_word(writer, number))
            if status != 200:
                problems.append(f"search for {record['id']}: {status}")
                break
            if record["id"] in ids:
                if not indexed:
                    late.append(time.perf_counter() - answered)
                break
            if indexed:
                problems.append(f"{record['id']} answered indexed: true, but the first search did not find it")
                break
            if time.perf_counter() - answered > 30:
                problems.append(f"{record['id']} not searchable 30 s after its write")
                break
            time.sleep(0.01)
    connection.close()
    return {"write_seconds": write_seconds, "late": late, "problems": problems}


def search_until(server, stop):
    """Search in a loop until ``stop`` is set; returns the unexpected answers and the count."""
    connection, problems, searches = server.connection(), [], 0
    while not stop.is_set():
        status, _ids = _search_ids(server, connection, _SEARCHES[searches % len(_SEARCHES)])
        searches += 1
        if status != 200:
            problems.append(f"background search: {status}")
    connection.close()
    return {"problems": problems, "searches": searches}


def _percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _indexed_ids(data_folder):
    kb = open_knowledge_base(overrides={"KB_DATA_DIR": str(data_folder), "KB_DATABASE_URL": ""}, environ={})
    try:
        with kb.home.open_index().searcher() as searcher:
            indexed = {fields["id"] for fields in searcher.all_stored_fields()}
        return set(kb.store.content_hashes()), indexed
    finally:
        kb.close()


@pytest.mark.slow
def test_four_processes_writing_500_calls_each_lose_nothing_and_are_searchable_at_once(tmp_path):
    data_folder = tmp_path / "var"
    with Server(data_folder, workers=2, KB_RATE_LIMIT="1000000 per minute") as server:
        context = multiprocessing.get_context("fork")
        stop = context.Manager().Event()
        with context.Pool(WRITERS + 1) as pool:
            background = pool.apply_async(search_until, (server.client, stop))
            started = time.perf_counter()
            writers = [
                pool.apply_async(write_and_search, (server.client, w, WRITES_PER_WRITER)) for w in range(WRITERS)
            ]
            outcomes = [writer.get(timeout=600) for writer in writers]
            elapsed = time.perf_counter() - started
            stop.set()
            searching = background.get(timeout=60)

    write_seconds = [s for outcome in outcomes for s in outcome["write_seconds"]]
    late = [s for outcome in outcomes for s in outcome["late"]]
    print(
        f"\n{WRITERS}x{WRITES_PER_WRITER} writes in {elapsed:.1f} s;"
        f" write p50 {statistics.median(write_seconds) * 1000:.1f} ms,"
        f" p95 {_percentile(write_seconds, 0.95) * 1000:.1f} ms, max {max(write_seconds) * 1000:.1f} ms;"
        f" {len(late)} answered indexed: false, searchable {max(late, default=0) * 1000:.0f} ms after at most;"
        f" {searching['searches']} background searches"
    )
    assert [p for outcome in outcomes for p in outcome["problems"]] + searching["problems"] == []
    assert len(write_seconds) == WRITERS * WRITES_PER_WRITER
    assert len(late) <= LATE_SHARE * len(write_seconds)
    assert max(late, default=0.0) <= LATE_WITHIN_S
    expected = {call_record(w, n)["id"] for w in range(WRITERS) for n in range(WRITES_PER_WRITER)}
    stored, indexed = _indexed_ids(data_folder)
    assert stored == expected
    assert indexed == expected
    checked = run_cli(data_folder, "check")
    assert (checked.returncode, "store and index agree" in checked.stdout) == (0, True)


def _write_in_a_loop(server, stop, written):
    connection = server.connection()
    number = 0
    while not stop.is_set():
        record = {**call_record(9, number), "id": f"B-{number:05d}"}
        response = server.request("POST", "/api/v1/calls", record, AUTH, connection=connection)
        if response.status == 201:
            written.append(record["id"])
        number += 1
    connection.close()


@pytest.mark.slow
def test_backup_while_the_server_writes_is_consistent_and_restore_brings_it_back(tmp_path):
    data_folder = tmp_path / "var"
    backup = tmp_path / "store.backup"
    stop, written = threading.Event(), []
    with Server(data_folder, workers=2, KB_RATE_LIMIT="1000000 per minute") as server:
        writers = [threading.Thread(target=_write_in_a_loop, args=(server, stop, written)) for _ in range(2)]
        for thread in writers:
            thread.start()
        while len(written) < 150:
            time.sleep(0.05)
        backed_up = run_cli(data_folder, "backup", backup)
        written_before_restore = len(written)
        time.sleep(0.5)
        stop.set()
        for thread in writers:
            thread.join(30)
        assert backed_up.returncode == 0

    copy = sqlite3.connect(backup)
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    backed_up_ids = {row[0] for row in copy.execute("SELECT id FROM calls")}
    feed_ids = {row[0] for row in copy.execute("SELECT DISTINCT call_id FROM changes")}
    copy.close()
    # Consistent: every call in the copy has its change in the feed and vice versa, and the writes
    # went on after the copy was taken.
    assert backed_up_ids == feed_ids
    assert 150 <= len(backed_up_ids) < len(written)
    assert backed_up_ids <= set(written)
    assert written_before_restore <= len(written)

    restored = run_cli(data_folder, "restore", backup)
    assert (restored.returncode, f"restored {len(backed_up_ids)} calls" in restored.stdout) == (0, True)
    stored, indexed = _indexed_ids(data_folder)
    assert (stored, indexed) == (backed_up_ids, backed_up_ids)
    checked = run_cli(data_folder, "check")
    assert (checked.returncode, "store and index agree" in checked.stdout) == (0, True)
