"""Every word required, matched in one flat loop instead of Whoosh's binary tree of intersections.

Whoosh 2.7.4 evaluates ``And([a, b, c, d])`` as nested pairs; finding each common document costs
a cascade of ``is_active``/``id``/``skip_to`` calls through every level. :class:`AllOf` matches
the same documents with one leapfrog loop over the words' matchers, the rarest word leading,
and scores a document as the sum of its words' scores, as ``And`` does.
"""

from whoosh import query as Q
from whoosh.matching import Matcher, NullMatcher, ReadTooFar


class AllOf(Q.And):
    """``whoosh.query.And`` with a flat intersection matcher (same matches, same scores)."""

    JOINT = " ALLOF "

    def _matcher(self, subs, searcher, context):
        reader = searcher.reader()
        ordered = sorted(subs, key=lambda sub: sub.estimate_size(reader))
        matchers = [sub.matcher(searcher, context) for sub in ordered]
        if not all(matcher.is_active() for matcher in matchers):
            return NullMatcher()
        return LeapfrogMatcher(matchers)


class LeapfrogMatcher(Matcher):
    """The documents every sub-matcher is on, found by leapfrogging; the first matcher leads."""

    def __init__(self, matchers):
        """
        :param matchers: active Whoosh matchers, rarest first.
        """
        self._matchers = matchers
        self._active = True
        self._id = None
        self._align(matchers[0].id())

    def _align(self, target):
        matchers = self._matchers
        count = len(matchers)
        aligned, index = 1, 1 % count
        while aligned < count:
            matcher = matchers[index]
            if matcher.id() < target:
                matcher.skip_to(target)
                if not matcher.is_active():
                    self._active = False
                    return
            found = matcher.id()
            if found == target:
                aligned += 1
            else:
                target, aligned = found, 1
            index = (index + 1) % count
        self._id = target

    def is_active(self):
        """Whether there is a current document."""
        return self._active

    def id(self):
        """The current document number."""
        return self._id

    def next(self):
        """Move to the next document every matcher is on."""
        if not self._active:
            raise ReadTooFar
        lead = self._matchers[0]
        lead.next()
        if not lead.is_active():
            self._active = False
            return
        self._align(lead.id())

    def skip_to(self, target):
        """Move to the first common document at or after ``target``."""
        if not self._active:
            raise ReadTooFar
        if target <= self._id:
            return
        lead = self._matchers[0]
        lead.skip_to(target)
        if not lead.is_active():
            self._active = False
            return
        self._align(lead.id())

    def score(self):
        """The sum of the sub-matchers' scores for the current document."""
        return sum(matcher.score() for matcher in self._matchers)

    def weight(self):
        """The sum of the sub-matchers' weights for the current document."""
        return sum(matcher.weight() for matcher in self._matchers)

    def supports_block_quality(self):
        """No: every common document is scored (an intersection of words is small)."""
        return False

    def reset(self):
        """Start again from the first common document."""
        for matcher in self._matchers:
            matcher.reset()
        self._active = all(matcher.is_active() for matcher in self._matchers)
        if self._active:
            self._align(self._matchers[0].id())

    def copy(self):
        """An independent matcher at the same document."""
        twin = LeapfrogMatcher.__new__(LeapfrogMatcher)
        twin._matchers = [matcher.copy() for matcher in self._matchers]
        twin._active, twin._id = self._active, self._id
        return twin

    def children(self):
        """The sub-matchers."""
        return list(self._matchers)

    def value(self):
        """Not available for a combination of words."""
        raise NotImplementedError("a combination of words has no single posting value")

    def supports(self, astype):
        """Whether every sub-matcher supports ``astype`` values."""
        return all(matcher.supports(astype) for matcher in self._matchers)

    def value_as(self, astype):
        """Not available for a combination of words."""
        raise NotImplementedError("a combination of words has no single posting value")
