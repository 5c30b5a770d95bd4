"""Bringing the Whoosh index in step with the store: full rebuilds and incremental updates.

The store's change feed drives every update: whoever holds the writer lock reads the
changes after the index's ``applied_seq`` and applies them, so writes from any worker,
server or the command line land in order, and a write nobody applied is caught up by
the next one (or by the follower, or by ``check --repair``).
"""

import logging
import shutil
import time
from dataclasses import dataclass, field

from index import grouping
from index.generations import IndexMissingError
from index.schema import index_document
from store.records import content_hash

WRITER_MEMORY_MB = 256
# Documents an indexing process takes at a time, through a file: Whoosh's default of 100 had the rebuild open
# 10,000 files for a million calls, most of its own time.
DOCUMENTS_PER_JOB = 1000
_FETCH_CHUNK = 500

log = logging.getLogger(__name__)


def no_progress(done, total):
    """A progress callback that reports nothing."""
    return None


@dataclass
class RebuildResult:
    """What a full rebuild did."""

    documents: int
    applied_seq: int
    seconds: float


def rebuild(store, home, progress=no_progress, procs=1):
    """Build a new index generation from every record in the store and swap it in whole.

    Writes that land in the store while the build runs are applied to the new
    generation before the swap, under the writer lock, so none is missed.

    :param store: a ``CallStore``.
    :param home: the :class:`IndexHome`.
    :param progress: called as ``progress(done, total)`` while documents are added.
    :param procs: indexing processes; more than one writes several segments at once.
    :returns: a :class:`RebuildResult`.
    """
    started = time.perf_counter()
    snapshot_seq = store.latest_seq()
    total = store.count()
    folder = home.new_generation()
    with home.building(folder), home.rebuilding(snapshot_seq):
        ix = open_folder(folder)
        documents = (index_document(record, content_hash(record)) for record in store.iter_records())
        done = write_documents(ix, documents, total, procs, progress)
        home.write_applied_seq(folder, snapshot_seq)
        with home.writer_lock(timeout=600):
            applied = _apply_feed(store, home, folder, ix)
            home.swap_to(folder)
    return RebuildResult(documents=done, applied_seq=applied, seconds=time.perf_counter() - started)


def write_documents(ix, documents, total, procs=1, progress=no_progress):
    """Add documents to an index not yet in use, in one commit.

    :param ix: the Whoosh index of a new generation.
    :param documents: ``index_document`` keyword arguments, one dict a call, in the store's id order.
    :param total: about how many there are, for ``progress``.
    :param procs: indexing processes; more than one writes several segments at once.
    :param progress: called as ``progress(done, total)`` while documents are added.
    :returns: how many documents were added.
    """
    options = {"limitmb": WRITER_MEMORY_MB}
    if procs > 1:
        options.update(procs=procs, multisegment=True, batchsize=DOCUMENTS_PER_JOB)
        grouping.warm_up()
    writer = ix.writer(**options)
    done = 0
    try:
        for document in documents:
            writer.add_document(**document)
            done += 1
            if done % 500 == 0:
                progress(done, total)
        writer.commit()
    except BaseException:
        _cancel(writer)
        raise
    progress(done, max(done, total))
    return done


def _cancel(writer):
    """Abandon a writer's documents, its indexing processes included, without hiding why they were abandoned.

    Whoosh's ``cancel`` only marks the processes cancelled in this process, so one waiting for work would wait for
    ever, and this process for it at exit; and it empties the writer's temporary folder while they may still write
    to it. So the processes are stopped first, and a folder that still will not go is removed and only logged.
    """
    for task in getattr(writer, "tasks", ()):
        task.terminate()
        task.join()
    try:
        writer.cancel()
    except OSError as error:
        log.warning("rebuild: could not clear the abandoned writer's temporary files (%s)", error)
        shutil.rmtree(writer.temp_storage().folder, ignore_errors=True)
        if writer.writelock:
            writer.writelock.release()


def open_folder(folder):
    """The Whoosh index in a generation folder."""
    from whoosh import index as whoosh_index

    return whoosh_index.open_dir(str(folder))


