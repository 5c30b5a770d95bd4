"""The embedding thread: in one worker of each server, gives new calls their passage vectors (``engine.backlog``).

Every worker starts one; only the one holding the vector store's writer lock embeds, so a server spends one core's
worth of model time on its backlog at most, and ``python -m indexer embed`` takes over while it runs. Searches
never wait for it: a call is found by its words at once and by its meaning once its vector lands.
``KB_EMBED_IN_SERVER=false`` leaves the backlog to ``python -m indexer embed``.
"""

import logging

from app.background import BackgroundThread
from engine.backlog import BATCH, embed_waiting
from index.generations import IndexBusyError, IndexMissingError

log = logging.getLogger(__name__)


class EmbedWorker(BackgroundThread):
    """A daemon thread embedding the backlog every ``interval`` seconds, while this process holds the lock."""

    name = "embed-backlog"

    def __init__(self, search, interval):
        """
        :param search: the process's ``engine.service.SearchService`` (its index and semantic stage).
        :param interval: seconds between looks at the backlog.
        """
        super().__init__()
        self.search = search
        self.interval = interval
        self.embedded = 0
        self.last_error = ""

    def wanted(self):
        """Only with ranking by meaning on."""
        return self.search.semantic is not None

    def run(self):
        """Embed the backlog while this process holds the vector store's writer lock, until stopped."""
        stage = self.search.semantic
        if stage.loaded_store() is None:
            return  # no model: said once in the log by the stage
        while not self.stopped.is_set():
            try:
                with stage.store().writing():
                    while not self.stopped.is_set():
                        done = self.work_once()
                        if not done:
                            self.stopped.wait(self.interval)
            except IndexBusyError:
                self.stopped.wait(max(self.interval, 5.0))  # another worker or 'indexer embed' has it
            except Exception as error:  # the thread must outlive a damaged index or a full disk
                self.last_error = type(error).__name__
                log.warning("embedding the backlog: %r", error)
                self.stopped.wait(max(self.interval, 5.0))

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
