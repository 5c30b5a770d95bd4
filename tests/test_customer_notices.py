"""The status the customer hears about (issue #18, item 6): every change of a call's status queues one message
for the rules file's ``[notify_customer]`` webhook, committed with the change, delivered at least once with every
attempt logged, shown on the call's page, and gone when the customer is erased."""

import json
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest
from conftest import auth, settings_for
from postgres import postgres_server, postgres_store, postgres_url  # noqa: F401 (fixtures)
from receivers import Receiver

from app import create_app
from notify.delivery import DeliveryPolicy, deliver_due
from rules.customer_messages import CustomerMessagesError, CustomerMessagesFile, parse_customer_messages
from rules.customer_notices import customer_notices
from rules.parse import RulesFileError, parse_rules
from store.customer_models import validate_customer
from store.records import validate_record

HOOK = "http://127.0.0.1:9/customers"
CUSTOMER = {"id": "ACC-1", "name": "Ann Lee", "emails": ["ann@example.com"], "phones": ["+44 20 7946 0958"]}
CONTACT = {"customer_id": "ACC-1", "name": "Ann Lee", "emails": ["ann@example.com"], "phones": ["+442079460958"]}
FAST = DeliveryPolicy(retry_s=0, max_attempts=5, timeout_s=5)


def call(status, **more):
    return {"id": "C-1", "title": "Printer offline", "customer_id": "ACC-1", "status": status, **more}


@pytest.fixture
def notifying_client(data_folder):
    (data_folder / "rules.toml").write_text(f'[notify_customer]\nwebhook = "{HOOK}"\n')
    client = create_app(settings_for(data_folder, KB_OUTBOX_INTERVAL_S=0)).test_client()
    assert client.post("/api/v1/customers", json=CUSTOMER, headers=auth()).status_code == 201
    return client


def told(store):
    return [json.loads(message["payload"]) for message in store.messages_about_call("C-1")]


def test_each_change_of_status_queues_one_message_with_the_customers_contact(notifying_client, store):
    notifying_client.post("/api/v1/calls", json=call("open"), headers=auth())
    notifying_client.put("/api/v1/calls/C-1", json=call("open", problem="It says offline"), headers=auth())
    notifying_client.put("/api/v1/calls/C-1", json=call("pending", pending_reason="a new fuser"), headers=auth())
    notifying_client.put("/api/v1/calls/C-1", json=call("resolved"), headers=auth())
    payloads = told(store)
    assert [(p["status"], p["message"]) for p in payloads] == [
        ("opened", "Hello Ann Lee, we have opened call C-1 about: Printer offline."),
        ("pending", "Hello Ann Lee, call C-1 is waiting: a new fuser."),
        ("resolved", "Hello Ann Lee, call C-1 is resolved. Reply to reopen it if the problem comes back."),
    ]
    assert sorted(payloads[1]) == [
        "call_id",
        "contact",
        "idempotency_key",
        "kind",
        "message",
        "reason",
        "status",
        "title",
    ]
    assert (payloads[1]["contact"], payloads[1]["reason"], payloads[1]["kind"]) == (
        CONTACT,
        "a new fuser",
        "customer-status",
    )
    assert {m["url"] for m in store.messages_about_call("C-1")} == {HOOK}


def test_a_call_without_a_customer_or_a_rules_file_without_the_section_tells_nobody(data_folder, store):
    client = create_app(settings_for(data_folder, KB_OUTBOX_INTERVAL_S=0)).test_client()
    client.post("/api/v1/calls", json=call("open"), headers=auth())
    (data_folder / "rules.toml").write_text(f'[notify_customer]\nwebhook = "{HOOK}"\n')
    client.post("/api/v1/calls", json={"id": "C-2", "title": "No customer", "status": "open"}, headers=auth())
    assert store.outbox_messages() == []


def test_a_write_that_loses_its_compare_and_set_tells_nobody(notifying_client, store):
    notifying_client.post("/api/v1/calls", json=call("open"), headers=auth())
    stale = {**auth(), "If-Match": '"1"'}
    notifying_client.put("/api/v1/calls/C-1", json=call("pending", pending_reason="parts"), headers=auth())
    answer = notifying_client.put("/api/v1/calls/C-1", json=call("resolved"), headers=stale)
    assert (answer.status_code, [p["status"] for p in told(store)]) == (412, ["opened", "pending"])


