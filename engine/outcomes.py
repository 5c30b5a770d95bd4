"""Outcome-ranked answers: calls that solved similar queries rank a little higher for them.

Every "this solved it" pairs a query with a call. For a new query, each earlier solved query
counts by how much it shares with it (Jaccard over index terms) and by how recent it is
(half-life decay); the pieces combine as a noisy-OR capped at ``MAX_BOOST``, and a hit's
score is multiplied by ``1 + boost``. A call with a clearly better textual match (more than
``1 + MAX_BOOST`` times the score) therefore always stays above a boosted one.
"""

import math
from collections import defaultdict
from datetime import datetime, timezone

from engine.plan import index_terms, typed_words

MAX_BOOST = 0.35
HALF_LIFE_DAYS = 180.0
MIN_SIMILARITY = 0.34


def query_terms(query):
    """The set of index terms of a query's words, as feedback and searches are compared."""
    return frozenset(term for word in typed_words(query) for term in index_terms(word))


def _age_days(at, now):
    try:
        when = datetime.fromisoformat(at.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        return HALF_LIFE_DAYS
    return max(0.0, (now - when).total_seconds() / 86400)


class OutcomeBoosts:
    """Feedback turned into per-call boosts for a query; built from the store's recent feedback."""

    def __init__(self, feedback_rows, now=None):
        """
        :param feedback_rows: dicts with call_id, query and at (ISO 8601).
        :param now: the time the decay is measured from (default: now, UTC).
        """
        now = now or datetime.now(timezone.utc)
        self._by_term = defaultdict(list)
        for row in feedback_rows:
            terms = query_terms(row["query"])
            if not terms:
                continue
            decay = math.pow(0.5, _age_days(row["at"], now) / HALF_LIFE_DAYS)
            entry = (row["call_id"], terms, decay)
            for term in terms:
                self._by_term[term].append(entry)

    def __bool__(self):
        return bool(self._by_term)

    def boosts(self, terms):
        """Boost per call id for a query with these index terms.

        :param terms: the query's index terms (exact and expanded alternatives).
        :returns: a dict from call id to a boost in (0, MAX_BOOST].
        """
        terms = frozenset(terms)
        unexplained = defaultdict(lambda: 1.0)
        seen = set()
        for term in terms:
            for call_id, feedback_terms, decay in self._by_term.get(term, ()):
                key = (call_id, feedback_terms, decay)
                if key in seen:
                    continue
                seen.add(key)
                similarity = len(terms & feedback_terms) / len(terms | feedback_terms)
                if similarity >= MIN_SIMILARITY:
                    unexplained[call_id] *= 1.0 - similarity * decay
        return {call_id: MAX_BOOST * (1.0 - rest) for call_id, rest in unexplained.items() if rest < 1.0}
