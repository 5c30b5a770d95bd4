"""Typo correction among the corpus's own words (pyspellchecker dictionary built from indexed terms).

Only corpus words are offered, since a correction that no call contains cannot help retrieval.
pyspellchecker's English list is loaded once per process, only to recognise correct English
(``headset``, ``licence``) so that it is never "corrected".
"""

import string
from functools import lru_cache

import jellyfish
from spellchecker import SpellChecker

from analyzers.memo import BoundedMemo
from analyzers.spelling import is_spelling_variant

MIN_LETTERS = 4
LONG_WORD = 8  # from this length on, two edits are allowed
# Longer tokens are identifiers, paths or run-together text, not mistyped words, and the two-edit
# search grows with the square of the length ("internationalization" has 20 letters).
MAX_LETTERS = 20
# Typed words whose corrections a corrector keeps (a few MB at most).
REMEMBERED_WORDS = 20_000
# A corpus word that is no English word is taken for a misspelling of a word one edit away when that word is in at
# least this many times as many calls ("adress" in 3 calls, "address" in 400).
COMMONER_BY = 50


# How often pyspellchecker's sources must use an English word for it to be a common one: "buy", "thin" and "beach"
# are; "wen", "teems" and the surname "weill" are not.
COMMON_ENGLISH_COUNT = 1000


@lru_cache(maxsize=1)
def _english_counts():
    """pyspellchecker's bundled English words with how often its sources use each, loaded once (about 0.15 s)."""
    return dict(SpellChecker(language="en").word_frequency.dictionary)


@lru_cache(maxsize=1)
def english_words():
    """pyspellchecker's bundled English word list.

    :returns: a frozenset of lowercase English words.
    """
    return frozenset(_english_counts())


def is_common_english(word):
    """Tell whether a lowercase word is a common English one: used at least ``COMMON_ENGLISH_COUNT`` times in
    pyspellchecker's sources."""
    return _english_counts().get(word, 0) >= COMMON_ENGLISH_COUNT


def is_english(word):
    """Tell whether a lowercase word is English: in pyspellchecker's list (:func:`english_words`) or a UK spelling."""
    return word in english_words() or is_spelling_variant(word)


def _deletes(word):
    """Return ``word`` and every string made by deleting one character from it."""
    return {word} | {word[:i] + word[i + 1 :] for i in range(len(word))}


def _two_edit_keys(word, letters):
    """Return the index keys to look up for words within two edits of ``word``.

    The index holds each word and its one-letter deletions. An edit pair that deletes at most one
    letter from the target is met by ``word`` minus up to two letters; the other pairs contain a
    replace, swap or insert, applied here first, leaving at most one deletion on each side.
    """
    deletes = _deletes(word)
    keys = set(deletes)
    for shorter in deletes:
        keys |= _deletes(shorter)
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    for left, right in splits:
        if len(right) > 1:
            keys |= _deletes(left + right[1] + right[0] + right[2:])
        for c in letters:
            keys.add(left + c + right)
            if right and c != right[0]:
                keys |= _deletes(left + c + right[1:])
    return keys


