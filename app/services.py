"""The parts one server process shares between requests: store, index, search, follower."""

import logging
import os
import threading
import time

from analyzers.synonyms import load_synonyms
from app.search import SearchService
from app.vocabulary import VocabularyCache
from indexer.build import apply_changes, rebuild
from indexer.index_home import IndexBusyError, IndexHome, IndexMissingError
from indexer.store import open_store

log = logging.getLogger(__name__)


class SynonymsFile:
    """The synonyms mapping, read again whenever its file changes (no restart needed)."""

    def __init__(self, path=None):
        self.path = path
        self._mtime = None
        self._mapping = {}

    def __call__(self):
        """The current mapping from a word to its synonyms."""
        from analyzers import synonyms as synonyms_module

        path = self.path or synonyms_module.DEFAULT_PATH
        try:
            mtime = os.stat(path).st_mtime_ns
        except OSError:
            return self._mapping
        if mtime != self._mtime:
            try:
                self._mapping = load_synonyms(path)
            except ValueError as error:
                log.error("synonyms file not reloaded, the last good one stays in force: %s", error)
            self._mtime = mtime
        return self._mapping


class Follower:
    """A thread that applies store changes made elsewhere (CLI, other servers) to the index."""

    def __init__(self, services, interval):
        self.services = services
        self.interval = interval
        self.last_error = ""
        self._thread = None
        self._pid = None

    def ensure_running(self):
        """Start the thread in this process if it is not running (after a fork too)."""
        if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
            return
        self._pid = os.getpid()
        self._thread = threading.Thread(target=self._run, name="index-follower", daemon=True)
        self._thread.start()

    def _run(self):
        while True:
            time.sleep(self.interval)
            try:
                self.services.catch_up(timeout=0)
                self.last_error = ""
            except IndexBusyError:
                continue
            except Exception as error:  # the follower must outlive a store outage
                self.last_error = str(error)
                log.warning("index follower: %s", error)


class Services:
    """Store, index home, search service and follower of one server process."""

    def __init__(self, settings, data_folder):
        self.settings = settings
        self.data_folder = data_folder
        self.store = open_store(settings, data_folder)
        self.home = IndexHome(data_folder)
        self.vocabulary = VocabularyCache()
        self.synonyms = SynonymsFile(settings.get("KB_SYNONYMS_FILE") or None)
        self.search = SearchService(
            self.home, self.vocabulary, self.synonyms, time_limit_ms=settings["KB_SEARCH_TIME_LIMIT_MS"]
        )
        self.follower = Follower(self, settings["KB_FOLLOW_INTERVAL_S"])
        self.last_applied_at = time.time()

    def ensure_index(self):
        """Build the index from the store when it is missing or cannot be opened."""
        try:
            self.home.open_index().close()
            return
        except IndexMissingError:
            pass
        except Exception as error:  # a damaged index is rebuilt from the store, the source of truth
            log.warning("the index could not be opened (%s); rebuilding it from the store", error)
        rebuild(self.store, self.home)

    def warm_up(self):
        """Load the word lists and the vocabulary now, once, rather than in the first search.

        Under gunicorn the app is preloaded, so the workers fork with all of it in memory.
        """
        try:
            self.search.search("printer offline")
        except IndexMissingError:
            return
        self.search.close()

    def catch_up(self, timeout):
        """Apply pending store changes to the index; returns the applied sequence number."""
        folder = self.home.current_dir()
        if folder is not None and self.home.read_applied_seq(folder) >= self.store.latest_seq():
            return self.home.read_applied_seq(folder)
        applied = apply_changes(self.store, self.home, timeout=timeout)
        self.last_applied_at = time.time()
        return applied
