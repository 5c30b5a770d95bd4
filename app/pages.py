"""The agents' page: search and a full view of one call, rendered on the server and enhanced by page.js."""

from flask import Blueprint, abort, current_app, render_template, request, session, url_for
from markupsafe import Markup

from app import customers
from app.deliveries import customer_told
from engine.results import InvalidSearchError
from index.generations import IndexMissingError
from store.base import StoreUnavailableError
from store.records import public_record

bp = Blueprint("pages", __name__)

PAGE_RESULTS = 20
# Facet values listed at once per field; the rest open from "N more". A large knowledge base counts hundreds of
# products, and drawing them all on every keystroke made the page miss its 150 ms (issue #16).
FACET_VALUES_SHOWN = 10
# The words shown on a "why it matched" badge for each ``matches[].how`` (page.js uses the same ones).
HOW_LABELS = {
    "exact": "exact",
    "stem": "stem",
    "spelling-variant": "UK/US spelling",
    "synonym": "synonym",
    "typo": "typo",
    "sounds-like": "sounds like",
    "meaning": "by meaning",
    "caller-product": "your caller's product",
}
# The account that the empty page suggests trying, when the knowledge base has calls of it (the sample has).
EXAMPLE_CALLER = "ACC-1001"


def services():
    """The process's shared services."""
    return current_app.extensions["kb"]


def badge_text(match):
    """The text of one "why it matched" badge, e.g. ``typo: rowter → router``.

    :param match: one entry of a hit's ``matches``.
    :returns: the badge's text (plain, escaped by the template).
    """
    label = HOW_LABELS.get(match["how"], match["how"])
    if match["how"] == "caller-product":
        return f"{label}: {match['matched']}"
    if match["how"] == "meaning":
        return f"{label} ({match['similarity']:.2f})"
    if not match["matched"] or match["matched"].lower() == match["query_term"].lower():
        return f"{label}: {match['query_term']}"
    return f"{label}: {match['query_term']} → {match['matched']}"


def search_url(query, product="", category="", caller=""):
    """The page's URL for a search, leaving out empty filters.

    :returns: a path such as ``/?q=printer&product=Outlook``.
    """
    return url_for(
        "pages.index", q=query or None, product=product or None, category=category or None, caller=caller or None
    )


def caller_context(customer_id):
    """The caller panel: the customer's record, open calls first, then past ones, promises (issue #18).

    :param customer_id: the account the caller gave.
    :returns: what ``GET /api/v1/customers/<id>/calls`` answers (``app.customers.caller_context``).
    :raises IndexMissingError: when no index exists yet.
    """
    return customers.caller_context(customer_id)


def example_caller():
    """An account to suggest on the empty page, or "" when the knowledge base has no calls of it."""
    try:
        return EXAMPLE_CALLER if services().search.customer_calls(EXAMPLE_CALLER) else ""
    except IndexMissingError:
        return ""


@bp.get("/")
def index():
    """The search page; with ``q`` it shows ranked calls (it works without JavaScript too)."""
    query = request.args.get("q", "")
    product = request.args.get("product", "")
    category = request.args.get("category", "")
    caller = request.args.get("caller", "").strip()[:200]
    result, customer, message = None, None, ""
    try:
        if caller:
            customer = caller_context(caller)
        if query.strip():
            result = services().search.search(
                query,
                product=product or None,
                category=category or None,
                limit=PAGE_RESULTS,
                facets=True,
                caller=caller or None,
            )
    except (InvalidSearchError, IndexMissingError) as error:
        message = str(error)
    return render_template(
        "pages/index.html",
        query=query,
        product=product,
        category=category,
        caller=caller,
        customer=customer,
        result=result,
        message=message,
        marked=Markup,
        badge_text=badge_text,
        search_url=search_url,
        facet_values_shown=FACET_VALUES_SHOWN,
        example_caller="" if (query or caller) else example_caller(),
    )


@bp.get("/calls/<path:call_id>")
def call(call_id):
    """The full view of one call, with a "This solved it" button for the query (``q``) and search (``sid``)."""
    record = services().store.get(call_id)
    if record is None:
        abort(404, f"call {call_id} not found")
    return render_template(
        "pages/call.html",
        call=public_record(record),
        query=request.args.get("q", ""),
        search_id=request.args.get("sid", "")[:64],
        search_url=search_url,
        history=_history(call_id),
        follow_ups=_follow_ups(call_id),
        told=_told(call_id),
        csrf=session.get("csrf", ""),
        agent=session.get("agent_name", ""),
    )


def _follow_ups(call_id):
    try:
        return services().store.follow_ups(call_id=call_id)
    except StoreUnavailableError:
        return []


def _told(call_id):
    try:
        return customer_told(services().store, call_id, current_app.config["KB_OUTBOX_MAX_ATTEMPTS"])
    except StoreUnavailableError:
        return []


def _history(call_id):
    try:
        return services().store.history(call_id)
    except StoreUnavailableError:
        return []  # the call itself was readable; its history is a nicety
