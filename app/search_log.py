"""The search log buffer: searches are written in batches, and as-you-type prefixes collapse.

Search as you type sends a search per keystroke; logging each would fill the analytics with
"blu", "blue", "blue s". A row waits ``SETTLE_SECONDS`` and is dropped when the same browser
session searches again for a longer or shorter form of the same text in that time.
"""

import re
import threading
import time
import uuid

from store.base import utc_now
from store.contacts import mask_contacts

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

    def add(self, row):
        """Queue one logged search (a dict for ``store.log_searches``), collapsing typing prefixes."""
        row = {**row, "query": redact(row["query"]), "at": row.get("at") or utc_now(), "queued": time.monotonic()}
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
        """Write the rows that have settled; returns how many were written."""
        now = time.monotonic()
        with self._lock:
            ready = [row for row in self._pending if now - row["queued"] >= settle]
            self._pending = [row for row in self._pending if now - row["queued"] < settle]
        if ready:
            try:
                store.log_searches(ready)
            except Exception:
                with self._lock:
                    self._pending = ready + self._pending
                raise
        return len(ready)
