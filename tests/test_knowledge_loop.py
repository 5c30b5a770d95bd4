"""The knowledge loop: search log, outcome-ranked answers, zero-result proposals, analytics (issue #7)."""

import sys
import time

from conftest import WRITE_KEY_ID, auth, sign_in

SESSION = {"X-KB-Session": "browser-1", "X-KB-Channel": "page"}


def search(client, query, headers=None, **params):
    return client.get("/api/v1/search", query_string={"q": query, **params}, headers=headers or {}).get_json()


def flush_log(app):
    services = app.extensions["kb"]
    services.search_log.flush(services.store, settle=0)
    return services.store


def test_every_search_is_logged_with_its_id_and_without_personal_data(indexed_app):
    client = indexed_app.test_client()
    body = search(client, "printer jam for bob@example.com call 0171 555 0199", headers=SESSION)
    store = flush_log(indexed_app)
    rows = store.searches_of_session("browser-1", "2000-01-01")
    assert [row["search_id"] for row in rows] == [body["search_id"]]
    assert rows[0]["query"] == "printer jam for [email] call [number]"
    assert rows[0]["results"] == body["total"]


def test_letters_typed_one_by_one_collapse_into_the_last_search(indexed_app):
    client = indexed_app.test_client()
    for prefix in ("blu", "blue", "blue scr", "blue screen"):
        search(client, prefix, headers=SESSION)
    store = flush_log(indexed_app)
    assert [row["query"] for row in store.searches_of_session("browser-1", "2000-01-01")] == ["blue screen"]


def test_solved_feedback_raises_that_call_for_similar_queries(indexed_client):
    before = search(indexed_client, "printer problem", limit=10)["results"]
    last_id = before[-1]["id"]
    for _ in range(3):
        indexed_client.post("/api/v1/feedback", json={"call_id": last_id, "query": "printer problem"})
    time.sleep(1.1)
    after = search(indexed_client, "printer problem", limit=10)["results"]
    positions = [hit["id"] for hit in after]
    assert positions.index(last_id) < [hit["id"] for hit in before].index(last_id)
    assert after[positions.index(last_id)]["outcome_boost"] > 0


def test_feedback_boost_cannot_bury_a_clearly_better_exact_match(indexed_client):
    top = search(indexed_client, "router dropping connection")["results"][0]["id"]
    for _ in range(20):
        indexed_client.post("/api/v1/feedback", json={"call_id": "T-017", "query": "router dropping connection"})
    time.sleep(1.1)
    assert search(indexed_client, "router dropping connection")["results"][0]["id"] == top


def test_a_zero_result_search_followed_by_a_solved_one_becomes_a_proposal(indexed_client):
    failed = search(indexed_client, "qwzx vbnm", headers=SESSION)
    assert failed["total"] == 0
    solved = search(indexed_client, "password reset", headers=SESSION)
    response = indexed_client.post(
        "/api/v1/feedback",
        headers=SESSION,
        json={"call_id": solved["results"][0]["id"], "query": "password reset", "search_id": solved["search_id"]},
    )
    assert response.get_json()["proposed"] == {"from": "qwzx vbnm", "to": "password reset"}


def test_an_accepted_proposal_takes_effect_in_the_next_search(indexed_app):
    client = indexed_app.test_client()
    failed = search(client, "qwzx vbnm", headers=SESSION)
    solved = search(client, "password reset", headers=SESSION)
    client.post(
        "/api/v1/feedback",
        headers=SESSION,
        json={"call_id": solved["results"][0]["id"], "query": "password reset", "search_id": solved["search_id"]},
    )
    assert failed["total"] == 0
    sign_in(client)
    with client.session_transaction() as session:
        csrf = session["csrf"]
    decided = client.post(
        "/analytics/proposals", data={"csrf": csrf, "from": "qwzx vbnm", "to": "password reset", "decision": "accepted"}
    )
    assert decided.status_code == 302
    again = search(client, "qwzx vbnm")
    assert again["total"] > 0
    assert {"query_term": "qwzx", "matched": "password", "how": "synonym"} in again["results"][0]["matches"]


