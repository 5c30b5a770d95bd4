"""The agents' page rendered on the server (issue #2; the full page is issue #4)."""

from conftest import auth


def test_page_shows_ranked_results_for_a_query(indexed_client):
    response = indexed_client.get("/?q=outlook+password")
    assert response.status_code == 200
    assert b"/calls/T-005" in response.data
    assert b"<mark>Outlook</mark> keeps asking for <mark>password</mark>" in response.data


def test_page_without_a_query_shows_the_search_box(indexed_client):
    response = indexed_client.get("/")
    assert response.status_code == 200
    assert b'id="q"' in response.data


def test_hostile_title_and_problem_are_escaped_in_results_and_call_view(indexed_client):
    page = indexed_client.get("/?q=printer+jam").data.decode()
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    call = indexed_client.get("/calls/T-020").data.decode()
    assert "<script>alert" not in call
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in call or "&lt;script&gt;alert(&quot;x&quot;)" in call


def test_hostile_query_is_escaped(indexed_client):
    page = indexed_client.get("/", query_string={"q": '"><script>alert(1)</script>'}).data.decode()
    assert "<script>alert(1)</script>" not in page


def test_pages_forbid_inline_script(indexed_client):
    policy = indexed_client.get("/").headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy


def test_unknown_call_page_is_a_404_page(indexed_client):
    response = indexed_client.get("/calls/NOPE")
    assert response.status_code == 404
    assert b"call NOPE not found" in response.data


def test_call_written_through_the_api_appears_on_the_page(indexed_client):
    indexed_client.post("/api/v1/calls", json={"id": "W-1", "title": "Frobnicator hums loudly"}, headers=auth())
    assert b"<mark>Frobnicator</mark> hums loudly" in indexed_client.get("/?q=frobnicator").data
