"""Everything this product relies on inside Whoosh 2.7.4 that Whoosh does not promise: checked, then installed.

The product reads Whoosh's index files faster than Whoosh's public API allows, and writes them
through a leaner path (see ``index.fast_writing``, ``index.posting_blocks`` and ``index.mapped_files``).
All depend on internals of exactly one release, so this module is the one place that

- checks the installed Whoosh is release 2.7.4 of the ``Whoosh`` distribution (``whoosh-reloaded``
  and other forks use the same import name but other internals) and refuses to start otherwise;
- tries each internal it reads on a small index in memory, so a difference shows at start with a
  message, never as a failed search later;
- installs the three writing patches and the memory-mapped reading once per process
  (:func:`install`, called by ``create_app``, the command line and the benchmarks);
- holds every read of a private attribute: :func:`posting_list`, :func:`length_bytes`.
"""

import importlib.metadata
import pickle
import struct
import tempfile
import threading
import zlib
from dataclasses import dataclass
from io import BytesIO

import numpy as np
import whoosh
from whoosh import writing
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3FieldWriter
from whoosh.filedb.compound import CompoundStorage
from whoosh.reading import TermNotFound
from whoosh.util.numeric import byte_to_length

from analyzers.memo import BoundedMemo
from index import mapped_files

SUPPORTED_VERSION = (2, 7, 4)
SUPPORTED_DISTRIBUTION = "Whoosh"
# The posting block header Whoosh 2.7.4 writes at the start of every posting list.
_POSTINGS_MAGIC = b"W3Bl"
_INT = struct.Struct("!i")
# Whoosh keeps a field's lengths in the per-document column "_<field>_len", one byte each.
_LENGTH_COLUMN = "_{}_len"
_NO_IDS = np.zeros(0, dtype=np.int32)
# What each length byte decodes to (Whoosh's byte_to_length, byte 0 read as length 0).
_DECODED_LENGTHS = np.array([0] + [byte_to_length(byte) for byte in range(1, 256)], dtype=np.int64)
_NO_WEIGHTS = np.zeros(0, dtype=np.float32)

# Each segment's length total by (segment id, field): a segment's documents and lengths never change.
_LENGTH_TOTALS_KEPT = 4096
_length_totals = BoundedMemo(_LENGTH_TOTALS_KEPT)
_install_lock = threading.Lock()
_installed = False


class WhooshVersionError(RuntimeError):
    """The installed Whoosh is not the release this product reads and writes."""


@dataclass(frozen=True)
class PostingList:
    """One term's postings in one segment, as arrays, with what each block of 128 can score at most.

    ``ids`` are ascending document numbers (``int32``), ``weights`` their term frequencies
    (``float32``); block ``b`` holds ``ids[block_ends[b-1]:block_ends[b]]``, its highest weight is
    ``block_max_weights[b]`` and its shortest field length ``block_min_lengths[b]`` (Whoosh keeps
    both in each block's header).
    """

    ids: np.ndarray
    weights: np.ndarray
    block_ends: np.ndarray
    block_max_weights: np.ndarray
    block_min_lengths: np.ndarray


EMPTY_POSTINGS = PostingList(_NO_IDS, _NO_WEIGHTS, np.zeros(0, np.int64), _NO_WEIGHTS, _NO_WEIGHTS)

_SHIPPED = {
    "add_document": writing.SegmentWriter.add_document,
    "add_postings": W3FieldWriter.add_postings,
    "PostingPool": writing.PostingPool,
    "open_file": CompoundStorage.open_file,
}


def _faster():
    """This product's writing and reading, for :func:`install` (imported then: they use this module)."""
    from index import fast_writing, posting_blocks, term_pool

    return {
        "add_document": fast_writing.add_document,
        "add_postings": posting_blocks.add_postings,
        "PostingPool": term_pool.TermPool,
        "open_file": mapped_files.open_file,
    }


