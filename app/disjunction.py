"""Any word enough, with the words that cannot lift a call into the top hits left unwalked (MaxScore).

The any-word pass scores a call as the sum of its words' scores. Once the page is full, a call
must beat the lowest score on it (the collector's threshold). Words whose best possible scores add
up to no more than that threshold cannot bring in a call on their own, so their postings stop
being walked for candidates; they are only looked up, by skipping, for the calls the other words
bring in. This is the MaxScore algorithm (Turtle and Flood, 1995). It is sound: every call that
could beat the threshold is still scored in full, so the top hits equal the exhaustive ranking
(the tests compare them). Whoosh's own "replacement" pruning is meant to do the same but loses
hits (see ``app.search``).

The collector hands over its threshold through ``skip_to_quality``, which it calls before every
candidate because ``next`` always reports a new "block".
"""

from itertools import chain

from whoosh import query as Q
from whoosh.matching import Matcher, NullMatcher, ReadTooFar, WrappingMatcher

# Scores are sums of floats added in different orders; a bound this close to the threshold is kept.
_SLACK = 1e-9


class AnyOf(Q.CompoundQuery):
    """Calls with at least one of the ``finding`` words, scored by the sum of every word's score.

    ``AnyOf(words)`` is ``Or(words)``; ``AnyOf(rare, scoring=common)`` is ``AndMaybe(Or(rare),
    Or(common))``: the common words only add to the score of calls the rare ones find.
    """

    JOINT = " ANYOF "

    def __init__(self, finding, scoring=(), boost=1.0):
        """
        :param finding: the queries that bring calls in (one per word).
        :param scoring: the queries that only add to the score of calls found by ``finding``.
        """
        super().__init__(list(finding) + list(scoring), boost=boost)
        self.finding_count = len(finding)

    def __eq__(self, other):
        return super().__eq__(other) and self.finding_count == other.finding_count

    __hash__ = Q.CompoundQuery.__hash__

    def normalize(self):
        """The same query with each word's query normalized (the split between finding and scoring stays)."""
        return self.apply(lambda query: query.normalize())

    def apply(self, fn):
        """The query with ``fn`` applied to each word's query, finding and scoring words kept apart."""
        words = [fn(query) for query in self.subqueries]
        return AnyOf(words[: self.finding_count], words[self.finding_count :], boost=self.boost)

    def estimate_size(self, ixreader):
        """At most the sum of the finding words' sizes."""
        return sum(query.estimate_size(ixreader) for query in self.subqueries[: self.finding_count])

    def matcher(self, searcher, context=None):
        """A :class:`MaxScoreMatcher` over the words' matchers (the boost, if any, wraps it)."""
        matchers = [query.matcher(searcher, context) for query in self.subqueries]
        finding = [m for m in matchers[: self.finding_count] if m.is_active()]
        scoring = [m for m in matchers[self.finding_count :] if m.is_active()]
        if not finding:
            return NullMatcher()
        matcher = MaxScoreMatcher(finding, scoring)
        if self.boost != 1.0:
            matcher = WrappingMatcher(matcher, self.boost)
        return matcher


class MaxScoreMatcher(Matcher):
    """The union of the ``finding`` matchers, each document scored by every matcher on it."""

    def __init__(self, finding, scoring):
        """
        :param finding: active matchers whose documents are the candidates.
        :param scoring: active matchers that only add to a candidate's score.
        """
        self._finding = sorted(finding, key=lambda m: m.max_quality())
        self._scoring = scoring
        self._scoring_bound = sum(m.max_quality() for m in scoring)
        self._threshold = None
        self._essential_from = 0
        self._id = None
        self._pick()

    # Which finding matchers still bring candidates in

    def _partition(self):
        """Leave out, from the weakest up, the finding matchers that cannot beat the threshold together."""
        if self._threshold is None:
            self._essential_from = 0
            return
        bound, cut = self._scoring_bound, 0
        for matcher in self._finding:
            bound += matcher.max_quality()
            if bound + _SLACK > self._threshold:
                break
            cut += 1
        self._essential_from = cut

    def _pick(self):
        """Make the smallest document of the essential finding matchers the current one."""
        current = None
        for matcher in self._finding[self._essential_from :]:
            if matcher.is_active():
                found = matcher.id()
                if current is None or found < current:
                    current = found
        self._id = current

    # The matcher interface Whoosh's collectors use

    def is_active(self):
        """Whether there is a current document."""
        return self._id is not None

    def id(self):
        """The current document number."""
        return self._id

    def next(self):
        """Move past the current document; True, so the collector passes its threshold before the next one."""
        if self._id is None:
            raise ReadTooFar
        current = self._id
        for matcher in self._finding[self._essential_from :]:
            if matcher.is_active() and matcher.id() == current:
                matcher.next()
        self._pick()
        return True

    def skip_to(self, target):
        """Move to the first candidate at or after ``target``."""
        if self._id is None:
            raise ReadTooFar
        if target <= self._id:
            return
        for matcher in self._finding[self._essential_from :]:
            if matcher.is_active() and matcher.id() < target:
                matcher.skip_to(target)
        self._pick()

    def supports_block_quality(self):
        """True: it is how the collector's threshold reaches this matcher."""
        return True

    def skip_to_quality(self, minquality):
        """Take the collector's threshold; candidates that only weak words hold are no longer visited."""
        if self._threshold is not None and minquality <= self._threshold:
            return 0
        self._threshold = minquality
        before = self._essential_from
        self._partition()
        if self._essential_from != before:
            self._pick()
        return 0

    def max_quality(self):
        """The best score any document could still get."""
        return sum(m.max_quality() for m in self._finding if m.is_active()) + self._scoring_bound

    def block_quality(self):
        """No finer bound than :meth:`max_quality`."""
        return self.max_quality()

    def score(self):
        """The sum of the scores of every matcher on the current document."""
        current = self._id
        return sum(m.score() for m in chain(self._finding, self._scoring) if _on(m, current))

    def weight(self):
        """The sum of the weights of every matcher on the current document."""
        current = self._id
        return sum(m.weight() for m in chain(self._finding, self._scoring) if _on(m, current))

    def reset(self):
        """Start again from the first document, with no threshold."""
        for matcher in self._finding + self._scoring:
            matcher.reset()
        self._threshold = None
        self._essential_from = 0
        self._pick()

    def copy(self):
        """An independent matcher at the same place."""
        twin = MaxScoreMatcher.__new__(MaxScoreMatcher)
        twin._finding = [m.copy() for m in self._finding]
        twin._scoring = [m.copy() for m in self._scoring]
        twin._scoring_bound, twin._threshold = self._scoring_bound, self._threshold
        twin._essential_from, twin._id = self._essential_from, self._id
        return twin

    def children(self):
        """The words' matchers."""
        return self._finding + self._scoring

    def supports(self, astype):
        """Whether every word's matcher supports ``astype`` values."""
        return all(m.supports(astype) for m in self.children())

    def value(self):
        """Not available for a combination of words."""
        raise NotImplementedError("a combination of words has no single posting value")

    def value_as(self, astype):
        """Not available for a combination of words."""
        raise NotImplementedError("a combination of words has no single posting value")


def _on(matcher, document):
    """Whether the matcher holds ``document``; it is moved forward to there first."""
    if matcher.is_active() and matcher.id() < document:
        matcher.skip_to(document)
    return matcher.is_active() and matcher.id() == document
