"""Escalating promised follow-ups left overdue (issue #18, ``[follow_ups] escalate_after_minutes``).

An escalation is a mark and a log line: ``escalated_at`` is set on the follow-up, compare-and-set, so a promise
kept meanwhile is left alone and one escalated by another run is not escalated twice. Announcing it elsewhere
(a webhook, the customer) is for the notification outbox of issue #17: the escalated follow-ups this returns are
what such an announcement needs, and :func:`escalate_follow_ups` is where it plugs in.
"""

import logging
from datetime import datetime, timedelta, timezone

from store.follow_ups import utc_stamp

log = logging.getLogger(__name__)


def escalate_follow_ups(store, rules, now=None):
    """Mark every promise still open ``escalate_after_minutes`` after its due time as escalated, and log each.

    :param store: a store with the ``store.follow_ups`` methods.
    :param rules: the :class:`rules.parse.Rules` in force (no ``[follow_ups]`` section: nothing is escalated).
    :param now: the moment the delay is measured at (default: now, UTC).
    :returns: the follow-ups escalated by this run, as the API shows them (with ``escalated_at``).
    """
    after = rules.follow_up_escalate_after_minutes
    if after is None:
        return []
    now = now or datetime.now(timezone.utc)
    overdue = store.overdue_unescalated(utc_stamp(now - timedelta(minutes=after)))
    stamp = utc_stamp(now)
    marked = set(store.mark_follow_ups_escalated([follow_up["id"] for follow_up in overdue], stamp))
    escalated = [{**follow_up, "escalated_at": stamp} for follow_up in overdue if follow_up["id"] in marked]
    for follow_up in escalated:
        if rules.notify_log:
            # The promise's own words stay out of the log: they may hold the customer's details.
            log.warning(
                "escalated follow-up %s on call %s (owner %s, due %s)",
                follow_up["id"],
                follow_up["call_id"],
                follow_up["owner"].replace("\n", " ")[:100],
                follow_up["due_at"],
            )
    return escalated
