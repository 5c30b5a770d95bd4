"""An import indexed while the store writes it: the same index as a rebuild, with every other writer's change."""

import json
import logging
import multiprocessing
import os
import signal
import time

import pytest
from conftest import TEST_DATA

from index import build, posting_file, whoosh_compat
from index.alongside import BuildAlongside
from index.build import check, rebuild
from indexer import importer, rebuild_policy
from indexer.context import open_knowledge_base
from indexer.importer import import_file
from indexer.rebuild_policy import IndexAlongside
from rules.parse import Rules
from store.base import StoreUnavailableError
from store.records import validate_record


@pytest.fixture
def kb(data_folder):
    """The knowledge base of the test data folder, with 200 calls stored and indexed."""
    kb = open_knowledge_base(overrides={"KB_DATA_DIR": str(data_folder), "KB_DATABASE_URL": ""}, environ={})
    kb.store.upsert([call(f"OLD-{n:03}", "printer spooler stuck") for n in range(200)])
    rebuild(kb.store, kb.home)
    yield kb
    kb.close()


def call(call_id, words):
    return validate_record({"id": call_id, "title": f"{words} {call_id}", "problem": words, "resolution": "fixed"})


def documents_in_order(home):
    """Every document of the index in use, as stored, in document order."""
    with home.open_index().searcher() as searcher:
        return [dict(fields) for fields in searcher.all_stored_fields()]


def written_by_the_products_writer(home):
    """Whether every segment of the index in use has the posting arrays file only this product's writer writes."""
    with home.open_index().searcher() as searcher:
        segments = [reader for reader, _ in searcher.reader().leaf_readers()]
        return all(whoosh_compat.segment_file(reader, posting_file.EXTENSION) is not None for reader in segments)


