"""The delivery thread: in each server process, sends the outbox's due notifications (``notify.delivery``).

Every worker of every server runs one; the store's claims keep two of them from sending one message at once.
``KB_OUTBOX_INTERVAL_S=0`` leaves delivery to ``python -m indexer deliver`` (e.g. from cron).
"""

import logging
import os
import threading

from notify.delivery import deliver_due

log = logging.getLogger(__name__)


class OutboxWorker:
    """A daemon thread delivering due notifications every ``interval`` seconds."""

    def __init__(self, store, policy, interval):
        self.store = store
        self.policy = policy
        self.interval = interval
        self.last_error = ""
        self._stopped = threading.Event()
        self._thread = None
        self._pid = None

    def ensure_running(self):
        """Start the thread in this process if it is not running (after a fork too); nothing when turned off."""
        if self.interval <= 0 or self._stopped.is_set():
            return
        if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
            return
        self._pid = os.getpid()
        self._thread = threading.Thread(target=self._run, name="outbox-delivery", daemon=True)
        self._thread.start()

    def stop(self, timeout=5.0):
        """End the thread after its current round of deliveries."""
        self._stopped.set()
        if self._pid == os.getpid() and self._thread is not None:
            self._thread.join(timeout)

    def _run(self):
        while not self._stopped.wait(self.interval):
            try:
                deliver_due(self.store, self.policy)
                self.last_error = ""
            except Exception as error:  # the thread must outlive a store outage
                self.last_error = type(error).__name__
                log.warning("outbox delivery: %s", error)
