"""The store: validation, upsert, delete, the change feed and history (issue #2)."""

import pytest
from postgres import postgres_server, postgres_store, postgres_url  # noqa: F401 (fixtures)

from indexer.context import open_knowledge_base
from store.base import CallNotFoundError
from store.records import InvalidCallRecordError, public_record, validate_record


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request, store):
    """Every store test runs against the embedded SQLite store and against PostgreSQL (issue #8)."""
    if request.param == "sqlite":
        return store
    return request.getfixturevalue("postgres_store")


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
        ({"id": "a", "title": "x", "tags": ["a", "b"], "resolved": "maybe"}, "field 'resolved' must be true or false"),
        ({"id": "a", "title": "x", "tags": [1, 2]}, "field 'tags' must be a list of strings"),
        (
            {"id": "a", "title": "x", "created_at": "yesterday"},
            "field 'created_at' is not an ISO 8601 date: 'yesterday'",
        ),
        ({"id": "a", "title": ["x"]}, "field 'title' must be a string"),
        (["not", "a", "dict"], "a call record must be a JSON object, not list"),
    ],
    ids=[
        "no-id",
        "blank-id",
        "no-title-or-problem",
        "long-title",
        "long-problem",
        "bad-resolved",
        "tags-not-strings",
        "bad-date",
        "title-not-string",
        "not-an-object",
    ],
)
def test_invalid_records_are_refused_with_a_message_naming_the_field(raw, message):
    with pytest.raises(InvalidCallRecordError) as error:
        validate_record(raw)
    assert str(error.value) == message


def test_unknown_fields_are_kept_as_extras_and_shown_beside_core_fields():
    clean = validate_record({"id": "a", "title": "x", "ticket_owner": "sam", "customer_id": "ACC-1"})
    assert clean["extra"] == {"customer_id": "ACC-1", "ticket_owner": "sam"}
    assert public_record(clean)["ticket_owner"] == "sam"


def test_tags_are_kept_trimmed_without_empty_ones():
    assert validate_record({"id": "a", "title": "x", "tags": [" printer", "offline ", " "]})["tags"] == [
        "printer",
        "offline",
    ]


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


def test_sqlite_store_runs_in_wal_mode(data_folder):
    kb = open_knowledge_base(overrides={"KB_DATA_DIR": str(data_folder), "KB_DATABASE_URL": ""}, environ={})
    try:
        assert kb.store._db().journal_mode == "wal"
    finally:
        kb.close()


def test_iter_records_reads_everything_in_batches(store):
    store.upsert([record(f"C-{n:03}") for n in range(25)])
    assert [r["id"] for r in store.iter_records(batch_size=7)] == [f"C-{n:03}" for n in range(25)]


def test_get_many_and_content_hashes_cover_every_stored_call(store):
    store.upsert([record("C-1"), record("C-2", problem="Paper jam")])
    assert sorted(store.get_many(["C-1", "C-2", "missing"])) == ["C-1", "C-2"]
    assert store.get_many(["C-2"])["C-2"]["problem"] == "Paper jam"
    assert sorted(store.content_hashes()) == ["C-1", "C-2"]
    assert store.count() == 2


def test_record_round_trips_every_field_and_extra(store):
    raw = {
        "id": "C-9",
        "title": "Wi-Fi drops",
        "problem": "Laptop loses Wi-Fi",
        "resolution": "New driver",
        "product": "ThinkPad",
        "category": "network",
        "tags": ["wifi", "driver"],
        "created_at": "2025-03-02T10:14:00Z",
        "resolved": False,
        "ticket_owner": "sam",
        "severity": 2,
    }
    store.upsert([validate_record(raw)])
    assert store.get("C-9") == validate_record(raw)
    assert store.get("missing") is None


def test_delete_enters_the_feed_and_the_history(store):
    store.upsert([record("C-1"), record("C-2")])
    before = store.latest_seq()
    summary = store.delete("C-1", actor="agent-3")
    assert (summary.deleted, summary.written_ids) == (1, ["C-1"])
    assert store.changed_ids(before, summary.latest_seq) == ["C-1"]
    assert store.get("C-1") is None
    assert [(h["op"], h["actor"], h["changes"]["title"]) for h in store.history("C-1")] == [
        ("delete", "agent-3", "Printer offline")
    ]


