"""Capture a call from the agents' page (issue #7): a form to add a new call or edit one, searchable at once.

Writing needs the write role in the signed session (``/lead/login`` with a write key) and the session's form
token. The form goes through the same path as ``POST /api/v1/calls``: validation, the service rules, the store
(which keeps each edit's who/when/what) and an index catch-up.

The edit form carries the version of the call it showed. When another agent (or the service rules) saved the
call in between, saving does not overwrite their edit: the form comes back (409) with this agent's text kept,
the other edit shown beside each field it changed, and the new version, so saving again is a decision.
"""

import secrets
from datetime import datetime, timezone

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for

from app.team_lead import check_form_token
from store.base import StoreUnavailableError
from store.cells import typed_cells
from store.records import CORE_FIELDS, STATUSES, InvalidCallRecordError, public_record, validate_record
from store.writes import ABSENT

bp = Blueprint("capture", __name__)

# The form's fields in order; ``tags`` is typed comma-separated.
FORM_FIELDS = ("id", "title", "problem", "resolution", "product", "category", "tags", "customer_id", "status")
MAX_AGENT_CHARS = 100


class FormError(Exception):
    """A message to show next to one field of the form (or above it when ``field`` is None)."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


class EditConflict(Exception):
    """The call was saved by someone else since the form showed it; ``stored`` is it now, with its version."""

    def __init__(self, stored, version):
        super().__init__(f"saved meanwhile, now version {version}")
        self.stored = stored
        self.version = version


def services():
    """The process's shared services."""
    return current_app.extensions["kb"]


@bp.before_request
def signed_in_writer():
    """Only a session signed in with a write key may capture; others go to the sign-in and come back."""
    if session.get("lead_role") != "write":
        return redirect(url_for("team_lead.login_form", next=request.full_path.rstrip("?")))
    return None


def new_call_id(now=None):
    """A fresh id such as ``CALL-20261126-142305-7f3a``: readable time first, random tail against clashes.

    :param now: the time to use (default: now, UTC).
    :returns: the id.
    """
    now = now or datetime.now(timezone.utc)
    return f"CALL-{now:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def form_values(record=None, defaults=None):
    """The form's text values for a stored record (or empty ones, with ``defaults`` filled in).

    :returns: a dict of field name to string.
    """
    flat = public_record(record) if record else {}
    values = {name: "" for name in FORM_FIELDS}
    values.update(defaults or {})
    for name in FORM_FIELDS:
        value = flat.get(name)
        if name == "tags" and isinstance(value, list):
            value = ", ".join(value)
        if value not in (None, ""):
            values[name] = str(value)
    if record and not values["status"]:
        values["status"] = "resolved" if record["resolved"] else "open"
    return values


def raw_record(values, existing):
    """The mapping to validate: the stored call's fields (kept as they were) with the form's on top.

    :param values: the form's text values.
    :param existing: the stored record being edited, or None for a new call.
    :returns: a raw record for ``validate_record``, the form's text read as typed values (tags a list).
    """
    raw = public_record(existing) if existing else {"created_at": _now_iso()}
    for name in FORM_FIELDS:
        if values[name].strip() or name in CORE_FIELDS:
            raw[name] = values[name]
        else:
            raw.pop(name, None)  # an emptied customer or status is gone, not kept as an empty extra
    raw.update(typed_cells({name: raw[name] for name in FORM_FIELDS if name in raw}))
    if raw.get("status"):
        raw.pop("resolved", None)  # the form's status decides; an old ``resolved`` would contradict it
    if existing is None and raw.get("status") in ("open", "pending"):
        raw.setdefault("opened_at", raw["created_at"])
    return raw


