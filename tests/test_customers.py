"""Customer records in the store (issue #18): validated once, kept with their history in SQLite and PostgreSQL,
found by account, phone, e-mail and name, and stores made before customers existed upgraded on start."""

import sqlite3
from datetime import datetime, timezone

import pytest
from postgres import postgres_server, postgres_store, postgres_url  # noqa: F401 (fixtures)

from engine.callers import find_callers
from store.customer_models import InvalidCustomerRecordError, local_time, validate_customer
from store.sqlite import SqliteCallStore

JOHN = {
    "id": "ACC-1",
    "name": "John Smith",
    "organisation": "Harbour Dental Ltd",
    "phones": ["020 7946 0958"],
    "emails": [" John.Smith@Harbour.example "],
    "time_zone": "Europe/London",
    "products": [{"name": "Netgear Nighthawk R7000", "version": "V1.0.11"}],
    "key_account": True,
}
PEOPLE = [
    JOHN,
    {"id": "ACC-2", "name": "Catherine MacDonald", "organisation": "Maple & Rye Bakery"},
    {"id": "ACC-3", "name": "Jan Smart"},
    {"id": "ACC-4", "name": "Jon Smith", "phones": ["+1 415 555 0132"]},
    {"id": "ACC-5", "name": "Tom Richardson"},
]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_store(request, tmp_path):
    """A migrated store of each kind."""
    if request.param == "sqlite":
        store = SqliteCallStore(tmp_path / "calls.db")
        store.migrate()
        yield store
        store.close()
    else:
        yield request.getfixturevalue("postgres_store")


def test_a_clean_customer_keeps_one_form_of_each_contact():
    record = validate_customer({**JOHN, "phones": ["020 7946 0958", "00442079460958"]}, "GB")
    assert record["phones"] == ["+442079460958"]
    assert record["emails"] == ["john.smith@harbour.example"]
    assert record["products"] == [{"name": "Netgear Nighthawk R7000", "version": "V1.0.11", "serial": ""}]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"phone": "020"}, "phone", "field 'phone' is not a field of a customer record"),
        ({"name": "", "organisation": ""}, "name", "at least one of 'name' and 'organisation' must be non-empty"),
        (
            {"time_zone": "Mars/Olympus"},
            "time_zone",
            "field 'time_zone' must be an IANA time zone name such as Europe/London, not 'Mars/Olympus'",
        ),
        (
            {"phones": ["12"]},
            "phones",
            "field 'phones' holds '12', which is not a phone number in GB (give it with its country code, e.g. "
            "+44 20 7946 0958)",
        ),
        ({"phones": "020 7946 0958"}, "phones", "field 'phones' must be a list of strings"),
        (
            {"emails": ["john at harbour"]},
            "emails",
            "field 'emails' holds 'john at harbour', which is not an e-mail address",
        ),
        ({"products": [{"version": "2"}]}, "products", "a product in 'products' needs a 'name'"),
        ({"key_account": "yes"}, "key_account", "field 'key_account' must be true or false"),
        ({"id": 7}, "id", "field 'id' must be a string"),
    ],
    ids=[
        "unknown-field",
        "no-name",
        "bad-zone",
        "short-number",
        "phones-not-list",
        "bad-email",
        "nameless-product",
        "key-account-text",
        "id-number",
    ],
)
def test_a_bad_customer_is_refused_naming_the_field(fields, field, message):
    with pytest.raises(InvalidCustomerRecordError) as error:
        validate_customer({**JOHN, **fields}, "GB")
    assert (error.value.field, str(error.value)) == (field, message)


@pytest.mark.parametrize(
    ("zone", "moment", "expected"),
    [
        ("Europe/London", "2026-07-01T12:00:00+00:00", ("2026-07-01T13:00+01:00", "+01:00", "Wed 13:00")),
        ("Europe/London", "2026-12-01T12:00:00+00:00", ("2026-12-01T12:00+00:00", "+00:00", "Tue 12:00")),
        ("Asia/Kolkata", "2026-12-01T12:00:00+00:00", ("2026-12-01T17:30+05:30", "+05:30", "Tue 17:30")),
        ("America/New_York", "2026-03-08T06:59:00+00:00", ("2026-03-08T01:59-05:00", "-05:00", "Sun 01:59")),
        ("America/New_York", "2026-03-08T07:00:00+00:00", ("2026-03-08T03:00-04:00", "-04:00", "Sun 03:00")),
        ("Pacific/Chatham", "2026-12-01T12:00:00+00:00", ("2026-12-02T01:45+13:45", "+13:45", "Wed 01:45")),
    ],
    ids=["london-summer", "london-winter", "half-hour-offset", "before-dst-starts", "after-dst-starts", "next-day"],
)
def test_local_time_where_the_customer_is(zone, moment, expected):
    shown = local_time(zone, datetime.fromisoformat(moment))
    assert (shown["local_time"], shown["utc_offset"], shown["display"], shown["time_zone"]) == (*expected, zone)


def test_no_local_time_without_a_known_zone():
    assert (local_time("", None), local_time("Nowhere/Else", None)) == (None, None)


