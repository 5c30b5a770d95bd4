"""One hot spot of Whoosh 2.7.4 (the version ``requirements.txt`` pins) done faster, same results.

``W3LeafMatcher.skip_to`` finds a document inside a posting block by stepping through it one
posting at a time, three method calls per posting. Intersections (every word required) and
``AndMaybe`` (common words adding to the score) call it for every candidate; at 100,000 calls it
was the largest single cost of a search. The block's document numbers are a sorted tuple, so
a binary search lands on the same posting.

:func:`install` replaces the method once per process (the search service does it);
:func:`as_shipped` puts Whoosh's back for a while (the plain-Whoosh baselines of the benchmarks, and
the tests that compare the two on real postings).
"""

from bisect import bisect_left
from unittest.mock import patch

from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching import ReadTooFar

_whoosh_skip_to = W3LeafMatcher.skip_to


def _skip_to_by_bisection(self, targetid):
    """Move to the first posting whose id is at least ``targetid`` (Whoosh's contract)."""
    if not self.is_active():
        raise ReadTooFar
    if targetid <= self.id():
        return
    if targetid > self._maxid:
        self._skip_to_block(lambda: targetid > self._maxid)
        if not self.is_active():
            return
    if self._ids is None:
        self._read_ids()
    # The current block ends at or after targetid, so the posting is inside it.
    self._i = bisect_left(self._ids, targetid, self._i)


def install():
    """Use the bisecting ``skip_to`` in this process (idempotent)."""
    W3LeafMatcher.skip_to = _skip_to_by_bisection


def as_shipped():
    """Run the body with Whoosh's own methods, then restore what was in use."""
    return patch.object(W3LeafMatcher, "skip_to", _whoosh_skip_to)
