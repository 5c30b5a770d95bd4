"""A query tree evaluated over one range of one segment's documents, in whole arrays.

A term's BM25F scores are one vector expression (:mod:`engine.scoring`); a word's alternatives are merged by
their best score; words are intersected (every word required) or united (any word enough) with their scores
summed. Unions and best-of merges go through an array as long as the range once the lists are dense enough
(sorting and searching cost more per posting than touching every document of the range once); both ways add
the same scores in the same order, so they give the same sums to the bit.
"""

import numpy as np

from engine import kernels
from engine.postings import length_bytes
from engine.query import AllOf, AllTerms, AnyOf, BestOf, Term

# Merging in an array as long as the document range beats sorting once the lists hold a sixteenth of its length.
DENSE_SHARE = 16
# Every word required: a word is looked up on the documents the words before it left while they are fewer than
# this share of its postings in the range; past it, scoring its postings and intersecting is cheaper.
REQUIRED_LOOKUP_SHARE = 8
NO_IDS = np.zeros(0, dtype=np.int32)
NO_SCORES = np.zeros(0, dtype=np.float64)


def _term_scores(term, segment, low, high):
    found = segment.postings_of(term)
    if found is None:
        return NO_IDS, NO_SCORES
    start, end = kernels.span(found.ids, low, high)
    ids = found.ids[start:end]
    if not len(ids):
        return NO_IDS, NO_SCORES
    segment.touched += len(ids)
    stats = segment.stats
    lengths = length_bytes(segment.reader, term.field)
    idf = stats.idf(term.field, term.text)
    return ids, kernels.term_scores(found.weights[start:end], ids, lengths, stats.norms(term.field), idf, term.boost)


def score_range(node, segment, low, high):
    """``(ids, scores)`` of the documents in ``[low, high)`` of one segment that ``node`` matches, ids ascending.

    :param node: a query tree.
    :param segment: the pass's view of one segment (``engine.evaluate.SegmentView``).
    :param low: the first document of the range.
    :param high: the end of the range (exclusive).
    """
    kind = type(node)
    if kind is Term:
        return _term_scores(node, segment, low, high)
    if kind is AllTerms or kind is AllOf:
        parts = node.parts if kind is AllTerms else node.words
        sized = sorted((segment.size(part), place) for place, part in enumerate(parts))
        ids, scores = _intersect_all([(size, parts[place]) for size, place in sized], segment, low, high)
        return ids, (scores * node.boost if kind is AllTerms and node.boost != 1.0 else scores)
    if kind is BestOf:
        if not node.options:
            return NO_IDS, NO_SCORES
        if len(node.options) == 1:
            return score_range(node.options[0], segment, low, high)
        return _best_of([score_range(option, segment, low, high) for option in node.options], low, high)
    if kind is AnyOf:
        finding = [score_range(word, segment, low, high) for word in node.finding]
        scoring = [score_range(word, segment, low, high) for word in node.scoring]
        return _sum_over_union(finding, scoring, low, high)
    raise TypeError(f"not a query node: {node!r}")


def _intersect_all(sized_parts, segment, low, high):
    """The documents every part matches, scores summed; ``sized_parts``: ``(postings in the segment, part)``,
    fewest first."""
    if not sized_parts:
        return NO_IDS, NO_SCORES
    ids, scores = score_range(sized_parts[0][1], segment, low, high)
    # A part's postings in the range, taken as its share of the segment's.
    range_share = (high - low) / max(1, segment.doc_count)
    for size, part in sized_parts[1:]:
        if not len(ids):
            break
        if len(ids) * REQUIRED_LOOKUP_SHARE < size * range_share:
            found, other_scores = score_at(part, segment, ids)
            ids, scores = ids[found], scores[found] + other_scores[found]
        else:
            other_ids, other_scores = score_range(part, segment, low, high)
            ids, scores = kernels.intersect(ids, scores, other_ids, other_scores)
    return ids, scores


def positions(ids, within):
    """For each of ``ids``, whether ``within`` (ascending) holds it and where.

    :returns: ``(found, places)``: a boolean array and an index array, both as long as ``ids``.
    """
    if not len(within):
        return np.zeros(len(ids), dtype=bool), np.zeros(len(ids), dtype=np.intp)
    return kernels.locate(ids, within)


def _dense(lists, low, high):
    """Whether lists holding this many postings are best merged in an array over the whole range ``[low, high)``:
    sorting and searching cost more per posting than touching every document of the range once."""
    return sum(len(ids) for ids, _ in lists) * DENSE_SHARE >= high - low


