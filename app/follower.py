"""The follower: a thread in each server process that applies store changes made elsewhere to its index."""

import logging
import os
import threading
import time

from index.generations import IndexBusyError

log = logging.getLogger(__name__)


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
