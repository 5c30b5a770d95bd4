"""Keys, escaping, rate limits, headers, error bodies and logs (issue #6)."""

import gc
import logging
import socket
import sqlite3
import time
from html.parser import HTMLParser

import pytest
from conftest import WRITE_KEY, auth, settings_for, sign_in
from servers import Server

from app import create_app

ERROR_KEYS = {"ok", "error", "errors", "status"}
GENERIC_500 = "internal error: the server could not finish this request"
XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '"><script>alert(1)</script>',
    "'><img src=x onerror=alert(1)>",
    "<iframe src=javascript:alert(1)></iframe>",
    "<body onload=alert(1)>",
    '<a href="javascript:alert(1)">click</a>',
    '<div style="background:url(javascript:alert(1))">',
    "<input autofocus onfocus=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<object data="javascript:alert(1)"></object>',
    "<embed src=javascript:alert(1)>",
    "</textarea><script>alert(1)</script>",
    "<mark onclick=alert(1)>printer</mark>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "javascript:/*--></title></style></textarea></script><svg/onload='+/\"/+/onmouseover=1/+/[*/[]/+alert(1)//'>",
]


class TagCollector(HTMLParser):
    """Every start tag of an HTML document or fragment, with its attributes."""

    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        self.tags.append(("/" + tag, {}))


def tags_in(html):
    """The (tag, attributes) pairs an HTML text holds."""
    parser = TagCollector()
    parser.feed(html)
    parser.close()
    return parser.tags


def injected_markup(html, baseline):
    """Tags or attribute names in ``html`` that the same page without hostile input does not have,
    event-handler attributes, and links or sources that run script."""
    known = {(tag, tuple(sorted(attrs))) for tag, attrs in tags_in(baseline)}
    found = []
    for tag, attrs in tags_in(html):
        runs_script = any(
            attrs.get(name, "") and attrs[name].strip().lower().startswith("javascript:")
            for name in ("href", "src", "action", "data", "formaction")
        )
        if runs_script or any(name.startswith("on") for name in attrs) or (tag, tuple(sorted(attrs))) not in known:
            found.append((tag, attrs))
    return found


@pytest.fixture
def hostile_client(data_folder):
    """A client of an app whose store holds one call per XSS payload, in title, problem and resolution."""
    app = create_app(settings_for(data_folder, KB_RATE_LIMIT=""))
    client = app.test_client()
    records = [
        {
            "id": f"X-{n:02d}",
            "title": f"printer {payload}",
            "problem": f"printer offline {payload}",
            "resolution": f"restart {payload}",
            "product": payload,
            "category": payload,
        }
        for n, payload in enumerate(XSS_PAYLOADS)
    ]
    assert client.post("/api/v1/calls", json=records, headers=auth()).status_code == 201
    return client


def test_at_least_fifteen_classic_xss_payloads_are_tested():
    assert len(set(XSS_PAYLOADS)) >= 15


def test_api_snippets_and_titles_hold_only_mark_tags(hostile_client):
    for payload in XSS_PAYLOADS:
        body = hostile_client.get("/api/v1/search", query_string={"q": f"printer {payload}", "limit": 50}).get_json()
        assert len(body["results"]) >= 1
        for hit in body["results"]:
            tags = tags_in(hit["snippet"] + hit["title_html"])
            assert {(tag, tuple(attrs)) for tag, attrs in tags} <= {("mark", ()), ("/mark", ())}


def test_search_page_escapes_hostile_queries_and_records(hostile_client):
    baseline = hostile_client.get("/?q=printer").get_data(as_text=True)
    for payload in XSS_PAYLOADS:
        page = hostile_client.get("/", query_string={"q": f"printer {payload}"}).get_data(as_text=True)
        assert injected_markup(page, baseline) == []
        assert payload not in page or payload.startswith("&lt;")


