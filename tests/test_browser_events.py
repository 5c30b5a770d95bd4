"""The agents' page tells the analytics once per opened hit, by keyboard or by mouse (issue #17)."""

import re
import time
from urllib.parse import parse_qs, urlparse

import pytest

from indexer.context import open_knowledge_base

pytest_plugins = ["browser"]
pytestmark = pytest.mark.browser
SETTLE_S = 1.5


def opened_events(kb_server, search_id):
    """The 'opened' events the server stored for one search."""
    kb = open_knowledge_base(overrides={"KB_DATA_DIR": str(kb_server.data_dir), "KB_DATABASE_URL": ""}, environ={})
    try:
        rows = kb.store._rows("SELECT call_id FROM search_events WHERE search_id = ? AND kind = 'opened'", (search_id,))
        return [row["call_id"] for row in rows]
    finally:
        kb.close()


def events_after_opening(page, kb_server, query, open_hit):
    """Search, open the first hit with ``open_hit(link)``, and return the events stored for that search."""
    page.goto(kb_server.url + "/")
    page.locator("#q").press_sequentially(query)
    page.wait_for_function("q => document.querySelector('#results').dataset.query === q", arg=query)
    link = page.locator("#results .hit-link").first
    search_id = parse_qs(urlparse(link.get_attribute("href")).query)["sid"][0]
    open_hit(link)
    page.wait_for_url(re.compile(r"/calls/"))
    deadline = time.monotonic() + 10
    while not opened_events(kb_server, search_id) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(SETTLE_S)  # a second event, if one were sent, arrives by now
    return opened_events(kb_server, search_id)


def test_opening_a_hit_with_enter_sends_one_opened_event(page, kb_server):
    def press_enter(link):
        link.focus()
        page.keyboard.press("Enter")

    assert events_after_opening(page, kb_server, "rowter dropping", press_enter) == ["T-001"]


def test_opening_a_hit_with_the_mouse_sends_one_opened_event(page, kb_server):
    assert events_after_opening(page, kb_server, "outlok pasword", lambda link: link.click()) == ["T-005"]
