"""How much of the query a call holds: the share of the query's weight found in the call, of its words in its
title, and of its pairs of adjacent words found side by side.

The re-ranker (``engine.rerank``) weighs the words' ranking and the meaning's, but a rank says nothing of a call
only the meaning ranked, and a BM25 score says little of how many of the agent's words a call holds: one rare word
scores like three common ones. These shares do. A word counts as held when any of its alternatives is (its own
term, a typo correction, a sound-alike, a synonym: every term of a phrase), looked up in the posting arrays of the
``text`` field for the call, and in its title's terms for its title (``engine.stored.title_sequence_of``: a
column of the index); in the call, each word weighs its idf. Words held side by side say more than words held apart (an
error message quoted whole, a symptom described in the same words): each pair of adjacent typed words counts as
held when any of their alternatives stand next to each other in the call's title or problem, read as the index
reads them (stop words left out), for the calls holding both words: from the index's columns of the title's terms
and of the problem's pairs (``index.schema``).
"""

from typing import NamedTuple

import numpy as np

from analyzers.pipeline import text_terms
from engine.combine import score_at
from engine.evaluate import SegmentView
from engine.shape import TEXT_FIELD, word_node
from engine.stored import problem_pairs_of, title_sequence_of
from index.schema import pair_key


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


def word_pairs(plan):
    """Each pair of the plan's adjacent words as ``(the terms the first may end with, the terms the second may
    start with)``, over all their alternatives."""
    ends = [frozenset(alternative.terms[-1] for alternative in word.alternatives) for word in plan.words]
    starts = [frozenset(alternative.terms[0] for alternative in word.alternatives) for word in plan.words]
    return list(zip(ends, starts[1:]))


class PairOptions(NamedTuple):
    """The query's pairs of adjacent words as :func:`pairs_held` looks for them."""

    term_pairs: list  # for each pair, the (end, start) term pairs it may stand as
    keys: np.ndarray  # every term pair's key (``index.schema.pair_key``) ...
    owners: np.ndarray  # ... and the pair it belongs to


def pair_options(plan):
    """The plan's pairs of adjacent words (:func:`word_pairs`) as :class:`PairOptions`: the two ways
    :func:`pairs_held` looks for them, in a title's terms and among a problem's pair keys."""
    term_pairs = [frozenset((end, start) for end in ends for start in starts) for ends, starts in word_pairs(plan)]
    keyed = sorted({(pair_key(*pair), index) for index, pairs in enumerate(term_pairs) for pair in pairs})
    keys = np.array([key for key, _ in keyed], dtype=np.uint32)
    return PairOptions(term_pairs, keys, np.array([index for _, index in keyed], dtype=np.int64))


def pairs_held(fields, options, held=None, title=None):
    """How many of the query's pairs of adjacent words (:func:`pair_options`) stand side by side in a call's title
    or problem.

    :param fields: the call's stored fields (``engine.stored``).
    :param held: which words the call holds anywhere (one mark a word); a pair is looked for only when its call
        holds both words. None looks for every pair.
    :param title: the call's title terms in order, when already read (``engine.stored.title_sequence_of``).
    """
    pair_count = len(options.term_pairs)
    wanted = [index for index in range(pair_count) if held is None or (held[index] and held[index + 1])]
    if not wanted:
        return 0
    title = title_sequence_of(fields) if title is None else title
    in_title = set(zip(title, title[1:]))
    found = {index for index in wanted if not options.term_pairs[index].isdisjoint(in_title)}
    if len(found) < len(wanted):  # only then is the problem's column read
        found |= set(wanted) & _owners_among(options, problem_pairs_of(fields))
    return len(found)


def _owners_among(options, sorted_keys):
    """The pairs (their places in the query) any of whose keys is among ``sorted_keys`` (a sorted ``uint32``
    array)."""
    if not len(options.keys) or not len(sorted_keys):
        return set()
    places = np.minimum(np.searchsorted(sorted_keys, options.keys), len(sorted_keys) - 1)
    return set(options.owners[sorted_keys[places] == options.keys].tolist())


def coverage(searcher, stats, postings, plan, docnums, stored):
    """Each call's share of the query held anywhere (each word weighed by :func:`word_weights`), the share of
    its words held in its title, and the share of the query's pairs of adjacent words it holds side by side
    (:func:`pairs_held`): an ``n × 3`` float array.

    :param stored: the calls' stored fields (``engine.stored``), in the order of ``docnums``.
    """
    held = words_held(searcher, stats, postings, plan, docnums)
    weights = word_weights(stats, plan)
    anywhere = held @ weights / weights.sum() if weights.sum() > 0 else np.zeros(len(stored))
    options, pairs = word_options(plan), pair_options(plan)
    in_title, in_order = np.zeros(len(stored)), np.zeros(len(stored))
    for place, (fields, row) in enumerate(zip(stored, held.tolist())):
        # The title is part of the text: a call holding none of the words anywhere holds none in its title.
        if not any(row):
            continue
        title = title_sequence_of(fields)
        in_title[place] = _title_count(options, frozenset(title), row)
        if sum(row) > 1:
            in_order[place] = pairs_held(fields, pairs, row, title)
    in_title /= max(1, len(plan.words))
    in_order /= max(1, len(pairs.term_pairs))
    return np.column_stack([anywhere, in_title, in_order]).reshape(len(stored), 3)
