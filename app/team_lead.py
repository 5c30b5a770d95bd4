"""Signing in on our pages with a key, exchanged for a signed session cookie.

A write key signs in a team lead (analytics, escalations, capturing calls); a search key signs in an
agent, which the agents' page needs when searching requires a key (``KB_SEARCH_KEY_REQUIRED``).
"""

import hmac
import secrets

from flask import Blueprint, abort, redirect, render_template, request, session, url_for

from app.auth import role_of, search_key_required

bp = Blueprint("team_lead", __name__, url_prefix="/lead")


def team_lead_required():
    """``before_request`` guard: a signed-in team lead, or a bearer write key (CSV clients)."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer ") and role_of(header[7:].strip()) == "write":
        return None
    if session.get("lead_role") != "write":
        return redirect(url_for("team_lead.login_form", next=request.full_path))
    return None


def check_form_token():
    """Refuse a form post without this session's token (cross-site request forgery)."""
    if not hmac.compare_digest(request.form.get("csrf", ""), session.get("csrf", "") or "-"):
        abort(400, "the form has expired: reload the page and try again")


@bp.get("/login")
def login_form():
    """Ask for a write key."""
    return render_template("lead/login.html", message="", next=request.args.get("next", ""))


@bp.post("/login")
def login():
    """Sign in with a key (only its role is kept, in the signed session cookie)."""
    key = request.form.get("key", "").strip()
    role = role_of(key) if key else None
    if role is None:
        return render_template(
            "lead/login.html", message="That key is not valid (unknown or revoked).", next=request.form.get("next", "")
        ), 401
    session.clear()
    session["lead_role"] = role
    session["csrf"] = secrets.token_urlsafe(16)
    target = request.form.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect(url_for("analytics.dashboard") if role == "write" else url_for("pages.index"))


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
