"""Where the Whoosh index lives on disk, and the locks that keep its writers in line.

Layout under the data folder::

    index/CURRENT      name of the generation folder in use (replaced atomically)
    index/gen-*/       one Whoosh index each, with ``applied_seq`` beside its files
    index/writer.lock  held by whoever applies store changes to the current generation
    index/REBUILDING   while a rebuild runs: its process id and the store change it started from (or ``end``)

A rebuild fills a new generation folder and swaps ``CURRENT`` to it in one rename,
so a reader sees either the old index or the new one, never half of one.
"""

import fcntl
import math
import os
import shutil
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.index import EmptyIndexError

from index.schema import call_schema
from index.small_files import ReplacedFile, write_atomically

CURRENT_FILE = "CURRENT"
REBUILDING_FILE = "REBUILDING"
APPLIED_SEQ_FILE = "applied_seq"
BUILDING_LOCK_FILE = ".building"
GENERATION_PREFIX = "gen-"
# In the REBUILDING file, in place of a change number: the rebuild takes in every change until it ends.
UNTIL_THE_END = "end"
# Opening an index lists its tables of contents, then reads the newest; a writer's commit in between replaces that
# one and deletes it. Whoosh opens a reader again when that happens, but not the index itself: this does, as often.
OPEN_TRIES = 10
OPEN_RETRY_SECONDS = 0.05


class IndexMissingError(RuntimeError):
    """No index has been built yet in this data folder."""


class IndexBusyError(TimeoutError):
    """Another process held the index writer for longer than the timeout."""


@contextmanager
def _flock(path, timeout, blocking_message):
    handle = open(path, "a+")
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise IndexBusyError(blocking_message) from None
                time.sleep(0.005)
        yield
    finally:
        handle.close()


class IndexHome:
    """The index folder of one data folder."""

    def __init__(self, data_folder):
        self.root = Path(data_folder) / "index"
        self.root.mkdir(parents=True, exist_ok=True)
        self._current = ReplacedFile(self.root / CURRENT_FILE)

    def current_dir(self):
        """The generation folder in use, or None when no index was ever built."""
        name = self.current_name()
        folder = self.root / name
        return folder if name and folder.is_dir() else None

    def current_name(self):
        """The name of the generation in use ('' when none); cheap enough to call per search (a stat)."""
        return (self._current.read() or "").strip()

    def open_index(self):
        """Open the Whoosh index in use; again, up to ``OPEN_TRIES`` times, when a commit deleted the table of
        contents it was reading (or a swap the generation).

        :raises IndexMissingError: when no index was built yet.
        """
        missing = f"no index in {self.root}: run 'python -m indexer rebuild' to build it from the store"
        for tries_left in range(OPEN_TRIES - 1, -1, -1):
            folder = self.current_dir()
            if folder is None:
                raise IndexMissingError(missing)
            try:
                return whoosh_index.open_dir(str(folder))
            except EmptyIndexError:
                raise IndexMissingError(missing) from None
            except FileNotFoundError:
                if not tries_left:
                    raise
                time.sleep(OPEN_RETRY_SECONDS)

    def new_generation(self):
        """Create an empty index in a new generation folder (not yet in use).

        :returns: the folder's Path.
        """
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
        folder = self.root / f"{GENERATION_PREFIX}{stamp}-{uuid.uuid4().hex[:8]}"
        folder.mkdir()
        whoosh_index.create_in(str(folder), call_schema())
        self.write_applied_seq(folder, 0)
        return folder

    @contextmanager
    def building(self, folder):
        """Mark a generation as being built, so that clean-up leaves it alone."""
        with _flock(folder / BUILDING_LOCK_FILE, 0, f"{folder.name} is being built by another process"):
            yield

    def swap_to(self, folder):
        """Put a generation in use in one atomic rename, then remove unused generations."""
        write_atomically(self.root / CURRENT_FILE, folder.name + "\n")
        self.remove_unused_generations()

    def remove_unused_generations(self):
        """Delete generation folders that are neither in use nor being built."""
        in_use = self.current_name()
        for folder in self.root.glob(f"{GENERATION_PREFIX}*"):
            if folder.name == in_use or not folder.is_dir():
                continue
            try:
                with self.building(folder):
                    shutil.rmtree(folder, ignore_errors=True)
            except IndexBusyError:
                continue

    @staticmethod
    def read_applied_seq(folder):
        """The last store sequence number applied to the index in ``folder`` (0 when unknown)."""
        try:
            return int((Path(folder) / APPLIED_SEQ_FILE).read_text(encoding="utf-8").strip() or 0)
        except (FileNotFoundError, ValueError):
            return 0

    @staticmethod
    def write_applied_seq(folder, seq):
        """Record, atomically, that store changes up to ``seq`` are in the index in ``folder``."""
        write_atomically(Path(folder) / APPLIED_SEQ_FILE, f"{seq}\n")

    @contextmanager
    def rebuilding(self, snapshot_seq):
        """Say, for the length of a ``with`` block, that this process rebuilds the index from change ``snapshot_seq``.

        A server's follower then leaves the changes up to it to the rebuild instead of indexing them twice.

        :param snapshot_seq: a change number, or None for a rebuild that takes in every change made until it ends
            (an import indexed while the store writes it: its changes are not numbered yet).
        """
        marker = self.root / REBUILDING_FILE
        mine = f"{os.getpid()} {UNTIL_THE_END if snapshot_seq is None else snapshot_seq}\n"
        write_atomically(marker, mine)
        try:
            yield
        finally:
            try:
                if marker.read_text(encoding="utf-8") == mine:
                    marker.unlink()
            except FileNotFoundError:
                pass

    def rebuild_in_progress(self):
        """The store change a running rebuild started from, or None when none runs (or its process died);
        ``math.inf`` for a rebuild that takes in every change made until it ends."""
        try:
            pid, snapshot_seq = (self.root / REBUILDING_FILE).read_text(encoding="utf-8").split()
            snapshot = math.inf if snapshot_seq == UNTIL_THE_END else int(snapshot_seq)
            os.kill(int(pid), 0)
        except (FileNotFoundError, ValueError, ProcessLookupError):
            return None
        except PermissionError:  # a process of another user: alive
            pass
        return snapshot

    @contextmanager
    def writer_lock(self, timeout):
        """Hold the right to change the index in use; released even if the holder is killed.

        :param timeout: seconds to wait for another holder.
        :raises IndexBusyError: when the lock was not had in time.
        """
        with _flock(self.root / "writer.lock", timeout, f"the index writer stayed busy for {timeout:g} s"):
            yield
