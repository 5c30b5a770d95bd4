"""Indexing an import while the store writes it: a new index generation built in another process.

An import that rebuilds the index used to write the store first, on one core, and only then index every
call on both. Here the calls are handed to another process (the *builder*), which indexes the store as it
was plus the imported calls, in the store's id order, exactly as a rebuild would, while this process
writes them. When a file's calls come in ascending id order (as most exports write them), they are handed
over as each part of the file is validated, so indexing starts while the rest is still read; otherwise
all at once, sorted, just before the store write. The store stays the source of truth: once both are
done, every call another writer changed before or after the import's own changes (consecutive change
numbers, ``WriteSummary.first_seq`` to ``latest_seq``) is indexed again from the store, under the writer
lock, and the generation is swapped in whole.

The builder is forked from a small server process (multiprocessing's ``forkserver``) and gets the calls
in id order, pickled in chunks through a pipe, unpickling one at a time as it indexes them. Forked from the
importer itself, it shared the importer's gigabytes of records page by page, and both processes touching
them copied every page: at a million calls, a minute of system time more than the overlap saved.

If the store write fails, the builder is stopped and its generation removed; if the builder fails, the
index is rebuilt from the store as before. A builder whose parent dies is sent SIGTERM by the kernel,
and stops its own indexing processes.
"""

import ctypes
import logging
import multiprocessing
import os
import pickle
import queue
import shutil
import signal
import sys
import threading
from contextlib import ExitStack
from multiprocessing import forkserver
from multiprocessing import util as multiprocessing_util
from operator import itemgetter

from index import build, whoosh_compat
from index.schema import index_document
from store.records import content_hash

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1
# Records pickled together for the builder: it holds one chunk's records at a time.
RECORDS_PER_CHUNK = 5_000
_WAIT_STEP_S = 0.2


class BuildAlongside:
    """A new index generation built from the store plus the records a write is about to store.

    Use: :meth:`start` with the records, write them to the store, then :meth:`finish` with the write's
    summary; or :meth:`abandon` when the write failed.
    """

    def __init__(self, store, home, procs=2):
        """
        :param store: a ``CallStore``.
        :param home: the ``IndexHome``.
        :param procs: the builder's indexing processes.
        """
        self.store = store
        self.home = home
        self.procs = procs
        self.folder = None
        self.snapshot_seq = None
        self.total = 0
        self._held = ExitStack()
        self._builder = None
        self._done = None
        self._chunks = None
        self._last_id = None
        self._ended = False

    def start(self, records):
        """Start indexing the store as it is now plus ``records`` (clean, with distinct ids) in a new generation.

        :param records: the records the caller will write next, as it will write them.
        """
        self.begin(len(records))
        self.add(sorted(records, key=itemgetter("id")))
        self.end()

    def begin(self, expected):
        """Start the builder on the store as it is now; the records to write over it follow through :meth:`add`
        (as a file is validated, say), and :meth:`end` says there are no more.

        :param expected: about how many records will follow, for the progress shown.
        """
        self.snapshot_seq = self.store.latest_seq()
        self.total = self.store.count() + expected
        self.folder = self.home.new_generation()
        try:
            self._held.enter_context(self.home.building(self.folder))
            self._held.enter_context(self.home.rebuilding(None))
            context = builder_context()
            self._done = context.Value("q", 0, lock=False)
            receiving, sending = context.Pipe(duplex=False)
            self._builder = context.Process(
                target=_build, args=(self.store, self.folder, receiving, self.procs, self._done, self.total)
            )
            self._builder.start()
            receiving.close()  # the builder's now: once it stops, sending to it fails instead of waiting
            self._chunks = _Sender(sending)
        except BaseException:
            self.abandon()
            raise

    def add(self, records):
        """Hand the builder more records: clean ones, as the caller will write them, in ascending id order and
        each after every record handed before (the builder indexes the store's calls between them meanwhile).

        :returns: whether they were handed; False, handing none, when they are not in that order.
        """
        if not records:
            return True
        ids = [record["id"] for record in records]
        if (self._last_id is not None and ids[0] <= self._last_id) or any(a >= b for a, b in zip(ids, ids[1:])):
            return False
        for start in range(0, len(records), RECORDS_PER_CHUNK):
            self._chunks.put(pickle.dumps(records[start : start + RECORDS_PER_CHUNK], pickle.HIGHEST_PROTOCOL))
        self._last_id = ids[-1]
        return True

    def end(self):
        """Tell the builder every record has been handed (again: nothing more)."""
        if not self._ended:
            self._ended = True
            self._chunks.put(b"")

    def abandon(self):
        """Stop the builder and remove its generation (the store write failed: the index in use stays)."""
        if self._builder is not None and self._builder.is_alive():
            self._builder.terminate()
        if self._builder is not None:
            self._builder.join()
        self._close_chunks()
        self._held.close()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)

    def finish(self, summary, progress=build.no_progress):
        """Wait for the builder, index what others changed meanwhile, and put the generation in use.

        :param summary: the ``WriteSummary`` of the store write of the records given to :meth:`start`.
        :param progress: called as ``progress(done, total)`` while the builder runs.
        :returns: the store change number the index in use now reflects.
        """
        try:
            self.end()
            while self._builder.is_alive():
                progress(self._done.value, self.total)
                self._builder.join(_WAIT_STEP_S)
            if self._builder.exitcode != 0:
                log.warning(
                    "indexing alongside the store write failed (exit code %s); rebuilding from the store",
                    self._builder.exitcode,
                )
                self.abandon()
                return build.rebuild(self.store, self.home, progress, procs=self.procs).applied_seq
            progress(self._done.value, self._done.value)
            self._close_chunks()
            with self.home.writer_lock(timeout=600):
                applied = self._catch_up(summary)
                self.home.swap_to(self.folder)
            return applied
        finally:
            self._held.close()

    def _close_chunks(self):
        """Wait for the thread that sends the builder its records (ended by then: the builder read them all, or
        stopped)."""
        if self._chunks is not None:
            self._chunks.close()
            self._chunks = None

    def _catch_up(self, summary):
        """Index again every call changed since the snapshot by a write other than the import's own."""
        latest = self.store.latest_seq()
        if summary.first_seq is None:
            others = self.store.changed_ids(self.snapshot_seq, latest)
        else:
            before = self.store.changed_ids(self.snapshot_seq, summary.first_seq - 1)
            after = self.store.changed_ids(summary.latest_seq, latest)
            others = list(dict.fromkeys([*before, *after]))
        if others:
            build.reindex(build.open_folder(self.folder), self.store, others)
        self.home.write_applied_seq(self.folder, latest)
        return latest


