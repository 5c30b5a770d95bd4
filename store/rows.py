"""Pure helpers every SQL store shares: key digests, and call rows to and from records.

Both stores keep a call in the same row shape (tags and extras as JSON text, ``resolved`` as 0/1,
times as ISO 8601 text in UTC), so these functions serve SQLite and PostgreSQL alike.
"""

import hashlib
import json

RECORD_TEXT_COLUMNS = ("id", "title", "problem", "resolution", "product", "category", "created_at")


def hash_key(secret):
    """The digest under which an API key is stored."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def row_to_record(row):
    """A clean record from a ``calls`` row (any mapping with the column names as keys)."""
    return {
        "id": row["id"],
        "title": row["title"] or "",
        "problem": row["problem"] or "",
        "resolution": row["resolution"] or "",
        "product": row["product"] or "",
        "category": row["category"] or "",
        "tags": json.loads(row["tags"] or "[]"),
        "created_at": row["created_at"] or "",
        "resolved": bool(row["resolved"]),
        "extra": json.loads(row["extra"] or "{}"),
    }


def record_to_row(record, digest, seq, now):
    """The ``calls`` row of a clean record, stamped with its digest, change number and time."""
    return {
        **{key: record[key] for key in RECORD_TEXT_COLUMNS},
        "tags": json.dumps(record["tags"], ensure_ascii=False),
        "resolved": 1 if record["resolved"] else 0,
        "extra": json.dumps(record["extra"], ensure_ascii=False, sort_keys=True),
        "content_hash": digest,
        "seq": seq,
        "updated_at": now,
    }


def changed_fields(old, new):
    """What changed between two records, as ``{field: [old, new]}``, extras compared field by field.

    The edit history keeps it, so a change of an extra (status, priority...) names that field.
    """
    flat_old = {**{k: v for k, v in old.items() if k != "extra"}, **(old.get("extra") or {})}
    flat_new = {**{k: v for k, v in new.items() if k != "extra"}, **(new.get("extra") or {})}
    return {
        key: [flat_old.get(key), flat_new.get(key)]
        for key in sorted(flat_old.keys() | flat_new.keys())
        if flat_old.get(key) != flat_new.get(key)
    }


class SqlTransaction:
    """Portable SQL (``?`` placeholders) run inside one open transaction, for the store mixins.

    :param conn: the store's connection (sqlite3's, or psycopg's in a transaction block).
    :param translate: turns portable SQL into the driver's (the identity for SQLite).
    """

    def __init__(self, conn, translate):
        self.conn = conn
        self.translate = translate

    def rows(self, sql, params=()):
        """Run a query and fetch every row as a dict."""
        return [dict(row) for row in self.conn.execute(self.translate(sql), params).fetchall()]

    def run(self, sql, params=()):
        """Run a statement; returns how many rows it changed."""
        return self.conn.execute(self.translate(sql), params).rowcount

    def run_many(self, sql, params_seq):
        """Run a statement once per parameter tuple."""
        params_seq = list(params_seq)
        if params_seq:
            self.conn.cursor().executemany(self.translate(sql), params_seq)
