"""Importing files of call records into the store: each file whole or not at all."""

import time
from dataclasses import dataclass, field

from indexer.readers import ImportFileError, read_rows
from rules.logic import apply_on_write_with_key_accounts
from store.cells import typed_customer_cells
from store.customer_models import InvalidCustomerRecordError, validate_customer
from store.records import InvalidCallRecordError, validate_record

KINDS = ("call", "customer")
# Rows validated between two hand-overs of their calls to an index built alongside the import.
ROWS_PER_HANDOVER = 20_000


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
    customers: dict = field(default_factory=dict)
    history: int = 0
    feedback: int = 0
    problems: list = field(default_factory=list)
    seconds: float = 0.0
    # The store write of the file's calls (a ``WriteSummary``), and the index being built alongside it, if any.
    calls_written: object = None
    indexing: object = None


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


def _kind_and_record(row, region):
    """``(kind, clean record)`` of one row: a customer when its ``kind`` says so, else a call."""
    data = row.data
    kind = data.get("kind", "call") if isinstance(data, dict) else "call"
    if kind not in KINDS:
        raise InvalidCallRecordError(f"field 'kind' must be one of {', '.join(KINDS)}, not {str(kind)[:40]!r}", "kind")
    if kind == "call":
        return kind, validate_record({k: v for k, v in data.items() if k != "kind"} if isinstance(data, dict) else data)
    data = {key: value for key, value in data.items() if key != "kind"}
    return kind, validate_customer(typed_customer_cells(data) if row.from_cells else data, region)


def validate_rows(path, rows, region="GB", on_calls=None):
    """Validate raw rows, calls and customers (``kind``); duplicates within the file are refused after their first
    line.

    :param path: the file name used in messages.
    :param rows: the :class:`~indexer.readers.RawRow` list of one file.
    :param region: ``KB_PHONE_REGION``, for customers' phone numbers.
    :param on_calls: called as ``on_calls(calls, refused)`` after every ``ROWS_PER_HANDOVER`` rows and after the
        last, with the clean calls of those rows and whether any row so far was refused.
    :returns: (clean call records, list of :class:`RowProblem`, clean customer records).
    """
    found, problems, first_line_of = {"call": [], "customer": []}, [], {}
    handed = 0
    for number, row in enumerate(rows, 1):
        if on_calls is not None and number % ROWS_PER_HANDOVER == 0:
            on_calls(found["call"][handed:], bool(problems))
            handed = len(found["call"])
        if row.error:
            problems.append(RowProblem(path, row.line, row.error))
            continue
        if isinstance(row.data, dict) and set(row.data) & set(SIDE_ROWS):
            continue  # history and feedback lines of an export (see side_rows)
        try:
            kind, record = _kind_and_record(row, region)
        except (InvalidCallRecordError, InvalidCustomerRecordError) as error:
            problems.append(RowProblem(path, row.line, str(error)))
            continue
        if (kind, record["id"]) in first_line_of:
            first = first_line_of[(kind, record["id"])]
            problems.append(
                RowProblem(
                    path,
                    row.line,
                    f"duplicate {'' if kind == 'call' else 'customer '}id '{record['id']}' (first on line {first})",
                )
            )
            continue
        first_line_of[(kind, record["id"])] = row.line
        found[kind].append(record)
    if on_calls is not None:
        on_calls(found["call"][handed:], bool(problems))
    return found["call"], problems, found["customer"]


def import_file(store, path, skip_invalid=False, actor="import", rules=None, region="GB", index_alongside=None):
    """Import one file: its customers in one store transaction, then its calls in one.

    Without ``skip_invalid`` any bad row means nothing from the file is stored. Customers go first, so that a
    key account's calls in the same file get its priority.

    :param store: a ``CallStore``.
    :param path: the file's Path.
    :param skip_invalid: store the valid rows even when some are bad.
    :param actor: who the changes are recorded as.
    :param rules: the service ``Rules`` to apply to each record, or None.
    :param region: ``KB_PHONE_REGION``, for customers' phone numbers.
    :param index_alongside: what starts an index build alongside the store write
        (``indexer.rebuild_policy.IndexAlongside``), or None: ``stream(expected)`` before validation, handed
        the calls as they are validated, or else ``start(records)`` just before they are stored; either
        returns an ``index.alongside.BuildAlongside`` or None. The build is kept as the outcome's
        ``indexing``, and abandoned if nothing is stored.
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
    streamed = _IndexAsValidated.begin(index_alongside, rows, store, rules, skip_invalid)
    try:
        _store_rows(store, path, rows, outcome, skip_invalid, actor, rules, region, index_alongside, streamed)
    except BaseException:
        if outcome.indexing is not None:
            outcome.indexing.abandon()
        raise
    finally:
        if streamed is not None and outcome.indexing is None:
            streamed.stop()
    outcome.seconds = time.perf_counter() - started
    return outcome


def _store_rows(store, path, rows, outcome, skip_invalid, actor, rules, region, index_alongside, streamed):
    records, outcome.problems, customers = validate_rows(
        str(path), rows, region, on_calls=None if streamed is None else streamed.add
    )
    history, feedback, side_problems = side_rows(str(path), rows)
    outcome.problems += side_problems
    outcome.skipped = len(outcome.problems)
    if outcome.problems and not skip_invalid:
        return
    if customers:
        outcome.customers = store.upsert_customers(customers, actor=actor)
    if records:
        if streamed is not None and streamed.building is not None:
            streamed.building.end()  # its records have the rules applied
            outcome.indexing = streamed.building
        else:
            if rules is not None:
                apply_on_write_with_key_accounts(records, rules, store)
            outcome.indexing = index_alongside.start(records) if index_alongside is not None else None
        summary = outcome.calls_written = store.upsert(records, actor=actor)
        outcome.inserted, outcome.updated, outcome.unchanged = summary.inserted, summary.updated, summary.unchanged
    if history or feedback:
        outcome.history, outcome.feedback = store.restore_history_and_feedback(history, feedback)
    outcome.stored = True


class _IndexAsValidated:
    """A file's calls handed to an index build alongside the import as validation goes, with the rules applied.

    It gives up, stopping the build, at a refused row (unless those are skipped) or at calls out of ascending id
    order; the import then takes the usual path (``index_alongside.start``) once the file is validated.
    """

    def __init__(self, building, store, rules, skip_invalid):
        self.building = building
        self.store = store
        self.rules = rules
        self.skip_invalid = skip_invalid

    @classmethod
    def begin(cls, index_alongside, rows, store, rules, skip_invalid):
        """Start a build handed the calls of ``rows`` as they are validated, when ``index_alongside`` starts one
        for that many calls and no row is a customer's (their calls' priorities wait for those to be stored).

        :returns: an ``_IndexAsValidated``, or None.
        """
        if index_alongside is None:
            return None
        calls = 0
        for row in rows:
            data = row.data
            if isinstance(data, dict):
                if data.get("kind") == "customer":
                    return None
                if data.keys() & SIDE_ROWS:
                    continue
            calls += 1
        building = index_alongside.stream(calls)
        return None if building is None else cls(building, store, rules, skip_invalid)

    def add(self, calls, refused):
        """Hand the build the next validated calls (``validate_rows``'s ``on_calls``)."""
        if self.building is None:
            return
        if refused and not self.skip_invalid:
            self.stop()
            return
        if self.rules is not None and calls:
            apply_on_write_with_key_accounts(calls, self.rules, self.store)
        if not self.building.add(calls):
            self.stop()

    def stop(self):
        """Stop the build (its generation removed; the index in use stays)."""
        if self.building is not None:
            self.building.abandon()
            self.building = None
