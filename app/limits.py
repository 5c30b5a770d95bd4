"""Rate limits per API key and per address (the KB_RATE_LIMIT setting, flask-limiter syntax).

A request with a live key spends that key's budget; every other request, one with an unknown, revoked or
expired key included, spends its address's, so inventing a new key per request gains nothing. Behind a
reverse proxy the address is the client's only when ``KB_TRUSTED_PROXIES`` says how many proxies to trust.
Counters live in each process's memory: with several gunicorn workers every worker
counts on its own, so a caller may get up to (workers x the limit) before a 429.
"""

import math
import time

from flask import request
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded

from app.auth import request_key
from app.errors import handle_http_exception
from store.base import StoreUnavailableError

EXEMPT_ENDPOINTS = frozenset({"health.healthz", "static"})


def rate_limit_key():
    """Whose budget a request spends: its live key's id, else its address (the key itself is never kept)."""
    try:
        key = request_key()
    except StoreUnavailableError:  # the key cannot be checked now; the address pays
        key = None
    if key is not None:
        return "key:" + key.id
    return "addr:" + (request.remote_addr or "unknown")


def _is_exempt():
    return request.endpoint in EXEMPT_ENDPOINTS


def _seconds_until(reset_at):
    return max(1, math.ceil(reset_at - time.time()))


def init_limiter(app):
    """Install the rate limit on every route but /healthz and static files.

    An empty KB_RATE_LIMIT turns rate limiting off.

    :param app: the Flask app.
    :returns: the :class:`flask_limiter.Limiter`.
    """
    setting = str(app.config.get("KB_RATE_LIMIT") or "").strip()
    limiter = Limiter(
        rate_limit_key,
        app=app,
        application_limits=[setting] if setting else [],
        storage_uri="memory://",
        headers_enabled=False,
        enabled=bool(setting),
    )
    limiter.request_filter(_is_exempt)

    def too_many_requests(error):
        breached = limiter.current_limit
        if breached is not None:
            error.retry_after = _seconds_until(breached.reset_at)
        error.description = f"too many requests: the limit is {error.description}; retry after the Retry-After seconds"
        return handle_http_exception(error)

    app.register_error_handler(RateLimitExceeded, too_many_requests)
    return limiter
