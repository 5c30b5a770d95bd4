"""A cache that starts over when full: bounded without keeping track of which entry is oldest."""


class BoundedMemo(dict):
    """A dict of at most ``most`` entries; storing one more clears it first.

    Clearing is one atomic step under the GIL, unlike evicting the oldest entry, so threads may share one.
    """

    def __init__(self, most):
        """
        :param most: how many entries to hold before starting over.
        """
        super().__init__()
        self.most = most

    def keep(self, key, value):
        """Store ``value`` under ``key``, clearing everything first when full; returns ``value``."""
        if len(self) >= self.most:
            self.clear()
        self[key] = value
        return value