def check_version():
    """Refuse a Whoosh other than release 2.7.4 of the ``Whoosh`` distribution.

    :raises WhooshVersionError: naming what is installed and the command that fixes it.
    """
    found = tuple(getattr(whoosh, "__version__", ()))
    providers = importlib.metadata.packages_distributions().get("whoosh", [])
    fix = "install the pinned release: pip install -r requirements.txt (whoosh==2.7.4)"
    if found != SUPPORTED_VERSION:
        shown = ".".join(map(str, found)) or "unknown"
        raise WhooshVersionError(f"Whoosh {shown} is installed, but this product reads and writes 2.7.4's files; {fix}")
    if providers and SUPPORTED_DISTRIBUTION not in providers:
        raise WhooshVersionError(
            f"the 'whoosh' module comes from {', '.join(providers)}, not from the Whoosh 2.7.4 release; "
            f"uninstall it and {fix}"
        )


def install():
    """Check Whoosh, then read segment files from the memory map and write with the faster writer, in this process.

    Safe to call any number of times: the version is checked on every call, the rest happens once.

    :raises WhooshVersionError: when Whoosh is not 2.7.4 or an internal this product reads has changed.
    """
    global _installed
    check_version()
    with _install_lock:
        if _installed:
            return
        _self_test()
        _apply(_faster())
        _installed = True


class shipped:
    """Run a block with Whoosh's own writing and reading (for side-by-side comparisons), then restore.

    Used by the tests that compare the files of both writers and by the plain-Whoosh baselines of
    the benchmarks; never by the product.
    """

    def __enter__(self):
        self._before = {name: _current(name) for name in _SHIPPED}
        _apply(_SHIPPED)
        return self

    def __exit__(self, *exc_info):
        _apply(self._before)
        return False


def _current(name):
    if name == "add_document":
        return writing.SegmentWriter.add_document
    if name == "add_postings":
        return W3FieldWriter.add_postings
    if name == "PostingPool":
        return writing.PostingPool
    return CompoundStorage.open_file


def _apply(methods):
    writing.SegmentWriter.add_document = methods["add_document"]
    W3FieldWriter.add_postings = methods["add_postings"]
    writing.PostingPool = methods["PostingPool"]
    CompoundStorage.open_file = methods["open_file"]


def segment_key(reader):
    """What identifies a segment's files: its id (random, chosen when the segment was written).

    :param reader: a Whoosh ``SegmentReader``.
    :returns: a hashable key, or None when the reader is not one segment.
    """
    # Kept on the reader (one per segment, never reused for another): a weak-keyed dict costs as much as working it out.
    key = getattr(reader, "_kb_segment_key", False)
    if key is False:
        segment = reader.segment() if reader.is_atomic() and hasattr(reader, "segment") else None
        key = None if segment is None else segment.segment_id()
        reader._kb_segment_key = key
    return key


def segment_file(reader, extension):
    """The bytes of one file of a segment (e.g. its posting arrays), over the segment's memory map when it is
    mapped; None when the segment has no such file.

    :param reader: a Whoosh ``SegmentReader``.
    :param extension: the file's extension, e.g. ``".pla"``.
    :returns: a ``memoryview`` or ``bytes``, or None.
    """
    if not reader.is_atomic() or not hasattr(reader, "segment"):
        return None
    name = reader.segment().make_filename(extension)
    storage = reader.storage()
    if not storage.file_exists(name):
        return None
    opened = storage.open_file(name)
    if isinstance(opened, mapped_files.MappedFile):
        return opened._buf
    try:
        return opened.read()
    finally:
        opened.close()


def deleted_documents(reader):
    """The document numbers deleted in one segment.

    :param reader: a Whoosh ``SegmentReader``.
    :returns: an ``int64`` array (empty when none are).
    """
    if not reader.has_deletions():
        return np.zeros(0, dtype=np.int64)
    return np.fromiter(reader.segment().deleted_docs(), dtype=np.int64)


