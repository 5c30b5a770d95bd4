"""The "by meaning" badge of issue #16 on the agents' page and in the widget, in a real browser.

The shared browser server ranks by words only (other browser tests rely on exact ties among equal word scores);
these tests start one of their own that ranks by meaning too, its calls embedded before it starts. "the screen
goes black" shares no word with the HDMI call's title, and the model ranks that call close in meaning.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from indexer.context import open_knowledge_base

pytest_plugins = ["browser"]
pytestmark = pytest.mark.browser

QUERY = "the screen goes black"
BADGE = re.compile(r"by meaning \(0\.\d\d\)")


@pytest.fixture(scope="module")
def meaning_server(tmp_path_factory):
    """gunicorn over tests/data/calls.json with every call embedded, ranking by meaning; a host page for the widget."""
    # Imported here, once pytest has loaded tests/browser.py as a plugin (pytest_plugins above).
    from browser import CALLS, ROOT, KbServer, _clean_env, _wait_until_healthy, free_port, host_page_html, serve_html

    folder = tmp_path_factory.mktemp("meaning-kb")
    data_dir = folder / "var"
    env = {**_clean_env(), "KB_DATA_DIR": str(data_dir), "KB_SEMANTIC": "true"}
    for command in (["import", str(CALLS)], ["embed"]):
        subprocess.run([sys.executable, "-m", "indexer", *command], cwd=ROOT, env=env, check=True, capture_output=True)
    kb = open_knowledge_base(overrides={"KB_DATA_DIR": str(data_dir), "KB_DATABASE_URL": ""}, environ={})
    try:
        _, widget_key = kb.store.create_key("search", "browser-test widget")
    finally:
        kb.close()
    port, allowed = free_port(), free_port()
    origin = f"http://127.0.0.1:{allowed}"
    env.update(PORT=str(port), HOST="127.0.0.1", KB_WIDGET_ORIGINS=origin, KB_SEARCH_KEY_REQUIRED="false")
    env.update(KB_RATE_LIMIT="100000 per minute", WEB_CONCURRENCY="2")
    log = folder / "gunicorn.log"
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [gunicorn, "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    server = KbServer(f"http://127.0.0.1:{port}", data_dir, widget_key, origin, "", log, process)
    host = serve_html(origin, host_page_html(server))
    try:
        _wait_until_healthy(server.url, process, log)
        yield server
    finally:
        host.shutdown()
        host.server_close()
        process.terminate()
        process.wait(timeout=30)


def search(page, server, text):
    """Type ``text`` into the agents' page key by key and wait for the answer to that text (as test_browser_page)."""
    page.goto(server.url + "/")
    page.locator("#q").press_sequentially(text)
    page.wait_for_function("q => document.querySelector('#results').dataset.query === q", arg=text)


def widget_search(page, url, text):
    """Type ``text`` into the widget on a host page and wait for its answer (as test_browser_widget)."""
    page.goto(url)
    page.locator("#kb-search .kb-input").press_sequentially(text)
    page.wait_for_function(
        "q => { const r = document.querySelector('#kb-search').shadowRoot;"
        " return r.querySelector('#kb-q').value === q && r.querySelector('.results').dataset.query === q; }",
        arg=text,
    )
    return page.locator("#kb-search")


def test_the_page_shows_a_by_meaning_badge_with_the_similarity(page, meaning_server, screenshot):
    search(page, meaning_server, QUERY)
    hit = page.locator("#results .hit[data-id='T-013']")
    assert hit.count() == 1
    (badge,) = hit.locator(".badge-meaning").all_inner_texts()
    assert BADGE.fullmatch(badge) is not None
    assert page.console_errors == []
    screenshot(page, "page-meaning-badge")


def test_the_widget_shows_the_same_badge(page, meaning_server):
    widget = widget_search(page, meaning_server.allowed_origin + "/", QUERY)
    page.wait_for_function(
        "() => document.querySelector('#kb-search').shadowRoot.querySelector(\".hit[data-id='T-013']\")"
    )
    (badge,) = widget.locator(".hit[data-id='T-013'] .badge-meaning").all_inner_texts()
    assert BADGE.fullmatch(badge) is not None
