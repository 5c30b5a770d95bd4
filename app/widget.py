"""The embeddable widget: serves ``/widget.js`` and answers the API cross-origin for allowed origins.

A host page adds ``<script src="https://KB/widget.js" data-kb-key="..." data-kb-target="#kb-search">``.
The script renders a search box in a Shadow DOM and calls ``/api/v1/...`` from the host's origin, so the
API must send CORS headers — but only to the origins listed in ``KB_WIDGET_ORIGINS``, echoed exactly
(never ``*``, never for ``Origin: null``), so another site cannot read our answers with a leaked key.
"""

import hashlib
import json
from pathlib import Path

from flask import Blueprint, Response, current_app, request

from app.errors import error_body

bp = Blueprint("widget", __name__)

STATIC = Path(__file__).resolve().parent / "static"
CORS_PATH_PREFIX = "/api/v1/"
# The widget sends its key, JSON bodies, and the search log's anonymous session and channel.
ALLOWED_HEADERS = "Authorization, Content-Type, X-KB-Session, X-KB-Channel"
ALLOWED_METHODS = "GET, POST, OPTIONS"
PREFLIGHT_MAX_AGE_S = "600"
SCRIPT_MAX_AGE_S = 300


def allowed_origins(config):
    """The origins allowed to call the API cross-origin.

    :param config: the app's config (reads ``KB_WIDGET_ORIGINS``, comma-separated).
    :returns: a set of origins such as ``{"https://intranet.example.com"}``, without trailing slashes.
    """
    raw = config.get("KB_WIDGET_ORIGINS") or ""
    return {origin.strip().rstrip("/") for origin in raw.split(",") if origin.strip() and origin.strip() != "null"}


def cors_origin():
    """The request's ``Origin`` when it may read API answers, else None.

    :returns: the origin to echo in ``Access-Control-Allow-Origin``, or None.
    """
    if not request.path.startswith(CORS_PATH_PREFIX):
        return None
    origin = request.headers.get("Origin", "")
    return origin if origin in allowed_origins(current_app.config) else None


@bp.before_app_request
def answer_preflight():
    """Answer an OPTIONS preflight for ``/api/v1/*``: 204 with CORS headers, or 403 for another origin."""
    if request.method != "OPTIONS" or not request.path.startswith(CORS_PATH_PREFIX):
        return None
    if "Origin" not in request.headers:
        return None  # not a browser preflight: Flask's own OPTIONS answer (Allow header)
    if cors_origin() is None:
        message = f"the origin {request.headers['Origin'][:200]!r} is not allowed: add it to KB_WIDGET_ORIGINS"
        return Response(json.dumps(error_body(message, 403)), status=403, mimetype="application/json")
    response = Response(status=204)
    response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
    response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE_S
    return response


@bp.after_app_request
def add_cors_headers(response):
    """Echo an allowed origin on every ``/api/v1/*`` response, errors included, so the widget can read them."""
    if not request.path.startswith(CORS_PATH_PREFIX):
        return response
    response.vary.add("Origin")  # caches must not serve one origin's answer to another
    origin = cors_origin()
    if origin is not None:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        response.headers["Access-Control-Expose-Headers"] = "Retry-After"
    return response


def widget_source():
    """The text of ``widget.js``: the shared rendering code, the widget's CSS and the widget, in one closure.

    :returns: JavaScript source as a string.
    """
    common = (STATIC / "kb-common.js").read_text(encoding="utf-8")
    css = (STATIC / "widget.css").read_text(encoding="utf-8")
    widget = (STATIC / "widget-main.js").read_text(encoding="utf-8")
    return (
        '/* Support KB search widget: see docs/widget.md */\n(function () {\n"use strict";\n'
        f"{common}\nvar WIDGET_CSS = {json.dumps(css)};\n{widget}\n}}());\n"
    )


@bp.get("/widget.js")
def script():
    """The widget's script, cacheable for a few minutes and revalidated by ETag."""
    body = widget_source()
    response = Response(body, mimetype="text/javascript")
    response.set_etag(hashlib.sha256(body.encode("utf-8")).hexdigest()[:32])
    response.cache_control.public = True
    response.cache_control.max_age = SCRIPT_MAX_AGE_S
    # Host pages that isolate themselves (COEP require-corp) may still load it.
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response.make_conditional(request)
