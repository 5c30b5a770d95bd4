"""The agents' page rendered on the server (issue #2; the full page is issue #4)."""

import re

from conftest import auth, sign_in


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


def test_filters_list_the_commonest_values_and_the_rest_behind_more(indexed_client):
    """A large knowledge base counts hundreds of products; the page lists ten (issue #16)."""
    query = "connect keeps back not no from"
    answer = indexed_client.get("/api/v1/search", query_string={"q": query, "facets": "true"}).get_json()
    counted = [value for value, _ in sorted(answer["facets"]["product"].items(), key=lambda pair: (-pair[1], pair[0]))]
    page = indexed_client.get("/", query_string={"q": query}).data.decode()
    products = page.split('data-facet="product">')[1].split("</section>")[0]
    listed, more = products.split('<details class="facet-more">')
    assert re.findall(r'data-facet="product" data-value="([^"]+)"', listed) == counted[:10]
    assert "<summary>2 more</summary>" in more
    assert re.findall(r'data-facet="product" data-value="([^"]+)"', more) == counted[10:]


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


def signed_in(client):
    """Sign ``client`` in with the write key; returns the session's form token."""
    sign_in(client)
    with client.session_transaction() as session:
        return session["csrf"]


def test_capture_form_sends_a_visitor_to_the_sign_in_and_back(indexed_client):
    response = indexed_client.get("/calls/new")
    assert (response.status_code, response.headers["Location"]) == (302, "/lead/login?next=/calls/new")
    back = sign_in(indexed_client, next="/calls/T-005/edit")
    assert back.headers["Location"] == "/calls/T-005/edit"


def test_capture_form_refuses_a_post_without_the_form_token(indexed_client):
    signed_in(indexed_client)
    response = indexed_client.post("/calls/new", data={"csrf": "forged", "title": "Zqxjkv forged", "agent": "Sam"})
    assert response.status_code == 400
    assert indexed_client.get("/api/v1/search?q=zqxjkv").get_json()["total"] == 0


def test_a_captured_call_is_searchable_at_once(indexed_client):
    csrf = signed_in(indexed_client)
    response = indexed_client.post(
        "/calls/new",
        data={
            "csrf": csrf,
            "agent": "Sam",
            "title": "Frobnicator hums loudly",
            "resolution": "Tightened the fan",
            "tags": "fan, noise",
            "status": "resolved",
        },
    )
    assert response.status_code == 302
    call_id = response.headers["Location"].rsplit("/", 1)[1]
    assert re.fullmatch(r"CALL-\d{8}-\d{6}-[0-9a-f]{4}", call_id)
    assert indexed_client.get("/api/v1/search?q=frobnicator").get_json()["results"][0]["id"] == call_id
    assert indexed_client.get(f"/api/v1/calls/{call_id}").get_json()["tags"] == ["fan", "noise"]


def test_capture_error_is_shown_by_its_field_and_keeps_the_typed_text(indexed_client):
    csrf = signed_in(indexed_client)
    response = indexed_client.post(
        "/calls/new",
        data={
            "csrf": csrf,
            "agent": "Sam",
            "title": "",
            "problem": "",
            "resolution": "<b>typed</b> text",
            "status": "open",
        },
    )
    page = response.data.decode()
    assert response.status_code == 422
    assert (
        '<p class="field-error" id="title-error" role="alert">'
        "at least one of &#39;title&#39; and &#39;problem&#39; must be non-empty</p>"
    ) in page
    assert ">&lt;b&gt;typed&lt;/b&gt; text</textarea>" in page
    assert '<option value="open" selected>' in page


def test_capture_refuses_an_id_that_exists(indexed_client):
    csrf = signed_in(indexed_client)
    response = indexed_client.post("/calls/new", data={"csrf": csrf, "agent": "Sam", "id": "T-005", "title": "Other"})
    assert response.status_code == 422
    assert "a call with id &#39;T-005&#39; exists already: edit that call instead" in response.data.decode()


def test_editing_from_the_page_keeps_other_fields_and_shows_the_history(indexed_client):
    csrf = signed_in(indexed_client)
    form = indexed_client.get("/calls/T-005/edit").data.decode()
    assert 'value="Outlook keeps asking for password"' in form
    before = indexed_client.get("/api/v1/calls/T-005").get_json()
    response = indexed_client.post(
        "/calls/T-005/edit",
        data={
            "csrf": csrf,
            "agent": "Kim",
            "id": "RENAMED",
            "title": "Outlook keeps asking for the password",
            "problem": before["problem"],
            "resolution": before["resolution"],
            "product": before["product"],
            "category": before["category"],
            "tags": ", ".join(before["tags"]),
            "status": "resolved",
        },
    )
    assert response.headers["Location"] == "/calls/T-005"
    after = indexed_client.get("/api/v1/calls/T-005").get_json()
    assert {**before, "title": "Outlook keeps asking for the password", "status": "resolved"} == after
    page = indexed_client.get("/calls/T-005").data.decode()
    assert '<span class="actor">Kim</span> <span class="op">update</span>' in page
    assert "<del>Outlook keeps asking for password</del> → <ins>Outlook keeps asking for the password</ins>" in page


def test_caller_context_lists_open_calls_first_and_badges_the_callers_product(indexed_client):
    same = {"title": "Headset crackles", "problem": "Headset crackles on calls"}
    indexed_client.post(
        "/api/v1/calls",
        headers=auth(),
        json=[
            {"id": "P-1", "product": "Jabra Evolve2", **same},
            {"id": "P-2", "product": "Poly Voyager", **same},
            {
                "id": "P-3",
                "title": "Pairing",
                "customer_id": "ACC-5",
                "customer_name": "Quayside <Opticians>",
                "product": "Poly Voyager",
                "status": "resolved",
                "resolution": "Re-paired the dongle",
            },
            {"id": "P-4", "title": "Battery", "customer_id": "ACC-5", "product": "Poly Voyager", "status": "open"},
        ],
    )
    page = indexed_client.get("/?caller=ACC-5&q=headset+crackles").data.decode()
    assert "Quayside &lt;Opticians&gt;" in page
    assert page.index('data-id="P-4"') < page.index('data-id="P-3"') < page.index('class="hit" data-id="P-2"')
    assert page.index('class="hit" data-id="P-2"') < page.index('class="hit" data-id="P-1"')
    assert '<li class="badge badge-caller-product">your caller&#39;s product: Poly Voyager</li>' in page
    assert 'value="ACC-5"' in page


def test_unknown_caller_says_there_are_no_calls(indexed_client):
    page = indexed_client.get("/?caller=ACC-404").data.decode()
    assert "No calls on record for account ACC-404." in page


def test_empty_page_suggests_the_sample_caller_only_when_it_exists(indexed_client):
    assert 'id="try-caller"' not in indexed_client.get("/").data.decode()
    indexed_client.post(
        "/api/v1/calls", headers=auth(), json={"id": "S-1", "title": "Router", "customer_id": "ACC-1001"}
    )
    assert '<a href="/?caller=ACC-1001">ACC-1001</a>' in indexed_client.get("/").data.decode()
