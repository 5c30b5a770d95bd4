"""Small files replaced whole (``index.small_files``): the index's pointers, read per search, are read again only
when a stat shows them replaced, and never read stale."""

import os
import time

from index.small_files import SETTLE_NS, ReplacedFile, write_atomically


def _age(path, seconds):
    """Date the file's modification ``seconds`` back, as if written that long ago."""
    then = time.time_ns() - int(seconds * 1e9)
    os.utime(path, ns=(then, then))


def _read_long_after_writing(path, text):
    """Write ``path`` as an hour-old file holding ``text`` and read it once: the reader it was read by."""
    write_atomically(path, text)
    _age(path, 3600)
    pointer = ReplacedFile(path)
    assert pointer.read() == text
    return pointer


def test_a_missing_file_reads_as_none_until_it_is_written(tmp_path):
    pointer = ReplacedFile(tmp_path / "count")
    assert pointer.read() is None
    write_atomically(tmp_path / "count", "12\n")
    assert pointer.read() == "12\n"


def test_a_replacement_is_read_at_once_however_old_the_text_it_replaces(tmp_path):
    path = tmp_path / "CURRENT"
    pointer = _read_long_after_writing(path, "gen-a\n")
    write_atomically(path, "gen-b\n")
    assert pointer.read() == "gen-b\n"
    write_atomically(path, "gen-a\n")
    assert pointer.read() == "gen-a\n"


def test_a_settled_file_is_answered_from_its_stat_without_reading_it_again(tmp_path):
    path = tmp_path / "count"
    pointer = _read_long_after_writing(path, "10\n")
    status = os.stat(path)
    # Changed in place with its size and time put back, the file looks unchanged to a stat: the kept text answers.
    path.write_text("99\n")
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))
    assert pointer.read() == "10\n"


def test_a_file_changed_within_the_clock_tick_of_its_reading_is_read_again(tmp_path):
    path = tmp_path / "count"
    path.write_text("10\n")
    pointer = ReplacedFile(path)
    assert pointer.read() == "10\n"
    status = os.stat(path)
    assert time.time_ns() - status.st_mtime_ns < SETTLE_NS
    # Changed again within the same tick of the file system's clock: same inode, size and time.
    path.write_text("11\n")
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))
    assert pointer.read() == "11\n"


def test_a_file_removed_after_it_was_read_reads_as_none(tmp_path):
    path = tmp_path / "CURRENT"
    pointer = _read_long_after_writing(path, "gen-a\n")
    path.unlink()
    assert pointer.read() is None
