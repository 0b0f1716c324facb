"""What ``scripts/analyze-migration.py -d state|desc`` prints, from our engine.

QEMU developers know analyze-migration.py's output; ``vmstate-edu analyze``
prints the same JSON. The values come from a traced load of the stream: the
field records of each section are walked in the order of the stream's JSON
description and formatted as the script formats them (unsigned types as
``0x%0Nx``, signed negatives with their decimal value, booleans, byte
strings as spaced hex, structs as objects, subsections by their name).
Unlike the script, it also reads streams the script crashes on (QEMU 7.2
on aarch64 ``virt``: configuration subsections).
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from typing import Any

from .fields import VMS_ARRAY_OF_POINTER, VMS_STRUCT
from .stream import Stream

_UNSIGNED = {"uint8", "uint16", "uint32", "uint64", "uint32 equal"}
_SIGNED = {"int8", "int16", "int32", "int32 equal", "int32 le", "int64", "int64 equal",
           "uint8 equal", "uint16 equal"}


class _Leaves:
    """Field records of one section, consumed in stream order."""

    def __init__(self, rows: list[tuple]):
        self.rows = rows
        self.i = 0

    def take_bytes(self, n: int) -> bytes:
        out = bytearray()
        while len(out) < n and self.i < len(self.rows):
            raw = self.rows[self.i][12]
            out += raw if raw is not None else b""
            self.i += 1
        return bytes(out)


def _fmt(entry: dict, raw: bytes) -> Any:
    t = entry.get("type")
    size = int(entry.get("size", len(raw)))
    if t == "bool":
        return raw[:1] != b"\x00"
    if t == "nullptr":
        return "nullptr"
    if t == "capability":
        return raw[1:].decode("utf-8", "replace")
    if t in _UNSIGNED or t in _SIGNED:
        u = int.from_bytes(raw, "big", signed=False)
        s = int.from_bytes(raw, "big", signed=True)
        fmt = "0x%%0%dx" % (size * 2)
        v = u if t in _UNSIGNED else s
        return (fmt % u + " (%d)" % v) if v < 0 else fmt % v
    return " ".join(f"{c:02x}" for c in raw)


def _unfold(fields: list[dict]) -> list[dict]:
    out = []
    for f in fields:
        if "array_len" not in f:
            out.append(f)
            continue
        n = f["array_len"]
        base = {k: v for k, v in f.items() if k != "array_len"}
        for i in range(n):
            out.append(dict(base, index=i))
    return out


def _struct(desc: dict, leaves: _Leaves, subs_seen: list[str]) -> OrderedDict:
    data: OrderedDict = OrderedDict()
    for f in _unfold(desc.get("fields", [])):
        if f.get("type") == "struct" and "struct" in f:
            value: Any = _struct(f["struct"], leaves, subs_seen)
        else:
            value = _fmt(f, leaves.take_bytes(int(f.get("size", 0))))
        _add(data, f["name"], value)
    for sub in desc.get("subsections", []):
        name = sub.get("vmsd_name")
        data[name] = _struct(sub, leaves, subs_seen)
    return data


def _device_trace(stream: Stream) -> Any:
    """A traced load of the stream whose RAM records leave no leaves (the
    pages are indexed in ``stream.ram`` already): the device fields only."""
    from . import tracing
    from .qemufile import QEMUFile
    from .savevm import qemu_loadvm_state

    with tracing.trace(stream.qemu_version) as t:
        reg = stream._new_registry()
        reg.ram.trace_leaves = False
        qemu_loadvm_state(QEMUFile(stream.data), reg)
    return t


def _add(data: OrderedDict, name: str, value: Any) -> None:
    """analyze-migration.py's rule: a name seen again turns into a list."""
    if name not in data:
        data[name] = value
    elif isinstance(data[name], list):
        data[name].append(value)
    else:
        data[name] = [data[name], value]


def _value_raw(field: Any, value: Any) -> bytes:
    size = field.size
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, bool):
        return bytes([int(value)])
    if isinstance(value, int):
        return (value & ((1 << (8 * size)) - 1)).to_bytes(size, "big")
    if isinstance(value, list):  # a bitmap's be64 words
        return b"".join((w & (1 << 64) - 1).to_bytes(8, "big") for w in value)
    if field.vmsd is not None:  # VMSTATE_WITH_TMP: the bytes its description writes
        from .qemufile import QEMUFile
        from .vmstate import vmstate_save_state
        f = QEMUFile()
        vmstate_save_state(f, field.vmsd, value)
        return f.getvalue()
    return b""


