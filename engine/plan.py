"""From what the agent typed to the terms worth searching for, and why each is there.

Each typed word becomes a group of alternatives: its own index term first, then, only
when the word is unknown to the calls, typo corrections and sound-alikes that do exist
in them, and synonyms from the editable synonyms file. Alternatives carry a weight so
that an exact match always outranks a guessed one, and a ``how`` for "why it matched".
"""

import math
import re
import unicodedata
from dataclasses import dataclass, field, replace
from functools import cached_property

from jellyfish import damerau_levenshtein_distance
from whoosh.analysis import STOP_WORDS

from analyzers.homophones import homophones
from analyzers.phonetic import metaphone_code, sound_distance, soundex_code
from analyzers.pipeline import surface_pipeline, text_pipeline
from analyzers.spelling import us_spelling
from analyzers.typos import COMMONER_BY, is_common_english, is_english

MAX_QUERY_WORDS = 32
WEIGHTS = {"exact": 1.0, "synonym": 0.8, "typo": 0.7, "sounds-like": 0.45}
TYPO_SUGGESTIONS = 2
SOUND_ALIKE_SUGGESTIONS = 2
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CAPITALS = re.compile(r"\b[A-Z][A-Z0-9]+\b")
# The stop words a typed word may have meant (``_stop_words_near``), in a fixed order whatever the hash seed.
_STOP_WORDS_IN_ORDER = tuple(sorted(stop for stop in STOP_WORDS if len(stop) > 1))


# Blank means only the white space JSON Schema's \s knows (ECMA-262), so the API and its OpenAPI
# document agree: a query of control characters is not blank, it just finds nothing.
_ECMA_SPACE = re.compile("[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]*")


def is_blank(text):
    """True for an empty string or one of white space only.

    :param text: a string.
    """
    return _ECMA_SPACE.fullmatch(text) is not None


def clean_query_text(text):
    """Drop control characters and lone surrogates, fold to NFC, collapse spaces.

    :param text: raw query text.
    :returns: the text safe to analyze and echo.
    """
    text = text.encode("utf-8", "replace").decode("utf-8")
    text = unicodedata.normalize("NFC", _CONTROL.sub(" ", text))
    return " ".join(text.split())


def index_terms(word):
    """The term the ``text`` field indexes for one word (empty for a stop word).

    :param word: one surface word.
    :returns: a list of term strings.
    """
    return list(text_pipeline().whole_terms(word))


def typed_words(text, max_words=MAX_QUERY_WORDS):
    """The words of a query as typed: tokenized, lowercased, accents folded, in order, unique.

    :param text: cleaned query text.
    :param max_words: how many words to keep at most.
    :returns: a list of strings.
    """
    seen, words = set(), []
    for word in surface_pipeline().whole_terms(text):
        if word not in seen:
            seen.add(word)
            words.append(word)
        if len(words) == max_words:
            break
    return words


@dataclass(frozen=True)
class Alternative:
    """One way a typed word may appear in a call: index terms that must all match."""

    terms: tuple
    word: str
    how: str
    # The word the agent most likely meant by an unknown word (``WordPlan.meant``): it counts as if typed.
    meant: bool = False

    @property
    def weight(self):
        """How much a match through this alternative counts against an exact one.

        The word meant counts as much as an exact match; the other guesses less, by how they were found. A phrase
        alternative ("blue screen" for "bsod") scores the sum of its terms, so each term gets its share of the
        weight and the phrase cannot outrank the word typed.
        """
        return WEIGHTS["exact" if self.meant else self.how] / len(self.terms)


@dataclass
class WordPlan:
    """A typed word and its alternatives, its own terms first."""

    typed: str
    alternatives: list = field(default_factory=list)
    known: bool = True
    correction: str = ""
    # The word most likely meant, for ranking by meaning: of an unknown word's typo corrections and sound-alikes
    # (of its typo corrections alone for a word known only by its stem, such as "pageing"),
    # the closest as spelt or as sounded, then one that only adds letters, one that swaps two letters back, one that
    # sounds the same, then the most common in the calls ("fone": "phone", not "one"; "printr": "printer", not
    # "print"; "werd": "word", not "were"); a rare non-English one gives way to a far commoner one a single edit
    # further ("arkive": "archive", not "arxiv"). ``_likeliest`` chooses it, of the stop words one edit away too
    # ("thhis": "this", "wen": "when"; ``_stop_words_near``). An English word reads as its commonest homophone in
    # more than one call ("male": "mail"), else stays as typed unless that word is a single edit from it and in
    # more than one call ("beach" is not "batch"; ``_english_or_likeliest``).
    meant: str = ""


