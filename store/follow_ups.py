"""Promised follow-ups (issue #18): what an agent promised a customer on a call, by when, and who owns it.

The model (``FollowUpBody``) validates a promise as the API and the page send it; the mixin keeps promises in
the store in portable SQL (``_rows`` and ``_transaction``, as ``store.customers``). Times are kept as UTC text
to the second (``2026-11-26T14:30:00Z``), so "due before now" is a comparison of text in every store.
A promise is ``due`` until its time, then ``overdue`` until someone marks it ``done``; the rules may mark an
overdue one escalated (``escalated_at``), compare-and-set, once.
"""

import re
import secrets
from datetime import datetime, timezone
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo

from store.models import NOT_BLANK, bounded_text
from store.validation import Messages, rule_error

STATES = ("due", "overdue", "done")
MAX_WHAT_CHARS = 1_000
MAX_OWNER_CHARS = 100
FOLLOW_UP_TABLES = (
    "CREATE TABLE IF NOT EXISTS follow_ups (id TEXT PRIMARY KEY, call_id TEXT NOT NULL, customer_id TEXT NOT NULL,"
    " what TEXT NOT NULL, due_at TEXT NOT NULL, owner TEXT NOT NULL, created_at TEXT NOT NULL,"
    " created_by TEXT NOT NULL, done_at TEXT NOT NULL, done_by TEXT NOT NULL, escalated_at TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS follow_ups_open ON follow_ups (done_at, due_at)",
    "CREATE INDEX IF NOT EXISTS follow_ups_customer ON follow_ups (customer_id)",
    "CREATE INDEX IF NOT EXISTS follow_ups_call ON follow_ups (call_id)",
)
COLUMNS = ("id", "call_id", "customer_id", "what", "due_at", "owner", "created_at", "created_by", "done_at", "done_by")


def utc_stamp(moment=None):
    """A moment as the follow-ups keep it: UTC to the second, e.g. ``2026-11-26T14:30:00Z``."""
    moment = moment or datetime.now(timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _due_time(value, info: ValidationInfo):
    # RFC 3339 allows a lower-case t and z, and a leap second (:60), which Python does not read: read them as
    # T, Z and :59.
    text = re.sub(r"(T\d\d:\d\d):60", r"\1:59", value.strip().upper()).replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)  # a time without offset is UTC, as the document says
        return utc_stamp(moment)
    except (ValueError, OverflowError):  # not a time, or before year 1 or after 9999 once in UTC
        raise rule_error(
            "due_at", f"field 'due_at' must be a date and time such as 2026-11-26T14:30:00Z, not {value[:40]!r}"
        ) from None


class FollowUpBody(BaseModel):
    """A promise made to the customer on a call: what, by when, and whose it is."""

    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        regex_engine="python-re",
        json_schema_extra={
            "examples": [{"what": "Call back once the part arrives", "due_at": "2026-11-26T14:30:00Z", "owner": "sam"}]
        },
    )

    what: Annotated[
        bounded_text(MAX_WHAT_CHARS, "What was promised."),
        Field(pattern=NOT_BLANK),
        Messages(missing="'what' is required: what was promised", string_pattern_mismatch="'what' must not be blank"),
    ]
    due_at: Annotated[
        str,
        Field(max_length=64, json_schema_extra={"format": "date-time"}, description="When; without offset: UTC."),
        Messages(missing="'due_at' is required: when the promise is due"),
        AfterValidator(_due_time),
    ]
    owner: Annotated[
        bounded_text(MAX_OWNER_CHARS, "The agent who keeps it."),
        Field(pattern=NOT_BLANK),
        Messages(
            missing="'owner' is required: who keeps the promise", string_pattern_mismatch="'owner' must not be blank"
        ),
    ]


def state_of(row, now):
    """``done``, ``overdue`` or ``due`` for a stored promise at ``now`` (a :func:`utc_stamp`)."""
    if row["done_at"]:
        return "done"
    return "overdue" if row["due_at"] < now else "due"


