"""No acknowledged edit is lost: versions, If-Match and 412, the edit form's conflict, apply-rules by
compare-and-set (issue #17, "Acknowledged edits are lost"). Real SQLite files and a throwaway PostgreSQL."""

import re
import sqlite3
import threading

import psycopg
import pytest
from conftest import auth, settings_for, sign_in
from postgres import postgres_server, postgres_store, postgres_url  # noqa: F401 (fixtures)

from app import create_app
from indexer.context import open_knowledge_base
from rules.logic import apply_rules
from rules.parse import parse_rules_file
from store.records import validate_record
from store.writes import WritePlan

OPEN_CALL = {
    "id": "V-1",
    "title": "VPN drops every hour",
    "problem": "The VPN client disconnects every hour on the hour.",
    "customer_id": "ACC-1001",
    "status": "open",
    "opened_at": "2020-01-01T09:00:00Z",
}
RULES = """
[key_accounts]
customers = ["ACC-1001"]
priority = "high"

[escalation_hours]
high = 4
"""


def record(call_id, **fields):
    return validate_record({"id": call_id, "title": "Printer offline", **fields})


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_store(request, store):
    """The SQLite store of the test data folder, or a PostgreSQL store over a fresh database."""
    return store if request.param == "sqlite" else request.getfixturevalue("postgres_store")


def test_a_call_starts_at_version_1_and_each_change_adds_one(any_store):
    assert any_store.upsert([record("C-1")]).versions == {"C-1": 1}
    assert any_store.upsert([record("C-1", resolution="Restarted the spooler")]).versions == {"C-1": 2}
    unchanged = any_store.upsert([record("C-1", resolution="Restarted the spooler")])
    assert (unchanged.unchanged, unchanged.versions) == (1, {"C-1": 2})
    assert any_store.get_versioned("C-1") == (record("C-1", resolution="Restarted the spooler"), 2)
    assert list(any_store.iter_versioned()) == [(record("C-1", resolution="Restarted the spooler"), 2)]


def test_a_write_expecting_another_version_writes_nothing_and_names_the_conflict(any_store):
    any_store.upsert([record("C-1"), record("C-2")])
    any_store.upsert([record("C-1", resolution="Edited by Kim")])
    summary = any_store.upsert(
        [record("C-1", resolution="Stale copy"), record("C-2", resolution="Fresh")], expected={"C-1": 1, "C-2": 1}
    )
    assert (summary.conflicts, summary.written_ids, summary.versions) == ({"C-1": 2}, ["C-2"], {"C-2": 2})
    assert any_store.get("C-1")["resolution"] == "Edited by Kim"
    assert any_store.upsert([record("C-3")], expected={"C-3": 0}).inserted == 1
    assert any_store.upsert([record("C-3")], expected={"C-3": 0}).conflicts == {"C-3": 1}
    assert any_store.delete("C-1", expected=1).conflicts == {"C-1": 2}
    assert any_store.get("C-1")["resolution"] == "Edited by Kim"
    assert any_store.delete("C-1", expected=2).deleted == 1


