"""The escalations view for team leads: open calls past their agreed time, with their history."""

from datetime import datetime, timezone

from flask import Blueprint, current_app, render_template

from app.team_lead import team_lead_required
from store.records import PRIORITIES

bp = Blueprint("escalations", __name__, url_prefix="/escalations")
bp.before_request(team_lead_required)


def _hours_since(stamp, now):
    try:
        when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return round((now - when).total_seconds() / 3600, 1)


def escalated_calls(services, now=None):
    """Escalated calls still open or pending, most urgent and oldest first, each with its history.

    :returns: a list of dicts with the call's fields, ``age_hours`` and ``history``.
    """
    now = now or datetime.now(timezone.utc)
    calls = []
    with services.search.lease() as opened:
        for status in ("open", "pending"):
            for fields in opened.searcher.documents(status=status):
                if fields.get("escalated_at"):
                    calls.append({**fields, "age_hours": _hours_since(fields.get("opened_at"), now)})
    calls.sort(key=lambda call: (-PRIORITIES.index(call.get("priority") or "normal"), -(call["age_hours"] or 0)))
    for call in calls:
        try:
            call["history"] = services.store.history(call["id"])
        except Exception:  # the view still lists the calls when the store is away
            call["history"] = []
    return calls


@bp.get("/")
def index():
    """The escalations page."""
    services = current_app.extensions["kb"]
    return render_template("escalations/index.html", calls=escalated_calls(services), rules_error=services.rules.error)
