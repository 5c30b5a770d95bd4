"""Posting lists as arrays, decoded once and kept per process within a memory budget.

Whoosh hands out postings one at a time through method calls; a search here combines and scores
whole lists in NumPy instead. ``index.whoosh_compat.posting_list`` decodes a term's list from the
segment's blocks; segments never change once written, so the arrays are kept in a cache bounded by
bytes (least recently used out first), keyed by segment id: a new searcher over the same segments
(after a write added another) finds them still there.
"""

import threading
import weakref
from collections import OrderedDict

import numpy as np

from index import posting_file, whoosh_compat

DEFAULT_BUDGET_MB = 256
# Segments whose posting arrays file stays open (its directory read once, its arrays over the memory map).
OPEN_POSTING_FILES = 64
# What a kept entry costs besides its arrays (key, tuple, dictionary slot), so absent terms count too.
_ENTRY_BYTES = 200
_live_by_reader = weakref.WeakKeyDictionary()
_lengths_by_reader = weakref.WeakKeyDictionary()


def _compact(postings):
    """Weights as one byte each when they are all whole numbers below 256 (how often a word occurs in a
    call, as for the ``text`` field), else as they are: the same values in a fifth less memory."""
    weights = postings.weights
    if len(weights) and weights.max() < 256 and weights.min() >= 0 and np.array_equal(weights, np.floor(weights)):
        return whoosh_compat.PostingList(
            postings.ids,
            weights.astype(np.uint8),
            postings.block_ends,
            postings.block_max_weights,
            postings.block_min_lengths,
        )
    return postings


def live_mask(reader):
    """True for each document of a segment that is not deleted, or None when none is.

    Kept per reader: a reader's deletions are fixed when it is opened.

    :param reader: a Whoosh ``SegmentReader``.
    """
    if reader not in _live_by_reader:
        mask = None
        deleted = whoosh_compat.deleted_documents(reader)
        if len(deleted):
            mask = np.ones(reader.doc_count_all(), dtype=bool)
            mask[deleted] = False
        _live_by_reader[reader] = mask
    return _live_by_reader[reader]


def length_bytes(reader, field):
    """Each document's length byte in a field of one segment, as a ``uint8`` array (kept per reader).

    :param reader: a Whoosh ``SegmentReader``.
    :param field: an indexed, scorable field.
    """
    per_field = _lengths_by_reader.setdefault(reader, {})
    if field not in per_field:
        per_field[field] = np.frombuffer(whoosh_compat.length_bytes(reader, field), dtype=np.uint8)
    return per_field[field]


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
        self.mapped = 0
        self._arrays = OrderedDict()
        self._files = OrderedDict()
        self._lock = threading.Lock()

    def _posting_file(self, reader, segment_key):
        """The segment's :class:`index.posting_file.PostingFile`, or None when it has none (kept by segment id)."""
        if segment_key is None:
            return None
        with self._lock:
            if segment_key in self._files:
                self._files.move_to_end(segment_key)
                return self._files[segment_key]
        buffer = whoosh_compat.segment_file(reader, posting_file.EXTENSION)
        try:
            opened = None if buffer is None else posting_file.PostingFile(buffer)
        except ValueError:
            opened = None
        with self._lock:
            self._files[segment_key] = opened
            while len(self._files) > OPEN_POSTING_FILES:
                self._files.popitem(last=False)
        return opened

    def get(self, reader, field, term_bytes):
        """A term's :class:`index.whoosh_compat.PostingList` in a segment, deleted documents included.

        A long list comes straight from the segment's posting arrays file (``index.posting_file``), shared with
        every worker; others are decoded from Whoosh's blocks once and kept within the budget.

        :param reader: a Whoosh ``SegmentReader``.
        :param field: the field.
        :param term_bytes: the term as the field encodes it.
        """
        key = (whoosh_compat.segment_key(reader), field, term_bytes)
        mapped = self._posting_file(reader, key[0])
        arrays = None if mapped is None else mapped.get(field, term_bytes)
        if arrays is not None:
            self.mapped += 1
            return whoosh_compat.PostingList(*arrays)
        found = self._kept(key)
        if found is not None:
            return found
        found = _compact(whoosh_compat.posting_list(reader, field, term_bytes))
        size = sum(part.nbytes for part in (found.ids, found.weights, found.block_ends, found.block_max_weights))
        self._keep(key, found, size + found.block_min_lengths.nbytes)
        return found

    def value_codes(self, reader, field):
        """Each document's value of a one-value field (an ``ID`` field such as the product) as a number.

        :param reader: a Whoosh ``SegmentReader``.
        :returns: ``(codes, values)``: ``codes[docnum]`` indexes ``values`` (strings), or is
            ``len(values)`` for a document without a value.
        """
        key = (whoosh_compat.segment_key(reader), field, None)
        found = self._kept(key)
        if found is not None:
            return found
        schema_field = reader.schema[field]
        values = []
        codes = np.full(reader.doc_count_all(), -1, dtype=np.int32)
        for term_bytes in reader.lexicon(field):
            codes[whoosh_compat.posting_list(reader, field, term_bytes).ids] = len(values)
            values.append(schema_field.from_bytes(term_bytes))
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
