"""Long posting lists written a second time as plain arrays, beside Whoosh's blocks, in the segment itself.

Whoosh stores a posting list as blocks of 128 postings, each a zlib-compressed pickle: a search that needs a
common word's list at a million calls decodes thousands of blocks first, and every worker keeps its own decoded
copy. When the segment writer (``index.fast_writing``) writes a list of at least ``MIN_POSTINGS`` postings, it
also writes, into a file of the segment (extension ``.pla``, packed into the segment's compound file with the
others and deleted with it), the list's document numbers, weights and per-block maxima as raw arrays. A reader
maps them straight from the segment's memory map (``index.mapped_files``): nothing to decode, and the pages are
the operating system's file cache, shared by every worker.

Layout: the arrays of each term one after the other, each aligned to 8 bytes; then a pickled directory
``{(field, term bytes): (offset, count, blocks, weight type)}``; then its offset and length (two unsigned
64-bit integers) and the magic ``KBPLA001``. Whoosh's own files are unchanged, so Whoosh as shipped reads the
index as before, and a segment without the file (written by Whoosh's own writer) is simply decoded.
"""

import pickle
import struct

import numpy as np
from whoosh.util.numeric import _length_byte_cache

from analyzers.memo import BoundedMemo

EXTENSION = ".pla"
MAGIC = b"KBPLA001"
MIN_POSTINGS = 1024
_FOOTER = struct.Struct("<QQ8s")
_WEIGHT_TYPES = {"u1": np.uint8, "f4": np.float32}
# Lists read from one file kept as arrays (their headers only: the data stays in the map).
KEPT_LISTS = 8_192
# Whoosh quantises a field length to one byte and back; block minima are kept as the length that byte gives.
_LENGTHS = np.array(_length_byte_cache, dtype=np.int64)
_LONGEST_EXACT = 106374


def quantized_lengths(lengths):
    """Field lengths as Whoosh stores them in a block header: the length its length byte decodes to.

    :param lengths: an array of lengths (0 where a document lacks the field).
    :returns: a ``float32`` array.
    """
    places = np.searchsorted(_LENGTHS, lengths, side="left")
    places = np.where(lengths >= _LONGEST_EXACT, 255, places)
    return _LENGTHS[np.minimum(places, 255)].astype(np.float32)


class PostingFileWriter:
    """Writes the arrays of one segment's long posting lists (see the module docstring)."""

    def __init__(self, handle):
        """
        :param handle: a Whoosh ``StructFile`` created for the segment (``segment.create_file(storage, EXTENSION)``).
        """
        self.handle = handle
        self.directory = {}
        self.position = 0

    def add(self, field, term_bytes, ids, weights, block_counts, block_max_weights, block_min_lengths):
        """Write one term's arrays, when its list is long enough to be worth it.

        :param ids: the document numbers, ascending.
        :param weights: their weights.
        :param block_counts: postings in each of Whoosh's blocks, in order.
        :param block_max_weights: each block's highest weight.
        :param block_min_lengths: each block's shortest field length (raw, 0 when unknown).
        """
        if len(ids) < MIN_POSTINGS:
            return
        weights = np.asarray(weights, dtype=np.float32)
        whole = np.array_equal(weights, np.floor(weights)) and weights.min() >= 0 and weights.max() < 256
        weight_type = "u1" if whole else "f4"
        parts = (
            np.asarray(ids, dtype=np.int32),
            weights.astype(_WEIGHT_TYPES[weight_type]),
            np.cumsum(np.asarray(block_counts, dtype=np.int64)),
            np.asarray(block_max_weights, dtype=np.float32),
            quantized_lengths(np.asarray(block_min_lengths, dtype=np.int64)),
        )
        self.directory[(field, term_bytes)] = (self.position, len(ids), len(block_counts), weight_type)
        for part in parts:
            self._write(part.tobytes())

    def _write(self, data):
        padding = -len(data) % 8
        self.handle.write(data + bytes(padding))
        self.position += len(data) + padding

    def close(self):
        """Write the directory and the footer, and close the file."""
        directory = pickle.dumps(self.directory, protocol=pickle.HIGHEST_PROTOCOL)
        offset = self.position
        self.handle.write(directory)
        self.handle.write(_FOOTER.pack(offset, len(directory), MAGIC))
        self.handle.close()


class PostingFile:
    """The long posting lists of one segment, read as arrays over the segment's memory map."""

    def __init__(self, buffer):
        """
        :param buffer: the whole file, as a ``memoryview`` (or bytes).
        :raises ValueError: when it is not such a file.
        """
        offset, length, magic = _FOOTER.unpack(bytes(buffer[len(buffer) - _FOOTER.size :]))
        if magic != MAGIC:
            raise ValueError("not a posting arrays file")
        self.buffer = buffer
        self.directory = pickle.loads(bytes(buffer[offset : offset + length]))
        self._read = BoundedMemo(KEPT_LISTS)

    def get(self, field, term_bytes):
        """A term's arrays, or None when its list was too short to be written here.

        :returns: ``(ids, weights, block_ends, block_max_weights, block_min_lengths)``, read-only arrays
            over the file.
        """
        key = (field, term_bytes)
        found = self._read.get(key)
        if found is None:
            entry = self.directory.get(key)
            if entry is None:
                return None
            found = self._read.keep(key, self._arrays(entry))
        return found

    def _arrays(self, entry):
        position, count, blocks, weight_type = entry
        parts = []
        for dtype, length in (
            (np.int32, count),
            (_WEIGHT_TYPES[weight_type], count),
            (np.int64, blocks),
            (np.float32, blocks),
            (np.float32, blocks),
        ):
            parts.append(np.frombuffer(self.buffer, dtype=dtype, count=length, offset=position))
            size = np.dtype(dtype).itemsize * length
            position += size + (-size % 8)
        return tuple(parts)
