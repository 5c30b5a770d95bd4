"""The parts one server process shares between requests: store, index, search, follower."""

import logging
import os
import threading
import time

from analyzers.synonyms import load_synonyms
from app.outcomes import OutcomeBoosts
from app.search import SearchService
from app.search_log import SearchLogBuffer
from app.vocabulary import VocabularyCache
from indexer.build import apply_changes, rebuild
from indexer.index_home import IndexBusyError, IndexHome, IndexMissingError
from indexer.rules import RulesFile, apply_on_write
from indexer.schema import call_schema
from indexer.store import open_store

log = logging.getLogger(__name__)


def accepted_word_pairs(proposals):
    """Word-to-word synonyms from accepted proposals: the words that differ between two phrases
    of the same length ("pw reset" -> "password reset" gives pw -> password)."""
    pairs = []
    for proposal in proposals:
        before, after = proposal["from_query"].split(), proposal["to_query"].split()
        if len(before) == len(after):
            pairs += [(a, b) for a, b in zip(before, after) if a != b]
    return pairs


class SynonymsFile:
    """The synonyms mapping, read again whenever its file changes, plus the team leads' accepted
    proposals (checked at most every second): edits take effect on the next search, no restart."""

    CHECK_SECONDS = 1.0

    def __init__(self, path=None, store=None):
        self.path = path
        self.store = store
        self._mtime = None
        self._file_mapping = {}
        self._mapping = {}
        self._accepted = None
        self._checked = 0.0

    def __call__(self):
        """The current mapping from a word to its synonyms."""
        changed = self._reload_file()
        if self.store is not None and time.monotonic() - self._checked >= self.CHECK_SECONDS:
            self._checked = time.monotonic()
            try:
                accepted = tuple(accepted_word_pairs(self.store.proposals("accepted")))
            except Exception as error:  # the last good synonyms stay while the store is away
                log.warning("accepted synonyms not reloaded: %s", error)
                accepted = self._accepted
            changed = changed or accepted != self._accepted
            self._accepted = accepted
        if changed:
            mapping = {word: list(others) for word, others in self._file_mapping.items()}
            for before, after in self._accepted or ():
                mapping.setdefault(before, []).append(after)
                mapping.setdefault(after, []).append(before)
            self._mapping = mapping
        return self._mapping

    def refresh(self):
        """Check the accepted proposals on the next search rather than within a second."""
        self._checked = 0.0

    def _reload_file(self):
        from analyzers import synonyms as synonyms_module

        path = self.path or synonyms_module.DEFAULT_PATH
        try:
            mtime = os.stat(path).st_mtime_ns
        except OSError:
            return False
        if mtime == self._mtime:
            return False
        self._mtime = mtime
        try:
            self._file_mapping = load_synonyms(path)
        except ValueError as error:
            log.error("synonyms file not reloaded, the last good one stays in force: %s", error)
            return False
        return True


class OutcomesFromFeedback:
    """The current ``OutcomeBoosts``, rebuilt when new feedback arrives (checked at most every second)."""

    CHECK_SECONDS = 1.0

    def __init__(self, store):
        self.store = store
        self._boosts = None
        self._marker = None
        self._checked = 0.0
        self._lock = threading.Lock()

    def __call__(self):
        """The boosts to apply now (the last good ones while the store is away)."""
        if time.monotonic() - self._checked < self.CHECK_SECONDS:
            return self._boosts
        with self._lock:
            self._checked = time.monotonic()
            try:
                marker = self.store.feedback_marker()
                if marker != self._marker:
                    self._boosts = OutcomeBoosts(self.store.recent_feedback())
                    self._marker = marker
            except Exception as error:  # searches must go on when the store is away
                log.warning("feedback not reloaded: %s", error)
        return self._boosts


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
                self.services.search_log.flush(self.services.store)
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
        self.synonyms = SynonymsFile(settings.get("KB_SYNONYMS_FILE") or None, self.store)
        self.rules = RulesFile(data_folder)
        self.search_log = SearchLogBuffer()
        self.search = SearchService(
            self.home,
            self.vocabulary,
            self.synonyms,
            time_limit_ms=settings["KB_SEARCH_TIME_LIMIT_MS"],
            result_cache_size=settings["KB_RESULT_CACHE_SIZE"],
            posting_arrays_mb=settings["KB_POSTING_ARRAYS_MB"],
            outcomes_source=OutcomesFromFeedback(self.store),
        )
        self.follower = Follower(self, settings["KB_FOLLOW_INTERVAL_S"])

    def ensure_index(self):
        """Build the index from the store when it is missing or cannot be opened."""
        try:
            index = self.home.open_index()
            outdated = set(index.schema.names()) != set(call_schema().names())
            index.close()
            if not outdated:
                return
            log.warning("the index was built with an older schema; rebuilding it from the store")
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

    def write(self, records, actor):
        """The one write path of the web service: service rules, store (commits first), then index.

        :param records: clean records.
        :param actor: who made the change, for the edit history.
        :returns: (the store's ``WriteSummary``, True when the index has the change already; when
            the writer stayed busy the follower indexes it within a second).
        :raises StoreUnavailableError: when the store cannot be written (nothing was).
        """
        apply_on_write(records, self.rules.current())
        return self.store.upsert(records, actor=actor), self.index_now()

    def delete(self, call_id, actor):
        """Delete a call from the store, then from the index (see :meth:`write`).

        :raises CallNotFoundError: when the id is unknown.
        """
        return self.store.delete(call_id, actor=actor), self.index_now()

    def index_now(self):
        """Bring the index in step with the store; False when another writer held it too long."""
        try:
            self.catch_up(timeout=self.settings["KB_INDEX_LOCK_TIMEOUT_S"])
        except IndexBusyError:
            return False
        return True

    def catch_up(self, timeout):
        """Apply pending store changes to the index; returns the applied sequence number."""
        folder = self.home.current_dir()
        if folder is not None and self.home.read_applied_seq(folder) >= self.store.latest_seq():
            return self.home.read_applied_seq(folder)
        return apply_changes(self.store, self.home, timeout=timeout)
