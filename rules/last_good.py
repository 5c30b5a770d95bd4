"""The last good copy of a file the business edits (``rules.toml``, ``customer_messages.toml``), and the file as
watched by each process (:class:`WatchedFile`). Below, the rules file; the messages file works alike.

Whenever a process reads a valid rules file it saves the text as ``rules.toml.last-good`` (atomically, and
only when it changed). A process that finds the file invalid, at its first start as after an edit, applies
that copy, so every worker of every start applies the same rules, and key accounts are never dropped to the
defaults because of a typo.
"""

import logging
import os
import tempfile
from pathlib import Path

from rules.webhook import printable

log = logging.getLogger(__name__)

LAST_GOOD_SUFFIX = ".last-good"


def last_good_path(rules_path):
    """Where the last good copy of ``rules_path`` is kept."""
    rules_path = Path(rules_path)
    return rules_path.with_name(rules_path.name + LAST_GOOD_SUFFIX)


def save_last_good(rules_path, text):
    """Keep ``text`` as the last good rules (atomically; nothing is written when it is already the copy).

    :returns: True when the copy changed. An unwritable folder is not an error: the rules still apply.
    """
    target = last_good_path(rules_path)
    try:
        if target.read_text("utf-8") == text:
            return False
    except (OSError, UnicodeDecodeError):
        pass
    try:
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=target.name + ".", suffix=".tmp")
    except OSError:
        return False
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, target)
    except OSError:
        Path(temporary).unlink(missing_ok=True)
        return False
    return True


def read_last_good(rules_path):
    """The text of the last good rules, or None when no valid rules file was ever read here."""
    try:
        return last_good_path(rules_path).read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


class WatchedFile:
    """A file of the data folder read again whenever it changes; when it is bad, its last good copy (or, if no
    valid file was ever read here, the defaults) stays in force. Never raises for a bad file.

    :param path: the file.
    :param read_file: ``read_file(data_folder)`` parses the file (saving its last good copy), or raises ``error_type``.
    :param read_text: ``read_text(text, name)`` parses a text, or raises ``error_type``.
    :param default: what is in force when neither the file nor a last good copy is valid.
    :param what: its name in messages ("rules", "messages").
    """

    def __init__(self, path, read_file, read_text, error_type, default, what):
        self.path = Path(path)
        self.read_file, self.read_text, self.error_type = read_file, read_text, error_type
        self.default, self.what = default, what
        self.value = default
        self.error = ""
        self._mtime = None

    def current(self):
        """What is in force now (the file read again if it changed since the last look)."""
        try:
            mtime = os.stat(self.path).st_mtime_ns
        except OSError:
            mtime = None
        if mtime != self._mtime:
            self._mtime = mtime
            try:
                self.value = self.read_file(self.path.parent)
                self.error = ""
            except self.error_type as error:
                self.value, kept = self._fallback()
                self.error = f"{error}; {kept}"
                log.error("%s not reloaded: %s", self.what, printable(self.error))
        return self.value

    def _fallback(self):
        text = read_last_good(self.path)
        if text is not None:
            try:
                return self.read_text(text, str(self.path)), f"the last good {self.what} stay in force"
            except self.error_type:
                pass
        return self.default, f"no valid {self.what} file was ever read here, so the default {self.what} apply"
