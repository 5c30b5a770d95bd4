"""Privacy (issue #18): everything held about one customer exported, and erased down to anonymised calls whose
resolutions stay searchable; customers imported and exported with the calls."""

import json

import pytest
from conftest import auth

from rules.parse import Rules
from rules.webhook import escalation_message

CUSTOMER = {
    "kind": "customer",
    "id": "ACC-7",
    "name": "Priya Raman",
    "organisation": "Redfern Architects",
    "phones": ["020 7946 0123"],
    "emails": ["priya@redfern.example"],
    "time_zone": "Europe/London",
    "products": [{"name": "HP LaserJet M404"}],
    "notes": "Prefers e-mail.",
}
CALLS = [
    {
        "id": "PR-1",
        "title": "Priya Raman: LaserJet prints ghost images",
        "problem": "Ghosting on every page; call Priya on 020 7946 0123 or priya@redfern.example (Redfern Architects)",
        "resolution": "Replaced the fuser unit on the LaserJet",
        "product": "HP LaserJet M404",
        "customer_id": "ACC-7",
        "customer_name": "Priya Raman",
        "status": "resolved",
        "channel": "email",
    },
    {
        "id": "PR-2",
        "title": "Scanner offline",
        "problem": "Scanner offline again",
        "customer_id": "ACC-7",
        "status": "open",
    },
    {"id": "OTHER", "title": "Someone else's printer", "problem": "Jams", "customer_id": "ACC-8"},
]


@pytest.fixture
def held(runner, tmp_path, data_folder):
    path = tmp_path / "mixed.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in [CUSTOMER, *CALLS]))
    result = runner("import", path)
    assert result.exit_code == 0, result.output
    assert "customers: inserted 1, updated 0, unchanged 0" in result.output
    return data_folder


def test_customer_export_gives_everything_held_about_one_customer(held, runner, indexed_client):
    follow_up = {"what": "Call Priya back", "due_at": "2030-01-01T10:00:00Z", "owner": "sam"}
    assert indexed_client.post("/api/v1/calls/PR-2/follow-ups", json=follow_up, headers=auth()).status_code == 201
    result = runner("customer", "export", "ACC-7")
    dossier = json.loads(result.output)
    assert (result.exit_code, sorted(dossier)) == (0, ["calls", "customer", "customer_history", "follow_ups"])
    assert (dossier["customer"]["phones"], [c["id"] for c in dossier["calls"]]) == (["+442079460123"], ["PR-1", "PR-2"])
    assert [f["what"] for f in dossier["follow_ups"]] == ["Call Priya back"]
    assert [h["op"] for h in dossier["customer_history"]] == ["create"]


def test_customer_erase_leaves_nothing_but_anonymised_calls(held, runner, indexed_app, indexed_client):
    indexed_client.post(
        "/api/v1/calls/PR-1/follow-ups",
        json={"what": "Ring Priya", "due_at": "2030-01-01T10:00:00Z", "owner": "sam"},
        headers=auth(),
    )
    result = runner("customer", "erase", "ACC-7", "--yes")
    assert (result.exit_code, result.output) == (0, "erased customer ACC-7; anonymised 2 calls\n")
    store = indexed_app.extensions["kb"].store
    first = store.get("PR-1")
    assert (first["title"], first["problem"]) == (
        "[customer]: LaserJet prints ghost images",
        "Ghosting on every page; call [customer] on [number] or [email] ([customer])",
    )
    assert (first["resolution"], first["extra"]) == (
        "Replaced the fuser unit on the LaserJet",
        {"channel": "email", "status": "resolved"},
    )
    assert [(h["op"], h["changes"]) for h in store.history("PR-1")] == [("anonymise", {})]
    dump = json.dumps([store.get(call_id) for call_id in ("PR-1", "PR-2")] + store.history("PR-2"))
    assert [word for word in ("Priya", "Raman", "ACC-7", "7946", "redfern") if word.lower() in dump.lower()] == []
    assert (store.get_customer("ACC-7"), store.customer_history("ACC-7"), store.follow_ups(call_id="PR-1")) == (
        None,
        [],
        [],
    )
    assert store._rows("SELECT COUNT(*) AS n FROM customer_keys WHERE customer_id = 'ACC-7'", ()) == [{"n": 0}]
    assert store.get("OTHER")["extra"]["customer_id"] == "ACC-8"
    hits = indexed_client.get("/api/v1/search?q=ghost+images+fuser").get_json()["results"]
    assert (hits[0]["id"], hits[0]["resolution"], hits[0].get("customer_id")) == (
        "PR-1",
        "Replaced the fuser unit on the LaserJet",
        "",
    )
    assert indexed_client.get("/api/v1/customers/ACC-7/calls").get_json()["open"] == []
    assert runner("check").exit_code == 0
    again = runner("customer", "erase", "ACC-7", "--yes")
    assert (again.exit_code, again.output.strip()) == (1, "Error: nothing is held about customer ACC-7")


