"""What a customer is told when their call's status changes: ``customer_messages.toml`` in the data folder.

One message per change, each a line of text with placeholders::

    opened = "Hello {name}, we have opened call {call_id} about: {title}."
    pending = "Hello {name}, call {call_id} is waiting: {reason}."
    resolved = "Hello {name}, call {call_id} is resolved."
    escalated = "Hello {name}, call {call_id} has been passed to a senior engineer."

Placeholders: ``{name}`` (the customer's name), ``{call_id}``, ``{title}``, ``{status}`` and ``{reason}`` (why a
call is pending, its ``pending_reason``); ``{{`` and ``}}`` write a brace. A change the file leaves out, or the
whole file when it is absent, uses :data:`DEFAULT_MESSAGES`. As with ``rules.toml``, the file is read again
when it changes, a bad file is refused with one log line naming the line at fault, and the last good file
(``customer_messages.toml.last-good``) stays in force.
"""

import logging
import os
import re
import tomllib

from rules.last_good import WatchedFile, save_last_good
from rules.parse import RulesFileError, line_of, read_rules_text

log = logging.getLogger(__name__)
MESSAGES_FILE = "customer_messages.toml"
EVENTS = ("opened", "pending", "resolved", "escalated")
PLACEHOLDERS = ("name", "call_id", "title", "status", "reason")
DEFAULT_MESSAGES = {
    "opened": "Hello {name}, we have opened call {call_id} about: {title}.",
    "pending": "Hello {name}, call {call_id} is waiting: {reason}.",
    "resolved": "Hello {name}, call {call_id} is resolved. Reply to reopen it if the problem comes back.",
    "escalated": "Hello {name}, call {call_id} has been passed to a senior engineer.",
}
_FIELD = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
_TOML_LINE = re.compile(r"line (\d+)")


class CustomerMessagesError(RulesFileError):
    """The customer messages file is invalid; the message names the file and line."""


def render_message(template, values):
    """The text of a message: each ``{placeholder}`` replaced by its value, ``{{`` and ``}}`` by braces.

    :param template: a checked template (:func:`parse_customer_messages`).
    :param values: a dict from placeholder to text; a missing one gives "".
    :returns: the text, e.g. ``Hello Ann, call C-1 is resolved.``
    """

    def fill(match):
        if match.group(1) is None:
            return match.group(0)[0]
        return str(values.get(match.group(1)) or "")

    return _FIELD.sub(fill, template)


def _unknown_placeholder(template):
    rest = _FIELD.sub(lambda m: "" if m.group(1) is None or m.group(1) in PLACEHOLDERS else "\0", template)
    if "\0" in rest:
        return next(m.group(0) for m in _FIELD.finditer(template) if m.group(1) not in (None, *PLACEHOLDERS))
    if "{" in rest or "}" in rest:
        return "{" if "{" in rest else "}"
    return None


def parse_customer_messages(text, path=MESSAGES_FILE):
    """Validate the messages file's text and return the template of every change (defaults filled in).

    :raises CustomerMessagesError: naming the line at fault and what to write instead.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line = _TOML_LINE.search(str(error))
        raise CustomerMessagesError(f"{path}:{line.group(1) if line else 1}: not valid TOML: {error}") from None
    except RecursionError:
        raise CustomerMessagesError(f"{path}:1: nested too deeply to read") from None
    for key, template in data.items():
        where = f"{path}:{line_of(text, '', key)}"
        if key not in EVENTS:
            raise CustomerMessagesError(f"{where}: unknown message '{key}': use {', '.join(EVENTS)}")
        if not isinstance(template, str) or not template.strip():
            raise CustomerMessagesError(f"{where}: '{key}' must be a line of text, e.g. {key} = \"Hello {{name}}\"")
        unknown = _unknown_placeholder(template)
        if unknown:
            names = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
            raise CustomerMessagesError(
                f"{where}: '{key}' has {unknown}, which is no placeholder: use {names} ({{{{ and }}}} for braces)"
            )
    return {**DEFAULT_MESSAGES, **data}


def parse_customer_messages_file(data_folder):
    """The messages of a data folder (the defaults when it has no file); a valid file is kept as the last good.

    :raises CustomerMessagesError: when the file is invalid or cannot be read.
    """
    path = data_folder / MESSAGES_FILE
    if not os.path.lexists(path):
        return dict(DEFAULT_MESSAGES)
    try:
        text = read_rules_text(path)
    except RulesFileError as error:
        raise CustomerMessagesError(str(error)) from None
    messages = parse_customer_messages(text, str(path))
    save_last_good(path, text)
    return messages


class CustomerMessagesFile(WatchedFile):
    """The messages in force, read again when the file changes; the last good ones survive a bad file."""

    def __init__(self, data_folder):
        super().__init__(
            data_folder / MESSAGES_FILE,
            parse_customer_messages_file,
            parse_customer_messages,
            CustomerMessagesError,
            dict(DEFAULT_MESSAGES),
            "messages",
        )

    @property
    def messages(self):
        """The messages in force as last read (see :meth:`current`)."""
        return self.value
