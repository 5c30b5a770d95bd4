"""The delivery thread: in each server process, sends the outbox's due notifications (``notify.delivery``).

Every worker of every server runs one; the store's claims keep two of them from sending one message at once.
``KB_OUTBOX_INTERVAL_S=0`` leaves delivery to ``python -m indexer deliver`` (e.g. from cron).
"""

import logging

from app.background import BackgroundThread
from notify.delivery import deliver_due

log = logging.getLogger(__name__)


class OutboxWorker(BackgroundThread):
    """A daemon thread delivering due notifications every ``interval`` seconds."""

    name = "outbox-delivery"

    def __init__(self, store, policy, interval):
        super().__init__()
        self.store = store
        self.policy = policy
        self.interval = interval
        self.last_error = ""

    def wanted(self):
        """Off when ``KB_OUTBOX_INTERVAL_S`` is 0 (delivery left to ``indexer deliver``)."""
        return self.interval > 0

    def run(self):
        """Deliver what is due every interval until stopped."""
        while not self.stopped.wait(self.interval):
            try:
                deliver_due(self.store, self.policy)
                self.last_error = ""
            except Exception as error:  # the thread must outlive a store outage
                self.last_error = type(error).__name__
                log.warning("outbox delivery: %s", error)
