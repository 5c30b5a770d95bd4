"""Who is calling: customer fields, the caller's context, service rules and escalations (issue #9)."""

import json
from datetime import datetime, timedelta, timezone

import pytest
from conftest import WRITE_KEY_ID, auth, settings_for, sign_in

from app import create_app
from indexer.context import open_knowledge_base
from store.records import InvalidCallRecordError, validate_record

RULES = """
[key_accounts]
customers = ["ACC-KEY"]
products = ["Cisco AnyConnect VPN"]
priority = "high"

[escalation_hours]
urgent = 1
high = 4
normal = 24
low = 72

[notify]
log = true
"""


def hours_ago(hours):
    return (datetime.now(timezone.utc) - timedelta(hours=hours)).isoformat(timespec="seconds").replace("+00:00", "Z")


def call(call_id, **fields):
    return {"id": call_id, "title": f"Call {call_id}", "problem": "Router drops", **fields}


@pytest.fixture
def ruled_folder(data_folder):
    (data_folder / "rules.toml").write_text(RULES)
    return data_folder


@pytest.fixture
def ruled_client(ruled_folder):
    return create_app(settings_for(ruled_folder)).test_client()


def stored(folder, call_id):
    kb = open_knowledge_base(overrides={"KB_DATA_DIR": str(folder)}, environ={})
    try:
        return kb.store.get(call_id)
    finally:
        kb.close()


def test_customer_fields_are_validated_and_kept():
    record = validate_record(call("C-1", customer_id=" ACC-1 ", status="pending", priority="urgent"))
    assert record["extra"] == {"customer_id": "ACC-1", "status": "pending", "priority": "urgent"}
    assert record["resolved"] is False


def test_choices_typed_in_a_csv_cell_are_read_in_any_case(runner, data_folder, tmp_path):
    path = tmp_path / "calls.csv"
    path.write_text("id,title,status,priority\nC-1,Router drops,Pending,URGENT\n")
    assert runner("import", path).exit_code == 0
    assert stored(data_folder, "C-1")["extra"] == {"status": "pending", "priority": "urgent"}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"status": "closed"}, "field 'status' must be one of open, pending, resolved"),
        ({"priority": "asap"}, "field 'priority' must be one of low, normal, high, urgent"),
        ({"status": "open", "resolved": True}, "field 'resolved' (true) contradicts 'status' (open)"),
        ({"opened_at": "last week"}, "field 'opened_at' is not an ISO 8601 date: 'last week'"),
    ],
    ids=["bad-status", "bad-priority", "contradiction", "bad-opened-at"],
)
def test_bad_customer_fields_are_refused_naming_the_field(fields, message):
    with pytest.raises(InvalidCallRecordError) as error:
        validate_record(call("C-1", **fields))
    assert str(error.value) == message


def test_a_key_account_call_gets_high_priority_through_the_api(ruled_client, ruled_folder):
    ruled_client.post("/api/v1/calls", json=call("K-1", customer_id="ACC-KEY", status="open"), headers=auth())
    assert stored(ruled_folder, "K-1")["extra"]["priority"] == "high"


def test_a_key_product_call_gets_high_priority_through_the_cli_import(ruled_folder, runner, tmp_path):
    path = tmp_path / "calls.jsonl"
    path.write_text(json.dumps(call("K-2", product="Cisco AnyConnect VPN", status="open")) + "\n")
    assert runner("import", path).exit_code == 0
    assert stored(ruled_folder, "K-2")["extra"]["priority"] == "high"


def test_rules_never_lower_an_urgent_call(ruled_client, ruled_folder):
    ruled_client.post("/api/v1/calls", json=call("K-3", customer_id="ACC-KEY", priority="urgent"), headers=auth())
    assert stored(ruled_folder, "K-3")["extra"]["priority"] == "urgent"


def test_an_overdue_open_call_is_escalated_by_apply_rules_and_not_before(ruled_folder, runner):
    app = create_app(settings_for(ruled_folder))
    client = app.test_client()
    client.post(
        "/api/v1/calls",
        headers=auth(),
        json=[
            call("E-1", status="open", priority="normal", opened_at=hours_ago(30)),
            call("E-2", status="open", priority="normal", opened_at=hours_ago(2)),
        ],
    )
    sign_in(client)
    assert b'data-call-id="E-1"' not in client.get("/escalations/").data
    first = runner("apply-rules")
    assert first.exit_code == 0
    assert "escalated 1: E-1" in first.output
    page = client.get("/escalations/").data
    assert b'data-call-id="E-1"' in page
    assert b'data-call-id="E-2"' not in page
    second = runner("apply-rules")
    assert "reprioritized 0, escalated 0" in second.output


