"""The search log buffer: searches are written in batches, and as-you-type prefixes collapse.

Search as you type sends a search per keystroke; logging each would fill the analytics with
"blu", "blue", "blue s". A row waits ``SETTLE_SECONDS`` and is dropped when the same browser
session searches again for a longer or shorter form of the same text in that time.

The log refuses nothing the search accepted: its text is made storable (``store.rows.storable_text``:
no NUL, no lone surrogate) when queued, and a row the store still refuses is dropped with one warning,
so it can never block the rows behind it or the follower that writes them.
"""

import logging
import re
import threading
import time
import uuid

from store.base import StoreUnavailableError, utc_now
from store.contacts import mask_contacts
from store.rows import storable_text

log = logging.getLogger(__name__)

SETTLE_SECONDS = 3.0
MAX_PENDING = 10_000
_LONG_NUMBER = re.compile(r"\+?\d[\d ()-]{6,}\d")


def redact(query):
    """The query with e-mail addresses and phone or account numbers masked (no personal data in logs).

    :param query: the query as typed.
    :returns: the text to log, at most 500 characters (``store.contacts.mask_contacts``, then any long number).
    """
    return _LONG_NUMBER.sub("[number]", mask_contacts(query))[:500]


def new_search_id():
    """A fresh id for one search, returned to the client so it can report opens and solves."""
    return uuid.uuid4().hex


def _same_typing(earlier, later):
    a, b = earlier.lower().strip(), later.lower().strip()
    return a.startswith(b) or b.startswith(a)


class SearchLogBuffer:
    """Searches waiting to be written to the store's log."""

    def __init__(self):
        self._pending = []
        self._lock = threading.Lock()
        self.dropped = 0
        self.last_error = ""

    def add(self, row):
        """Queue one logged search (a dict for ``store.log_searches``), collapsing typing prefixes."""
        row = {key: storable_text(value) for key, value in row.items()}
        row.update(query=redact(row["query"]), at=row.get("at") or utc_now(), queued=time.monotonic())
        for name in ("product", "category"):  # free text too: an address typed as a filter stays out of the log
            row[name] = redact(row[name]) if row.get(name) else row.get(name)
        with self._lock:
            if row.get("session"):
                self._pending = [
                    kept
                    for kept in self._pending
                    if not (
                        kept.get("session") == row["session"]
                        and _same_typing(kept["query"], row["query"])
                        and row["queued"] - kept["queued"] < SETTLE_SECONDS
                    )
                ]
            self._pending.append(row)
            del self._pending[:-MAX_PENDING]

    def flush(self, store, settle=SETTLE_SECONDS):
        """Write the rows that have settled; returns how many were written.

        :raises StoreUnavailableError: when the store is away (the rows wait for the next flush).
        """
        now = time.monotonic()
        with self._lock:
            ready = [row for row in self._pending if now - row["queued"] >= settle]
            self._pending = [row for row in self._pending if now - row["queued"] < settle]
        if not ready:
            return 0
        try:
            store.log_searches(ready)
            return len(ready)
        except StoreUnavailableError:
            self._requeue(ready)
            raise
        except Exception:  # one row the store refuses: write the others one by one, drop it
            return self._one_by_one(store, ready)

    def _one_by_one(self, store, rows):
        written, refused = 0, []
        for position, row in enumerate(rows):
            try:
                store.log_searches([row])
                written += 1
            except StoreUnavailableError:
                self._requeue(rows[position:])
                raise
            except Exception as error:  # dropped: a search log row is never worth a stuck log
                refused.append(error)
        if refused:
            self.dropped += len(refused)
            self.last_error = type(refused[0]).__name__  # /healthz shows it to anyone: the text goes to the log
            log.warning("search log: dropped %d row(s) the store refused (%r)", len(refused), refused[0])
        return written

    def _requeue(self, rows):
        with self._lock:
            self._pending = rows + self._pending
            del self._pending[:-MAX_PENDING]

    def flush_quietly(self, store):
        """Flush as the follower does: a store away is remembered (``last_error``), never raised."""
        try:
            self.flush(store)
        except StoreUnavailableError:
            self.last_error = "the store is unreachable"

    def status(self):
        """Rows waiting, rows dropped since the start, and the last error, for ``/healthz``."""
        with self._lock:
            pending = len(self._pending)
        return {"pending": pending, "dropped": self.dropped, "last_error": self.last_error}
