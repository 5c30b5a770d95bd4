"""Reading a JSON request body: what no client may send, refused in the error shape before anything uses it.

- More than ``KB_MAX_BODY_BYTES``: 413, also for a chunked body, which has no length to check up front.
- Not JSON, or not UTF-8: 400.
- Arrays and objects nested more than ``MAX_DEPTH`` deep: 400 (Python's parser would give up with a
  RecursionError past about a thousand levels; nothing this API takes needs more than a few).
- A lone UTF-16 surrogate (``"\\ud800"``): 400. JSON's ``\\u`` escapes can spell one, but it is not a
  character: no store can keep it and no page can show it.
"""

import json

from flask import current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from app.errors import ApiError

MAX_DEPTH = 64
NOT_JSON = "the request body must be JSON (Content-Type: application/json)"


def _raw_body():
    limit = current_app.config["KB_MAX_BODY_BYTES"]
    too_large = ApiError(f"the request body is over the limit of {limit:,} bytes", 413)
    stream = request.stream
    if request.content_length is None and request.environ.get("wsgi.input_terminated"):
        # A chunked body: Werkzeug's guard would hand back the first KB_MAX_BODY_BYTES as if they were all.
        stream = request.environ["wsgi.input"]
    try:
        raw = stream.read(limit + 1)
    except RequestEntityTooLarge:
        raise too_large from None
    if len(raw) > limit:
        raise too_large
    return raw


def nesting_depth(value):
    """How deeply arrays and objects nest in a parsed JSON value (0 for a string or a number)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def _holds_lone_surrogate(value):
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def read_json_body():
    """The request's JSON body, parsed and checked (see module docstring).

    :returns: the parsed value (a dict, a list, ...).
    :raises ApiError: 413 for a body over the limit, 400 for anything else refused.
    """
    if not request.is_json:
        raise ApiError(NOT_JSON, 400)
    raw = _raw_body()
    try:
        body = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ApiError("the request body is not UTF-8 text", 400) from None
    except RecursionError:
        raise ApiError(f"the request body nests arrays or objects more than {MAX_DEPTH} deep", 400) from None
    except ValueError:
        raise ApiError(NOT_JSON, 400) from None
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and nesting_depth(body) > MAX_DEPTH:
        raise ApiError(f"the request body nests arrays or objects more than {MAX_DEPTH} deep", 400)
    if b"\\u" in raw and _holds_lone_surrogate(body):
        raise ApiError("the request body holds a lone surrogate (such as \\ud800), which is not a character", 400)
    return body