def _values(vmsd: Any, obj: Any) -> OrderedDict:
    """One device's loaded values, walked through its JSON-derived description."""
    data: OrderedDict = OrderedDict()
    for f in vmsd.fields:
        if f.field_exists is not None and not f.field_exists(obj, vmsd.version_id):
            continue  # not sent for this element (its JSON entry had no such field)
        name = vmsd.json_name(f)
        val = f.accessor.get_or_none(obj)
        elems = list(val)[f.start:f.start + f.num] if f.is_list else [val]
        tname = f.type_name
        for e in elems:
            if tname == "nullptr" or e is None and f.flags & VMS_ARRAY_OF_POINTER:
                _add(data, name, "nullptr")
            elif f.flags & VMS_STRUCT:
                _add(data, name, _values(f.vmsd, e))
            elif tname == "bool":
                _add(data, name, bool(e))
            else:
                _add(data, name, _fmt({"type": tname, "size": f.size}, _value_raw(f, e)))
    for sub in vmsd.subsections:
        if sub.needed is None or sub.needed(obj):
            data[sub.name] = _values(sub, obj)
    return data


def analyze_state(stream: Stream, dump_memory: bool = False) -> OrderedDict:
    """``-d state``: one entry per section id, ``"idstr (section_id)"``. The
    values are those the load stored (no second pass over the stream); a
    stream read through hand-written descriptions is walked from a traced load."""
    entries = {(se.idstr, se.instance_id, se.load_section_id): se
               for se in stream.registry.handlers}
    if all(getattr(se.vmsd, "from_json", False) for se in entries.values()
           if se.vmsd is not None):
        def device(sec: Any) -> Any:
            se = entries.get((sec.idstr, sec.instance_id, sec.section_id))
            if se is None or se.vmsd is None:
                return _old_style(se)
            return _values(se.vmsd, se.opaque)
    else:
        device = _traced_devices(stream)
    out: OrderedDict = OrderedDict()
    for sec in stream.sections:
        key = f"{sec.idstr} ({sec.section_id})"
        if sec.handler == "ram":
            if key not in out:
                out[key] = OrderedDict([("section sizes", OrderedDict(
                    (b.idstr, "0x%016x" % b.used_length) for b in stream.ram.blocks))])
            if dump_memory:
                out[key].update(_memory(stream, sec))
        elif sec.handler in ("htab", "stattrib"):
            out[key] = ""
        else:
            out[key] = device(sec)
    return out


def _old_style(se: Any) -> Any:
    data = getattr(getattr(se, "opaque", None), "data", None)
    if data is None:
        return OrderedDict()
    return OrderedDict([("data", " ".join(f"{c:02x}" for c in data))])


def _traced_devices(stream: Stream) -> Any:
    """``section -> its entry``, from the field records of a traced load
    walked in the order of the stream's JSON description."""
    import bisect

    t = _device_trace(stream)
    fields = [r for r in t.rows if r[2] == "field"]
    offsets = [r[9] for r in fields]
    devices: dict[tuple, list[dict]] = {}
    for d in (stream.vmdesc or {}).get("devices", []):
        devices.setdefault((d.get("name"), int(d.get("instance_id", 0))), []).append(d)
    # the n-th section id of a name and instance takes its n-th JSON entry
    ids: dict[tuple, list[int]] = {}
    for sec in stream.sections:
        k = (sec.idstr, sec.instance_id)
        if sec.section_id not in ids.setdefault(k, []):
            ids[k].append(sec.section_id)

    def device(sec: Any) -> Any:
        k = (sec.idstr, sec.instance_id)
        devs = devices.get(k, [])
        n = ids[k].index(sec.section_id)
        if not devs:
            return OrderedDict()
        dev = devs[min(n, len(devs) - 1)]
        lo, hi = bisect.bisect_left(offsets, sec.offset), bisect.bisect_left(offsets, sec.end)
        return _struct(copy.deepcopy(dev), _Leaves(fields[lo:hi]), [])

    return device


def _memory(stream: Stream, sec: Any) -> OrderedDict:
    """``-m``: each page record of this piece, as the script would print it
    (its ``-m`` crashes on Python 3; this is what it meant to print)."""
    from .ram import PAGE_KINDS, RAM_SAVE_FLAG_XBZRLE, RAM_SAVE_FLAG_ZERO, page_bytes
    ram = stream.ram
    pieces = [x for x in stream.sections if x.handler == "ram"]
    lo, hi = ram.pieces[pieces.index(sec)]
    out: OrderedDict = OrderedDict()
    for k in range(lo, hi):
        w, b, d = ram.rec_word[k], ram.rec_block[k], ram.rec_data[k]
        if b < 0 or not w & PAGE_KINDS:
            continue
        addr = w & ram.addr_mask
        name = "%s (0x%016x)" % (ram.blocks[b].idstr, addr)
        if w & RAM_SAVE_FLAG_ZERO:
            out[name] = "Filled with 0x%02x" % d
        else:  # an XBZRLE delta applies to what the records before it left there
            old = ram.read_page(ram.blocks[b].idstr, addr, k) if w & RAM_SAVE_FLAG_XBZRLE \
                else None
            out[name] = " ".join(f"{c:02x}" for c in page_bytes(ram, w, d, old))
    return out


def analyze_desc(stream: Stream) -> Any:
    """``-d desc``: the stream's JSON description."""
    return stream.vmdesc
