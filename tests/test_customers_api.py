"""The customers API (issue #18): find the caller, read and write records, the caller panel, ranking by owned
products, key accounts from records, channels, and lookups kept out of the search log."""

from datetime import datetime, timedelta, timezone

import pytest
from conftest import WRITE_KEY, auth, sign_in

from app.auth import configured_key_id

ERROR_KEYS = {"ok", "error", "errors", "status"}
JOHN = {
    "id": "ACC-1",
    "name": "John Smith",
    "organisation": "Harbour Dental Ltd",
    "phones": ["020 7946 0958"],
    "emails": ["john.smith@harbour.example"],
    "city": "Bristol",
    "country": "GB",
    "time_zone": "Asia/Kolkata",
    "products": [{"name": "Poly Voyager Focus 2", "serial": "SN-77"}],
    "notes": "Hard of hearing: speak slowly.",
}
SAME_TEXT = {"title": "Headset crackles", "problem": "Headset crackles on calls"}


def ago(hours):
    return (datetime.now(timezone.utc) - timedelta(hours=hours)).isoformat(timespec="seconds").replace("+00:00", "Z")


@pytest.fixture
def with_john(indexed_client):
    response = indexed_client.post("/api/v1/customers", json=JOHN, headers=auth())
    assert (response.status_code, response.get_json()["inserted"]) == (201, 1)
    return indexed_client


@pytest.mark.parametrize(
    ("typed", "how", "matched"),
    [
        ("ACC-1", "account", "ACC-1"),
        ("00442079460958", "phone", "+44 20 7946 0958"),
        ("John.Smith@Harbour.example", "email", "john.smith@harbour.example"),
        ("John Smith", "name", "John Smith"),
        ("jon smyth", "sounds-like", "John Smith"),
    ],
    ids=["account", "phone", "email", "name", "sounds-like"],
)
def test_lookup_says_how_each_customer_matched(with_john, typed, how, matched):
    response = with_john.get("/api/v1/customers", query_string={"q": typed})
    body = response.get_json()
    assert (response.status_code, response.content_type, set(body)) == (200, "application/json", {"query", "results"})
    assert [(r["customer"]["id"], r["how"], r["matched"]) for r in body["results"]] == [("ACC-1", how, matched)]


def test_lookup_without_q_is_a_400_naming_q(indexed_client):
    body = indexed_client.get("/api/v1/customers").get_json()
    assert (body["status"], body["errors"][0]["field"], set(body)) == (400, "q", ERROR_KEYS)


def test_a_customer_is_read_with_the_time_where_they_are(with_john):
    body = with_john.get("/api/v1/customers/ACC-1").get_json()
    assert (body["customer"]["phones"], body["local_time"]["time_zone"], body["local_time"]["utc_offset"]) == (
        ["+442079460958"],
        "Asia/Kolkata",
        "+05:30",
    )


def test_an_unknown_customer_is_a_404(indexed_client):
    response = indexed_client.get("/api/v1/customers/ACC-404")
    assert (response.status_code, response.get_json()["error"]) == (404, "customer ACC-404 not found")


def test_put_replaces_a_customer_and_names_a_bad_field(with_john):
    changed = {key: value for key, value in JOHN.items() if key != "id"} | {"notes": "Prefers e-mail"}
    response = with_john.put("/api/v1/customers/ACC-1", json=changed, headers=auth())
    assert (response.status_code, response.get_json()["customer"]["notes"]) == (200, "Prefers e-mail")
    bad = with_john.put("/api/v1/customers/ACC-1", json={**changed, "time_zone": "Moon/Base"}, headers=auth())
    assert (bad.status_code, bad.get_json()["errors"][0]["field"]) == (422, "time_zone")


def test_a_batch_of_customers_is_all_or_nothing(indexed_client):
    batch = [JOHN, {**JOHN, "id": "ACC-2", "emails": ["not an address"]}]
    response = indexed_client.post("/api/v1/customers", json=batch, headers=auth())
    body = response.get_json()
    assert (response.status_code, body["errors"][0]["index"], body["errors"][0]["field"]) == (422, 1, "emails")
    assert indexed_client.get("/api/v1/customers/ACC-1").status_code == 404


@pytest.mark.parametrize(
    ("headers", "status"), [({}, 401), ({"Authorization": "Bearer nope"}, 401)], ids=["no-key", "unknown-key"]
)
def test_writing_customers_needs_a_write_key(indexed_client, headers, status):
    assert indexed_client.post("/api/v1/customers", json=JOHN, headers=headers).status_code == status


def test_customer_writes_keep_the_limits_of_every_json_body_and_name_the_key_in_the_history(with_john):
    nested = {"notes": "x"}
    for _ in range(70):
        nested = {"deeper": nested}
    deep = with_john.put("/api/v1/customers/ACC-1", json=nested, headers=auth())
    surrogate = with_john.put(
        "/api/v1/customers/ACC-1",
        data='{"name": "\\ud800"}',
        headers={**auth(), "Content-Type": "application/json"},
    )
    assert (deep.status_code, surrogate.status_code) == (400, 400)
    assert "more than 64 deep" in deep.get_json()["error"]
    changed = {key: value for key, value in JOHN.items() if key != "id"} | {"notes": "Prefers post"}
    with_john.put("/api/v1/customers/ACC-1", json=changed, headers={**auth(), "X-KB-Agent": "Sam"})
    history = with_john.application.extensions["kb"].store.customer_history("ACC-1")
    assert history[-1]["actor"] == f"{configured_key_id(WRITE_KEY)}/Sam"


