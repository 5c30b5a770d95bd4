"""What gunicorn (with gunicorn.conf.py) lets through: long queries, and chunked bodies over the limit (issue #17)."""

import json
import socket
from urllib.parse import quote_plus

import pytest
from conftest import TEST_DATA
from servers import WRITE_KEY, Server, run_cli

pytestmark = pytest.mark.slow
ERROR_KEYS = {"ok", "error", "errors", "status"}


def comparable(answer):
    """A search answer without what differs between two runs of one search."""
    return {key: value for key, value in answer.json().items() if key not in ("search_id", "took_ms")}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("limits") / "var"
    assert run_cli(folder, "import", TEST_DATA / "calls.json").returncode == 0
    with Server(folder, workers=1, KB_MAX_BODY_BYTES=20_000, KB_RATE_LIMIT="") as running:
        yield running


def test_a_query_of_8000_characters_in_the_url_gets_200_through_gunicorn(server):
    query = ("printer offline " * 600)[:8000].strip()
    answer = server.request("GET", "/api/v1/search?limit=3&q=" + quote_plus(query))
    assert (answer.status, answer.headers["content-type"], answer.json()["query"]) == (200, "application/json", query)


def test_a_query_of_10000_characters_posted_gets_the_same_answer_as_in_the_url(server):
    query = ("router dropping " * 700)[:9_999] + "s"
    assert len(query) == 10_000
    posted = server.request("POST", "/api/v1/search", body={"q": query, "limit": 3})
    assert (posted.status, posted.json()["query"], posted.json()["total"] > 0) == (200, query, True)
    short = "rowter dropping"
    in_url = server.request("GET", "/api/v1/search?limit=3&facets=true&q=" + quote_plus(short))
    in_body = server.request("POST", "/api/v1/search", body={"q": short, "limit": 3, "facets": True})
    assert (in_url.status, in_body.status) == (200, 200)
    assert comparable(in_body) == comparable(in_url)


def test_a_chunked_body_over_the_limit_gets_413_in_the_error_shape(server):
    chunk = b'{"id": "C-1", "title": "' + b"x" * 5000
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in [chunk] * 5) + b"0\r\n\r\n"
    head = (
        "POST /api/v1/calls HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {WRITE_KEY}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
        conn.sendall(head.encode() + chunks)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    body = json.loads(rest.split(b"\r\n\r\n", 1)[1])
    assert (status_line, set(body), body["status"]) == (b"HTTP/1.1 413 REQUEST ENTITY TOO LARGE", ERROR_KEYS, 413)
    assert body["error"] == "the request body is over the limit of 20,000 bytes"
