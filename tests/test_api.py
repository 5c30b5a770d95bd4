"""The JSON API under /api/v1 (issue #2)."""

import re

import pytest
from conftest import auth

ERROR_KEYS = {"ok", "error", "errors", "status"}
HIT_KEYS = {
    "id",
    "title",
    "title_html",
    "score",
    "snippet",
    "resolution",
    "product",
    "category",
    "created_at",
    "tags",
    "resolved",
    "matches",
    "outcome_boost",
    "status",
    "priority",
    "customer_id",
}


def assert_error(response, status, message):
    assert response.status_code == status
    assert response.content_type == "application/json"
    body = response.get_json()
    assert set(body) == ERROR_KEYS
    assert body["ok"] is False
    assert body["status"] == status
    assert body["error"] == message
    return body


def test_search_returns_ranked_calls_in_the_documented_shape(indexed_client):
    response = indexed_client.get("/api/v1/search?q=router+dropping+connection")
    assert response.status_code == 200
    assert response.content_type == "application/json"
    body = response.get_json()
    assert {"query", "total", "took_ms", "did_you_mean", "results"} <= set(body)
    assert body["query"] == "router dropping connection"
    assert body["results"][0]["id"] == "T-001"
    assert set(body["results"][0]) == HIT_KEYS
    scores = [hit["score"] for hit in body["results"]]
    assert scores == sorted(scores, reverse=True)


def test_search_honours_limit_and_offset(indexed_client):
    first = indexed_client.get("/api/v1/search?q=printer&limit=2").get_json()
    second = indexed_client.get("/api/v1/search?q=printer&limit=2&offset=1").get_json()
    assert len(first["results"]) == 2
    assert second["results"][0]["id"] == first["results"][1]["id"]


def test_search_filters_by_product(indexed_client):
    everything = indexed_client.get("/api/v1/search?q=printer&limit=50").get_json()
    product = everything["results"][0]["product"]
    filtered = indexed_client.get("/api/v1/search", query_string={"q": "printer", "product": product, "limit": 50})
    assert {hit["product"] for hit in filtered.get_json()["results"]} == {product}


def test_search_without_q_is_a_400_naming_q(indexed_client):
    body = assert_error(
        indexed_client.get("/api/v1/search"),
        400,
        "the query parameter 'q' is required, e.g. /api/v1/search?q=printer+offline",
    )
    assert body["errors"][0]["field"] == "q"


def test_search_with_blank_q_is_a_400(indexed_client):
    assert_error(
        indexed_client.get("/api/v1/search?q=+"), 400, "the query 'q' is empty: type a few words to search for"
    )


@pytest.mark.parametrize(
    ("query_string", "message"),
    [
        ("q=x&limit=0", "'limit' must be between 1 and 50"),
        ("q=x&limit=51", "'limit' must be between 1 and 50"),
        ("q=x&limit=ten", "'limit' must be a whole number, not 'ten'"),
        ("q=x&offset=-1", "'offset' must be 0 or more"),
    ],
    ids=["limit-zero", "limit-too-big", "limit-not-a-number", "negative-offset"],
)
def test_bad_paging_is_a_400_naming_the_parameter(indexed_client, query_string, message):
    assert_error(indexed_client.get(f"/api/v1/search?{query_string}"), 400, message)


def test_get_call_returns_the_record(indexed_client):
    response = indexed_client.get("/api/v1/calls/T-001")
    assert response.status_code == 200
    assert response.get_json()["id"] == "T-001"


def test_unknown_call_is_a_404(indexed_client):
    assert_error(indexed_client.get("/api/v1/calls/NOPE-1"), 404, "call NOPE-1 not found")


def test_post_call_is_searchable_when_the_response_returns(indexed_client):
    record = {
        "id": "NEW-1",
        "title": "Zebrafax scanner jams on duplex",
        "problem": "Zebrafax jams",
        "resolution": "Clean rollers",
    }
    response = indexed_client.post("/api/v1/calls", json=record, headers=auth())
    assert response.status_code == 201
    assert response.get_json()["inserted"] == 1
    assert response.get_json()["indexed"] is True
    hits = indexed_client.get("/api/v1/search?q=zebrafax").get_json()["results"]
    assert [hit["id"] for hit in hits] == ["NEW-1"]


