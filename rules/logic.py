"""What the service rules do to calls: key-account priority on every write, escalation by age."""

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone

from rules.customer_messages import DEFAULT_MESSAGES
from rules.customer_notices import customer_notice, customers_of
from rules.webhook import escalation_message, log_escalations
from store.records import PRIORITIES, status_of
from store.rewrite import rewrite_fields


def raised_priority(record, rules):
    """The key-account priority a key account's call must be raised to, or None (never lowered).

    :param record: a clean record.
    :param rules: the :class:`Rules` in force.
    """
    extra = record["extra"]
    if extra.get("customer_id") in rules.key_customers or record["product"] in rules.key_products:
        if PRIORITIES.index(extra.get("priority") or "normal") < PRIORITIES.index(rules.key_priority):
            return rules.key_priority
    return None


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


def apply_on_write_with_key_accounts(records, rules, store):
    """:func:`apply_on_write` with the store's key accounts among the records' customers added to ``rules``.

    :param records: clean records, changed in place.
    :param store: a store with ``key_account_ids``.
    :returns: the records.
    """
    customer_ids = {record["extra"].get("customer_id") for record in records}
    return apply_on_write(records, with_key_accounts(rules, store, customer_ids))


def apply_on_write(records, rules):
    """Raise key accounts' calls to the key-account priority (never lower one); the same on every write path.

    :param records: clean records, changed in place.
    :param rules: the :class:`Rules` in force.
    :returns: the records.
    """
    for record in records:
        raised = raised_priority(record, rules)
        if raised:
            record["extra"]["priority"] = raised
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
    # Calls edited again and again while the rules ran: left for the next run.
    left: list = field(default_factory=list)


def rules_changes(record, rules, now, stamp):
    """The fields the rules own that they change on a stored call: ``priority`` and ``escalated_at``.

    :param record: a clean record as stored now.
    :param now: the time ageing is measured at; ``stamp`` is it as ISO 8601 text.
    :returns: a dict of the fields to set (empty when the rules leave the call alone).
    """
    if status_of(record) == "resolved":
        return {}
    changes = {}
    raised = raised_priority(record, rules)
    if raised:
        changes["priority"] = raised
    if overdue({**record, "extra": {**record["extra"], **changes}}, rules, now):
        changes["escalated_at"] = stamp
    return changes


def escalation_notices(written, rules, customers, messages):
    """The outbox messages about escalated calls: the ``[notify]`` webhook's, and each customer's.

    :param written: ``(record as written, fields set)`` pairs of one write.
    :param customers: customer records by id; ``messages``: the customer message templates by change.
    :returns: a list of ``OutboxMessage`` (None where there is no webhook).
    """
    escalated = [record for record, changes in written if "escalated_at" in changes]
    notices = [escalation_message(escalated, rules)]
    if rules.customer_webhook:
        for record in escalated:
            if record["extra"].get("customer_id"):
                customer = customers.get(record["extra"]["customer_id"])
                stamp = record["extra"]["escalated_at"]
                notices.append(customer_notice(record, "escalated", customer, rules.customer_webhook, messages, stamp))
    return notices


def apply_rules(store, rules, now=None, messages=None):
    """Apply the rules to every open or pending call: key-account priority, then ageing.

    Safe to run any number of times and while agents edit calls: a call is escalated once, unchanged
    calls are not written, and only the two fields the rules own are set, by compare-and-set against
    the version read (``store.rewrite``): a call edited meanwhile is read and decided again. The
    webhook's notification of the escalations, and each escalated call's customer's
    (``[notify_customer]``), are written to the outbox in the same transaction as they are.

    :param store: the ``CallStore``.
    :param rules: the :class:`Rules` in force.
    :param now: the time ageing is measured at (default: now, UTC).
    :param messages: what customers are told, by change (``rules.customer_messages``; default: the shipped ones).
    :returns: a :class:`RulesOutcome`.
    """
    now = now or datetime.now(timezone.utc)
    stamp = now.isoformat(timespec="seconds").replace("+00:00", "Z")
    rules = with_key_accounts(rules, store)

    def decide(record):
        return rules_changes(record, rules, now, stamp)

    outcome = RulesOutcome()
    candidates = [(record, version) for record, version in store.iter_versioned() if decide(record)]
    customers = customers_of(store, [record for record, _ in candidates], rules.customer_webhook)

    def announce(written):
        return escalation_notices(written, rules, customers, messages or DEFAULT_MESSAGES)

    written, outcome.left = rewrite_fields(store, candidates, decide, actor="rules", announce=announce)
    for record, changes in written:
        if "priority" in changes:
            outcome.reprioritized.append(record["id"])
        if "escalated_at" in changes:
            outcome.escalated.append(record)
    log_escalations(outcome.escalated, rules)
    return outcome
