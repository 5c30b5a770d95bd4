"""Knowing the caller in a real browser (issue #18): a name as heard finds the customer's panel with their local
time and open calls, on the page and in the widget; an overdue promise shows as overdue and apply-rules escalates it."""

import json
import subprocess
import sys
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import pytest

from store.customer_models import local_time

pytest_plugins = ["browser"]
pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
ZONE = "Australia/Adelaide"  # a half-hour offset: a local time no server or browser clock shows by chance
CUSTOMERS = [
    {
        "id": "ACC-77",
        "name": "John Smith",
        "organisation": "Lighthouse Dental",
        "city": "Adelaide",
        "phones": ["+61 8 8123 4567"],
        "time_zone": ZONE,
        "products": [{"name": "Poly Voyager Focus 2", "serial": "SN-77"}],
        "notes": "Hard of hearing: speak slowly.",
        "key_account": True,
    },
    {"id": "ACC-78", "name": "Jan Smart", "organisation": "Smart Signs"},
]
CALLS = [
    {
        "id": "BC-1",
        "title": "Voyager headset drops calls",
        "problem": "The headset drops every softphone call after a minute",
        "product": "Poly Voyager Focus 2",
        "customer_id": "ACC-77",
        "status": "open",
        "channel": "phone",
        "opened_at": "2026-11-20T09:00:00Z",
    },
    {
        "id": "BC-2",
        "title": "Printer offline",
        "problem": "Printer shows offline",
        "resolution": "Re-added the printer by IP.",
        "customer_id": "ACC-77",
        "status": "resolved",
        "channel": "email",
        "created_at": "2026-10-02T09:00:00Z",
    },
]


def post(kb_server, path, body):
    request = urllib.request.Request(
        kb_server.url + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {kb_server.write_key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def customers(kb_server):
    post(kb_server, "/api/v1/customers", CUSTOMERS)
    assert post(kb_server, "/api/v1/calls", CALLS)["indexed"] is True
    return CUSTOMERS


def local_times_now():
    """The customer's local time as the panel may show it (the minute may turn while the test runs)."""
    return local_time(ZONE, datetime.now(timezone.utc))["display"]


def test_a_name_as_heard_shows_the_customers_panel_with_local_time_and_open_calls(
    page, kb_server, customers, screenshot
):
    page.goto(kb_server.url + "/")
    before = local_times_now()
    page.locator("#caller").press_sequentially("jon smyth")
    panel = page.locator("#caller-context")
    panel.locator(".caller-local-time").wait_for()
    after = local_times_now()
    assert panel.locator("#caller-title").inner_text() == "John Smith ACC-77 key account"
    assert panel.locator(".local-time").inner_text() in {before, after}
    assert panel.locator(".caller-local-time").inner_text().endswith(f"({ZONE}, UTC+10:30)") is True
    assert panel.locator(".caller-products li").all_inner_texts() == ["Poly Voyager Focus 2 SN SN-77"]
    assert panel.locator(".caller-notes").inner_text() == "Hard of hearing: speak slowly."
    assert panel.locator(".caller-open .caller-call").evaluate_all("calls => calls.map(c => c.dataset.id)") == ["BC-1"]
    assert panel.locator(".last-contact li").evaluate_all("items => items.map(i => i.dataset.channel)") == [
        "email",
        "phone",
    ]
    assert page.evaluate("new URLSearchParams(location.search).get('caller')") == "ACC-77"
    assert page.console_errors == []
    screenshot(page, "page-caller-by-name", full_page=True)


def test_the_widget_shows_the_panel_of_the_caller_its_host_names(page, kb_server, host_pages, customers):
    page.goto(host_pages["caller"])
    before = local_times_now()
    page.evaluate("document.querySelector('script[data-kb-caller]').dataset.kbCaller = 'ACC-77'")
    title = "() => document.querySelector('#kb-search').shadowRoot.querySelector('#caller-title')?.textContent"
    page.wait_for_function(title + " === 'John Smith ACC-77 key account'")
    panel = page.locator("#kb-search .kb-caller")
    assert panel.locator(".caller-open .caller-call").get_attribute("data-id") == "BC-1"
    assert panel.locator(".local-time").inner_text() in {before, local_times_now()}
    assert page.console_errors == []


def sign_in(page, kb_server):
    page.goto(kb_server.url + "/lead/login")
    page.locator("#key").fill(kb_server.write_key)
    page.locator("#key").press("Enter")
    page.wait_for_load_state()


def test_an_overdue_promise_shows_overdue_and_apply_rules_escalates_it(page, kb_server, customers, screenshot):
    rules = kb_server.data_dir / "rules.toml"
    rules.write_text("[follow_ups]\nescalate_after_minutes = 30\n")
    try:
        sign_in(page, kb_server)
        page.goto(kb_server.url + "/calls/BC-1")
        due = page.evaluate(
            "() => { const d = new Date(Date.now() - 45 * 60000); const p = n => String(n).padStart(2, '0');"
            " return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`"
            " + `T${p(d.getHours())}:${p(d.getMinutes())}`; }"
        )
        page.locator("#what").fill("Ring back once the replacement headset ships")
        page.locator("#due_at").fill(due)
        page.locator("#fu-owner").fill("sam")
        page.locator("#follow-up-form button[type=submit]").click()
        promise = page.locator("#follow-ups .follow-up")
        promise.wait_for()
        assert promise.locator(".follow-up-state").inner_text() == "overdue"
        assert promise.locator(".escalated").count() == 0

        page.goto(kb_server.url + "/follow-ups?owner=sam")
        assert page.locator("#overdue-title").inner_text() == "Overdue (1)"
        assert page.locator("#overdue .follow-up-what").inner_text() == "Ring back once the replacement headset ships"

        env = {"PATH": "/usr/bin:/bin", "KB_DATA_DIR": str(kb_server.data_dir)}
        command = [sys.executable, "-m", "indexer", "apply-rules"]
        ran = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
        follow_up_id = page.locator("#overdue .follow-up").get_attribute("data-id")
        assert (ran.returncode, ran.stdout.splitlines()[-1]) == (0, f"follow-ups escalated 1: {follow_up_id}")

        page.reload()
        assert page.locator("#overdue .follow-up .escalated").inner_text() == "escalated"
        page.goto(kb_server.url + "/?caller=ACC-77")
        shown = page.locator("#caller-context .follow-up")
        assert shown.locator(".pill").all_inner_texts() == ["overdue", "escalated"]
        assert page.console_errors == []
        screenshot(page, "page-promise-escalated", full_page=True)
    finally:
        rules.unlink()
