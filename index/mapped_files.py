"""Reading an index's segment files from the shared memory map instead of a private copy.

Whoosh 2.7.4 maps each compound segment file (``*.seg``) into memory, then opens every file
inside it (postings, stored fields, columns) as a ``BufferFile`` whose ``BytesIO`` copies the
whole file into the process. Every reader thus held most of the index a second time, in
memory of its own: at 100,000 calls, 125 MB per searcher; at a million, over a gigabyte
in each gunicorn worker.

:class:`MappedFile` reads the same bytes straight from the map: random reads (``get``) slice
it as Whoosh already did, and sequential reads (``read``, ``seek``, ``read_pickle``) go
through a small cursor of its own. The pages stay the operating system's file cache,
shared by every worker, reader and searcher.

Each thread has its own cursor over a file (Whoosh's own, a ``BytesIO`` per file, is shared),
so Whoosh's matchers, which seek to a posting block and then read its header, may run in
several threads on one reader at once (``SearchService`` is shared by a process's threads).
Where the operating system refused the memory map, the file is read into memory once, under
a lock, and served the same way: no thread ever moves a file position another thread reads.

``index.whoosh_compat.install`` makes Whoosh's compound storage open files this way.
"""

import pickle
import struct
import threading
from io import BytesIO

from whoosh.filedb.compound import CompoundStorage
from whoosh.filedb.filestore import StorageError
from whoosh.filedb.structfile import BufferFile

_SHIPPED_OPEN_FILE = CompoundStorage.open_file
# A pickled block header takes about 60 bytes; a longer pickle is read again with a bigger window.
_FIRST_PICKLE_WINDOW = 512
_INT = struct.Struct("!i")
_LINE_CHUNK = 4096
# Reading a segment that could not be mapped moves the segment file's one position: one thread at a time.
_UNMAPPED_READ = threading.Lock()


class _Cursor:
    """A read-only file over a memory view, with a position of its own, copying only what is read."""

    def __init__(self, view):
        self._view = view
        self._position = 0

    def read(self, size=-1):
        start = self._position
        end = len(self._view) if size is None or size < 0 else min(start + size, len(self._view))
        self._position = max(end, start)
        return bytes(self._view[start:end])

    def readline(self, size=-1):
        start = self._position
        end = len(self._view) if size is None or size < 0 else min(start + size, len(self._view))
        stop = end
        for chunk_start in range(start, end, _LINE_CHUNK):
            newline = bytes(self._view[chunk_start : min(chunk_start + _LINE_CHUNK, end)]).find(b"\n")
            if newline >= 0:
                stop = chunk_start + newline + 1
                break
        return self.read(stop - start)

    def seek(self, offset, whence=0):
        if whence == 1:
            offset += self._position
        elif whence == 2:
            offset += len(self._view)
        self._position = offset
        return offset

    def tell(self):
        return self._position

    def close(self):
        self._view = memoryview(b"")

    def __iter__(self):
        while True:
            line = self.readline()
            if not line:
                return
            yield line


class MappedFile(BufferFile):
    """A file inside a compound segment, read from the segment's memory map without copying it;
    each thread reads through a cursor of its own."""

    def __init__(self, view, name=None, onclose=None):
        self._buf = view
        self._name = name
        self._cursors = threading.local()
        self.onclose = onclose
        self.is_real = False
        self.is_closed = False

    @property
    def file(self):
        """This thread's cursor over the file (Whoosh reads and seeks through ``self.file``)."""
        cursor = getattr(self._cursors, "cursor", None)
        if cursor is None:
            cursor = self._cursors.cursor = _Cursor(self._buf)
        return cursor

    def seek(self, offset, whence=0):
        """Move the read position, as ``file.seek`` does."""
        return self.file.seek(offset, whence)

    def tell(self):
        """The read position."""
        return self.file._position

    def read_int(self):
        """Read a big-endian signed 32-bit integer at the read position and move past it."""
        cursor = self.file
        position = cursor._position
        cursor._position = position + _INT.size
        return _INT.unpack_from(self._buf, position)[0]

    def read_pickle(self):
        """Unpickle the object at the read position and move past it."""
        cursor = self.file
        start = cursor._position
        window = _FIRST_PICKLE_WINDOW
        while True:
            chunk = BytesIO(self._buf[start : start + window])
            try:
                value = pickle.load(chunk)
            except (EOFError, pickle.UnpicklingError):
                if start + window >= len(self._buf):
                    raise
                window *= 8
                continue
            cursor._position = start + chunk.tell()
            return value


def open_file(self, name, *args, **kwargs):
    """``CompoundStorage.open_file`` giving a :class:`MappedFile` over the segment's memory map, or over
    the file's bytes read once when the segment could not be mapped."""
    if self.is_closed:
        raise StorageError("Storage was closed")
    offset, length = self.range(name)
    if not self._source:
        with _UNMAPPED_READ:
            return MappedFile(memoryview(_SHIPPED_OPEN_FILE(self, name, *args, **kwargs).read(length)), name=name)
    return MappedFile(memoryview(self._source)[offset : offset + length], name=name)
