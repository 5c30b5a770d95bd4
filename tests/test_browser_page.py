"""The agents' page in a real browser against a real gunicorn (issue #4)."""

import re
from urllib.parse import parse_qs, urlparse

import pytest

# One gunicorn and one chromium for all browser tests: the fixtures live in tests/browser.py.
pytest_plugins = ["browser"]
pytestmark = pytest.mark.browser

HOSTILE_TITLE = "<img src=x onerror=alert(1)>Printer jam"
# Any of these words: calls of all 12 products of tests/data/calls.json match (more than the ten listed).
MANY_PRODUCTS = "connect keeps back not no from"


def search(page, kb_server, text):
    """Open the page, type ``text`` key by key and wait for the answer to that text."""
    page.goto(kb_server.url + "/")
    page.locator("#q").press_sequentially(text)
    wait_for_results(page, text)


def wait_for_results(page, text):
    """Wait until the list shows the answer to ``text`` (not to a shorter prefix typed before it)."""
    page.wait_for_function("q => document.querySelector('#results').dataset.query === q", arg=text)


def hit_ids(page):
    return page.locator("#results .hit").evaluate_all("hits => hits.map(h => h.dataset.id)")


def query_of(url):
    return {name: values[0] for name, values in parse_qs(urlparse(url).query).items()}


def test_misspelt_query_finds_the_router_call_first_as_you_type(page, kb_server, screenshot):
    page.goto(kb_server.url + "/")
    page.evaluate("window.loadedOnce = true")
    page.locator("#q").press_sequentially("rowter dropping")
    wait_for_results(page, "rowter dropping")
    assert query_of(page.url) == {"q": "rowter dropping"}
    first = page.locator("#results .hit").first
    assert hit_ids(page)[0] == "T-001"
    assert first.locator(".hit-link").inner_text() == "Router keeps dropping connection"
    assert first.locator(".hit-link mark").all_inner_texts() == ["Router", "dropping"]
    assert "typo: rowter → router" in first.locator(".badge-typo").all_inner_texts()
    assert first.locator(".meta").inner_text() == "Netgear Nighthawk R7000 · connectivity"
    assert first.locator(".resolution-text").inner_text().startswith("Updated the router firmware")
    assert page.locator("#dym .dym-link").inner_text() == "router dropping"
    assert page.evaluate("window.loadedOnce") is True  # no page reload while typing
    assert page.console_errors == []
    screenshot(page, "page-results")


def test_each_keystroke_asks_the_server_for_its_search_only(page, kb_server):
    """The browser asked for the page's icon again on each keystroke's URL change, taking a worker (issue #16)."""
    page.goto(kb_server.url + "/")
    page.wait_for_load_state("networkidle")
    asked = []
    page.on("request", lambda request: asked.append(urlparse(request.url).path))
    page.locator("#q").press_sequentially("printer")
    wait_for_results(page, "printer")
    page.wait_for_timeout(300)
    assert asked == ["/api/v1/search"] * len("printer")


def test_second_misspelt_query_finds_outlook_call(page, kb_server):
    search(page, kb_server, "outlok pasword")
    assert hit_ids(page)[0] == "T-005"
    assert page.locator("#results .hit").first.locator(".badge-typo").all_inner_texts() == [
        "typo: outlok → outlook",
        "typo: pasword → password",
    ]


def test_keyboard_moves_opens_copies_and_goes_back(page, kb_server, screenshot):
    page.goto(kb_server.url + "/")
    page.evaluate("document.activeElement.blur()")
    assert page.evaluate("document.activeElement === document.body") is True
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.type("rowter dropping")
    wait_for_results(page, "rowter dropping")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.closest('.hit').dataset.id") == "T-017"
    page.keyboard.press("ArrowUp")
    assert page.evaluate("document.activeElement.closest('.hit').dataset.id") == "T-001"
    screenshot(page, "page-keyboard-selected")
    page.keyboard.press("c")
    page.locator("#toast").filter(has_text="Copied the resolution of T-001").wait_for()
    assert page.evaluate("navigator.clipboard.readText()").startswith("Updated the router firmware, moved")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/calls/T-001\?q=rowter"))
    assert page.locator("h1").inner_text() == "Router keeps dropping connection"
    page.keyboard.press("Escape")
    page.wait_for_url(re.compile(r"/\?q=rowter"))
    page.wait_for_function("() => document.activeElement.closest && document.activeElement.closest('.hit')")
    assert page.evaluate("document.activeElement.closest('.hit').dataset.id") == "T-001"
    page.keyboard.press("Escape")
    assert page.evaluate("document.activeElement.id") == "q"