def test_an_import_of_past_calls_tells_nobody(data_folder, store, runner, tmp_path):
    (data_folder / "rules.toml").write_text(f'[notify_customer]\nwebhook = "{HOOK}"\n')
    history = tmp_path / "calls.json"
    history.write_text(json.dumps([call("resolved"), {**call("open"), "id": "C-2"}]))
    result = runner("import", history)
    assert (result.exit_code, store.count(), store.outbox_messages()) == (0, 2, [])


def overdue_call():
    opened = (datetime.now(timezone.utc) - timedelta(hours=30)).isoformat(timespec="seconds").replace("+00:00", "Z")
    return validate_record({**call("open"), "opened_at": opened})


def test_apply_rules_tells_the_customer_their_call_was_escalated_once(data_folder, store, runner):
    (data_folder / "rules.toml").write_text(
        f'[escalation_hours]\nnormal = 24\n\n[notify_customer]\nwebhook = "{HOOK}"\n'
    )
    (data_folder / "customer_messages.toml").write_text('escalated = "{name}: {call_id} ({title}) went {status}."\n')
    store.upsert_customers([validate_customer(CUSTOMER)])
    store.upsert([overdue_call()])
    runs = [runner("apply-rules"), runner("apply-rules")]
    assert [run.exit_code for run in runs] == [0, 0]
    assert [(p["status"], p["message"], p["contact"]) for p in told(store)] == [
        ("escalated", "Ann Lee: C-1 (Printer offline) went escalated.", CONTACT)
    ]


def test_apply_rules_refuses_a_bad_messages_file_with_its_line_and_changes_nothing(data_folder, store, runner):
    (data_folder / "rules.toml").write_text("[escalation_hours]\nnormal = 24\n")
    (data_folder / "customer_messages.toml").write_text('opened = "Hi"\nresolved = "Bye {nam}"\n')
    store.upsert([overdue_call()])
    result = runner("apply-rules")
    assert (
        result.exit_code,
        "customer_messages.toml:2: 'resolved' has {nam}, which is no placeholder" in result.output,
    ) == (
        1,
        True,
    )
    assert ("escalated_at" in store.get("C-1")["extra"], store.outbox_messages()) == (False, [])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('opened = "Hi {name.__class__}"', "'opened' has {name.__class__}, which is no placeholder"),
        ('opened = "Hi {0}"', "'opened' has {0}, which is no placeholder"),
        ('opened = "Hi {"', "'opened' has {, which is no placeholder"),
        ('closed = "Bye"', "unknown message 'closed': use opened, pending, resolved, escalated"),
        ("pending = 3", "'pending' must be a line of text"),
        ("pending = ", "not valid TOML"),
    ],
    ids=["attribute", "position", "lone-brace", "unknown-change", "not-text", "bad-toml"],
)
def test_a_bad_messages_file_names_its_line(text, message):
    with pytest.raises(CustomerMessagesError) as raised:
        parse_customer_messages(f'resolved = "Bye {{{{call_id}}}}"\n{text}\n')
    assert (str(raised.value).startswith("customer_messages.toml:2: "), message in str(raised.value)) == (True, True)


def test_a_bad_messages_file_keeps_the_last_good_one_in_force(data_folder, caplog):
    path = data_folder / "customer_messages.toml"
    path.write_text('opened = "Welcome {name}"\n')
    assert CustomerMessagesFile(data_folder).current()["opened"] == "Welcome {name}"
    path.write_text('opened = "Welcome {nom}"\n')
    messages = CustomerMessagesFile(data_folder)
    assert (messages.current()["opened"], "the last good messages stay in force" in messages.error) == (
        "Welcome {name}",
        True,
    )
    assert "customer_messages.toml:1: 'opened' has {nom}" in caplog.text


def test_a_bad_customer_webhook_is_refused_naming_its_line():
    with pytest.raises(RulesFileError) as raised:
        parse_rules('[notify]\nlog = true\n\n[notify_customer]\nwebhook = "ftp://example.com/x"\n')
    assert str(raised.value) == "rules.toml:5: 'webhook' must be an http:// or https:// URL"


