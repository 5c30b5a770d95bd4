"""The corpus vocabulary behind typo and sound-alike suggestions, built from the index.

The unstemmed ``words`` field's lexicon holds every word of the indexed calls with its
document frequency. Building the correctors from it takes a moment, so it is done once
per index generation and then refreshed in the background at most every
``REFRESH_SECONDS``; whether a word exists is always asked of the live searcher, so a
product name added a second ago is already never "corrected".
"""

import threading
import time

from analyzers.phonetic import PhoneticLookup
from analyzers.typos import TypoCorrector

REFRESH_SECONDS = 30.0


class Vocabulary:
    """Typo and phonetic suggesters built from one snapshot of the index's words."""

    def __init__(self, word_frequencies):
        self.word_frequencies = word_frequencies
        self.typos = TypoCorrector(word_frequencies)
        # Sound-alikes equally close are offered commonest first (the lexicon's order is alphabetical).
        self.phonetic = PhoneticLookup(sorted(word_frequencies, key=word_frequencies.get, reverse=True))

    @classmethod
    def from_searcher(cls, searcher):
        """Read the ``words`` lexicon of a searcher into a new vocabulary.

        :param searcher: a Whoosh searcher over the call index.
        :returns: a :class:`Vocabulary`.
        """
        reader = searcher.reader()
        frequencies = {}
        for term, info in reader.iter_field("words"):
            word = term.decode("utf-8") if isinstance(term, bytes) else term
            frequencies[word] = info.doc_frequency()
        return cls(frequencies)


class VocabularyCache:
    """One :class:`Vocabulary` per process, rebuilt when the index has moved on."""

    def __init__(self, refresh_seconds=REFRESH_SECONDS):
        self.refresh_seconds = refresh_seconds
        self._vocabulary = None
        self._built_for = None
        self._built_at = 0.0
        self._lock = threading.Lock()
        self._refreshing = False

    def get(self, searcher, generation_key, home):
        """The vocabulary for a searcher, built now if there is none yet.

        :param searcher: the current Whoosh searcher.
        :param generation_key: a value that changes whenever the index changes.
        :param home: the ``IndexHome``, from which a background refresh opens its own searcher.
        :returns: a :class:`Vocabulary`.
        """
        if self._vocabulary is None:
            with self._lock:
                if self._vocabulary is None:
                    self._install(Vocabulary.from_searcher(searcher), generation_key)
        elif generation_key != self._built_for and time.monotonic() - self._built_at > self.refresh_seconds:
            self._refresh_in_background(home, generation_key)
        return self._vocabulary

    def _install(self, vocabulary, generation_key):
        self._vocabulary = vocabulary
        self._built_for = generation_key
        self._built_at = time.monotonic()

    def _refresh_in_background(self, home, generation_key):
        with self._lock:
            if self._refreshing:
                return
            self._refreshing = True

        def build():
            try:
                with home.open_index().searcher() as searcher:
                    self._install(Vocabulary.from_searcher(searcher), generation_key)
            finally:
                self._refreshing = False

        threading.Thread(target=build, name="vocabulary-refresh", daemon=True).start()

    def invalidate(self):
        """Forget the vocabulary so the next search builds it from scratch."""
        with self._lock:
            self._vocabulary = None