def test_post_accepts_an_array_and_upserts(indexed_client):
    records = [{"id": "A-1", "title": "First"}, {"id": "A-2", "title": "Second"}]
    assert indexed_client.post("/api/v1/calls", json=records, headers=auth()).get_json()["inserted"] == 2
    again = indexed_client.post(
        "/api/v1/calls", json=[{"id": "A-1", "title": "First, edited"}, records[1]], headers=auth()
    )
    assert again.status_code == 200
    assert again.get_json()["updated"] == 1
    assert again.get_json()["unchanged"] == 1


def test_put_replaces_and_delete_removes_from_search(indexed_client):
    put = indexed_client.put("/api/v1/calls/P-1", json={"title": "Quuxcam shows a black image"}, headers=auth())
    assert put.status_code == 201
    assert indexed_client.get("/api/v1/search?q=quuxcam").get_json()["total"] == 1
    deleted = indexed_client.delete("/api/v1/calls/P-1", headers=auth())
    assert deleted.status_code == 200
    assert indexed_client.get("/api/v1/search?q=quuxcam").get_json()["total"] == 0
    assert_error(indexed_client.delete("/api/v1/calls/P-1", headers=auth()), 404, "call P-1 not found")


def test_put_with_a_different_id_in_the_body_is_refused(indexed_client):
    response = indexed_client.put("/api/v1/calls/P-2", json={"id": "OTHER", "title": "x"}, headers=auth())
    assert_error(response, 400, "the body's id 'OTHER' differs from the URL's 'P-2'")


def test_invalid_record_is_a_422_naming_the_field(indexed_client):
    response = indexed_client.post("/api/v1/calls", json={"id": "X-1", "title": "t" * 1001}, headers=auth())
    body = assert_error(response, 422, "field 'title' is 1,001 characters long; the limit is 1,000")
    assert body["errors"][0]["field"] == "title"


def test_record_without_title_or_problem_is_refused(indexed_client):
    response = indexed_client.post("/api/v1/calls", json={"id": "X-2", "resolution": "did a thing"}, headers=auth())
    assert_error(response, 422, "at least one of 'title' and 'problem' must be non-empty")


def test_invalid_record_in_an_array_stores_nothing(indexed_client):
    response = indexed_client.post(
        "/api/v1/calls", json=[{"id": "OK-1", "title": "fine"}, {"title": "no id"}], headers=auth()
    )
    assert_error(response, 422, "record 1: field 'id' is required (a non-empty string)")
    assert indexed_client.get("/api/v1/calls/OK-1").status_code == 404


@pytest.mark.parametrize(
    ("record", "message", "field"),
    [
        ({"id": "W-1", "title": 42}, "field 'title' must be a string", "title"),
        ({"id": "W-1", "title": None, "problem": "Printer offline"}, "field 'title' must be a string", "title"),
        ({"id": ["W-1"], "title": "Printer offline"}, "field 'id' must be a string", "id"),
        ({"id": "W-1", "title": "x", "resolved": "yes"}, "field 'resolved' must be true or false", "resolved"),
        ({"id": "W-1", "title": "x", "tags": "printer,offline"}, "field 'tags' must be a list of strings", "tags"),
    ],
    ids=["number-title", "null-title", "list-id", "word-resolved", "string-tags"],
)
def test_wrong_type_in_a_call_is_a_422_naming_the_field_and_stores_nothing(indexed_client, record, message, field):
    body = assert_error(indexed_client.post("/api/v1/calls", json=record, headers=auth()), 422, message)
    assert body["errors"] == [{"index": 0, "field": field, "message": message}]
    assert indexed_client.get("/api/v1/calls/W-1").status_code == 404


def test_put_with_a_number_as_the_body_id_is_a_422(indexed_client):
    response = indexed_client.put("/api/v1/calls/5", json={"id": 5, "title": "x"}, headers=auth())
    body = assert_error(response, 422, "field 'id' must be a string")
    assert body["errors"] == [{"field": "id", "message": "field 'id' must be a string"}]


