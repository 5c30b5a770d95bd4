"""Sign-in sessions tied to their key, the cookie's attributes, lifetimes, the form token, ``next`` (issue #17)."""

import time
from datetime import datetime, timedelta, timezone

import pytest
from conftest import WRITE_KEY_ID, auth, settings_for, sign_in

from app import create_app

RECORD = {"id": "S-1", "title": "Printer offline", "problem": "spooler stuck"}
PAGE = {"X-KB-Channel": "page"}


def new_key(store, role="write", expires_in_s=None):
    """A key made as ``keys create`` makes it; returns (id, secret)."""
    if expires_in_s is None:
        return store.create_key(role, "test")
    moment = datetime.now(timezone.utc) + timedelta(seconds=expires_in_s)
    return store.create_key(role, "test", moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"))


@pytest.fixture
def lead_app(data_folder):
    return create_app(settings_for(data_folder, KB_SEARCH_KEY_REQUIRED="true", KB_RATE_LIMIT=""))


def what_a_signed_in_lead_gets(client):
    """Statuses of analytics, escalations, an API write and a search through the page's session."""
    return (
        client.get("/analytics/").status_code,
        client.get("/escalations/").status_code,
        client.post("/api/v1/calls", json=RECORD, headers=PAGE).status_code,
        client.get("/api/v1/search?q=printer", headers=PAGE).status_code,
    )


def test_a_revoked_keys_session_is_refused_for_api_writes_analytics_and_escalations(lead_app, store, runner):
    key_id, secret = new_key(store)
    client = lead_app.test_client()
    assert sign_in(client, secret).status_code == 302
    assert what_a_signed_in_lead_gets(client) == (200, 200, 201, 200)
    assert runner("keys", "revoke", key_id).exit_code == 0
    assert what_a_signed_in_lead_gets(client) == (302, 302, 401, 401)
    assert client.get("/analytics/").headers["Location"].startswith("/lead/login?next=/analytics/")


def test_an_expired_keys_session_and_bearer_use_are_refused(lead_app, store):
    _, secret = new_key(store, expires_in_s=1.5)
    client = lead_app.test_client()
    sign_in(client, secret)
    assert (
        client.get("/analytics/").status_code,
        client.post("/api/v1/calls", json=RECORD, headers=auth(secret)).status_code,
    ) == (200, 201)
    time.sleep(1.6)
    assert what_a_signed_in_lead_gets(client) == (302, 302, 401, 401)
    refused = client.post("/api/v1/calls", json=RECORD, headers=auth(secret))
    assert (refused.status_code, refused.get_json()["error"]) == (
        401,
        "the API key is not valid (unknown, revoked or expired)",
    )


def test_the_session_names_its_key_by_id_and_never_holds_the_secret(lead_app, store):
    key_id, secret = new_key(store)
    client = lead_app.test_client()
    sign_in(client, secret)
    with client.session_transaction() as session:
        kept = dict(session)
    assert (kept["key_id"], kept["lead_role"], secret in repr(kept)) == (key_id, "write", False)


def test_a_session_of_a_configured_key_ends_when_the_key_leaves_kb_api_keys(data_folder):
    first = create_app(settings_for(data_folder, KB_SECRET_KEY="same-secret"))
    client = first.test_client()
    sign_in(client)
    with client.session_transaction() as session:
        assert session["key_id"] == WRITE_KEY_ID
    assert client.get("/analytics/").status_code == 200
    without_the_key = create_app(settings_for(data_folder, KB_SECRET_KEY="same-secret", KB_API_KEYS="another-key"))
    other = without_the_key.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    assert other.get("/analytics/").status_code == 302


@pytest.mark.parametrize(
    ("setting", "base_url", "secure"),
    [("auto", "http://localhost", False), ("auto", "https://localhost", True), ("true", "http://localhost", True)],
    ids=["auto-http", "auto-https", "true-http"],
)
def test_the_session_cookie_is_httponly_samesite_lax_and_secure_over_https(data_folder, setting, base_url, secure):
    client = create_app(settings_for(data_folder, KB_COOKIE_SECURE=setting)).test_client()
    cookie = client.get("/lead/login", base_url=base_url).headers["Set-Cookie"]
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert ("httponly" in attributes, "SameSite=Lax" in cookie, "secure" in attributes) == (True, True, secure)


@pytest.mark.parametrize(("field", "age_s"), [("seen", 121 * 60), ("since", 13 * 3600)], ids=["idle", "absolute"])
def test_a_session_ends_after_its_idle_or_absolute_lifetime(data_folder, field, age_s):
    client = create_app(settings_for(data_folder)).test_client()
    sign_in(client)
    assert client.get("/analytics/").status_code == 200
    with client.session_transaction() as session:
        session[field] = session[field] - age_s
    assert client.get("/analytics/").status_code == 302


def test_the_sign_in_form_refuses_a_post_without_its_token(client):
    forged = client.post("/lead/login", data={"key": "test-write-key"})
    assert (forged.status_code, client.get("/analytics/").status_code) == (400, 302)
    assert b"the form has expired" in forged.data
    assert sign_in(client).status_code == 302


@pytest.mark.parametrize(
    "target",
    [
        "/\t/evil.example",
        "//evil.example",
        "/\\evil.example",
        "/\n/evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        " /analytics/",
        "/\x00/evil.example",
    ],
    ids=["tab", "two-slashes", "backslash", "newline", "absolute-url", "javascript", "leading-space", "nul"],
)
def test_next_after_sign_in_is_only_ever_a_path_on_this_site(client, target):
    answer = sign_in(client, next=target)
    assert (answer.status_code, answer.headers["Location"]) == (302, "/analytics/")


def test_next_after_sign_in_keeps_a_plain_path_with_its_query(client):
    answer = sign_in(client, next="/calls/new?customer_id=ACC-1")
    assert answer.headers["Location"] == "/calls/new?customer_id=ACC-1"


def test_the_sign_in_form_drops_a_next_that_is_not_a_plain_path(client):
    page = client.get("/lead/login?next=/%09/evil.example").get_data(as_text=True)
    assert ('name="next" value=""' in page, "evil.example" in page) == (True, False)
