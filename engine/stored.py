"""A hit's stored fields, read from the index only when something asks for more than its id.

Ordering hits needs only their ids (equal scores are broken by id), but a group of equal scores can run hundreds
of calls past the page's edge, and reading each one's stored fields (a decompressed, unpickled record) cost tens
of milliseconds at a million calls. The index keeps the id in a column too (``index.schema``: ``id`` is
sortable), read in microseconds, and so the passage digest, which ranking by meaning asks of every candidate;
the rest of a call's fields are read when first asked for, which is for the page's hits only. Ranking by meaning
also asks each candidate's title terms and the pairs of words side by side in its problem (``engine.coverage``):
the index keeps them in columns of those fields (``index.schema.TitleField``, ``ProblemField``). An index written
before a column existed (or any segment of it) is read as before, the text analysed again (recent titles' terms are
kept).
"""

import threading
from collections.abc import Mapping
from functools import lru_cache

from analyzers.pipeline import text_term_sequence
from index.schema import pair_keys

ID_FIELD = "id"
PASSAGE_FIELD = "passage"
TITLE_FIELD = "title"
PROBLEM_FIELD = "problem"
# Fields whose column is read instead of the stored fields, when every segment has it.
COLUMN_FIELDS = (PASSAGE_FIELD, TITLE_FIELD, PROBLEM_FIELD)
# Titles whose terms each process keeps when its index has no title column (a few hundred bytes each), and
# problems whose pair keys it keeps when its index has no problem column (up to 4 KB each).
TITLES_KEPT = 4096
PROBLEMS_KEPT = 256
_MISSING = object()


class HitFields(Mapping):
    """The stored fields of one call, its id from the column and the rest read on first use."""

    __slots__ = ("_searcher", "_docnum", "_id", "_columns", "_all")

    def __init__(self, searcher, docnum, call_id, columns=None):
        """
        :param columns: ``{field: the index's column of it}`` for the fields of ``COLUMN_FIELDS`` every segment
            has a column of.
        """
        self._searcher, self._docnum, self._id, self._all = searcher, docnum, call_id, None
        self._columns = columns or {}

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
        if key == PASSAGE_FIELD and PASSAGE_FIELD in self._columns and self._all is None:
            return self._columns[PASSAGE_FIELD][self._docnum]
        return self._fields().get(key, default)

    def column_value(self, name):
        """The call's value in the index's column of a field (what that field's kind makes of it), or None when
        the index has no such column."""
        column = self._columns.get(name)
        return None if column is None else column[self._docnum]

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
        self._columns = {}
        self._checked = False

    def fields(self, docnum):
        """The stored fields of a call: a :class:`HitFields`, or the plain dict when the index has no id column."""
        ids = self._id_column()
        if ids is None:
            return self.searcher.stored_fields(docnum)
        return HitFields(self.searcher, docnum, ids[docnum], self._columns)

    def _id_column(self):
        if not self._checked:
            with self._lock:
                if not self._checked:
                    leaves = [leaf.reader() for leaf, _ in self.searcher.leaf_searchers()]
                    if leaves and all(reader.has_column(ID_FIELD) for reader in leaves):
                        self._ids = self.searcher.reader().column_reader(ID_FIELD)
                    columns = {name: self._column(leaves, name) for name in COLUMN_FIELDS}
                    self._columns = {name: column for name, column in columns.items() if column is not None}
                    self._checked = True
        return self._ids

    def _column(self, leaves, name):
        """A field's column over the whole index, or None when the schema or any segment lacks it."""
        if leaves and name in self.searcher.schema and all(reader.has_column(name) for reader in leaves):
            return self.searcher.reader().column_reader(name)
        return None


@lru_cache(maxsize=TITLES_KEPT)
def analysed_title(title):
    """The ``text`` terms of a title in order, analysed again (for an index without the title column)."""
    return text_term_sequence(title)


@lru_cache(maxsize=PROBLEMS_KEPT)
def analysed_problem_pairs(problem):
    """The pair keys of a problem (``index.schema.pair_keys``), analysed again (for an index without its column)."""
    return pair_keys(problem)


def title_sequence_of(stored):
    """A call's title terms in order: from the index's column when it has one, else its stored title analysed.

    :param stored: a call's stored fields (a :class:`HitFields`, or the plain dict of an index without columns).
    """
    found = stored.column_value(TITLE_FIELD) if isinstance(stored, HitFields) else None
    return found if found is not None else analysed_title(stored.get(TITLE_FIELD, ""))


def title_terms_of(stored):
    """A call's title terms, as a set (see :func:`title_sequence_of`)."""
    return frozenset(title_sequence_of(stored))


def problem_pairs_of(stored):
    """The sorted keys of the pairs of terms side by side in a call's problem (``index.schema.pair_keys``): from
    the index's column when it has one, else its stored problem analysed."""
    found = stored.column_value(PROBLEM_FIELD) if isinstance(stored, HitFields) else None
    return found if found is not None else analysed_problem_pairs(stored.get(PROBLEM_FIELD, ""))
