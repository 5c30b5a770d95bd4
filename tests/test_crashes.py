"""SIGKILL at random moments of imports, rebuilds and API writes never corrupts the store or loses a record (issue #6).

Each import file holds 2,000 calls under its own id prefix, so the store can be read
file by file: each file is there whole or not at all, and every file whose import
finished is there. The index either still agrees with the store after a kill or is
repaired by the next start (``create_app``) or by ``check --repair``.
"""

import http.client
import json
import os
import random
import signal
import sqlite3
import subprocess
import threading
import time

import pytest
from servers import WRITE_KEY, Server, run_cli, start_cli

from app import create_app
from index.build import check
from indexer.context import open_knowledge_base

RECORDS_PER_FILE = 600
KILLED_IMPORTS = 12
KILLED_REBUILDS = 10
KILLED_SERVERS = 4
SEED = 6
_WORDS = (
    "printer",
    "offline",
    "outlook",
    "password",
    "vpn",
    "router",
    "driver",
    "update",
    "spooler",
    "queue",
    "license",
    "excel",
    "crash",
    "screen",
    "flicker",
    "battery",
    "wifi",
    "drops",
    "colour",
    "scanner",
)


def write_import_file(folder, prefix, rng):
    """A .jsonl file of RECORDS_PER_FILE calls whose ids all start with ``prefix``."""
    path = folder / f"{prefix}.jsonl"
    with open(path, "w", encoding="utf-8") as handle:
        for number in range(RECORDS_PER_FILE):
            words = " ".join(rng.choice(_WORDS) for _ in range(8))
            record = {
                "id": f"{prefix}-{number:05d}",
                "title": f"{prefix} {words[:60]}",
                "problem": words,
                "resolution": " ".join(reversed(words.split())),
                "product": rng.choice(_WORDS),
            }
            handle.write(json.dumps(record) + "\n")
    return path


def store_ids_by_prefix(data_folder):
    """{prefix: number of stored calls}, read straight from the SQLite file after an integrity check."""
    db = sqlite3.connect(data_folder / "calls.db")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = db.execute("SELECT substr(id, 1, instr(id, '-') - 1) AS prefix, COUNT(*) FROM calls GROUP BY prefix")
        return dict(rows.fetchall())
    finally:
        db.close()


def index_agrees(data_folder, by_id=True):
    """True when the index in use holds exactly the stored calls, each up to date (and found by its id)."""
    kb = open_knowledge_base(overrides={"KB_DATA_DIR": str(data_folder), "KB_DATABASE_URL": ""}, environ={})
    try:
        if not check(kb.store, kb.home).agrees:
            return False
        if not by_id:
            return True
        stored = kb.store.content_hashes()
        with kb.home.open_index().searcher() as searcher:
            return all(searcher.document_number(id=call_id) is not None for call_id in stored)
    finally:
        kb.close()


def repair_index(data_folder, by_start):
    """Repair the index the way an operator would: start the app, or run ``check --repair``."""
    if by_start:
        app = create_app({"KB_DATA_DIR": str(data_folder), "KB_DATABASE_URL": "", "TESTING": True})
        app.extensions["kb"].store.close()
        return
    repaired = run_cli(data_folder, "check", "--repair")
    assert (repaired.returncode, repaired.stderr) == (0, "")


def run_and_kill(data_folder, delay, *args):
    """Start ``python -m indexer ARGS`` and SIGKILL it after ``delay`` seconds.

    :returns: True when it had finished (exit 0) before the kill.
    """
    process = start_cli(data_folder, *args)
    try:
        return process.wait(delay) == 0
    except subprocess.TimeoutExpired:
        # The importer and any indexing processes it started share its process group.
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
        return False


def timed(data_folder, *args):
    """Run a CLI command to its end; returns its duration in seconds."""
    started = time.perf_counter()
    completed = run_cli(data_folder, *args)
    assert completed.returncode == 0, completed.stderr
    return time.perf_counter() - started


