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
from .ram import RAM_SAVE_FLAG_PAGE, RAM_SAVE_FLAG_ZERO
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
                _write_block(fh, stream, bi)
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


def _write_block(fh: Any, stream: Stream, bi: int) -> None:
    ram = stream.ram
    psize = ram.page_size
    src = ram.source
    for w, b, d in zip(ram.rec_word, ram.rec_block, ram.rec_data):
        if b != bi:
            continue
        addr = w & ~0xFFF
        if w & RAM_SAVE_FLAG_PAGE:
            fh.seek(addr)
            fh.write(src.view(d, d + psize))
        elif w & RAM_SAVE_FLAG_ZERO and d:
            fh.seek(addr)
            fh.write(bytes([d]) * psize)