def children_of(pid):
    """The process ids whose parent is ``pid`` (read from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="utf-8") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return found


def command_line(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as command:
            return command.read()
    except OSError:
        return b""


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# Replacing 100 stored calls and adding 300, in an order that is not the ids'.
IMPORTED = [call(f"OLD-{n:03}", "outlook freezes on start") for n in range(199, 99, -1)] + [
    call(f"NEW-{n:03}", "wifi drops every hour") for n in range(300)
]


@pytest.mark.parametrize("procs", [1, 2])
def test_an_import_indexed_alongside_its_store_write_is_the_index_a_rebuild_makes(kb, procs, monkeypatch):
    monkeypatch.setattr(build, "DOCUMENTS_PER_JOB", 50)
    building = BuildAlongside(kb.store, kb.home, procs=procs)
    building.start([dict(record) for record in IMPORTED])
    building.finish(kb.store.upsert(IMPORTED))
    alongside = documents_in_order(kb.home)
    assert written_by_the_products_writer(kb.home)
    rebuild(kb.store, kb.home, procs=procs)
    rebuilt = documents_in_order(kb.home)
    if procs == 2:
        # Two processes' segments come in the order they finish, for a rebuild as well: ties rank by id.
        alongside, rebuilt = (sorted(documents, key=lambda fields: fields["id"]) for documents in (alongside, rebuilt))
    assert alongside == rebuilt
    assert len(alongside) == 500
    assert check(kb.store, kb.home).agrees


def test_writes_of_others_before_and_after_the_import_are_in_the_index(kb):
    building = BuildAlongside(kb.store, kb.home, procs=1)
    building.start(IMPORTED)
    # Before the import's own changes: a new call, and a change to a call the import then replaces.
    kb.store.upsert([call("AGENT-1", "docking station flickers"), call("NEW-005", "written by an agent first")])
    summary = kb.store.upsert(IMPORTED)
    # After them: a change to an imported call, and a stored call deleted.
    kb.store.upsert([call("NEW-007", "written by an agent after the import")])
    kb.store.delete("OLD-000")
    applied = building.finish(summary)
    assert applied == kb.store.latest_seq()
    assert check(kb.store, kb.home).agrees
    indexed = {fields["id"]: fields for fields in documents_in_order(kb.home)}
    assert "AGENT-1" in indexed and "OLD-000" not in indexed
    assert indexed["NEW-005"]["problem"] == "wifi drops every hour"
    assert indexed["NEW-007"]["problem"] == "written by an agent after the import"


def test_while_the_builder_runs_followers_leave_every_change_to_it(kb):
    building = BuildAlongside(kb.store, kb.home, procs=1)
    building.start(IMPORTED)
    assert kb.home.rebuild_in_progress() == float("inf")
    building.finish(kb.store.upsert(IMPORTED))
    assert kb.home.rebuild_in_progress() is None


class StoreThatFailsToWrite:
    """The test's store, whose writes of calls fail as an unreachable PostgreSQL's would."""

    def __init__(self, store):
        self.store = store

    def __getattr__(self, name):
        return getattr(self.store, name)

    def upsert(self, records, **options):
        time.sleep(0.3)  # the builder is at work by now
        raise StoreUnavailableError("the store went away")


def test_a_failed_store_write_stops_the_builder_and_keeps_the_index_in_use(kb, tmp_path, monkeypatch):
    path = tmp_path / "calls.jsonl"
    fields = ("id", "title", "problem", "resolution")
    path.write_text("".join(json.dumps({name: record[name] for name in fields}) + "\n" for record in IMPORTED))
    kb.store.delete("OLD-000")  # a store of 199 calls, so that 400 in a file surely rebuild the index
    in_use, before = kb.home.current_dir(), documents_in_order(kb.home)
    started = []
    monkeypatch.setattr(rebuild_policy, "ALONGSIDE_THRESHOLD", 0)

    class Started(IndexAlongside):
        def start(self, records):
            started.append(super().start(records))
            return started[-1]

    with pytest.raises(StoreUnavailableError):
        import_file(StoreThatFailsToWrite(kb.store), path, index_alongside=Started(kb))
    assert isinstance(started[0], BuildAlongside)
    assert multiprocessing.active_children() == []
    assert (kb.home.current_dir(), documents_in_order(kb.home)) == (in_use, before)
    assert [folder.name for folder in kb.home.root.glob("gen-*")] == [in_use.name]
    assert kb.home.rebuild_in_progress() is None


def test_when_the_builder_dies_the_index_is_rebuilt_from_the_store_and_its_processes_stop(kb, monkeypatch, caplog):
    monkeypatch.setattr(build, "DOCUMENTS_PER_JOB", 20)
    imported = [call(f"MANY-{n:04}", "printer offline after update") for n in range(3000)]  # seconds of work
    building = BuildAlongside(kb.store, kb.home, procs=2)
    building.start(imported)
    builder = building._builder.pid
    deadline = time.monotonic() + 30
    while len(children_of(builder)) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    indexing = children_of(builder)
    assert len(indexing) >= 2
    os.kill(builder, signal.SIGKILL)
    summary = kb.store.upsert(imported)
    with caplog.at_level(logging.WARNING, logger="index.alongside"):
        building.finish(summary)
    assert "rebuilding from the store" in caplog.text
    assert check(kb.store, kb.home).agrees
    while any(alive(pid) for pid in indexing) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [pid for pid in indexing if alive(pid)] == []
    assert [folder.name for folder in kb.home.root.glob("gen-*")] == [kb.home.current_dir().name]


def test_an_import_indexes_alongside_only_when_it_will_rebuild_the_index_whatever_the_store_holds(kb, monkeypatch):
    monkeypatch.setattr(rebuild_policy, "ALONGSIDE_THRESHOLD", 0)
    start = IndexAlongside(kb).start
    assert start(IMPORTED[:100]) is None  # 100 calls over 200 stored: maybe all updates
    assert start(IMPORTED) is None  # 400 over 200: at least 200 new, but maybe not more than half of 400
    kb.store.delete("OLD-000")
    building = start(IMPORTED)  # 400 over 199: at least 201 new, more than half the store then
    assert isinstance(building, BuildAlongside)
    building.abandon()


def test_a_command_line_import_of_many_new_calls_is_indexed_alongside_and_agrees(runner, data_folder, tmp_path):
    path = tmp_path / "many.jsonl"
    calls = ({"id": f"M-{n:05}", "title": f"VPN drops {n}", "problem": "tunnel resets"} for n in range(5000))
    path.write_text("".join(json.dumps(record) + "\n" for record in calls))
    builders = []
    begin = BuildAlongside.begin

    def counted_begin(self, expected):
        builders.append(expected)
        begin(self, expected)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(BuildAlongside, "begin", counted_begin)
        result = runner("import", path)
        assert result.exit_code == 0, result.output
        assert runner("import", TEST_DATA / "calls.json").exit_code == 0  # a few calls: the plain path
    assert builders == [5000]
    assert not any(b"forkserver" in command_line(pid) for pid in children_of(os.getpid()))  # stopped, reaped
    assert runner("check").exit_code == 0
    assert [folder.name for folder in (data_folder / "index").glob("gen-*")] == [
        (data_folder / "index" / "CURRENT").read_text().strip()
    ]


def write_calls(path, records, bad_line_at=None):
    """A JSON-lines file of the records' fields as a file would give them, with a bad row at ``bad_line_at``."""
    fields = ("id", "title", "problem", "resolution")
    lines = [json.dumps({name: record[name] for name in fields}) + "\n" for record in records]
    if bad_line_at is not None:
        lines.insert(bad_line_at, json.dumps({"id": "BAD-1", "title": ""}) + "\n")
    path.write_text("".join(lines))
    return path


