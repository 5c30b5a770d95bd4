"""What the service rules do to calls: key-account priority on every write, escalation by age."""

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone

from rules.webhook import escalation_message, log_escalations
from store.records import PRIORITIES, status_of


def with_key_accounts(rules, store, customer_ids=None):
    """The rules with the store's key-account customers added to the rules file's (issue #18).

    :param store: a store with ``key_account_ids`` (customer records).
    :param customer_ids: only these customers matter (the ones of the calls being written), or None for all.
    :returns: a :class:`Rules`.
    """
    ids = None if customer_ids is None else [cid for cid in customer_ids if isinstance(cid, str) and cid]
    if ids == []:
        return rules
    return replace(rules, key_customers=rules.key_customers | store.key_account_ids(ids))


def apply_on_write(records, rules):
    """Raise key accounts' calls to the key-account priority (never lower one); the same on every write path.

    :param records: clean records, changed in place.
    :param rules: the :class:`Rules` in force.
    :returns: the records.
    """
    floor = PRIORITIES.index(rules.key_priority)
    for record in records:
        extra = record["extra"]
        if extra.get("customer_id") in rules.key_customers or record["product"] in rules.key_products:
            current = extra.get("priority") or "normal"
            if PRIORITIES.index(current) < floor:
                extra["priority"] = rules.key_priority
    return records


def overdue(record, rules, now):
    """Whether an open or pending call has waited longer than its priority allows and is not escalated yet."""
    extra = record["extra"]
    if status_of(record) == "resolved" or extra.get("escalated_at"):
        return False
    limit = rules.escalation_hours.get(extra.get("priority") or "normal")
    opened = extra.get("opened_at") or record["created_at"]
    if not limit or not opened:
        return False
    try:
        opened_at = datetime.fromisoformat(opened.replace("Z", "+00:00"))
    except ValueError:
        return False
    if opened_at.tzinfo is None:
        opened_at = opened_at.replace(tzinfo=timezone.utc)
    return now - opened_at > timedelta(hours=limit)


@dataclass
class RulesOutcome:
    """What one run of the rules over the store changed."""

    reprioritized: list = field(default_factory=list)
    escalated: list = field(default_factory=list)


def apply_rules(store, rules, now=None):
    """Apply the rules to every open or pending call: key-account priority, then ageing.

    Safe to run any number of times: a call is escalated once, and unchanged calls are not written. The
    webhook's notification of the escalations is written to the outbox in the same transaction.

    :param store: the ``CallStore``.
    :param rules: the :class:`Rules` in force.
    :param now: the time ageing is measured at (default: now, UTC).
    :returns: a :class:`RulesOutcome`.
    """
    now = now or datetime.now(timezone.utc)
    stamp = now.isoformat(timespec="seconds").replace("+00:00", "Z")
    rules = with_key_accounts(rules, store)
    outcome, changed = RulesOutcome(), []
    for record in store.iter_records():
        if status_of(record) == "resolved":
            continue
        before = record["extra"].get("priority")
        apply_on_write([record], rules)
        touched = record["extra"].get("priority") != before
        if touched:
            outcome.reprioritized.append(record["id"])
        if overdue(record, rules, now):
            record["extra"]["escalated_at"] = stamp
            outcome.escalated.append(record)
            touched = True
        if touched:
            changed.append(record)
    message = escalation_message(outcome.escalated, rules)
    if changed:
        store.upsert(changed, actor="rules", messages=[message] if message else [])
    log_escalations(outcome.escalated, rules)
    return outcome
