"""BM25F as Whoosh 2.7.4 computes it, over whole posting arrays, with its statistics looked up once.

Whoosh's ``BM25F`` scores a term in a call as ``idf * (tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * length
/ average length))``, with the idf and the average field length taken from the whole index and the
call's field length from its length byte (the average from every call's length byte too, where Whoosh
adds exact lengths for some calls: ``whoosh_compat.length_total``). Here the length part is tabulated
once per length byte, and each word's document frequency is looked up once per searcher (a search asks for
the same words several times: is it indexed, how common is it, what is its idf). The arithmetic is Whoosh's,
operation for operation, on 64-bit floats: the tests compare it with Whoosh's own scorer.
"""

import math
from functools import lru_cache

import numpy as np
from whoosh.util.numeric import byte_to_length

from index import whoosh_compat

# Whoosh's BM25F defaults, which the index has always been ranked with.
B = 0.75
K1 = 1.2


@lru_cache(maxsize=64)
def length_norms(average_length, b=B, k1=K1):
    """BM25's length part ``k1 * ((1 - b) + b * length / average)`` for every length byte.

    :param average_length: the field's average length over the index.
    :returns: a read-only ``float64`` array of 256 values, indexed by length byte.
    """
    norms = np.array([k1 * ((1 - b) + b * byte_to_length(byte) / average_length) for byte in range(256)])
    norms.setflags(write=False)
    return norms


def bm25(idf, tf, norms, boost=1.0):
    """BM25 scores of many postings of one term at once.

    :param idf: the term's idf.
    :param tf: its frequencies in the calls (an array).
    :param norms: :func:`length_norms` indexed by each call's length byte (an array as long as ``tf``).
    :param boost: a factor applied to every score.
    :returns: a ``float64`` array.
    """
    tf = tf.astype(np.float64)
    scores = idf * ((tf * (K1 + 1)) / (tf + norms))
    return scores if boost == 1.0 else scores * boost


def bm25_bound(idf, max_tf, min_lengths, average_length, boost=1.0):
    """The highest BM25 score a term can have in blocks of postings, from each block's highest frequency and
    shortest length (BM25 grows with the one and shrinks with the other).

    :param idf: the term's idf.
    :param max_tf: each block's highest frequency.
    :param min_lengths: each block's shortest field length (as the length byte decodes).
    :param average_length: the field's average length over the index.
    :param boost: a factor applied to every score.
    :returns: a ``float64`` array, one bound per block.
    """
    norms = K1 * ((1 - B) + B * min_lengths.astype(np.float64) / average_length)
    return bm25(idf, max_tf, norms, boost)


class IndexStatistics:
    """The whole-index figures BM25 and query shaping need, for one searcher, each looked up once."""

    def __init__(self, searcher):
        """
        :param searcher: the top-level Whoosh searcher (its segments share these figures).
        """
        self.searcher = searcher
        self.doc_count_all = searcher.doc_count_all()
        self.doc_count = searcher.doc_count()
        self._frequencies = {}
        self._norms = {}
        self._averages = {}

    def doc_frequency(self, field, text):
        """How many calls (deleted ones included, as Whoosh counts) hold a term.

        :param field: the field name.
        :param text: the term's text.
        """
        key = (field, text)
        found = self._frequencies.get(key)
        if found is None:
            found = self.searcher.doc_frequency(field, text)
            self._frequencies[key] = found
        return found

    def idf(self, field, text):
        """Whoosh's idf: ``log(calls / (frequency + 1)) + 1``."""
        return math.log(self.doc_count_all / (self.doc_frequency(field, text) + 1)) + 1

    def average_length(self, field):
        """The field's average length over the index, as Whoosh's ``BM25F`` takes it (1 for an empty field), from
        each document's length byte: the same on every server holding the same calls
        (``whoosh_compat.length_total``)."""
        found = self._averages.get(field)
        if found is None:
            total = whoosh_compat.length_total(self.searcher.reader(), field)
            found = self._averages[field] = total / (self.doc_count_all or 1) or 1
        return found

    def norms(self, field):
        """The tabulated BM25 length part for a field (see :func:`length_norms`)."""
        found = self._norms.get(field)
        if found is None:
            found = self._norms[field] = length_norms(self.average_length(field))
        return found
