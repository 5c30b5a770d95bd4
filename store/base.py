"""The store: the source of truth for call records, behind one small interface.

Every write of a call appends to a change feed (``changes``) in the same transaction,
so each index can follow the store by sequence number and be rebuilt from it at any time.
``open_store`` picks the implementation; nothing outside ``indexer/`` knows which one is used.
"""

from dataclasses import dataclass, field
from datetime import datetime, timezone


def utc_now():
    """The current time as an ISO 8601 string in UTC (sortable as text in every store)."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class StoreUnavailableError(RuntimeError):
    """The store cannot be reached or written right now."""


class CallNotFoundError(KeyError):
    """No call with the given id is in the store."""

    def __str__(self):
        return f"call {self.args[0]} not found"


@dataclass
class WriteSummary:
    """What one write transaction did."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    latest_seq: int = 0
    # The change number of the write's first row, or None when it wrote none. A write's rows take consecutive
    # numbers, ``first_seq`` to ``latest_seq``, with no other write's between (each store hands them out under
    # its write lock).
    first_seq: int = None
    written_ids: list = field(default_factory=list)
    # The version of each call written or left unchanged, by id.
    versions: dict = field(default_factory=dict)
    # Calls not written because their version was not the one expected: id to the version they have (0: absent).
    conflicts: dict = field(default_factory=dict)
    # Each written call as it was stored before the write (None: new), by id, e.g. to tell a change of status.
    previous: dict = field(default_factory=dict)


class CallStore:
    """The interface every store implements (see ``sqlite_store.SqliteCallStore``)."""

    def migrate(self):
        """Create or upgrade the schema; safe to run any number of times."""
        raise NotImplementedError

    def upsert(self, records, actor="system", expected=None, messages=()):
        """Insert or update clean records in one transaction; unchanged ones are left alone.

        Every write of a call raises its version by one (a new call has version 1).

        :param records: records returned by ``records.validate_record``.
        :param actor: who made the change, kept in the edit history.
        :param expected: compare-and-set: a dict from id to the version the caller read (0: the call must
            not exist). A record whose call has another version is not written; ``conflicts`` names it.
        :param messages: outbox messages committed with the write, or a function of its ``WriteSummary``
            giving them (``store.outbox.messages_for``).
        :returns: a :class:`WriteSummary`.
        """
        raise NotImplementedError

    def delete(self, call_id, actor="system", expected=None):
        """Delete one call by id.

        :param expected: the version the caller read, or None; another version leaves the call in
            place and the summary's ``conflicts`` names it.
        :returns: a :class:`WriteSummary`.
        :raises CallNotFoundError: when the id is unknown.
        """
        raise NotImplementedError

    def get(self, call_id):
        """One clean record by id, or None."""
        raise NotImplementedError

    def get_versioned(self, call_id):
        """One clean record by id with its version, as ``(record, version)``, or None."""
        raise NotImplementedError

    def iter_versioned(self, batch_size=1000):
        """Every clean record with its version, as ``(record, version)``, in id order."""
        raise NotImplementedError

    def get_many(self, call_ids):
        """Clean records by id: a dict from id to record, unknown ids left out."""
        raise NotImplementedError

    def count(self):
        """How many calls the store holds."""
        raise NotImplementedError

    def latest_seq(self):
        """The highest change sequence number written so far (0 when none)."""
        raise NotImplementedError

    def changed_ids(self, after_seq, upto_seq):
        """Ids of calls written or deleted with after_seq < seq <= upto_seq, in order of change."""
        raise NotImplementedError

    def change_time(self, seq):
        """When the change with this sequence number was written (ISO 8601 text), or None."""
        raise NotImplementedError

    def iter_records(self, batch_size=1000):
        """Every clean record, in id order, fetched in batches."""
        raise NotImplementedError

    def content_hashes(self):
        """A dict from every call id to the digest of its current content."""
        raise NotImplementedError

    def defer_checkpoints(self):
        """Leave housekeeping a commit would do on its way (SQLite's WAL checkpoint) to :meth:`checkpoint`, so that
        no request pays for it. Nothing to do for a store without any."""

    def checkpoint(self):
        """Do the housekeeping :meth:`defer_checkpoints` left, from a background thread; nothing when none is due."""

    def close(self):
        """Release connections."""


def open_store(settings, data_folder):
    """Open the store the settings select, with its schema migrated.

    :param settings: the mapping from ``settings.read_settings``.
    :param data_folder: the data folder (a Path) for the embedded store.
    :returns: a :class:`CallStore`.
    :raises ValueError: when the URL is neither empty nor PostgreSQL's, or names PostgreSQL without psycopg installed.
    """
    url = settings.get("KB_DATABASE_URL") or ""
    if url.startswith(("postgresql://", "postgres://")):
        try:
            from store.postgres import PostgresCallStore
        except ImportError as error:
            raise ValueError(
                f"KB_DATABASE_URL names a PostgreSQL database, but psycopg cannot be imported ({error}): install the "
                "'postgres' extra (pip install 'support-kb-search[postgres]', or pip install -r requirements.txt, "
                "which includes it), or leave KB_DATABASE_URL empty for SQLite"
            ) from error
        store = PostgresCallStore(url)
    elif url:
        raise ValueError(f"KB_DATABASE_URL must start with postgresql:// (or be empty for SQLite), not {url[:30]!r}")
    else:
        from store.sqlite import SqliteCallStore

        store = SqliteCallStore(data_folder / "calls.db")
    store.migrate()
    return store