def test_every_attempt_is_logged_and_the_call_page_shows_what_was_said_and_when(notifying_client, store):
    with Receiver(500, 500, 200) as receiver:
        (store.path.parent / "rules.toml").write_text(f'[notify_customer]\nwebhook = "{receiver.url}/hook"\n')
        notifying_client.post("/api/v1/calls", json=call("open", title="<script>x</script>"), headers=auth())
        passes = [deliver_due(store, FAST) for _ in range(4)]
    assert [(len(p.delivered), len(p.failed)) for p in passes] == [(0, 1), (0, 1), (1, 0), (0, 0)]
    assert len({r.body for r in receiver.received}) == 1
    [message] = store.messages_about_call("C-1")
    log = message["attempts_log"]
    assert [(a["attempt"], a["http_status"]) for a in log] == [(1, 500), (2, 500), (3, 200)]
    assert [a["error"] for a in log] == [f"{receiver.url} answered 500 Internal Server Error"] * 2 + [""]
    assert (all(a["took_ms"] >= 0 for a in log), log[-1]["at"] == message["delivered_at"]) == (True, True)
    page = notifying_client.get("/calls/C-1").get_data(as_text=True)
    assert 'data-status="opened" data-state="delivered"' in page
    assert "about: &lt;script&gt;x&lt;/script&gt;." in page
    assert ("<script>x</script>" in page, "ann@example.com" in page, page.count('class="told-attempt"')) == (
        False,
        False,
        3,
    )


def test_erasing_the_customer_removes_what_they_were_told_and_its_log(notifying_client, store, runner):
    with Receiver(500) as receiver:
        (store.path.parent / "rules.toml").write_text(f'[notify_customer]\nwebhook = "{receiver.url}/hook"\n')
        notifying_client.post("/api/v1/calls", json=call("open"), headers=auth())
        deliver_due(store, FAST)
    [message] = store.messages_about_call("C-1")
    result = runner("customer", "erase", "ACC-1", "--yes")
    assert (result.exit_code, store.outbox_messages(), store.delivery_attempts(message["id"])) == (0, [], [])


def test_migrate_gives_an_outbox_made_before_its_call_and_customer_columns(data_folder, store):
    store.close()
    db = sqlite3.connect(data_folder / "calls.db")
    db.executescript(
        "DROP TABLE outbox; DROP TABLE outbox_attempts; CREATE TABLE outbox (id TEXT PRIMARY KEY, kind TEXT NOT NULL,"
        " url TEXT NOT NULL, payload TEXT NOT NULL, created_at TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
        " next_attempt_at TEXT NOT NULL, delivered_at TEXT NOT NULL DEFAULT '', last_error TEXT NOT NULL DEFAULT '',"
        " claim TEXT NOT NULL DEFAULT '', claimed_until TEXT NOT NULL DEFAULT '');"
        " INSERT INTO outbox (id, kind, url, payload, created_at, next_attempt_at)"
        " VALUES ('old', 'escalation', 'http://127.0.0.1:9/h', '{}', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');"
    )
    db.close()
    store.migrate()
    store.migrate()
    [old] = store.outbox_messages()
    assert (old["id"], old["call_id"], old["customer_id"], store.delivery_attempts("old")) == ("old", "", "", [])


@pytest.mark.postgres
def test_on_postgresql_a_change_of_status_is_told_once_with_the_stored_status_compared(postgres_store):
    postgres_store.upsert_customers([validate_customer(CUSTOMER)])
    messages = {"opened": "o", "pending": "p {reason}", "resolved": "r", "escalated": "e"}

    def write(raw):
        record = validate_record(raw)
        notices = customer_notices([record], postgres_store.get_customers(["ACC-1"]), HOOK, messages)
        return postgres_store.upsert([record], messages=notices)

    summaries = [write(call("open")), write(call("open", problem="again")), write(call("pending", pending_reason="x"))]
    assert [s.previous["C-1"] and s.previous["C-1"]["extra"]["status"] for s in summaries] == [None, "open", "open"]
    payloads = [json.loads(m["payload"]) for m in postgres_store.messages_about_call("C-1")]
    assert [(p["status"], p["message"], p["contact"]) for p in payloads] == [
        ("opened", "o", CONTACT),
        ("pending", "p x", CONTACT),
    ]
    [first, _] = postgres_store.messages_about_call("C-1")
    assert deliver_due(postgres_store, DeliveryPolicy(retry_s=0, max_attempts=1, timeout_s=1)).delivered == []
    assert [a["attempt"] for a in postgres_store.delivery_attempts(first["id"])] == [1]
