"""The agents' page: search and a full view of one call, rendered on the server."""

from flask import Blueprint, abort, current_app, render_template, request
from markupsafe import Markup

from app.search import InvalidSearchError
from indexer.index_home import IndexMissingError

bp = Blueprint("pages", __name__)


def services():
    """The process's shared services."""
    return current_app.extensions["kb"]


@bp.get("/")
def index():
    """The search page; with ``q`` it shows ranked calls (it works without JavaScript too)."""
    query = request.args.get("q", "")
    product = request.args.get("product", "")
    category = request.args.get("category", "")
    result, message = None, ""
    if query.strip():
        try:
            result = services().search.search(
                query, product=product or None, category=category or None, limit=20, facets=True
            )
        except (InvalidSearchError, IndexMissingError) as error:
            message = str(error)
    return render_template(
        "pages/index.html", query=query, product=product, category=category, result=result,
        message=message, marked=Markup,
    )


@bp.get("/calls/<path:call_id>")
def call(call_id):
    """The full view of one call."""
    record = services().store.get(call_id)
    if record is None:
        abort(404, f"call {call_id} not found")
    return render_template("pages/call.html", call=record, query=request.args.get("q", ""))