def test_export_writes_customers_that_import_reads_back_unchanged(held, runner, tmp_path):
    path = tmp_path / "export.jsonl"
    assert runner("export", path).output.startswith("exported 3 calls, 1 customers")
    first = json.loads(path.read_text().splitlines()[0])
    assert (first["kind"], first["id"], first["emails"]) == ("customer", "ACC-7", ["priya@redfern.example"])
    assert "customers: inserted 0, updated 0, unchanged 1" in runner("import", path).output


def test_customers_import_from_csv_with_lists_in_cells(runner, tmp_path, store):
    path = tmp_path / "customers.csv"
    path.write_text(
        "kind,id,name,phones,emails,products,key_account,time_zone\n"
        'customer,ACC-3,Jon Smyth,"020 7946 0958; +33 1 42 68 53 00",jon@x.example,'
        '"Poly Voyager|2.1|SN-1; Jabra Evolve2",yes,Europe/Paris\n'
    )
    result = runner("import", path)
    assert result.exit_code == 0, result.output
    stored = store.get_customer("ACC-3")
    assert (stored["phones"], stored["key_account"], stored["time_zone"]) == (
        ["+442079460958", "+33142685300"],
        True,
        "Europe/Paris",
    )
    assert stored["products"] == [
        {"name": "Poly Voyager", "version": "2.1", "serial": "SN-1"},
        {"name": "Jabra Evolve2", "version": "", "serial": ""},
    ]


def test_a_bad_customer_row_names_its_line_and_stores_nothing(runner, tmp_path, store):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(CUSTOMER) + "\n" + json.dumps({**CUSTOMER, "id": "ACC-8", "phones": ["12"]}) + "\n")
    result = runner("import", path)
    assert result.exit_code == 1
    assert f"{path}:2: field 'phones' holds '12', which is not a phone number in GB" in result.output
    assert store.count_customers() == 0


def test_an_unknown_kind_is_refused_naming_the_field(runner, tmp_path):
    path = tmp_path / "kind.jsonl"
    path.write_text(json.dumps({"kind": "person", "id": "X"}) + "\n")
    assert f"{path}:1: field 'kind' must be one of call, customer, not 'person'" in runner("import", path).output


def test_customer_erase_takes_the_customer_out_of_queued_escalation_notices(held, runner, indexed_app):
    store = indexed_app.extensions["kb"].store
    escalated = {**store.get("PR-1"), "extra": {**store.get("PR-1")["extra"], "escalated_at": "2026-12-06T09:00:00Z"}}
    other = store.get("OTHER")
    notice = escalation_message([escalated, other], Rules(webhook="http://127.0.0.1:9/escalations"))
    store.upsert([escalated], actor="rules", messages=[notice])
    assert "Priya" in store._rows("SELECT payload FROM outbox", ())[0]["payload"]
    assert runner("customer", "erase", "ACC-7", "--yes").exit_code == 0
    (body,) = [row["payload"] for row in store._rows("SELECT payload FROM outbox", ())]
    payload = json.loads(body)
    assert [word for word in ("Priya", "Raman", "ACC-7", "7946", "redfern") if word.lower() in body.lower()] == []
    assert [call["id"] for call in payload["escalated"]] == ["PR-1", "OTHER"]
    assert (payload["escalated"][0]["title"], payload["escalated"][1]["customer_id"]) == (
        "[customer]: LaserJet prints ghost images",
        "ACC-8",
    )
