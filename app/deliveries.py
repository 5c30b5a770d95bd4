"""The notifications team leads can check: every outbox message, delivered, waiting for a retry, or given up."""

from flask import Blueprint, current_app, render_template

from app.team_lead import team_lead_required
from notify.urls import origin_of

bp = Blueprint("deliveries", __name__, url_prefix="/lead/deliveries")
bp.before_request(team_lead_required)
SHOWN = 200


def delivery_rows(store, max_attempts, limit=SHOWN):
    """The most recent outbox messages as the page shows them: state, destination's origin, attempts, error.

    :returns: a list of dicts, newest first.
    """
    rows = []
    for message in store.outbox_messages(limit):
        if message["delivered_at"]:
            state = "delivered"
        elif message["attempts"] >= max_attempts:
            state = "given up"
        else:
            state = "waiting" if message["attempts"] == 0 else "retrying"
        rows.append({**message, "state": state, "destination": origin_of(message["url"])})
    return rows


@bp.get("/")
def index():
    """The deliveries page."""
    services = current_app.extensions["kb"]
    rows = delivery_rows(services.store, current_app.config["KB_OUTBOX_MAX_ATTEMPTS"])
    return render_template("deliveries/index.html", rows=rows, shown=SHOWN)
