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

The file is read again whenever it changes; a bad file is refused with the line at fault
and the last good rules stay in force.
"""

import logging
import os
import re
import tomllib
from dataclasses import dataclass, field

from store.records import PRIORITIES

log = logging.getLogger(__name__)
RULES_FILE = "rules.toml"
_KNOWN = {
    "key_accounts": {"customers", "products", "priority"},
    "escalation_hours": set(PRIORITIES),
    "notify": {"log", "webhook"},
    "follow_ups": {"escalate_after_minutes"},
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


def _line_of(text, table, key):
    """The line of ``key =`` in ``[table]`` (or of ``[key]`` itself when table is empty)."""
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

    def fail(table, key, message):
        raise RulesFileError(f"{path}:{_line_of(text, table, key)}: {message}")

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
    webhook = notify.get("webhook", "")
    if not isinstance(webhook, str) or (webhook and not webhook.startswith(("http://", "https://"))):
        fail("notify", "webhook", "'webhook' must be an http:// or https:// URL")
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
    )


class RulesFile:
    """The rules in force, read again when ``rules.toml`` changes; the last good ones survive a bad edit."""

    def __init__(self, data_folder):
        self.path = data_folder / RULES_FILE
        self._mtime = None
        self.rules = Rules()
        self.error = ""

    def current(self):
        """The rules in force now (reloading the file if it changed)."""
        try:
            mtime = os.stat(self.path).st_mtime_ns
        except OSError:
            mtime = None
        if mtime != self._mtime:
            self._mtime = mtime
            try:
                self.rules = parse_rules_file(self.path.parent)
                self.error = ""
            except (RulesFileError, UnicodeDecodeError) as error:
                self.error = str(error)
                log.error("rules not reloaded, the last good rules stay in force: %s", error)
        return self.rules


def parse_rules_file(data_folder):
    """The rules of a data folder (default rules when it has no rules file).

    :raises RulesFileError: when the file is invalid.
    """
    path = data_folder / RULES_FILE
    if not path.exists():
        return Rules()
    return parse_rules(path.read_text("utf-8"), str(path))
