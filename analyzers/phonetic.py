"""Phonetic codes (jellyfish) and a guarded sound-alike lookup over the corpus vocabulary.

Codes collide a lot (router, writer, reader and rider all have Metaphone ``RTR``), so a code match
alone is never accepted: :func:`sounds_alike` also wants the same first letter (or the same first
Metaphone letter, for fone/phone) and at most two edits.
"""

import re
from collections import defaultdict

import jellyfish

MIN_LETTERS = 3
MAX_EDITS = 2
SHORT_WORD = 4  # words this short may differ by one edit only ("vbnm" is not "vpn")

# Spellings that sound the same, rewritten before measuring edits, so "nite"/"night" and
# "fone"/"phone" are close while "rowter"/"reader" stay three edits apart.
_SOUND_REWRITES = (
    (re.compile(r"(?<=.)(?:ss|s|t|c)ion"), "shun"),
    (re.compile(r"ph"), "f"),
    (re.compile(r"gh"), ""),
    (re.compile(r"ck"), "k"),
    (re.compile(r"qu"), "kw"),
    (re.compile(r"(.)\1+"), r"\1"),
    (re.compile(r"(?<=...)e$"), ""),
)


def _codable(word):
    return bool(word) and word.isascii() and word.isalpha()


def metaphone_code(word):
    """Return the Metaphone code of a word.

    :param word: any string, e.g. ``"router"``.
    :returns: the code (``"RTR"``), or ``""`` for empty or non-alphabetic (or non-ASCII) input.
    """
    return jellyfish.metaphone(word) if _codable(word) else ""


def soundex_code(word):
    """Return the Soundex code of a word.

    :param word: any string, e.g. ``"router"``.
    :returns: the code (``"R360"``), or ``""`` for empty or non-alphabetic (or non-ASCII) input.
    """
    return jellyfish.soundex(word) if _codable(word) else ""


def sound_skeleton(word):
    """Rewrite spellings that sound alike to one form, for measuring edits between sound-alikes.

    :param word: a lowercase word, e.g. ``"night"``.
    :returns: the rewritten word: ``"night"`` and ``"nite"`` both give ``"nit"``.
    """
    for pattern, replacement in _SOUND_REWRITES:
        word = pattern.sub(replacement, word)
    return word


def sound_distance(typed, candidate):
    """Count edits between two lowercase words, as spelt or as sounded, whichever is fewer.

    :param typed: a lowercase word.
    :param candidate: a lowercase word.
    :returns: the smaller Damerau-Levenshtein distance of the words and of their
        :func:`sound_skeleton` forms (``"nite"``/``"night"``: 0; ``"rowter"``/``"reader"``: 3).
    """
    distance = jellyfish.damerau_levenshtein_distance
    return min(distance(typed, candidate), distance(sound_skeleton(typed), sound_skeleton(candidate)))


def sounds_alike(typed, candidate):
    """Tell whether a corpus word is a plausible sound-alike of a typed word.

    :param typed: the word as typed, e.g. ``"rowter"``.
    :param candidate: a corpus word, e.g. ``"router"`` (yes) or ``"writer"`` (no).
    :returns: ``True`` when both are alphabetic with at least 3 letters, are different, start with
        the same letter or the same Metaphone letter, and are at most 2 edits apart as spelt or
        as sounded (:func:`sound_distance`), 1 when either has 4 letters or fewer.
    """
    typed, candidate = typed.lower(), candidate.lower()
    if typed == candidate or not (_codable(typed) and _codable(candidate)):
        return False
    if min(len(typed), len(candidate)) < MIN_LETTERS:
        return False
    if typed[0] != candidate[0]:
        typed_code, candidate_code = metaphone_code(typed), metaphone_code(candidate)
        if not typed_code or not candidate_code or typed_code[0] != candidate_code[0]:
            return False
    allowed = MAX_EDITS if min(len(typed), len(candidate)) > SHORT_WORD else 1
    return sound_distance(typed, candidate) <= allowed


class PhoneticLookup:
    """Corpus words grouped by Metaphone and Soundex code, for "did you mean" by sound.

    ``PhoneticLookup(["router", "writer", "phone"]).candidates("rowter")`` gives ``["router"]``.
    """

    def __init__(self, words):
        """Index the vocabulary by both codes.

        :param words: an iterable of corpus words (lowercase, unstemmed); order breaks ties.
        """
        self._order = {}
        self._by_metaphone = defaultdict(list)
        self._by_soundex = defaultdict(list)
        for word in words:
            if word in self._order or len(word) < MIN_LETTERS or not _codable(word):
                continue
            self._order[word] = len(self._order)
            for code in {metaphone_code(word), metaphone_code(sound_skeleton(word))}:
                self._by_metaphone[code].append(word)
            self._by_soundex[soundex_code(word)].append(word)

    def __len__(self):
        return len(self._order)

    def candidates(self, word, limit=3):
        """Return corpus words that sound like ``word``, closest first.

        :param word: the typed word, any case.
        :param limit: the most words to return.
        :returns: words sharing the Metaphone or Soundex code that pass :func:`sounds_alike`,
            ordered by :func:`sound_distance`, then by their order in the vocabulary given.
        """
        typed = word.lower()
        if not _codable(typed):
            return []
        # By the Metaphone code of the word and of its sound skeleton: "kweries" and "queries" share only the latter.
        pool = set(self._by_metaphone.get(metaphone_code(typed), ()))
        pool.update(self._by_metaphone.get(metaphone_code(sound_skeleton(typed)), ()))
        pool.update(self._by_soundex.get(soundex_code(typed), ()))
        scored = [
            (sound_distance(typed, other), self._order[other], other) for other in pool if sounds_alike(typed, other)
        ]
        scored.sort()
        return [other for _, _, other in scored[:limit]]
