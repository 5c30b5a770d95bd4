"""The rules file: one last good copy for every process from the first start; each error one log line (issue #17)."""

import logging
import os

import pytest
from conftest import auth, settings_for

from app import create_app
from indexer.context import open_knowledge_base

RULES = '[key_accounts]\ncustomers = ["{customer}"]\npriority = "high"\n'
BAD = '[key_accounts]\ncustomers = ["ACC-1"]\npriority = "top"\n'


def write_rules(folder, text, tick):
    """Write rules.toml with its own modification time (a reload is decided by it)."""
    path = folder / "rules.toml"
    path.write_text(text) if isinstance(text, str) else path.write_bytes(text)
    os.utime(path, ns=(tick * 1_000_000_000, tick * 1_000_000_000))


def priority_of(folder, client, call_id, customer):
    client.post("/api/v1/calls", json={"id": call_id, "title": "Router drops", "customer_id": customer}, headers=auth())
    kb = open_knowledge_base(overrides={"KB_DATA_DIR": str(folder), "KB_DATABASE_URL": ""}, environ={})
    try:
        return kb.store.get(call_id)["extra"].get("priority", "normal")
    finally:
        kb.close()


def test_a_bad_file_at_the_first_start_keeps_the_last_good_rules(data_folder):
    write_rules(data_folder, RULES.format(customer="ACC-1"), 1)
    create_app(settings_for(data_folder))
    write_rules(data_folder, BAD, 2)
    restarted = create_app(settings_for(data_folder))
    assert priority_of(data_folder, restarted.test_client(), "K-1", "ACC-1") == "high"
    assert restarted.extensions["kb"].rules.error.endswith("; the last good rules stay in force")


def test_every_process_applies_the_same_last_good_rules(data_folder):
    write_rules(data_folder, RULES.format(customer="ACC-1"), 1)
    first, second = create_app(settings_for(data_folder)), create_app(settings_for(data_folder))
    write_rules(data_folder, RULES.format(customer="ACC-2"), 2)
    assert priority_of(data_folder, first.test_client(), "K-2", "ACC-2") == "high"  # only the first saw this edit
    write_rules(data_folder, BAD, 3)
    answers = [priority_of(data_folder, app.test_client(), f"K-{n}", "ACC-2") for n, app in ((3, first), (4, second))]
    assert answers == ["high", "high"]


def test_without_any_good_file_ever_the_defaults_apply_and_the_log_says_so(data_folder, caplog):
    write_rules(data_folder, BAD, 1)
    with caplog.at_level(logging.ERROR, logger="rules.parse"):
        app = create_app(settings_for(data_folder))
    assert priority_of(data_folder, app.test_client(), "K-5", "ACC-1") == "normal"
    assert [record.getMessage().endswith("so the default rules apply") for record in caplog.records] == [True]


BROKEN = {
    "nested-array": (
        "customers = " + "[" * 5000 + "]" * 5000 + "\n",
        "rules.toml:1: arrays or tables nested too deeply",
    ),
    "bad-toml": ('[key_accounts\ncustomers = ["ACC-1"]\n', "rules.toml:1: not valid TOML"),
    "bad-url": ('[notify]\nwebhook = "http://[::1/hook"\n', "rules.toml:2: 'webhook' is not a valid URL"),
    "not-utf8": (b'[key_accounts]\ncustomers = ["\xff"]\n', "rules.toml: is not UTF-8 text (byte 29)"),
    "folder": (None, "rules.toml: is a folder, not a file"),
    "newline-in-a-key": ('[key_accounts]\n"a\\nFAKE log line" = 1\n', "unknown key 'a\\nFAKE log line'"),
}


@pytest.mark.parametrize("broken", BROKEN, ids=list(BROKEN))
def test_each_error_in_the_rules_file_is_one_log_line_and_never_a_500(data_folder, caplog, broken):
    text, message = BROKEN[broken]
    write_rules(data_folder, RULES.format(customer="ACC-1"), 1)
    app = create_app(settings_for(data_folder))
    if text is None:
        (data_folder / "rules.toml").unlink()
        (data_folder / "rules.toml").mkdir()
    else:
        write_rules(data_folder, text, 2)
    client = app.test_client()
    with caplog.at_level(logging.ERROR):
        statuses = [
            client.post(
                "/api/v1/calls", json={"id": f"B-{n}", "title": "Router", "customer_id": "ACC-1"}, headers=auth()
            )
            for n in range(3)
        ]
    assert [response.status_code for response in statuses] == [201, 201, 201]
    # The rules' own log lines: an earlier test's notification thread may still be retrying, and logging, meanwhile.
    lines = [record.getMessage() for record in caplog.records if record.name.split(".")[0] == "rules"]
    assert (len(lines), message in lines[0], "\n" in lines[0], "Traceback" in caplog.text) == (1, True, False, False)
    assert priority_of(data_folder, client, "B-9", "ACC-1") == "high"
