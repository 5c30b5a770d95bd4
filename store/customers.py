"""Customer records in the store (issue #18): the record, its edit history and the keys it is found by.

A mixin for every store, in portable SQL, like ``store.loop``: it reads through ``_rows(sql, params)`` and
writes through ``_transaction(work, feed=False)``, which runs ``work`` with a ``store.rows.SqlTransaction``.
A customer is one row holding the clean record as JSON; ``customer_keys`` holds what finds it: the account
number (``a:``), each phone number in E.164 (``p:``), each e-mail address (``e:``), and each word of the name
and the organisation as written (``n:``) and by its Metaphone (``m:``) and Soundex (``s:``) codes, with the
word itself, so the name guard runs on the keys alone (``engine.callers``).
"""

import json

from analyzers.names import name_codes, name_tokens, organisation_tokens
from store.base import utc_now
from store.customer_models import customer_hash
from store.follow_ups import FOLLOW_UP_TABLES, FollowUpStore
from store.loop import LOOP_COLUMNS
from store.outbox import forget_customer_statements
from store.records import content_hash
from store.rows import changed_fields, record_to_row

CUSTOMER_TABLES = (
    "CREATE TABLE IF NOT EXISTS customers (id TEXT PRIMARY KEY, record TEXT NOT NULL, content_hash TEXT NOT NULL,"
    " key_account INTEGER NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS customer_keys (key TEXT NOT NULL, customer_id TEXT NOT NULL, field TEXT NOT NULL,"
    " token TEXT NOT NULL)",
    # (key, customer_id): the lookups read the index alone, never the rows.
    "CREATE INDEX IF NOT EXISTS customer_keys_lookup ON customer_keys (key, customer_id)",
    "CREATE INDEX IF NOT EXISTS customer_keys_customer ON customer_keys (customer_id)",
    "CREATE INDEX IF NOT EXISTS customers_key_account ON customers (key_account)",
    "CREATE TABLE IF NOT EXISTS customer_history (customer_id TEXT NOT NULL, at TEXT NOT NULL, actor TEXT NOT NULL,"
    " op TEXT NOT NULL, changes TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS customer_history_customer ON customer_history (customer_id, at)",
)
NAME_FIELDS = ("name", "organisation")
_CHUNK = 500


def customer_keys(record):
    """The ``(key, field, token)`` rows a customer is found by.

    :param record: a clean customer record.
    :returns: a sorted list without repeats, e.g. ``("m:SM0", "name", "smith")`` for John Smith.
    """
    account = record["id"].lower()
    keys = {("a:" + account, "id", account)}
    keys.update(("p:" + phone, "phone", phone) for phone in record["phones"])
    keys.update(("e:" + email, "email", email) for email in record["emails"])
    for field, tokens in (
        ("name", name_tokens(record["name"])),
        ("organisation", organisation_tokens(record["organisation"])),
    ):
        for token in tokens:
            keys.add(("n:" + token, field, token))
            for prefix, code in zip(("m:", "s:"), name_codes(token)):
                if code:
                    keys.add((prefix + code, field, token))
    return sorted(keys)


def _chunks(items):
    items = list(items)
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _marks(items):
    return ",".join("?" * len(items))