def test_a_search_key_cannot_write_customers(indexed_app, indexed_client):
    _, secret = indexed_app.extensions["kb"].store.create_key("search")
    assert indexed_client.put("/api/v1/customers/ACC-1", json=JOHN, headers=auth(secret)).status_code == 403


def test_lookups_never_reach_the_search_log(with_john, indexed_app):
    for typed in ("020 7946 0958", "john.smith@harbour.example", "jon smyth"):
        assert with_john.get("/api/v1/customers", query_string={"q": typed}).status_code == 200
    with_john.get("/api/v1/search", query_string={"q": "printer john.smith@harbour.example 020 7946 0958"})
    services = indexed_app.extensions["kb"]
    services.search_log.flush(services.store, settle=0)
    assert [row["query"] for row in services.store._rows("SELECT query FROM search_log", ())] == [
        "printer [email] [number]"
    ]


def test_the_caller_panel_has_the_record_calls_of_every_channel_and_promises(with_john):
    calls = [
        {
            "id": "K-1",
            **SAME_TEXT,
            "customer_id": "ACC-1",
            "channel": "email",
            "status": "resolved",
            "created_at": ago(48),
            "resolution": "Replaced the cable",
        },
        {"id": "K-2", **SAME_TEXT, "customer_id": "ACC-1", "channel": "phone", "status": "open", "opened_at": ago(2)},
        {
            "id": "K-3",
            **SAME_TEXT,
            "customer_id": "ACC-1",
            "channel": "chat",
            "status": "resolved",
            "created_at": ago(24),
            "resolution": "Updated firmware",
        },
    ]
    assert with_john.post("/api/v1/calls", json=calls, headers=auth()).status_code == 201
    promise = {"what": "Call back with the RMA number", "due_at": ago(1), "owner": "sam"}
    made = with_john.post("/api/v1/calls/K-2/follow-ups", json=promise, headers=auth())
    assert (made.status_code, made.get_json()["follow_up"]["customer_id"]) == (201, "ACC-1")
    body = with_john.get("/api/v1/customers/ACC-1/calls").get_json()
    assert (body["customer_name"], body["customer"]["notes"], body["local_time"]["time_zone"]) == (
        "John Smith",
        "Hard of hearing: speak slowly.",
        "Asia/Kolkata",
    )
    assert [c["id"] for c in body["open"]] == ["K-2"]
    assert [c["id"] for c in body["timeline"]] == ["K-2", "K-3", "K-1"]
    assert sorted(body["last_contact"]) == ["chat", "email", "phone"]
    assert body["last_contact"]["phone"] == calls[1]["opened_at"]
    assert [(f["what"], f["state"]) for f in body["follow_ups"]] == [("Call back with the RMA number", "overdue")]


def test_a_call_with_an_unknown_channel_is_refused_naming_the_field(indexed_client):
    response = indexed_client.post("/api/v1/calls", json={"id": "C-1", "title": "x", "channel": "fax"}, headers=auth())
    assert response.get_json()["errors"][0] == {
        "field": "channel",
        "index": 0,
        "message": "field 'channel' must be one of phone, email, web, chat, in_person",
    }


def test_owned_products_rank_first_among_equal_matches(with_john):
    calls = [
        {"id": "P-1", "product": "Jabra Evolve2", **SAME_TEXT},
        {"id": "P-2", "product": "Poly Voyager Focus 2", **SAME_TEXT},
    ]
    with_john.post("/api/v1/calls", json=calls, headers=auth())
    plain = with_john.get("/api/v1/search?q=headset+crackles").get_json()["results"]
    ranked = with_john.get("/api/v1/search?q=headset+crackles&caller=ACC-1").get_json()["results"]
    assert [h["id"] for h in plain[:2]] == ["P-1", "P-2"]
    assert [h["id"] for h in ranked[:2]] == ["P-2", "P-1"]
    assert {"query_term": "ACC-1", "matched": "Poly Voyager Focus 2", "how": "caller-product"} in ranked[0]["matches"]


def test_a_key_account_record_raises_its_calls_priority_like_the_rules_list(data_folder, indexed_client):
    (data_folder / "rules.toml").write_text('[key_accounts]\ncustomers = []\npriority = "high"\n')
    indexed_client.post("/api/v1/customers", json={**JOHN, "key_account": True}, headers=auth())
    indexed_client.post("/api/v1/calls", json={"id": "Q-1", "title": "VPN", "customer_id": "ACC-1"}, headers=auth())
    assert indexed_client.get("/api/v1/calls/Q-1").get_json()["priority"] == "high"


def test_searches_are_split_by_contact_channel_in_the_analytics(indexed_app, indexed_client):
    for channel in ("phone", "phone", "chat"):
        indexed_client.get("/api/v1/search", query_string={"q": "router", "contact_channel": channel})
    services = indexed_app.extensions["kb"]
    services.search_log.flush(services.store, settle=0)
    sign_in(indexed_client)
    csv = indexed_client.get("/analytics/export.csv").get_data(as_text=True)
    assert [line for line in csv.splitlines() if line.startswith("by_channel")] == [
        "by_channel,phone,2,0,0,",
        "by_channel,chat,1,0,0,",
    ]
    assert indexed_client.get("/api/v1/search?q=router&contact_channel=fax").status_code == 400
