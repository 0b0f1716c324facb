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
from .ram import PAGE_KINDS, RAM_SAVE_FLAG_COMPRESS_PAGE, RAM_SAVE_FLAG_PAGE, page_bytes
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
    used: set[str] = set()
    records = _records_by_block(ram)
    for bi, block in enumerate(ram.blocks):
        fname = safe_name(block.idstr) + ".bin"
        while fname in used or fname in ("desc.json", "state.json", "ram-blocks.json"):
            fname = "_" + fname
        used.add(fname)
        final = inside(outdir, fname)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=os.path.realpath(outdir))
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.truncate(block.used_length)
                _write_block(fh, stream, records.get(bi, []))
            os.chmod(tmp, 0o666 & ~_umask())
            os.replace(tmp, final)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        files[block.idstr] = fname
    write_json_atomic(inside(outdir, "desc.json"), stream.vmdesc)
    write_json_atomic(inside(outdir, "state.json"), analyze_state(stream))
    write_json_atomic(inside(outdir, "ram-blocks.json"), files)
    return files


def _records_by_block(ram: Any) -> dict[int, list[tuple[int, int]]]:
    """(word, data) of every page record, per block, in stream order (one pass)."""
    out: dict[int, list[tuple[int, int]]] = {}
    for w, b, d in zip(ram.rec_word, ram.rec_block, ram.rec_data):
        if b >= 0 and w & PAGE_KINDS:
            out.setdefault(b, []).append((w, d))
    return out


_IOV_MAX = 512


def _write_block(fh: Any, stream: Stream, records: list[tuple[int, int]]) -> None:
    """Write a block's pages at their addresses: runs of pages at consecutive
    addresses go out in one ``pwritev``; a zero page is written only where it
    replaces earlier data or has a non-zero fill (the file starts sparse)."""
    ram = stream.ram
    psize = ram.page_size
    src = ram.source
    fh.flush()
    fd = fh.fileno()
    am = ram.addr_mask
    written: set[int] = set()
    bufs: list[Any] = []
    start = nxt = -1

    def flush() -> None:
        if bufs:
            _pwritev_all(fd, bufs, start)
            bufs.clear()

    for w, d in records:
        addr = w & am
        if w & RAM_SAVE_FLAG_PAGE:
            data: Any = src.view(d, d + psize)
            written.add(addr)
        elif w & RAM_SAVE_FLAG_COMPRESS_PAGE:
            data = page_bytes(ram, w, d)
            written.add(addr)
        elif d or addr in written:
            data = bytes([d]) * psize
        else:
            continue
        if addr != nxt or len(bufs) >= _IOV_MAX:
            flush()
            start = addr
        bufs.append(data)
        nxt = addr + psize
    flush()


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
