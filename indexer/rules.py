"""Service rules written by the business (``rules.toml`` in the data folder), applied on every write.

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

The file is read again whenever it changes; a bad file is refused with the line at fault
and the last good rules stay in force.
"""

import json
import logging
import os
import re
import tomllib
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from indexer.records import PRIORITIES, status_of

log = logging.getLogger(__name__)
RULES_FILE = "rules.toml"
_KNOWN = {
    "key_accounts": {"customers", "products", "priority"},
    "escalation_hours": set(PRIORITIES),
    "notify": {"log", "webhook"},
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
    return Rules(
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


def apply_on_write(records, rules):
    """Raise key accounts' calls to the key-account priority (never lower one); the same on every write path.

    :param records: clean records, changed in place.
    :param rules: the :class:`Rules` in force.
    :returns: the records.
    """
    floor = PRIORITIES.index(rules.key_priority)
    for record in records:
        extra = record["extra"]
        if extra.get("customer_id") in rules.key_customers or record["product"] in rules.key_products:
            current = extra.get("priority") or "normal"
            if PRIORITIES.index(current) < floor:
                extra["priority"] = rules.key_priority
    return records


def overdue(record, rules, now):
    """Whether an open or pending call has waited longer than its priority allows and is not escalated yet."""
    extra = record["extra"]
    if status_of(record) == "resolved" or extra.get("escalated_at"):
        return False
    limit = rules.escalation_hours.get(extra.get("priority") or "normal")
    opened = extra.get("opened_at") or record["created_at"]
    if not limit or not opened:
        return False
    try:
        opened_at = datetime.fromisoformat(opened.replace("Z", "+00:00"))
    except ValueError:
        return False
    if opened_at.tzinfo is None:
        opened_at = opened_at.replace(tzinfo=timezone.utc)
    return now - opened_at > timedelta(hours=limit)


def notify_escalations(records, rules):
    """Announce escalated calls: a log line each, and one webhook POST with all of them."""
    for record in records:
        if rules.notify_log:
            log.warning(
                "escalated %s (%s, %s priority, customer %s)",
                record["id"],
                record["title"][:80],
                record["extra"].get("priority", "normal"),
                record["extra"].get("customer_id", "-"),
            )
    if rules.webhook and records:
        body = json.dumps({"escalated": [{"id": r["id"], "title": r["title"], **r["extra"]} for r in records]})
        request = urllib.request.Request(
            rules.webhook, data=body.encode(), headers={"Content-Type": "application/json"}
        )
        try:
            urllib.request.urlopen(request, timeout=5).close()
        except OSError as error:
            log.error("escalation webhook %s failed: %s", rules.webhook, error)


@dataclass
class RulesOutcome:
    """What one run of the rules over the store changed."""

    reprioritized: list = field(default_factory=list)
    escalated: list = field(default_factory=list)


def apply_rules(store, rules, now=None):
    """Apply the rules to every open or pending call: key-account priority, then ageing.

    Safe to run any number of times: a call is escalated once, and unchanged calls are not written.

    :param store: the ``CallStore``.
    :param rules: the :class:`Rules` in force.
    :param now: the time ageing is measured at (default: now, UTC).
    :returns: a :class:`RulesOutcome`.
    """
    now = now or datetime.now(timezone.utc)
    stamp = now.isoformat(timespec="seconds").replace("+00:00", "Z")
    outcome, changed = RulesOutcome(), []
    for record in store.iter_records():
        if status_of(record) == "resolved":
            continue
        before = record["extra"].get("priority")
        apply_on_write([record], rules)
        touched = record["extra"].get("priority") != before
        if touched:
            outcome.reprioritized.append(record["id"])
        if overdue(record, rules, now):
            record["extra"]["escalated_at"] = stamp
            outcome.escalated.append(record)
            touched = True
        if touched:
            changed.append(record)
    if changed:
        store.upsert(changed, actor="rules")
    notify_escalations(outcome.escalated, rules)
    return outcome
