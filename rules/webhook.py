"""Announcing escalated calls: a log line each, and one outbox message for the rules file's webhook.

The message goes into the store with the escalation itself (``rules.logic.apply_rules`` passes it to the
store's write), so an escalation is never committed without its notification; ``notify.delivery`` sends it.
"""

import hashlib
import json
import logging

from store.outbox import OutboxMessage

log = logging.getLogger(__name__)
KIND = "escalation"


def printable(text, limit=None):
    """``text`` (cut to ``limit`` characters) with line breaks and other control characters shown as escapes.

    A title is typed by anyone who writes calls; in a log it must stay on its one line.
    """
    text = str(text or "")[:limit]
    return "".join(char if char.isprintable() else char.encode("unicode_escape").decode("ascii") for char in text)


def escalated_call(record):
    """How an escalation notice shows one call: its id, title and extra fields (the customer's among them)."""
    return {"id": record["id"], "title": record["title"], **record["extra"]}


def escalation_message(records, rules):
    """The outbox message announcing these escalated calls, or None (no webhook, or no calls).

    Its idempotency key is derived from the calls and their escalation times, so the same escalation is
    announced once however often it is enqueued.

    :param records: escalated clean records (``extra.escalated_at`` set).
    :param rules: the :class:`rules.parse.Rules` in force.
    :returns: an :class:`store.outbox.OutboxMessage` or None.
    """
    if not rules.webhook or not records:
        return None
    calls = [escalated_call(record) for record in records]
    stamp = json.dumps(sorted((c["id"], c.get("escalated_at", "")) for c in calls), ensure_ascii=False)
    key = f"{KIND}-" + hashlib.sha256(stamp.encode("utf-8")).hexdigest()[:32]
    return OutboxMessage(id=key, kind=KIND, url=rules.webhook, payload={"escalated": calls})


def log_escalations(records, rules):
    """One log line per escalated call, when the rules ask for it."""
    if not rules.notify_log:
        return
    for record in records:
        log.warning(
            "escalated %s (%s, %s priority, customer %s)",
            printable(record["id"]),
            printable(record["title"], 80),
            printable(record["extra"].get("priority", "normal")),
            printable(record["extra"].get("customer_id", "-")),
        )
