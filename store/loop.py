"""What the knowledge loop keeps in the store: the search log, events, feedback, proposals.

A mixin for every store. It speaks portable SQL with ``?`` placeholders through two
methods each store provides: ``_rows(sql, params)`` (read, a list of dicts) and
``_run(statements)`` (a list of ``(sql, params)`` run in one write transaction).
Times are ISO 8601 text in UTC, so ``substr(at, 1, 10)`` is the day in every store.
"""

import json

from store.base import CallNotFoundError

LOOP_TABLES = {
    "search_log": (
        "CREATE TABLE IF NOT EXISTS search_log (search_id TEXT PRIMARY KEY, at TEXT NOT NULL, query TEXT NOT NULL,"
        " product TEXT, category TEXT, results INTEGER NOT NULL, took_ms REAL NOT NULL, session TEXT,"
        " channel TEXT, top_ids TEXT, contact_channel TEXT)"
    ),
    "search_events": (
        "CREATE TABLE IF NOT EXISTS search_events (search_id TEXT NOT NULL, call_id TEXT NOT NULL,"
        " kind TEXT NOT NULL, at TEXT NOT NULL, session TEXT)"
    ),
    "synonym_proposals": (
        "CREATE TABLE IF NOT EXISTS synonym_proposals (from_query TEXT NOT NULL, to_query TEXT NOT NULL,"
        " status TEXT NOT NULL, seen INTEGER NOT NULL, created_at TEXT NOT NULL, decided_at TEXT,"
        " decided_by TEXT, PRIMARY KEY (from_query, to_query))"
    ),
}
# Columns added after the first release: (table, column, type); each store adds them where missing.
LOOP_COLUMNS = (("search_log", "contact_channel", "TEXT"),)
LOOP_INDEXES = (
    "CREATE INDEX IF NOT EXISTS search_log_at ON search_log (at)",
    "CREATE INDEX IF NOT EXISTS search_log_session ON search_log (session, at)",
    "CREATE INDEX IF NOT EXISTS search_events_search ON search_events (search_id)",
)
FEEDBACK_WINDOW = 50_000


