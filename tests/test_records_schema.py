"""The call record declared once (store.models): strict types, the same limits as the document, the same clean record.

Issue #15: a number or null sent as a title was stored as "" or "0"; types are now refused, naming the field.
"""

import re

import pytest

from app.schemas import ECMA_NOT_BLANK
from engine.plan import is_blank
from store.cells import typed_cells
from store.models import ID_PATTERN, NOT_BLANK
from store.records import InvalidCallRecordError, content_hash, validate_record

# Every character str.strip() removes, NUL, and neighbours of both that are not white space.
EDGE_CHARACTERS = [chr(code) for code in [*range(0x00, 0x42), 0x7F, 0x85, 0xA0, 0x1680, *range(0x2000, 0x2030)]] + [
    "\u205f",
    "\u3000",
    "\ufeff",
    "é",
]


def refusal(raw):
    with pytest.raises(InvalidCallRecordError) as error:
        validate_record(raw)
    return str(error.value), error.value.field


@pytest.mark.parametrize(
    ("fields", "message", "field"),
    [
        ({"title": 42}, "field 'title' must be a string", "title"),
        ({"title": None}, "field 'title' must be a string", "title"),
        ({"title": True}, "field 'title' must be a string", "title"),
        ({"problem": 1.5}, "field 'problem' must be a string", "problem"),
        ({"id": ["C-1"]}, "field 'id' must be a string", "id"),
        ({"id": 7}, "field 'id' must be a string", "id"),
        ({"resolved": "yes"}, "field 'resolved' must be true or false", "resolved"),
        ({"resolved": 1}, "field 'resolved' must be true or false", "resolved"),
        ({"resolved": None}, "field 'resolved' must be true or false", "resolved"),
        ({"tags": "printer, offline"}, "field 'tags' must be a list of strings", "tags"),
        ({"tags": None}, "field 'tags' must be a list of strings", "tags"),
        ({"created_at": 20250302}, "field 'created_at' must be a string", "created_at"),
        ({"customer_id": 1001}, "field 'customer_id' must be a string", "customer_id"),
        ({"status": None}, "field 'status' must be one of open, pending, resolved", "status"),
        ({"status": "Pending"}, "field 'status' must be one of open, pending, resolved", "status"),
        ({"status": ""}, "field 'status' must be one of open, pending, resolved", "status"),
        ({"extra": None}, "field 'extra' must be a JSON object", "extra"),
        ({"extra": ["a"]}, "field 'extra' must be a JSON object", "extra"),
    ],
    ids=[
        "number-title",
        "null-title",
        "bool-title",
        "number-problem",
        "list-id",
        "number-id",
        "word-resolved",
        "number-resolved",
        "null-resolved",
        "string-tags",
        "null-tags",
        "number-date",
        "number-customer",
        "null-status",
        "capitalised-status",
        "empty-status",
        "null-extra",
        "list-extra",
    ],
)
def test_wrong_types_are_refused_naming_the_field_not_converted(fields, message, field):
    assert refusal({"id": "C-1", "title": "Printer offline", **fields}) == (message, field)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"title": " " + "x" * 1000}, "field 'title' is 1,001 characters long; the limit is 1,000"),
        ({"id": "C" * 199 + "  "}, "field 'id' is longer than 200 characters"),
        ({"tags": ["a"] * 50 + [""]}, "field 'tags' has 51 tags; the limit is 50"),
    ],
    ids=["title-with-spaces", "id-with-spaces", "tags-with-an-empty-one"],
)
def test_limits_apply_to_the_value_as_sent_as_the_document_says(fields, message):
    assert refusal({"id": "C-1", "title": "x", **fields})[0] == message


def test_clean_record_and_its_hash_are_what_they_were_before_the_models():
    """An unchanged re-import must still count as unchanged: same shape, same digest (issue #15)."""
    raw = {
        "id": " C-9 ",
        "title": "Wi-Fi drops\x00",
        "problem": "Laptop loses Wi-Fi",
        "resolution": "New driver",
        "product": "ThinkPad",
        "category": "network",
        "tags": [" wifi ", "driver", ""],
        "created_at": "2025-03-02T10:14:00Z",
        "customer_id": "ACC-1",
        "status": "pending",
        "ticket_owner": "sam",
        "severity": 2,
    }
    record = validate_record(raw)
    assert record == {
        "id": "C-9",
        "title": "Wi-Fi drops",
        "problem": "Laptop loses Wi-Fi",
        "resolution": "New driver",
        "product": "ThinkPad",
        "category": "network",
        "tags": ["wifi", "driver"],
        "created_at": "2025-03-02T10:14:00Z",
        "resolved": False,
        "extra": {"customer_id": "ACC-1", "severity": 2, "status": "pending", "ticket_owner": "sam"},
    }
    assert content_hash(record) == "7d56ea137ac3fb5fdf0f6068be0fe9e84ec6e5a69cd6c79b138609058a0d9647"


def test_nested_extra_and_unknown_fields_are_kept_together():
    record = validate_record({"id": "C-1", "title": "x", "extra": {"owner": "sam", "site": "Leeds"}, "site": "York"})
    assert record["extra"] == {"owner": "sam", "site": "York"}


def test_text_cells_become_typed_values_before_the_model_sees_them():
    cells = {"id": "C-1", "title": "x", "tags": "printer, offline,", "resolved": " No ", "status": "Pending"}
    assert typed_cells(cells) == {
        "id": "C-1",
        "title": "x",
        "tags": ["printer", "offline"],
        "resolved": False,
        "status": "pending",
    }


def test_an_unreadable_yes_no_cell_stays_text_and_the_model_refuses_it():
    assert refusal(typed_cells({"id": "C-1", "title": "x", "resolved": "maybe"})) == (
        "field 'resolved' must be true or false",
        "resolved",
    )


@pytest.mark.parametrize("character", EDGE_CHARACTERS, ids=[f"U+{ord(c):04X}" for c in EDGE_CHARACTERS])
def test_blank_in_the_document_is_blank_in_validation(character):
    """The patterns are spelled for both regex dialects; Python's own strip() and is_blank() are the reference."""
    assert (re.search(NOT_BLANK, character) is not None) == bool(character.replace("\x00", "").strip())
    for call_id in (character, f"{character}C-1{character}"):
        trimmed = call_id.strip()
        assert (re.search(ID_PATTERN, call_id) is not None) == (trimmed != "" and min(map(ord, trimmed)) >= 0x20)
    assert (re.search(ECMA_NOT_BLANK, character) is not None) == (not is_blank(character))