def test_unchanged_records_leave_the_feed_alone(store):
    store.upsert([record("C-1")])
    before = store.latest_seq()
    summary = store.upsert([record("C-1")])
    assert (summary.unchanged, summary.latest_seq, store.latest_seq()) == (1, before, before)


def test_a_record_repeated_in_one_batch_is_written_once_per_change(store):
    summary = store.upsert([record("C-1"), record("C-1"), record("C-1", title="second")])
    assert (summary.inserted, summary.updated, summary.unchanged) == (1, 1, 1)
    assert store.get("C-1")["title"] == "second"
    assert store.history("C-1")[0]["changes"] == {"title": ["Printer offline", "second"]}


def test_changed_ids_lists_each_call_once_in_order_of_its_last_change(store):
    first = store.upsert([record("C-1"), record("C-2")]).latest_seq
    store.upsert([record("C-1", title="again")])
    latest = store.upsert([record("C-3")]).latest_seq
    assert store.changed_ids(0, latest) == ["C-2", "C-1", "C-3"]
    assert store.changed_ids(first, latest) == ["C-1", "C-3"]


def test_keys_are_created_checked_listed_and_revoked(store):
    key_id, secret = store.create_key("write", name="crm")
    assert store.role_of_key(secret) == "write"
    assert store.role_of_key("kb_write_not-a-key") is None
    assert [(k["id"], k["role"], k["name"], k["revoked_at"]) for k in store.list_keys()] == [
        (key_id, "write", "crm", "")
    ]
    assert store.revoke_key(key_id) is True
    assert store.revoke_key(key_id) is False
    assert store.role_of_key(secret) is None


def test_migrate_twice_keeps_every_record(store):
    store.upsert([record("C-1")])
    store.migrate()
    assert (store.count(), store.get("C-1")["title"]) == (1, "Printer offline")


def test_search_log_feedback_and_proposals_read_back_alike_in_every_store(store):
    from store.analytics import SearchAnalytics

    store.upsert([record("C-1")])
    store.log_searches(
        [
            {
                "search_id": "s1",
                "at": "2025-05-01T10:00:00.000Z",
                "query": "Printer",
                "results": 3,
                "took_ms": 12.5,
                "session": "a",
                "top_ids": ["C-1"],
            },
            {
                "search_id": "s2",
                "at": "2025-05-01T10:01:00.000Z",
                "query": "printer",
                "results": 0,
                "took_ms": 2.25,
                "session": "a",
            },
        ]
    )
    store.add_feedback("C-1", "printer", "api", "2025-05-01T10:02:00.000Z", search_id="s1", session="a")
    with pytest.raises(CallNotFoundError):
        store.add_feedback("missing", "printer", "api", "2025-05-01T10:02:00.000Z")
    store.propose_synonym("prnter", "printer", "2025-05-01T10:03:00.000Z")
    store.propose_synonym("prnter", "printer", "2025-05-01T10:04:00.000Z")
    assert store.decide_proposal("prnter", "printer", "accepted", "lead", "2025-05-01T11:00:00.000Z") is True
    assert store.feedback_for("C-1") == [{"query": "printer", "at": "2025-05-01T10:02:00.000Z", "source": "api"}]
    assert store.feedback_marker() == (1, "2025-05-01T10:02:00.000Z")
    assert [r["search_id"] for r in store.searches_of_session("a", "2025-05-01")] == ["s1", "s2"]
    assert [(p["status"], p["seen"]) for p in store.proposals()] == [("accepted", 2)]
    analytics = SearchAnalytics(store)
    assert analytics.top_queries("2025-05-01", "2025-05-02") == [
        {"query": "printer", "searches": 2, "avg_results": 1.5}
    ]
    assert analytics.summary("2025-05-01", "2025-05-02") == {
        "searches": 2,
        "zero_results": 1,
        "solved": 1,
        "solved_share": 0.5,
    }
    assert analytics.per_day("2025-05-01", "2025-05-02") == [
        {"day": "2025-05-01", "searches": 2, "zero_results": 1, "solved": 1}
    ]