def test_escalations_view_needs_a_team_lead(ruled_client):
    assert ruled_client.get("/escalations/").status_code == 302


def test_a_bad_rules_file_is_refused_with_its_line_and_the_last_good_rules_stay(ruled_folder, runner):
    app = create_app(settings_for(ruled_folder))
    (ruled_folder / "rules.toml").write_text('[key_accounts]\ncustomers = ["ACC-KEY"]\npriority = "top"\n')
    result = runner("apply-rules")
    assert result.exit_code == 1
    assert "rules.toml:3: 'priority' must be one of low, normal, high, urgent" in result.output
    client = app.test_client()
    client.post("/api/v1/calls", json=call("K-4", customer_id="ACC-KEY"), headers=auth())
    assert stored(ruled_folder, "K-4")["extra"]["priority"] == "high"
    assert "rules.toml:3" in app.extensions["kb"].rules.error


def test_editing_the_rules_file_takes_effect_without_a_restart(ruled_folder):
    app = create_app(settings_for(ruled_folder))
    (ruled_folder / "rules.toml").write_text(RULES.replace('"ACC-KEY"', '"ACC-NEW"'))
    client = app.test_client()
    client.post("/api/v1/calls", json=call("K-5", customer_id="ACC-NEW"), headers=auth())
    assert stored(ruled_folder, "K-5")["extra"]["priority"] == "high"


def test_customer_calls_list_open_ones_first(ruled_client):
    ruled_client.post(
        "/api/v1/calls",
        headers=auth(),
        json=[
            call(
                "H-1", customer_id="ACC-9", customer_name="Harbour Dental", status="resolved", resolution="Reset router"
            ),
            call("H-2", customer_id="ACC-9", status="open"),
            call("H-3", customer_id="ACC-8", status="open"),
        ],
    )
    body = ruled_client.get("/api/v1/customers/ACC-9/calls").get_json()
    assert body["customer_name"] == "Harbour Dental"
    assert [c["id"] for c in body["open"]] == ["H-2"]
    assert [c["id"] for c in body["past"]] == ["H-1"]


def test_search_filters_by_customer_status_and_priority(ruled_client):
    ruled_client.post(
        "/api/v1/calls",
        headers=auth(),
        json=[
            call("F-1", customer_id="ACC-7", status="open", priority="low"),
            call("F-2", customer_id="ACC-7", status="resolved"),
            call("F-3", customer_id="ACC-6", status="open", priority="low"),
        ],
    )

    def ids(**params):
        return sorted(
            h["id"]
            for h in ruled_client.get("/api/v1/search", query_string={"q": "router", **params}).get_json()["results"]
        )

    assert ids(customer="ACC-7") == ["F-1", "F-2"]
    assert ids(customer="ACC-7", status="open") == ["F-1"]
    assert ids(priority="low") == ["F-1", "F-3"]
    assert ruled_client.get("/api/v1/search?q=router&status=closed").status_code == 400


def test_the_callers_product_comes_first_among_equal_matches_and_says_why(ruled_client):
    text = {"title": "Headset crackles", "problem": "Headset crackles on calls"}
    ruled_client.post(
        "/api/v1/calls",
        headers=auth(),
        json=[
            {"id": "P-1", "product": "Jabra Evolve2", **text},
            {"id": "P-2", "product": "Poly Voyager", **text},
            call("P-3", customer_id="ACC-5", product="Poly Voyager", status="resolved"),
        ],
    )
    plain = ruled_client.get("/api/v1/search?q=headset+crackles").get_json()["results"]
    with_caller = ruled_client.get("/api/v1/search?q=headset+crackles&caller=ACC-5").get_json()["results"]
    assert plain[0]["score"] == plain[1]["score"]
    assert with_caller[0]["id"] == "P-2"
    assert {"query_term": "ACC-5", "matched": "Poly Voyager", "how": "caller-product"} in with_caller[0]["matches"]


def test_edits_keep_the_status_history(ruled_client, ruled_folder):
    ruled_client.post("/api/v1/calls", json=call("S-1", status="open"), headers=auth())
    ruled_client.put(
        "/api/v1/calls/S-1", json={**call("S-1"), "status": "resolved"}, headers={**auth(), "X-KB-Agent": "sam"}
    )
    kb = open_knowledge_base(overrides={"KB_DATA_DIR": str(ruled_folder)}, environ={})
    history = kb.store.history("S-1")
    kb.close()
    assert history[-1]["actor"] == f"{WRITE_KEY_ID}/sam"
    assert history[-1]["changes"]["status"] == ["open", "resolved"]
