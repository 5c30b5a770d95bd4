"""Capturing a call from the agents' page in a real browser (issue #7)."""

import re

import pytest

# One gunicorn and one chromium for all browser tests: the fixtures live in tests/browser.py.
pytest_plugins = ["browser"]
pytestmark = pytest.mark.browser

UNIQUE_WORD = "quuxaphone"


def sign_in_from(page, kb_server, path):
    """Open ``path``, which sends us to the sign-in; sign in with the write key and come back to ``path``."""
    page.goto(kb_server.url + path)
    page.wait_for_url(re.compile(r"/lead/login\?next="))
    page.locator("#key").fill(kb_server.write_key)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(kb_server.url + path)


def test_agent_adds_a_call_with_the_n_key_and_finds_it_first_at_once(page, kb_server, screenshot):
    page.goto(kb_server.url + "/")
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("n")
    page.wait_for_url(re.compile(r"/lead/login\?next=/calls/new$"))
    page.locator("#key").fill(kb_server.write_key)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(kb_server.url + "/calls/new")
    assert page.evaluate("document.activeElement.id") == "title"
    page.locator("#title").fill(f"Desk {UNIQUE_WORD} rings but no audio")
    page.locator("#problem").fill(f"The {UNIQUE_WORD} desk phone rings, but picking up gives silence both ways.")
    page.locator("#resolution").fill("Set the SIP transport to TCP and rebooted the phone; audio both ways.")
    page.locator("#product").fill("Yealink T54W")
    page.locator("#category").fill("telephony")
    page.locator("#tags").fill("sip, audio, desk phone")
    page.locator("#agent").fill("Priya")
    screenshot(page, "capture-form")
    page.get_by_role("button", name="Add call").click()
    page.wait_for_url(re.compile(r"/calls/CALL-\d{8}-\d{6}-[0-9a-f]{4}$"))
    call_id = page.url.rsplit("/", 1)[1]
    assert page.locator(".flash").inner_text() == "Saved: searchable now."
    assert page.locator(".tags li").all_inner_texts() == ["sip", "audio", "desk phone"]

    page.goto(kb_server.url + "/")
    page.locator("#q").press_sequentially(UNIQUE_WORD)
    page.wait_for_function("q => document.querySelector('#results').dataset.query === q", arg=UNIQUE_WORD)
    first = page.locator("#results .hit").first
    assert first.get_attribute("data-id") == call_id
    assert first.locator(".meta").inner_text() == "Yealink T54W · telephony"

    first.locator(".hit-link").click()
    page.wait_for_url(re.compile(re.escape(call_id)))
    page.keyboard.press("e")
    page.wait_for_url(kb_server.url + f"/calls/{call_id}/edit")
    assert page.locator("#title").input_value() == f"Desk {UNIQUE_WORD} rings but no audio"
    assert page.locator("#agent").input_value() == "Priya"  # remembered for the next capture
    page.locator("#resolution").fill("Set the SIP transport to TCP, then rebooted; audio both ways.")
    page.locator("#agent").fill("Sam")
    page.locator("#resolution").press("Control+Enter")
    page.wait_for_url(kb_server.url + f"/calls/{call_id}")
    assert page.locator("#resolution").inner_text() == "Set the SIP transport to TCP, then rebooted; audio both ways."
    page.locator("#history summary").click()
    change = page.locator("#history > ol > li").last
    assert change.locator(".actor").inner_text() == "Sam"
    assert change.locator(".changes .changed-field").all_inner_texts() == ["resolution"]
    assert change.locator("ins").inner_text() == "Set the SIP transport to TCP, then rebooted; audio both ways."
    screenshot(page, "capture-history")
    assert page.console_errors == []


def test_a_validation_error_shows_its_message_by_the_field_and_keeps_what_was_typed(page, kb_server, screenshot):
    sign_in_from(page, kb_server, "/calls/new")
    page.locator("#resolution").fill("Typed during the call: reseated the dock cable")
    page.locator("#product").fill("Dell WD19 dock")
    page.locator("#agent").fill("Priya")
    page.get_by_role("button", name="Add call").click()
    error = page.locator("#title-error")
    error.wait_for()
    assert error.inner_text() == "at least one of 'title' and 'problem' must be non-empty"
    assert page.locator("#title").get_attribute("aria-invalid") == "true"
    assert page.evaluate("document.activeElement.id") == "title"
    assert page.locator("#resolution").input_value() == "Typed during the call: reseated the dock cable"
    assert page.locator("#product").input_value() == "Dell WD19 dock"
    screenshot(page, "capture-error")
