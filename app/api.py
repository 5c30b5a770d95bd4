"""The JSON API under /api/v1: search, calls, feedback, and the OpenAPI document."""

from datetime import datetime, timezone

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import MethodNotAllowed

from app.auth import request_actor, require_reader, require_role
from app.batches import batch_items, record_for_id, validated_batch
from app.errors import ApiError, with_store
from app.json_body import read_json_body
from app.openapi import openapi_document
from app.preconditions import etag, expected_version, stale
from app.schemas import (
    EventBody,
    FeedbackBody,
    SearchBody,
    SearchParams,
    SuggestBody,
    validated,
)
from app.search_log import new_search_id
from app.zero_results import propose_from_solved
from engine.results import InvalidSearchError
from index.generations import IndexMissingError
from store.base import CallNotFoundError, utc_now
from store.records import InvalidCallRecordError, public_record, validate_record

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def services():
    """The process's shared services."""
    return current_app.extensions["kb"]


def search_response(result, search_id=None):
    """The JSON body of a search result (shared with the widget)."""
    body = {
        "search_id": search_id,
        "query": result.query,
        "total": result.total,
        "total_exact": result.total_exact,
        "took_ms": result.took_ms,
        "did_you_mean": result.did_you_mean,
        "timed_out": result.timed_out,
        "results": result.hits,
    }
    if result.facets:
        body["facets"] = result.facets
    return body


def run_search(params=None):
    """Run a search: ``params`` (``SearchParams`` or ``SearchBody``), else the request's query string's."""
    if params is None:
        params = validated(SearchParams, dict(request.args.items()), "query")
    try:
        result = services().search.search(
            params.q,
            product=params.product or None,
            category=params.category or None,
            limit=params.limit,
            offset=params.offset,
            facets=params.facets,
            customer=params.customer or None,
            status=params.status,
            priority=params.priority,
            caller=params.caller or None,
        )
    except InvalidSearchError as error:
        raise ApiError(str(error), 400, field=error.field) from None
    except IndexMissingError as error:
        raise ApiError(str(error), 503) from None
    search_id = new_search_id()
    services().search_log.add(
        {
            "search_id": search_id,
            "query": result.query,
            "product": params.product or None,
            "category": params.category or None,
            "results": result.total,
            "took_ms": result.took_ms,
            "session": _session(getattr(params, "session", "")),
            "channel": _channel(getattr(params, "channel", "")),
            "contact_channel": getattr(params, "contact_channel", None),
            "top_ids": [hit["id"] for hit in result.hits],
        }
    )
    return search_response(result, search_id)


def _session(given=""):
    return (request.headers.get("X-KB-Session") or given or request.args.get("session") or "")[:64]


def _channel(given=""):
    channel = request.headers.get("X-KB-Channel") or given or request.args.get("channel") or "api"
    return channel if channel in ("page", "widget", "api") else "api"


@bp.get("/search")
def search():
    """Ranked past calls for a query."""
    require_reader()
    return jsonify(run_search())


@bp.post("/search")
def search_posted():
    """The same search with its parameters in a JSON body (``app.schemas.SearchBody``): no URL length limit."""
    require_reader()
    return jsonify(run_search(validated(SearchBody, read_json_body(), "body")))


@bp.get("/calls/<path:call_id>")
def get_call(call_id):
    """One call record."""
    require_reader()
    call_id = call_id.strip()  # ids are stored trimmed (store.models.CallId)
    found = with_store(lambda store: store.get_versioned(call_id))
    if found is None:
        raise ApiError(f"call {call_id} not found", 404)
    response = jsonify(public_record(found[0]))
    response.headers["ETag"] = etag(found[1])
    return response


def _validated(items):
    return validated_batch(items, validate_record, InvalidCallRecordError)


def _write(records, expected=None):
    return with_store(lambda store: services().write(records, actor=request_actor(), expected=expected))