def test_call_page_escapes_every_field(hostile_client):
    baseline = hostile_client.get("/calls/X-00?q=printer").get_data(as_text=True)
    for number, payload in enumerate(XSS_PAYLOADS):
        response = hostile_client.get(f"/calls/X-{number:02d}", query_string={"q": payload})
        assert response.status_code == 200
        assert injected_markup(response.get_data(as_text=True), baseline) == []


def test_keys_made_with_the_cli_write_search_and_stop_working_when_revoked(runner, data_folder):
    created_write = runner("keys", "create", "--role", "write", "--name", "crm")
    created_search = runner("keys", "create", "--role", "search")
    assert (created_write.exit_code, created_search.exit_code) == (0, 0)
    write_id, write_key = created_write.output.split()[0], created_write.output.splitlines()[0].split(": ")[1]
    search_key = created_search.output.splitlines()[0].split(": ")[1]
    client = create_app(
        settings_for(data_folder, KB_API_KEYS="", KB_SEARCH_KEY_REQUIRED="true", KB_RATE_LIMIT="")
    ).test_client()
    record = {"id": "K-1", "title": "Printer offline", "problem": "spooler stuck"}

    assert client.post("/api/v1/calls", json=record, headers=auth(write_key)).status_code == 201
    assert client.get("/api/v1/search?q=printer", headers=auth(search_key)).status_code == 200
    refused = client.post("/api/v1/calls", json=record, headers=auth(search_key))
    assert (refused.status_code, refused.get_json()["error"]) == (
        403,
        "this API key may only search; writing needs a key with the 'write' role",
    )

    assert runner("keys", "revoke", write_id).exit_code == 0
    revoked = client.post("/api/v1/calls", json=record, headers=auth(write_key))
    assert (revoked.status_code, revoked.get_json()["error"]) == (
        401,
        "the API key is not valid (unknown, revoked or expired)",
    )
    listed = runner("keys", "list").output
    assert (write_id in listed, "revoked" in listed, write_key in listed, search_key in listed) == (
        True,
        True,
        False,
        False,
    )


def test_keys_are_stored_as_hashes_only(runner, data_folder):
    secret = runner("keys", "create", "--role", "write").output.splitlines()[0].split(": ")[1]
    db = sqlite3.connect(data_folder / "calls.db")
    dump = "\n".join(db.iterdump())
    db.close()
    assert secret not in dump
    assert len(dump) > 0


@pytest.mark.parametrize(("required", "status"), [("true", 401), ("false", 200)], ids=["required", "not-required"])
def test_search_key_setting_decides_whether_search_needs_a_key(data_folder, required, status):
    client = create_app(settings_for(data_folder, KB_SEARCH_KEY_REQUIRED=required)).test_client()
    assert client.get("/api/v1/search?q=printer").status_code == status
    assert client.get("/api/v1/search?q=printer", headers=auth()).status_code == 200