def test_batch_repeating_an_id_is_a_422_naming_each_repeat(indexed_client):
    records = [{"id": "D-1", "title": "first"}, {"id": "D-2", "title": "second"}, {"id": " D-1", "title": "again"}]
    body = assert_error(
        indexed_client.post("/api/v1/calls", json=records, headers=auth()), 422, "record 2: duplicate id 'D-1'"
    )
    assert body["errors"] == [{"index": 2, "field": "id", "message": "record 2: duplicate id 'D-1'"}]
    assert indexed_client.get("/api/v1/calls/D-2").status_code == 404


def test_more_than_a_thousand_calls_in_one_request_is_a_400(indexed_client):
    records = [{"id": f"M-{number}", "title": "x"} for number in range(1001)]
    response = indexed_client.post("/api/v1/calls", json=records, headers=auth())
    assert_error(response, 400, "at most 1,000 records per request; use the importer for more")


def test_write_without_a_key_is_a_401(indexed_client):
    response = indexed_client.post("/api/v1/calls", json={"id": "K-1", "title": "x"})
    assert_error(
        response, 401, "this request needs an API key with the 'write' role: send 'Authorization: Bearer <key>'"
    )


def test_write_with_a_wrong_key_is_a_401(indexed_client):
    response = indexed_client.post("/api/v1/calls", json={"id": "K-1", "title": "x"}, headers=auth("wrong"))
    assert_error(response, 401, "the API key is not valid (unknown, revoked or expired)")


def test_body_over_the_limit_is_a_413(data_folder):
    from conftest import settings_for

    from app import create_app

    client = create_app(settings_for(data_folder, KB_MAX_BODY_BYTES=1000)).test_client()
    response = client.post("/api/v1/calls", data="x" * 2000, content_type="application/json", headers=auth())
    assert_error(response, 413, "the request body is 2,000 bytes; the limit is 1,000")


def test_body_that_is_not_json_is_a_400(indexed_client):
    response = indexed_client.post("/api/v1/calls", data="not json", content_type="application/json", headers=auth())
    assert_error(response, 400, "the request body must be JSON (Content-Type: application/json)")


def test_unknown_route_is_a_json_404(indexed_client):
    response = indexed_client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert set(response.get_json()) == ERROR_KEYS


def test_feedback_is_recorded_for_a_known_call(indexed_client, store):
    response = indexed_client.post("/api/v1/feedback", json={"call_id": "T-001", "query": "rowter drops"})
    assert response.status_code == 201
    assert store.feedback_for("T-001")[0]["query"] == "rowter drops"


def test_feedback_for_an_unknown_call_is_a_404(indexed_client):
    response = indexed_client.post("/api/v1/feedback", json={"call_id": "NOPE", "query": "x"})
    assert_error(response, 404, "call NOPE not found")


@pytest.mark.parametrize(
    ("path", "body", "message", "field"),
    [
        ("/api/v1/feedback", {"call_id": "T-001", "search_id": 7}, "field 'search_id' must be a string", "search_id"),
        (
            "/api/v1/feedback",
            {"call_id": "T-001", "search_id": None},
            "field 'search_id' must be a string",
            "search_id",
        ),
        ("/api/v1/feedback", {"call_id": 1, "query": "x"}, "field 'call_id' must be a string", "call_id"),
        ("/api/v1/feedback", {"call_id": "T-001", "query": None}, "field 'query' must be a string", "query"),
        ("/api/v1/events", {"search_id": 7, "call_id": "T-001"}, "field 'search_id' must be a string", "search_id"),
        (
            "/api/v1/events",
            {"search_id": "\x0c", "call_id": "T-001"},
            "'search_id' is required (a string)",
            "search_id",
        ),
        (
            "/api/v1/events",
            {"search_id": "s", "call_id": "T-001", "kind": "solved"},
            "'kind' must be 'opened' (solved calls go to /api/v1/feedback)",
            "kind",
        ),
        ("/api/v1/suggest-from-text", {"text": 42}, "field 'text' must be a string", "text"),
        (
            "/api/v1/suggest-from-text",
            {"text": "router", "limit": "5"},
            "field 'limit' must be a whole number",
            "limit",
        ),
        ("/api/v1/suggest-from-text", {"text": "router", "limit": 0}, "'limit' must be between 1 and 50", "limit"),
    ],
    ids=[
        "feedback-number-search-id",
        "feedback-null-search-id",
        "feedback-number-call-id",
        "feedback-null-query",
        "event-number-search-id",
        "event-blank-search-id",
        "event-other-kind",
        "suggest-number-text",
        "suggest-text-limit",
        "suggest-zero-limit",
    ],
)
def test_wrong_body_field_is_a_422_naming_it(indexed_client, path, body, message, field):
    response = assert_error(indexed_client.post(path, json=body), 422, message)
    assert response["errors"] == [{"field": field, "message": message}]