@bp.post("/calls")
def create_calls():
    """Insert or update one call record or an array of them."""
    require_role("write")
    records = _validated(batch_items("call"))
    summary, indexed = _write(records)
    status = 201 if summary.inserted else 200
    return jsonify(
        {
            "ok": True,
            "inserted": summary.inserted,
            "updated": summary.updated,
            "unchanged": summary.unchanged,
            "ids": [record["id"] for record in records],
            "indexed": indexed,
            "seq": summary.latest_seq,
            "versions": summary.versions,
        }
    ), status


@bp.put("/calls/<path:call_id>")
def put_call(call_id):
    """Create or replace the call with this id; with ``If-Match``, only if it is still that version."""
    if call_id.endswith("/follow-ups"):  # PUT .../<id>/follow-ups: promises are added with POST
        raise MethodNotAllowed(["GET", "HEAD", "OPTIONS", "POST"])
    require_role("write")
    records = _validated([record_for_id("call", call_id)])
    # The stored id is the validated one (surrounding spaces stripped), not the raw URL segment.
    stored_id = records[0]["id"]
    expected = expected_version(stored_id, lambda: with_store(lambda store: store.get_versioned(stored_id)))
    summary, indexed = _write(records, None if expected is None else {stored_id: expected})
    if stored_id in summary.conflicts:
        raise stale(stored_id, summary.conflicts[stored_id] or None, request.headers["If-Match"])
    version = summary.versions[stored_id]
    call = public_record(records[0])
    response = jsonify({"ok": True, "call": call, "version": version, "indexed": indexed, "seq": summary.latest_seq})
    response.headers["ETag"] = etag(version)
    return response, (201 if summary.inserted else 200)


@bp.delete("/calls/<path:call_id>")
def delete_call(call_id):
    """Delete the call with this id; with ``If-Match``, only if it is still that version."""
    require_role("write")
    call_id = call_id.strip()  # ids are stored trimmed (store.models.CallId)
    current = with_store(lambda store: store.get_versioned(call_id))
    if current is None:
        raise ApiError(f"call {call_id} not found", 404)
    expected = expected_version(call_id, lambda: current)
    try:
        summary, indexed = with_store(
            lambda store: services().delete(call_id, actor=request_actor(), expected=expected)
        )
    except CallNotFoundError:
        raise ApiError(f"call {call_id} not found", 404) from None
    if call_id in summary.conflicts:
        raise stale(call_id, summary.conflicts[call_id], request.headers["If-Match"])
    return jsonify({"ok": True, "deleted": call_id, "indexed": indexed, "seq": summary.latest_seq})


@bp.post("/feedback")
def feedback():
    """Record that a call solved the problem searched for (``app.schemas.FeedbackBody``)."""
    require_reader()
    body = validated(FeedbackBody, read_json_body(), "body")
    call_id, query, search_id = body.call_id, body.query.strip(), body.search_id
    now = datetime.now(timezone.utc)
    try:
        with_store(lambda store: store.add_feedback(call_id, query, body.source, utc_now(), search_id, _session()))
    except CallNotFoundError:
        raise ApiError(f"call {call_id} not found", 404) from None
    proposal = None
    if search_id and _session():
        services().search_log.flush(services().store, settle=0)
        proposal = propose_from_solved(services().store, _session(), search_id, now)
    return jsonify(
        {
            "ok": True,
            "call_id": call_id,
            "query": query,
            "proposed": None if proposal is None else {"from": proposal[0], "to": proposal[1]},
        }
    ), 201


@bp.post("/events")
def events():
    """Record that a hit of a search was opened, for the analytics (``app.schemas.EventBody``)."""
    require_reader()
    body = validated(EventBody, read_json_body(), "body")
    with_store(lambda store: store.log_event(body.search_id, body.call_id, body.kind, utc_now(), _session()))
    return jsonify({"ok": True}), 201


@bp.post("/suggest-from-text")
def suggest_from_text():
    """The past calls most like a paragraph typed during the call (``app.schemas.SuggestBody``)."""
    require_reader()
    body = validated(SuggestBody, read_json_body(), "body")
    try:
        result = services().search.suggest_from_text(body.text, limit=body.limit)
    except IndexMissingError as error:
        raise ApiError(str(error), 503) from None
    return jsonify(search_response(result))


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3 document of this API."""
    return jsonify(openapi_document())