class HandOvers:
    """Counts what an import hands its builders: calls as validated (``add``), or all at once (``start``)."""

    def __init__(self, monkeypatch):
        self.added, self.started = [], []
        add, start = BuildAlongside.add, BuildAlongside.start

        def counted_add(building, records):
            self.added.append(len(records))
            return add(building, records)

        def counted_start(building, records):
            self.started.append(len(records))
            return start(building, records)

        monkeypatch.setattr(BuildAlongside, "add", counted_add)
        monkeypatch.setattr(BuildAlongside, "start", counted_start)


@pytest.fixture
def streaming(kb, monkeypatch):
    """Imports index alongside from the first new call, handing over every 50 rows validated; 199 calls stored."""
    monkeypatch.setattr(rebuild_policy, "ALONGSIDE_THRESHOLD", 0)
    monkeypatch.setattr(importer, "ROWS_PER_HANDOVER", 50)
    kb.store.delete("OLD-000")
    return HandOvers(monkeypatch)


IN_ID_ORDER = sorted(IMPORTED, key=lambda record: record["id"])


def imported_and_indexed(kb, outcome):
    """Finish the import's build as the command line does; the index's documents in order."""
    assert outcome.stored and outcome.indexing is not None
    outcome.indexing.finish(outcome.calls_written)
    return documents_in_order(kb.home)


def test_calls_in_id_order_reach_the_builder_while_the_file_is_still_validated(kb, streaming, tmp_path):
    path = write_calls(tmp_path / "calls.jsonl", IN_ID_ORDER)
    indexed = imported_and_indexed(kb, import_file(kb.store, path, index_alongside=IndexAlongside(kb)))
    assert streaming.added == [49, 50, 50, 50, 50, 50, 50, 50, 1] and streaming.started == []
    rebuild(kb.store, kb.home)
    assert indexed == documents_in_order(kb.home)
    assert check(kb.store, kb.home).agrees


