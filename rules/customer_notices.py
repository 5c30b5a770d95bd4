"""Telling customers about their calls: an outbox message for each change of status, to ``[notify_customer]``.

A call's customer hears when it is opened, set pending (with its ``pending_reason``), resolved (or opened again)
and escalated. A write through the web service or the API (``app.services.Services.write``) and the escalations
of ``apply-rules`` (``rules.logic``) hand :func:`customer_notices` to the store's write, so each message is
committed with the change it announces and compares with the call as stored before, inside the transaction
(``WriteSummary.previous``). Imports (``python -m indexer import``) tell nobody: a file of past calls is history,
not news, and a customer must not get a message for every call of theirs a migration brings in. Deleting a call
tells nobody either. A call without a ``customer_id`` has nobody to tell.

The payload carries the customer's contact (name, e-mails, phones), the call's id and title, the new status and
the message from ``customer_messages.toml`` (``rules.customer_messages``); the outbox names the call and the
customer, so the call's page lists what was sent and erasing the customer removes it. Nothing of it is logged.
"""

import hashlib

from rules.customer_messages import DEFAULT_MESSAGES, render_message
from store.outbox import OutboxMessage
from store.records import status_of

KIND = "customer-status"
# The change a customer hears about when a call takes each status.
CHANGE_OF_STATUS = {"open": "opened", "pending": "pending", "resolved": "resolved"}


def status_changes(previous, record):
    """What a customer hears about between the call as stored and as written, in order.

    :param previous: the clean record as stored before (None: a new call).
    :param record: the clean record written.
    :returns: a list of changes among ``opened``, ``pending``, ``resolved`` and ``escalated``.
    """
    changes = []
    status = status_of(record)
    if previous is None or status_of(previous) != status:
        changes.append(CHANGE_OF_STATUS.get(status, status))
    if record["extra"].get("escalated_at") and not (previous or {"extra": {}})["extra"].get("escalated_at"):
        changes.append("escalated")
    return changes


def customer_contact(record, customer):
    """How the customer of a call can be reached: their record's name, e-mails and phones (the call's name
    when they have no record).

    :param customer: the customer record (``store.customers``), or None.
    """
    customer = customer or {}
    return {
        "customer_id": record["extra"]["customer_id"],
        "name": customer.get("name") or record["extra"].get("customer_name") or "",
        "emails": list(customer.get("emails") or []),
        "phones": list(customer.get("phones") or []),
    }


def customer_notice(record, change, customer, webhook, messages, stamp):
    """The outbox message telling a call's customer about one change.

    :param record: the clean record as written (with ``extra.customer_id``).
    :param change: ``opened``, ``pending``, ``resolved`` or ``escalated``.
    :param customer: the customer record, or None.
    :param webhook: the ``[notify_customer]`` URL.
    :param messages: the templates by change (``rules.customer_messages``).
    :param stamp: what makes this change of this call unique (the version written, or the escalation's time):
        the same change enqueued twice is one message.
    :returns: an :class:`OutboxMessage`.
    """
    contact = customer_contact(record, customer)
    values = {
        "name": contact["name"] or "customer",
        "call_id": record["id"],
        "title": record["title"],
        "status": change,
        "reason": record["extra"].get("pending_reason") or "",
    }
    text = render_message(messages.get(change, DEFAULT_MESSAGES[change]), values)
    digest = hashlib.sha256(f"{record['id']}\n{change}\n{stamp}".encode()).hexdigest()[:32]
    payload = {"contact": contact, "call_id": record["id"], "title": record["title"], "status": change}
    if change == "pending":
        payload["reason"] = values["reason"]
    payload["message"] = text
    return OutboxMessage(f"{KIND}-{digest}", KIND, webhook, payload, record["id"], contact["customer_id"])


def customer_notices(records, customers, webhook, messages):
    """A function of a write's ``WriteSummary`` giving the messages for the calls it wrote (``messages=`` of
    ``CallStore.upsert``).

    :param records: the clean records of the write.
    :param customers: customer records by id, for the records' customers (read before the write).
    :param webhook: the ``[notify_customer]`` URL ("": nobody is told, the function gives nothing).
    :param messages: the templates by change.
    """
    written = {record["id"]: record for record in records}

    def notices(summary):
        if not webhook:
            return []
        found = []
        for call_id in dict.fromkeys(summary.written_ids):
            record = written[call_id]
            if not record["extra"].get("customer_id"):
                continue
            for change in status_changes(summary.previous.get(call_id), record):
                stamp = record["extra"]["escalated_at"] if change == "escalated" else summary.versions[call_id]
                customer = customers.get(record["extra"]["customer_id"])
                found.append(customer_notice(record, change, customer, webhook, messages, stamp))
        return found

    return notices


def customers_of(store, records, webhook):
    """The customer records of these calls' customers, by id (none read when there is no webhook).

    :param store: a store with ``get_customers``.
    """
    if not webhook:
        return {}
    ids = [r["extra"].get("customer_id") for r in records if isinstance(r["extra"].get("customer_id"), str)]
    return store.get_customers([cid for cid in ids if cid]) if ids else {}