def test_two_writers_expecting_the_same_version_cannot_both_win(any_store):
    any_store.upsert([record("C-1")])
    results, start = [], threading.Barrier(4)

    def edit(n):
        start.wait()
        results.append(any_store.upsert([record("C-1", resolution=f"Edit {n}")], expected={"C-1": 1}))

    threads = [threading.Thread(target=edit, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(len(summary.written_ids) for summary in results) == [0, 0, 0, 1]
    assert any_store.get_versioned("C-1")[1] == 2


def test_a_call_changed_among_many_others_since_the_write_read_it_is_seen_under_the_lock(any_store, monkeypatch):
    """The write re-checks its own calls by id when more changes landed meanwhile than it writes calls (an agent's
    write after an import's 100,000), and still finds the one edit made to its call."""
    any_store.upsert([record("C-1")])
    planned_once, decide = [], WritePlan.decide

    def others_write_first(plan, current, now, actor, only=None):
        if not planned_once:
            planned_once.append(True)
            any_store.upsert([record(f"O-{n}") for n in range(50)])
            any_store.upsert([record("C-1", resolution="Edited by Kim")])
        return decide(plan, current, now, actor, only)

    monkeypatch.setattr(WritePlan, "decide", others_write_first)
    summary = any_store.upsert([record("C-1", resolution="Stale copy")], expected={"C-1": 1})
    assert summary.conflicts == {"C-1": 2}
    assert any_store.get("C-1")["resolution"] == "Edited by Kim"
    assert any_store.upsert([record("C-1", resolution="Fresh")], expected={"C-1": 2}).versions == {"C-1": 3}


def test_a_sqlite_store_made_before_versions_gets_version_1_for_every_call(data_folder):
    """The calls table as the store created it before versions (no ``version`` column), with a call in it."""
    with sqlite3.connect(data_folder / "calls.db") as db:
        db.execute(
            "CREATE TABLE calls (id TEXT PRIMARY KEY, title TEXT, problem TEXT, resolution TEXT, product TEXT,"
            " category TEXT, tags TEXT, created_at TEXT, resolved INTEGER, extra TEXT, content_hash TEXT,"
            " seq INTEGER, updated_at TEXT)"
        )
        db.execute(
            "INSERT INTO calls VALUES ('OLD-1', 'Printer offline', '', '', '', '', '[]', '', 1, '{}', 'x', 1, '')"
        )
    kb = open_knowledge_base(overrides={"KB_DATA_DIR": str(data_folder), "KB_DATABASE_URL": ""}, environ={})
    try:
        assert kb.store.get_versioned("OLD-1")[1] == 1
        assert kb.store.upsert([record("OLD-1", resolution="Fixed")], expected={"OLD-1": 1}).versions == {"OLD-1": 2}
    finally:
        kb.close()


@pytest.mark.postgres
def test_a_postgres_store_made_before_versions_gets_version_1_for_every_call(postgres_url, postgres_store):  # noqa: F811
    postgres_store.upsert([record("OLD-1")])
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE calls DROP COLUMN version")
    postgres_store.close()
    postgres_store.migrate()
    assert postgres_store.get_versioned("OLD-1")[1] == 1
    assert postgres_store.upsert([record("OLD-1", resolution="Fixed")], expected={"OLD-1": 1}).versions == {"OLD-1": 2}


def test_get_sends_the_version_as_etag_and_put_with_it_answers_the_next(client):
    client.put("/api/v1/calls/V-1", json=OPEN_CALL, headers=auth())
    got = client.get("/api/v1/calls/V-1")
    assert (got.status_code, got.headers.get("ETag"), "version" in got.get_json()) == (200, '"1"', False)
    edited = {**OPEN_CALL, "resolution": "Renewed the certificate", "status": "resolved"}
    put = client.put("/api/v1/calls/V-1", json=edited, headers={**auth(), "If-Match": '"1"'})
    assert (put.status_code, put.headers.get("ETag"), put.get_json().get("version")) == (200, '"2"', 2)
    assert put.get_json()["call"]["resolution"] == "Renewed the certificate"


def test_a_put_with_a_stale_if_match_answers_412_and_keeps_the_other_edit(client):
    client.put("/api/v1/calls/V-1", json=OPEN_CALL, headers=auth())
    client.put("/api/v1/calls/V-1", json={**OPEN_CALL, "resolution": "Kim's fix"}, headers=auth())
    stale = client.put(
        "/api/v1/calls/V-1", json={**OPEN_CALL, "resolution": "Sam's"}, headers={**auth(), "If-Match": '"1"'}
    )
    assert (stale.status_code, stale.content_type) == (412, "application/json")
    assert stale.headers.get("ETag") == '"2"'
    assert stale.get_json() == {
        "ok": False,
        "error": 'call V-1 has changed: it is at version 2, not If-Match: "1"; GET it again, merge your change, '
        'and send If-Match: "2"',
        "errors": [
            {
                "field": "If-Match",
                "message": 'call V-1 has changed: it is at version 2, not If-Match: "1"; GET it again, merge your '
                'change, and send If-Match: "2"',
            }
        ],
        "status": 412,
    }
    assert client.get("/api/v1/calls/V-1").get_json()["resolution"] == "Kim's fix"


def test_if_match_on_a_call_that_does_not_exist_answers_412_and_creates_nothing(client):
    response = client.put("/api/v1/calls/V-9", json=OPEN_CALL | {"id": "V-9"}, headers={**auth(), "If-Match": "*"})
    assert (response.status_code, response.get_json()["errors"][0]["field"]) == (412, "If-Match")
    assert client.get("/api/v1/calls/V-9").status_code == 404


def test_a_put_without_if_match_still_replaces_the_call_as_v1_always_did(client):
    client.put("/api/v1/calls/V-1", json=OPEN_CALL, headers=auth())
    client.put("/api/v1/calls/V-1", json={**OPEN_CALL, "resolution": "First"}, headers=auth())
    response = client.put("/api/v1/calls/V-1", json={**OPEN_CALL, "resolution": "Second"}, headers=auth())
    assert (response.status_code, response.get_json()["version"]) == (200, 3)


def test_a_delete_with_a_stale_if_match_answers_412_and_deletes_nothing(client):
    client.put("/api/v1/calls/V-1", json=OPEN_CALL, headers=auth())
    client.put("/api/v1/calls/V-1", json={**OPEN_CALL, "resolution": "Kim's fix"}, headers=auth())
    stale = client.delete("/api/v1/calls/V-1", headers={**auth(), "If-Match": '"1"'})
    assert (stale.status_code, stale.headers.get("ETag")) == (412, '"2"')
    fresh = client.delete("/api/v1/calls/V-1", headers={**auth(), "If-Match": '"2"'})
    assert (fresh.status_code, client.get("/api/v1/calls/V-1").status_code) == (200, 404)


def test_post_answers_each_calls_version(client):
    body = client.post("/api/v1/calls", json=[OPEN_CALL, {**OPEN_CALL, "id": "V-2"}], headers=auth()).get_json()
    assert body["versions"] == {"V-1": 1, "V-2": 1}


def signed_in(client):
    sign_in(client)
    with client.session_transaction() as session:
        return session["csrf"]


def edit_form(client, csrf, version, **fields):
    stored = client.get("/api/v1/calls/V-1").get_json()
    data = {name: stored.get(name, "") for name in ("title", "problem", "resolution", "product", "category")}
    data.update(csrf=csrf, agent="Sam", status=stored["status"], customer_id=stored["customer_id"], version=version)
    return client.post("/calls/V-1/edit", data={**data, **fields})


def test_the_edit_form_carries_the_version_it_shows(client):
    client.put("/api/v1/calls/V-1", json=OPEN_CALL, headers=auth())
    signed_in(client)
    assert '<input type="hidden" name="version" value="1">' in client.get("/calls/V-1/edit").data.decode()


def test_a_stale_edit_form_shows_the_other_edit_and_keeps_the_agents_text(client):
    client.put("/api/v1/calls/V-1", json=OPEN_CALL, headers=auth())
    csrf = signed_in(client)
    client.put(
        "/api/v1/calls/V-1",
        json={**OPEN_CALL, "resolution": "Kim: renewed <the> certificate"},
        headers={**auth(), "X-KB-Agent": "Kim"},
    )
    response = edit_form(client, csrf, 1, resolution="Sam: reinstalled the client")
    page = response.data.decode()
    assert response.status_code == 409
    assert re.search(r"<strong>\w+/Kim saved this call at ", page)  # the key that vouched for the name, then it
    assert ">Sam: reinstalled the client</textarea>" in page
    assert re.search(
        r'<p class="conflict-theirs" id="resolution-theirs">Saved meanwhile by \w+/Kim: '
        r'<span class="their-value">Kim: renewed &lt;the&gt; certificate</span></p>',
        page,
    )
    assert '<input type="hidden" name="version" value="2">' in page
    assert client.get("/api/v1/calls/V-1").get_json()["resolution"] == "Kim: renewed <the> certificate"


def test_saving_again_after_the_conflict_is_shown_keeps_the_agents_decision(client):
    client.put("/api/v1/calls/V-1", json=OPEN_CALL, headers=auth())
    csrf = signed_in(client)
    client.put("/api/v1/calls/V-1", json={**OPEN_CALL, "resolution": "Kim's fix"}, headers=auth())
    assert edit_form(client, csrf, 1, resolution="Sam's fix").status_code == 409
    saved = edit_form(client, csrf, 2, resolution="Sam's fix, after Kim's")
    assert (saved.status_code, saved.headers["Location"]) == (302, "/calls/V-1")
    assert client.get("/api/v1/calls/V-1").get_json()["resolution"] == "Sam's fix, after Kim's"


class AgentSavesBetweenReadAndWrite:
    """The real store, with a test hook: before the first write of a background job, an agent saves a call.

    Everything else is the store's own; the hook only decides *when* the agent's request runs.
    """

    def __init__(self, store, agent_saves):
        self._store = store
        self._agent_saves = agent_saves
        self.writes = []

    def upsert(self, records, actor="system", **options):
        if not self.writes:
            self._agent_saves()
        self.writes.append([r["id"] for r in records])
        return self._store.upsert(records, actor=actor, **options)

    def __getattr__(self, name):
        return getattr(self._store, name)


def test_apply_rules_keeps_an_edit_an_agent_saved_between_its_read_and_its_write(data_folder):
    (data_folder / "rules.toml").write_text(RULES)
    app = create_app(settings_for(data_folder))
    client = app.test_client()
    assert client.put("/api/v1/calls/V-1", json=OPEN_CALL, headers=auth()).status_code == 201

    def agent_resolves_the_call():
        resolved = {**OPEN_CALL, "status": "resolved", "resolution": "Renewed the VPN certificate"}
        assert client.put("/api/v1/calls/V-1", json=resolved, headers=auth()).status_code == 200

    kb = open_knowledge_base(overrides={"KB_DATA_DIR": str(data_folder), "KB_DATABASE_URL": ""}, environ={})
    try:
        hooked = AgentSavesBetweenReadAndWrite(kb.store, agent_resolves_the_call)
        outcome = apply_rules(hooked, parse_rules_file(data_folder))
        stored = kb.store.get("V-1")
    finally:
        kb.close()
    assert hooked.writes == [["V-1"]]
    assert (stored["resolution"], stored["extra"]["status"]) == ("Renewed the VPN certificate", "resolved")
    assert ("escalated_at" in stored["extra"], outcome.escalated, outcome.left) == (False, [], [])


def test_apply_rules_sets_only_its_own_fields_on_a_call_edited_in_between(data_folder):
    (data_folder / "rules.toml").write_text(RULES)
    app = create_app(settings_for(data_folder))
    client = app.test_client()
    client.put("/api/v1/calls/V-1", json=OPEN_CALL, headers=auth())

    def agent_adds_a_note():
        noted = client.put("/api/v1/calls/V-1", json={**OPEN_CALL, "resolution": "Waiting"}, headers=auth())
        assert noted.status_code == 200
        assert client.get("/api/v1/calls/V-1").headers["ETag"] == '"2"'

    kb = open_knowledge_base(overrides={"KB_DATA_DIR": str(data_folder), "KB_DATABASE_URL": ""}, environ={})
    try:
        outcome = apply_rules(AgentSavesBetweenReadAndWrite(kb.store, agent_adds_a_note), parse_rules_file(data_folder))
        stored, version = kb.store.get_versioned("V-1")
    finally:
        kb.close()
    assert (stored["resolution"], stored["extra"]["priority"], version) == ("Waiting", "high", 3)
    assert [call["id"] for call in outcome.escalated] == ["V-1"]
    assert stored["extra"]["escalated_at"] == outcome.escalated[0]["extra"]["escalated_at"]
