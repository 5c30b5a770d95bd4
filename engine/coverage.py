"""How much of the query a call holds: the share of its typed words found in the call, and in its title.

The re-ranker (``engine.rerank``) weighs the words' ranking and the meaning's, but a rank says nothing of a call
only the meaning ranked, and a BM25 score says little of how many of the agent's words a call holds: one rare word
scores like three common ones. These shares do. A word counts as held when any of its alternatives is (its own
term, a typo correction, a sound-alike, a synonym: every term of a phrase), looked up in the posting arrays of the
``text`` field for the call, and in the analysed stored title for its title.
"""

from functools import lru_cache

import numpy as np

from analyzers.pipeline import text_pipeline
from engine.combine import positions
from engine.evaluate import SegmentView
from engine.query import AllTerms, BestOf, Term
from engine.shape import word_node

# Titles whose terms each process keeps (a few hundred bytes each).
TITLES_KEPT = 4096


def words_held(searcher, stats, postings, plan, docnums):
    """How many of the plan's words each call holds anywhere in its ``text`` field.

    :param searcher: the searcher the document numbers belong to.
    :param stats: its :class:`engine.scoring.IndexStatistics`.
    :param postings: the process's :class:`engine.postings.PostingArrays`.
    :param plan: the query's ``engine.plan.QueryPlan``.
    :param docnums: whole-index document numbers.
    :returns: an ``int64`` array as long as ``docnums``, in their order.
    """
    docnums = np.asarray(docnums, dtype=np.int64)
    held = np.zeros(len(docnums), dtype=np.int64)
    if not len(docnums) or not plan.words:
        return held
    nodes = [word_node(word) for word in plan.words]
    order = np.argsort(docnums, kind="stable")
    wanted = docnums[order]
    for leaf, offset in searcher.leaf_searchers():
        reader = leaf.reader()
        inside = np.flatnonzero((wanted >= offset) & (wanted < offset + reader.doc_count_all()))
        if not len(inside):
            continue
        local = wanted[inside] - offset
        segment = SegmentView(reader, offset, stats, postings, ())
        for node in nodes:
            found = held_at(node, segment, local)
            held[order[inside[found]]] += 1
    return held


def held_at(node, segment, ids):
    """Which of some documents of one segment hold a word of a query tree (by any alternative; every term of a
    phrase), looked up in its posting lists: a list is searched for the documents, never walked.

    :param node: a :class:`~engine.query.Term`, :class:`~engine.query.AllTerms` or :class:`~engine.query.BestOf`.
    :param segment: an :class:`engine.evaluate.SegmentView`.
    :param ids: document numbers of the segment, ascending.
    :returns: a boolean array as long as ``ids``.
    """
    if isinstance(node, Term):
        postings = segment.postings_of(node)
        return positions(ids, postings.ids)[0] if postings is not None else np.zeros(len(ids), dtype=bool)
    if isinstance(node, AllTerms):
        return np.logical_and.reduce([held_at(part, segment, ids) for part in node.parts])
    if isinstance(node, BestOf):
        return np.logical_or.reduce([held_at(option, segment, ids) for option in node.options])
    raise TypeError(f"not a word of a query: {node!r}")


def words_in_title(plan, title):
    """How many of the plan's words a title holds (a phrase alternative only when all its terms are there).

    :param plan: the query's ``engine.plan.QueryPlan``.
    :param title: a call's stored title.
    """
    terms = title_terms(title or "")
    return sum(
        any(all(term in terms for term in alternative.terms) for alternative in word.alternatives)
        for word in plan.words
    )


@lru_cache(maxsize=TITLES_KEPT)
def title_terms(title):
    """The index terms of a title, as a set (the titles of recent candidates are kept: they come back often)."""
    return frozenset(text_pipeline().terms(title))


def coverage(searcher, stats, postings, plan, docnums, titles):
    """Each call's share of the query's words held anywhere, and in its title: an ``n × 2`` float array.

    :param titles: the calls' stored titles, in the order of ``docnums``.
    """
    count = max(1, len(plan.words))
    held = words_held(searcher, stats, postings, plan, docnums)
    # The title is part of the text: a call holding none of the words anywhere holds none in its title.
    in_title = [words_in_title(plan, title) if anywhere else 0 for title, anywhere in zip(titles, held.tolist())]
    return np.column_stack([held / count, np.array(in_title, dtype=np.float64) / count]).reshape(len(titles), 2)