def test_copy_key_on_the_call_view_copies_the_whole_resolution(page, kb_server):
    page.goto(kb_server.url + "/calls/T-005")
    page.keyboard.press("c")
    page.locator("#toast").filter(has_text="Copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == page.locator("#resolution").inner_text()


def test_filters_show_counts_live_in_the_url_and_follow_the_back_button(page, kb_server, screenshot):
    search(page, kb_server, "printer")
    everything = hit_ids(page)
    link = page.locator(".facet-link[data-facet=product][data-value='HP Color LaserJet Pro M454dw']")
    count = int(link.locator(".count").inner_text())
    link.click()
    page.wait_for_function("() => new URLSearchParams(location.search).get('product')")
    page.wait_for_function("() => document.querySelector('.facet-link.active')")
    assert query_of(page.url) == {"q": "printer", "product": "HP Color LaserJet Pro M454dw"}
    filtered = hit_ids(page)
    assert set(page.locator("#results .meta").all_inner_texts()) == {"HP Color LaserJet Pro M454dw · printing"}
    assert len(filtered) == count < len(everything)
    screenshot(page, "page-filtered")
    page.go_back()
    page.wait_for_function("n => document.querySelectorAll('#results .hit').length === n", arg=len(everything))
    assert query_of(page.url) == {"q": "printer"}
    assert hit_ids(page) == everything
    page.go_forward()
    page.wait_for_function("n => document.querySelectorAll('#results .hit').length === n", arg=len(filtered))
    assert page.locator("#q").input_value() == "printer"


def test_filters_list_the_commonest_values_and_open_the_rest_on_asking(page, kb_server):
    """Drawing every product on every keystroke cost a large knowledge base its 150 ms (issue #16)."""
    search(page, kb_server, MANY_PRODUCTS)
    counted = page.evaluate(
        "q => fetch('/api/v1/search?facets=true&q=' + encodeURIComponent(q)).then(r => r.json())"
        ".then(body => Object.keys(body.facets.product).length)",
        MANY_PRODUCTS,
    )
    products = page.locator("#filters .facet[data-facet=product]")
    assert products.locator(".facet-link").count() == 10
    assert products.locator(".facet-more summary").inner_text() == f"{counted - 10} more"
    products.locator(".facet-more summary").click()
    rare = products.locator(".facet-more .facet-link").first
    rare.wait_for()  # drawn by the "toggle" event, a task after the click
    assert products.locator(".facet-link").count() == counted
    value = rare.get_attribute("data-value")
    rare.click()
    page.wait_for_function("() => document.querySelector('.facet-link.active')")
    assert query_of(page.url) == {"q": MANY_PRODUCTS, "product": value}
    assert products.locator(".facet-link").evaluate_all("links => links.map(a => a.dataset.value)") == [value]


def test_shared_url_with_filter_renders_on_first_load(page, kb_server):
    page.goto(kb_server.url + "/?q=printer&category=printing&product=Epson+EcoTank+ET-2850")
    assert set(page.locator("#results .meta").all_inner_texts()) == {"Epson EcoTank ET-2850 · printing"}
    assert hit_ids(page)[0] == "T-011"
    assert page.locator(".facet-link.active").count() == 2


def test_did_you_mean_runs_the_corrected_search(page, kb_server):
    search(page, kb_server, "outlok pasword")
    link = page.locator("#dym .dym-link")
    assert link.locator("mark").all_inner_texts() == ["outlook", "password"]
    link.click()
    wait_for_results(page, "outlook password")
    assert query_of(page.url) == {"q": "outlook password"}
    assert page.locator("#q").input_value() == "outlook password"
    assert hit_ids(page)[0] == "T-005"


def test_this_solved_it_records_feedback(page, kb_server, screenshot):
    page.goto(kb_server.url + "/calls/T-005?q=outlok+pasword")
    assert page.locator(".problem").inner_text().startswith("Outlook keeps asking for my password")
    assert page.locator(".tags li").all_inner_texts() == ["outlook", "password prompt"]
    assert page.locator("time").inner_text() == "2025-03-12"
    page.get_by_role("button", name="This solved it").click()
    page.locator("#solved-status").filter(has_text="Thanks").wait_for()
    assert page.locator("#solved-status").inner_text() == "Thanks — recorded that this call solved “outlok pasword”."
    screenshot(page, "page-call-solved")
    assert [(row["query"], row["source"]) for row in kb_server.feedback_for("T-005")] == [("outlok pasword", "page")]


def test_hostile_title_and_problem_show_as_text(page, kb_server):
    search(page, kb_server, "printer jam")
    hostile = page.locator("#results .hit[data-id='T-020'] .hit-link")
    assert hostile.inner_text() == HOSTILE_TITLE
    assert page.locator("#results img, #results script").count() == 0
    hostile.click()
    page.wait_for_url(re.compile(r"/calls/T-020"))
    assert page.locator("h1").inner_text() == HOSTILE_TITLE
    assert '<script>alert("x")</script>' in page.locator(".problem").inner_text()
    assert page.locator("main img, main script").count() == 0
    assert page.dialogs == []


def test_recent_searches_show_when_the_box_is_empty(page, kb_server, screenshot):
    search(page, kb_server, "bluetooth headset")
    page.keyboard.press("Enter")
    page.locator("#q").fill("")
    page.locator("#recent").wait_for()
    assert page.locator("#recent-list button").all_inner_texts() == ["bluetooth headset"]
    page.locator("#results .hit").first.wait_for(state="detached")
    screenshot(page, "page-recent")
    page.locator("#recent-list button").first.click()
    wait_for_results(page, "bluetooth headset")
    assert page.locator("#q").input_value() == "bluetooth headset"
    assert hit_ids(page)[0] == "T-006"


def test_no_results_state_gives_suggestions(page, kb_server):
    search(page, kb_server, "zzyzx qwfp")
    assert page.locator("#empty .state-title").inner_text() == "No past call matches “zzyzx qwfp”."
    assert page.locator("#status").inner_text().startswith("0 results")


def test_server_error_shows_the_error_text(page, kb_server):
    body = '{"ok": false, "error": "no index exists yet: run python -m indexer rebuild", "errors": [], "status": 503}'
    page.route(
        "**/api/v1/search?*", lambda route: route.fulfill(status=503, body=body, content_type="application/json")
    )
    page.goto(kb_server.url + "/")
    page.locator("#q").press_sequentially("printer")
    alert = page.locator("#message [role=alert]")
    alert.wait_for()
    assert alert.locator("p").all_inner_texts() == [
        "The search failed (503)",
        "no index exists yet: run python -m indexer rebuild",
    ]


def test_slow_answer_shows_still_searching_and_late_answers_never_win(page, kb_server):
    held = []
    page.route(
        "**/api/v1/search?*", lambda route: held.append(route) if "q=slow" in route.request.url else route.continue_()
    )
    page.goto(kb_server.url + "/")
    page.locator("#q").fill("slow")
    page.locator("#slow").wait_for()
    assert page.locator("#slow").inner_text() == "Still searching…"
    page.locator("#q").fill("router")
    wait_for_results(page, "router")
    assert page.locator("#slow").is_hidden() is True
    held[0].continue_()  # the stale answer arrives last; it was aborted and must not replace the results
    page.wait_for_timeout(200)
    assert hit_ids(page)[0] == "T-001"
    assert page.locator("#q").input_value() == "router"


def test_page_works_without_javascript(browser, kb_server):
    ctx = browser.new_context(java_script_enabled=False)
    try:
        tab = ctx.new_page()
        tab.goto(kb_server.url + "/?q=rowter+dropping")
        assert tab.locator("#results .hit").first.get_attribute("data-id") == "T-001"
        assert "typo: rowter → router" in tab.locator(".badge").all_inner_texts()
        tab.locator(".facet-link[data-value='Windows 11']").click()
        assert query_of(tab.url) == {"q": "rowter dropping", "product": "Windows 11"}
    finally:
        ctx.close()


def test_narrow_screen_and_200_percent_zoom_need_no_sideways_scrolling(browser, kb_server, screenshot):
    for name, options in (
        ("narrow", {"viewport": {"width": 360, "height": 740}}),
        ("zoom200", {"viewport": {"width": 640, "height": 430}, "device_scale_factor": 2}),
    ):
        ctx = browser.new_context(**options)
        try:
            tab = ctx.new_page()
            tab.goto(kb_server.url + "/?q=outlok+pasword")
            assert tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth") is True
            assert tab.locator("#results .hit").first.is_visible() is True
            screenshot(tab, f"page-{name}")
        finally:
            ctx.close()