def merged_documents(stored, imported):
    """The documents of a rebuild over the stored calls with the imported ones written over them, in id order.

    :param stored: the store's records, in id order (``CallStore.iter_records``).
    :param imported: clean records with distinct ids, in id order; each replaces the stored call with its id.
    :returns: an iterator of ``index_document`` keyword arguments.
    """
    for record in _merged(stored, imported):
        yield index_document(record, content_hash(record))


def _merged(stored, imported):
    imported = iter(imported)
    coming = next(imported, None)
    for record in stored:
        while coming is not None and coming["id"] < record["id"]:
            yield coming
            coming = next(imported, None)
        if coming is None or coming["id"] != record["id"]:
            yield record
    if coming is not None:
        yield coming
    yield from imported


class _Sender:
    """Pickled chunks of records sent to the builder through a pipe by a thread of their own, so that handing
    them over never waits for the builder to read."""

    def __init__(self, connection):
        self._pending = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._send, args=(connection,), name="alongside-sender", daemon=True)
        self._thread.start()

    def put(self, chunk):
        """Send one pickled chunk; ``b""`` says it was the last."""
        self._pending.put(chunk)

    def close(self):
        """Stop sending (what is not sent yet is dropped when the builder has stopped) and wait for the thread."""
        self._pending.put(None)
        self._thread.join()

    def _send(self, connection):
        try:
            while (chunk := self._pending.get()) is not None:
                connection.send_bytes(chunk)
        except OSError:
            pass  # the builder stopped: what it did not read is of no use
        finally:
            connection.close()


def _received(connection):
    """The records of the pickled chunks a connection brings, a chunk unpickled at a time, until ``b""`` comes."""
    while chunk := connection.recv_bytes():
        yield from pickle.loads(chunk)


def builder_context():
    """The multiprocessing context builders start from, its server started now if it is not running yet (it
    imports this module, Whoosh and NumPy once, so a builder starts in milliseconds).

    :returns: a ``forkserver`` context.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    forkserver.ensure_running()
    return context


def stop_builder_server():
    """Stop the server builders are forked from, if it runs (a later build starts it again). It reaps its
    builders and is reaped here, so the process's CPU accounting of its children counts their work."""
    stop = getattr(forkserver._forkserver, "_stop", None)  # CPython's own; absent, the server ends with us
    if stop is not None:
        stop()


def _build(store, folder, chunks, procs, done, total):
    """The builder process: index the store plus the records pickled in the chunks the ``chunks`` connection
    brings into ``folder`` (not in use)."""
    parent = os.getppid()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    _die_with_parent(parent)
    whoosh_compat.install()  # a fresh interpreter: the writing patches are not in yet
    # Its indexing processes are its own children (they stop with it); its memory holds no records to share.
    multiprocessing.set_start_method("fork", force=True)
    builder = os.getpid()
    multiprocessing_util.register_after_fork(_die_with_parent, lambda _: _indexing_process_start(builder))

    def progress(count, _total):
        done.value = count

    documents = merged_documents(store.iter_records(), _received(chunks))
    build.write_documents(build.open_folder(folder), documents, total, procs, progress)
    store.close()


def _indexing_process_start(builder):
    """In each indexing process the builder forks: SIGTERM ends it at once (the builder's own handler, which
    cancels its writer, would be raised inside Whoosh's code here), and so does the builder's death."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with_parent(builder)


def _die_with_parent(parent):
    """Have the kernel send this process SIGTERM when its parent dies (Linux; elsewhere, nothing), and end it
    now if ``parent`` died before it was asked.

    :param parent: the process id of the parent this process was forked from.
    """
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:
        sys.exit(1)
