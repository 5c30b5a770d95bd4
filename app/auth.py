"""API keys: who may search and who may write."""

import hmac
import ipaddress

from flask import current_app, g, request, session

from app.errors import ApiError

ROLES = ("search", "write")


def bearer_token():
    """The key sent as ``Authorization: Bearer <key>``, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _configured_write_keys():
    return [key.strip() for key in current_app.config["KB_API_KEYS"].split(",") if key.strip()]


def role_of(token):
    """The role a key grants: 'write', 'search', or None when the key is unknown or revoked.

    :param token: the key sent by the caller.
    """
    for key in _configured_write_keys():
        if hmac.compare_digest(key.encode("utf-8"), token.encode("utf-8")):
            return "write"
    store = current_app.extensions["kb"].store
    return store.role_of_key(token) if hasattr(store, "role_of_key") else None


def _is_loopback(address):
    try:
        return ipaddress.ip_address(address or "").is_loopback
    except ValueError:
        return False


def search_key_required():
    """Whether this request must carry a key to search (the KB_SEARCH_KEY_REQUIRED setting)."""
    setting = str(current_app.config["KB_SEARCH_KEY_REQUIRED"]).lower()
    if setting in ("true", "1", "yes"):
        return True
    if setting in ("false", "0", "no"):
        return False
    return not _is_loopback(request.remote_addr)


def session_role():
    """The role of the agent signed in on our own page, for requests its scripts make.

    Only requests carrying the page's ``X-KB-Channel: page`` header count: a cross-site form or
    image cannot set that header, and our CORS answers refuse it to other origins.
    """
    if request.headers.get("X-KB-Channel") != "page":
        return None
    role = session.get("lead_role")
    return role if role in ROLES else None


def require_role(role):
    """Check the request's key grants ``role``; 'write' keys may also search.

    :raises ApiError: 401 without a key, 403 with a key that does not grant the role.
    """
    token = bearer_token()
    if token is None and session_role() is not None:
        granted = session_role()
    elif token is None:
        raise ApiError(f"this request needs an API key with the '{role}' role: send 'Authorization: Bearer <key>'", 401)
    else:
        granted = role_of(token)
    if granted is None:
        raise ApiError("the API key is not valid (unknown or revoked)", 401)
    if role == "write" and granted != "write":
        raise ApiError("this API key may only search; writing needs a key with the 'write' role", 403)
    g.key_role = granted
    return granted
