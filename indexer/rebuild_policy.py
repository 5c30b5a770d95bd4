"""When a write rebuilds the index instead of updating it, with how many processes, and when an import builds
the new index alongside its store write (``index.alongside``)."""

from index.alongside import BuildAlongside

# Changing this many calls (or more than half the store) rebuilds the index instead of updating it.
REBUILD_THRESHOLD = 20_000
# Below this many calls, starting indexing processes costs more than it saves.
PARALLEL_THRESHOLD = 5_000
# Below this many new calls in a file, indexing them while the store writes them (a builder process started
# from a fresh interpreter, about half a second) costs more than it saves.
ALONGSIDE_THRESHOLD = 5_000


def rebuilds(changed, count):
    """Whether changing ``changed`` calls of a store that then holds ``count`` rebuilds the index."""
    return changed >= REBUILD_THRESHOLD or changed > count // 2


def indexing_processes(calls):
    """How many processes index ``calls`` calls."""
    return 2 if calls >= PARALLEL_THRESHOLD else 1


class IndexAlongside:
    """``index_alongside`` for ``import_file``: when a file's calls will rebuild the index whatever the store
    holds, and there are ``ALONGSIDE_THRESHOLD`` new ones at least, index them while the store writes them
    (``index.alongside``)."""

    def __init__(self, kb):
        self.kb = kb

    def stream(self, expected):
        """A build started now, to be handed about ``expected`` calls as they are validated, or None.

        :returns: a started ``BuildAlongside`` or None.
        """
        building = self._build_for(expected)
        if building is not None:
            building.begin(expected)
        return building

    def start(self, records):
        """A build started on a file's validated ``records``, or None.

        :returns: a started ``BuildAlongside`` or None.
        """
        building = self._build_for(len(records))
        if building is not None:
            building.start(records)
        return building

    def _build_for(self, calls):
        stored = self.kb.store.count()
        surely_new = calls - stored
        if surely_new < max(ALONGSIDE_THRESHOLD, 1) or not rebuilds(surely_new, stored + surely_new):
            return None
        return BuildAlongside(self.kb.store, self.kb.home, procs=indexing_processes(stored + calls))