def test_body_that_is_not_an_object_is_a_400_naming_what_is_needed(indexed_client):
    response = indexed_client.post("/api/v1/events", json=["s", "T-001"])
    assert_error(response, 400, "the request body must be a JSON object with 'search_id', 'call_id'")


@pytest.mark.parametrize(
    ("query_string", "message", "field"),
    [
        ("q=x&status=", "'status' must be one of open, pending, resolved", "status"),
        ("q=x&priority=", "'priority' must be one of low, normal, high, urgent", "priority"),
        ("q=x&priority=asap", "'priority' must be one of low, normal, high, urgent", "priority"),
        ("q=x&facets=yes", "'facets' must be true or false", "facets"),
        ("q=x&limit=", "'limit' must be a whole number, not ''", "limit"),
    ],
    ids=["empty-status", "empty-priority", "unknown-priority", "facets-word", "empty-limit"],
)
def test_search_parameter_out_of_its_document_is_a_400_naming_it(indexed_client, query_string, message, field):
    body = assert_error(indexed_client.get(f"/api/v1/search?{query_string}"), 400, message)
    assert body["errors"] == [{"field": field, "message": message}]


def test_empty_free_text_filters_mean_no_filter(indexed_client):
    filtered = indexed_client.get("/api/v1/search?q=printer&product=&category=&customer=&caller=").get_json()
    assert filtered["total"] == indexed_client.get("/api/v1/search?q=printer").get_json()["total"]


def test_healthz_reports_store_and_index(indexed_client):
    body = indexed_client.get("/healthz").get_json()
    assert body["ok"] is True
    assert body["calls"] == body["index"]["calls"]
    assert body["index"]["lag_changes"] == 0


def test_openapi_document_takes_its_schemas_from_the_models(indexed_client):
    document = indexed_client.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    assert document["openapi"] == "3.1.0"
    assert schemas["CallInput"]["properties"]["title"] == {
        "default": "",
        "description": "At least one of title and problem is not blank.",
        "maxLength": 1000,
        "type": "string",
    }
    assert schemas["EventBody"]["properties"]["search_id"]["type"] == "string"
    assert schemas["Error"]["required"] == ["ok", "error", "errors", "status"]
    calls = document["paths"]["/api/v1/calls"]["post"]["responses"]
    assert "repeated" in calls["422"]["description"]
    assert calls["422"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_openapi_document_lists_every_api_route(indexed_app):
    document = indexed_app.test_client().get("/api/v1/openapi.json").get_json()
    documented = {
        (path, method) for path, item in document["paths"].items() for method in item if method != "parameters"
    }
    routes = set()
    for rule in indexed_app.url_map.iter_rules():
        if rule.rule.startswith("/api/") or rule.rule == "/healthz":
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            routes |= {(path, method.lower()) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes == documented


def test_a_call_written_with_spaces_around_its_id_is_found_and_deleted_by_that_id(indexed_client):
    spaced = "\u00c0P\t\u2005 "
    assert (
        indexed_client.post("/api/v1/calls", json={"id": spaced, "title": "Dock flickers"}, headers=auth()).status_code
        == 201
    )
    quoted = "/api/v1/calls/" + "%C3%80P%09%E2%80%85%20"
    assert (indexed_client.get(quoted).status_code, indexed_client.get(quoted).get_json()["id"]) == (200, "\u00c0P")
    deleted = indexed_client.delete(quoted, headers=auth())
    assert (deleted.status_code, deleted.get_json()["deleted"]) == (200, "\u00c0P")
