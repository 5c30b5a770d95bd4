"""The embedding thread: in one worker of each server, gives new calls their passage vectors (``engine.backlog``).

Every worker starts one; only the one holding the vector store's writer lock embeds, so a server spends one core's
worth of model time on its backlog at most, and ``python -m indexer embed`` takes over while it runs. Searches
never wait for it: a call is found by its words at once and by its meaning once its vector lands.
``KB_EMBED_IN_SERVER=false`` leaves the backlog to ``python -m indexer embed``.
"""

import logging
import os
import threading

from engine.backlog import BATCH, embed_waiting
from index.generations import IndexBusyError, IndexMissingError

log = logging.getLogger(__name__)


class EmbedWorker:
    """A daemon thread embedding the backlog every ``interval`` seconds, while this process holds the lock."""

    def __init__(self, search, interval):
        """
        :param search: the process's ``engine.service.SearchService`` (its index and semantic stage).
        :param interval: seconds between looks at the backlog.
        """
        self.search = search
        self.interval = interval
        self.embedded = 0
        self.last_error = ""
        self._stopped = threading.Event()
        self._thread = None
        self._pid = None

    def ensure_running(self):
        """Start the thread in this process if it is not running (after a fork too)."""
        if self.search.semantic is None or self._stopped.is_set():
            return
        if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
            return
        self._pid = os.getpid()
        self._thread = threading.Thread(target=self._run, name="embed-backlog", daemon=True)
        self._thread.start()

    def stop(self, timeout=5.0):
        """End the thread after the batch it is embedding."""
        self._stopped.set()
        if self._pid == os.getpid() and self._thread is not None:
            self._thread.join(timeout)

    def _run(self):
        stage = self.search.semantic
        if stage.store() is None:
            return  # no model: said once in the log by the stage
        while not self._stopped.is_set():
            try:
                with stage.store().writing():
                    while not self._stopped.is_set():
                        done = self.work_once()
                        if not done:
                            self._stopped.wait(self.interval)
            except IndexBusyError:
                self._stopped.wait(max(self.interval, 5.0))  # another worker or 'indexer embed' has it
            except Exception as error:  # the thread must outlive a damaged index or a full disk
                self.last_error = type(error).__name__
                log.warning("embedding the backlog: %r", error)
                self._stopped.wait(max(self.interval, 5.0))

    def work_once(self):
        """Embed one batch of the backlog (the caller holds the writer lock); returns how many were embedded."""
        stage = self.search.semantic
        try:
            with self.search.lease() as opened:  # a thread beside the searches: the searcher must stay open
                done = embed_waiting(opened.searcher, stage.store(), stage.embedder(), limit=BATCH)
        except IndexMissingError:
            return 0
        self.embedded += done
        return done