def posting_list(reader, fieldname, term_bytes):
    """Every posting of one term in one segment (deleted documents included), read without a file cursor.

    Whoosh stores a posting list either inside the term's entry (short lists) or as blocks of up to
    128 postings in the postings file, each a header (length, last id, highest weight, compression,
    shortest and longest field length) and a pickle, zlib-compressed when that was smaller, of
    delta-coded ids and weights. Reading each block at its offset of the memory-mapped file keeps
    this safe to call from several threads at once.

    :param reader: a Whoosh ``SegmentReader``.
    :param fieldname: the field.
    :param term_bytes: the term as the field encodes it.
    :returns: a :class:`PostingList` (:data:`EMPTY_POSTINGS` when the segment lacks the term).
    """
    if (fieldname, term_bytes) not in reader:
        return EMPTY_POSTINGS
    terms = reader._terms
    try:
        info = terms.term_info(fieldname, term_bytes)
    except TermNotFound:
        return EMPTY_POSTINGS
    if info._inlined is not None:
        ids, weights, _ = info._inlined
        return _one_block(np.array(ids, dtype=np.int32), np.array(weights, dtype=np.float32), reader, fieldname)
    return _read_blocks(terms._postfile, info._offset)


def _one_block(ids, weights, reader, fieldname):
    lengths = np.frombuffer(length_bytes(reader, fieldname), dtype=np.uint8)[ids] if len(ids) else ids
    return PostingList(
        ids,
        weights,
        np.array([len(ids)], dtype=np.int64),
        np.array([weights.max() if len(ids) else 0.0], dtype=np.float32),
        np.array([byte_to_length(int(lengths.min())) if len(ids) else 0], dtype=np.float32),
    )


def _read_blocks(postfile, offset):
    if bytes(postfile.get(offset, 4)) != _POSTINGS_MAGIC:
        raise WhooshVersionError(f"unexpected posting list header at offset {offset}: not written by Whoosh 2.7.4")
    position = offset + 4
    deltas, weights, ends, last_ids, max_weights, min_lengths = [], [], [], [], [], []
    while True:
        length = _INT.unpack(bytes(postfile.get(position, 4)))[0]
        block = BytesIO(bytes(postfile.get(position + 4, abs(length))))
        count, last_id, max_weight, compressed, min_length, _ = pickle.load(block)
        data = block.read()
        block_ids, block_weights, _ = pickle.loads(zlib.decompress(data) if compressed else data)
        deltas.extend(block_ids)
        if block_weights is None:
            weights.extend([1.0] * count)
        elif isinstance(block_weights, float):
            weights.extend([block_weights] * count)
        else:
            weights.extend(block_weights)
        ends.append(len(deltas))
        last_ids.append(last_id)
        max_weights.append(max_weight)
        min_lengths.append(byte_to_length(min_length))
        if length < 0:
            break
        position += 4 + length
    ids = np.array(deltas, dtype=np.int64)
    # Each block's ids are deltas counted from 0: its first delta is made relative to the previous
    # block's last id, so one running sum over the whole list restores every id.
    if len(ends) > 1:
        ids[ends[:-1]] -= np.array(last_ids[:-1], dtype=np.int64)
    return PostingList(
        np.cumsum(ids).astype(np.int32),
        np.array(weights, dtype=np.float32),
        np.array(ends, dtype=np.int64),
        np.array(max_weights, dtype=np.float32),
        np.array(min_lengths, dtype=np.float32),
    )


def document_lengths(perdoc, fieldname):
    """Each document's length in a field as ``doc_field_length`` gives it (its length byte, decoded), read in one go.

    :param perdoc: a Whoosh ``W3PerDocReader`` (the per-document reader of a segment being written).
    :param fieldname: an indexed, scorable field.
    :returns: an ``int64`` array indexed by document number (0 where a document lacks the field).
    """
    doc_count = perdoc.doc_count_all()
    column = perdoc._cached_reader(_LENGTH_COLUMN.format(fieldname), LENGTHS_COLUMN)
    if column is None:
        return np.zeros(doc_count, dtype=np.int64)
    if column._fixedlen != 1:
        raise WhooshVersionError(f"field lengths of {fieldname!r} are not one byte each: not written by Whoosh 2.7.4")
    stored = bytes(column._dbfile.get(column._basepos, column._count))
    return _DECODED_LENGTHS[np.frombuffer(stored + bytes(doc_count - len(stored)), dtype=np.uint8)]