def _shown(row, now):
    return {**{name: row[name] for name in COLUMNS}, "escalated_at": row["escalated_at"], "state": state_of(row, now)}


class FollowUpStore:
    """Promised follow-ups (see module docstring)."""

    def add_follow_up(self, call_id, customer_id, promise, actor):
        """Keep a promise made on a call.

        :param promise: a validated :class:`FollowUpBody`.
        :returns: the stored follow-up as the API shows it.
        """
        now = utc_stamp()
        row = {
            "id": "FU-" + secrets.token_hex(6),
            "call_id": call_id,
            "customer_id": customer_id or "",
            "what": promise.what,
            "due_at": promise.due_at,
            "owner": promise.owner,
            "created_at": now,
            "created_by": actor,
            "done_at": "",
            "done_by": "",
            "escalated_at": "",
        }
        names = list(row)
        sql = f"INSERT INTO follow_ups ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
        self._transaction(lambda tx: tx.run(sql, tuple(row[name] for name in names)))
        return _shown(row, now)

    def follow_up(self, follow_up_id, now=None):
        """One follow-up by id, or None."""
        rows = self._rows("SELECT * FROM follow_ups WHERE id = ?", (follow_up_id,))
        return _shown(rows[0], now or utc_stamp()) if rows else None

    def follow_ups(self, state=None, owner="", customer_id="", call_id="", now=None, limit=200):
        """Promises in one state (or all), for one owner, customer or call if given; soonest due first.

        :param state: ``due``, ``overdue``, ``done`` or None for every one.
        :param now: the moment that tells due from overdue (a :func:`utc_stamp`; default: now).
        """
        now = now or utc_stamp()
        where, params = [], []
        if state == "done":
            where.append("done_at <> ''")
        elif state in ("due", "overdue"):
            where.append("done_at = '' AND " + ("due_at >= ?" if state == "due" else "due_at < ?"))
            params.append(now)
        for column, value in (("owner", owner), ("customer_id", customer_id), ("call_id", call_id)):
            if value:
                where.append(f"{column} = ?")
                params.append(value)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        order = "done_at DESC" if state == "done" else "due_at, id"
        rows = self._rows(f"SELECT * FROM follow_ups{clause} ORDER BY {order} LIMIT ?", (*params, limit))
        return [_shown(row, now) for row in rows]

    def mark_follow_up_done(self, follow_up_id, actor):
        """Mark a promise kept; marking it again changes nothing.

        :returns: the follow-up, or None when the id is unknown.
        """
        self._transaction(
            lambda tx: tx.run(
                "UPDATE follow_ups SET done_at = ?, done_by = ? WHERE id = ? AND done_at = ''",
                (utc_stamp(), actor, follow_up_id),
            )
        )
        return self.follow_up(follow_up_id)

    def overdue_unescalated(self, before):
        """Open promises due before ``before`` (a :func:`utc_stamp`) that no one has escalated yet."""
        rows = self._rows(
            "SELECT * FROM follow_ups WHERE done_at = '' AND escalated_at = '' AND due_at < ? ORDER BY due_at, id",
            (before,),
        )
        return [_shown(row, utc_stamp()) for row in rows]

    def mark_follow_ups_escalated(self, follow_up_ids, at):
        """Mark promises escalated, compare-and-set: one still open and not escalated yet, in one transaction.

        :returns: the ids this call marked (a promise done or escalated meanwhile is left alone).
        """

        def work(tx):
            marked = []
            for follow_up_id in follow_up_ids:
                changed = tx.run(
                    "UPDATE follow_ups SET escalated_at = ? WHERE id = ? AND escalated_at = '' AND done_at = ''",
                    (at, follow_up_id),
                )
                if changed == 1:
                    marked.append(follow_up_id)
            return marked

        return self._transaction(work) if follow_up_ids else []