class TypoCorrector:
    """Suggest corpus words for a mistyped query word.

    ``TypoCorrector({"router": 40, "password": 90}).corrections("pasword")`` gives ``["password"]``.
    """

    def __init__(self, word_frequencies):
        """Build the dictionary from the corpus vocabulary.

        :param word_frequencies: corpus words (unstemmed, as in the ``words`` field) and their
            document frequencies. Only alphabetic words can be offered as corrections.
        """
        self._frequencies = {
            word.lower(): count
            for word, count in word_frequencies.items()
            if word.isalpha() and len(word) >= MIN_LETTERS - 1
        }
        self._checker = SpellChecker(language=None, distance=1)
        self._checker.word_frequency.load_json(self._frequencies)
        self._vocabulary = frozenset(word.lower() for word in word_frequencies)
        # Two-edit lookup for long words without pyspellchecker's edit_distance_2 (hundreds of
        # thousands of strings): index each word under itself and its one-letter deletions; a
        # word within two edits of the typed one shares a key with some one-edit variant of it.
        # Only words that can be two edits from an 8-letter word (6 letters or more) are indexed.
        self._two_edit_index = {}
        for word in self._frequencies:
            if len(word) >= LONG_WORD - 2:
                for key in _deletes(word):
                    self._two_edit_index.setdefault(key, []).append(word)
        self._english = english_words()
        # The corrections of words typed before: the vocabulary is fixed for this corrector's life.
        self._remembered = BoundedMemo(REMEMBERED_WORDS)

    def is_known(self, word):
        """Tell whether a word is spelt correctly: a corpus word, English, or a UK spelling.

        :param word: a word, any case.
        :returns: ``True`` for ``"headset"``, ``"licence"`` or any corpus word.
        """
        lower = word.lower()
        return lower in self._vocabulary or lower in self._english or is_spelling_variant(lower)

    def corrections(self, word, limit=3):
        """Return corpus words the typed word was probably meant to be, best first.

        Pass the word as typed: an all-capitals word (``HDMI``, ``VPN``) is taken as a deliberate
        acronym and left alone, which lowercasing first would defeat.

        :param word: one query word with its original casing.
        :param limit: the most corrections to return.
        :returns: at most ``limit`` corpus words within 1 edit (4-7 letters) or 2 edits (8 or more),
            ordered by edit distance, then corpus frequency; empty for words with digits, all
            capitals, under 4 or over 20 letters, non-letters, or known words.
        """
        found = self._remembered.get((word, limit))
        if found is None:
            found = self._remembered.keep((word, limit), self._corrections(word, limit))
        return list(found)

    def _corrections(self, word, limit):
        if not MIN_LETTERS <= len(word) <= MAX_LETTERS or not word.isalpha() or word.isupper():
            return ()
        if self.is_known(word):
            return ()
        typed = word.lower()
        if len(typed) < LONG_WORD:
            # The checker's own known() checks each of these hundreds of strings for numbers; its words are letters.
            found = {candidate for candidate in self._checker.edit_distance_1(typed) if candidate in self._frequencies}
            max_edits = 1
        else:
            letters = set(string.ascii_lowercase) | set(typed)
            index = self._two_edit_index
            found = {candidate for key in _two_edit_keys(typed, letters) if key in index for candidate in index[key]}
            max_edits = 2
        distance = jellyfish.damerau_levenshtein_distance
        scored = []
        for candidate in found:
            edits = distance(typed, candidate)
            if edits <= max_edits:
                scored.append((edits, -self._frequencies.get(candidate, 0), candidate))
        scored.sort()
        return tuple(candidate for _, _, candidate in scored[:limit])

    def likelier_spelling(self, word):
        """The word a rare, non-English corpus word most likely misspells: the commonest corpus word one edit away
        with the same first letter, when it is in at least ``COMMONER_BY`` times as many calls; '' otherwise.

        Corpus words are never corrected in search, since product names and error codes must match as typed. This
        is for what the agent meant ("adress" typed, and a few calls spelling it so): the query ranked by meaning.

        :param word: one query word with its original casing (an all-capitals word is left alone).
        """
        found = self._remembered.get(("likelier", word))
        if found is None:
            found = self._remembered.keep(("likelier", word), self._likelier_spelling(word))
        return found

    def _likelier_spelling(self, word):
        if not MIN_LETTERS < len(word) <= MAX_LETTERS or not word.isalpha() or word.isupper():
            return ""
        typed = word.lower()
        if is_english(typed):
            return ""
        floor = COMMONER_BY * max(self._frequencies.get(typed, 0), 1)
        found = [
            (count, candidate)
            for candidate in self._checker.edit_distance_1(typed)
            # The first letter is kept, as typists rarely get it wrong, and a product name that prefixes a
            # common word ("icloud", "xbox") is no misspelling of it.
            if candidate[:1] == typed[:1] and (count := self._frequencies.get(candidate, 0)) >= floor
        ]
        return max(found)[1] if found else ""