def test_customers_are_written_once_and_their_edits_kept_in_history(any_store):
    record = validate_customer(JOHN, "GB")
    assert any_store.upsert_customers([record], actor="sam")["inserted"] == 1
    assert any_store.upsert_customers([record], actor="sam")["unchanged"] == 1
    assert any_store.upsert_customers([{**record, "notes": "Prefers e-mail"}], actor="kim")["updated"] == 1
    stored = any_store.get_customer("ACC-1")
    assert (stored["notes"], stored["phones"], stored["created_at"] <= stored["updated_at"]) == (
        "Prefers e-mail",
        ["+442079460958"],
        True,
    )
    history = any_store.customer_history("ACC-1")
    assert [(h["actor"], h["op"], h["changes"]) for h in history] == [
        ("sam", "create", {}),
        ("kim", "update", {"notes": ["", "Prefers e-mail"]}),
    ]
    assert (any_store.key_account_ids(), any_store.count_customers()) == (frozenset({"ACC-1"}), 1)


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("ACC-2", [("ACC-2", "account", "ACC-2")]),
        ("acc-2", [("ACC-2", "account", "ACC-2")]),
        ("+44 20 7946 0958", [("ACC-1", "phone", "+44 20 7946 0958")]),
        ("020 7946 0958", [("ACC-1", "phone", "+44 20 7946 0958")]),
        ("00442079460958", [("ACC-1", "phone", "+44 20 7946 0958")]),
        ("JOHN.SMITH@harbour.example", [("ACC-1", "email", "john.smith@harbour.example")]),
        ("john smith", [("ACC-1", "name", "John Smith"), ("ACC-4", "sounds-like", "Jon Smith")]),
        ("jon smyth", [("ACC-4", "sounds-like", "Jon Smith"), ("ACC-1", "sounds-like", "John Smith")]),
        ("katherine mcdonald", [("ACC-2", "sounds-like", "Catherine MacDonald")]),
        ("harbour dental", [("ACC-1", "name", "Harbour Dental Ltd")]),
        ("richard", []),
        ("tim smart", []),
    ],
    ids=[
        "account",
        "account-any-case",
        "phone-international",
        "phone-national",
        "phone-00",
        "email",
        "name-exact-first",
        "name-as-heard",
        "mac-and-k",
        "organisation",
        "not-a-suffix",
        "not-another-vowel",
    ],
)
def test_the_caller_is_found_from_whatever_they_give(any_store, typed, found):
    any_store.upsert_customers([validate_customer(person, "GB") for person in PEOPLE])
    results = find_callers(any_store, typed, "GB")
    assert [(r["customer"]["id"], r["how"], r["matched"]) for r in results] == found


def test_a_store_made_before_customers_is_upgraded_on_start(tmp_path):
    path = tmp_path / "calls.db"
    old = sqlite3.connect(path)
    old.execute(
        "CREATE TABLE search_log (search_id TEXT PRIMARY KEY, at TEXT NOT NULL, query TEXT NOT NULL, product TEXT,"
        " category TEXT, results INTEGER NOT NULL, took_ms REAL NOT NULL, session TEXT, channel TEXT, top_ids TEXT)"
    )
    old.execute("INSERT INTO search_log VALUES ('s1', '2026-01-01T00:00:00Z', 'vpn', '', '', 1, 2.0, '', 'api', '[]')")
    old.commit()
    old.close()
    store = SqliteCallStore(path)
    store.migrate()
    tables = {row["name"] for row in store._rows("SELECT name FROM sqlite_master WHERE type = 'table'", ())}
    assert {"customers", "customer_keys", "customer_history", "follow_ups"} <= tables
    assert store._rows("SELECT query, contact_channel FROM search_log", ()) == [
        {"query": "vpn", "contact_channel": None}
    ]
    store.upsert_customers([validate_customer(JOHN, "GB")])
    assert store.get_customer("ACC-1")["name"] == "John Smith"
    store.close()


@pytest.mark.postgres
def test_a_postgres_store_made_before_customers_gets_the_new_column(postgres_store):
    postgres_store._run([("ALTER TABLE search_log DROP COLUMN contact_channel", ())])
    postgres_store.migrate()
    now = datetime.now(timezone.utc).isoformat()
    postgres_store.log_searches(
        [{"search_id": "s1", "at": now, "query": "vpn", "results": 1, "took_ms": 1.0, "contact_channel": "chat"}]
    )
    assert postgres_store._rows("SELECT contact_channel FROM search_log", ()) == [{"contact_channel": "chat"}]


def test_promises_and_erasing_work_alike_in_every_store(any_store):
    from indexer.customer_data import erase_customer_data
    from store.follow_ups import FollowUpBody
    from store.records import validate_record

    any_store.upsert_customers([validate_customer(JOHN, "GB")])
    call = validate_record({"id": "C-1", "title": "John Smith: router drops", "customer_id": "ACC-1"})
    any_store.upsert([call])
    promise = FollowUpBody.model_validate({"what": "Ring back", "due_at": "2020-01-01T10:00:00Z", "owner": "sam"})
    made = any_store.add_follow_up("C-1", "ACC-1", promise, "sam")
    assert [f["id"] for f in any_store.overdue_unescalated("2020-01-01T10:30:00Z")] == [made["id"]]
    assert any_store.mark_follow_ups_escalated([made["id"]], "2020-01-01T10:31:00Z") == [made["id"]]
    assert any_store.mark_follow_ups_escalated([made["id"]], "2020-01-01T10:32:00Z") == []
    before = any_store.latest_seq()
    assert erase_customer_data(any_store, "ACC-1") == (1, before + 1)
    assert (any_store.get("C-1")["title"], any_store.get("C-1")["extra"]) == ("[customer]: router drops", {})
    assert any_store.changed_ids(before, before + 1) == ["C-1"]
    assert (any_store.get_customer("ACC-1"), any_store.follow_ups(), any_store.count_customers()) == (None, [], 0)