def test_calls_out_of_id_order_stop_the_hand_over_and_are_indexed_alongside_once_validated(kb, streaming, tmp_path):
    path = write_calls(tmp_path / "calls.jsonl", IMPORTED)  # 100 ids descending, then 300 ascending
    indexed = imported_and_indexed(kb, import_file(kb.store, path, index_alongside=IndexAlongside(kb)))
    assert streaming.added[0] == 49 and streaming.started == [400]
    assert [folder.name for folder in kb.home.root.glob("gen-*")] == [kb.home.current_dir().name]
    rebuild(kb.store, kb.home)
    assert indexed == documents_in_order(kb.home)
    assert check(kb.store, kb.home).agrees


def test_a_bad_row_stops_the_builder_and_leaves_the_store_and_index_as_they_were(kb, streaming, tmp_path):
    path = write_calls(tmp_path / "calls.jsonl", IN_ID_ORDER, bad_line_at=320)
    in_use, before, count = kb.home.current_dir(), documents_in_order(kb.home), kb.store.count()
    outcome = import_file(kb.store, path, index_alongside=IndexAlongside(kb))
    assert not outcome.stored and [problem.line for problem in outcome.problems] == [321]
    assert streaming.added[:6] == [49, 50, 50, 50, 50, 50] and streaming.started == []
    assert multiprocessing.active_children() == []
    assert (kb.home.current_dir(), documents_in_order(kb.home), kb.store.count()) == (in_use, before, count)
    assert [folder.name for folder in kb.home.root.glob("gen-*")] == [in_use.name]
    assert kb.home.rebuild_in_progress() is None


def test_with_bad_rows_skipped_the_valid_calls_are_still_handed_over_as_validated(kb, streaming, tmp_path):
    path = write_calls(tmp_path / "calls.jsonl", IN_ID_ORDER, bad_line_at=120)
    outcome = import_file(kb.store, path, skip_invalid=True, index_alongside=IndexAlongside(kb))
    indexed = imported_and_indexed(kb, outcome)
    assert (outcome.skipped, sum(streaming.added), streaming.started) == (1, 400, [])
    assert "BAD-1" not in {fields["id"] for fields in indexed}
    assert check(kb.store, kb.home).agrees


def test_calls_handed_over_as_validated_get_the_rules_priority_in_the_store_and_the_index(kb, streaming, tmp_path):
    path = tmp_path / "calls.jsonl"
    rows = [
        {"id": f"KEY-{n:03}", "title": "vpn drops", "problem": "tunnel", "customer_id": "ACC-KEY"} for n in range(400)
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    rules = Rules(key_customers=frozenset({"ACC-KEY"}), key_priority="high")
    indexed = imported_and_indexed(kb, import_file(kb.store, path, rules=rules, index_alongside=IndexAlongside(kb)))
    assert sum(streaming.added) == 400 and streaming.started == []
    assert {kb.store.get("KEY-123")["extra"]["priority"]} == {"high"}
    assert check(kb.store, kb.home).agrees
    rebuild(kb.store, kb.home)
    assert indexed == documents_in_order(kb.home)


def test_a_file_with_customers_is_handed_over_whole_once_they_are_stored(kb, streaming, tmp_path):
    path = tmp_path / "calls.jsonl"
    customer = {"kind": "customer", "id": "ACC-9", "name": "Ada Lovelace", "key_account": True}
    rows = [
        {"id": f"CUS-{n:03}", "title": "vpn drops", "problem": "tunnel", "customer_id": "ACC-9"} for n in range(400)
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in [customer, *rows]))
    indexed = imported_and_indexed(kb, import_file(kb.store, path, rules=Rules(), index_alongside=IndexAlongside(kb)))
    assert (streaming.added, streaming.started) == ([400], [400])  # start hands the sorted calls over itself
    assert kb.store.get("CUS-007")["extra"]["priority"] == "high"
    assert check(kb.store, kb.home).agrees
    assert {fields["id"] for fields in indexed} >= {"CUS-000", "CUS-399"}
