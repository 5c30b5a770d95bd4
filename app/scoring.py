"""BM25F exactly as Whoosh 2.7.4 computes it, minus the per-document cost of reading field lengths.

Whoosh's BM25F scorer looks up each scored document's field length through three layers of
method calls and a ``struct`` unpack; at 100,000 calls that was about a third of the time of
a search over a common word. Here each segment's length bytes are read once into memory
(segments never change once written) and the BM25 length norm is tabulated per length byte,
so scoring a document is two index lookups and the same arithmetic as
``whoosh.scoring.bm25``: scores are equal to the last bit, so rankings are too.
"""

import weakref
from functools import lru_cache

from whoosh.codec.whoosh3 import LENGTHS_COLUMN
from whoosh.scoring import BM25F, BM25FScorer
from whoosh.util.numeric import byte_to_length

# Whoosh 2.7.4 keeps a field's lengths in the per-document column "_<field>_len", one byte each.
_LENGTH_COLUMN = "_{}_len"
_length_bytes_by_reader = weakref.WeakKeyDictionary()


def segment_length_bytes(reader, fieldname):
    """The length byte of every document of one segment for one field, read once per segment.

    :param reader: a Whoosh ``SegmentReader``.
    :param fieldname: an indexed, scorable field.
    :returns: a ``bytes`` with one length byte per document number (0 where the document has
        no such field), or None when the reader does not keep lengths the way Whoosh 2.7.4 does.
    """
    per_field = _length_bytes_by_reader.setdefault(reader, {})
    if fieldname not in per_field:
        per_field[fieldname] = _read_length_bytes(reader, fieldname)
    return per_field[fieldname]


def _read_length_bytes(reader, fieldname):
    doc_count = reader.doc_count_all()
    try:
        column = reader._perdoc._cached_reader(_LENGTH_COLUMN.format(fieldname), LENGTHS_COLUMN)
        if column is None:
            return bytes(doc_count)
        if column._fixedlen != 1:
            return None
        stored = bytes(column._dbfile.get(column._basepos, column._count))
    except AttributeError:
        return None
    return stored + bytes(doc_count - len(stored))


@lru_cache(maxsize=64)
def length_norms(average_length, b, k1):
    """BM25's length part ``k1 * ((1 - b) + b * length / average)`` for every length byte.

    :returns: a tuple of 256 floats indexed by length byte.
    """
    return tuple(k1 * ((1 - b) + b * byte_to_length(byte) / average_length) for byte in range(256))


class TabulatedBM25FScorer(BM25FScorer):
    """A ``BM25FScorer`` that reads lengths from :func:`segment_length_bytes`."""

    def __init__(self, searcher, fieldname, text, B, K1, length_bytes, qf=1):  # noqa: N803 (Whoosh's names)
        super().__init__(searcher, fieldname, text, B, K1, qf=qf)
        self._length_bytes = length_bytes
        self._norms = length_norms(self.avgfl, B, K1)
        self._k1_plus_1 = K1 + 1

    def score(self, matcher):
        """The BM25 score of the matcher's current document, as ``whoosh.scoring.bm25`` computes it."""
        tf = matcher.weight()
        return self.idf * ((tf * self._k1_plus_1) / (tf + self._norms[self._length_bytes[matcher.id()]]))


class TabulatedBM25F(BM25F):
    """Whoosh's ``BM25F`` weighting (same parameters, same scores) with tabulated lengths."""

    def scorer(self, searcher, fieldname, text, qf=1):
        """A :class:`TabulatedBM25FScorer` for a scorable field of one segment, else what ``BM25F`` gives
        (e.g. for the whole-index scorer Whoosh makes for ``Searcher.postings``)."""
        reader = searcher.reader()
        if searcher.schema[fieldname].scorable and fieldname not in self._field_B and reader.is_atomic():
            length_bytes = segment_length_bytes(reader, fieldname)
            if length_bytes is not None:
                return TabulatedBM25FScorer(searcher, fieldname, text, self.B, self.K1, length_bytes, qf=qf)
        return super().scorer(searcher, fieldname, text, qf=qf)
