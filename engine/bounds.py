"""The best score any call in a range of documents could reach for a query tree: what lets a pass skip ranges.

Whoosh keeps, in the header of each block of 128 postings, the block's highest term frequency and its shortest
field length. BM25 grows with the frequency and shrinks with the length, so a term's score in a block is at most
its BM25 at that frequency and length. For a range of documents, a term's bound is the highest bound of the blocks
that overlap the range; a tree combines its terms' bounds as it combines their scores (a sum for words required
or any word, the best option for a word's alternatives), with "cannot match" where a required word, or every
word that finds calls, has no posting in the range. The bound is never below the score of any call in the range,
so a pass that skips a range whose bound cannot beat its current top hits ranks exactly as one that scores it.
"""

import numpy as np

from engine.query import AllOf, AllTerms, AnyOf, BestOf, Term
from engine.scoring import bm25_bound

CANNOT_MATCH = -np.inf


def range_starts(doc_count, ranges_wanted, smallest):
    """The first document of each range a segment is cut into for pruning.

    :param doc_count: the segment's documents.
    :param ranges_wanted: about how many ranges (fewer for a small segment).
    :param smallest: the fewest documents a range holds.
    :returns: ``(lows, highs)``, two ``int64`` arrays; ranges are ``[low, high)``.
    """
    size = max(smallest, -(-doc_count // ranges_wanted))
    lows = np.arange(0, doc_count, size, dtype=np.int64)
    return lows, np.minimum(lows + size, doc_count)


def _term_bounds(term, segment, lows, highs):
    """A term's bound in each range, and how many of its postings each range holds."""
    found = segment.postings_of(term)
    if found is None:
        return np.full(len(lows), CANNOT_MATCH), np.zeros(len(lows), dtype=np.int64)
    ids = found.ids
    counts = np.searchsorted(ids, highs) - np.searchsorted(ids, lows)
    stats = segment.stats
    block_bounds = bm25_bound(
        stats.idf(term.field, term.text),
        found.block_max_weights,
        found.block_min_lengths,
        stats.average_length(term.field),
        term.boost,
    )
    block_firsts = ids[np.concatenate(([0], found.block_ends[:-1]))]
    block_lasts = ids[found.block_ends - 1]
    first_block = np.searchsorted(block_lasts, lows)
    past_block = np.searchsorted(block_firsts, highs)
    # reduceat takes the maximum over [first, past) for each range: its indices interleaved, clipped to the array.
    edges = np.minimum(np.column_stack((first_block, past_block)).ravel(), len(block_bounds) - 1)
    highest = np.maximum.reduceat(block_bounds, edges)[0::2]
    return np.where(counts > 0, highest, CANNOT_MATCH), counts


def tree_bounds(tree, segment, lows, highs):
    """The bound of a query tree in each range of one segment, and how many postings of its terms each range holds.

    :param tree: a query tree (:mod:`engine.query`).
    :param segment: the pass's view of one segment (``engine.evaluate._Segment``).
    :param lows: first documents of the ranges.
    :param highs: ends of the ranges (exclusive).
    :returns: ``(bounds, postings)``: a ``float64`` array (``CANNOT_MATCH`` where no call can match) and an
        ``int64`` array.
    """
    per_term = {term: _term_bounds(term, segment, lows, highs) for term in set(tree.terms())}
    postings = sum((counts for _, counts in per_term.values()), np.zeros(len(lows), dtype=np.int64))
    return _combine(tree, per_term, len(lows)), postings


def _combine(node, per_term, count):
    kind = type(node)
    if kind is Term:
        return per_term[node][0]
    children = [] if kind is Term else list(_children(node))
    if not children or (kind is AnyOf and not node.finding):
        return np.full(count, CANNOT_MATCH)
    bounds = np.array([_combine(child, per_term, count) for child in children])
    if kind is AllTerms or kind is AllOf:
        total = bounds.sum(axis=0)
        return total * node.boost if kind is AllTerms and node.boost != 1.0 else total
    if kind is BestOf:
        return bounds.max(axis=0)
    if kind is AnyOf:
        total = np.where(bounds > CANNOT_MATCH, bounds, 0.0).sum(axis=0)
        return np.where((bounds[: len(node.finding)] > CANNOT_MATCH).any(axis=0), total, CANNOT_MATCH)
    raise TypeError(f"not a query node: {node!r}")


def _children(node):
    if type(node) is AllTerms:
        return node.parts
    if type(node) is AllOf:
        return node.words
    if type(node) is BestOf:
        return node.options
    if type(node) is AnyOf:
        return node.finding + node.scoring
    raise TypeError(f"not a query node: {node!r}")
