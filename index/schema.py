"""Which Whoosh field holds what, and with which analyzer: the one place the schema is decided.

Ranking uses one catch-all field (``text``: the title twice, the problem, the resolution),
which measured clearly better and faster than three per-field BM25F fields on real
support records (see docs/search.md). The display fields are stored only, so a
server can answer from its own index even when the central store is away.
"""

import hashlib
import zlib

import numpy as np
from whoosh.columns import FixedBytesColumn, VarBytesColumn
from whoosh.fields import BOOLEAN, ID, STORED, TEXT, Schema

from analyzers.analyzer import text_analyzer, words_analyzer
from analyzers.pipeline import text_term_sequence
from store.records import status_of

# A passage digest (sha256) as hex characters.
PASSAGE_DIGEST_HEX_LENGTH = 64
# ID fields cannot hold an empty value; calls without a product or category get this one.
NO_VALUE = "(none)"
# How much of a call's problem its pairs of adjacent words are read from (as much as snippets read).
PAIR_TEXT_CHARS = 4_000
# Fields an index written by an earlier version may hold as a plainer kind, searched as before (engine.stored).
EARLIER_KINDS = {"title": STORED, "problem": STORED}


class TitleField(STORED):
    """A call's title: stored as given, and its ``text`` terms, in order, in a column of their own.

    Ranking by meaning asks which of the query's words each candidate's title holds, and which stand side by side
    (``engine.coverage``), for some twenty calls a search that are not on the page. The column answers from the
    index's terms, written once here, without reading (decompressing, unpickling) the call's stored fields or
    analysing its title again.
    """

    def __init__(self):
        super().__init__()
        self.column_type = VarBytesColumn()

    def to_column_value(self, value):
        """The title's terms in order, space-separated (no term holds a space)."""
        return " ".join(text_term_sequence(value)).encode("utf-8")

    def from_column_value(self, value):
        """The terms of a column value, in order."""
        return tuple(value.decode("utf-8").split())


class ProblemField(STORED):
    """A call's problem: stored as given, and the keys of its pairs of adjacent terms in a column of their own
    (:func:`pair_keys`), for the re-ranker's look at which of the query's words stand side by side in a call."""

    def __init__(self):
        super().__init__()
        self.column_type = VarBytesColumn()

    def to_column_value(self, value):
        """The problem's pair keys as little-endian 32-bit numbers."""
        return pair_keys(value).astype("<u4").tobytes()

    def from_column_value(self, value):
        """The sorted pair keys of a column value."""
        return np.frombuffer(value, dtype="<u4")


def pair_key(first, second):
    """Two adjacent terms as one 32-bit number, the same on every server (their CRC-32)."""
    return zlib.crc32(f"{first} {second}".encode("utf-8"))


def pair_keys(text):
    """The sorted distinct keys (:func:`pair_key`) of the pairs of terms side by side in the start of a text (its
    first ``PAIR_TEXT_CHARS`` characters), as the ``text`` field reads it: a stop word between two words leaves
    them side by side.

    :returns: a ``uint32`` array.
    """
    terms = text_term_sequence(text[:PAIR_TEXT_CHARS])
    keys = np.fromiter((pair_key(first, second) for first, second in zip(terms, terms[1:])), dtype=np.uint32)
    return np.unique(keys)


def call_schema():
    """The Whoosh schema of the call index.

    :returns: a :class:`whoosh.fields.Schema`.
    """
    return Schema(
        # Sortable: a column of ids, which ordering hits reads instead of their stored fields (engine.stored).
        id=ID(stored=True, unique=True, sortable=True),
        content_hash=STORED(),
        text=TEXT(analyzer=text_analyzer(), phrase=False),
        words=TEXT(analyzer=words_analyzer(), phrase=False),
        title=TitleField(),
        problem=ProblemField(),
        resolution=STORED(),
        product=ID(stored=True, sortable=True),
        category=ID(stored=True, sortable=True),
        tags=STORED(),
        created_at=STORED(),
        resolved=BOOLEAN(stored=True),
        customer_id=ID(stored=True),
        customer_name=STORED(),
        status=ID(stored=True),
        priority=ID(stored=True),
        opened_at=STORED(),
        escalated_at=STORED(),
        channel=STORED(),
        # The digest of the text ranked by meaning (``passage_text``): the key of the call's vector
        # (index/vectors.py). Its fixed-width column takes a vector to the calls that hold that text
        # (engine/passages.py); an index written before the column is searched through the term instead.
        passage=ID(stored=True, sortable=FixedBytesColumn(PASSAGE_DIGEST_HEX_LENGTH)),
    )


def matches_call_schema(schema):
    """Whether an index's schema is today's: the same fields, each of the same kind (or its earlier kind,
    ``EARLIER_KINDS``), stored alike and analysed by the same analysis (an index written with another analysis
    must be rebuilt to be searched right).

    Whoosh's own schema comparison cannot tell: its column types (of sortable fields) never compare equal.

    :param schema: the schema an index was written with.
    :returns: True or False.
    """
    expected = call_schema()
    if sorted(schema.names()) != sorted(expected.names()):
        return False
    for name in expected.names():
        found, wanted = schema[name], expected[name]
        if type(found) not in (type(wanted), EARLIER_KINDS.get(name)) or found.stored != wanted.stored:
            return False
        if getattr(found, "analyzer", None) != getattr(wanted, "analyzer", None):
            return False
        if type(found.format) is not type(wanted.format):
            return False
    return True


def catch_all_text(record):
    """The text ranked for a record: the title twice (it counts for more), problem, resolution, tags.

    :param record: a clean call record.
    :returns: one string.
    """
    title = record["title"]
    return "\n".join((title, title, record["problem"], record["resolution"], " ".join(record["tags"])))


def passage_text(record):
    """The text embedded for ranking by meaning: the title, the problem and the resolution (the model reads their
    first 128 tokens, so the title and the start of the problem count most).

    :param record: a clean call record (or a call's stored fields).
    :returns: one string.
    """
    return "\n".join(part for part in (record["title"], record["problem"], record["resolution"]) if part)


def passage_digest(text):
    """The key of a passage's vector: the sha256 of its text, so the same text gets the same vector on every
    server and a change to anything else (priority, status) needs no new vector.

    :param text: the passage text (:func:`passage_text`).
    :returns: 64 hex digits.
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def index_document(record, digest):
    """The Whoosh document for one clean record.

    :param record: a clean call record.
    :param digest: the record's content hash, kept so ``check`` can spot stale documents.
    :returns: keyword arguments for ``writer.update_document``.
    """
    text = catch_all_text(record)
    extra = record.get("extra") or {}
    return {
        "id": record["id"],
        "content_hash": digest,
        "text": text,
        "words": text,
        "title": record["title"],
        "problem": record["problem"],
        "resolution": record["resolution"],
        "product": record["product"] or NO_VALUE,
        "category": record["category"] or NO_VALUE,
        "tags": record["tags"],
        "created_at": record["created_at"],
        "resolved": record["resolved"],
        "customer_id": extra.get("customer_id") or NO_VALUE,
        "customer_name": extra.get("customer_name", ""),
        "status": status_of(record),
        "priority": extra.get("priority") or "normal",
        "opened_at": extra.get("opened_at") or record["created_at"],
        "escalated_at": extra.get("escalated_at", ""),
        "channel": extra.get("channel", ""),
        "passage": passage_digest(passage_text(record)),
    }
