"""Fast paths for the save and load loops (an optimisation QEMU's C does not
need): consecutive fields that are plain integers or arrays of them, with no
test and a version the stream has, are read or written with one ``struct``
call. Same bytes, same JSON; used only when tracing is off. On any problem
(a short stream, a value that does not fit, a missing attribute) the loops
fall back to the field-by-field path, which names the field."""

from __future__ import annotations

import struct
from typing import Any

from .fields import VMS_ARRAY, VMS_SINGLE, VMStateDescription, VMStateField
from .vmdesc import _quoted

_FLAT, _DOTTED, _ARRAY = 0, 1, 2


class Run:
    """Fields read or written together as one ``struct`` format."""

    __slots__ = ("fields", "struct", "size", "items", "json")

    def __init__(self, vmsd: VMStateDescription, fields: list[VMStateField]):
        self.fields = fields
        fmt = ">"
        items = []
        json = []
        i = 0
        for f in fields:
            code = f.info.fmt[1]
            n = f.num if f.flags & VMS_ARRAY else 1
            toks = f.accessor.tokens
            if f.flags & VMS_ARRAY:
                items.append((_ARRAY, f.accessor, None, i, n, f.start))
            elif len(toks) == 1 and isinstance(toks[0], str):
                items.append((_FLAT, f.accessor, toks[0], i, 1, 0))
            else:
                items.append((_DOTTED, f.accessor, None, i, 1, 0))
            fmt += f"{n}{code}" if n != 1 else code
            i += n
            if n:
                arr = f', "array_len": {n}' if n > 1 else ""
                json.append(f'{{"name": {_quoted(vmsd.json_name(f))}{arr}, '
                            f'"type": {_quoted(f.info.name)}, "size": {f.info.width}}}')
        self.struct = struct.Struct(fmt)
        self.size = self.struct.size
        self.items = items
        self.json = json

    def load(self, f: Any, obj: Any) -> bool:
        buf = f._rbuf
        pos = f._pos
        if pos + self.size > len(buf):
            return False
        vals = self.struct.unpack_from(buf, pos)
        try:
            for kind, acc, key, i, n, start in self.items:
                if kind == _FLAT:
                    setattr(obj, key, vals[i])
                elif kind == _DOTTED:
                    acc.set(obj, vals[i])
                else:
                    seq = acc.get_or_none(obj)
                    if not isinstance(seq, (list, bytearray)):
                        if seq is not None and not isinstance(seq, (bytes, tuple)):
                            return False  # something else is there: let the slow path say so
                        seq = bytearray(seq) if isinstance(seq, bytes) else list(seq or [])
                        acc.set(obj, seq)
                    if len(seq) < start + n:
                        seq.extend(bytes(start + n - len(seq)) if isinstance(seq, bytearray)
                                   else [None] * (start + n - len(seq)))
                    seq[start:start + n] = vals[i:i + n]
        except (AttributeError, TypeError, ValueError):
            return False
        f._pos = pos + self.size
        return True

    def save(self, f: Any, obj: Any, vmdesc: Any) -> bool:
        vals: list = []
        try:
            for kind, acc, key, _i, n, start in self.items:
                if kind == _FLAT:
                    vals.append(getattr(obj, key))
                elif kind == _DOTTED:
                    vals.append(acc.get(obj))
                else:
                    part = acc.get(obj)[start:start + n]
                    if len(part) != n:
                        return False
                    vals.extend(part)
            data = self.struct.pack(*vals)
        except (AttributeError, IndexError, KeyError, TypeError, struct.error):
            return False
        f._wbuf += data
        if vmdesc is not None:
            parts = vmdesc._parts
            for frag in self.json:
                vmdesc._comma_name(None)
                parts.append(frag)
        return True


    # -- traced: the same one struct call; the records are made when read ----
    def _context(self, tr: Any) -> tuple:
        return (tr.depth, tr.section, tr.vmsd, tr.prefix, tr.leaves)

    def load_traced(self, f: Any, obj: Any, tr: Any, vmsd_name: str) -> bool:
        start = f._pos
        if not self.load(f, obj):
            return False
        raw = bytes(f._rbuf[start:start + self.size])
        tr.defer(_Expansion(self, "load", vmsd_name, self._context(tr), f.base + start, raw))
        return True

    def save_traced(self, f: Any, obj: Any, vmdesc: Any, tr: Any, vmsd_name: str) -> bool:
        start = len(f._wbuf)
        if not self.save(f, obj, vmdesc):
            return False
        raw = bytes(f._wbuf[start:start + self.size])
        tr.defer(_Expansion(self, "save", vmsd_name, self._context(tr), f.base + start, raw))
        return True


class _Expansion:
    """The records the field-by-field path would have made for a run:
    per field ``vmstate_load_state_field`` + ``vmstate_n_elems`` (load) or
    ``vmstate_n_elems`` + ``vmstate_save_state_loop`` (save), then one leaf
    per element."""

    __slots__ = ("run", "side", "vmsd", "ctx", "offset", "raw")

    def __init__(self, run: Run, side: str, vmsd: str, ctx: tuple, offset: int, raw: bytes):
        self.run, self.side, self.vmsd, self.ctx = run, side, vmsd, ctx
        self.offset, self.raw = offset, raw

    def __call__(self, emit: Any) -> None:
        depth, section, vmsd_ctx, prefix, leaves = self.ctx
        vals = self.run.struct.unpack(self.raw)
        raw = self.raw
        pos = 0
        load = self.side == "load"
        ev = "field_get" if load else "field_put"
        for f, (kind, _acc, _key, i, n, _start) in zip(self.run.fields, self.run.items):
            head = (depth, section, vmsd_ctx, None, None, None, None, 0, None, None)
            if load:
                emit(("vmstate_load_state_field", "qemu") + head + ((self.vmsd, f.name, 1),))
                emit(("vmstate_n_elems", "qemu") + head + ((f.name, n),))
            else:
                emit(("vmstate_n_elems", "qemu") + head + ((f.name, n),))
                emit(("vmstate_save_state_loop", "qemu") + head + ((self.vmsd, f.name, n),))
            if not leaves:
                pos += n * f.info.width
                continue
            w = f.info.width
            path = prefix + f.name
            tname = f.info.name
            for k in range(n):
                emit((ev, "field", depth, section, vmsd_ctx, path,
                      k if kind == _ARRAY else None, tname, self.offset + pos, w, vals[i + k],
                      raw[pos:pos + w], ()))
                pos += w


def _eligible(f: VMStateField, version_id: int) -> bool:
    info = f.info
    return (f.field_exists is None and f.version_id <= version_id and info is not None
            and info.fmt is not None and f.attr != "" and f.flags in (VMS_SINGLE, VMS_ARRAY)
            and f.vmsd is None)


def plan(vmsd: VMStateDescription, version_id: int) -> list:
    """The fields of ``vmsd`` at ``version_id`` as steps: a :class:`Run` or a
    single field for the ordinary path. Cached on the description."""
    cache = vmsd.__dict__.setdefault("_plans", {})
    steps = cache.get(version_id)
    if steps is not None:
        return steps
    steps = []
    group: list[VMStateField] = []
    for f in vmsd.fields:
        if f is None:
            continue
        if _eligible(f, version_id):
            group.append(f)
            continue
        if group:
            steps.append(Run(vmsd, group))
            group = []
        steps.append(f)
    if group:
        steps.append(Run(vmsd, group))
    cache[version_id] = steps
    return steps
