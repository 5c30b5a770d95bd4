"""Optimistic concurrency over HTTP: a call's version is its ``ETag``, and ``If-Match`` guards a write.

A client that read version 3 sends ``If-Match: "3"`` with its PUT or DELETE. When the call is still
at version 3 the write goes through (the store re-checks the version in the write's transaction, so
two writers that both read version 3 cannot both win); otherwise the answer is 412 with the call's
current ``ETag``, and nothing is written. ``If-Match`` is optional in ``/api/v1``: a write without it
replaces the call as before (docs/api.md, "Versions").
"""

from flask import request

from app.errors import ApiError

PRECONDITION_FAILED = 412


def etag(version):
    """The strong entity tag of a call version, e.g. ``"3"``."""
    return f'"{version}"'


def expected_version(call_id, read_current):
    """The version a write must find, from the request's ``If-Match``; None when it sent none.

    :param call_id: the call written (for the message).
    :param read_current: gives ``(record, version)`` as stored now, or None when the call does not exist
        (called only when the request has an ``If-Match``).
    :returns: the current version when ``If-Match`` names it (or is ``*`` and the call exists), else None
        when the request has no ``If-Match``.
    :raises ApiError: 412 when ``If-Match`` names no version the call has now.
    """
    if "If-Match" not in request.headers:
        return None
    wanted = request.if_match
    current = read_current()
    version = None if current is None else current[1]
    if version is not None and (wanted.star_tag or wanted.contains(str(version))):
        return version
    raise stale(call_id, version, request.headers["If-Match"])


def stale(call_id, version, sent):
    """The 412 for a write whose ``If-Match`` no longer holds.

    :param version: the call's version now, or None when it does not exist.
    :param sent: the ``If-Match`` header as sent.
    """
    if version is None:
        return ApiError(
            f"call {call_id} does not exist, so If-Match: {sent} cannot hold; PUT without If-Match to create it",
            PRECONDITION_FAILED,
            field="If-Match",
        )
    return ApiError(
        f"call {call_id} has changed: it is at version {version}, not If-Match: {sent}; "
        f"GET it again, merge your change, and send If-Match: {etag(version)}",
        PRECONDITION_FAILED,
        field="If-Match",
        headers={"ETag": etag(version)},
    )
