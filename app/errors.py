"""Error types of the HTTP layer and the one handler that shapes every error."""

import logging

from flask import current_app, jsonify, make_response, render_template, request
from werkzeug.exceptions import HTTPException

from store.base import StoreUnavailableError

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error to show the caller: a message, an HTTP status and the field at fault."""

    def __init__(self, message, status=400, field=None, errors=None, headers=None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field
        self.errors = errors
        self.headers = headers


def with_store(operation):
    """``operation(store)`` on this process's store; an unreachable store answers 503 (nothing was written).

    :raises ApiError: 503 naming the store's error.
    """
    try:
        return operation(current_app.extensions["kb"].store)
    except StoreUnavailableError as error:
        raise ApiError(f"the store is unavailable, nothing was written: {error}", 503) from None


def error_body(message, status, errors=None):
    """The one JSON shape of every error.

    :returns: a dict ``{"ok": false, "error", "errors", "status"}``.
    """
    return {"ok": False, "error": message, "errors": errors or [{"message": message}], "status": status}


def _wants_json():
    return (
        request.path.startswith(("/api/", "/widget/", "/healthz"))
        or request.accept_mimetypes.best == "application/json"
    )


def _respond(message, status, errors=None, headers=None):
    if _wants_json():
        response = jsonify(error_body(message, status, errors))
    else:
        response = make_response(render_template("pages/error.html", message=message, status=status))
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def handle_api_error(error):
    """Turn an :class:`ApiError` into the error shape."""
    errors = error.errors or [
        {"field": error.field, "message": error.message} if error.field else {"message": error.message}
    ]
    return _respond(error.message, error.status, errors, error.headers)


def handle_http_exception(error):
    """Turn any werkzeug HTTP error (404, 405, 413, 429...) into the error shape."""
    headers = {}
    if error.code == 429:
        retry_after = getattr(error, "retry_after", None) or 60
        headers["Retry-After"] = str(int(retry_after))
    if error.code == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(error.valid_methods)
    return _respond(error.description or error.name, error.code, headers=headers)


def handle_unexpected(error):
    """Log the traceback of an unexpected error and show a message without it."""
    if isinstance(error, HTTPException):
        return handle_http_exception(error)
    log.exception("unexpected error on %s %s", request.method, request.path)
    return _respond("internal error: the server could not finish this request", 500)


def register_error_handlers(app):
    """Install the handlers on the app."""
    app.register_error_handler(ApiError, handle_api_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
