"""A filter inside a query: it narrows the matches and adds nothing to their scores.

Whoosh 2.7.4 has no such query. ``ConstantScoreQuery(q, 0.0)`` scores 1.0 (its ``ListMatcher``
takes a weight of 0 for "no weight given"), a boost of 0 divides by zero when the collector
passes its threshold down, and the ``Require`` matcher returns wrong documents.
"""

from whoosh import query as Q
from whoosh.matching import NullMatcherClass, WrappingMatcher


class Unscored(Q.WrappingQuery):
    """Matches what ``child`` matches, every match scoring 0."""

    def matcher(self, searcher, context=None):
        """An :class:`UnscoredMatcher` over the child's matcher."""
        matcher = self.child.matcher(searcher, context)
        return matcher if isinstance(matcher, NullMatcherClass) else UnscoredMatcher(matcher)


class UnscoredMatcher(WrappingMatcher):
    """The child's documents, each scoring 0; no block-quality skipping on its behalf."""

    def _replacement(self, newchild):
        return UnscoredMatcher(newchild)

    def supports_block_quality(self):
        """No: it has no quality to skip by."""
        return False

    def max_quality(self):
        """0: it adds nothing to any score."""
        return 0.0

    def block_quality(self):
        """0: it adds nothing to any score."""
        return 0.0

    def score(self):
        """0 for every document."""
        return 0.0