class KnowledgeLoopStore:
    """Search log, events, feedback and synonym proposals (see module docstring)."""

    def _loop_schema_statements(self):
        return [(sql, ()) for sql in (*LOOP_TABLES.values(), *LOOP_INDEXES)]

    def log_searches(self, rows):
        """Append searches to the log in one transaction.

        :param rows: dicts with search_id, at, query, product, category, results, took_ms, session,
            channel, top_ids (a list) and contact_channel (phone, email, web, chat, in_person or absent).
        """
        if not rows:
            return
        sql = (
            "INSERT INTO search_log (search_id, at, query, product, category, results, took_ms, session,"
            " channel, top_ids, contact_channel) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        self._run(
            [
                (
                    sql,
                    (
                        r["search_id"],
                        r["at"],
                        r["query"],
                        r.get("product") or "",
                        r.get("category") or "",
                        r["results"],
                        r["took_ms"],
                        r.get("session") or "",
                        r.get("channel") or "",
                        json.dumps(r.get("top_ids") or []),
                        r.get("contact_channel") or "",
                    ),
                )
                for r in rows
            ]
        )

    def log_event(self, search_id, call_id, kind, at, session=""):
        """Record that a hit of a logged search was opened or solved the problem."""
        self._run(
            [
                (
                    "INSERT INTO search_events (search_id, call_id, kind, at, session) VALUES (?, ?, ?, ?, ?)",
                    (search_id, call_id, kind, at, session or ""),
                )
            ]
        )

    def add_feedback(self, call_id, query, source, at, search_id="", session=""):
        """Record that a call solved the problem searched for with ``query``.

        :raises CallNotFoundError: when the call is unknown.
        """
        if not self._rows("SELECT 1 AS found FROM calls WHERE id = ?", (call_id,)):
            raise CallNotFoundError(call_id)
        statements = [
            ("INSERT INTO feedback (call_id, query, at, source) VALUES (?, ?, ?, ?)", (call_id, query, at, source))
        ]
        if search_id:
            statements.append(
                (
                    "INSERT INTO search_events (search_id, call_id, kind, at, session) VALUES (?, ?, 'solved', ?, ?)",
                    (search_id, call_id, at, session or ""),
                )
            )
        self._run(statements)

    def feedback_for(self, call_id):
        """Every feedback row for one call, oldest first."""
        return self._rows("SELECT query, at, source FROM feedback WHERE call_id = ? ORDER BY at", (call_id,))

    def all_feedback(self):
        """Every feedback row (call_id, query, at, source), oldest first, for export."""
        return self._rows("SELECT call_id, query, at, source FROM feedback ORDER BY at, call_id", ())

    def all_history(self):
        """Every edit-history row (call_id, at, actor, op, changes as JSON text), for export."""
        return self._rows("SELECT call_id, at, actor, op, changes FROM call_history ORDER BY id", ())

    def restore_history_and_feedback(self, history, feedback):
        """Add exported history and feedback rows, in one transaction, skipping rows already present
        (so importing the same export twice adds nothing).

        :param history: dicts with call_id, at, actor, op and changes (a dict or JSON text).
        :param feedback: dicts with call_id, query, at and source.
        :returns: (history rows added, feedback rows added).
        """
        statements, added = [], [0, 0]
        for row in history:
            changes = row["changes"] if isinstance(row["changes"], str) else json.dumps(row["changes"])
            key = (row["call_id"], row["at"], row["actor"], row["op"])
            if not self._rows(
                "SELECT 1 AS found FROM call_history WHERE call_id = ? AND at = ? AND actor = ? AND op = ?", key
            ):
                statements.append(
                    (
                        "INSERT INTO call_history (call_id, at, actor, op, changes) VALUES (?, ?, ?, ?, ?)",
                        (*key, changes),
                    )
                )
                added[0] += 1
        for row in feedback:
            key = (row["call_id"], row["query"], row["at"])
            if not self._rows("SELECT 1 AS found FROM feedback WHERE call_id = ? AND query = ? AND at = ?", key):
                statements.append(
                    (
                        "INSERT INTO feedback (call_id, query, at, source) VALUES (?, ?, ?, ?)",
                        (*key, row.get("source") or "api"),
                    )
                )
                added[1] += 1
        if statements:
            self._run(statements)
        return tuple(added)

    def recent_feedback(self, limit=FEEDBACK_WINDOW):
        """The newest feedback rows (call_id, query, at), for outcome ranking."""
        return self._rows("SELECT call_id, query, at FROM feedback ORDER BY at DESC LIMIT ?", (limit,))

    def feedback_marker(self):
        """A cheap value that changes whenever feedback is added."""
        row = self._rows("SELECT COUNT(*) AS n, MAX(at) AS last FROM feedback", ())[0]
        return (row["n"], row["last"])

    def searches_of_session(self, session, since):
        """The logged searches of one browser session since a time, oldest first."""
        return self._rows(
            "SELECT search_id, at, query, results FROM search_log WHERE session = ? AND at >= ? ORDER BY at",
            (session, since),
        )

    def propose_synonym(self, from_query, to_query, at):
        """Record (or count again) a proposed synonym pair; decided pairs keep their decision."""
        existing = self._rows(
            "SELECT status FROM synonym_proposals WHERE from_query = ? AND to_query = ?", (from_query, to_query)
        )
        if existing:
            self._run(
                [
                    (
                        "UPDATE synonym_proposals SET seen = seen + 1 WHERE from_query = ? AND to_query = ?",
                        (from_query, to_query),
                    )
                ]
            )
        else:
            self._run(
                [
                    (
                        "INSERT INTO synonym_proposals (from_query, to_query, status, seen, created_at)"
                        " VALUES (?, ?, 'proposed', 1, ?)",
                        (from_query, to_query, at),
                    )
                ]
            )

    def proposals(self, status=None):
        """Synonym proposals, most often seen first; all of them or those with one status."""
        if status:
            return self._rows(
                "SELECT * FROM synonym_proposals WHERE status = ? ORDER BY seen DESC, created_at", (status,)
            )
        return self._rows("SELECT * FROM synonym_proposals ORDER BY status, seen DESC, created_at", ())

    def decide_proposal(self, from_query, to_query, status, actor, at):
        """Accept or reject a proposal.

        :returns: False when no such proposal exists.
        """
        found = self._rows(
            "SELECT 1 AS found FROM synonym_proposals WHERE from_query = ? AND to_query = ?", (from_query, to_query)
        )
        if not found:
            return False
        self._run(
            [
                (
                    "UPDATE synonym_proposals SET status = ?, decided_at = ?, decided_by = ?"
                    " WHERE from_query = ? AND to_query = ?",
                    (status, at, actor, from_query, to_query),
                )
            ]
        )
        return True
