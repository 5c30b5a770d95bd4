"""The query tree a search pass evaluates: index terms, a typed word's alternatives, and how words combine.

Every score is BM25F over one field (see :mod:`engine.scoring`), then:

- :class:`Term` scales its term's score by ``boost``;
- :class:`AllTerms` (a phrase alternative such as "blue screen" for "bsod") needs every term,
  sums their scores and scales the sum by ``boost``;
- :class:`BestOf` (a typed word: its own term, spelling variants, typo corrections, sound-alikes,
  synonyms) matches a call holding any option and scores it by the best option that call holds;
- :class:`AllOf` needs every word and sums their scores;
- :class:`AnyOf` matches a call holding any ``finding`` word and sums the scores of every word
  it holds, ``scoring`` words included (they only add to calls the others find).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    """One index term of one field."""

    field: str
    text: str
    boost: float = 1.0

    def terms(self):
        """The terms in this node: itself."""
        return (self,)


@dataclass(frozen=True)
class AllTerms:
    """Every term required; the sum of their scores, times ``boost``."""

    parts: tuple
    boost: float = 1.0

    def terms(self):
        """The terms in this node."""
        return self.parts


@dataclass(frozen=True)
class BestOf:
    """Any option; a call scores the best option it holds."""

    options: tuple

    def terms(self):
        """Every term of every option."""
        return tuple(term for option in self.options for term in option.terms())


@dataclass(frozen=True)
class AllOf:
    """Every word required; the sum of their scores."""

    words: tuple

    def terms(self):
        """Every term of every word."""
        return tuple(term for word in self.words for term in word.terms())


@dataclass(frozen=True)
class AnyOf:
    """Any ``finding`` word; the sum of the scores of every word a call holds."""

    finding: tuple
    scoring: tuple = ()

    def terms(self):
        """Every term of every word, finding words first."""
        return tuple(term for word in self.finding + self.scoring for term in word.terms())


NOTHING = AnyOf(())