def length_bytes(reader, fieldname):
    """The length byte of every document of one segment for one field (0 where a document lacks the field).

    :param reader: a Whoosh ``SegmentReader``.
    :param fieldname: an indexed, scorable field.
    :returns: ``bytes``, one per document number.
    """
    doc_count = reader.doc_count_all()
    column = reader._perdoc._cached_reader(_LENGTH_COLUMN.format(fieldname), LENGTHS_COLUMN)
    if column is None:
        return bytes(doc_count)
    if column._fixedlen != 1:
        raise WhooshVersionError(f"field lengths of {fieldname!r} are not one byte each: not written by Whoosh 2.7.4")
    stored = bytes(column._dbfile.get(column._basepos, column._count))
    return stored + bytes(doc_count - len(stored))


def length_total(reader, fieldname):
    """The sum of every document's length in a field as its length byte keeps it, over every segment of a reader
    (deleted documents included, as Whoosh counts them).

    Whoosh's own total (``field_length``) adds the exact lengths of the documents written into a segment and the
    decoded bytes of those merged into it, so it depends on how the calls were batched into commits: two servers
    holding the same calls would average lengths, and so score, slightly apart. This total depends only on the
    documents. Each segment's is computed once.

    :param reader: a Whoosh reader (one segment, or several).
    :param fieldname: an indexed, scorable field.
    :returns: an ``int``.
    """
    total = 0
    for segment_reader, _offset in reader.leaf_readers():
        key = (segment_key(segment_reader), fieldname)
        found = _length_totals.get(key) if key[0] is not None else None
        if found is None:
            counts = np.bincount(np.frombuffer(length_bytes(segment_reader, fieldname), dtype=np.uint8), minlength=256)
            found = int(counts @ _DECODED_LENGTHS)
            if key[0] is not None:
                _length_totals.keep(key, found)
        total += found
    return total


def _self_test():
    """Read back a small index written through every internal above; raise if anything differs.

    The index is written in a private temporary folder: Whoosh's in-memory storage spills its columns to a folder
    named after the index in the system's temporary folder, which two processes starting at once would share.
    """
    with tempfile.TemporaryDirectory(prefix="kb-whoosh-self-test-") as folder:
        _check_internals(folder)


def _check_internals(folder):
    from whoosh.fields import ID, TEXT, Schema
    from whoosh.filedb.filestore import FileStorage

    words = ["alpha"] * 300 + ["beta"]
    index = FileStorage(folder).create_index(Schema(id=ID(stored=True), text=TEXT(phrase=False)))
    writer = index.writer()
    for number, word in enumerate(words):
        writer.add_document(id=str(number), text=f"{word} {word} gamma" if number % 2 else word)
    writer.commit()
    try:
        with index.searcher() as searcher:
            reader = searcher.reader()
            alpha = posting_list(reader, "text", b"alpha")
            lengths = length_bytes(reader, "text")
            found = {
                "posting ids": alpha.ids.tolist() == list(range(300)),
                "posting weights": alpha.weights.tolist() == [2.0 if n % 2 else 1.0 for n in range(300)],
                "posting blocks": alpha.block_ends.tolist() == [128, 256, 300],
                "inlined postings": posting_list(reader, "text", b"beta").ids.tolist() == [300],
                "field lengths": len(lengths) == 301 and byte_to_length(lengths[1]) == 3,
                "segment id": segment_key(reader) is not None,
            }
    except (AttributeError, TypeError, ValueError, KeyError) as error:
        found = {f"{type(error).__name__}: {error}": False}
    differing = [what for what, same in found.items() if not same]
    if differing:
        raise WhooshVersionError(
            f"this Whoosh differs from 2.7.4 inside ({', '.join(differing)}); "
            "install the pinned release: pip install -r requirements.txt"
        )
