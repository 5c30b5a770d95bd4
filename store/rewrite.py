"""Background rewrites of stored calls by compare-and-set: only the fields a job owns, never a stale copy.

A job such as ``apply-rules`` reads calls, decides what to change, and writes later. Meanwhile an agent
may have saved one of those calls. So a job never writes back what it read: it names the fields it
changes, and each is set on the call as read, written only if the call still has the version read
(``CallStore.upsert(..., expected=...)``). A call changed in between is read again and decided again.
"""

import copy

from store.records import CORE_FIELDS

ATTEMPTS = 5


def with_fields(record, changes):
    """A copy of a record with some fields set: core fields at the top, any other among the extras.

    :param record: a clean record.
    :param changes: a dict from field name to its new value.
    :returns: the new record (``record`` itself is left as it was).
    """
    changed = copy.deepcopy(record)
    for name, value in changes.items():
        if name in CORE_FIELDS:
            changed[name] = value
        else:
            changed["extra"][name] = value
    return changed


def rewrite_fields(store, candidates, decide, actor, announce=None, attempts=ATTEMPTS):
    """Set the fields ``decide`` names on each candidate call, by compare-and-set against its version.

    :param store: the ``CallStore``.
    :param candidates: ``(record, version)`` pairs as read (``CallStore.iter_versioned``).
    :param decide: ``decide(record)`` gives the fields to set on a call as it is now (empty: none).
    :param actor: who makes the change, for the edit history.
    :param announce: ``announce(written)`` gives the outbox message about ``(record, fields set)`` pairs
        written (or None); it is committed with each write, so a change is never kept unannounced.
    :param attempts: how many times a call changed meanwhile is read and decided again.
    :returns: ``(written, left)``: ``(record as written, fields set)`` pairs, and the ids still changing
        under the job after every attempt (the next run decides them).
    """
    written, pending = [], list(candidates)
    for _attempt in range(attempts):
        decided = {}
        for record, version in pending:
            changes = decide(record)
            if changes:
                decided[record["id"]] = (with_fields(record, changes), changes, version)
        if not decided:
            return written, []

        def messages(summary, decided=decided):
            if announce is None:
                return []
            return [announce([decided[call_id][:2] for call_id in summary.written_ids])]

        summary = store.upsert(
            [changed for changed, _, _ in decided.values()],
            actor=actor,
            expected={call_id: version for call_id, (_, _, version) in decided.items()},
            messages=messages,
        )
        written += [decided[call_id][:2] for call_id in summary.written_ids]
        if not summary.conflicts:
            return written, []
        pending = [found for found in map(store.get_versioned, summary.conflicts) if found is not None]
    return written, sorted(record["id"] for record, _ in pending)