def test_rate_limit_answers_429_with_retry_after_in_the_error_shape(data_folder):
    client = create_app(settings_for(data_folder, KB_RATE_LIMIT="5 per minute")).test_client()
    statuses = [client.get("/api/v1/search?q=printer").status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    response = client.get("/api/v1/search?q=printer")
    body = response.get_json()
    assert (set(body), body["ok"], body["status"]) == (ERROR_KEYS, False, 429)
    assert body["error"].startswith("too many requests: the limit is 5 per 1 minute")
    assert 1 <= int(response.headers["Retry-After"]) <= 61
    assert client.get("/").status_code == 429  # the budget is per caller, across routes


def test_rate_limit_counts_each_key_apart_and_exempts_health_and_static(data_folder):
    client = create_app(settings_for(data_folder, KB_RATE_LIMIT="3 per minute")).test_client()
    assert [client.get("/api/v1/search?q=x").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert [client.get("/api/v1/search?q=x", headers=auth()).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert [client.get("/healthz").status_code for _ in range(5)] == [200] * 5
    assert [_status_and_close(client.get("/static/app.css")) for _ in range(5)] == [200] * 5


def _status_and_close(response):
    response.close()
    return response.status_code


@pytest.mark.parametrize(
    "path",
    ["/", "/?q=printer", "/api/v1/search?q=printer", "/api/v1/nope", "/healthz", "/calls/none", "/api/v1/openapi.json"],
)
def test_every_response_carries_the_security_headers(indexed_client, path):
    response = indexed_client.get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def _break_the_index(app):
    """Overwrite every file of the index in use with garbage and make searchers reopen it."""
    home = app.extensions["kb"].home
    folder = home.current_dir()
    for path in folder.iterdir():
        if path.is_file() and path.suffix in (".toc", ".seg", ".pst", ".trm"):
            path.write_bytes(b"\x00garbage" * 64)
    renamed = folder.with_name(folder.name + "-broken")
    folder.rename(renamed)
    (home.root / "CURRENT").write_text(renamed.name + "\n")


# Whoosh leaves the garbage file it failed to read open; that is collected (and ignored) here.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_an_internal_error_shows_the_generic_message_without_a_traceback(indexed_app, caplog):
    _break_the_index(indexed_app)
    client = indexed_client = indexed_app.test_client()
    with caplog.at_level(logging.ERROR):
        api = indexed_client.get("/api/v1/search?q=printer")
        page = client.get("/?q=printer")
    assert api.status_code in (500, 503)
    if api.status_code == 500:
        assert api.get_json()["error"] == GENERIC_500
    for text in (api.get_data(as_text=True), page.get_data(as_text=True)):
        assert ("Traceback" in text, 'File "' in text, "whoosh" in text.lower()) == (False, False, False)
    gc.collect()


def test_logs_never_hold_api_keys(indexed_client, caplog):
    with caplog.at_level(logging.DEBUG):
        indexed_client.post("/api/v1/calls", json={"id": "L-1", "title": "Printer"}, headers=auth())
        indexed_client.post("/api/v1/calls", json={"id": "L-2"}, headers=auth())
        indexed_client.post("/api/v1/calls", json={"id": "L-3", "title": "x"}, headers=auth("kb_write_wrong-key-123"))
        indexed_client.get("/api/v1/search?q=printer", headers=auth())
    assert len(caplog.records) >= 0
    assert (WRITE_KEY in caplog.text, "kb_write_wrong-key-123" in caplog.text) == (False, False)


@pytest.mark.slow
def test_gunicorn_refuses_a_huge_body_with_413_before_reading_it(tmp_path):
    with Server(tmp_path / "var", workers=1) as server:
        started = time.perf_counter()
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
            conn.sendall(
                b"POST /api/v1/calls HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                + f"Authorization: Bearer {WRITE_KEY}\r\nContent-Length: 50000000\r\n\r\n".encode()
                + b'{"id": "BIG-1", "title": "'
            )
            answer = b""
            while b"\r\n\r\n" not in answer:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                answer += chunk
        elapsed = time.perf_counter() - started
        log = server.log()
    assert answer.split(b"\r\n", 1)[0] == b"HTTP/1.1 413 REQUEST ENTITY TOO LARGE"
    assert elapsed < 5
    assert WRITE_KEY not in log


def test_the_page_asks_agents_to_sign_in_when_searching_needs_a_key(data_folder):
    from conftest import settings_for

    from app import create_app

    client = create_app(settings_for(data_folder, KB_SEARCH_KEY_REQUIRED="true")).test_client()
    assert client.get("/?q=printer").status_code == 302
    assert client.get("/api/v1/search?q=printer", headers={"X-KB-Channel": "page"}).status_code == 401
    sign_in(client)
    assert client.get("/?q=printer").status_code == 200
    assert client.get("/api/v1/search?q=printer", headers={"X-KB-Channel": "page"}).status_code == 200
    assert client.get("/api/v1/search?q=printer").status_code == 401
