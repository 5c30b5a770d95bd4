"""The follower: a thread in each server process that applies store changes to its index, and says how it fares.

Each pass first applies the store's changes to the index, then, apart, writes the queued search log: nothing
the log holds can keep changes from being indexed. A write in a request wakes the follower rather than
indexing itself (``Services.write``), so no request ever waits on the index writer for long. A large backlog
(an import's) is applied ``PASS_CHANGES`` at a time, letting go of the writer in between.

The follower is *stuck* when its passes have failed for longer than ``stuck_after`` seconds, or its thread
has died; ``/healthz`` then answers 503. Waiting for the index writer held by another process (an import)
and an unreachable store are not failures of this server: searches go on from its index, and health
reports them and the lag as they are.
"""

import logging
import threading
import time

from app.background import BackgroundThread
from index.generations import IndexBusyError
from store.base import StoreUnavailableError

log = logging.getLogger(__name__)

# A pass applies at most this many changes and then lets go of the index writer, so that an import's
# rebuild, finishing, never waits behind a whole backlog (it holds those changes already).
PASS_CHANGES = 2_000
# The breath between two passes of a backlog, in which another process may take the writer.
BACKLOG_PAUSE_S = 0.05

FOLLOWING = "following"
WAITING = "waiting for another process indexing (an import or a rebuild)"
STORE_AWAY = "the store is unreachable"
FAILING = "failing"


class Follower(BackgroundThread):
    """A thread that applies store changes made anywhere (requests, CLI, other servers) to the index."""

    name = "index-follower"

    def __init__(self, services, interval, stuck_after=30.0):
        """
        :param services: the process's ``Services``.
        :param interval: seconds between passes when nothing wakes it.
        :param stuck_after: seconds of failing passes after which the follower counts as stuck.
        """
        super().__init__()
        self.services = services
        self.interval = interval
        self.stuck_after = stuck_after
        self.state = FOLLOWING
        self.last_error = ""
        self.failing_since = None
        self.last_pass = None
        self._flushed = 0.0
        self._wake = threading.Event()

    def wake(self):
        """Start the next pass now rather than after the interval (a request just wrote)."""
        self._wake.set()

    def stop(self, timeout=5.0):
        """End the thread after its current pass (a server shutting down, an app a test is done with)."""
        self.stopped.set()
        self._wake.set()
        super().stop(timeout)

    def run(self):
        """Pass after pass, each when woken or after the interval, until stopped."""
        while not self.stopped.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            if not self.stopped.is_set():
                self.run_once()

    def run_once(self):
        """One pass: apply the store's changes to the index, then (once an interval) write the settled search log and
        checkpoint the store (``CallStore.checkpoint``)."""
        backlog = False
        try:
            applied, latest = self.services.catch_up(timeout=0, most=PASS_CHANGES)
            backlog = applied < latest
        except IndexBusyError:
            self._passed(WAITING)
        except StoreUnavailableError as error:
            self._passed(STORE_AWAY, str(error))
        except Exception as error:  # the follower must outlive anything one pass meets
            self._failed(error)
        else:
            self._passed(FOLLOWING)
        # Writes wake the follower many times a second; the log needs writing only once an interval.
        if time.monotonic() - self._flushed >= self.interval:
            self._flushed = time.monotonic()
            try:
                self.services.search_log.flush_quietly(self.services.store)
            except Exception as error:  # the log never takes the follower down with it
                log.warning("search log: %s", error)
            try:
                self.services.store.checkpoint()
            except Exception as error:  # nor does the store's housekeeping
                log.warning("store checkpoint: %s", error)
        if backlog:
            time.sleep(BACKLOG_PAUSE_S)
            self.wake()

    def _passed(self, state, error=""):
        self.state, self.last_error, self.failing_since = state, error, None
        self.last_pass = time.monotonic()

    def _failed(self, error):
        now = time.monotonic()
        public = type(error).__name__  # /healthz answers anyone: the text (paths, hosts) goes to the log only
        if self.failing_since is None or public != self.last_error:
            log.warning("index follower: %r", error)
        if self.failing_since is None:
            self.failing_since = now
        self.state, self.last_error, self.last_pass = FAILING, public, now

    def failing_for(self):
        """Seconds the follower's passes have failed without a break (0 when the last one did not)."""
        return 0.0 if self.failing_since is None else time.monotonic() - self.failing_since

    def status(self):
        """What ``/healthz`` shows: state, last error, seconds failing and since the last pass, and ``ok``.

        :returns: a dict; ``ok`` is False when the follower is stuck (see the module docstring).
        """
        running, failing = self.running(), self.failing_for()
        since_pass = None if self.last_pass is None else round(time.monotonic() - self.last_pass, 3)
        return {
            "ok": running and failing <= self.stuck_after,
            "running": running,
            "state": self.state if running else "not running",
            "last_error": self.last_error,
            "failing_for_s": round(failing, 3),
            "last_pass_s_ago": since_pass,
            "stuck_after_s": self.stuck_after,
        }
