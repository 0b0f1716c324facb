"""``vmstate-edu extract``: RAM blocks as files, plus ``desc.json`` and
``state.json`` — everything written to a temporary name and renamed into
place, and no name taken from the stream can leave the output folder."""

from __future__ import annotations

import json
import os
import re
import tempfile
from typing import Any

from .errors import VMStateError
from .qemufile import _umask, write_atomic
from .ram import (
    PAGE_KINDS,
    RAM_SAVE_FLAG_COMPRESS_PAGE,
    RAM_SAVE_FLAG_PAGE,
    RAM_SAVE_FLAG_XBZRLE,
    page_bytes,
)
from .stream import Stream

_UNSAFE = re.compile(r"[^A-Za-z0-9._@+-]")


def safe_name(name: str) -> str:
    """A file name for a RAM block name from the stream: every character
    outside ``[A-Za-z0-9._@+-]`` becomes ``_``, leading dots are dropped, so
    ``../../etc/passwd`` becomes ``_.._etc_passwd``; never empty."""
    out = _UNSAFE.sub("_", name).lstrip(".")
    return (out or "_")[:200]


def inside(folder: str, name: str) -> str:
    """``folder/name``, refusing anything that would resolve outside ``folder``."""
    base = os.path.realpath(folder)
    path = os.path.realpath(os.path.join(base, name))
    if os.path.commonpath([base, path]) != base or path == base:
        raise VMStateError(f"refusing to write {name!r} outside {folder!r}")
    return path


def write_json_atomic(path: str, obj: Any) -> None:
    write_atomic(path, (json.dumps(obj, indent=4, separators=(",", ": ")) + "\n").encode())


def extract(stream: Stream, outdir: str) -> dict[str, str]:
    """Write RAM blocks, ``desc.json`` and ``state.json`` into ``outdir``.
    Returns {block name: file name}."""
    from .analyze import analyze_state

    os.makedirs(outdir, exist_ok=True)
    ram = stream.ram
    files: dict[str, str] = {}
    writers: list[_BlockFile] = []
    try:
        for block in ram.blocks:
            fname = safe_name(block.idstr) + ".bin"
            while fname in files.values() or fname in ("desc.json", "state.json",
                                                       "ram-blocks.json"):
                fname = "_" + fname
            files[block.idstr] = fname
            writers.append(_BlockFile(inside(outdir, fname), block.used_length, ram.page_size))
        _write_pages(ram, writers)
        for w in writers:
            w.finish()
    finally:
        for w in writers:
            w.discard()
    write_json_atomic(inside(outdir, "desc.json"), stream.vmdesc)
    write_json_atomic(inside(outdir, "state.json"), analyze_state(stream))
    write_json_atomic(inside(outdir, "ram-blocks.json"), files)
    return files


_IOV_MAX = 512


class _BlockFile:
    """One RAM block's file, written at a temporary name (sparse: it starts
    as a hole of the block's size) and renamed into place by :meth:`finish`.
    Pages at consecutive addresses go out in one ``pwritev``."""

    def __init__(self, final: str, size: int, psize: int):
        self.final = final
        fd, self.tmp = tempfile.mkstemp(prefix=".tmp-", dir=os.path.dirname(final))
        self.fd: int | None = fd
        os.ftruncate(fd, size)
        self.written = bytearray(size // psize + 1)  # pages holding data: a zero page
        self.bufs: list[Any] = []                     # there must be written out
        self.start = self.nxt = -1

    def add(self, addr: int, data: Any) -> None:
        if addr != self.nxt or len(self.bufs) >= _IOV_MAX:
            self.flush()
            self.start = addr
        self.bufs.append(data)
        self.nxt = addr + len(data)

    def flush(self) -> None:
        if self.bufs:
            _pwritev_all(self.fd, self.bufs, self.start)
            self.bufs.clear()
        self.start = self.nxt = -1  # the next page starts a run of its own

    def finish(self) -> None:
        self.flush()
        os.fchmod(self.fd, 0o666 & ~_umask())
        os.close(self.fd)
        self.fd = None
        os.replace(self.tmp, self.final)
        self.tmp = None

    def discard(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
        if self.tmp is not None and os.path.exists(self.tmp):
            os.unlink(self.tmp)


def _write_pages(ram: Any, writers: list[_BlockFile]) -> None:
    """One pass over the page records, in stream order: every page's last
    content lands at its address; a zero page is written only where it
    replaces earlier data or has a non-zero fill (the files start sparse)."""
    psize, am = ram.page_size, ram.addr_mask
    rb, base = ram.source._rbuf, ram.source.base
    data_flags = RAM_SAVE_FLAG_PAGE | RAM_SAVE_FLAG_COMPRESS_PAGE
    for w, b, d in zip(ram.rec_word, ram.rec_block, ram.rec_data):
        if b < 0 or not w & PAGE_KINDS:
            continue
        addr = w & am
        out = writers[b]
        if w & data_flags:
            out.written[addr // psize] = 1
            out.add(addr, rb[d - base:d - base + psize] if w & RAM_SAVE_FLAG_PAGE
                    else page_bytes(ram, w, d))
        elif w & RAM_SAVE_FLAG_XBZRLE:  # a delta to what the file holds there now
            out.flush()
            out.written[addr // psize] = 1
            out.add(addr, page_bytes(ram, w, d, os.pread(out.fd, psize, addr)))
        elif d or out.written[addr // psize]:
            out.add(addr, bytes([d]) * psize)


def _pwritev_all(fd: int, bufs: list[Any], offset: int) -> None:
    if not hasattr(os, "pwritev"):  # not on every platform
        for b in bufs:
            offset += os.pwrite(fd, b, offset)
        return
    total = sum(len(b) for b in bufs)
    done = os.pwritev(fd, bufs, offset)
    if done < total:  # a short write: finish piece by piece
        view = memoryview(b"".join(bytes(b) for b in bufs))
        while done < total:
            done += os.pwrite(fd, view[done:], offset + done)
