"""Small files replaced whole: written atomically, and read again only after they were replaced.

The index folder's pointers (the generation in use, how many passage vectors are complete) are a line each,
replaced by a rename, never written in place. Every search asks for them, several times; reading one is an open, a
read and a close (about 40 µs in Python), where a ``stat`` (a few µs) tells whether it was replaced since.
"""

import os
import time
import uuid

# A file changed this recently is read again on the next call too: two replacements within one tick of the file
# system's clock, the second reusing the first's freed inode, could otherwise look alike to a stat.
SETTLE_NS = 200_000_000


def write_atomically(path, text):
    """Replace ``path``'s content with ``text`` in one rename, flushed to disk: a reader sees the old text or the
    new, never a part.

    :param path: a ``pathlib.Path``.
    :param text: the new content.
    """
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


class ReplacedFile:
    """One file only ever replaced whole (:func:`write_atomically`), its text kept until a stat shows it replaced.

    A replacement is a new file, so a new inode, a new modification time or size: the ``stat`` key changes. The
    text is kept only once the file is older than :data:`SETTLE_NS`, so the key read is the one it will keep.
    """

    def __init__(self, path):
        """
        :param path: the file's ``pathlib.Path``.
        """
        self.path = path
        self._kept = None  # (stat key, text), replaced in one assignment: threads need no lock

    def read(self):
        """The file's text now, or None when there is no such file."""
        try:
            status = os.stat(self.path)
        except FileNotFoundError:
            return None
        key = (status.st_dev, status.st_ino, status.st_mtime_ns, status.st_size)
        kept = self._kept
        if kept is not None and kept[0] == key:
            return kept[1]
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        # Replaced between the stat and the read, the text is newer than the key: the next stat differs, so the
        # next call reads again.
        settled = time.time_ns() - status.st_mtime_ns > SETTLE_NS
        self._kept = (key, text) if settled else None
        return text
