"""The widget's script and the API's CORS answers (issue #4)."""

import pytest
from conftest import TEST_DATA, auth, settings_for

from app import create_app

ALLOWED = "https://intranet.example.com"
ALSO_ALLOWED = "http://127.0.0.1:8123"
CORS_HEADERS = ("Access-Control-Allow-Origin", "Access-Control-Allow-Headers", "Access-Control-Allow-Methods")


@pytest.fixture
def widget_app(data_folder, runner):
    """An app over tests/data/calls.json that lets two origins call the API and needs a key to search."""
    assert runner("import", TEST_DATA / "calls.json").exit_code == 0
    return create_app(
        settings_for(data_folder, KB_WIDGET_ORIGINS=f" {ALLOWED}/, {ALSO_ALLOWED} ,null", KB_SEARCH_KEY_REQUIRED="true")
    )


@pytest.fixture
def widget_client(widget_app):
    """A test client of ``widget_app``."""
    return widget_app.test_client()


@pytest.fixture
def widget_key(widget_app):
    """A search-role key, as ``python -m indexer keys create --role search`` makes."""
    _, secret = widget_app.extensions["kb"].store.create_key("search", "widget")
    return secret


def search(client, key, origin=None):
    headers = {**auth(key), **({"Origin": origin} if origin else {})}
    return client.get("/api/v1/search?q=printer", headers=headers)


@pytest.mark.parametrize("origin", [ALLOWED, ALSO_ALLOWED], ids=["https-trailing-slash-in-setting", "port"])
def test_allowed_origin_is_echoed_with_vary_origin(widget_client, widget_key, origin):
    response = search(widget_client, widget_key, origin)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == origin
    assert "Origin" in response.headers.get_all("Vary") or "Origin" in response.headers["Vary"]
    assert response.headers["Access-Control-Allow-Headers"] == "Authorization, Content-Type, X-KB-Session, X-KB-Channel"


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example.com",
        "null",
        "https://intranet.example.com.evil.net",
        "http://intranet.example.com",
    ],
    ids=["other", "null", "suffix", "other-scheme"],
)
def test_other_origins_get_no_cors_headers(widget_client, widget_key, origin):
    response = search(widget_client, widget_key, origin)
    assert response.status_code == 200
    assert [name for name in CORS_HEADERS if name in response.headers] == []
    assert "Origin" in response.headers["Vary"]


def test_no_origin_configured_means_no_cors_headers(indexed_client):
    response = indexed_client.get("/api/v1/search?q=printer", headers={"Origin": ALLOWED})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_preflight_from_allowed_origin_is_204_with_cors_headers(widget_client):
    response = widget_client.options(
        "/api/v1/search?q=printer",
        headers={
            "Origin": ALLOWED,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert response.status_code == 204
    assert response.data == b""
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert response.headers["Access-Control-Allow-Headers"] == "Authorization, Content-Type, X-KB-Session, X-KB-Channel"
    assert response.headers["Access-Control-Allow-Methods"] == "GET, POST, OPTIONS"
    assert response.headers["Access-Control-Max-Age"] == "600"


def test_preflight_for_feedback_is_answered_too(widget_client):
    response = widget_client.options(
        "/api/v1/feedback",
        headers={
            "Origin": ALLOWED,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert (response.status_code, response.headers["Access-Control-Allow-Origin"]) == (204, ALLOWED)


@pytest.mark.parametrize("origin", ["https://evil.example.com", "null"])
def test_preflight_from_other_origin_is_refused_without_cors_headers(widget_client, origin):
    response = widget_client.options(
        "/api/v1/search", headers={"Origin": origin, "Access-Control-Request-Method": "GET"}
    )
    assert response.status_code == 403
    assert [name for name in CORS_HEADERS if name in response.headers] == []
    assert response.get_json()["error"] == f"the origin {origin!r} is not allowed: add it to KB_WIDGET_ORIGINS"


def test_error_answers_to_allowed_origin_carry_cors_headers(widget_client, widget_key):
    missing_key = widget_client.get("/api/v1/search?q=printer", headers={"Origin": ALLOWED})
    bad_limit = widget_client.get("/api/v1/search?q=printer&limit=0", headers={"Origin": ALLOWED, **auth(widget_key)})
    unknown = widget_client.get("/api/v1/calls/NOPE", headers={"Origin": ALLOWED, **auth(widget_key)})
    assert [r.status_code for r in (missing_key, bad_limit, unknown)] == [401, 400, 404]
    assert [r.headers.get("Access-Control-Allow-Origin") for r in (missing_key, bad_limit, unknown)] == [ALLOWED] * 3
    assert bad_limit.get_json()["error"] == "'limit' must be between 1 and 50"


def test_cors_headers_only_on_the_api(widget_client):
    page = widget_client.get("/", headers={"Origin": ALLOWED})
    assert "Access-Control-Allow-Origin" not in page.headers


def test_widget_key_searches_and_sends_feedback(widget_client, widget_key, store):
    headers = {"Origin": ALLOWED, **auth(widget_key)}
    found = widget_client.get("/api/v1/search?q=rowter+dropping", headers=headers)
    sent = widget_client.post(
        "/api/v1/feedback", headers=headers, json={"call_id": "T-001", "query": "rowter dropping", "source": "widget"}
    )
    assert found.get_json()["results"][0]["id"] == "T-001"
    assert sent.status_code == 201
    assert [(row["query"], row["source"]) for row in store.feedback_for("T-001")] == [("rowter dropping", "widget")]


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("post", "/api/v1/calls", {"id": "X-1", "title": "Sneaky write"}),
        ("put", "/api/v1/calls/T-001", {"title": "Overwritten"}),
        ("delete", "/api/v1/calls/T-001", None),
    ],
    ids=["post", "put", "delete"],
)
def test_widget_key_can_never_write(widget_client, widget_key, method, path, body):
    response = getattr(widget_client, method)(path, json=body, headers={"Origin": ALLOWED, **auth(widget_key)})
    assert response.status_code == 403
    assert response.get_json()["error"] == "this API key may only search; writing needs a key with the 'write' role"
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert widget_client.get("/api/v1/calls/T-001", headers=auth(widget_key)).get_json()["title"] == (
        "Router keeps dropping connection"
    )


def test_widget_script_is_served_as_cacheable_javascript(widget_client):
    response = widget_client.get("/widget.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    text = response.data.decode()
    assert text.startswith("/* Support KB search widget")
    assert "attachShadow" in text
    assert "var WIDGET_CSS = " in text


def test_widget_script_answers_304_to_its_etag(widget_client):
    etag = widget_client.get("/widget.js").headers["ETag"]
    again = widget_client.get("/widget.js", headers={"If-None-Match": etag})
    assert again.status_code == 304


def test_widget_script_keeps_its_names_to_itself(widget_client):
    """The script runs in the host's page: all of it sits inside one function, so it adds no globals."""
    text = widget_client.get("/widget.js").data.decode()
    body = text.split("\n", 1)[1]
    assert body.startswith("(function () {")
    assert body.rstrip().endswith("}());")
