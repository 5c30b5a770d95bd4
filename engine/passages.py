"""From a passage vector to the calls that hold its text: one table per segment, built from the passage column.

A vector is keyed by its passage's digest (``index.schema.passage_digest``); the index keeps each call's digest in
a fixed-width column (``index.schema``: ``passage`` is sortable). Looking each of a search's closest passages up as
a term, in every segment, cost about 0.8 ms of a query new to the worker at 100,000 calls. Here each segment's
column is read once per process into the digests' first 8 bytes, sorted, beside the document numbers in that
order: the closest rows of a search are then found in every segment by two binary searches over an array, and each
match is checked against the whole digest in the column, so a shared prefix can never join a call to another
call's vector.

A segment written before the column existed has no table (:meth:`PassageTables.table` returns None), and its
passages are looked up as terms, as before.
"""

import threading
from collections import OrderedDict

import numpy as np
from whoosh import columns

from index import whoosh_compat

PASSAGE_FIELD = "passage"
# Segments whose table stays in memory (12 bytes a call: 12 MB at a million calls).
KEPT_SEGMENTS = 64
_HEX_VALUES = np.zeros(256, dtype=np.uint8)
_HEX_VALUES[np.frombuffer(b"0123456789abcdef", dtype=np.uint8)] = np.arange(16, dtype=np.uint8)


def digest_prefix_keys(digests):
    """The first 8 bytes of raw 32-byte digests as big-endian unsigned integers (the tables' sort key).

    :param digests: ``uint8`` array of shape ``(n, 32)`` (``index.vectors.VectorSnapshot.digests`` rows).
    :returns: ``uint64`` array of ``n`` keys.
    """
    return np.ascontiguousarray(digests[:, :8]).view(">u8").ravel().astype(np.uint64)


def hex_prefix_keys(hex_digests):
    """The same keys from digests written as 64 lowercase hex characters (the column's values).

    :param hex_digests: ``uint8`` array of shape ``(n, 64)``: the ASCII of each hex digest.
    :returns: ``uint64`` array of ``n`` keys.
    """
    nibbles = _HEX_VALUES[hex_digests[:, :16]]
    return digest_prefix_keys((nibbles[:, 0::2] << 4) | nibbles[:, 1::2])


class SegmentPassages:
    """One segment's documents ordered by their passage digest."""

    def __init__(self, hex_digests):
        """
        :param hex_digests: ``uint8`` array ``(documents, 64)``: each document's digest as hex characters.
        """
        keys = hex_prefix_keys(hex_digests)
        self.docnums = np.argsort(keys, kind="stable").astype(np.int32)
        self.keys = keys[self.docnums]

    def holders(self, keys):
        """For each key, the span of :attr:`docnums` whose digest starts with it: ``(starts, ends)``."""
        return np.searchsorted(self.keys, keys, side="left"), np.searchsorted(self.keys, keys, side="right")


def whole_digests(reader):
    """A segment's column of whole digests (raw bytes of hex characters by document number), to check a match:
    taken from the reader in use, as the table outlives the readers it was built from."""
    return reader.column_reader(PASSAGE_FIELD, translate=False)


class PassageTables:
    """The :class:`SegmentPassages` of the segments searched in one process, kept by segment id."""

    def __init__(self, kept=KEPT_SEGMENTS):
        """
        :param kept: how many segments' tables to keep (least recently used out first).
        """
        self.kept = kept
        self._tables = OrderedDict()
        self._lock = threading.Lock()

    def table(self, reader):
        """The segment's table, or None when the segment has no passage column (then look digests up as terms).

        :param reader: a Whoosh ``SegmentReader``.
        """
        key = whoosh_compat.segment_key(reader)
        with self._lock:
            if key is not None and key in self._tables:
                self._tables.move_to_end(key)
                return self._tables[key]
        hex_digests = fixed_column_bytes(reader, PASSAGE_FIELD)
        table = None if hex_digests is None else SegmentPassages(hex_digests)
        if key is not None:
            with self._lock:
                self._tables[key] = table
                while len(self._tables) > self.kept:
                    self._tables.popitem(last=False)
        return table


def fixed_column_bytes(reader, fieldname):
    """Every document's value of a fixed-width column of one segment, read at once.

    :param reader: a Whoosh ``SegmentReader``.
    :param fieldname: a field whose column is a ``FixedBytesColumn``.
    :returns: a ``uint8`` array ``(documents, width)``; None when the segment has no such column.
    """
    if not reader.is_atomic() or fieldname not in reader.schema or not reader.has_column(fieldname):
        return None
    if not isinstance(reader.schema[fieldname].column_type, columns.FixedBytesColumn):
        return None
    # Whoosh's reader of this column keeps where its values start and how many were written, one after another.
    column_reader = reader.column_reader(fieldname, translate=False)
    width, written = column_reader._fixedlen, column_reader._count
    table = np.empty((reader.doc_count_all(), width), dtype=np.uint8)
    # Documents past the last one given a value hold the column's default.
    table[written:] = np.frombuffer(column_reader._default, dtype=np.uint8)
    raw = column_reader._dbfile.get(column_reader._basepos, written * width)
    table[:written] = np.frombuffer(raw, dtype=np.uint8).reshape(written, width)
    return table
