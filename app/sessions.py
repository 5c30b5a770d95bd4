"""Sign-in sessions: a signed cookie that names its key, checked on every request, and where sign-in leads.

The cookie holds the key's id (never its secret), the role, when the sign-in began and when it was last
used. Every request that carries a role checks, with one lookup by primary key, that the key is still live,
and that neither the idle (``KB_SESSION_IDLE_MINUTES``) nor the absolute (``KB_SESSION_MAX_HOURS``) lifetime
has passed; otherwise the session is emptied there and then, and the request goes on as a stranger's.
The cookie is ``HttpOnly``, ``SameSite=Lax``, and ``Secure`` as ``KB_COOKIE_SECURE`` says.
"""

import secrets
import time
from datetime import timedelta
from urllib.parse import urlsplit

from flask import abort, current_app, request, session
from flask.sessions import SecureCookieSessionInterface

from app.auth import live_key
from store.base import StoreUnavailableError

# "seen" is rewritten at most this often, so an agent typing a search does not get a new cookie per letter.
SEEN_RESOLUTION_S = 60


class KbSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, ``Secure`` per request when ``KB_COOKIE_SECURE`` is ``auto``."""

    def get_cookie_secure(self, app):
        """``Secure`` when the setting says true, or when it says auto and this request came over HTTPS."""
        setting = str(app.config["KB_COOKIE_SECURE"]).strip().lower()
        if setting in ("true", "1", "yes", "on"):
            return True
        if setting in ("false", "0", "no", "off"):
            return False
        return request.is_secure


def init_sessions(app):
    """Set the cookie's attributes and check the session at the start of every request."""
    app.session_interface = KbSessionInterface()
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # The cookie is written when the session changes (sign-in, "seen" once a minute), not on every search.
        SESSION_REFRESH_EACH_REQUEST=False,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=app.config["KB_SESSION_MAX_HOURS"]),
    )
    app.before_request(check_session)


def begin_session(key):
    """Sign in: a fresh session naming ``key`` (an ``app.auth.ApiKey``), with a new form token."""
    session.clear()
    now = int(time.time())
    session.permanent = True
    session.update(lead_role=key.role, key_id=key.id, since=now, seen=now, csrf=secrets.token_urlsafe(16))


def _ended(now):
    config = current_app.config
    since, seen = session.get("since"), session.get("seen")
    if not isinstance(since, int) or not isinstance(seen, int) or not session.get("key_id"):
        return True  # a cookie from before sessions named their key: sign in again
    return now - since > config["KB_SESSION_MAX_HOURS"] * 3600 or now - seen > config["KB_SESSION_IDLE_MINUTES"] * 60


def check_session():
    """``before_request``: end a sign-in whose key is revoked or expired, or whose time is up."""
    if "lead_role" not in session:
        return
    now = int(time.time())
    if _ended(now):
        session.clear()
        return
    try:
        key = live_key(session["key_id"])
    except StoreUnavailableError:
        abort(503, "the store is unreachable, so the sign-in cannot be checked: try again shortly")
    if key is None or key.role != session["lead_role"]:
        session.clear()
    elif now - session["seen"] >= SEEN_RESOLUTION_S:
        session["seen"] = now


def form_token():
    """This browser's form token, made on first use (the sign-in form has one before anyone signs in)."""
    if not session.get("csrf"):
        session["csrf"] = secrets.token_urlsafe(16)
    return session["csrf"]


def safe_next(target, default):
    """Where to go after signing in: ``target`` if it is a plain path on this site, else ``default``.

    Browsers drop tabs and line breaks from URLs and read ``\\`` as ``/``, so ``/\\t/evil.example`` would
    become ``//evil.example``, another site; anything holding those, control characters, a scheme or a
    host, or starting with ``//``, is refused.
    """
    if not isinstance(target, str) or not target.startswith("/") or target.startswith("//"):
        return default
    if any(char < " " or char in "\x7f\\" or char.isspace() for char in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target
