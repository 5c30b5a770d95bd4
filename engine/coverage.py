"""How much of the query a call holds: the share of the query's weight found in the call, and of its words in its
title.

The re-ranker (``engine.rerank``) weighs the words' ranking and the meaning's, but a rank says nothing of a call
only the meaning ranked, and a BM25 score says little of how many of the agent's words a call holds: one rare word
scores like three common ones. These shares do. A word counts as held when any of its alternatives is (its own
term, a typo correction, a sound-alike, a synonym: every term of a phrase), looked up in the posting arrays of the
``text`` field for the call, and in its title's terms for its title (``engine.stored.title_terms_of``: a column
of the index); in the call, each word weighs its idf.
"""

import numpy as np

from analyzers.pipeline import text_terms
from engine.combine import score_at
from engine.evaluate import SegmentView
from engine.shape import TEXT_FIELD, word_node
from engine.stored import title_terms_of


def words_held(searcher, stats, postings, plan, docnums):
    """Which of the plan's words each call holds anywhere in its ``text`` field.

    :param searcher: the searcher the document numbers belong to.
    :param stats: its :class:`engine.scoring.IndexStatistics`.
    :param postings: the process's :class:`engine.postings.PostingArrays`.
    :param plan: the query's ``engine.plan.QueryPlan``.
    :param docnums: whole-index document numbers.
    :returns: a boolean array of ``len(docnums) × len(plan.words)``, the calls in their order.
    """
    docnums = np.asarray(docnums, dtype=np.int64)
    held = np.zeros((len(docnums), len(plan.words)), dtype=bool)
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
        for column, node in enumerate(nodes):
            found = score_at(node, segment, local)[0]  # looked up on the calls: the lists are never walked
            held[order[inside[found]], column] = True
    return held


def word_weights(stats, plan):
    """How much each of the plan's words weighs: the highest idf among its alternatives the calls hold (a rare
    word says more of a call than a common one), 0 for a word no call holds in any way."""
    weights = []
    for word in plan.words:
        terms = [alternative.terms[0] for alternative in word.alternatives]
        known = [term for term in terms if stats.doc_frequency(TEXT_FIELD, term) > 0]
        weights.append(max((stats.idf(TEXT_FIELD, term) for term in known), default=0.0))
    return np.array(weights, dtype=np.float64)


def words_in_title(plan, title):
    """How many of the plan's words a title holds (a phrase alternative only when all its terms are there).

    :param plan: the query's ``engine.plan.QueryPlan``.
    :param title: a title's text.
    """
    return _title_count(word_options(plan), text_terms(title), [True] * len(plan.words))


def _title_count(options, terms, held):
    """How many words of ``options`` (:func:`word_options`) a title's ``terms`` hold, asking only of those ``held``
    marks."""
    return sum(_holds(word, terms) for word, anywhere in zip(options, held) if anywhere)


def word_options(plan):
    """Each of the plan's words as ``(its one-term alternatives, its phrases)``, for quick look-ups in a title."""
    return [
        (
            frozenset(alternative.terms[0] for alternative in word.alternatives if len(alternative.terms) == 1),
            [alternative.terms for alternative in word.alternatives if len(alternative.terms) > 1],
        )
        for word in plan.words
    ]


def _holds(options, terms):
    singles, phrases = options
    return not singles.isdisjoint(terms) or any(all(term in terms for term in phrase) for phrase in phrases)


def coverage(searcher, stats, postings, plan, docnums, stored):
    """Each call's share of the query held anywhere (each word weighed by :func:`word_weights`) and the share of
    its words held in its title: an ``n × 2`` float array.

    :param stored: the calls' stored fields (``engine.stored``), in the order of ``docnums``.
    """
    held = words_held(searcher, stats, postings, plan, docnums)
    weights = word_weights(stats, plan)
    anywhere = held @ weights / weights.sum() if weights.sum() > 0 else np.zeros(len(stored))
    # The title is part of the text: a call holding none of the words anywhere holds none in its title.
    options = word_options(plan)
    in_title = [
        _title_count(options, title_terms_of(fields), row) if any(row) else 0
        for fields, row in zip(stored, held.tolist())
    ]
    in_title = np.array(in_title, dtype=np.float64) / max(1, len(plan.words))
    return np.column_stack([anywhere, in_title]).reshape(len(stored), 2)
