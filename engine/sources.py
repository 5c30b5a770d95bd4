"""What a search's answer depends on besides the index: the synonyms and the feedback boosts, kept current.

Each source hands out a new object when what it holds changes, so the result cache can tell.
"""

import logging
import os
import threading
import time

from analyzers.synonyms import DEFAULT_PATH, load_synonyms
from engine.outcomes import OutcomeBoosts

log = logging.getLogger(__name__)


def accepted_word_pairs(proposals):
    """Word-to-word synonyms from accepted proposals: the words that differ between two phrases
    of the same length ("pw reset" -> "password reset" gives pw -> password)."""
    pairs = []
    for proposal in proposals:
        before, after = proposal["from_query"].split(), proposal["to_query"].split()
        if len(before) == len(after):
            pairs += [(a, b) for a, b in zip(before, after) if a != b]
    return pairs


class SynonymsFile:
    """The synonyms mapping, read again whenever its file changes, plus the team leads' accepted
    proposals (checked at most every second): edits take effect on the next search, no restart."""

    CHECK_SECONDS = 1.0

    def __init__(self, path=None, store=None):
        self.path = path
        self.store = store
        self._mtime = None
        self._file_mapping = {}
        self._mapping = {}
        self._accepted = None
        self._checked = 0.0

    def __call__(self):
        """The current mapping from a word to its synonyms."""
        changed = self._reload_file()
        if self.store is not None and time.monotonic() - self._checked >= self.CHECK_SECONDS:
            self._checked = time.monotonic()
            try:
                accepted = tuple(accepted_word_pairs(self.store.proposals("accepted")))
            except Exception as error:  # the last good synonyms stay while the store is away
                log.warning("accepted synonyms not reloaded: %s", error)
                accepted = self._accepted
            changed = changed or accepted != self._accepted
            self._accepted = accepted
        if changed:
            mapping = {word: list(others) for word, others in self._file_mapping.items()}
            for before, after in self._accepted or ():
                mapping.setdefault(before, []).append(after)
                mapping.setdefault(after, []).append(before)
            self._mapping = mapping
        return self._mapping

    def refresh(self):
        """Check the accepted proposals on the next search rather than within a second."""
        self._checked = 0.0

    def _reload_file(self):
        path = self.path or DEFAULT_PATH
        try:
            mtime = os.stat(path).st_mtime_ns
        except OSError:
            return False
        if mtime == self._mtime:
            return False
        self._mtime = mtime
        try:
            self._file_mapping = load_synonyms(path)
        except ValueError as error:
            log.error("synonyms file not reloaded, the last good one stays in force: %s", error)
            return False
        return True


class OutcomesFromFeedback:
    """The current ``OutcomeBoosts``, rebuilt when new feedback arrives (checked at most every second)."""

    CHECK_SECONDS = 1.0

    def __init__(self, store):
        self.store = store
        self._boosts = None
        self._marker = None
        self._checked = 0.0
        self._lock = threading.Lock()

    def __call__(self):
        """The boosts to apply now (the last good ones while the store is away)."""
        if time.monotonic() - self._checked < self.CHECK_SECONDS:
            return self._boosts
        with self._lock:
            self._checked = time.monotonic()
            try:
                marker = self.store.feedback_marker()
                if marker != self._marker:
                    self._boosts = OutcomeBoosts(self.store.recent_feedback())
                    self._marker = marker
            except Exception as error:  # searches must go on when the store is away
                log.warning("feedback not reloaded: %s", error)
        return self._boosts
