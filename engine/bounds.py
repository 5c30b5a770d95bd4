"""The best score a word of a query can give any call: what lets a pass leave the postings of common words unread.

Whoosh keeps, in the header of each block of 128 postings, the block's highest term frequency and its shortest
field length. BM25 grows with the frequency and shrinks with the length, so a term scores at most its BM25 at
that frequency and length in each block; the highest of those over its blocks bounds the term everywhere. A word
is bounded as it is scored: a phrase alternative by the sum of its terms, a word's alternatives by the best of
them. The bound is never below the score any call gets, so a pass that stops reading words whose bounds cannot
lift a call into the page ranks exactly as one that reads them all.
"""

from engine.query import AllTerms, BestOf, Term
from engine.scoring import bm25_bound


def _term_bound(term, segment):
    found = segment.postings_of(term)
    if found is None:
        return 0.0
    stats = segment.stats
    bounds = bm25_bound(
        stats.idf(term.field, term.text),
        found.block_max_weights,
        found.block_min_lengths,
        stats.average_length(term.field),
        term.boost,
    )
    return float(bounds.max())


def word_bound(word, segments):
    """The highest score ``word`` can give a call in any of ``segments`` (0 when it is in none).

    :param word: a term, a phrase alternative (:class:`~engine.query.AllTerms`) or a word's alternatives
        (:class:`~engine.query.BestOf`).
    :param segments: the pass's views of the index's segments.
    """
    kind = type(word)
    if kind is Term:
        return max((_term_bound(word, segment) for segment in segments), default=0.0)
    if kind is AllTerms:
        return sum(word_bound(part, segments) for part in word.parts) * word.boost
    if kind is BestOf:
        return max((word_bound(option, segments) for option in word.options), default=0.0)
    raise TypeError(f"not a word of a query: {word!r}")
