"""A hit's stored fields, read from the index only when something asks for more than its id.

Ordering hits needs only their ids (equal scores are broken by id), but a group of equal scores can run hundreds
of calls past the page's edge, and reading each one's stored fields (a decompressed, unpickled record) cost tens
of milliseconds at a million calls. The index keeps the id in a column too (``index.schema``: ``id`` is
sortable), read in microseconds, and so the passage digest, which ranking by meaning asks of every candidate;
the rest of a call's fields are read when first asked for, which is for the page's hits only. An index written
before a column existed (or any segment of it) is read as before.
"""

import threading
from collections.abc import Mapping

ID_FIELD = "id"
PASSAGE_FIELD = "passage"
_MISSING = object()


class HitFields(Mapping):
    """The stored fields of one call, its id from the column and the rest read on first use."""

    __slots__ = ("_searcher", "_docnum", "_id", "_passages", "_all")

    def __init__(self, searcher, docnum, call_id, passages=None):
        """
        :param passages: the index's passage column (digests by docnum), or None when a segment lacks it.
        """
        self._searcher, self._docnum, self._id, self._passages, self._all = searcher, docnum, call_id, passages, None

    def __getitem__(self, key):
        if key == ID_FIELD:  # asked of every hit ordered, so answered first
            return self._id
        value = self.get(key, _MISSING)
        if value is _MISSING:
            raise KeyError(key)
        return value

    def get(self, key, default=None):
        """A field's value, or ``default`` (as ``dict.get``, without ``Mapping.get``'s exception on a miss)."""
        if key == ID_FIELD:
            return self._id
        if key == PASSAGE_FIELD and self._passages is not None and self._all is None:
            return self._passages[self._docnum]
        return self._fields().get(key, default)

    def __iter__(self):
        return iter(self._fields())

    def __len__(self):
        return len(self._fields())

    def _fields(self):
        if self._all is None:
            self._all = self._searcher.stored_fields(self._docnum)
        return self._all


class StoredFieldReader:
    """Stored fields of one searcher's calls: lazy ones over the id column when every segment has it."""

    def __init__(self, searcher):
        """
        :param searcher: the top-level Whoosh searcher.
        """
        self.searcher = searcher
        self._lock = threading.Lock()
        self._ids = None
        self._passages = None
        self._checked = False

    def fields(self, docnum):
        """The stored fields of a call: a :class:`HitFields`, or the plain dict when the index has no id column."""
        ids = self._id_column()
        if ids is None:
            return self.searcher.stored_fields(docnum)
        return HitFields(self.searcher, docnum, ids[docnum], self._passages)

    def _id_column(self):
        if not self._checked:
            with self._lock:
                if not self._checked:
                    leaves = [leaf.reader() for leaf, _ in self.searcher.leaf_searchers()]
                    if leaves and all(reader.has_column(ID_FIELD) for reader in leaves):
                        self._ids = self.searcher.reader().column_reader(ID_FIELD)
                    with_passages = leaves and PASSAGE_FIELD in self.searcher.schema
                    if with_passages and all(reader.has_column(PASSAGE_FIELD) for reader in leaves):
                        self._passages = self.searcher.reader().column_reader(PASSAGE_FIELD)
                    self._checked = True
        return self._ids
