"""The widget embedded in a host page on another origin, in a real browser (issue #4)."""

import re
import urllib.request

import pytest

# One gunicorn and one chromium for all browser tests: the fixtures live in tests/browser.py.
pytest_plugins = ["browser"]
pytestmark = pytest.mark.browser

HOSTILE_TITLE = "<img src=x onerror=alert(1)>Printer jam"


def widget_search(page, url, text):
    """Open the host page, type ``text`` into the widget and wait for the widget to answer."""
    page.goto(url)
    box = page.locator("#kb-search .kb-input")  # Playwright's CSS reaches into open shadow roots
    box.press_sequentially(text)
    page.wait_for_function(
        "q => { const r = document.querySelector('#kb-search').shadowRoot;"
        " return r.querySelector('#kb-q').value === q && (r.querySelector('.results').dataset.query === q"
        " || r.querySelector('.kb-error')); }",
        arg=text,
    )
    return page.locator("#kb-search")


def widget_hit_ids(widget):
    return widget.locator(".hit").evaluate_all("hits => hits.map(h => h.dataset.id)")


def test_widget_finds_the_call_on_a_host_page_with_hostile_css(page, kb_server, host_pages, screenshot):
    widget = widget_search(page, host_pages["allowed"], "rowter dropping")
    page.wait_for_function(
        "() => document.querySelector('#kb-search').shadowRoot.querySelector('.hit')?.dataset.id === 'T-001'"
    )
    first = widget.locator(".hit").first
    assert first.locator(".hit-link").inner_text() == "Router keeps dropping connection"
    assert "typo: rowter → router" in first.locator(".badge").all_inner_texts()
    assert widget.locator(".dym-link").inner_text() == "router dropping"
    link = first.locator(".hit-link")
    assert re.fullmatch(
        re.escape(kb_server.url) + r"/calls/T-001\?q=rowter%20dropping&sid=[0-9a-f-]+", link.get_attribute("href")
    )
    assert (link.get_attribute("target"), link.get_attribute("rel")) == ("_blank", "noopener")
    host_style = page.locator(".host-text").evaluate("n => [getComputedStyle(n).color, getComputedStyle(n).fontSize]")
    ours = link.evaluate("n => [getComputedStyle(n).color, getComputedStyle(n).fontSize]")
    assert host_style == ["rgb(255, 0, 0)", "40px"]  # the host's CSS is live on the host page...
    assert ours == ["rgb(11, 92, 173)", "14px"]  # ...and does not reach into the widget
    assert page.evaluate("typeof KBCommon") == "undefined"  # no globals leak into the host
    assert page.console_errors == []
    screenshot(page, "widget-host-page")
    screenshot(widget, "widget")


def test_widget_link_opens_the_full_call_on_our_server(page, kb_server, host_pages, context):
    widget = widget_search(page, host_pages["allowed"], "outlok pasword")
    with context.expect_page() as opened:
        widget.locator(".hit-link").first.click()
    call_page = opened.value
    call_page.wait_for_load_state()
    assert call_page.url.startswith(kb_server.url + "/calls/T-005?q=outlok%20pasword&sid=")
    assert call_page.locator("h1").inner_text() == "Outlook keeps asking for password"


def test_widget_did_you_mean_runs_the_corrected_search(page, host_pages):
    widget = widget_search(page, host_pages["allowed"], "outlok pasword")
    widget.locator(".dym-link").click()
    page.wait_for_function(
        "() => document.querySelector('#kb-search').shadowRoot.querySelector('.results').dataset.query"
        " === 'outlook password'"
    )
    assert widget.locator(".dym-link").count() == 0
    assert widget.locator(".kb-input").input_value() == "outlook password"
    assert widget_hit_ids(widget)[0] == "T-005"


def test_widget_shows_a_hostile_title_as_text(page, host_pages):
    widget = widget_search(page, host_pages["allowed"], "printer jam")
    hostile = widget.locator(".hit[data-id='T-020'] .hit-link")
    assert hostile.inner_text() == HOSTILE_TITLE
    assert page.evaluate("document.querySelector('#kb-search').shadowRoot.querySelectorAll('img, script').length") == 0
    assert page.dialogs == []


def test_widget_solved_button_records_feedback_from_the_widget(page, kb_server, host_pages):
    widget = widget_search(page, host_pages["allowed"], "bluetooth headset pair")
    first = widget.locator(".hit").first
    assert first.get_attribute("data-id") == "T-006"
    first.locator(".kb-solved").click()
    first.locator(".kb-solved", has_text="Thanks").wait_for()
    assert [(r["query"], r["source"]) for r in kb_server.feedback_for("T-006")] == [
        ("bluetooth headset pair", "widget")
    ]


def test_widget_on_an_origin_not_configured_is_refused(page, kb_server, host_pages, screenshot):
    widget = widget_search(page, host_pages["refused"], "router")
    error = widget.locator(".kb-error")
    assert error.locator(".kb-error-title").inner_text() == "Could not reach the knowledge base"
    assert kb_server.refused_origin in error.inner_text()
    assert widget.locator(".hit").count() == 0
    screenshot(widget, "widget-refused")
    request = urllib.request.Request(
        kb_server.url + "/api/v1/search?q=router", headers={"Origin": kb_server.refused_origin}
    )
    with urllib.request.urlopen(request) as response:
        assert response.headers.get("Access-Control-Allow-Origin") is None


def test_widget_script_takes_the_server_url_from_its_own_src(page, kb_server, host_pages):
    page.goto(host_pages["allowed"])
    page.locator("#kb-search .kb-foot a").wait_for()
    assert page.locator("#kb-search .kb-foot a").get_attribute("href") == kb_server.url + "/"
    assert re.match(r"http://127\.0\.0\.1:\d+/$", page.url).group(0) != kb_server.url + "/"
