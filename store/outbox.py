"""The outbox: notifications written in the same transaction as the change that causes them.

A general mechanism, not an escalation one: a message has a ``kind`` (``escalation``, and whatever later
features need), the URL to POST it to, a JSON payload, and an id that is its idempotency key (the same on
every attempt, so a receiver can drop repeats: delivery is at least once). A store's write method takes
messages and inserts them with :data:`ENQUEUE` inside its own transaction; a worker (``notify.delivery``)
claims the due ones, POSTs them and records each outcome here, with the next attempt's time after a failure.

A mixin for every store, as ``store.loop``: portable SQL through ``_rows`` and ``_run``; times are ISO 8601
text in UTC, which sorts as time.
"""

import json
import secrets
from dataclasses import dataclass

OUTBOX_TABLE = (
    "CREATE TABLE IF NOT EXISTS outbox (id TEXT PRIMARY KEY, kind TEXT NOT NULL, url TEXT NOT NULL,"
    " payload TEXT NOT NULL, created_at TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
    " next_attempt_at TEXT NOT NULL, delivered_at TEXT NOT NULL DEFAULT '', last_error TEXT NOT NULL DEFAULT '',"
    " claim TEXT NOT NULL DEFAULT '', claimed_until TEXT NOT NULL DEFAULT '')"
)
OUTBOX_INDEXES = (
    "CREATE INDEX IF NOT EXISTS outbox_due ON outbox (delivered_at, next_attempt_at)",
    "CREATE INDEX IF NOT EXISTS outbox_created ON outbox (created_at)",
)
# A message already in the outbox (the same idempotency key) is not added twice.
ENQUEUE = (
    "INSERT INTO outbox (id, kind, url, payload, created_at, attempts, next_attempt_at)"
    " VALUES (?, ?, ?, ?, ?, 0, ?) ON CONFLICT (id) DO NOTHING"
)
_COLUMNS = "id, kind, url, payload, created_at, attempts, next_attempt_at, delivered_at, last_error"


@dataclass(frozen=True)
class OutboxMessage:
    """One notification to send: its idempotency key, kind, destination and JSON payload (a dict)."""

    id: str
    kind: str
    url: str
    payload: dict

    def body(self):
        """The payload as the JSON text sent on every attempt, carrying the idempotency key and kind."""
        return json.dumps({**self.payload, "idempotency_key": self.id, "kind": self.kind}, ensure_ascii=False)


def enqueue_params(message, now):
    """The parameters of :data:`ENQUEUE` for one message, due at once.

    :param message: an :class:`OutboxMessage`.
    :param now: the time of the transaction (ISO 8601 text).
    """
    return (message.id, message.kind, message.url, message.body(), now, now)


def messages_for(messages, summary):
    """The messages a write enqueues: ``messages`` itself, or, when it is a function, what it gives for the write.

    :param messages: a sequence of :class:`OutboxMessage`, or a function of the write's ``WriteSummary`` (known
        only inside the write's transaction: which calls were written and which met a newer version).
    :param summary: that ``WriteSummary``.
    """
    return [message for message in (messages(summary) if callable(messages) else messages) if message is not None]


class OutboxStore:
    """Claiming due messages, recording outcomes, listing them for team leads (see module docstring)."""

    def _outbox_schema_statements(self):
        return [(sql, ()) for sql in (OUTBOX_TABLE, *OUTBOX_INDEXES)]

    def enqueue(self, messages, now):
        """Add messages on their own (a change that causes them passes them to its write method instead)."""
        self._run([(ENQUEUE, enqueue_params(message, now)) for message in messages])

    def claim_due(self, now, lease_until, max_attempts, limit=20):
        """Claim up to ``limit`` due, undelivered messages for one worker until ``lease_until``.

        Two workers never hold the same message at once; one that dies leaves it to others after the lease.

        :returns: a list of dicts with the outbox columns, oldest first.
        """
        claim = secrets.token_hex(8)
        due = "delivered_at = '' AND attempts < ? AND next_attempt_at <= ? AND claimed_until <= ?"
        self._run(
            [
                (
                    f"UPDATE outbox SET claim = ?, claimed_until = ? WHERE {due} AND id IN"
                    f" (SELECT id FROM outbox WHERE {due} ORDER BY next_attempt_at, created_at LIMIT ?)",
                    (claim, lease_until, max_attempts, now, now, max_attempts, now, now, limit),
                )
            ]
        )
        return self._rows(f"SELECT {_COLUMNS} FROM outbox WHERE claim = ? ORDER BY created_at, id", (claim,))

    def mark_delivered(self, message_id, at):
        """Record a delivery (the attempt counts)."""
        self._run(
            [
                (
                    "UPDATE outbox SET delivered_at = ?, attempts = attempts + 1, last_error = '', claim = '',"
                    " claimed_until = '' WHERE id = ?",
                    (at, message_id),
                )
            ]
        )

    def mark_failed(self, message_id, error, next_attempt_at):
        """Record a failed attempt and when to try again."""
        self._run(
            [
                (
                    "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, claim = '',"
                    " claimed_until = '' WHERE id = ?",
                    (error[:500], next_attempt_at, message_id),
                )
            ]
        )

    def outbox_messages(self, limit=100, kind=None):
        """The most recent messages, newest first, for team leads (payload included as JSON text)."""
        where, params = ("WHERE kind = ?", (kind,)) if kind else ("", ())
        return self._rows(
            f"SELECT {_COLUMNS} FROM outbox {where} ORDER BY created_at DESC, id LIMIT ?", (*params, limit)
        )
