"""Promised follow-ups (issue #18): recorded on a call, listed by state, kept, and escalated by apply-rules."""

from datetime import datetime, timedelta, timezone

import pytest
from conftest import WRITE_KEY, auth

from app.auth import configured_key_id
from rules.parse import RulesFileError, parse_rules


def ago(minutes):
    moment = datetime.now(timezone.utc) - timedelta(minutes=minutes)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def call_client(indexed_client):
    call = {"id": "F-1", "title": "Printer jams", "customer_id": "ACC-9", "status": "open"}
    assert indexed_client.post("/api/v1/calls", json=call, headers=auth()).status_code == 201
    return indexed_client


def promise(client, what, due_at, owner="sam"):
    response = client.post(
        "/api/v1/calls/F-1/follow-ups", json={"what": what, "due_at": due_at, "owner": owner}, headers=auth()
    )
    assert response.status_code == 201
    return response.get_json()["follow_up"]


def whats(client, **params):
    return [f["what"] for f in client.get("/api/v1/follow-ups", query_string=params).get_json()["follow_ups"]]


def test_promises_are_due_then_overdue_then_done(call_client):
    late = promise(call_client, "Send the driver link", ago(90))
    promise(call_client, "Call back", ago(-60))
    promise(call_client, "Ring the courier", ago(-30), owner="kim")
    assert whats(call_client, state="overdue") == ["Send the driver link"]
    assert whats(call_client, state="due") == ["Ring the courier", "Call back"]
    assert whats(call_client, state="due", owner="sam") == ["Call back"]
    done = call_client.post(f"/api/v1/follow-ups/{late['id']}/done", headers=auth()).get_json()["follow_up"]
    assert (done["state"], done["done_by"]) == ("done", configured_key_id(WRITE_KEY))  # the key that vouched
    assert (whats(call_client, state="overdue"), whats(call_client, state="done")) == ([], ["Send the driver link"])
    assert whats(call_client, customer_id="ACC-9", state="due") == ["Ring the courier", "Call back"]


def test_a_due_time_without_offset_is_utc_and_kept_to_the_second(call_client):
    kept = promise(call_client, "Call back", "2030-01-02T03:04:05.678")
    assert (kept["due_at"], kept["call_id"], kept["customer_id"], kept["escalated_at"]) == (
        "2030-01-02T03:04:05Z",
        "F-1",
        "ACC-9",
        "",
    )


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"due_at": "2030-01-02T03:04:05Z", "owner": "sam"}, "what", "'what' is required: what was promised"),
        (
            {"what": "x", "due_at": "tomorrow", "owner": "sam"},
            "due_at",
            "field 'due_at' must be a date and time such as 2026-11-26T14:30:00Z, not 'tomorrow'",
        ),
        ({"what": "x", "due_at": "2030-01-02T03:04:05Z", "owner": " "}, "owner", "'owner' must not be blank"),
        (
            {"what": "x", "due_at": "2030-01-02T03:04:05Z", "owner": "sam", "when": 1},
            "when",
            "field 'when' is not a field of this record",
        ),
    ],
    ids=["no-what", "bad-due", "blank-owner", "unknown-field"],
)
def test_a_bad_promise_is_refused_naming_the_field(call_client, body, field, message):
    response = call_client.post("/api/v1/calls/F-1/follow-ups", json=body, headers=auth())
    assert (response.status_code, response.get_json()["errors"][0]) == (422, {"field": field, "message": message})


def test_a_promise_on_an_unknown_call_is_a_404(indexed_client):
    body = {"what": "x", "due_at": "2030-01-02T03:04:05Z", "owner": "sam"}
    response = indexed_client.post("/api/v1/calls/NOPE/follow-ups", json=body, headers=auth())
    assert (response.status_code, response.get_json()["error"]) == (404, "call NOPE not found")


def test_apply_rules_escalates_a_promise_overdue_past_the_limit_once(call_client, data_folder, runner):
    (data_folder / "rules.toml").write_text("[follow_ups]\nescalate_after_minutes = 30\n")
    late = promise(call_client, "Send the driver link", ago(45))
    promise(call_client, "Recently overdue", ago(10))
    first = runner("apply-rules")
    assert (first.exit_code, first.output.splitlines()[-1]) == (0, f"follow-ups escalated 1: {late['id']}")
    assert runner("apply-rules").output.splitlines()[-1] == "follow-ups escalated 0"
    listed = call_client.get("/api/v1/follow-ups?state=overdue").get_json()["follow_ups"]
    assert [(f["what"], bool(f["escalated_at"])) for f in listed] == [
        ("Send the driver link", True),
        ("Recently overdue", False),
    ]


def test_without_a_follow_ups_section_nothing_is_escalated(call_client, runner):
    promise(call_client, "Send the driver link", ago(600))
    assert runner("apply-rules").output.splitlines()[-1] == "follow-ups escalated 0"


def test_a_kept_promise_is_never_escalated(call_client, data_folder, runner):
    (data_folder / "rules.toml").write_text("[follow_ups]\nescalate_after_minutes = 0\n")
    late = promise(call_client, "Send the driver link", ago(60))
    call_client.post(f"/api/v1/follow-ups/{late['id']}/done", headers=auth())
    assert runner("apply-rules").output.splitlines()[-1] == "follow-ups escalated 0"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[follow_ups]\nescalate_after_minutes = -5\n",
            "rules.toml:2: 'escalate_after_minutes' must be a number of minutes (0 or more)",
        ),
        (
            "[follow_ups]\nescalate_after = 5\n",
            "rules.toml:2: unknown key 'escalate_after' in [follow_ups]: use escalate_after_minutes",
        ),
    ],
    ids=["negative", "unknown-key"],
)
def test_a_bad_follow_ups_section_names_its_line(text, message):
    with pytest.raises(RulesFileError) as error:
        parse_rules(text)
    assert str(error.value) == message


def test_the_rules_read_the_escalation_delay():
    assert parse_rules("[follow_ups]\nescalate_after_minutes = 30\n").follow_up_escalate_after_minutes == 30.0
