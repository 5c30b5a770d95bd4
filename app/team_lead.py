"""Signing in on our pages with a key, exchanged for a signed session cookie that names the key.

A write key signs in a team lead (analytics, escalations, capturing calls); a search key signs in an
agent, which the agents' page needs when searching requires a key (``KB_SEARCH_KEY_REQUIRED``). The
session itself (lifetimes, the key's revocation, the cookie's attributes) is ``app.sessions``; failed
sign-ins are slowed down by ``app.signin_guard``.
"""

import hmac

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for

from app.auth import key_for, request_key, search_key_required
from app.sessions import begin_session, form_token, safe_next

bp = Blueprint("team_lead", __name__, url_prefix="/lead")


def team_lead_required():
    """``before_request`` guard: a signed-in team lead, or a bearer write key (CSV clients)."""
    key = request_key()
    if key is not None and key.role == "write":
        return None
    if session.get("lead_role") != "write":
        return redirect(url_for("team_lead.login_form", next=request.full_path))
    return None


def check_form_token():
    """Refuse a form post without this session's token (cross-site request forgery)."""
    if not hmac.compare_digest(request.form.get("csrf", ""), session.get("csrf", "") or "-"):
        abort(400, "the form has expired: reload the page and try again")


def _form(message, target, status=200, headers=None):
    page = render_template("lead/login.html", message=message, next=target, csrf=form_token())
    return page, status, headers or {}


@bp.get("/login")
def login_form():
    """Ask for a key."""
    return _form("", safe_next(request.args.get("next", ""), ""))


@bp.post("/login")
def login():
    """Sign in with a key: the session keeps its id and role, never the key."""
    check_form_token()
    typed = request.form.get("key", "").strip()
    target = safe_next(request.form.get("next", ""), "")
    guard = current_app.extensions["kb_signin_guard"]
    wait = guard.wait_seconds(request.remote_addr, typed)
    if wait > 0:
        seconds = max(1, round(wait))
        message = f"Too many failed sign-ins: try again in {seconds} seconds."
        return _form(message, target, 429, {"Retry-After": str(seconds)})
    key = key_for(typed) if typed else None
    if key is None:
        guard.failed(request.remote_addr, typed)
        return _form("That key is not valid (unknown, revoked or expired).", target, 401)
    guard.succeeded(request.remote_addr, typed)
    begin_session(key)
    default = url_for("analytics.dashboard") if key.role == "write" else url_for("pages.index")
    return redirect(target or default)


def agent_required():
    """``before_request`` guard of the agents' page: when searching needs a key, sign in first."""
    if search_key_required() and session.get("lead_role") not in ("search", "write"):
        return redirect(url_for("team_lead.login_form", next=request.full_path))
    return None


@bp.post("/logout")
def logout():
    """Sign out."""
    check_form_token()
    session.clear()
    return redirect(url_for("team_lead.login_form"))
