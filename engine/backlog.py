"""The backlog of ranking by meaning: calls in the index whose passage has no vector yet, and embedding them.

Import never waits for the model: a call is written to the store and the index as before, searchable by its
words at once, and its text joins the backlog. Whoever holds the vector store's writer lock works it off: one
worker of each server in a background thread (``app/embed_worker.py``), or ``python -m indexer embed``. The
backlog is read from the index itself (the ``passage`` digests of its live calls that have no row), so a server
catches up after a restart, a rebuild or a swap of model without any bookkeeping of its own.
"""

import multiprocessing
import threading
import time
import weakref
from dataclasses import dataclass

from engine.embedding import load_embedder
from engine.postings import live_mask
from index import whoosh_compat
from index.schema import passage_digest, passage_text

BATCH = 32
# Segments whose digests are kept (segments never change; merged ones fall out).
KEPT_SEGMENTS = 64
_digests_by_segment = {}
_segment_lock = threading.Lock()
_live_digests_by_reader = weakref.WeakKeyDictionary()


@dataclass
class BacklogReport:
    """How many of the index's passages have a vector."""

    passages: int
    embedded: int

    @property
    def waiting(self):
        """Passages still to embed."""
        return self.passages - self.embedded


def _segment_digests(reader):
    """The passage digests of one segment's live calls (kept per segment, and per reader for its deletions)."""
    found = _live_digests_by_reader.get(reader)
    if found is not None:
        return found
    key = whoosh_compat.segment_key(reader)
    with _segment_lock:
        terms = _digests_by_segment.get(key)
    if terms is None:
        field = reader.schema["passage"]
        terms = frozenset(field.from_bytes(term) for term in reader.lexicon("passage"))
        if key is not None:
            with _segment_lock:
                _digests_by_segment[key] = terms
                while len(_digests_by_segment) > KEPT_SEGMENTS:
                    _digests_by_segment.pop(next(iter(_digests_by_segment)))
    # A deleted call's digest stays in the segment's lexicon; drop it unless a live call holds it too.
    gone = {reader.stored_fields(int(docnum)).get("passage") for docnum in whoosh_compat.deleted_documents(reader)}
    gone = {digest for digest in gone if digest and searcher_docnum(reader, digest) is None}
    found = terms - gone if gone else terms
    _live_digests_by_reader[reader] = found
    return found


def index_digests(searcher):
    """Every live call's passage digest in the index.

    :param searcher: a Whoosh searcher.
    :returns: a set of hex digests.
    """
    digests = set()
    for leaf, _ in searcher.leaf_searchers():
        digests.update(_segment_digests(leaf.reader()))
    return digests


def backlog_report(searcher, store):
    """How many passages of the index have a vector in ``store`` (an ``index.vectors.VectorStore``)."""
    digests = index_digests(searcher)
    snapshot = store.snapshot()
    embedded = sum(1 for digest in digests if snapshot.row_of(digest) is not None)
    return BacklogReport(passages=len(digests), embedded=embedded)


def waiting_passages(searcher, store, limit=None):
    """The passages to embed, as ``[(digest, text)]``, in digest order (at most ``limit``).

    :param searcher: a Whoosh searcher of the index in use.
    :param store: the ``index.vectors.VectorStore``.
    """
    snapshot = store.snapshot()
    waiting = sorted(digest for digest in index_digests(searcher) if snapshot.row_of(digest) is None)
    if limit is not None:
        waiting = waiting[:limit]
    found = []
    for digest in waiting:
        for leaf, _ in searcher.leaf_searchers():
            docnum = searcher_docnum(leaf.reader(), digest)
            if docnum is None:
                continue
            text = passage_text(leaf.reader().stored_fields(docnum))
            if passage_digest(text) == digest:
                found.append((digest, text))
            break
    return found


def searcher_docnum(reader, digest):
    """A live document of one segment holding the passage ``digest``, or None."""
    ids = whoosh_compat.posting_list(reader, "passage", digest.encode("utf-8")).ids
    mask = live_mask(reader)
    for docnum in ids.tolist():
        if mask is None or mask[docnum]:
            return docnum
    return None


def embed_waiting(searcher, store, embedder, limit=None, progress=None, procs=1):
    """Embed waiting passages and add their vectors to the store (the caller holds ``store.writing()``).

    :param searcher: a Whoosh searcher of the index in use.
    :param store: the ``index.vectors.VectorStore``.
    :param embedder: the ``engine.embedding.Embedder`` whose vectors the store holds.
    :param limit: at most this many passages, or None for all.
    :param progress: ``progress(done, total)``, or None.
    :param procs: processes embedding side by side (each one model thread), for a large backlog.
    :returns: how many passages were embedded.
    """
    waiting = waiting_passages(searcher, store, limit)
    done = 0
    for batch in _batches(waiting, embedder, procs):
        digests, vectors = batch
        store.append(digests, vectors)
        done += len(digests)
        if progress is not None:
            progress(done, len(waiting))
    return done


def _batches(waiting, embedder, procs):
    """``(digests, vectors)`` per batch of ``BATCH`` passages, embedded here or in ``procs`` processes."""
    chunks = [waiting[start : start + BATCH] for start in range(0, len(waiting), BATCH)]
    if procs <= 1 or len(chunks) < 2:
        for chunk in chunks:
            yield [digest for digest, _ in chunk], embedder.embed_passages([text for _, text in chunk])
        return
    context = multiprocessing.get_context("spawn")
    with context.Pool(procs, _start_embedder, (embedder_model_name(embedder),)) as pool:
        for chunk, vectors in zip(chunks, pool.imap(_embed_chunk, [[text for _, text in c] for c in chunks])):
            yield [digest for digest, _ in chunk], vectors


def embedder_model_name(embedder):
    """The ``engine.embedding`` model name (e.g. ``minilm-l6-int8``) of a loaded embedder."""
    return embedder.name.split("/", 1)[0]


_worker = {}


def _start_embedder(model_name):
    _worker["embedder"] = load_embedder(model_name, threads=1)


def _embed_chunk(texts):
    return _worker["embedder"].embed_passages(texts)


def rate(done, seconds):
    """Passages a second, for reports."""
    return round(done / seconds, 1) if seconds > 0 else None


def now():
    """A monotonic clock reading, for reports."""
    return time.perf_counter()
