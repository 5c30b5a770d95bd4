"""The customers and follow-ups API (issue #18): find the caller, read and write customer records, promises.

Lookups are never written to the search log: what a caller gives (a number, an address, a name) is personal.
"""

from datetime import datetime, timezone

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import MethodNotAllowed

from app.auth import request_actor, require_reader, require_role
from app.batches import batch_items, record_for_id, validated_batch
from app.customer_schemas import CustomerLookupParams, FollowUpParams
from app.errors import ApiError, with_store
from app.json_body import read_json_body
from app.schemas import validated
from engine.callers import find_callers
from index.generations import IndexMissingError
from store.base import StoreUnavailableError
from store.customer_models import InvalidCustomerRecordError, local_time, validate_customer
from store.follow_ups import FollowUpBody, utc_stamp

bp = Blueprint("customers", __name__, url_prefix="/api/v1")
SHOWN_DONE = 3  # kept promises shown in the caller panel after the open ones


def services():
    """The process's shared services."""
    return current_app.extensions["kb"]


def caller_context(customer_id, now=None):
    """What the caller panel shows: the record and local time, calls of every channel, promises.

    :param customer_id: the account.
    :returns: the answer of ``GET /api/v1/customers/<id>/calls`` (``app.customer_schemas.CallerContext``).
    :raises IndexMissingError: when no index exists yet.
    """
    context = services().search.customer_context(customer_id)
    try:
        record = services().store.get_customer(customer_id)
        follow_ups = services().store.follow_ups(customer_id=customer_id)
    except StoreUnavailableError:
        record, follow_ups = None, []  # the calls come from this server's index; the rest is a nicety
    open_ones = [f for f in follow_ups if f["state"] != "done"]
    open_ones.sort(key=lambda f: (f["state"] != "overdue", f["due_at"]))
    done = sorted((f for f in follow_ups if f["state"] == "done"), key=lambda f: f["done_at"], reverse=True)
    if record:
        context["customer_name"] = record["name"] or record["organisation"]
    return {
        **context,
        "customer": record,
        "local_time": local_time(record["time_zone"], now) if record else None,
        "follow_ups": open_ones + done[:SHOWN_DONE],
    }


@bp.get("/customers")
def lookup():
    """Customers for an account number, phone number, e-mail address or name as heard, exact matches first."""
    require_reader()
    params = validated(CustomerLookupParams, dict(request.args.items()), "query")
    region = current_app.config["KB_PHONE_REGION"]
    try:
        results = find_callers(services().store, params.q, region, params.limit)
    except StoreUnavailableError as error:
        raise ApiError(f"the store is unavailable: {error}", 503) from None
    return jsonify({"query": params.q, "results": results})


def _validated(items):
    region = current_app.config["KB_PHONE_REGION"]
    return validated_batch(items, lambda item: validate_customer(item, region), InvalidCustomerRecordError)


@bp.post("/customers")
def create_customers():
    """Insert or update one customer record or an array of them (all or nothing)."""
    require_role("write")
    records = _validated(batch_items("customer"))
    summary = with_store(lambda store: store.upsert_customers(records, actor=request_actor()))
    return jsonify({"ok": True, **summary, "ids": [record["id"] for record in records]}), (
        201 if summary["inserted"] else 200
    )


@bp.get("/customers/<path:customer_id>")
def get_customer(customer_id):
    """One customer record, with the time where they are."""
    require_reader()
    record = with_store(lambda store: store.get_customer(customer_id))
    if record is None:
        raise ApiError(f"customer {customer_id} not found", 404)
    return jsonify({"customer": record, "local_time": local_time(record["time_zone"])})


@bp.put("/customers/<path:customer_id>")
def put_customer(customer_id):
    """Create or replace the customer with this id."""
    if customer_id.endswith("/calls"):  # PUT .../<id>/calls: the caller panel, which is read only
        raise MethodNotAllowed(["GET", "HEAD", "OPTIONS"])
    require_role("write")
    records = _validated([record_for_id("customer", customer_id)])
    summary = with_store(lambda store: store.upsert_customers(records, actor=request_actor()))
    record = services().store.get_customer(records[0]["id"])
    return jsonify({"ok": True, "customer": record}), 201 if summary["inserted"] else 200


def _allow(*methods):
    """An OPTIONS answer naming exactly these methods.

    Werkzeug's own would also name the methods of the wider rule whose ``<path:...>`` id swallows the rest of
    the path (``PUT /customers/<id>`` for ``/customers/<id>/calls``), which this path does not have.
    """
    response = current_app.response_class(status=200)
    response.headers["Allow"] = ", ".join(methods)
    return response


@bp.route("/customers/<path:customer_id>/calls", methods=["GET", "OPTIONS"], provide_automatic_options=False)
def customer_calls(customer_id):
    """The caller panel: the record, open calls first, then past ones, every channel, promised follow-ups."""
    if request.method == "OPTIONS":
        return _allow("GET", "HEAD", "OPTIONS")
    require_reader()
    try:
        return jsonify(caller_context(customer_id))
    except IndexMissingError as error:
        raise ApiError(str(error), 503) from None


@bp.route("/calls/<path:call_id>/follow-ups", methods=["POST", "OPTIONS"], provide_automatic_options=False)
def add_follow_up(call_id):
    """Record a promise made to the customer on a call."""
    if request.method == "OPTIONS":
        return _allow("GET", "HEAD", "POST", "OPTIONS")
    require_role("write")
    promise = validated(FollowUpBody, read_json_body(), "body")
    call = with_store(lambda store: store.get(call_id))
    if call is None:
        raise ApiError(f"call {call_id} not found", 404)
    customer_id = call["extra"].get("customer_id") or ""
    follow_up = with_store(lambda store: store.add_follow_up(call["id"], customer_id, promise, request_actor()))
    return jsonify({"ok": True, "follow_up": follow_up}), 201


@bp.get("/calls/<path:call_id>/follow-ups")
def call_follow_ups(call_id):
    """The promises made on one call."""
    require_reader()
    if with_store(lambda store: store.get(call_id)) is None:
        raise ApiError(f"call {call_id} not found", 404)
    now = utc_stamp()
    return jsonify({"now": now, "follow_ups": with_store(lambda store: store.follow_ups(call_id=call_id, now=now))})


@bp.get("/follow-ups")
def follow_ups():
    """Promises by state (due, overdue, done), for one owner or customer if given."""
    require_reader()
    params = validated(FollowUpParams, dict(request.args.items()), "query")
    now = utc_stamp(datetime.now(timezone.utc))
    found = with_store(lambda store: store.follow_ups(params.state, params.owner, params.customer_id, now=now))
    return jsonify({"now": now, "follow_ups": found})


@bp.post("/follow-ups/<follow_up_id>/done")
def follow_up_done(follow_up_id):
    """Mark a promise kept (marking it again changes nothing)."""
    require_role("write")
    follow_up = with_store(lambda store: store.mark_follow_up_done(follow_up_id, request_actor()))
    if follow_up is None:
        raise ApiError(f"follow-up {follow_up_id} not found", 404)
    return jsonify({"ok": True, "follow_up": follow_up})
