"""A call record as the store keeps it: validated by ``store.models.CallInput``, flattened for display.

The clean record's shape is what the stores write and what ``content_hash`` digests, so it must not change:
the core fields, then ``extra`` holding the customer fields and every unknown field, keys sorted.
"""

import hashlib
import json

from pydantic import ValidationError

from store.models import MAX_TEXT_CHARS, PRIORITIES, STATUSES, CallInput
from store.validation import field_problems

__all__ = [
    "CORE_FIELDS",
    "CUSTOMER_FIELDS",
    "PRIORITIES",
    "STATUSES",
    "InvalidCallRecordError",
    "content_hash",
    "public_record",
    "status_of",
    "validate_record",
]

CORE_FIELDS = ("id", "title", "problem", "resolution", "product", "category", "tags", "created_at", "resolved")
CUSTOMER_FIELDS = ("customer_id", "customer_name", "status", "priority", "opened_at", "resolved_at", "channel")


class InvalidCallRecordError(ValueError):
    """A call record breaks a rule; ``field`` names the offending field (or None)."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


def validate_record(raw):
    """Check a raw mapping against the call-record rules and return the clean record.

    Types are strict: a number or ``null`` where a string belongs is refused, never converted (text formats
    such as CSV turn their cells into typed values first, see ``store.cells``). Unknown fields are kept under
    ``extra``; nothing the caller sent is dropped.

    :param raw: a mapping, e.g. one JSON object, or a CSV row after ``store.cells.typed_cells``.
    :returns: a dict with every core field plus ``extra`` (a dict).
    :raises InvalidCallRecordError: naming the first field that breaks a rule.
    """
    if not isinstance(raw, dict):
        raise InvalidCallRecordError(f"a call record must be a JSON object, not {type(raw).__name__}")
    try:
        call = CallInput.model_validate(raw)
    except ValidationError as error:
        first = field_problems(error, CallInput)[0]
        raise InvalidCallRecordError(first.message, first.field) from None
    record = {field: getattr(call, field) for field in CORE_FIELDS}
    if call.status:
        record["resolved"] = call.status == "resolved"
    record["extra"] = _extras(raw, call)
    return record


def _extras(raw, call):
    extra = dict(call.model_extra)
    for name in CUSTOMER_FIELDS:
        if name in raw:
            # A customer field cleaned to nothing keeps its value as sent, as it always did (same content hash).
            extra[name] = getattr(call, name) or raw[name]
    extra = {**call.extra, **extra}
    encoded_extra = json.dumps(extra, ensure_ascii=False, sort_keys=True, default=str)
    if len(encoded_extra) > MAX_TEXT_CHARS:
        raise InvalidCallRecordError(f"extra fields take more than {MAX_TEXT_CHARS:,} characters", "extra")
    return json.loads(encoded_extra)


def status_of(record):
    """A record's status: its own, or what ``resolved`` means (true: resolved, false: open)."""
    return (record.get("extra") or {}).get("status") or ("resolved" if record["resolved"] else "open")


def content_hash(record):
    """A stable digest of a clean record, to tell an unchanged re-import from an update.

    :param record: a record returned by :func:`validate_record`.
    :returns: a hex string.
    """
    encoded = json.dumps(record, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def public_record(record):
    """The record as the API and export show it: core fields, extras folded back in.

    :param record: a clean record with an ``extra`` dict.
    :returns: a flat dict whose extra fields sit beside the core ones.
    """
    flat = {field: record[field] for field in CORE_FIELDS}
    for key, value in (record.get("extra") or {}).items():
        flat.setdefault(key, value)
    return flat