def test_analytics_needs_a_write_key(indexed_client):
    assert indexed_client.get("/analytics/").status_code == 302
    refused = sign_in(indexed_client, "wrong")
    assert refused.status_code == 401
    assert b"That key is not valid (unknown, revoked or expired)." in refused.data


def test_analytics_shows_counts_charts_and_exports_csv(indexed_app):
    client = indexed_app.test_client()
    search(client, "printer jam", headers=SESSION)
    search(client, "zzzqqq nothing", headers={**SESSION, "X-KB-Session": "browser-2"})
    flush_log(indexed_app)
    sign_in(client)
    page = client.get("/analytics/")
    assert page.status_code == 200
    assert b"<strong>2</strong> searches" in page.data
    assert b"zzzqqq nothing" in page.data
    chart = client.get("/analytics/searches.svg")
    assert chart.mimetype == "image/svg+xml"
    assert chart.data.startswith(b"<?xml")
    csv_text = client.get("/analytics/export.csv", headers=auth()).data.decode()
    assert "zero_results,zzzqqq nothing,1" in csv_text


def test_analytics_charts_name_the_extra_to_install_when_pygal_is_missing(indexed_app, monkeypatch):
    # A None entry in sys.modules makes "import pygal" fail as it does where pygal is not installed.
    monkeypatch.setitem(sys.modules, "pygal", None)
    client = indexed_app.test_client()
    sign_in(client)
    page = client.get("/analytics/")
    assert page.status_code == 200
    assert b"Charts need pygal" in page.data
    assert b"searches.svg" not in page.data
    for chart in ("/analytics/searches.svg", "/analytics/solving.svg"):
        response = client.get(chart)
        assert (response.status_code, response.mimetype) == (501, "text/html")
        assert b"install the &#39;charts&#39; extra (pip install &#39;support-kb-search[charts]&#39;" in response.data


def test_analytics_refuses_a_decision_without_the_form_token(indexed_app):
    client = indexed_app.test_client()
    sign_in(client)
    response = client.post(
        "/analytics/proposals", data={"csrf": "forged", "from": "a", "to": "b", "decision": "accepted"}
    )
    assert response.status_code == 400


def test_suggest_from_text_finds_the_call_described_in_a_paragraph(indexed_client):
    text = (
        "Customer says her outlok keeps popping up a box asking for the pasword again and again, "
        "she typed it in several times this morning and it still comes back"
    )
    response = indexed_client.post("/api/v1/suggest-from-text", json={"text": text, "limit": 3})
    assert response.status_code == 200
    assert response.get_json()["results"][0]["id"] == "T-005"


def test_suggest_from_text_without_text_is_a_422(indexed_client):
    response = indexed_client.post("/api/v1/suggest-from-text", json={"limit": 3})
    assert response.status_code == 422
    assert response.get_json()["error"] == "'text' is required: the customer's description as typed"


def test_opened_events_are_recorded_for_the_analytics(indexed_app):
    client = indexed_app.test_client()
    body = search(client, "printer jam", headers=SESSION)
    response = client.post("/api/v1/events", json={"search_id": body["search_id"], "call_id": body["results"][0]["id"]})
    assert response.status_code == 201
    store = flush_log(indexed_app)
    assert store._rows("SELECT call_id, kind FROM search_events", ()) == [
        {"call_id": body["results"][0]["id"], "kind": "opened"}
    ]


def test_editing_a_call_keeps_who_changed_what_and_when(indexed_client, store):
    indexed_client.put(
        "/api/v1/calls/T-001",
        json={"title": "Router keeps dropping connection (fixed)"},
        headers={**auth(), "X-KB-Agent": "agent-42"},
    )
    history = store.history("T-001")
    assert history[-1]["actor"] == f"{WRITE_KEY_ID}/agent-42"
    assert history[-1]["changes"]["title"][1] == "Router keeps dropping connection (fixed)"
