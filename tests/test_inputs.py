"""Inputs no client may use to break the service: JSON bodies, CSV cells, log lines, names, /healthz (issue #17)."""

import csv
import gc
import io
import logging
import shutil

import pytest
from conftest import WRITE_KEY_ID, auth

from rules.logic import apply_rules
from rules.parse import parse_rules
from store.records import validate_record

ERROR_KEYS = {"ok", "error", "errors", "status"}
DEEP = "[" * 6000 + "]" * 6000
NESTED = "the request body nests arrays or objects more than 64 deep"
SURROGATE = "the request body holds a lone surrogate (such as \\ud800), which is not a character"
ENDPOINTS = {
    "calls": ("/api/v1/calls", '{"id": "U-1", "title": "printer %s"}'),
    "feedback": ("/api/v1/feedback", '{"call_id": "T-001", "query": "printer %s"}'),
    "events": ("/api/v1/events", '{"search_id": "s-%s", "call_id": "T-001"}'),
    "suggest-from-text": ("/api/v1/suggest-from-text", '{"text": "printer %s"}'),
}
CASES = [(name, kind) for name in ENDPOINTS for kind in ("nested", "surrogate")]


@pytest.mark.parametrize(("endpoint", "kind"), CASES, ids=[f"{name}-{kind}" for name, kind in CASES])
def test_deeply_nested_json_and_a_lone_surrogate_answer_400_in_the_error_shape(indexed_client, endpoint, kind):
    path, template = ENDPOINTS[endpoint]
    body = (
        '{"id": "U-1", "call_id": "T-001", "search_id": "s", "text": "printer", "more": %s}' % DEEP
        if kind == "nested"
        else template % "\\ud800"
    )
    response = indexed_client.post(path, data=body, content_type="application/json", headers=auth())
    answer = response.get_json()
    assert (response.status_code, set(answer), answer["status"]) == (400, ERROR_KEYS, 400)
    assert answer["error"] == (NESTED if kind == "nested" else SURROGATE)


def test_a_surrogate_pair_is_one_character_and_accepted(indexed_client):
    body = '{"id": "U-2", "title": "printer \\ud83d\\udda8 offline"}'
    response = indexed_client.post("/api/v1/calls", data=body, content_type="application/json", headers=auth())
    assert (response.status_code, indexed_client.get("/api/v1/calls/U-2").get_json()["title"]) == (
        201,
        "printer \U0001f5a8 offline",
    )


def test_nesting_up_to_the_limit_is_accepted_as_an_extra(indexed_client):
    nested = "[" * 60 + "]" * 60
    body = '{"id": "U-3", "title": "printer", "layers": %s}' % nested
    response = indexed_client.post("/api/v1/calls", data=body, content_type="application/json", headers=auth())
    assert response.status_code == 201


def test_the_csv_export_quotes_every_cell_a_spreadsheet_would_run(indexed_client):
    hostile = '=HYPERLINK("http://evil.example","x")'
    indexed_client.post("/api/v1/calls", json={"id": hostile, "title": "@SUM(1+1)"}, headers=auth())
    assert indexed_client.post("/api/v1/feedback", json={"call_id": hostile, "query": "-2+3"}).status_code == 201
    rows = list(
        csv.reader(io.StringIO(indexed_client.get("/analytics/export.csv", headers=auth()).get_data(as_text=True)))
    )
    top_calls = [row for row in rows if row[0] == "top_calls"]
    assert top_calls == [["top_calls", "'" + hostile, "", "", "1", "'@SUM(1+1)"]]


def test_a_title_with_a_line_break_stays_on_its_own_log_line(store, caplog):
    forged = "Printer\nWARNING escalated FAKE-9 (forged line)"
    store.upsert(
        [validate_record({"id": "L-1", "title": forged, "status": "open", "opened_at": "2020-01-01T00:00:00Z"})]
    )
    with caplog.at_level(logging.WARNING, logger="rules.webhook"):
        apply_rules(store, parse_rules("[escalation_hours]\nnormal = 1\n"))
    assert [record.getMessage() for record in caplog.records] == [
        "escalated L-1 (Printer\\nWARNING escalated FAKE-9 (forged line), normal priority, customer -)"
    ]


def test_the_history_names_the_key_that_vouched_for_an_agent_name(indexed_client, store):
    key_id, secret = store.create_key("write", "crm")
    for key, agent in ((secret, "sam"), ("test-write-key", "the-ceo")):
        indexed_client.put(
            "/api/v1/calls/T-001",
            json={"title": f"Router drops ({agent})"},
            headers={**auth(key), "X-KB-Agent": agent},
        )
    indexed_client.put("/api/v1/calls/T-001", json={"title": "Router drops (no name)"}, headers=auth(secret))
    assert [entry["actor"] for entry in store.history("T-001")[-3:]] == [
        f"{key_id}/sam",
        f"{WRITE_KEY_ID}/the-ceo",
        key_id,
    ]


def healthz_answer(app):
    app.extensions["kb"].search.close()
    response = app.test_client().get("/healthz")
    return response.status_code, response.get_json(), response.get_data(as_text=True)


def test_healthz_says_the_index_is_missing_without_its_path(data_folder, indexed_app):
    shutil.rmtree(indexed_app.extensions["kb"].home.current_dir())
    status, body, text = healthz_answer(indexed_app)
    assert (status, body["ok"], str(data_folder) in text) == (503, False, False)
    assert body["index"] == {"ok": False, "error": "no index to search: run 'python -m indexer rebuild'"}


# Whoosh leaves the garbage file it failed to read open; that is collected (and ignored) here.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_healthz_says_the_index_is_unreadable_without_paths_or_exception_text(data_folder, indexed_app):
    folder = indexed_app.extensions["kb"].home.current_dir()
    for path in folder.iterdir():
        if path.is_file() and path.suffix in (".toc", ".seg"):
            path.write_bytes(b"\x00garbage" * 64)
    status, body, text = healthz_answer(indexed_app)
    assert (status, str(data_folder) in text, "Errno" in text) == (503, False, False)
    assert body["index"] == {"ok": False, "error": "the index could not be read (IndexError)"}
    gc.collect()