def _now_iso():
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def save(values, existing, actor, version):
    """Validate, apply the service rules, store and index one call from the form.

    :param existing: the stored record being edited, or None for a new call.
    :param version: the version the form showed (``ABSENT`` for a new call), or None to write unconditionally.
    :returns: (the stored id, whether the index has it already).
    :raises FormError: naming the field whose value breaks a rule, or the store's trouble.
    :raises EditConflict: when the call is no longer at ``version``.
    """
    try:
        record = validate_record(raw_record(values, existing))
    except InvalidCallRecordError as error:
        raise FormError(str(error), error.field if error.field in FORM_FIELDS else None) from None
    expected = None if version is None else {record["id"]: version}
    try:
        summary, indexed = services().write([record], actor=actor, expected=expected)
    except StoreUnavailableError as error:
        raise FormError(f"the store is unavailable, nothing was saved: {error}") from None
    if record["id"] in summary.conflicts:
        if version == ABSENT:
            raise FormError(f"a call with id '{record['id']}' exists already: edit that call instead", "id")
        raise EditConflict(*(services().store.get_versioned(record["id"]) or (None, None)))
    return record["id"], indexed


def _typed():
    values = {name: request.form.get(name, "") for name in FORM_FIELDS}
    agent = request.form.get("agent", "").strip()[:MAX_AGENT_CHARS]
    version = request.form.get("version", "")
    return values, agent, int(version) if version.isdigit() else None


def _render(values, existing, agent, error=None, status=200, version=None, conflict=None):
    return render_template(
        "capture/form.html",
        values=values,
        editing=existing is not None,
        agent=agent,
        statuses=STATUSES,
        error=error,
        csrf=session.get("csrf", ""),
        version="" if version is None else version,
        conflict=conflict,
    ), status


def conflict_view(call_id, values, stored):
    """What the form shows of an edit saved meanwhile: who saved it, when, and its value of each field
    where it differs from what this agent typed.

    :returns: a dict with ``actor``, ``at`` and ``fields`` (field name to the stored value, as text).
    """
    theirs = form_values(stored)
    history = services().store.history(call_id)
    last = history[-1] if history else {"actor": "someone", "at": ""}
    fields = {name: theirs[name] for name in FORM_FIELDS if name != "id" and theirs[name] != values[name]}
    return {"actor": last["actor"], "at": last["at"], "fields": fields}


def _submit(existing, stored_version):
    check_form_token()
    values, agent, version = _typed()
    if existing is not None:
        values["id"] = existing["id"]  # the id names the call; editing never renames it
    try:
        if not agent:
            raise FormError("your name is required: it is kept in the call's history", "agent")
        if existing is None and not values["id"].strip():
            values["id"] = new_call_id()
        if existing is not None and version is not None and version != stored_version:
            raise EditConflict(existing, stored_version)
        call_id, indexed = save(values, existing, agent, ABSENT if existing is None else version)
    except FormError as error:
        return _render(values, existing, agent, error, 422, version)
    except EditConflict as conflict:
        if conflict.stored is None:
            abort(404, f"call {values['id']} not found (deleted while you were editing)")
        shown = conflict_view(values["id"], values, conflict.stored)
        return _render(values, existing, agent, None, 409, conflict.version, shown)
    session["agent_name"] = agent
    flash(("Saved: searchable now." if indexed else "Saved: searchable once the index catches up (soon)."), "ok")
    return redirect(url_for("pages.call", call_id=call_id))


@bp.route("/calls/new", methods=["GET", "POST"])
def new_call():
    """The form for a new call (``?customer_id=`` fills in the caller's account)."""
    if request.method == "POST":
        return _submit(None, ABSENT)
    defaults = {"status": "resolved", "customer_id": request.args.get("customer_id", "")[:200]}
    return _render(form_values(None, defaults), None, session.get("agent_name", ""))


@bp.route("/calls/<path:call_id>/edit", methods=["GET", "POST"])
def edit_call(call_id):
    """The form for an existing call, filled in with what is stored, and the version it shows."""
    found = services().store.get_versioned(call_id)
    if found is None:
        abort(404, f"call {call_id} not found")
    existing, version = found
    if request.method == "POST":
        return _submit(existing, version)
    return _render(form_values(existing), existing, session.get("agent_name", ""), version=version)
