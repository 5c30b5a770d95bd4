"""The last good rules: a copy of the last valid ``rules.toml``, beside it, shared by every process.

Whenever a process reads a valid rules file it saves the text as ``rules.toml.last-good`` (atomically, and
only when it changed). A process that finds the file invalid, at its first start as after an edit, applies
that copy, so every worker of every start applies the same rules, and key accounts are never dropped to the
defaults because of a typo.
"""

import os
import tempfile
from pathlib import Path

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