@dataclass
class QueryPlan:
    """The whole query: one group per typed word that is not a stop word."""

    text: str
    words: list = field(default_factory=list)

    @cached_property
    def term_sources(self):
        """Each index term mapped to the (typed word, alternative) that brought it in, exact first.

        Computed once, when first read after planning, and kept for the rest of the search.
        """
        sources = {}
        for word_plan in self.words:
            for alternative in word_plan.alternatives:
                for term in alternative.terms:
                    sources.setdefault(term, (word_plan.typed, alternative))
        return sources

    def corrected_text(self):
        """The query with each corrected word replaced, or '' when nothing was corrected."""
        corrections = {w.typed: w.correction for w in self.words if w.correction}
        if not corrections:
            return ""
        return " ".join(corrections.get(word, word) for word in typed_words(self.text, len(self.words) * 4 + 8))


def _likeliest(typed, words, frequencies):
    """Of ``words`` (what a typed word may stand for), the one closest to ``typed`` as spelt or as sounded; of those
    equally close, one that only adds letters to it (a typist drops letters: "printr" is "printer" before "print"),
    then one that swaps two neighbouring letters back ("lits": "list"), then one with its Metaphone or Soundex code
    ("werd" sounds as "word", not "were"), then the commonest (a stop word first; '' if no words). That word gives
    way when it is no English word and some are a single edit further and in at least ``COMMONER_BY`` times as many
    calls (a stop word always is), to the first of those in the same order: so close to what was typed and so
    rare, it is likelier a misspelling or a name in the calls than what the agent meant ("arkive": "archive", in
    124 calls, not "arxiv", in one; "dirctroy": "directory", not "directroy"; "wen": "when", not "wenn")."""
    typed = typed.lower()
    if not words:
        return ""
    codes = (metaphone_code(typed), soundex_code(typed))

    distance = {word: sound_distance(typed, word) for word in words}

    def reading_order(word):
        return (
            not _letters_in_order(typed, word),
            not _swaps_two_letters(typed, word),
            not _same_code(codes, word),
            -_commonness(word, frequencies),
        )

    closest = min(words, key=lambda word: (distance[word], *reading_order(word)))
    if is_english(closest):
        return closest
    floor = COMMONER_BY * max(frequencies.get(closest, 0), 1)
    commoner = [
        word for word in words if distance[word] == distance[closest] + 1 and _commonness(word, frequencies) >= floor
    ]
    return min(commoner, key=reading_order) if commoner else closest


def _english_or_likeliest(typed, words, frequencies):
    """The likeliest of ``words`` (:func:`_likeliest`), or for an English word: the commonest of its homophones in
    more than one call, stop words aside (typed by ear: "male" for "mail", "witch" for "which"), else '' when the
    agent likelier typed it as meant: its likeliest correction is more than a single edit away or in a single call
    at most ("beach" is no misspelling of "batch", nor "squiggle" of the calls' "squigly"; "teems" stands for
    "teams", in 169 calls)."""
    english = is_english(typed)
    if english:
        # A stop word is no reading of a word typed by ear: "two" for "to", "buy" for "by" would lose the word.
        held = [word for word in homophones(typed) if frequencies.get(word, 0) > 1 and word not in STOP_WORDS]
        if held:
            return max(held, key=frequencies.get)
    likeliest = _likeliest(typed, words, frequencies)
    if not likeliest or not english:
        return likeliest
    close = sound_distance(typed, likeliest) <= 1 and _commonness(likeliest, frequencies) > 1
    return likeliest if close else ""


def _commonness(word, frequencies):
    """How many calls hold a word; a stop word, in no index, counts as commoner than any."""
    return math.inf if word in STOP_WORDS else frequencies.get(word, 0)


