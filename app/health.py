"""GET /healthz: store and index reachable, record count, how far the index lags the store, the follower.

It answers anyone, so a failure is named by what failed, never by the exception's text (which may hold
paths, host names or SQL); the log has the details.
"""

import logging
from datetime import datetime, timezone

from flask import Blueprint, current_app, jsonify

from engine.backlog import backlog_report
from index.generations import IndexMissingError
from store.base import StoreUnavailableError

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


def public_reason(part, error):
    """What failed, in words that are safe to show to anyone (no paths, no exception text).

    :param part: "store" or "index".
    :param error: the exception raised while checking it.
    """
    if isinstance(error, StoreUnavailableError):
        return "the store is unreachable"
    if isinstance(error, IndexMissingError):
        return "no index to search: run 'python -m indexer rebuild'"
    log.warning("/healthz: the %s failed its check: %r", part, error)
    if isinstance(error, OSError):
        return f"the {part}'s files could not be read ({type(error).__name__})"
    return f"the {part} could not be read ({type(error).__name__})"


def _seconds_since(stamp):
    """Seconds since an ISO 8601 time: how long the oldest change not yet indexed has waited."""
    if not stamp:
        return 0.0
    written = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return round(max(0.0, (datetime.now(timezone.utc) - written).total_seconds()), 3)


def semantic_state(kb):
    """Ranking by meaning: on or off, the model, and how many of the index's passages still wait for a vector."""
    stage = kb.search.semantic
    if stage is None:
        return {"on": False, "reason": "turned off (KB_SEMANTIC)"}
    store = stage.loaded_store()
    if store is None:
        return {
            "on": False,
            "reason": f"the embedding model {stage.model_name} is not installed or not the pinned file",
        }
    state = {"on": True, "model": store.model_name}
    try:
        with kb.search.lease() as opened:
            report = backlog_report(opened.searcher, store)
    except Exception as error:  # the index part of the answer says what is wrong with the index
        log.warning("/healthz: the passage backlog could not be counted: %r", error)
        return state
    return {**state, "passages": report.passages, "embedded": report.embedded, "backlog": report.waiting}


@bp.get("/healthz")
def healthz():
    """Report the state of the store, the index and the follower; 503 when the index cannot serve searches
    or the follower is stuck (``app.follower``)."""
    kb = current_app.extensions["kb"]
    body = {"ok": True, "store": {"ok": True}, "index": {"ok": True}}
    try:
        body["store"].update(kind=type(kb.store).__name__, calls=kb.store.count(), latest_seq=kb.store.latest_seq())
    except Exception as error:  # searches go on from the local index; health says the store is away
        body["store"] = {"ok": False, "error": public_reason("store", error)}
    try:
        with kb.search.lease() as opened:
            calls = opened.searcher.doc_count()
        folder = kb.home.current_dir()
        applied = kb.home.read_applied_seq(folder)
        body["index"].update(calls=calls, applied_seq=applied, generation=folder.name)
        latest = body["store"].get("latest_seq")
        if latest is not None:
            lag = max(0, latest - applied)
            body["index"]["lag_changes"] = lag
            body["index"]["lag_seconds"] = 0.0 if lag == 0 else _seconds_since(kb.store.change_time(applied + 1))
    except Exception as error:
        body["index"] = {"ok": False, "error": public_reason("index", error)}
    body["follower"] = {**kb.follower.status(), "search_log": kb.search_log.status()}
    body["semantic"] = semantic_state(kb)
    body["ok"] = body["store"]["ok"] and body["index"]["ok"] and body["follower"]["ok"]
    body["calls"] = body["store"].get("calls", body["index"].get("calls"))
    return jsonify(body), (200 if body["index"]["ok"] and body["follower"]["ok"] else 503)
