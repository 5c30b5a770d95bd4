"""Importing files of call records into the store: each file whole or not at all."""

import time
from dataclasses import dataclass, field

from indexer.readers import ImportFileError, read_rows
from rules.logic import apply_on_write
from store.records import InvalidCallRecordError, validate_record


@dataclass
class RowProblem:
    """Why one row of a file was refused."""

    path: str
    line: int
    message: str

    def __str__(self):
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


@dataclass
class FileImport:
    """The outcome of importing one file."""

    path: str
    stored: bool = False
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    history: int = 0
    feedback: int = 0
    problems: list = field(default_factory=list)
    seconds: float = 0.0


SIDE_ROWS = {"_history": ("call_id", "at", "actor", "op", "changes"), "_feedback": ("call_id", "query", "at")}


def side_rows(path, rows):
    """The edit-history and feedback lines of an export made with ``export --with-history``.

    :returns: (history rows, feedback rows, list of :class:`RowProblem`).
    """
    found, problems = {"_history": [], "_feedback": []}, []
    for row in rows:
        if row.error or not isinstance(row.data, dict):
            continue
        for kind, fields in SIDE_ROWS.items():
            if kind not in row.data:
                continue
            value = row.data[kind]
            if not isinstance(value, dict) or not all(isinstance(value.get(f), (str, dict)) for f in fields):
                problems.append(RowProblem(path, row.line, f"'{kind}' needs the fields {', '.join(fields)}"))
            else:
                found[kind].append(value)
    return found["_history"], found["_feedback"], problems


def validate_rows(path, rows):
    """Validate raw rows; duplicates within the file are refused after their first line.

    :param path: the file name used in messages.
    :param rows: the :class:`~indexer.readers.RawRow` list of one file.
    :returns: (clean records, list of :class:`RowProblem`).
    """
    records, problems, first_line_of = [], [], {}
    for row in rows:
        if row.error:
            problems.append(RowProblem(path, row.line, row.error))
            continue
        if isinstance(row.data, dict) and set(row.data) & set(SIDE_ROWS):
            continue  # history and feedback lines of an export (see side_rows)
        try:
            record = validate_record(row.data)
        except InvalidCallRecordError as error:
            problems.append(RowProblem(path, row.line, str(error)))
            continue
        if record["id"] in first_line_of:
            problems.append(
                RowProblem(
                    path, row.line, f"duplicate id '{record['id']}' (first on line {first_line_of[record['id']]})"
                )
            )
            continue
        first_line_of[record["id"]] = row.line
        records.append(record)
    return records, problems


def import_file(store, path, skip_invalid=False, actor="import", rules=None):
    """Import one file in a single store transaction.

    Without ``skip_invalid`` any bad row means nothing from the file is stored.

    :param store: a ``CallStore``.
    :param path: the file's Path.
    :param skip_invalid: store the valid rows even when some are bad.
    :param actor: who the changes are recorded as.
    :param rules: the service ``Rules`` to apply to each record, or None.
    :returns: a :class:`FileImport`.
    """
    started = time.perf_counter()
    outcome = FileImport(path=str(path))
    try:
        rows = read_rows(path)
    except ImportFileError as error:
        outcome.problems.append(RowProblem(str(path), error.line or 0, error.message))
        outcome.seconds = time.perf_counter() - started
        return outcome
    records, outcome.problems = validate_rows(str(path), rows)
    history, feedback, side_problems = side_rows(str(path), rows)
    outcome.problems += side_problems
    outcome.skipped = len(outcome.problems)
    if outcome.problems and not skip_invalid:
        outcome.seconds = time.perf_counter() - started
        return outcome
    if records:
        if rules is not None:
            apply_on_write(records, rules)
        summary = store.upsert(records, actor=actor)
        outcome.inserted, outcome.updated, outcome.unchanged = summary.inserted, summary.updated, summary.unchanged
    if history or feedback:
        outcome.history, outcome.feedback = store.restore_history_and_feedback(history, feedback)
    outcome.stored = True
    outcome.seconds = time.perf_counter() - started
    return outcome
