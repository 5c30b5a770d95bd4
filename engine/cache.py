"""Recent search results, kept while everything they were computed from is still in use.

A result depends on the index generation (every write makes a new one), the vocabulary the typo
and sound-alike suggestions came from, the synonyms and the feedback boosts. The generation is
part of the key, so a write retires every earlier entry at once; the other three are compared by
identity (each source hands out a new object when it changes), so an accepted synonym or a new
"this solved it" takes effect on the next search.
"""

import threading
from collections import OrderedDict


class ResultCache:
    """A bounded, thread-safe map from a search's parameters to its result, least recently used out."""

    def __init__(self, size):
        """
        :param size: how many results to keep; 0 keeps none.
        """
        self.size = size
        self._entries = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key, sources):
        """The result stored for ``key``, if it was computed from these very ``sources``.

        :param key: a hashable tuple of the search's parameters and the index generation.
        :param sources: a tuple of the objects the result depends on, compared with ``is``.
        :returns: the stored result, or None.
        """
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            stored_sources, result = entry
            if len(stored_sources) != len(sources) or any(a is not b for a, b in zip(stored_sources, sources)):
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return result

    def put(self, key, sources, result):
        """Keep ``result`` for ``key``; the least recently used entry goes when the cache is full."""
        if self.size <= 0:
            return
        with self._lock:
            self._entries[key] = (sources, result)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def __len__(self):
        return len(self._entries)
