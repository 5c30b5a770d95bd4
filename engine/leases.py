"""The index generation searches run on, lent to them: a searcher is closed only when no search uses it.

Each write commits a new segment, and a search that starts after it must see it, so the service opens a
new searcher whenever the index has moved on. Searches that began on the one before may still be running
in other threads. Every search therefore *leases* the searcher it runs on (:meth:`SearcherLeases.lease`); a
searcher that has been replaced is closed when its last lease ends, never under a running search.
"""

import threading
from contextlib import contextmanager


class _Lent:
    """One opened index generation and how many searches hold it."""

    __slots__ = ("opened", "users", "replaced")

    def __init__(self, opened):
        self.opened = opened
        self.users = 0
        self.replaced = False


class SearcherLeases:
    """The searcher in use, opened anew when the index moves on, each closed after its last search."""

    def __init__(self, home, open_searcher):
        """
        :param home: the ``index.generations.IndexHome`` whose index is searched.
        :param open_searcher: ``open_searcher(name, index)`` gives a new ``engine.service.OpenIndex``.
        """
        self.home = home
        self._open_searcher = open_searcher
        self._lock = threading.Lock()
        self._current = None
        self.closed = 0

    @contextmanager
    def lease(self):
        """Hold the index in use for the length of a ``with`` block.

        :returns: a context manager yielding the ``OpenIndex``.
        :raises IndexMissingError: when no index was built.
        """
        lent = self._take()
        try:
            yield lent.opened
        finally:
            self._give_back(lent)

    def current(self):
        """The index in use, without a lease: only for callers that search from one thread (tools, tests)."""
        lent = self._take()
        self._give_back(lent)
        return lent.opened

    def users(self):
        """How many searches hold the searcher in use now (for tests and health)."""
        with self._lock:
            return 0 if self._current is None else self._current.users

    def _take(self):
        with self._lock:
            name = self.home.current_name()
            current = self._current
            if current is None or name != current.opened.name:
                self._replace(self._open_searcher(name, self.home.open_index()))
            elif not current.opened.searcher.up_to_date():
                # A new searcher rather than Whoosh's refresh(): when a merge deletes a segment file while
                # refresh() opens the new reader, its retry reuses readers it already closed.
                self._replace(self._open_searcher(name, current.opened.index))
            self._current.users += 1
            return self._current

    def _give_back(self, lent):
        with self._lock:
            lent.users -= 1
            if lent.replaced and lent.users == 0:
                self._close(lent)

    def _replace(self, opened):
        """Put a new searcher in use; the one before is closed now if unused, else by its last search."""
        before, self._current = self._current, _Lent(opened)
        if before is not None:
            before.replaced = True
            if before.users == 0:
                self._close(before)

    def _close(self, lent):
        lent.opened.searcher.close()
        self.closed += 1

    def retire(self):
        """Stop using the searcher in use (it is closed when its last search ends); the next lease opens one."""
        with self._lock:
            before, self._current = self._current, None
            if before is not None:
                before.replaced = True
                if before.users == 0:
                    self._close(before)
