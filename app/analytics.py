"""Search analytics for team leads at /analytics (behind a write key): charts, tables, CSV, proposals."""

import csv
import importlib.util
import io
from datetime import date, datetime, timedelta, timezone

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, session, url_for

from app.search_log import redact
from app.team_lead import check_form_token, team_lead_required
from store.analytics import SearchAnalytics
from store.base import utc_now

bp = Blueprint("analytics", __name__, url_prefix="/analytics")

DEFAULT_DAYS = 30
# SVG charts are shown as <img>: scripts never run there; this policy allows their inline style only.
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'"
CHARTS_MISSING = (
    "Charts need pygal, which is not installed: install the 'charts' extra "
    "(pip install 'support-kb-search[charts]', or pip install -r requirements.txt, which includes it)."
)


def services():
    """The process's shared services."""
    return current_app.extensions["kb"]


bp.before_request(team_lead_required)


def date_range():
    """The chosen [start, end) range as ISO strings, from ?from=YYYY-MM-DD&to=YYYY-MM-DD (inclusive).

    :returns: (start ISO, end ISO, first date, last date).
    """
    today = datetime.now(timezone.utc).date()
    try:
        last = date.fromisoformat(request.args.get("to") or today.isoformat())
        first = date.fromisoformat(request.args.get("from") or (last - timedelta(days=DEFAULT_DAYS - 1)).isoformat())
    except ValueError:
        abort(400, "dates must look like 2026-11-26")
    if first > last:
        abort(400, "'from' must not be after 'to'")
    return first.isoformat(), (last + timedelta(days=1)).isoformat(), first, last


def _report(start, end):
    analytics = SearchAnalytics(services().store)
    return {
        "summary": analytics.summary(start, end),
        "per_day": analytics.per_day(start, end),
        "top_queries": analytics.top_queries(start, end),
        "zero_results": analytics.zero_result_queries(start, end),
        "unused": analytics.unused_queries(start, end),
        "top_calls": analytics.top_solving_calls(start, end),
        "by_channel": analytics.by_contact_channel(start, end),
    }


@bp.get("/")
def dashboard():
    """The analytics page."""
    start, end, first, last = date_range()
    return render_template(
        "analytics/dashboard.html",
        report=_report(start, end),
        first=first,
        last=last,
        proposals=services().store.proposals(),
        csrf=session.get("csrf", ""),
        charts_missing="" if charts_installed() else CHARTS_MISSING,
    )


def charts_installed():
    """Whether pygal can be imported, without importing it (it installs an import hook of its own)."""
    return importlib.util.find_spec("pygal") is not None


def _pygal():
    """pygal, imported when a chart is drawn.

    :raises werkzeug.exceptions.NotImplemented: a 501 naming the extra to install, when pygal is missing.
    """
    try:
        import pygal
    except ImportError:
        abort(501, CHARTS_MISSING)
    return pygal


def _days(first, last):
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


@bp.get("/searches.svg")
def searches_chart():
    """Searches per day (all, with no result, solved) as an SVG bar chart."""
    start, end, first, last = date_range()
    pygal = _pygal()
    rows = {row["day"]: row for row in SearchAnalytics(services().store).per_day(start, end)}
    days = _days(first, last)
    chart = pygal.Bar(
        js=[],
        width=900,
        height=320,
        x_label_rotation=45,
        show_minor_x_labels=False,
        legend_at_bottom=True,
        title="Searches per day",
    )
    chart.x_labels = days
    chart.x_labels_major = days[:: max(1, len(days) // 10)]
    for label, key in (("searches", "searches"), ("no result", "zero_results"), ("solved", "solved")):
        chart.add(label, [rows.get(day, {}).get(key, 0) or 0 for day in days])
    return _svg(chart)


@bp.get("/solving.svg")
def solving_chart():
    """The calls that solve the most, as a horizontal bar chart."""
    start, end, _, _ = date_range()
    pygal = _pygal()
    rows = SearchAnalytics(services().store).top_solving_calls(start, end, limit=10)
    height = 120 + 36 * max(1, len(rows))  # a bar per call, as thick with one call as with ten
    chart = pygal.HorizontalBar(js=[], width=900, height=height, show_legend=False, title="Calls that solve the most")
    chart.x_labels = [f"{row['call_id']} {row['title'][:40]}" for row in rows]
    chart.add("solved", [row["solved"] for row in rows])
    return _svg(chart)


def _svg(chart):
    response = Response(chart.render(), mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = SVG_POLICY
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/export.csv")
def export_csv():
    """The range's figures as CSV: one section per table."""
    start, end, _, _ = date_range()
    report = _report(start, end)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "key", "searches", "zero_results", "solved", "value"])
    for row in report["per_day"]:
        writer.writerow(["per_day", row["day"], row["searches"], row["zero_results"], row["solved"], ""])
    for section in ("top_queries", "zero_results", "unused"):
        for row in report[section]:
            writer.writerow([section, _csv_safe(row["query"]), row["searches"], "", "", ""])
    for row in report["top_calls"]:
        writer.writerow(["top_calls", _csv_safe(row["call_id"]), "", "", row["solved"], _csv_safe(row["title"])])
    for row in report["by_channel"]:
        counts = [row["searches"], row["zero_results"], row["solved"]]
        writer.writerow(["by_channel", _csv_safe(row["contact_channel"] or "(not given)"), *counts, ""])
    summary = report["summary"]
    writer.writerow(
        ["summary", "total", summary["searches"], summary["zero_results"], summary["solved"], summary["solved_share"]]
    )
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename=search-analytics-{start}-{end}.csv"},
    )


def _csv_safe(text):
    """Text that a spreadsheet will not run as a formula (OWASP's list of characters that start one), with
    e-mail addresses and phone numbers masked."""
    text = redact(str(text or ""))
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.post("/proposals")
def decide():
    """Accept or reject a proposed synonym; accepted ones apply from the next search."""
    check_form_token()
    decision = request.form.get("decision")
    if decision not in ("accepted", "rejected"):
        abort(400, "decision must be accepted or rejected")
    found = services().store.decide_proposal(
        request.form.get("from", ""), request.form.get("to", ""), decision, "team lead", utc_now()
    )
    if not found:
        abort(404, "no such proposal")
    services().synonyms.refresh()
    return redirect(url_for("analytics.dashboard"))