class CustomerStore(FollowUpStore):
    """Customer records, their history and their lookup keys (see module docstring); promised follow-ups."""

    def _customer_schema_statements(self, postgres=False):
        """The tables of customers and follow-ups; on PostgreSQL also the columns that stores made before lack
        (SQLite has no ``ADD COLUMN IF NOT EXISTS``: its store adds ``LOOP_COLUMNS`` after a look)."""
        upgrades = [f"ALTER TABLE {t} ADD COLUMN IF NOT EXISTS {c} {kind}" for t, c, kind in LOOP_COLUMNS]
        return [(sql, ()) for sql in CUSTOMER_TABLES + FOLLOW_UP_TABLES + tuple(upgrades if postgres else ())]

    def upsert_customers(self, records, actor="system"):
        """Insert or update clean customer records in one transaction; unchanged ones are left alone.

        :param records: records from ``store.customer_models.validate_customer``.
        :param actor: who made the change, kept in the history.
        :returns: ``{"inserted", "updated", "unchanged", "ids"}``.
        """
        now = utc_now()

        def work(tx):
            existing = self._stored_customers(tx, [record["id"] for record in records])
            summary = {"inserted": 0, "updated": 0, "unchanged": 0, "ids": []}
            for record in records:
                digest = customer_hash(record)
                old = existing.get(record["id"])
                if old is not None and old["content_hash"] == digest:
                    summary["unchanged"] += 1
                    continue
                stored = {**record, "created_at": old["created_at"] if old else record["created_at"] or now}
                stored["updated_at"] = now
                self._write_customer(tx, stored, digest, old, actor, now)
                existing[record["id"]] = {"content_hash": digest, "created_at": stored["created_at"], "record": stored}
                summary["updated" if old else "inserted"] += 1
                summary["ids"].append(record["id"])
            return summary

        return self._transaction(work)

    @staticmethod
    def _stored_customers(tx, ids):
        found = {}
        for chunk in _chunks(dict.fromkeys(ids)):
            for row in tx.rows(f"SELECT * FROM customers WHERE id IN ({_marks(chunk)})", chunk):
                found[row["id"]] = {**row, "record": json.loads(row["record"])}
        return found

    @staticmethod
    def _write_customer(tx, stored, digest, old, actor, now):
        text = json.dumps(stored, ensure_ascii=False, sort_keys=True)
        values = (text, digest, 1 if stored["key_account"] else 0, stored["created_at"], now, stored["id"])
        if old is None:
            tx.run(
                "INSERT INTO customers (record, content_hash, key_account, created_at, updated_at, id)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                values,
            )
            changes = {}
        else:
            tx.run(
                "UPDATE customers SET record = ?, content_hash = ?, key_account = ?, created_at = ?, updated_at = ?"
                " WHERE id = ?",
                values,
            )
            changes = changed_fields(_without_stamps(old["record"]), _without_stamps(stored))
        tx.run(
            "INSERT INTO customer_history (customer_id, at, actor, op, changes) VALUES (?, ?, ?, ?, ?)",
            (stored["id"], now, actor, "update" if old else "create", json.dumps(changes, ensure_ascii=False)),
        )
        tx.run("DELETE FROM customer_keys WHERE customer_id = ?", (stored["id"],))
        tx.run_many(
            "INSERT INTO customer_keys (key, customer_id, field, token) VALUES (?, ?, ?, ?)",
            [(key, stored["id"], field, token) for key, field, token in customer_keys(stored)],
        )

    def get_customer(self, customer_id):
        """One customer record by id, or None."""
        rows = self._rows("SELECT record FROM customers WHERE id = ?", (customer_id,))
        return json.loads(rows[0]["record"]) if rows else None

    def get_customers(self, customer_ids):
        """Customer records by id: a dict from id to record, unknown ids left out."""
        found = {}
        for chunk in _chunks(dict.fromkeys(customer_ids)):
            for row in self._rows(f"SELECT id, record FROM customers WHERE id IN ({_marks(chunk)})", chunk):
                found[row["id"]] = json.loads(row["record"])
        return found

    def iter_customers(self, batch_size=1000):
        """Every customer record in id order, read in batches."""
        last_id = ""
        while True:
            rows = self._rows(
                "SELECT id, record FROM customers WHERE id > ? ORDER BY id LIMIT ?", (last_id, batch_size)
            )
            if not rows:
                return
            yield from (json.loads(row["record"]) for row in rows)
            last_id = rows[-1]["id"]

    def count_customers(self):
        """How many customers the store holds."""
        return self._rows("SELECT COUNT(*) AS n FROM customers", ())[0]["n"]

    def customer_history(self, customer_id):
        """The edit history of one customer, oldest first."""
        rows = self._rows(
            "SELECT at, actor, op, changes FROM customer_history WHERE customer_id = ? ORDER BY at, op", (customer_id,)
        )
        return [{**row, "changes": json.loads(row["changes"])} for row in rows]

    def key_account_ids(self, customer_ids=None):
        """The ids of key-account customers: all of them, or those among ``customer_ids``.

        :returns: a frozenset.
        """
        if customer_ids is None:
            return frozenset(row["id"] for row in self._rows("SELECT id FROM customers WHERE key_account = 1", ()))
        found = set()
        for chunk in _chunks(dict.fromkeys(cid for cid in customer_ids if cid)):
            sql = f"SELECT id FROM customers WHERE key_account = 1 AND id IN ({_marks(chunk)})"
            found.update(row["id"] for row in self._rows(sql, chunk))
        return frozenset(found)

    def customer_key_rows(self, keys):
        """The key rows (key, customer_id, field, token) whose key is one of ``keys``."""
        found = []
        for chunk in _chunks(dict.fromkeys(keys)):
            sql = f"SELECT key, customer_id, field, token FROM customer_keys WHERE key IN ({_marks(chunk)})"
            found.extend(self._rows(sql, chunk))
        return found

    def customers_with_every(self, key_groups, limit):
        """Ids of customers that have a key of each group (at most ``limit``), e.g. one group per word heard.

        :param key_groups: lists of keys (at most 500 keys in all).
        :returns: a list of ids.
        """
        parts = " INTERSECT ".join(
            f"SELECT customer_id FROM customer_keys WHERE key IN ({_marks(group)})" for group in key_groups
        )
        params = [key for group in key_groups for key in group]
        return [row["customer_id"] for row in self._rows(f"{parts} LIMIT ?", (*params, limit))]

    def key_rows_of(self, customer_ids, keys):
        """The key rows of these customers whose key is one of ``keys``."""
        found, keys = [], list(dict.fromkeys(keys))
        for chunk in _chunks(dict.fromkeys(customer_ids)):
            sql = (
                "SELECT key, customer_id, field, token FROM customer_keys"
                f" WHERE customer_id IN ({_marks(chunk)}) AND key IN ({_marks(keys)})"
            )
            found.extend(self._rows(sql, (*chunk, *keys)))
        return found

    def erase_customer(self, customer_id, anonymised_calls, actor="erase", rewrite_message=None):
        """Remove a customer (record, keys, history, follow-ups, the messages sent or queued for them and their
        delivery log) and rewrite their calls anonymised, in one
        transaction; each call's change enters the feed (so every index follows) and its history is replaced
        by one entry saying it was anonymised.

        :param anonymised_calls: the customer's calls as clean records, already anonymised.
        :param rewrite_message: ``rewrite_message(payload)`` gives the payload of an outbox message that names the
            customer (a team's escalation notice, say) without them, or None to leave it; it is rewritten in the
            same transaction.
        :returns: the highest change sequence number written.
        """
        now = utc_now()

        def work(tx):
            for record in anonymised_calls:
                seq = tx.rows(
                    "INSERT INTO changes (call_id, op, at) VALUES (?, 'upsert', ?) RETURNING seq", (record["id"], now)
                )[0]["seq"]
                row = record_to_row(record, content_hash(record), seq, now)
                columns = [name for name in row if name not in ("id", "version")]
                assignments = ", ".join([*(f"{name} = ?" for name in columns), "version = version + 1"])
                tx.run(
                    f"UPDATE calls SET {assignments} WHERE id = ?",
                    (*(row[name] for name in columns), record["id"]),
                )
                tx.run("DELETE FROM call_history WHERE call_id = ?", (record["id"],))
                tx.run(
                    "INSERT INTO call_history (call_id, at, actor, op, changes) VALUES (?, ?, ?, 'anonymise', '{}')",
                    (record["id"], now, actor),
                )
                tx.run("DELETE FROM follow_ups WHERE call_id = ?", (record["id"],))
            for table, column in (
                ("customers", "id"),
                ("customer_keys", "customer_id"),
                ("customer_history", "customer_id"),
                ("follow_ups", "customer_id"),
            ):
                tx.run(f"DELETE FROM {table} WHERE {column} = ?", (customer_id,))
            for sql, params in forget_customer_statements(customer_id):
                tx.run(sql, params)
            if rewrite_message is not None:
                named = f"%{json.dumps(customer_id, ensure_ascii=False)}%"
                for row in tx.rows("SELECT id, payload FROM outbox WHERE payload LIKE ?", (named,)):
                    payload = rewrite_message(json.loads(row["payload"]))
                    if payload is not None:
                        tx.run(
                            "UPDATE outbox SET payload = ? WHERE id = ?",
                            (json.dumps(payload, ensure_ascii=False), row["id"]),
                        )
            return tx.rows("SELECT COALESCE(MAX(seq), 0) AS seq FROM changes", ())[0]["seq"]

        return self._transaction(work, feed=True)

    def calls_of_customer(self, customer_id):
        """Every stored call whose ``customer_id`` is this one (read from the whole store: for export and erase)."""
        return [record for record in self.iter_records() if (record["extra"] or {}).get("customer_id") == customer_id]


def _without_stamps(record):
    return {key: value for key, value in record.items() if key not in ("created_at", "updated_at")}
