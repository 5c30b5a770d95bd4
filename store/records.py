"""What a call record is: its fields, their limits, and how a raw mapping becomes one."""

import hashlib
import json
from datetime import datetime

MAX_TITLE_CHARS = 1_000
MAX_TEXT_CHARS = 100_000
MAX_ID_CHARS = 200
MAX_SHORT_CHARS = 200
MAX_TAGS = 50

TEXT_FIELDS = ("problem", "resolution")
SHORT_FIELDS = ("product", "category")
CORE_FIELDS = ("id", "title", "problem", "resolution", "product", "category", "tags", "created_at", "resolved")
STATUSES = ("open", "pending", "resolved")
PRIORITIES = ("low", "normal", "high", "urgent")
CUSTOMER_DATES = ("opened_at", "resolved_at")


class InvalidCallRecordError(ValueError):
    """A call record breaks a rule; ``field`` names the offending field (or None)."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


def _text(raw, field, limit):
    value = raw.get(field)
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise InvalidCallRecordError(f"field '{field}' must be a string", field)
    value = value.replace("\x00", "").strip()
    if len(value) > limit:
        raise InvalidCallRecordError(
            f"field '{field}' is {len(value):,} characters long; the limit is {limit:,}", field
        )
    return value


def _tags(raw):
    value = raw.get("tags")
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        raise InvalidCallRecordError("field 'tags' must be a list of strings", "tags")
    tags = [tag.strip() for tag in value if tag.strip()]
    if len(tags) > MAX_TAGS:
        raise InvalidCallRecordError(f"field 'tags' has {len(tags)} tags; the limit is {MAX_TAGS}", "tags")
    if any(len(tag) > MAX_SHORT_CHARS for tag in tags):
        raise InvalidCallRecordError(f"a tag in 'tags' is longer than {MAX_SHORT_CHARS} characters", "tags")
    return tags


def _created_at(raw):
    value = raw.get("created_at")
    if value is None or value == "":
        return ""
    if not isinstance(value, str):
        raise InvalidCallRecordError("field 'created_at' must be an ISO 8601 date string", "created_at")
    try:
        datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidCallRecordError(
            f"field 'created_at' is not an ISO 8601 date: {value[:40]!r}", "created_at"
        ) from None
    return value.strip()


def _date(raw, field):
    value = raw.get(field)
    if value is None or value == "":
        return ""
    if not isinstance(value, str):
        raise InvalidCallRecordError(f"field '{field}' must be an ISO 8601 date string", field)
    try:
        datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidCallRecordError(f"field '{field}' is not an ISO 8601 date: {value[:40]!r}", field) from None
    return value.strip()


def _choice(raw, field, allowed):
    value = raw.get(field)
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or value.strip().lower() not in allowed:
        raise InvalidCallRecordError(f"field '{field}' must be one of {', '.join(allowed)}", field)
    return value.strip().lower()


def _customer_fields(raw, record):
    """Validate the optional customer fields (issue #9); they are kept with the extras."""
    fields = {
        "customer_id": _text(raw, "customer_id", MAX_SHORT_CHARS),
        "customer_name": _text(raw, "customer_name", MAX_SHORT_CHARS),
        "status": _choice(raw, "status", STATUSES),
        "priority": _choice(raw, "priority", PRIORITIES),
        **{field: _date(raw, field) for field in CUSTOMER_DATES},
    }
    if fields["status"]:
        if (
            "resolved" in raw
            and raw["resolved"] not in (None, "")
            and record["resolved"] != (fields["status"] == "resolved")
        ):
            raise InvalidCallRecordError(
                f"field 'resolved' ({str(record['resolved']).lower()}) contradicts 'status' ({fields['status']})",
                "resolved",
            )
        record["resolved"] = fields["status"] == "resolved"
    return {key: value for key, value in fields.items() if value}


def status_of(record):
    """A record's status: its own, or what ``resolved`` means (true: resolved, false: open)."""
    return (record.get("extra") or {}).get("status") or ("resolved" if record["resolved"] else "open")


def _resolved(raw):
    value = raw.get("resolved", True)
    if value is None or value == "":
        return True
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.strip().lower() in ("true", "1", "yes")
    raise InvalidCallRecordError("field 'resolved' must be true or false", "resolved")


def _call_id(raw):
    value = raw.get("id")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise InvalidCallRecordError("field 'id' is required (a non-empty string)", "id")
    value = value.strip()
    if len(value) > MAX_ID_CHARS:
        raise InvalidCallRecordError(f"field 'id' is longer than {MAX_ID_CHARS} characters", "id")
    if any(ord(char) < 32 for char in value):
        raise InvalidCallRecordError("field 'id' must not contain control characters", "id")
    return value


def validate_record(raw):
    """Check a raw mapping against the call-record rules and return the clean record.

    Unknown fields are kept under ``extra``; nothing the caller sent is dropped.

    :param raw: a mapping, e.g. one JSON object or CSV row.
    :returns: a dict with every core field plus ``extra`` (a dict).
    :raises InvalidCallRecordError: naming the first field that breaks a rule.
    """
    if not isinstance(raw, dict):
        raise InvalidCallRecordError(f"a call record must be a JSON object, not {type(raw).__name__}")
    record = {
        "id": _call_id(raw),
        "title": _text(raw, "title", MAX_TITLE_CHARS),
        "problem": _text(raw, "problem", MAX_TEXT_CHARS),
        "resolution": _text(raw, "resolution", MAX_TEXT_CHARS),
        "product": _text(raw, "product", MAX_SHORT_CHARS),
        "category": _text(raw, "category", MAX_SHORT_CHARS),
        "tags": _tags(raw),
        "created_at": _created_at(raw),
        "resolved": _resolved(raw),
    }
    if not record["title"] and not record["problem"]:
        raise InvalidCallRecordError("at least one of 'title' and 'problem' must be non-empty", "title")
    customer = _customer_fields(raw, record)
    extra = {key: value for key, value in raw.items() if key not in CORE_FIELDS and key != "extra"}
    extra.update(customer)
    nested_extra = raw.get("extra")
    if isinstance(nested_extra, dict):
        extra = {**nested_extra, **extra}
    elif nested_extra not in (None, ""):
        raise InvalidCallRecordError("field 'extra' must be a JSON object", "extra")
    encoded_extra = json.dumps(extra, ensure_ascii=False, sort_keys=True, default=str)
    if len(encoded_extra) > MAX_TEXT_CHARS:
        raise InvalidCallRecordError(f"extra fields take more than {MAX_TEXT_CHARS:,} characters", "extra")
    record["extra"] = json.loads(encoded_extra)
    return record


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
