"""Limits that count what matters: unknown keys by address, failed sign-ins with a back-off, proxies (issue #17)."""

import secrets

import pytest
from conftest import auth, settings_for, sign_in

from app import create_app
from app.signin_guard import FREE_FAILURES, SignInGuard


def statuses(client, count, **request):
    return [client.get("/api/v1/search?q=printer", **request).status_code for _ in range(count)]


def test_random_bearer_tokens_spend_the_address_budget(data_folder):
    client = create_app(settings_for(data_folder, KB_RATE_LIMIT="30 per minute")).test_client()
    answers = [
        client.get("/api/v1/search?q=printer", headers=auth(secrets.token_urlsafe(24))).status_code for _ in range(100)
    ]
    assert answers == [200] * 30 + [429] * 70


def test_a_live_key_spends_its_own_budget_not_its_address(data_folder):
    client = create_app(settings_for(data_folder, KB_RATE_LIMIT="3 per minute")).test_client()
    assert statuses(client, 4) == [200, 200, 200, 429]
    assert statuses(client, 4, headers=auth()) == [200, 200, 200, 429]


def test_behind_trusted_proxies_each_client_address_has_its_own_budget(data_folder):
    app = create_app(settings_for(data_folder, KB_RATE_LIMIT="2 per minute", KB_TRUSTED_PROXIES=1))
    client = app.test_client()
    first, second = {"X-Forwarded-For": "203.0.113.1"}, {"X-Forwarded-For": "203.0.113.2"}
    assert statuses(client, 3, headers=first) == [200, 200, 429]
    assert statuses(client, 2, headers=second) == [200, 200]


def test_without_trusted_proxies_a_forwarded_address_is_ignored(data_folder):
    client = create_app(settings_for(data_folder, KB_RATE_LIMIT="2 per minute")).test_client()
    assert statuses(client, 2, headers={"X-Forwarded-For": "203.0.113.1"}) == [200, 200]
    assert statuses(client, 1, headers={"X-Forwarded-For": "203.0.113.2"}) == [429]


@pytest.mark.parametrize(
    ("proxies", "headers", "status"),
    [
        (0, {}, 200),
        (0, {"X-Forwarded-For": "203.0.113.9"}, 401),
        (0, {"Forwarded": "for=203.0.113.9"}, 401),
        (1, {"X-Forwarded-For": "127.0.0.1"}, 200),
        (1, {"X-Forwarded-For": "203.0.113.9"}, 401),
    ],
    ids=["this-machine", "own-proxy-untrusted", "forwarded-header", "trusted-proxy-local", "trusted-proxy-remote"],
)
def test_auto_mode_exempts_only_this_machine_itself(data_folder, proxies, headers, status):
    settings = settings_for(data_folder, KB_SEARCH_KEY_REQUIRED="auto", KB_TRUSTED_PROXIES=proxies)
    client = create_app(settings).test_client()
    assert client.get("/api/v1/search?q=printer", headers=headers).status_code == status


def test_auto_mode_counts_a_remote_peer_as_remote(data_folder):
    client = create_app(settings_for(data_folder, KB_SEARCH_KEY_REQUIRED="auto")).test_client()
    remote = {"REMOTE_ADDR": "198.51.100.7"}
    assert client.get("/api/v1/search?q=printer", environ_base=remote).status_code == 401
    assert client.get("/api/v1/search?q=printer", environ_base=remote, headers=auth()).status_code == 200


def test_failed_sign_ins_from_one_address_back_off_even_for_the_right_key(data_folder):
    client = create_app(settings_for(data_folder, KB_RATE_LIMIT="")).test_client()
    failures = [sign_in(client, f"wrong-{n}").status_code for n in range(FREE_FAILURES)]
    closed = sign_in(client)
    assert (failures, closed.status_code) == ([401] * FREE_FAILURES, 429)
    assert (int(closed.headers["Retry-After"]) >= 1, b"Too many failed sign-ins" in closed.data) == (True, True)
    elsewhere = sign_in(client, environ_base={"REMOTE_ADDR": "198.51.100.8"})
    assert elsewhere.status_code == 302


def test_failed_sign_ins_with_one_key_prefix_back_off_from_any_address(data_folder):
    client = create_app(settings_for(data_folder, KB_RATE_LIMIT="")).test_client()

    def attempt(key, n):
        client.delete_cookie("session")
        return sign_in(client, key, environ_base={"REMOTE_ADDR": f"198.51.100.{n}"}).status_code

    guesses = [attempt(f"kb_write_AAA{secrets.token_hex(8)}", n) for n in range(FREE_FAILURES)]
    assert guesses == [401] * FREE_FAILURES
    assert attempt(f"kb_write_AAA{secrets.token_hex(8)}", 50) == 429
    assert attempt(f"kb_write_BBB{secrets.token_hex(8)}", 51) == 401


def test_the_sign_in_back_off_doubles_after_each_failure_and_forgives_a_success():
    now = [1000.0]
    guard = SignInGuard(clock=lambda: now[0])
    for _ in range(FREE_FAILURES - 1):
        guard.failed("10.0.0.1", "typo")
    assert guard.wait_seconds("10.0.0.1", "typo") == 0
    waits = []
    for _ in range(4):
        guard.failed("10.0.0.1", "typo")
        waits.append(guard.wait_seconds("10.0.0.1", "typo"))
        now[0] += 100
    assert waits == [1.0, 2.0, 4.0, 8.0]
    guard.succeeded("10.0.0.1", "typo")
    assert guard.wait_seconds("10.0.0.1", "typo") == 0
