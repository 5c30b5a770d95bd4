"""Passage vectors on disk, keyed by the digest of the text they embed, shared by every process of a server.

Layout under the index folder, one folder per embedding model (its name says model file, package version and
cut, so a swap starts an empty folder instead of mixing vectors that cannot be compared)::

    index/vectors/<model>/vectors.f32   one float32 row per passage (L2-normalised)
    index/vectors/<model>/codes.u64     the sign bits of each row, for the first, cheap pass of a search
    index/vectors/<model>/digests.bin   the 32-byte sha256 of each row's text (``index.schema.passage_digest``)
    index/vectors/<model>/count         how many rows are complete (written last, atomically)
    index/vectors/<model>/writer.lock   held by the one process adding rows

Rows are only ever appended, so a reader maps the first ``count`` rows of each file and the operating system
shares their pages between workers. A vector depends only on the text and the model file, so every server that
embeds the same store holds the same vectors, whatever the order it embedded them in; a rebuilt index
generation keeps them all. A writer killed half-way leaves rows past ``count``, which the next writer cuts off.
"""

import fcntl
import os
import re
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.generations import IndexBusyError
from index.small_files import ReplacedFile, write_atomically

VECTORS_DIR = "vectors"
DIGEST_BYTES = 32
_UNSAFE = re.compile(r"[^A-Za-z0-9._=-]+")


def model_folder_name(model_name):
    """A folder name for a model name such as
    ``minilm-l6-int8/all-MiniLM-L6-v2.int8-blocks.onnx@313f8f1d546b/128-tokens``."""
    return _UNSAFE.sub("_", model_name).strip("_")


@dataclass(frozen=True)
class VectorSnapshot:
    """The complete rows at one moment: read-only views over the memory map, and each digest's row."""

    count: int
    vectors: np.ndarray
    codes: np.ndarray
    digests: np.ndarray
    rows: dict

    def row_of(self, digest_hex):
        """The row of a passage digest (hex), or None when its vector is not there yet."""
        # ``rows`` is shared with later snapshots, which may have added rows past this one's end.
        row = self.rows.get(digest_hex)
        return row if row is not None and row < self.count else None


def sign_codes(vectors):
    """The sign bit of every dimension, packed in 64-bit words: ``(n, dim)`` floats to ``(n, dim / 64)`` words.

    :param vectors: float32 rows; the dimension must be a multiple of 64.
    """
    return np.packbits(np.asarray(vectors) > 0, axis=1).view(np.uint64)


class VectorStore:
    """The vectors of one model in one data folder's index folder."""

    def __init__(self, index_root, model_name, dimension):
        """
        :param index_root: the index folder (``IndexHome.root``).
        :param model_name: the embedder's ``name``.
        :param dimension: the embedder's ``dimension`` (a multiple of 64).
        """
        if dimension % 64:
            raise ValueError(f"vectors of {dimension} dimensions: a multiple of 64 is needed for their sign codes")
        self.folder = Path(index_root) / VECTORS_DIR / model_folder_name(model_name)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._count = ReplacedFile(self.folder / "count")
        self.model_name = model_name
        self.dimension = dimension
        self._words = dimension // 64
        self._lock = threading.Lock()
        self._snapshot = None
        self._rows = {}
        self._read = 0

    # Reading

    def committed_count(self):
        """How many rows are complete on disk (0 before the first); cheap enough to call per search (a stat)."""
        try:
            return int((self._count.read() or "").strip() or 0)
        except ValueError:
            return 0

    def snapshot(self):
        """The complete rows now, re-mapped only when rows were added since the last call (cheap per search).

        :returns: a :class:`VectorSnapshot` (``count`` 0 when there are none).
        """
        count = self.committed_count()
        with self._lock:
            current = self._snapshot
            if current is not None and current.count == count:
                return current
            self._snapshot = self._map(count)
            return self._snapshot

    def _map(self, count):
        if count == 0:
            empty = np.zeros((0, self.dimension), dtype=np.float32)
            return VectorSnapshot(0, empty, sign_codes(empty), np.zeros((0, DIGEST_BYTES), np.uint8), {})
        vectors = np.memmap(self.folder / "vectors.f32", np.float32, "r", shape=(count, self.dimension))
        codes = np.memmap(self.folder / "codes.u64", np.uint64, "r", shape=(count, self._words))
        digests = np.memmap(self.folder / "digests.bin", np.uint8, "r", shape=(count, DIGEST_BYTES))
        # Only the rows added since the last snapshot are read into the dictionary (rows are never removed).
        raw = digests[self._read : count].tobytes()
        for offset in range(0, len(raw), DIGEST_BYTES):
            self._rows.setdefault(raw[offset : offset + DIGEST_BYTES].hex(), self._read + offset // DIGEST_BYTES)
        self._read = max(self._read, count)
        return VectorSnapshot(count, vectors, codes, digests, self._rows)

    # Writing (one process at a time, under :meth:`writing`)

    @contextmanager
    def writing(self, wait_s=0.0):
        """Hold the right to add rows.

        :param wait_s: how long to wait for another holder.
        :raises IndexBusyError: when another process holds it past ``wait_s``.
        """
        handle = open(self.folder / "writer.lock", "a+")
        try:
            deadline = time.monotonic() + wait_s
            while True:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise IndexBusyError(f"another process is adding vectors in {self.folder}") from None
                    time.sleep(0.05)
            self._cut_to(self.committed_count())
            yield self
        finally:
            handle.close()

    def _cut_to(self, count):
        """Drop rows past ``count`` that a writer killed half-way left behind."""
        for name, row_bytes in (
            ("vectors.f32", 4 * self.dimension),
            ("codes.u64", 8 * self._words),
            ("digests.bin", DIGEST_BYTES),
        ):
            path = self.folder / name
            if path.exists() and path.stat().st_size != count * row_bytes:
                with open(path, "r+b") as handle:
                    handle.truncate(count * row_bytes)

    def append(self, digests_hex, vectors):
        """Add rows and make them visible to readers (call inside :meth:`writing`).

        :param digests_hex: each row's passage digest (64 hex digits).
        :param vectors: float32 array ``(len(digests_hex), dimension)``, L2-normalised rows.
        :returns: the number of complete rows now.
        """
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.shape != (len(digests_hex), self.dimension):
            raise ValueError(f"expected {len(digests_hex)} vectors of {self.dimension}, got {vectors.shape}")
        count = self.committed_count()
        if not len(digests_hex):
            return count
        parts = (
            ("vectors.f32", vectors.tobytes()),
            ("codes.u64", sign_codes(vectors).tobytes()),
            ("digests.bin", b"".join(bytes.fromhex(digest) for digest in digests_hex)),
        )
        for name, data in parts:
            with open(self.folder / name, "ab") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        write_atomically(self.folder / "count", f"{count + len(digests_hex)}\n")
        return count + len(digests_hex)
