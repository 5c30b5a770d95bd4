"""The status the customer hears about, in a real browser (issue #18, item 6): an agent's change of status on
the call form reaches a test webhook server, the first message after it failed twice, and the call's page shows
what the customer was told and when."""

import json
import time

import pytest
from receivers import Receiver
from servers import WRITE_KEY, Server

pytest_plugins = ["browser"]
pytestmark = pytest.mark.browser

# How long delivery may take on a busy machine; a passing run waits well under a second per message.
DELIVERY_WAIT_S = 60


@pytest.fixture
def notifying_server(tmp_path):
    """gunicorn with a [notify_customer] webhook whose receiver answers 500, 500, then 200; fast retries."""
    data_folder = tmp_path / "var"
    data_folder.mkdir()
    with Receiver(500, 500, 200) as receiver:
        (data_folder / "rules.toml").write_text(f'[notify_customer]\nwebhook = "{receiver.url}/customers"\n')
        (data_folder / "customer_messages.toml").write_text(
            'pending = "Dear {name}, call {call_id} waits for {reason}."\n'
        )
        with Server(data_folder, workers=1, KB_OUTBOX_INTERVAL_S=0.1, KB_OUTBOX_RETRY_S=0.1) as server:
            customer = {"id": "ACC-9", "name": "Ann Lee", "emails": ["ann@example.com"]}
            answer = server.request("POST", "/api/v1/customers", customer, {"Authorization": f"Bearer {WRITE_KEY}"})
            assert answer.status == 201
            yield server, receiver


def delivered_on_page(page, url, count):
    """Reload the call's page until ``count`` messages show as delivered (or the wait runs out)."""
    deadline = time.monotonic() + DELIVERY_WAIT_S
    told = page.locator("#customer-told .told[data-state=delivered]")
    while time.monotonic() < deadline:
        page.goto(url)
        if told.count() >= count:
            break
        time.sleep(0.2)
    return told.count()


def test_a_change_of_status_reaches_the_webhook_after_two_failures_and_the_page_shows_it(
    browser, notifying_server, screenshot
):
    server, receiver = notifying_server
    base = f"http://{server.host}"
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        page.goto(base + "/lead/login?next=/calls/new")
        page.locator("#key").fill(WRITE_KEY)
        page.locator("#key").press("Enter")
        page.locator("#capture-form").wait_for()
        page.locator("#id").fill("N-1")
        page.locator("#title").fill("Printer <b>offline</b>")
        page.locator("#customer_id").fill("ACC-9")
        page.locator("#status").select_option("open")
        page.locator("#agent").fill("Priya")
        page.locator("#save").click()
        page.locator("article.call").wait_for()
        assert delivered_on_page(page, base + "/calls/N-1", 1) == 1

        page.goto(base + "/calls/N-1/edit")
        page.locator("#status").select_option("pending")
        page.locator("#pending_reason").fill("a new fuser")
        page.locator("#save").click()
        page.locator("article.call").wait_for()
        assert delivered_on_page(page, base + "/calls/N-1", 2) == 2

        told = page.locator("#customer-told .told")
        assert told.evaluate_all("items => items.map(i => [i.dataset.status, i.dataset.state])") == [
            ["opened", "delivered"],
            ["pending", "delivered"],
        ]
        assert told.locator(".told-text").all_inner_texts() == [
            "Hello Ann Lee, we have opened call N-1 about: Printer <b>offline</b>.",
            "Dear Ann Lee, call N-1 waits for a new fuser.",
        ]
        first = told.nth(0)
        first.locator(".told-attempts summary").click()
        attempts = first.locator(".told-attempt")
        assert attempts.evaluate_all("items => items.map(i => i.dataset.httpStatus)") == ["500", "500", "200"]
        assert first.locator(".told-state").inner_text().startswith("delivered ") is True
        screenshot(page, "call-customer-told", full_page=True)
    finally:
        context.close()

    bodies = [json.loads(request.body) for request in receiver.received]
    assert [(r.method, r.path) for r in receiver.received] == [("POST", "/customers")] * 4
    assert [body["status"] for body in bodies] == ["opened", "opened", "opened", "pending"]
    assert len({request.headers["Idempotency-Key"] for request in receiver.received[:3]}) == 1
    assert bodies[3]["contact"] == {
        "customer_id": "ACC-9",
        "name": "Ann Lee",
        "emails": ["ann@example.com"],
        "phones": [],
    }
    assert (bodies[3]["call_id"], bodies[3]["reason"]) == ("N-1", "a new fuser")
    assert ("ann@example.com" in server.log(), "a new fuser" in server.log()) == (False, False)
