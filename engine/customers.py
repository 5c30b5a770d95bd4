"""A customer's calls as the index holds them, for the caller panel and the customers API."""

from index.schema import NO_VALUE
from store.models import CHANNELS

# The fields of a customer's calls shown beside the search (page and customers API).
CUSTOMER_CALL_FIELDS = (
    "id",
    "title",
    "problem",
    "resolution",
    "product",
    "category",
    "created_at",
    "status",
    "priority",
    "opened_at",
    "escalated_at",
    "customer_name",
    "channel",
)


def products_of(searcher, customer_id):
    """The products a customer has called about (from the index).

    :param searcher: a Whoosh searcher over the call index.
    :param customer_id: the account the caller gave.
    :returns: a set of product names.
    """
    return {fields["product"] for fields in searcher.documents(customer_id=customer_id)} - {NO_VALUE}


def customer_calls(searcher, customer_id):
    """A customer's calls: open and pending first (oldest first), then past ones (newest first).

    :param searcher: a Whoosh searcher over the call index.
    :param customer_id: the account or phone number the caller gives.
    :returns: a list of stored call fields.
    """
    calls = [dict(fields) for fields in searcher.documents(customer_id=customer_id)]
    still_open = sorted((c for c in calls if c.get("status") != "resolved"), key=lambda c: c.get("opened_at") or "")
    past = sorted(
        (c for c in calls if c.get("status") == "resolved"), key=lambda c: c.get("created_at") or "", reverse=True
    )
    return still_open + past


def contact_time(call):
    """When a call's contact happened: when it was opened, else created (ISO 8601 text)."""
    return call.get("opened_at") or call.get("created_at") or ""


def customer_context(searcher, customer_id):
    """A customer's calls as the agents' page and the customers API show them.

    :param searcher: a Whoosh searcher over the call index.
    :param customer_id: the account the caller gave.
    :returns: ``{"customer_id", "customer_name", "open", "past", "timeline", "last_contact"}``; each call has the
        ``CUSTOMER_CALL_FIELDS``; ``timeline`` is every call of every channel, newest first; ``last_contact``
        the time of the newest call on each channel, by channel (calls without a channel left out).
    """
    calls = [] if customer_id == NO_VALUE else customer_calls(searcher, customer_id)
    shown = [{name: call.get(name, "") for name in CUSTOMER_CALL_FIELDS} for call in calls]
    timeline = sorted(shown, key=lambda call: (contact_time(call), call["id"]), reverse=True)
    last_contact = {}
    for call in timeline:
        if call["channel"] in CHANNELS:
            last_contact.setdefault(call["channel"], contact_time(call))
    return {
        "customer_id": customer_id,
        "customer_name": next((call["customer_name"] for call in shown if call["customer_name"]), ""),
        "open": [call for call in shown if call["status"] != "resolved"],
        "past": [call for call in shown if call["status"] == "resolved"],
        "timeline": timeline,
        "last_contact": {channel: last_contact[channel] for channel in CHANNELS if channel in last_contact},
    }
