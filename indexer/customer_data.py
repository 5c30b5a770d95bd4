"""Everything held about one customer, and erasing it (issue #18): ``python -m indexer customer export|erase ID``.

Export gives the customer record with its edit history, every call whose ``customer_id`` is theirs (with each
call's history) and every promised follow-up. Erase removes the record, its history and lookup keys and the
follow-ups, the notifications sent or queued for them (``rules.customer_notices``, with their delivery log), and
rewrites their calls anonymised in one store transaction: the customer's id and name leave the
call, e-mail addresses and phone numbers in its text are masked and their name's words become ``[customer]``;
the problem and its resolution stay, searchable. Each call's edit history (which held the old values) is
replaced by one ``anonymise`` entry, and the change feed brings every index in step.
"""

import json
import re
import sys

import click

from analyzers.names import name_tokens
from rules.webhook import escalated_call
from store.contacts import mask_contacts
from store.records import CUSTOMER_FIELDS, public_record

MIN_NAME_WORD = 3
PLACEHOLDER = "[customer]"


class CustomerNotHeldError(LookupError):
    """Nothing is held about this customer: no record and no call."""


def customer_dossier(store, customer_id):
    """Everything the store holds about one customer.

    :returns: ``{"customer", "customer_history", "calls", "follow_ups"}``; each call has its ``history``.
    :raises CustomerNotHeldError: when there is no record and no call of theirs.
    """
    record = store.get_customer(customer_id)
    calls = store.calls_of_customer(customer_id)
    if record is None and not calls:
        raise CustomerNotHeldError(customer_id)
    call_ids = {call["id"] for call in calls}
    follow_ups = {f["id"]: f for f in store.follow_ups(customer_id=customer_id, limit=100_000)}
    for call_id in call_ids:
        follow_ups.update({f["id"]: f for f in store.follow_ups(call_id=call_id, limit=100_000)})
    return {
        "customer": record,
        "customer_history": store.customer_history(customer_id),
        "calls": [{**public_record(call), "history": store.history(call["id"])} for call in calls],
        "follow_ups": sorted(follow_ups.values(), key=lambda f: (f["created_at"], f["id"])),
    }


def _name_pattern(record, calls):
    names = [record["name"]] if record else []
    names += [call["extra"].get("customer_name") or "" for call in calls]
    words = sorted({token for name in names for token in name_tokens(name) if len(token) >= MIN_NAME_WORD}, key=len)
    if not words:
        return None
    return re.compile(r"\b(?:" + "|".join(re.escape(word) for word in reversed(words)) + r")\b", re.IGNORECASE)


def _clean_text(text, pattern, organisation):
    text = mask_contacts(text)
    if organisation:
        text = re.sub(re.escape(organisation), PLACEHOLDER, text, flags=re.IGNORECASE)
    text = pattern.sub(PLACEHOLDER, text) if pattern else text
    return re.sub(r"\[customer\](?:\s+\[customer\])+", PLACEHOLDER, text)  # "[customer] [customer]": one


def anonymised(call, pattern, organisation=""):
    """A call without its customer: their fields gone, contact details and name masked in every text.

    :param call: a clean call record.
    :param pattern: a regular expression of the customer's name words (or None).
    :param organisation: the customer's organisation as written, masked whole.
    :returns: a new clean record.
    """

    def clean(value):
        if isinstance(value, str):
            return _clean_text(value, pattern, organisation)
        if isinstance(value, list):
            return [clean(item) for item in value]
        if isinstance(value, dict):
            return {key: clean(item) for key, item in value.items()}
        return value

    extra = {key: value for key, value in call["extra"].items() if key not in ("customer_id", "customer_name")}
    kept = {key: value for key, value in extra.items() if key in CUSTOMER_FIELDS}
    others = {key: clean(value) for key, value in extra.items() if key not in CUSTOMER_FIELDS}
    texts = {key: clean(call[key]) for key in ("title", "problem", "resolution", "tags")}
    return {**call, **texts, "extra": {**others, **kept}}


def erase_customer_data(store, customer_id):
    """Erase a customer (see module docstring).

    :returns: ``(number of calls anonymised, the change sequence number written)``.
    :raises CustomerNotHeldError: when nothing is held about them.
    """
    record = store.get_customer(customer_id)
    calls = store.calls_of_customer(customer_id)
    if record is None and not calls:
        raise CustomerNotHeldError(customer_id)
    pattern = _name_pattern(record, calls)
    organisation = (record or {}).get("organisation", "")
    rewritten = [anonymised(call, pattern, organisation) for call in calls]
    by_id = {call["id"]: escalated_call(call) for call in rewritten}

    def without_customer(payload):
        escalated = payload.get("escalated")
        if not isinstance(escalated, list):
            return None
        calls = [by_id.get(call.get("id"), call) if isinstance(call, dict) else call for call in escalated]
        return {**payload, "escalated": calls}

    return len(rewritten), store.erase_customer(customer_id, rewritten, rewrite_message=without_customer)


@click.group("customer")
def customer_group():
    """Everything held about one customer: export it, or erase it."""


@customer_group.command("export")
@click.argument("customer_id")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write to this file instead of the screen.")
def customer_export(customer_id, output):
    """Print everything held about one customer as JSON: record, history, calls, follow-ups."""
    from indexer.cli import knowledge_base

    with knowledge_base() as kb:
        try:
            dossier = customer_dossier(kb.store, customer_id)
        except CustomerNotHeldError:
            raise click.ClickException(f"nothing is held about customer {customer_id}") from None
    text = json.dumps(dossier, ensure_ascii=False, indent=2) + "\n"
    if output:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text)
        click.echo(f"wrote customer {customer_id}: {len(dossier['calls'])} calls to {output}", err=True)
    else:
        sys.stdout.write(text)


@customer_group.command("erase")
@click.argument("customer_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def customer_erase(customer_id, yes):
    """Remove the customer's record and anonymise their calls (resolutions stay searchable)."""
    from indexer.cli import bring_index_in_step, knowledge_base

    if not yes:
        click.confirm(f"Erase customer {customer_id} and anonymise their calls? This cannot be undone", abort=True)
    with knowledge_base() as kb:
        try:
            count, _ = erase_customer_data(kb.store, customer_id)
        except CustomerNotHeldError:
            raise click.ClickException(f"nothing is held about customer {customer_id}") from None
        bring_index_in_step(kb, count)
    click.echo(f"erased customer {customer_id}; anonymised {count} calls")
