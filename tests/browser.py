"""Helpers of the browser tests: a real gunicorn server, host pages on other origins, and Debian's chromium.

Test modules load this file as a plugin (``pytest_plugins = ["browser"]``), so that all of them share one
server and one browser.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from indexer.context import open_knowledge_base

ROOT = Path(__file__).resolve().parents[1]
CALLS = ROOT / "tests" / "data" / "calls.json"
DEMO_HOST_PAGE = ROOT / "docs" / "widget-demo.html"
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BROWSER_WRITE_KEY = "browser-test-write-key"
START_TIMEOUT_S = 30
HOST_CALLER = "ACC-5"  # the caller named by the host page /caller.html (data-kb-caller)


def free_port():
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class KbServer:
    """A running gunicorn serving the app over a data folder filled from tests/data/calls.json."""

    url: str
    data_dir: Path
    widget_key: str
    allowed_origin: str
    refused_origin: str
    log: Path
    process: subprocess.Popen = field(repr=False, default=None)
    write_key: str = field(repr=False, default=BROWSER_WRITE_KEY)

    def feedback_for(self, call_id):
        """The feedback rows the server stored for one call, read from the store itself."""
        kb = open_knowledge_base(overrides={"KB_DATA_DIR": str(self.data_dir), "KB_DATABASE_URL": ""}, environ={})
        try:
            return kb.store.feedback_for(call_id)
        finally:
            kb.close()


def _prepare_data(data_dir):
    env = {**_clean_env(), "KB_DATA_DIR": str(data_dir)}
    subprocess.run(
        [sys.executable, "-m", "indexer", "import", str(CALLS)], cwd=ROOT, env=env, check=True, capture_output=True
    )
    kb = open_knowledge_base(overrides={"KB_DATA_DIR": str(data_dir), "KB_DATABASE_URL": ""}, environ={})
    try:
        _, secret = kb.store.create_key("search", "browser-test widget")
    finally:
        kb.close()
    return secret


def _clean_env():
    return {name: value for name, value in os.environ.items() if not name.startswith("KB_")}


def _wait_until_healthy(url, process, log):
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.1)
    else:
        pytest.fail(f"gunicorn did not answer /healthz within {START_TIMEOUT_S} s:\n{log.read_text()}")
    # Every call's vector lands before the tests start, so that the calls found by meaning do not change
    # under a test (a search listing 4 calls, then 7 once the embedding thread caught up).
    while time.monotonic() < deadline:
        with urllib.request.urlopen(url + "/healthz", timeout=10) as response:
            meaning = json.loads(response.read()).get("semantic", {})
        if not meaning.get("on") or meaning.get("backlog") == 0:
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"the embedding backlog was not cleared within {START_TIMEOUT_S} s:\n{log.read_text()}")
    # The first searches of each worker load word lists; do them here, not inside a test's time limit.
    for _ in range(6):
        with urllib.request.urlopen(url + "/api/v1/search?q=rowter+dropping&facets=true", timeout=30) as response:
            response.read()


@pytest.fixture(scope="session")
def kb_server(tmp_path_factory):
    """Start ``gunicorn -c gunicorn.conf.py wsgi:app`` once for all browser tests; stop it at the end."""
    folder = tmp_path_factory.mktemp("browser-kb")
    data_dir = folder / "var"
    widget_key = _prepare_data(data_dir)
    port, allowed, refused = free_port(), free_port(), free_port()
    allowed_origin, refused_origin = f"http://127.0.0.1:{allowed}", f"http://127.0.0.1:{refused}"
    env = {
        **_clean_env(),
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "KB_DATA_DIR": str(data_dir),
        "KB_API_KEYS": BROWSER_WRITE_KEY,
        "KB_WIDGET_ORIGINS": allowed_origin,
        # The agents' page calls the API without a key (see docs/widget.md); the widget sends its key anyway.
        "KB_SEARCH_KEY_REQUIRED": "false",
        "KB_RATE_LIMIT": "100000 per minute",
        "WEB_CONCURRENCY": "2",
    }
    log = folder / "gunicorn.log"
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [gunicorn, "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    server = KbServer(f"http://127.0.0.1:{port}", data_dir, widget_key, allowed_origin, refused_origin, log, process)
    try:
        _wait_until_healthy(server.url, process, log)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def host_page_html(server):
    """The demo host page of docs/widget-demo.html, pointed at the test server and its widget key."""
    text = DEMO_HOST_PAGE.read_text(encoding="utf-8")
    return text.replace("http://localhost:8000", server.url).replace("WIDGET_KEY", server.widget_key)


def serve_html(origin, html, more=None):
    """Serve ``html`` at ``/`` of ``origin`` (http://127.0.0.1:PORT) from a thread, and ``more`` pages by path.

    :param more: a mapping such as ``{"/caller.html": "<html>..."}``.
    :returns: the running ``ThreadingHTTPServer``; call ``shutdown()`` and ``server_close()``.
    """
    pages = {"/": html, "/index.html": html, **(more or {})}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            body = pages.get(self.path, html).encode("utf-8")
            self.send_response(200 if self.path in pages else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", int(origin.rsplit(":", 1)[1])), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


@pytest.fixture(scope="session")
def host_pages(kb_server):
    """The demo host page served from the allowed origin and from an origin the server does not list.

    The allowed origin also serves ``/caller.html``: the demo page whose script names the caller (ACC-5).
    """
    html = host_page_html(kb_server)
    caller = html.replace('data-kb-target="#kb-search"', f'data-kb-target="#kb-search" data-kb-caller="{HOST_CALLER}"')
    servers = [
        serve_html(kb_server.allowed_origin, html, {"/caller.html": caller}),
        serve_html(kb_server.refused_origin, html),
    ]
    yield {
        "allowed": kb_server.allowed_origin + "/",
        "refused": kb_server.refused_origin + "/",
        "caller": kb_server.allowed_origin + "/caller.html",
    }
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium driven by Playwright (Playwright's own browser download is not used)."""
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).exists()):
        pytest.fail(
            f"{CHROMIUM} is missing: install it with 'sudo apt-get install chromium' (bash scripts/test.sh does this)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser, kb_server):
    """A fresh browser profile (empty localStorage) that may use the clipboard on our server's pages."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 860})
    ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=kb_server.url)
    # Generous for a busy machine (a full CI run once needed more than 15 s); a passing run waits far less.
    ctx.set_default_timeout(30_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    """A page that records every dialog (there must be none) and every console error."""
    tab = context.new_page()
    tab.dialogs = []
    tab.console_errors = []

    def on_dialog(dialog):
        tab.dialogs.append(dialog.message)
        dialog.dismiss()

    tab.on("dialog", on_dialog)
    tab.on("console", lambda message: tab.console_errors.append(message.text) if message.type == "error" else None)
    tab.on("pageerror", lambda error: tab.console_errors.append(str(error)))
    return tab


@pytest.fixture(scope="session")
def screenshot():
    """A function that saves a screenshot of a page or a locator to artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def save(target, name, **options):
        path = SCREENSHOTS / f"{name}.png"
        target.screenshot(path=str(path), **options)  # e.g. full_page=True for a page
        return path

    return save