def _apply_feed(store, home, folder, ix, progress=no_progress, most=None):
    applied = home.read_applied_seq(folder)
    latest = store.latest_seq()
    if latest <= applied:
        return applied
    upto = latest if most is None else min(latest, applied + most)
    reindex(ix, store, store.changed_ids(applied, upto), progress)
    home.write_applied_seq(folder, upto)
    return upto


def reindex(ix, store, call_ids, progress=no_progress):
    """Write the store's current version of each call into the index (or delete it), in one commit."""
    writer = ix.writer(limitmb=WRITER_MEMORY_MB)
    try:
        for start in range(0, len(call_ids), _FETCH_CHUNK):
            chunk = call_ids[start : start + _FETCH_CHUNK]
            records = store.get_many(chunk)
            for call_id in chunk:
                record = records.get(call_id)
                if record is None:
                    writer.delete_by_term("id", call_id)
                else:
                    writer.update_document(**index_document(record, content_hash(record)))
            progress(min(start + _FETCH_CHUNK, len(call_ids)), len(call_ids))
        writer.commit()
    except BaseException:
        writer.cancel()
        raise


def apply_changes(store, home, timeout=30.0, progress=no_progress, most=None):
    """Apply every store change the index in use has not seen yet (or the next ``most`` of them).

    Builds the index from the store first when none exists.

    :param store: a ``CallStore``.
    :param home: the :class:`IndexHome`.
    :param timeout: seconds to wait for another process holding the writer.
    :param progress: called as ``progress(done, total)`` over the changed calls.
    :param most: apply the changes of at most this many sequence numbers, in order, and release the writer
        (the follower does, so an import's rebuild is never kept waiting behind a whole backlog).
    :returns: the store sequence number the index now reflects.
    :raises IndexBusyError: when the writer stayed busy past ``timeout``.
    """
    if home.current_dir() is None:
        return rebuild(store, home, progress).applied_seq
    with home.writer_lock(timeout):
        folder = home.current_dir()
        return _apply_feed(store, home, folder, home.open_index(), progress, most)


@dataclass
class CheckReport:
    """How the index differs from the store."""

    store_count: int = 0
    index_count: int = 0
    applied_seq: int = 0
    latest_seq: int = 0
    missing: list = field(default_factory=list)
    stale: list = field(default_factory=list)
    extra: list = field(default_factory=list)
    index_error: str = ""

    @property
    def agrees(self):
        """True when the index holds exactly the store's records, each up to date."""
        return not (self.missing or self.stale or self.extra or self.index_error)


def check(store, home):
    """Compare the index in use with the store: counts, ids and content digests.

    :returns: a :class:`CheckReport`.
    """
    report = CheckReport(store_count=store.count(), latest_seq=store.latest_seq())
    stored = store.content_hashes()
    try:
        ix = home.open_index()
        report.applied_seq = home.read_applied_seq(home.current_dir())
        indexed = {}
        with ix.searcher() as searcher:
            for fields in searcher.all_stored_fields():
                indexed[fields["id"]] = fields.get("content_hash")
    except IndexMissingError as error:
        report.index_error = str(error)
        report.missing = sorted(stored)
        return report
    except Exception as error:  # a damaged index: the report says so and repair rebuilds it
        report.index_error = f"the index could not be read: {error}"
        report.missing = sorted(stored)
        return report
    report.index_count = len(indexed)
    report.missing = sorted(set(stored) - set(indexed))
    report.extra = sorted(set(indexed) - set(stored))
    report.stale = sorted(i for i in set(stored) & set(indexed) if stored[i] != indexed[i])
    return report


def repair(store, home, report, progress=no_progress):
    """Fix what a check found: rebuild a missing or damaged index, else reindex what differs.

    :returns: the number of documents written or deleted.
    """
    if report.index_error:
        return rebuild(store, home, progress).documents
    differing = report.missing + report.stale + report.extra
    with home.writer_lock(timeout=600):
        reindex(home.open_index(), store, differing, progress)
    return len(differing)
