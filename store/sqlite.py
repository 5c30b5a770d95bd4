"""The embedded store: one SQLite file in WAL mode, written through sqlite-utils."""

import itertools
import json
import os
import sqlite3
import threading
from contextlib import contextmanager

import sqlite_utils

from store.base import CallNotFoundError, CallStore, StoreUnavailableError, WriteSummary, utc_now
from store.customers import CustomerStore
from store.keys import ADDED_KEY_COLUMNS, ApiKeyStore
from store.loop import LOOP_COLUMNS, KnowledgeLoopStore
from store.outbox import (
    ADDED_OUTBOX_COLUMNS,
    ENQUEUE,
    OUTBOX_SUBJECT_INDEXES,
    OutboxStore,
    enqueue_params,
    messages_for,
)
from store.rows import SqlTransaction, row_version, upsert_call_sql
from store.rows import row_to_record as _row_to_record
from store.writes import WritePlan, current_calls

# 2: calls carry a version (added to the calls of a store made before).
SCHEMA_VERSION = 2
BUSY_TIMEOUT_MS = 30_000
# SQLite's default: a commit that leaves the write-ahead log this many pages long copies it into the database.
AUTOCHECKPOINT_PAGES = 1000
_ID_CHUNK = 500
UPSERT_CALL = upsert_call_sql("?")
INSERT_HISTORY = "INSERT INTO call_history (call_id, at, actor, op, changes) VALUES (?, ?, ?, ?, ?)"


