"""The notifications team leads can check: every outbox message, delivered, waiting for a retry, or given up;
and, on a call's page, what its customer was told about it and when."""

import json

from flask import Blueprint, current_app, render_template

from app.team_lead import team_lead_required
from notify.urls import origin_of
from rules.customer_notices import KIND

bp = Blueprint("deliveries", __name__, url_prefix="/lead/deliveries")
bp.before_request(team_lead_required)
SHOWN = 200


def delivery_rows(store, max_attempts, limit=SHOWN):
    """The most recent outbox messages as the page shows them: state, destination's origin, attempts, error.

    :returns: a list of dicts, newest first.
    """
    return [
        {**message, "state": delivery_state(message, max_attempts), "destination": origin_of(message["url"])}
        for message in store.outbox_messages(limit)
    ]


def delivery_state(message, max_attempts):
    """``delivered``, ``waiting`` (not tried yet), ``retrying`` or ``given up``, for one outbox row."""
    if message["delivered_at"]:
        return "delivered"
    if message["attempts"] >= max_attempts:
        return "given up"
    return "waiting" if message["attempts"] == 0 else "retrying"


def customer_told(store, call_id, max_attempts):
    """What a call's customer was told, oldest first: each message's change, text, state and every attempt.

    The contact details in the payload stay out: the page needs what was said, not where to.

    :returns: a list of dicts with ``id``, ``status``, ``text``, ``created_at``, ``delivered_at``, ``state``,
        ``next_attempt_at``, ``last_error`` and ``attempts_log``.
    """
    told = []
    for message in store.messages_about_call(call_id):
        if message["kind"] != KIND:
            continue
        payload = json.loads(message["payload"])
        told.append(
            {
                **{key: message[key] for key in ("id", "created_at", "delivered_at", "next_attempt_at", "last_error")},
                "status": payload.get("status", ""),
                "text": payload.get("message", ""),
                "state": delivery_state(message, max_attempts),
                "attempts_log": message["attempts_log"],
            }
        )
    return told


@bp.get("/")
def index():
    """The deliveries page."""
    services = current_app.extensions["kb"]
    rows = delivery_rows(services.store, current_app.config["KB_OUTBOX_MAX_ATTEMPTS"])
    return render_template("deliveries/index.html", rows=rows, shown=SHOWN)
