"""From a query plan to the tree a pass evaluates: which typed words are used, and how.

Very common words carry little BM25 weight and have the longest posting lists. In a short query
a word in more than ``VERY_COMMON_SHARE`` of the calls is left out (unless every word is that
common), and in the any-word pass the words in more than ``COMMON_SHARE`` of the calls only add
to the score of calls the rarer words find. A long query (a pasted paragraph) keeps every word
alike: the right call may share nothing but common words with it (measured: MRR fell from 0.73
to 0.59 on bench.relevance when they were trimmed there too).
"""

from dataclasses import dataclass

from engine.query import NOTHING, AllOf, AllTerms, AnyOf, BestOf, Term

TEXT_FIELD = "text"
# A word in more than this share of the calls (and of at least COMMON_MIN_DOCS) is "common".
COMMON_SHARE = 0.04
COMMON_MIN_DOCS = 200
VERY_COMMON_SHARE = 0.2
FINDING_WHEN_ALL_COMMON = 2
TRIM_COMMON_UP_TO = 5


@dataclass(frozen=True)
class QueryShape:
    """Which typed words (by position in the plan) a search uses, and how.

    ``kept``: the words searched for. ``scoring_only``: kept words that, in the any-word pass,
    only add to the score of calls found by the others: the words in more than ``COMMON_SHARE``
    of the calls, or, when every kept word is that common, all but the ``FINDING_WHEN_ALL_COMMON`` rarest.
    """

    kept: tuple
    scoring_only: frozenset


def word_node(word_plan):
    """The tree of one typed word: its alternatives, each scaled by its weight, scored by the best one a call holds.

    :param word_plan: an ``engine.plan.WordPlan``.
    :returns: a :class:`~engine.query.Term`, :class:`~engine.query.AllTerms` or :class:`~engine.query.BestOf`.
    """
    options = []
    for alternative in word_plan.alternatives:
        if len(alternative.terms) == 1:
            options.append(Term(TEXT_FIELD, alternative.terms[0], alternative.weight))
        else:
            parts = tuple(Term(TEXT_FIELD, term) for term in alternative.terms)
            options.append(AllTerms(parts, alternative.weight))
    return options[0] if len(options) == 1 else BestOf(tuple(options))


def query_shape(plan, stats, short):
    """The :class:`QueryShape` of a plan against the current index.

    :param plan: an ``engine.plan.QueryPlan``.
    :param stats: the searcher's :class:`engine.scoring.IndexStatistics`.
    :param short: whether the query is short enough to leave out or trim its common words.
    """
    every_word = tuple(range(len(plan.words)))
    if not short:
        return QueryShape(every_word, frozenset())
    # A word is as common as its most common alternative: a typo's correction, say, is searched too.
    frequencies = [
        max(min(stats.doc_frequency(TEXT_FIELD, term) for term in option.terms) for option in word.alternatives)
        for word in plan.words
    ]
    very_common = max(COMMON_MIN_DOCS, VERY_COMMON_SHARE * stats.doc_count)
    kept = tuple(i for i in every_word if frequencies[i] <= very_common) or every_word
    if len(kept) < 2:
        return QueryShape(kept, frozenset())
    common = max(COMMON_MIN_DOCS, COMMON_SHARE * stats.doc_count)
    scoring_only = frozenset(i for i in kept if frequencies[i] > common)
    if len(scoring_only) == len(kept):
        rarest = sorted(kept, key=lambda i: (frequencies[i], i))[:FINDING_WHEN_ALL_COMMON]
        scoring_only = frozenset(kept) - set(rarest)
    return QueryShape(kept, scoring_only)


def build_query(plan, require_all, shape=None):
    """The tree for a plan: every word required, or any word enough.

    :param plan: an ``engine.plan.QueryPlan``.
    :param require_all: True for every word, False for any word.
    :param shape: a :class:`QueryShape`, or None to use every word alike.
    :returns: a query tree; :data:`~engine.query.NOTHING` when no word is left.
    """
    kept = shape.kept if shape is not None else tuple(range(len(plan.words)))
    words = {i: word_node(plan.words[i]) for i in kept}
    if not words:
        return NOTHING
    if len(words) == 1:
        return next(iter(words.values()))
    if require_all:
        return AllOf(tuple(words.values()))
    scoring_only = shape.scoring_only if shape is not None else frozenset()
    finding = tuple(words[i] for i in kept if i not in scoring_only)
    scoring = tuple(words[i] for i in kept if i in scoring_only)
    return AnyOf(finding, scoring)
