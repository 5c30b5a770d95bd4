"""The store: validation, upsert, delete, the change feed and history (issue #2)."""

import pytest

from indexer.records import InvalidCallRecordError, public_record, validate_record
from indexer.store import CallNotFoundError


def record(call_id="C-1", **fields):
    return validate_record({"id": call_id, "title": "Printer offline", **fields})


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"title": "x"}, "field 'id' is required (a non-empty string)"),
        ({"id": "  ", "title": "x"}, "field 'id' is required (a non-empty string)"),
        ({"id": "a"}, "at least one of 'title' and 'problem' must be non-empty"),
        ({"id": "a", "title": "x" * 1001}, "field 'title' is 1,001 characters long; the limit is 1,000"),
        ({"id": "a", "problem": "x" * 100_001}, "field 'problem' is 100,001 characters long; the limit is 100,000"),
        ({"id": "a", "title": "x", "tags": "a,b", "resolved": "maybe"}, "field 'resolved' must be true or false"),
        ({"id": "a", "title": "x", "tags": [1, 2]}, "field 'tags' must be a list of strings"),
        ({"id": "a", "title": "x", "created_at": "yesterday"}, "field 'created_at' is not an ISO 8601 date: 'yesterday'"),
        ({"id": "a", "title": ["x"]}, "field 'title' must be a string"),
        (["not", "a", "dict"], "a call record must be a JSON object, not list"),
    ],
    ids=["no-id", "blank-id", "no-title-or-problem", "long-title", "long-problem", "bad-resolved",
         "tags-not-strings", "bad-date", "title-not-string", "not-an-object"],
)
def test_invalid_records_are_refused_with_a_message_naming_the_field(raw, message):
    with pytest.raises(InvalidCallRecordError) as error:
        validate_record(raw)
    assert str(error.value) == message


def test_unknown_fields_are_kept_as_extras_and_shown_beside_core_fields():
    clean = validate_record({"id": "a", "title": "x", "ticket_owner": "sam", "customer_id": "ACC-1"})
    assert clean["extra"] == {"customer_id": "ACC-1", "ticket_owner": "sam"}
    assert public_record(clean)["ticket_owner"] == "sam"


def test_tags_given_as_a_comma_separated_string_become_a_list():
    assert validate_record({"id": "a", "title": "x", "tags": "printer, offline,"})["tags"] == ["printer", "offline"]


def test_upsert_counts_inserted_updated_and_unchanged(store):
    first = store.upsert([record("C-1"), record("C-2")])
    assert (first.inserted, first.updated, first.unchanged) == (2, 0, 0)
    second = store.upsert([record("C-1"), record("C-2", title="Printer offline again")])
    assert (second.inserted, second.updated, second.unchanged) == (0, 1, 1)
    assert store.get("C-2")["title"] == "Printer offline again"


def test_every_write_gets_a_higher_sequence_number(store):
    first = store.upsert([record("C-1")]).latest_seq
    second = store.upsert([record("C-1", title="changed")]).latest_seq
    third = store.delete("C-1").latest_seq
    assert first < second < third
    assert store.changed_ids(0, third) == ["C-1"]


def test_update_keeps_the_history_of_what_changed(store):
    store.upsert([record("C-1")])
    store.upsert([record("C-1", title="Printer offline after update")], actor="agent-7")
    history = store.history("C-1")
    assert history[0]["actor"] == "agent-7"
    assert history[0]["changes"] == {"title": ["Printer offline", "Printer offline after update"]}


def test_delete_of_an_unknown_id_raises(store):
    with pytest.raises(CallNotFoundError):
        store.delete("missing")


def test_store_runs_in_wal_mode(store):
    assert store._db().journal_mode == "wal"


def test_iter_records_reads_everything_in_batches(store):
    store.upsert([record(f"C-{n:03}") for n in range(25)])
    assert [r["id"] for r in store.iter_records(batch_size=7)] == [f"C-{n:03}" for n in range(25)]
