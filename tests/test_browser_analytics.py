"""The team leads' analytics page in a real browser: totals, the two SVG charts and the tables."""

import json
import urllib.request

import pytest

# One gunicorn and one chromium for all browser tests: the fixtures live in tests/browser.py.
pytest_plugins = ["browser"]
pytestmark = pytest.mark.browser


def api(kb_server, path, body=None, session="analytics-browser"):
    headers = {"X-KB-Session": session, "X-KB-Channel": "page", "Content-Type": "application/json"}
    data = None if body is None else json.dumps(body).encode()
    with urllib.request.urlopen(urllib.request.Request(kb_server.url + path, data=data, headers=headers)) as answer:
        return json.loads(answer.read())


@pytest.fixture(scope="module")
def some_searches(kb_server):
    """A few searches (one finding nothing) and one "This solved it", so that every table has rows."""
    api(kb_server, "/api/v1/search?q=outlook+password", session="analytics-browser-2")
    found = api(kb_server, "/api/v1/search?q=printer+jam")
    # Feedback on a call that the page and widget tests do not count feedback for (they use T-005 and T-006).
    assert found["results"][0]["id"] not in ("T-005", "T-006")
    api(
        kb_server,
        "/api/v1/feedback",
        {
            "call_id": found["results"][0]["id"],
            "query": "printer jam",
            "source": "page",
            "search_id": found["search_id"],
        },
    )
    api(kb_server, "/api/v1/search?q=zzqx+flurble", session="analytics-browser-3")


def test_analytics_page_shows_totals_charts_and_tables(page, kb_server, some_searches, screenshot):
    page.goto(kb_server.url + "/analytics/")
    page.locator("#key").fill(kb_server.write_key)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(kb_server.url + "/analytics/")
    # Each worker writes its own searches once they have settled and its follower's interval comes round, so the
    # three searches above land a few seconds apart, in any order: reload until all of them are counted.
    for _ in range(30):
        counted = page.locator(".totals strong").first.inner_text()
        if "zzqx flurble" in page.locator(".tables").inner_text() and int(counted) >= 3:
            break
        page.wait_for_timeout(500)
        page.reload()
    totals = page.locator(".totals li").all_inner_texts()
    assert [text.split(" ", 1)[1] for text in totals][:2] == ["searches", "with no result"]
    assert int(page.locator(".totals strong").first.inner_text()) >= 3
    charts = page.locator("img.chart")
    assert charts.count() == 2
    page.wait_for_function("() => [...document.querySelectorAll('img.chart')].every(i => i.complete)")
    assert charts.evaluate_all("imgs => imgs.map(i => i.naturalWidth > 0)") == [True, True]
    headings = page.locator(".tables h2").all_inner_texts()
    assert headings == [
        "Top queries",
        "Queries with no results",
        "Queries where nothing was opened or solved",
        "Calls that solve the most",
        "By contact channel",
    ]
    assert "zzqx flurble" in page.locator(".tables section").nth(1).locator("td").all_inner_texts()
    assert page.locator(".tables section").nth(3).locator("tbody tr").count() >= 1
    assert page.console_errors == []
    screenshot(page, "analytics", full_page=True)
