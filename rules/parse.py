"""Reading the service rules the business writes (``rules.toml`` in the data folder).

Example::

    [key_accounts]                  # calls of these customers or products get at least this priority
    customers = ["ACC-1001"]
    products = ["Cisco AnyConnect VPN"]
    priority = "high"

    [escalation_hours]              # an open or pending call older than this is escalated
    urgent = 1
    high = 4
    normal = 24
    low = 72

    [notify]                        # where escalations are announced
    log = true
    webhook = "https://hooks.example.com/kb"

    [follow_ups]                    # a promise still open this long after its time is escalated
    escalate_after_minutes = 30

    [notify_customer]               # where each change of a call's status is sent for its customer
    webhook = "https://hooks.example.com/customers"

The file is read again whenever it changes; a bad file is refused with one log line naming the line at
fault, and the last good rules (``rules.last_good``, shared by every process) stay in force, from the first
start on.
"""

import logging
import os
import re
import tomllib
from dataclasses import dataclass, field

from notify.urls import WebhookUrlError, check_webhook_url
from rules.last_good import WatchedFile, save_last_good
from store.records import PRIORITIES

log = logging.getLogger(__name__)
RULES_FILE = "rules.toml"
_KNOWN = {
    "key_accounts": {"customers", "products", "priority"},
    "escalation_hours": set(PRIORITIES),
    "notify": {"log", "webhook"},
    "follow_ups": {"escalate_after_minutes"},
    "notify_customer": {"webhook"},
}
_TOML_LINE = re.compile(r"line (\d+)")


class RulesFileError(ValueError):
    """The rules file is invalid; the message names the file and line."""


@dataclass(frozen=True)
class Rules:
    """The service rules in force."""

    key_customers: frozenset = frozenset()
    key_products: frozenset = frozenset()
    key_priority: str = "high"
    escalation_hours: dict = field(default_factory=dict)
    notify_log: bool = True
    webhook: str = ""
    # None: overdue follow-ups are shown as overdue but not escalated (no [follow_ups] section).
    follow_up_escalate_after_minutes: float | None = None
    # Where a call's changes of status are sent for its customer ("": nowhere).
    customer_webhook: str = ""


def line_of(text, table, key):
    """The line of ``key =`` in ``[table]`` (a top-level key when table is empty), or of ``[key]`` itself."""
    current = ""
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            current = stripped.strip("[] ")
            if not table and current == key:
                return number
        elif current == table and re.match(rf"{re.escape(key)}\s*=", stripped):
            return number
    return 1


def parse_rules(text, path="rules.toml"):
    """Validate rules text and return the :class:`Rules`.

    :param text: the file's content.
    :param path: the name used in messages.
    :raises RulesFileError: naming the line at fault and what to write instead.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line = _TOML_LINE.search(str(error))
        raise RulesFileError(f"{path}:{line.group(1) if line else 1}: not valid TOML: {error}") from None
    except RecursionError:
        raise RulesFileError(f"{path}:1: arrays or tables nested too deeply to read") from None

    def fail(table, key, message):
        raise RulesFileError(f"{path}:{line_of(text, table, key)}: {message}")

    for table, value in data.items():
        if table not in _KNOWN or not isinstance(value, dict):
            fail("", table, f"unknown section [{table}]: use {', '.join(f'[{t}]' for t in _KNOWN)}")
        for key in value:
            if key not in _KNOWN[table]:
                fail(table, key, f"unknown key '{key}' in [{table}]: use {', '.join(sorted(_KNOWN[table]))}")
    accounts = data.get("key_accounts", {})
    for key in ("customers", "products"):
        value = accounts.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
            fail("key_accounts", key, f"'{key}' must be a list of strings, e.g. {key} = [\"...\"]")
    priority = accounts.get("priority", "high")
    if priority not in PRIORITIES:
        fail("key_accounts", "priority", f"'priority' must be one of {', '.join(PRIORITIES)}")
    hours = data.get("escalation_hours", {})
    for name, value in hours.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            fail("escalation_hours", name, f"'{name}' must be a positive number of hours")
    notify = data.get("notify", {})
    if not isinstance(notify.get("log", True), bool):
        fail("notify", "log", "'log' must be true or false")
    webhook, customer_webhook = notify.get("webhook", ""), data.get("notify_customer", {}).get("webhook", "")
    for table, url in (("notify", webhook), ("notify_customer", customer_webhook)):
        if url != "":
            try:
                check_webhook_url(url)
            except WebhookUrlError as error:
                fail(table, "webhook", f"'webhook' {error}")
    after = data.get("follow_ups", {}).get("escalate_after_minutes")
    if after is not None and (isinstance(after, bool) or not isinstance(after, (int, float)) or after < 0):
        fail("follow_ups", "escalate_after_minutes", "'escalate_after_minutes' must be a number of minutes (0 or more)")
    return Rules(
        follow_up_escalate_after_minutes=None if after is None else float(after),
        key_customers=frozenset(accounts.get("customers", [])),
        key_products=frozenset(accounts.get("products", [])),
        key_priority=priority,
        escalation_hours={name: float(value) for name, value in hours.items()},
        notify_log=notify.get("log", True),
        webhook=webhook,
        customer_webhook=customer_webhook,
    )


class RulesFile(WatchedFile):
    """The rules in force, read again when ``rules.toml`` changes; the last good ones survive a bad file."""

    def __init__(self, data_folder):
        super().__init__(data_folder / RULES_FILE, parse_rules_file, parse_rules, RulesFileError, Rules(), "rules")

    @property
    def rules(self):
        """The rules in force as last read (see :meth:`current`)."""
        return self.value


def read_rules_text(path):
    """The text of a rules file.

    :raises RulesFileError: saying why it cannot be read (a folder, no permission, not UTF-8).
    """
    try:
        return path.read_text("utf-8")
    except IsADirectoryError:
        raise RulesFileError(f"{path}: is a folder, not a file") from None
    except UnicodeDecodeError as error:
        raise RulesFileError(f"{path}: is not UTF-8 text (byte {error.start})") from None
    except OSError as error:
        raise RulesFileError(f"{path}: cannot be read ({error.strerror or type(error).__name__})") from None


def parse_rules_file(data_folder):
    """The rules of a data folder (default rules when it has no rules file); a valid file is kept as the last good.

    :raises RulesFileError: when the file is invalid or cannot be read.
    """
    path = data_folder / RULES_FILE
    if not os.path.lexists(path):
        return Rules()
    text = read_rules_text(path)
    rules = parse_rules(text, str(path))
    save_last_good(path, text)
    return rules