class SqliteCallStore(CustomerStore, KnowledgeLoopStore, ApiKeyStore, OutboxStore, CallStore):
    """Call records in one SQLite file; one connection per thread."""

    def __init__(self, path):
        self.path = path
        self._local = threading.local()
        self._autocheckpoint_pages = AUTOCHECKPOINT_PAGES

    def __reduce__(self):
        """A store goes to another process as its file's path, and opens its own connection there."""
        return type(self), (self.path,)

    def _db(self):
        if getattr(self._local, "pid", None) != os.getpid():
            # A connection must never cross a fork (gunicorn preloads the app in its master).
            self._local.db = None
            self._local.pid = os.getpid()
        db = getattr(self._local, "db", None)
        if db is None:
            conn = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute(f"PRAGMA wal_autocheckpoint = {self._autocheckpoint_pages}")
            db = sqlite_utils.Database(conn)
            self._local.db = db
        return db

    @contextmanager
    def _write_transaction(self):
        db = self._db()
        try:
            db.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            raise StoreUnavailableError(f"the store is busy or unreachable: {error}") from error
        try:
            yield db
        except BaseException:
            db.conn.execute("ROLLBACK")
            raise
        db.conn.execute("COMMIT")

    def migrate(self):
        """Create the tables and indexes that are missing; safe to run again."""
        db = self._db()
        if db.journal_mode != "wal":
            db.enable_wal()
        if "calls" not in db.table_names():
            db["calls"].create(
                {
                    "id": str,
                    "title": str,
                    "problem": str,
                    "resolution": str,
                    "product": str,
                    "category": str,
                    "tags": str,
                    "created_at": str,
                    "resolved": int,
                    "extra": str,
                    "content_hash": str,
                    "seq": int,
                    "updated_at": str,
                    "version": int,
                },
                pk="id",
                not_null={"version"},
                defaults={"version": 1},
            )
            db["calls"].create_index(["seq"])
        elif "version" not in db["calls"].columns_dict:
            db.execute("ALTER TABLE calls ADD COLUMN version INTEGER NOT NULL DEFAULT 1")
        if "changes" not in db.table_names():
            db.execute(
                "CREATE TABLE changes (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
                " call_id TEXT NOT NULL, op TEXT NOT NULL, at TEXT NOT NULL)"
            )
        if "call_history" not in db.table_names():
            db["call_history"].create(
                {"id": int, "call_id": str, "at": str, "actor": str, "op": str, "changes": str}, pk="id"
            )
            db["call_history"].create_index(["call_id"])
        if "feedback" not in db.table_names():
            db["feedback"].create({"id": int, "call_id": str, "query": str, "at": str, "source": str}, pk="id")
            db["feedback"].create_index(["call_id"])
        if "api_keys" not in db.table_names():
            db["api_keys"].create(
                {"id": str, "key_hash": str, "role": str, "name": str, "created_at": str, "revoked_at": str},
                pk="id",
            )
            db["api_keys"].create_index(["key_hash"], unique=True)
        for column, definition in ADDED_KEY_COLUMNS.items():
            if column not in db["api_keys"].columns_dict:
                db.execute(f"ALTER TABLE api_keys ADD COLUMN {column} {definition}")
        for sql, params in (
            self._loop_schema_statements() + self._outbox_schema_statements() + self._customer_schema_statements()
        ):
            db.execute(sql, params)
        added = [(table, column, kind) for table, column, kind in LOOP_COLUMNS]
        added += [("outbox", column, kind) for column, kind in ADDED_OUTBOX_COLUMNS.items()]
        for table, column, kind in added:
            if column not in db[table].columns_dict:  # a store made before the column was added
                db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        for sql in OUTBOX_SUBJECT_INDEXES:
            db.execute(sql)
        if "meta" not in db.table_names():
            db["meta"].create({"key": str, "value": str}, pk="key")
        db.conn.commit()
        db["meta"].upsert({"key": "schema_version", "value": str(SCHEMA_VERSION)}, pk="key")
        db.conn.commit()

    def _existing_rows(self, db, call_ids):
        found = {}
        for start in range(0, len(call_ids), _ID_CHUNK):
            chunk = call_ids[start : start + _ID_CHUNK]
            placeholders = ",".join("?" * len(chunk))
            for row in db.execute(f"SELECT * FROM calls WHERE id IN ({placeholders})", chunk).fetchall():
                found[row["id"]] = row
        return found

    def upsert(self, records, actor="system", expected=None, messages=()):
        """Insert or update records in one transaction, each change logged in the feed.

        The records are digested and compared with the stored calls before the write lock is taken, so a
        large import holds it only to re-check the calls written meanwhile and to write its rows.

        :param records: clean records (``records.validate_record``).
        :param actor: who made the change, kept in the edit history of updated calls.
        :param expected: compare-and-set versions by id (see ``CallStore.upsert``).
        :param messages: ``OutboxMessage`` notifications the change causes, committed with it; or a function
            of the write's ``WriteSummary`` giving them (for messages about what was written, not conflicts).
        :returns: a :class:`WriteSummary`.
        :raises StoreUnavailableError: when the store stays locked past the busy timeout.
        """
        now = utc_now()
        plan = WritePlan.prepare(records, expected)
        ids = plan.ids()
        read_at = self._latest_seq(self._db())
        plan.decide(current_calls(self._existing_rows(self._db(), ids).values()), now, actor)
        with self._write_transaction() as db:
            latest = self._latest_seq(db)
            if latest != read_at:
                # Calls written since the first reading: plan those records again, now under the lock.
                moved = self._changed_among(db, read_at, latest, ids)
                if moved:
                    plan.decide(current_calls(self._existing_rows(db, sorted(moved)).values()), now, actor, moved)
            rows, changes, history = plan.writes(itertools.count(latest + 1))
            if rows:
                db.conn.executemany(
                    "INSERT INTO changes (seq, call_id, op, at) VALUES (?, ?, 'upsert', ?)",
                    [(seq, call_id, now) for seq, call_id in changes],
                )
                db.conn.executemany(UPSERT_CALL, rows)
            if history:
                db.conn.executemany(INSERT_HISTORY, history)
            summary = plan.summary(latest, changes)
            for message in messages_for(messages, summary):
                db.execute(ENQUEUE, enqueue_params(message, now))
        return summary

    def _changed_among(self, db, after_seq, upto_seq, call_ids):
        """Which of ``call_ids`` were written or deleted in (after_seq, upto_seq]: by reading those changes when
        they are fewer than the ids, else by looking the ids up in them (an agent's one call written just after
        a 100,000-call import must not read the import's 100,000 changes while it holds the write lock)."""
        if upto_seq - after_seq <= len(call_ids):
            return set(self.changed_ids(after_seq, upto_seq)) & set(call_ids)
        found = set()
        for start in range(0, len(call_ids), _ID_CHUNK):
            chunk = call_ids[start : start + _ID_CHUNK]
            placeholders = ",".join("?" * len(chunk))
            sql = f"SELECT DISTINCT call_id FROM changes WHERE seq > ? AND seq <= ? AND call_id IN ({placeholders})"
            found.update(row["call_id"] for row in db.execute(sql, (after_seq, upto_seq, *chunk)).fetchall())
        return found

    def delete(self, call_id, actor="system", expected=None):
        """Delete one call; the deletion enters the feed and the history.

        :param expected: the version the caller read, or None (see ``CallStore.delete``).
        :raises CallNotFoundError: when no call has that id.
        """
        now = utc_now()
        with self._write_transaction() as db:
            row = db.execute("SELECT * FROM calls WHERE id = ?", (call_id,)).fetchone()
            if row is None:
                raise CallNotFoundError(call_id)
            if expected is not None and expected != row_version(row):
                return WriteSummary(latest_seq=self._latest_seq(db), conflicts={call_id: row_version(row)})
            db.execute("DELETE FROM calls WHERE id = ?", (call_id,))
            db.execute("INSERT INTO changes (call_id, op, at) VALUES (?, 'delete', ?)", (call_id, now))
            db.execute(
                INSERT_HISTORY,
                (call_id, now, actor, "delete", json.dumps(_row_to_record(row), ensure_ascii=False)),
            )
            latest = self._latest_seq(db)
        return WriteSummary(deleted=1, latest_seq=latest, written_ids=[call_id])

    def get(self, call_id):
        """One clean record by id, or None."""
        row = self._db().execute("SELECT * FROM calls WHERE id = ?", (call_id,)).fetchone()
        return None if row is None else _row_to_record(row)

    def get_versioned(self, call_id):
        """One clean record by id with its version, or None."""
        row = self._db().execute("SELECT * FROM calls WHERE id = ?", (call_id,)).fetchone()
        return None if row is None else (_row_to_record(row), row_version(row))

    def get_many(self, call_ids):
        """Clean records by id; unknown ids are left out."""
        rows = self._existing_rows(self._db(), list(call_ids))
        return {call_id: _row_to_record(row) for call_id, row in rows.items()}

    def count(self):
        """How many calls the store holds."""
        return self._db().execute("SELECT COUNT(*) FROM calls").fetchone()[0]

    @staticmethod
    def _latest_seq(db):
        return db.execute("SELECT COALESCE(MAX(seq), 0) FROM changes").fetchone()[0]

    def latest_seq(self):
        """The highest change sequence number written so far (0 when none)."""
        return self._latest_seq(self._db())

    def changed_ids(self, after_seq, upto_seq):
        """Ids written or deleted in (after_seq, upto_seq], in order of their last change."""
        rows = (
            self._db()
            .execute(
                "SELECT call_id, MAX(seq) AS last FROM changes WHERE seq > ? AND seq <= ?"
                " GROUP BY call_id ORDER BY last",
                (after_seq, upto_seq),
            )
            .fetchall()
        )
        return [row["call_id"] for row in rows]

    def change_time(self, seq):
        """When the change with this sequence number was written (ISO 8601 text), or None."""
        row = self._db().execute("SELECT at FROM changes WHERE seq = ?", (seq,)).fetchone()
        return row["at"] if row else None

    def iter_records(self, batch_size=1000):
        """Every record in id order, read in batches so memory stays flat."""
        for record, _version in self.iter_versioned(batch_size):
            yield record

    def iter_versioned(self, batch_size=1000):
        """Every record with its version, as ``(record, version)``, in id order, read in batches."""
        last_id = ""
        db = self._db()
        while True:
            rows = db.execute("SELECT * FROM calls WHERE id > ? ORDER BY id LIMIT ?", (last_id, batch_size)).fetchall()
            if not rows:
                return
            for row in rows:
                yield _row_to_record(row), row_version(row)
            last_id = rows[-1]["id"]

    def content_hashes(self):
        """A dict from every call id to the digest of its current content."""
        return dict(self._db().execute("SELECT id, content_hash FROM calls").fetchall())

    def history(self, call_id):
        """The edit history of one call, oldest first."""
        rows = (
            self._db()
            .execute("SELECT at, actor, op, changes FROM call_history WHERE call_id = ? ORDER BY id", (call_id,))
            .fetchall()
        )
        return [{"at": r["at"], "actor": r["actor"], "op": r["op"], "changes": json.loads(r["changes"])} for r in rows]

    def _rows(self, sql, params):
        return [dict(row) for row in self._db().execute(sql, params).fetchall()]

    def _run(self, statements):
        with self._write_transaction() as db:
            return [db.execute(sql, params).rowcount for sql, params in statements]

    def _transaction(self, work, feed=False):
        """Run ``work(SqlTransaction)`` in one write transaction (every SQLite write holds the feed's order)."""
        with self._write_transaction() as db:
            return work(SqlTransaction(db.conn, str))

    def backup_to(self, path):
        """Write a consistent copy of the store to ``path`` with SQLite's online backup."""
        target = sqlite3.connect(str(path))
        try:
            self._db().conn.backup(target)
        finally:
            target.close()

    def defer_checkpoints(self):
        """No commit of this process copies the write-ahead log into the database file on its way (SQLite does
        that in whichever connection commits past ``AUTOCHECKPOINT_PAGES``: after a 100,000-call import an agent's
        write paid half a second for it); :meth:`checkpoint`, from a background thread, does it instead."""
        self._autocheckpoint_pages = 0
        db = getattr(self._local, "db", None)
        if db is not None and getattr(self._local, "pid", None) == os.getpid():
            db.conn.execute("PRAGMA wal_autocheckpoint = 0")

    def checkpoint(self):
        """Copy the write-ahead log into the database file once the log file is ``AUTOCHECKPOINT_PAGES`` pages long
        or more, without waiting for readers or blocking writers (a passive checkpoint: SQLite's own, moved off
        requests). SQLite reuses a checkpointed log from its start rather than shrinking the file, so once it has
        grown every call asks; a checkpoint with nothing to copy costs a look at the log's index.

        :returns: True when a checkpoint was asked for.
        """
        try:
            size = os.path.getsize(f"{self.path}-wal")
        except OSError:
            return False
        if size < AUTOCHECKPOINT_PAGES * self._db().execute("PRAGMA page_size").fetchone()[0]:
            return False
        self._db().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        return True

    def close(self):
        """Close this thread's connection."""
        db = getattr(self._local, "db", None)
        if db is not None:
            db.conn.close()
            self._local.db = None
