"""API keys: who may search and who may write, and which key a request speaks for."""

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass

from flask import current_app, g, request, session

from app.errors import ApiError

ROLES = ("search", "write")
# Headers a reverse proxy adds; a loopback request carrying one was forwarded from somewhere else.
FORWARDING_HEADERS = ("X-Forwarded-For", "X-Real-IP", "Forwarded")


@dataclass(frozen=True)
class ApiKey:
    """A live key: its id (never the secret), its role and its label."""

    id: str
    role: str
    name: str = ""


def bearer_token():
    """The key sent as ``Authorization: Bearer <key>``, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def configured_key_id(secret):
    """The id of a ``KB_API_KEYS`` key: ``cfg_`` and 8 hex digits of its SHA-256 (stored keys have ``key_...``)."""
    return "cfg_" + hashlib.sha256(secret.encode("utf-8")).hexdigest()[:8]


def _configured_write_keys():
    return [key.strip() for key in current_app.config["KB_API_KEYS"].split(",") if key.strip()]


def _store():
    return current_app.extensions["kb"].store


def key_for(token):
    """The live key a secret opens, or None when it is unknown, revoked or expired.

    :param token: the key sent by the caller.
    :returns: an :class:`ApiKey` or None.
    """
    for key in _configured_write_keys():
        if hmac.compare_digest(key.encode("utf-8"), token.encode("utf-8")):
            return ApiKey(configured_key_id(key), "write", "KB_API_KEYS")
    found = _store().key_for_secret(token)
    return None if found is None else ApiKey(found["id"], found["role"], found["name"] or "")


def live_key(key_id):
    """The live key with this id (a sign-in names its key by id), or None once it is revoked or expired."""
    if key_id.startswith("cfg_"):
        matching = [key for key in _configured_write_keys() if configured_key_id(key) == key_id]
        return ApiKey(key_id, "write", "KB_API_KEYS") if matching else None
    found = _store().live_key(key_id)
    return None if found is None else ApiKey(found["id"], found["role"], found["name"] or "")


def request_key():
    """The live key of this request's bearer token, looked up once per request; None without a valid one."""
    if "kb_bearer_key" not in g:
        token = bearer_token()
        g.kb_bearer_key = None if token is None else key_for(token)
    return g.kb_bearer_key


def role_of(token):
    """The role a key grants: 'write', 'search', or None when the key is unknown, revoked or expired."""
    key = key_for(token)
    return None if key is None else key.role


def is_local_request():
    """Whether this request comes from this machine itself, as ``KB_SEARCH_KEY_REQUIRED=auto`` counts it.

    The address is the one ``KB_TRUSTED_PROXIES`` leaves (the client's, behind trusted proxies). Without
    trusted proxies, a loopback request carrying a forwarding header came through a proxy on this machine
    and counts as remote: whoever is behind that proxy is not local.
    """
    try:
        loopback = ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False
    if not loopback:
        return False
    if current_app.config["KB_TRUSTED_PROXIES"] > 0:
        return True
    return not any(name in request.headers for name in FORWARDING_HEADERS)


def search_key_required():
    """Whether this request must carry a key to search (the KB_SEARCH_KEY_REQUIRED setting)."""
    setting = str(current_app.config["KB_SEARCH_KEY_REQUIRED"]).lower()
    if setting in ("true", "1", "yes"):
        return True
    if setting in ("false", "0", "no"):
        return False
    return not is_local_request()


def require_reader():
    """Check the request may read: a key granting 'search' when ``search_key_required``, else anyone."""
    if search_key_required():
        require_role("search")


def request_actor():
    """Who writes, for the edit history: the key's id, then the agent its caller names (``X-KB-Agent``).

    Any write key may send any name, so the name alone proves nothing; the key id in front says which
    key vouched for it (``key_1a2b3c4d/sam``). Call after :func:`require_role`, which keeps the key.
    """
    key = g.get("kb_key")
    label = key.id if key is not None else "api"
    agent = "".join(char for char in request.headers.get("X-KB-Agent", "") if char.isprintable()).strip()[:100]
    return f"{label}/{agent}" if agent else label


def session_key():
    """The key of the agent or team lead signed in on our own page, for requests its scripts make.

    Only requests carrying the page's ``X-KB-Channel: page`` header count: a cross-site form or
    image cannot set that header, and our CORS answers refuse it to other origins. ``app.sessions``
    has already ended the sign-in if its key was revoked or expired.
    """
    if request.headers.get("X-KB-Channel") != "page":
        return None
    role, key_id = session.get("lead_role"), session.get("key_id")
    return ApiKey(key_id, role) if role in ROLES and key_id else None


def session_role():
    """The role of the page's signed-in agent (see :func:`session_key`), or None."""
    key = session_key()
    return None if key is None else key.role


def require_role(role):
    """Check the request's key grants ``role``; 'write' keys may also search.

    :returns: the role granted; the key is kept in ``g.kb_key`` (the edit history names it).
    :raises ApiError: 401 without a key, 403 with a key that does not grant the role.
    """
    token = bearer_token()
    if token is None and session_key() is not None:
        key = session_key()
    elif token is None:
        raise ApiError(f"this request needs an API key with the '{role}' role: send 'Authorization: Bearer <key>'", 401)
    else:
        key = request_key()
    if key is None:
        raise ApiError("the API key is not valid (unknown, revoked or expired)", 401)
    if role == "write" and key.role != "write":
        raise ApiError("this API key may only search; writing needs a key with the 'write' role", 403)
    g.key_role = key.role
    g.kb_key = key
    return key.role
