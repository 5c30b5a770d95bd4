"""What one upsert does to each record, decided apart from the SQL so both stores decide alike.

A write is planned twice at most. First outside the store's write lock, over rows read beforehand, so
the hashing, JSON encoding and diffing of a large import never hold the lock; then, under the lock,
again only for the ids the change feed shows were written in between. ``expected`` holds a version per
id that a caller read before deciding its change (compare-and-set): a record whose call has another
version now is not written, and the caller re-reads it.
"""

import json
from dataclasses import dataclass, field

from store.base import WriteSummary
from store.records import content_hash
from store.rows import SEQ_COLUMN, changed_fields, record_to_row, row_to_record, row_values, row_version

# What ``expected`` holds for a call that must not exist yet.
ABSENT = 0


@dataclass
class Current:
    """A call as the store holds it now: its content digest, version and row (None when absent)."""

    digest: str = ""
    version: int = ABSENT
    row: object = None
    _record: dict = None

    @property
    def record(self):
        """The clean record, decoded from the row when first asked (only an update's diff needs it)."""
        if self._record is None and self.row is not None:
            self._record = row_to_record(self.row)
        return self._record


@dataclass
class Planned:
    """The outcome planned for one record of a write."""

    kind: str  # "insert", "update", "unchanged" or "conflict"
    version: int
    values: list = None  # the row's values in the order of store.rows.CALL_COLUMNS, its change number to come
    history: tuple = None
    previous: dict = None  # the clean record as stored before (None: a new call)


@dataclass
class WritePlan:
    """The outcome of each record of a write, by position, with the digests computed once."""

    records: list
    digests: list
    expected: dict
    outcomes: list = field(default_factory=list)

    @classmethod
    def prepare(cls, records, expected=None):
        """Digest every record (outside any lock).

        :param records: clean records.
        :param expected: a dict from id to the version the caller read (``ABSENT``: not there), or None.
        """
        return cls(list(records), [content_hash(record) for record in records], dict(expected or {}))

    def ids(self):
        """Every id the write touches."""
        return list(dict.fromkeys(record["id"] for record in self.records))

    def decide(self, current, now, actor, only=None):
        """Plan each record against the calls as they are, in order (a repeated id sees its earlier record).

        :param current: a dict from id to :class:`Current` for the calls that exist.
        :param now: the write's time.
        :param actor: who writes, for the edit history.
        :param only: plan just the records with these ids again (the rest keep their outcome).
        """
        state = dict(current)
        if not self.outcomes:
            self.outcomes = [None] * len(self.records)
        for position, (record, digest) in enumerate(zip(self.records, self.digests)):
            call_id = record["id"]
            if only is not None and call_id not in only:
                continue
            now_there = state.get(call_id) or Current()
            exists = now_there.version != ABSENT
            wanted = self.expected.get(call_id)
            if wanted is not None and wanted != now_there.version:
                self.outcomes[position] = Planned("conflict", now_there.version)
                continue
            if exists and now_there.digest == digest:
                self.outcomes[position] = Planned("unchanged", now_there.version)
                continue
            version = now_there.version + 1
            history = None
            if exists:
                diff = changed_fields(now_there.record, record)
                history = (call_id, now, actor, "update", json.dumps(diff, ensure_ascii=False))
            kind = "update" if exists else "insert"
            values = row_values(record_to_row(record, digest, 0, now, version))
            self.outcomes[position] = Planned(kind, version, values, history, now_there.record)
            state[call_id] = Current(digest, version, _record=record)

    def count(self):
        """How many rows the plan writes."""
        return sum(1 for planned in self.outcomes if planned.values is not None)

    def writes(self, seqs):
        """The rows to write, each given the next change number of ``seqs``; the feed's entries; the history.

        :param seqs: an iterable of ascending change numbers, at least one per row.
        :returns: ``(rows, changes, history)``: value lists for ``store.rows.upsert_call_sql``, ``(seq, id)``
            pairs, and ``(call_id, at, actor, op, changes)`` tuples.
        """
        rows, changes, history, numbers = [], [], [], iter(seqs)
        for record, planned in zip(self.records, self.outcomes):
            if planned.values is None:
                continue
            planned.values[SEQ_COLUMN] = next(numbers)
            rows.append(planned.values)
            changes.append((planned.values[SEQ_COLUMN], record["id"]))
            if planned.history is not None:
                history.append(planned.history)
        return rows, changes, history

    def summary(self, latest_seq, changes):
        """The :class:`WriteSummary` of the planned outcomes.

        :param latest_seq: the store's latest change number before the write.
        :param changes: the feed's entries the write added (:meth:`writes`).
        """
        summary = WriteSummary(latest_seq=changes[-1][0] if changes else latest_seq)
        if changes:
            summary.first_seq = changes[0][0]
        for record, planned in zip(self.records, self.outcomes):
            if planned.kind == "conflict":
                summary.conflicts[record["id"]] = planned.version
                continue
            summary.versions[record["id"]] = planned.version
            if planned.kind == "unchanged":
                summary.unchanged += 1
            else:
                summary.written_ids.append(record["id"])
                summary.previous.setdefault(record["id"], planned.previous)
                if planned.kind == "insert":
                    summary.inserted += 1
                else:
                    summary.updated += 1
        return summary


def current_calls(rows):
    """:class:`Current` by id, from ``calls`` rows."""
    return {row["id"]: Current(row["content_hash"], row_version(row), row) for row in rows}
