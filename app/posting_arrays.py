"""A term's whole posting list as two arrays (document numbers, weights), decoded once and kept.

Whoosh 2.7.4 stores a posting list as blocks of up to 128 postings, each a zlib-compressed pickle of
delta-coded document numbers and weights, and hands them out one posting at a time through method
calls. :class:`PostingArrays` decodes every block of a term in one go into NumPy arrays, so a search
can combine and score whole lists in C. Segments never change once written, so the arrays are kept
in a cache bounded by bytes (least recently used out first), keyed by segment id: a new searcher
over the same segments (after another segment was added) finds them still there.
"""

import threading
import weakref
from collections import OrderedDict

import numpy as np
from whoosh.codec.whoosh3 import W3LeafMatcher

DEFAULT_BUDGET_MB = 256
# What a kept entry costs besides its arrays (key, tuple, dictionary slot), so absent terms count too.
_ENTRY_BYTES = 200
_live_by_reader = weakref.WeakKeyDictionary()
_EMPTY_IDS = np.zeros(0, dtype=np.int32)
_EMPTY_WEIGHTS = np.zeros(0, dtype=np.float32)


def segment_key(reader):
    """What identifies a segment's files: its id (random, chosen when the segment was written).

    :param reader: a Whoosh ``SegmentReader``.
    :returns: a hashable key, or None when the reader is not one segment of a Whoosh 2.7.4 index.
    """
    segment = getattr(reader, "_segment", None)
    if segment is None or not hasattr(segment, "segment_id"):
        return None
    return segment.segment_id()


def decode_postings(reader, fieldname, term_bytes):
    """Every posting of one term in one segment, deleted documents included.

    :param reader: a Whoosh ``SegmentReader``.
    :param fieldname: the field.
    :param term_bytes: the term as the field encodes it.
    :returns: ``(ids, weights)``: ascending ``int32`` document numbers and their weights, as ``float32``
        (Whoosh keeps weights as 32-bit floats, so nothing is rounded) or, when all are whole numbers
        below 256, as ``uint8``.
    """
    if (fieldname, term_bytes) not in reader:
        return _EMPTY_IDS, _EMPTY_WEIGHTS
    matcher = reader._terms.matcher(fieldname, term_bytes, reader.schema[fieldname].format)
    if type(matcher) is W3LeafMatcher:
        return _decode_blocks(matcher)
    ids, weights = [], []
    while matcher.is_active():
        ids.append(matcher.id())
        weights.append(matcher.weight())
        matcher.next()
    return np.array(ids, dtype=np.int32), _compact(np.array(weights, dtype=np.float32))


def _decode_blocks(matcher):
    """Read a W3 posting list block by block: the numbers are deltas from 0 within each block, so
    each block's first delta is made relative to the previous block's last number and one running
    sum over the whole list restores them."""
    deltas, weights, block_starts, previous_last = [], [], [], []
    while True:
        if matcher._data is None:
            matcher._read_data()
        block_deltas, block_weights, _ = matcher._data
        count = matcher._blocklength
        if deltas:
            block_starts.append(len(deltas))
        deltas.extend(block_deltas)
        if block_weights is None:
            weights.extend([1.0] * count)
        elif isinstance(block_weights, float):
            weights.extend([block_weights] * count)
        else:
            weights.extend(block_weights)
        if matcher._lastblock:
            break
        previous_last.append(matcher._maxid)
        matcher._goto(matcher._nextoffset)
    ids = np.array(deltas, dtype=np.int64)
    if block_starts:
        ids[block_starts] -= np.array(previous_last, dtype=np.int64)
    return np.cumsum(ids).astype(np.int32), _compact(np.array(weights, dtype=np.float32))


def _compact(weights):
    """Weights as one byte each when they are all whole numbers below 256 (how often a word occurs in a
    call, as for the ``text`` field), else as they are: the same values in a fifth less memory."""
    if len(weights) and weights.max() < 256 and weights.min() >= 0 and np.array_equal(weights, np.floor(weights)):
        return weights.astype(np.uint8)
    return weights


def live_mask(reader):
    """True for each document of a segment that is not deleted, or None when none is.

    Kept per reader: a reader's deletions are fixed when it is opened.
    """
    if reader not in _live_by_reader:
        mask = None
        if reader.has_deletions():
            mask = np.ones(reader.doc_count_all(), dtype=bool)
            mask[np.fromiter(reader._perdoc.deleted_docs(), dtype=np.int64)] = False
        _live_by_reader[reader] = mask
    return _live_by_reader[reader]


class PostingArrays:
    """Decoded posting lists, shared by the searches of one process, at most ``budget_mb`` of them."""

    def __init__(self, budget_mb=DEFAULT_BUDGET_MB):
        """
        :param budget_mb: how many megabytes of arrays to keep (0: decode every time).
        """
        self.budget_bytes = int(budget_mb * 1024 * 1024)
        self.held_bytes = 0
        self.decoded = 0
        self.reused = 0
        self._arrays = OrderedDict()
        self._lock = threading.Lock()

    def get(self, reader, fieldname, term_bytes):
        """``(ids, weights)`` of a term in a segment (see :func:`decode_postings`).

        :param reader: a Whoosh ``SegmentReader``.
        """
        key = (segment_key(reader), fieldname, term_bytes)
        found = self._kept(key)
        if found is not None:
            return found
        found = decode_postings(reader, fieldname, term_bytes)
        self._keep(key, found, found[0].nbytes + found[1].nbytes)
        return found

    def value_codes(self, reader, fieldname):
        """Each document's value of a one-value field (an ``ID`` field such as the product) as a number.

        :param reader: a Whoosh ``SegmentReader``.
        :returns: ``(codes, values)``: ``codes[docnum]`` indexes ``values`` (strings), or is
            ``len(values)`` for a document without a value.
        """
        key = (segment_key(reader), fieldname, None)
        found = self._kept(key)
        if found is not None:
            return found
        field = reader.schema[fieldname]
        values = []
        codes = np.full(reader.doc_count_all(), -1, dtype=np.int32)
        for term_bytes in reader.lexicon(fieldname):
            codes[decode_postings(reader, fieldname, term_bytes)[0]] = len(values)
            values.append(field.from_bytes(term_bytes))
        codes[codes < 0] = len(values)
        found = (codes, values)
        self._keep(key, found, codes.nbytes + _ENTRY_BYTES * len(values))
        return found

    def _kept(self, key):
        with self._lock:
            kept = self._arrays.get(key)
            if kept is None:
                return None
            self._arrays.move_to_end(key)
            self.reused += 1
            return kept[0]

    def _keep(self, key, entry, size):
        size += _ENTRY_BYTES
        with self._lock:
            self.decoded += 1
            if key[0] is None or size > self.budget_bytes or key in self._arrays:
                return
            self._arrays[key] = (entry, size)
            self.held_bytes += size
            while self.held_bytes > self.budget_bytes:
                _, (_, size) = self._arrays.popitem(last=False)
                self.held_bytes -= size