@pytest.mark.slow
def test_imports_killed_at_random_moments_store_each_file_whole_or_not_at_all(tmp_path):
    rng = random.Random(SEED)
    data_folder = tmp_path / "var"
    files = [write_import_file(tmp_path, f"F{k:02d}", rng) for k in range(KILLED_IMPORTS + 2)]
    timed(data_folder, "import", files[0])
    typical = timed(data_folder, "import", files[1])
    finished = {"F00", "F01"}
    repairs = 0
    for number, path in enumerate(files[2:]):
        # Up to 1.3 times a typical run, so that some imports finish before their kill.
        if run_and_kill(data_folder, rng.uniform(0, 1.3 * typical), "import", path):
            finished.add(path.stem)
        counts = store_ids_by_prefix(data_folder)
        assert set(counts.values()) == {RECORDS_PER_FILE}
        assert finished <= set(counts)
        # The index is checked (and repaired) after every third kill, alternating the two repairs.
        if number % 3 == 2 and not index_agrees(data_folder, by_id=False):
            repair_index(data_folder, by_start=repairs % 2 == 0)
            repairs += 1
            assert index_agrees(data_folder, by_id=False) is True
    print(
        f"\n{KILLED_IMPORTS} imports killed (typical {typical:.2f} s): {len(finished) - 2} had finished,"
        f" {len(store_ids_by_prefix(data_folder)) - len(finished)} stored but unindexed or killed after commit,"
        f" {repairs} index repairs"
    )
    repair_index(data_folder, by_start=False)
    assert index_agrees(data_folder) is True


@pytest.mark.slow
def test_rebuilds_killed_at_random_moments_leave_a_working_index(tmp_path):
    rng = random.Random(SEED + 1)
    data_folder = tmp_path / "var"
    timed(data_folder, "import", write_import_file(tmp_path, "R0", rng))
    before = store_ids_by_prefix(data_folder)
    typical = timed(data_folder, "rebuild")
    finished = 0
    for _ in range(KILLED_REBUILDS):
        finished += run_and_kill(data_folder, rng.uniform(0, typical), "rebuild")
        assert store_ids_by_prefix(data_folder) == before
        assert index_agrees(data_folder, by_id=False) is True
    print(f"\n{KILLED_REBUILDS} rebuilds killed (typical {typical:.2f} s): {finished} had finished")
    timed(data_folder, "rebuild")
    assert len(list((data_folder / "index").glob("gen-*"))) == 1
    assert index_agrees(data_folder) is True


def _write_batches(server, prefix, acknowledged):
    connection = server.connection(timeout=10)
    headers = {"Authorization": f"Bearer {WRITE_KEY}"}
    number = 0
    try:
        while True:
            batch = [
                {"id": f"{prefix}-{number + i:05d}", "title": f"server crash {prefix}", "problem": "printer offline"}
                for i in range(20)
            ]
            response = server.request("POST", "/api/v1/calls", batch, headers, connection=connection)
            if response.status != 201:
                return
            acknowledged.update(record["id"] for record in batch)
            number += 20
    except (OSError, http.client.HTTPException):
        # Killed mid-response (IncompleteRead, BadStatusLine): that batch was never acknowledged.
        return


@pytest.mark.slow
def test_server_killed_during_writes_keeps_every_acknowledged_write(tmp_path):
    rng = random.Random(SEED + 2)
    data_folder = tmp_path / "var"
    acknowledged = set()
    for round_number in range(KILLED_SERVERS):
        server = Server(data_folder, workers=2, KB_RATE_LIMIT="1000000 per minute").start()
        writer = threading.Thread(target=_write_batches, args=(server, f"S{round_number}", acknowledged))
        writer.start()
        time.sleep(rng.uniform(0.2, 2.0))
        server.kill()
        writer.join(30)
        counts = store_ids_by_prefix(data_folder)
        assert sum(counts.values()) >= len(acknowledged)
    with Server(data_folder, workers=2) as server:
        health = server.request("GET", "/healthz").json()
    assert sum(store_ids_by_prefix(data_folder).values()) >= len(acknowledged) > 0
    assert health["index"]["lag_changes"] == 0
    assert index_agrees(data_folder) is True
    kb = open_knowledge_base(overrides={"KB_DATA_DIR": str(data_folder), "KB_DATABASE_URL": ""}, environ={})
    assert acknowledged <= set(kb.store.content_hashes())
    kb.close()
