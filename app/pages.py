"""The agents' page: search and a full view of one call, rendered on the server and enhanced by page.js."""

from flask import Blueprint, abort, current_app, render_template, request, url_for
from markupsafe import Markup

from app.search import InvalidSearchError
from indexer.index_home import IndexMissingError

bp = Blueprint("pages", __name__)

PAGE_RESULTS = 20
# The words shown on a "why it matched" badge for each ``matches[].how`` (page.js uses the same ones).
HOW_LABELS = {
    "exact": "exact",
    "stem": "stem",
    "spelling-variant": "UK/US spelling",
    "synonym": "synonym",
    "typo": "typo",
    "sounds-like": "sounds like",
}


def services():
    """The process's shared services."""
    return current_app.extensions["kb"]


def badge_text(match):
    """The text of one "why it matched" badge, e.g. ``typo: rowter → router``.

    :param match: one entry of a hit's ``matches``.
    :returns: the badge's text (plain, escaped by the template).
    """
    label = HOW_LABELS.get(match["how"], match["how"])
    if not match["matched"] or match["matched"].lower() == match["query_term"].lower():
        return f"{label}: {match['query_term']}"
    return f"{label}: {match['query_term']} → {match['matched']}"


def search_url(query, product="", category=""):
    """The page's URL for a search, leaving out empty filters.

    :returns: a path such as ``/?q=printer&product=Outlook``.
    """
    return url_for("pages.index", q=query or None, product=product or None, category=category or None)


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
                query, product=product or None, category=category or None, limit=PAGE_RESULTS, facets=True
            )
        except (InvalidSearchError, IndexMissingError) as error:
            message = str(error)
    return render_template(
        "pages/index.html", query=query, product=product, category=category, result=result,
        message=message, marked=Markup, badge_text=badge_text, search_url=search_url,
    )


@bp.get("/calls/<path:call_id>")
def call(call_id):
    """The full view of one call, with a "This solved it" button for the query (``q``) and search (``sid``)."""
    record = services().store.get(call_id)
    if record is None:
        abort(404, f"call {call_id} not found")
    return render_template(
        "pages/call.html", call=record, query=request.args.get("q", ""), search_id=request.args.get("sid", "")[:64],
        search_url=search_url,
    )