def _stop_words_near(typed):
    """The stop words one edit from a typed word of 3 letters or more (letters only: "th3" may be a code; no common
    English word: "buy" is no slip for "by"), in a fixed order: words the agent may have meant ("thhis": "this",
    "wiht": "with", "wen": "when") that no correction offers, as stop words are in no index."""
    if len(typed) < 3 or not typed.isalpha() or is_common_english(typed):
        return []
    return [stop for stop in _STOP_WORDS_IN_ORDER if damerau_levenshtein_distance(typed, stop) == 1]


def _swaps_two_letters(typed, word):
    """Whether ``word`` is ``typed`` with two neighbouring letters swapped back ("lits": "list")."""
    swapped = (typed[:i] + typed[i + 1] + typed[i] + typed[i + 2 :] for i in range(len(typed) - 1))
    return typed != word and word in swapped


def _same_code(codes, word):
    metaphone, soundex = codes
    return (metaphone and metaphone == metaphone_code(word)) or (soundex and soundex == soundex_code(word))


def _letters_in_order(letters, word):
    """Whether ``word`` holds every one of ``letters`` in order (``word`` is ``letters`` with letters added)."""
    rest = iter(word)
    return all(letter in rest for letter in letters)


def _lead_with_meant(word_plan):
    """Mark the guess that is the word meant and put it first of the guesses: the agent likeliest typed that word
    ("fone": "phone" counts as if typed, "one" as a guess)."""
    for position, alternative in enumerate(word_plan.alternatives[1:], start=1):
        if alternative.word == word_plan.meant:
            del word_plan.alternatives[position]
            word_plan.alternatives.insert(1, replace(alternative, meant=True))
            return


def _alternatives_from(words, how, already):
    found = []
    for word in words:
        terms = tuple(index_terms(word))
        if how == "synonym" and len(terms) != len(word.split()):
            continue  # a phrase that lost a stop word ("power on" -> "power") would mislead
        if terms and terms not in already:
            already.add(terms)
            found.append(Alternative(terms, word, how))
    return found


def plan_query(text, is_indexed, vocabulary=None, synonyms=None, max_words=MAX_QUERY_WORDS):
    """Plan the search for a query.

    :param text: the query as typed (any string).
    :param is_indexed: ``is_indexed(term) -> bool``, true when a call holds that index term.
    :param vocabulary: an ``engine.vocabulary.Vocabulary`` for typo and sound-alike
        suggestions, or None to search only for what was typed.
    :param synonyms: a mapping from a lowercase word to its synonyms, or None.
    :param max_words: how many words of the text to plan at most.
    :returns: a :class:`QueryPlan`.
    """
    plan = QueryPlan(text=clean_query_text(text))
    typed_in_capitals = {word.lower() for word in _CAPITALS.findall(plan.text)}
    for word in typed_words(plan.text, max_words):
        own_terms = tuple(index_terms(word))
        if not own_terms:
            continue
        word_plan = WordPlan(typed=word, alternatives=[Alternative(own_terms, us_spelling(word), "exact")])
        already = {own_terms}
        word_plan.known = all(is_indexed(term) for term in own_terms)
        if not word_plan.known and vocabulary is not None and word not in typed_in_capitals:
            typos = _alternatives_from(vocabulary.typos.corrections(word, limit=TYPO_SUGGESTIONS), "typo", already)
            word_plan.alternatives += typos
            if typos:
                word_plan.correction = typos[0].word
            sounds = vocabulary.phonetic.candidates(us_spelling(word), limit=SOUND_ALIKE_SUGGESTIONS)
            word_plan.alternatives += _alternatives_from(sounds, "sounds-like", already)
            corrected = [alternative.word for alternative in word_plan.alternatives[1:]] + _stop_words_near(word)
            word_plan.meant = _english_or_likeliest(word, corrected, vocabulary.word_frequencies)
            _lead_with_meant(word_plan)
        elif vocabulary is not None and word not in typed_in_capitals and word not in vocabulary.word_frequencies:
            # Known only by its stem ("pageing", "replys"): search finds the stem, and the model reads the word meant.
            corrections = _alternatives_from(vocabulary.typos.corrections(word, limit=TYPO_SUGGESTIONS), "typo", set())
            word_plan.meant = _likeliest(
                word, [alternative.word for alternative in corrections], vocabulary.word_frequencies
            )
        if synonyms:
            word_plan.alternatives += _alternatives_from(synonyms.get(word, ()), "synonym", already)
        plan.words.append(word_plan)
    return plan
