"""Calls like a description typed during the call: its key terms, typos corrected, ranked by BM25."""

import time

from engine.evaluate import evaluate
from engine.explain import format_hit
from engine.query import AnyOf, Term
from engine.results import COUNT_UP_TO, SearchResult, reported_total
from engine.shape import TEXT_FIELD

SUGGEST_MAX_WORDS = 300
SUGGEST_KEY_TERMS = 12


def key_terms(searcher, text):
    """The most telling index terms of a text, weighted (Whoosh's Bo1 model over the ``text`` field).

    :param searcher: the Whoosh searcher.
    :param text: the description, typos already corrected.
    :returns: a list of ``(term, weight)``, best first; empty when no word of the text is indexed.
    """
    try:
        return searcher.key_terms_from_text(TEXT_FIELD, text, numterms=SUGGEST_KEY_TERMS)
    except ZeroDivisionError:  # Whoosh's Bo1 model divides by zero when no word of the text is indexed
        return []


def suggest_from_text(service, text, limit=5):
    """The calls most like a free-text description: any of its key terms, each weighted by how telling it is.

    :param service: the :class:`engine.service.SearchService`.
    :param text: the customer's description as typed during the call.
    :param limit: how many calls.
    :returns: a :class:`engine.results.SearchResult` whose query lists the key terms used.
    """
    started = time.perf_counter()
    with service.lease() as opened:
        return _suggest(service, opened, text, limit, started)


def _suggest(service, opened, text, limit, started):
    plan = service.plan(text, opened, max_words=SUGGEST_MAX_WORDS)
    terms = key_terms(opened.searcher, plan.corrected_text() or plan.text)
    if not terms:
        return SearchResult(query="", total=0, took_ms=0.0, hits=[])
    top_weight = terms[0][1] or 1.0
    tree = AnyOf(tuple(Term(TEXT_FIELD, term, weight / top_weight) for term, weight in terms))
    deadline = time.monotonic() + service.time_limit_s
    found = evaluate(opened.searcher, opened.stats, service.postings, tree, (), limit, deadline, (), COUNT_UP_TO)
    matched = service.matched_terms(
        opened, [docnum for _, docnum in found.hits], set(plan.term_sources) | {t for t, _ in terms}
    )
    hits = [
        format_hit(plan, opened.searcher.stored_fields(docnum), score, 0.0, matched[docnum])
        for score, docnum in found.hits
    ]
    total, total_exact = reported_total(found.total, found.timed_out)
    return SearchResult(
        query=" ".join(term for term, _ in terms),
        total=total,
        total_exact=total_exact,
        took_ms=round((time.perf_counter() - started) * 1000, 2),
        hits=hits,
        timed_out=found.timed_out,
    )
