"""QEMUFile: a big-endian byte stream, mirroring ``migration/qemu-file.c``.

Writing goes to memory (``getvalue()``); reading works over bytes, a
memoryview or a memory-mapped file, so a multi-gigabyte stream is never
copied. Every read checks the remaining length first: a length read from
the stream can never make us allocate more than the stream holds.
"""

from __future__ import annotations

import mmap
import os
import struct
from typing import BinaryIO

from .errors import StreamTruncated, VMStateError

_B = struct.Struct(">B")
_BE16 = struct.Struct(">H")
_BE32 = struct.Struct(">I")
_BE64 = struct.Struct(">Q")


class QEMUFile:
    """``QEMUFile()`` writes to memory; ``QEMUFile(data)`` reads ``data``."""

    def __init__(self, data: bytes | bytearray | memoryview | None = None, *, base: int = 0):
        self.writable = data is None
        self._wbuf = bytearray() if data is None else None
        self._rbuf = memoryview(data).cast("B") if data is not None else None
        self._pos = 0
        self.base = base  # absolute offset of byte 0 (for sub-streams)
        self._path: str | None = None
        self._mmap: mmap.mmap | None = None
        self._fh: BinaryIO | None = None

    # -- construction ------------------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike, mode: str = "rb") -> QEMUFile:
        """Open a file: ``"rb"`` maps it read-only, ``"wb"`` writes to a
        temporary name that ``close()`` renames into place."""
        if mode == "rb":
            fh = open(path, "rb")
            size = os.fstat(fh.fileno()).st_size
            if size == 0:
                fh.close()
                return cls(b"")
            mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
            if size >= 1 << 20 and hasattr(mm, "madvise") and hasattr(mmap, "MADV_WILLNEED"):
                # a reader touches every page record's header: map it all now in bulk
                # instead of one page fault at a time (about 10% of indexing 270 MB)
                mm.madvise(mmap.MADV_WILLNEED)
            f = cls(mm)
            f._mmap, f._fh = mm, fh
            return f
        if mode == "wb":
            f = cls()
            f._path = os.fspath(path)
            return f
        raise ValueError(f"mode must be 'rb' or 'wb', not {mode!r}")

    def close(self) -> None:
        """Flush a file opened for writing (atomically); release a mapping."""
        if self._path is not None and self._wbuf is not None:
            write_atomic(self._path, self._wbuf)
            self._path = None
        if self._rbuf is not None and self._mmap is not None:
            self._rbuf.release()
            self._rbuf = None
            self._mmap.close()
            self._mmap = None
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> QEMUFile:
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is not None:
            self._path = None  # never rename a half-written file into place
        self.close()

    # -- position ----------------------------------------------------------
    def tell(self) -> int:
        """Absolute offset of the next byte (``qemu_file_transferred``)."""
        return self.base + (len(self._wbuf) if self._wbuf is not None else self._pos)

    def __len__(self) -> int:
        return len(self._wbuf) if self._wbuf is not None else len(self._rbuf)

    def remaining(self) -> int:
        return len(self._rbuf) - self._pos

    def getvalue(self) -> bytes:
        if self._wbuf is None:
            return bytes(self._rbuf)
        return bytes(self._wbuf)

    def slice(self, start: int, end: int) -> bytes:
        """Bytes between two absolute offsets (for trace records)."""
        buf = self._wbuf if self._wbuf is not None else self._rbuf
        return bytes(buf[start - self.base:end - self.base])

    def view(self, start: int, end: int) -> memoryview:
        """A zero-copy view of a read stream between two absolute offsets."""
        return self._rbuf[start - self.base:end - self.base]

    # -- writing (qemu_put_*) ----------------------------------------------
    def put_byte(self, v: int) -> None:
        self._wbuf.append(v & 0xFF)

    def put_be16(self, v: int) -> None:
        self._wbuf += _BE16.pack(v & 0xFFFF)

    def put_be32(self, v: int) -> None:
        self._wbuf += _BE32.pack(v & 0xFFFFFFFF)

    def put_be64(self, v: int) -> None:
        self._wbuf += _BE64.pack(v & 0xFFFFFFFFFFFFFFFF)

    def put_buffer(self, data: bytes | bytearray | memoryview) -> None:
        self._wbuf += data

    def put_struct(self, s: struct.Struct, *values) -> None:
        self._wbuf += s.pack(*values)

    # -- reading (qemu_get_*) ----------------------------------------------
    def _need(self, n: int, what: str) -> int:
        pos = self._pos
        if n < 0 or pos + n > len(self._rbuf):
            have = len(self._rbuf) - pos
            raise StreamTruncated(
                f"stream ends: {what} needs {n} byte{'s' if n != 1 else ''}, {have} left",
                offset=self.base + pos)
        self._pos = pos + n
        return pos

    def get_byte(self) -> int:
        pos = self._need(1, "a byte")
        return self._rbuf[pos]

    def get_be16(self) -> int:
        return _BE16.unpack_from(self._rbuf, self._need(2, "a be16"))[0]

    def get_be32(self) -> int:
        return _BE32.unpack_from(self._rbuf, self._need(4, "a be32"))[0]

    def get_be64(self) -> int:
        return _BE64.unpack_from(self._rbuf, self._need(8, "a be64"))[0]

    def get_struct(self, s: struct.Struct) -> tuple:
        return s.unpack_from(self._rbuf, self._need(s.size, f"{s.size} bytes"))

    def get_buffer(self, n: int) -> bytes:
        pos = self._need(n, "a buffer")
        return bytes(self._rbuf[pos:pos + n])

    def skip(self, n: int) -> None:
        """``qemu_file_skip``: move on ``n`` bytes (checked)."""
        self._need(n, "skipped bytes")

    def seek(self, offset: int) -> None:
        """Jump to an absolute offset inside a read stream."""
        rel = offset - self.base
        if not 0 <= rel <= len(self._rbuf):
            raise VMStateError(f"seek outside the stream ({len(self._rbuf)} bytes)",
                               offset=offset)
        self._pos = rel

    def get_counted_string(self) -> str:
        """``qemu_get_counted_string``: a length byte, then that many bytes."""
        n = self.get_byte()
        return self.get_buffer(n).decode("latin-1")

    # -- peeking (qemu_peek_*) ---------------------------------------------
    def peek_byte(self, offset: int = 0) -> int | None:
        """The byte ``offset`` ahead, or None past the end (QEMU then flags an error)."""
        pos = self._pos + offset
        return self._rbuf[pos] if pos < len(self._rbuf) else None

    def peek_buffer(self, n: int, offset: int = 0) -> bytes:
        """Up to ``n`` bytes ``offset`` ahead (fewer at the end, like qemu_peek_buffer)."""
        pos = self._pos + offset
        return bytes(self._rbuf[pos:pos + n])


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: str | os.PathLike, data: bytes | bytearray | memoryview) -> None:
    """Write ``data`` to a temporary name beside ``path``, then rename it into place."""
    import tempfile  # only when writing a file (the command line starts faster)

    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
