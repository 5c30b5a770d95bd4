"""A hit's stored fields, read from the index only when something asks for more than its id.

Ordering hits needs only their ids (equal scores are broken by id), but a group of equal scores can run hundreds
of calls past the page's edge, and reading each one's stored fields (a decompressed, unpickled record) cost tens
of milliseconds at a million calls. The index keeps the id in a column too (``index.schema``: ``id`` is
sortable), read in microseconds, and so the passage digest, which ranking by meaning asks of every candidate;
the rest of a call's fields are read when first asked for, which is for the page's hits only. Ranking by meaning
also asks each candidate's title terms (``engine.coverage``): the index keeps them in a column of the title
(``index.schema.TitleField``). An index written before a column existed (or any segment of it) is read as before,
its titles analysed again (the terms of recent titles are kept).
"""

import threading
from collections.abc import Mapping
from functools import lru_cache

from analyzers.pipeline import text_terms

ID_FIELD = "id"
PASSAGE_FIELD = "passage"
TITLE_FIELD = "title"
# Titles whose terms each process keeps when its index has no title column (a few hundred bytes each).
TITLES_KEPT = 4096
_MISSING = object()


class HitFields(Mapping):
    """The stored fields of one call, its id from the column and the rest read on first use."""

    __slots__ = ("_searcher", "_docnum", "_id", "_passages", "_titles", "_all")

    def __init__(self, searcher, docnum, call_id, passages=None, titles=None):
        """
        :param passages: the index's passage column (digests by docnum), or None when a segment lacks it.
        :param titles: the index's title column (title terms by docnum), or None when a segment lacks it.
        """
        self._searcher, self._docnum, self._id, self._all = searcher, docnum, call_id, None
        self._passages, self._titles = passages, titles

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

    def title_terms(self):
        """The ``text`` terms of the call's title, as a set."""
        if self._titles is not None and self._all is None:
            return self._titles[self._docnum]
        return analysed_title_terms(self.get(TITLE_FIELD, ""))

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
        self._titles = None
        self._checked = False

    def fields(self, docnum):
        """The stored fields of a call: a :class:`HitFields`, or the plain dict when the index has no id column."""
        ids = self._id_column()
        if ids is None:
            return self.searcher.stored_fields(docnum)
        return HitFields(self.searcher, docnum, ids[docnum], self._passages, self._titles)

    def _id_column(self):
        if not self._checked:
            with self._lock:
                if not self._checked:
                    leaves = [leaf.reader() for leaf, _ in self.searcher.leaf_searchers()]
                    if leaves and all(reader.has_column(ID_FIELD) for reader in leaves):
                        self._ids = self.searcher.reader().column_reader(ID_FIELD)
                    self._passages = self._column(leaves, PASSAGE_FIELD)
                    self._titles = self._column(leaves, TITLE_FIELD)
                    self._checked = True
        return self._ids

    def _column(self, leaves, name):
        """A field's column over the whole index, or None when the schema or any segment lacks it."""
        if leaves and name in self.searcher.schema and all(reader.has_column(name) for reader in leaves):
            return self.searcher.reader().column_reader(name)
        return None


@lru_cache(maxsize=TITLES_KEPT)
def analysed_title_terms(title):
    """The ``text`` terms of a title, analysed again (for an index without the title column)."""
    return text_terms(title)


def title_terms_of(stored):
    """A call's title terms: from the index's column when it has one, else its stored title analysed again.

    :param stored: a call's stored fields (a :class:`HitFields`, or the plain dict of an index without columns).
    """
    if isinstance(stored, HitFields):
        return stored.title_terms()
    return analysed_title_terms(stored.get(TITLE_FIELD, ""))
