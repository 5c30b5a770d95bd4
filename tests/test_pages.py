"""The agents' page rendered on the server (issue #2; the full page is issue #4)."""

import re

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


def test_results_show_why_each_call_matched(indexed_client):
    page = indexed_client.get("/?q=rowter+dropping").data.decode()
    assert '<li class="badge badge-typo">typo: rowter → router</li>' in page
    assert '<li class="badge badge-exact">exact: dropping</li>' in page


def test_results_offer_the_corrected_search(indexed_client):
    page = indexed_client.get("/?q=outlok+pasword").data.decode()
    assert ('<a class="dym-link" href="/?q=outlook+password"><mark>outlook</mark> <mark>password</mark></a>') in page


def test_filters_show_counts_and_links_that_keep_the_query(indexed_client):
    page = indexed_client.get("/?q=printer").data.decode()
    assert 'href="/?q=printer&amp;product=Epson+EcoTank+ET-2850"' in page
    assert 'data-facet="category" data-value="printing"' in page


def test_active_filter_links_back_to_the_unfiltered_search(indexed_client):
    page = indexed_client.get("/?q=printer&product=Epson+EcoTank+ET-2850").data.decode()
    total = indexed_client.get("/api/v1/search?q=printer&product=Epson+EcoTank+ET-2850").get_json()["total"]
    assert 'class="facet-link active" href="/?q=printer"' in page
    assert page.count('class="hit"') == total


def test_no_results_page_gives_suggestions(indexed_client):
    page = indexed_client.get("/?q=zzyzx&category=printing").data.decode()
    assert "No past call matches “zzyzx”." in page
    assert '<a class="clear-filters" href="/?q=zzyzx">' in page


def test_call_view_shows_tags_date_and_a_solved_button(indexed_client):
    page = indexed_client.get("/calls/T-005?q=outlook").data.decode()
    assert '<time datetime="2025-03-12T08:45:00Z">2025-03-12</time>' in page
    assert "<li>password prompt</li>" in page
    assert 'data-query="outlook" data-search-id=""' in page
    assert '<button type="button" id="solved" hidden>This solved it</button>' in page


def test_pages_load_only_our_own_scripts_and_styles(indexed_client):
    page = indexed_client.get("/?q=outlook").data.decode()
    assert re.findall(r'(?:src|href)="(?:https?:)?//', page) == []
    assert re.findall(r"<script>|<script [^>]*>[^<]|\son[a-z]+=|\sstyle=", page) == []
    for name in ("page.js", "kb-common.js", "app.css"):
        with indexed_client.get(f"/static/{name}") as response:
            assert response.status_code == 200


def test_call_view_keeps_the_search_id_for_its_feedback(indexed_client):
    page = indexed_client.get("/calls/T-005?q=outlook&sid=abc123").data.decode()
    assert 'data-query="outlook" data-search-id="abc123"' in page
