"""Promised follow-ups on the agents' pages (issue #18): record one on a call, mark one kept, see your own.

Recording and marking need a session signed in with a write key and the session's form token, as the capture
form does; the list of an agent's promises follows the agents' page's sign-in rule.
"""

from datetime import datetime, timedelta, timezone

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from pydantic import ValidationError

from app.team_lead import agent_required, check_form_token
from store.base import StoreUnavailableError
from store.follow_ups import FollowUpBody, utc_stamp
from store.validation import field_problems

bp = Blueprint("promises", __name__)
MAX_OFFSET_MINUTES = 16 * 60


def services():
    """The process's shared services."""
    return current_app.extensions["kb"]


def _writer():
    if session.get("lead_role") != "write":
        return redirect(url_for("team_lead.login_form", next=request.referrer or url_for("pages.index")))
    check_form_token()
    return None


def due_from_form(local_text, offset_text):
    """The due time typed in a ``datetime-local`` field, in UTC.

    :param local_text: e.g. ``2026-11-26T15:30``, the agent's wall-clock time.
    :param offset_text: the browser's ``getTimezoneOffset()`` in minutes (page.js fills it; empty: UTC).
    :returns: ISO 8601 with ``Z``, or the text as typed when it is no time (the model words the error).
    """
    try:
        moment = datetime.fromisoformat(local_text.strip())
        offset = int(offset_text or 0)
    except ValueError:
        return local_text
    if moment.tzinfo is None:
        offset = max(-MAX_OFFSET_MINUTES, min(MAX_OFFSET_MINUTES, offset))
        moment = (moment + timedelta(minutes=offset)).replace(tzinfo=timezone.utc)
    return utc_stamp(moment)


@bp.post("/calls/<path:call_id>/follow-ups")
def add(call_id):
    """Record a promise from the call's page."""
    refused = _writer()
    if refused:
        return refused
    call = services().store.get(call_id)
    if call is None:
        abort(404, f"call {call_id} not found")
    owner = request.form.get("owner", "").strip() or session.get("agent_name", "")
    raw = {"what": request.form.get("what", ""), "owner": owner}
    raw["due_at"] = due_from_form(request.form.get("due_at", ""), request.form.get("tz_offset", ""))
    try:
        promise = FollowUpBody.model_validate(raw)
        services().store.add_follow_up(call["id"], call["extra"].get("customer_id") or "", promise, owner)
    except ValidationError as error:
        flash("Promise not recorded: " + field_problems(error, FollowUpBody)[0].message, "error")
    except StoreUnavailableError as error:
        flash(f"Promise not recorded: the store is unavailable ({error})", "error")
    else:
        session["agent_name"] = owner
        flash("Promise recorded.", "ok")
    return redirect(url_for("pages.call", call_id=call["id"]) + "#follow-ups")


@bp.post("/follow-ups/<follow_up_id>/done")
def done(follow_up_id):
    """Mark a promise kept, then go back where the agent was."""
    refused = _writer()
    if refused:
        return refused
    follow_up = services().store.mark_follow_up_done(follow_up_id, session.get("agent_name") or "agent")
    if follow_up is None:
        abort(404, f"follow-up {follow_up_id} not found")
    flash("Marked as kept.", "ok")
    back = request.form.get("next", "")
    return redirect(back if back.startswith("/") and not back.startswith("//") else url_for("promises.mine"))


@bp.get("/follow-ups")
def mine():
    """An agent's promises: overdue first, then due (``owner``, default the name signed on this browser)."""
    refused = agent_required()
    if refused:
        return refused
    owner = request.args.get("owner", session.get("agent_name", "")).strip()[:100]
    now = utc_stamp()
    overdue = services().store.follow_ups("overdue", owner=owner, now=now)
    due = services().store.follow_ups("due", owner=owner, now=now)
    return render_template(
        "promises/mine.html", owner=owner, overdue=overdue, due=due, csrf=session.get("csrf", ""), now=now
    )
