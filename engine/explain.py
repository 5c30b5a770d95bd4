"""What a hit shows: the call's fields, highlighted snippets, and why it matched; and the "did you mean".

Every text shown is HTML-escaped here (see :func:`engine.snippets.highlight`); the only tags in a
hit's ``*_html`` fields and in ``did_you_mean.html`` are ``<mark>`` and ``</mark>``.
"""

from html import escape

from analyzers.spelling import us_spelling
from engine.snippets import highlight, surface_words
from index.schema import NO_VALUE

RESOLUTION_PREVIEW_CHARS = 600
# The order "why it matched" lists its reasons in: the strongest kind of match first.
HOW_ORDER = ("exact", "stem", "spelling-variant", "synonym", "typo", "sounds-like", "meaning", "caller-product")


def _how(typed, alternative, surface):
    if alternative.how != "exact":
        return alternative.how
    if surface.replace("'", "").replace("\u2019", "") == typed:
        return "exact"
    if us_spelling(surface) == us_spelling(typed) and surface != typed:
        return "spelling-variant"
    return "stem"


def explain_matches(plan, matched_terms, texts):
    """Why a call matched: one entry per (typed word, matched word), strongest first.

    :param plan: the ``engine.plan.QueryPlan``.
    :param matched_terms: the index terms found in this call.
    :param texts: the call's stored texts, to find each term's word as written.
    :returns: (list of {"query_term", "matched", "how"}, set of terms to highlight).
    """
    sources = plan.term_sources
    terms = {term for term in matched_terms if term in sources}
    surfaces = surface_words(texts, terms)
    matches, seen = [], set()
    for term in terms:
        typed, alternative = sources[term]
        surface = surfaces.get(term, alternative.word)
        key = (typed, surface)
        if key in seen:
            continue
        seen.add(key)
        matches.append({"query_term": typed, "matched": surface, "how": _how(typed, alternative, surface)})
    matches.sort(key=lambda match: (HOW_ORDER.index(match["how"]), match["query_term"], match["matched"]))
    return matches, terms


def did_you_mean(plan, hits):
    """The corrected query, when a typo correction was corrected and used by a hit.

    :param plan: the ``engine.plan.QueryPlan``.
    :param hits: the hits shown (each with ``matches``).
    :returns: ``{"text", "html", "corrections"}``, or None.
    """
    corrected = plan.corrected_text()
    if not corrected:
        return None
    if not any(match["how"] == "typo" for hit in hits for match in hit["matches"]):
        return None
    corrections = [{"from": w.typed, "to": w.correction} for w in plan.words if w.correction]
    changed = {c["to"] for c in corrections}
    html = " ".join(f"<mark>{escape(word)}</mark>" if word in changed else escape(word) for word in corrected.split())
    return {"text": corrected, "html": html, "corrections": corrections}


def display(value):
    """A stored one-value field as shown: empty for the placeholder of "no value"."""
    return "" if value == NO_VALUE else value


def format_hit(plan, stored, score, boost=0.0, matched=frozenset()):
    """One hit as the API, the page and the widget show it.

    :param plan: the ``engine.plan.QueryPlan``.
    :param stored: the call's stored fields.
    :param score: its BM25 score in this search.
    :param boost: its outcome boost (the score shown is ``score * (1 + boost)``).
    :param matched: the index terms of the query the call holds.
    :returns: a dict (see docs/api.md, "results").
    """
    title, problem, resolution = stored.get("title", ""), stored.get("problem", ""), stored.get("resolution", "")
    matches, terms = explain_matches(plan, matched, (title, problem, resolution))
    more = "…" if len(resolution) > RESOLUTION_PREVIEW_CHARS else ""
    return {
        "id": stored["id"],
        "title": title,
        "title_html": highlight(title, terms, size=1000),
        "score": round(score * (1.0 + boost), 4),
        "outcome_boost": round(boost, 4),
        "snippet": highlight(problem or title, terms),
        "resolution": resolution[:RESOLUTION_PREVIEW_CHARS] + more,
        "product": display(stored.get("product", "")),
        "category": display(stored.get("category", "")),
        "created_at": stored.get("created_at", ""),
        "tags": stored.get("tags", []),
        "resolved": stored.get("resolved", True),
        "status": stored.get("status", ""),
        "priority": stored.get("priority", ""),
        "customer_id": display(stored.get("customer_id", NO_VALUE)),
        "matches": matches,
    }