def _best_of(alternatives, low, high):
    """The union of the alternatives, each document scored by the best alternative it holds."""
    if _dense(alternatives, low, high):
        best = np.full(high - low, -np.inf)
        for ids, scores in alternatives:
            kernels.keep_best(best, ids, scores, low)
        places = np.flatnonzero(best > -np.inf)
        return (places + low).astype(np.int32), best[places]
    ids = np.concatenate([a_ids for a_ids, _ in alternatives])
    if not len(ids):
        return NO_IDS, NO_SCORES
    scores = np.concatenate([a_scores for _, a_scores in alternatives])
    order = np.argsort(ids, kind="stable")
    ids, scores = ids[order], scores[order]
    starts = np.flatnonzero(np.concatenate(([True], ids[1:] != ids[:-1])))
    return ids[starts], np.maximum.reduceat(scores, starts)


def _sum_over_union(finding, scoring, low, high):
    """The documents any ``finding`` word holds, scored by the sum of every word's score on them.

    Scores are added word by word in the same order either way, so both ways give the same sums to the bit.
    """
    if not finding:
        return NO_IDS, NO_SCORES
    if _dense(finding, low, high):
        totals, found = np.zeros(high - low), np.zeros(high - low, dtype=bool)
        for word_ids, word_scores in finding:
            kernels.add_scores(totals, word_ids, word_scores, low)
            kernels.mark(found, word_ids, low)
        for word_ids, word_scores in scoring:
            kernels.add_scores(totals, word_ids, word_scores, low)
        places = np.flatnonzero(found)
        return (places + low).astype(np.int32), totals[places]
    candidates = np.unique(np.concatenate([ids for ids, _ in finding]))
    totals = np.zeros(len(candidates), dtype=np.float64)
    for word_ids, word_scores in finding + scoring:
        found, places = positions(candidates, word_ids)
        totals[found] += word_scores[places[found]]
    return candidates, totals


def top(ids, scores, limit):
    """The best ``limit`` matches, highest score first, then lowest number.

    :returns: ``(ids, scores)`` in that order.
    """
    if len(ids) > limit:
        kth_best = -np.partition(-scores, limit - 1)[limit - 1]
        keep = scores >= kth_best
        ids, scores = ids[keep], scores[keep]
    order = np.lexsort((ids, -scores))[:limit]
    return ids[order], scores[order]


def score_at(node, segment, ids):
    """The scores ``node`` gives some documents of one segment, and which of them it matches.

    The arithmetic is :func:`score_range`'s, in the same order, so a document scores the same either way.

    :param node: a word of a query tree (a term, a phrase alternative or a word's alternatives).
    :param segment: the pass's view of one segment.
    :param ids: document numbers, ascending.
    :returns: ``(found, scores)``: a boolean array and a ``float64`` array as long as ``ids`` (0 where not found).
    """
    kind = type(node)
    if kind is Term:
        postings = segment.postings_of(node)
        if postings is None:
            return np.zeros(len(ids), dtype=bool), np.zeros(len(ids))
        stats = segment.stats
        lengths, norms = length_bytes(segment.reader, node.field), stats.norms(node.field)
        idf = stats.idf(node.field, node.text)
        found, scores = kernels.term_scores_at(ids, postings.ids, postings.weights, lengths, norms, idf, node.boost)
        segment.touched += int(np.count_nonzero(found))
        return found, scores
    if kind is AllTerms:
        found, scores = np.ones(len(ids), dtype=bool), np.zeros(len(ids))
        for part in sorted(node.parts, key=segment.size):
            part_found, part_scores = score_at(part, segment, ids)
            found &= part_found
            scores += part_scores
        return found, np.where(found, scores * node.boost if node.boost != 1.0 else scores, 0.0)
    if kind is BestOf:
        found, scores = np.zeros(len(ids), dtype=bool), np.full(len(ids), -np.inf)
        for option in node.options:
            option_found, option_scores = score_at(option, segment, ids)
            found |= option_found
            scores = np.where(option_found, np.maximum(scores, option_scores), scores)
        return found, np.where(found, scores, 0.0)
    raise TypeError(f"not a word of a query: {node!r}")


def documents_of(node, segment):
    """The documents of one segment a word matches (deleted ones included), ascending, without scoring them.

    :param node: a word of a query tree.
    :param segment: the pass's view of one segment.
    """
    kind = type(node)
    if kind is Term:
        postings = segment.postings_of(node)
        return NO_IDS if postings is None else postings.ids
    if kind is AllTerms:
        ids = None
        for part in sorted(node.parts, key=segment.size):
            other = documents_of(part, segment)
            ids = other if ids is None else ids[positions(ids, other)[0]]
        return NO_IDS if ids is None else ids
    if kind is BestOf:
        options = [documents_of(option, segment) for option in node.options]
        return np.unique(np.concatenate(options)) if options else NO_IDS
    raise TypeError(f"not a word of a query: {node!r}")
