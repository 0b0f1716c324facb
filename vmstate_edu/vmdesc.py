"""The JSON description QEMU appends to a stream (``QEMU_VM_VMDESCRIPTION``).

:class:`JSONWriter` mirrors ``qobject/json-writer.c`` in its compact form
(``", "`` between members, ``": "`` after a key), so the text we write is
byte-identical to QEMU's. :func:`vmsd_from_json` turns one JSON entry back
into a :class:`VMStateDescription` that the ordinary load loop can use.
"""

from __future__ import annotations

import re
from typing import Any

from . import fields as F
from .fields import VMStateDescription, VMStateField
from .info import INFOS, opaque_info

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
            "\t": "\\t"}


def _quoted(s: str) -> str:
    out = ['"']
    for ch in s:
        cp = ord(ch)
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif cp > 0xFFFF:
            cp -= 0x10000
            out.append(f"\\u{0xD800 + (cp >> 10):04X}\\u{0xDC00 + (cp & 0x3FF):04X}")
        elif cp < 0x20 or cp >= 0x7F:
            out.append(f"\\u{cp:04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


class JSONWriter:
    """``JSONWriter`` (non-pretty): builds the text piece by piece."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._stack: list[bool] = []  # True: inside an array
        self._need_comma = False

    def _comma_name(self, name: str | None) -> None:
        if self._need_comma:
            self._parts.append(", ")
        else:
            self._need_comma = True
        if self._stack and not self._stack[-1]:
            self._parts.append(_quoted(name or "") + ": ")

    def start_object(self, name: str | None = None) -> None:
        self._comma_name(name)
        self._parts.append("{")
        self._stack.append(False)
        self._need_comma = False

    def end_object(self) -> None:
        self._stack.pop()
        self._need_comma = True
        self._parts.append("}")

    def start_array(self, name: str | None = None) -> None:
        self._comma_name(name)
        self._parts.append("[")
        self._stack.append(True)
        self._need_comma = False

    def end_array(self) -> None:
        self._stack.pop()
        self._need_comma = True
        self._parts.append("]")

    def str(self, name: str | None, value: str) -> None:
        self._comma_name(name)
        self._parts.append(_quoted(value))

    def int64(self, name: str | None, value: int) -> None:
        self._comma_name(name)
        self._parts.append(str(int(value)))

    uint64 = int64

    def bool(self, name: str | None, value: bool) -> None:
        self._comma_name(name)
        self._parts.append("true" if value else "false")

    def get(self) -> str:
        return "".join(self._parts)


# ---------------------------------------------------------------------------
# Reading the JSON back into descriptions
# ---------------------------------------------------------------------------

_FIXED = {name: info for name, info in INFOS.items() if info.width}


def _field_from_json(entry: dict[str, Any], struct_vmsd: VMStateDescription | None,
                     count: int) -> VMStateField:
    """One JSON field (``name``, ``type``, ``size``, ``array_len``, ``struct``)
    as a :class:`VMStateField` that reads the same bytes."""
    name = entry["name"]
    tname = entry.get("type", "unknown")
    size = int(entry.get("size", 0))
    if struct_vmsd is not None:
        flags = F.VMS_STRUCT | (F.VMS_ARRAY if count > 1 else 0)
        return VMStateField(name, vmsd=struct_vmsd, flags=flags, num=count, size=1)
    info = _FIXED.get(tname)
    if info is not None and info.width == size:
        if count > 1:
            return VMStateField(name, info=info, flags=F.VMS_ARRAY, num=count, size=size)
        return VMStateField(name, info=info, flags=F.VMS_SINGLE, size=size)
    if tname == "tmp" and "fields" in entry:  # VMSTATE_WITH_TMP: a nested description
        return VMStateField(name, info=INFOS["tmp"], vmsd=vmsd_from_json(entry), size=size)
    if tname in ("buffer", "unused_buffer"):
        inf = INFOS[tname]
    else:
        inf = opaque_info(tname, size)  # bitmap, timer of odd size, virtio, ...
    flags = F.VMS_BUFFER | (F.VMS_ARRAY if count > 1 else 0)
    return VMStateField(name, info=inf, flags=flags, size=size, num=count)


_RENAMED = re.compile(r"^(.*)\[(\d+)\]$")


def _c_names(entries: list[dict]) -> dict[int, str]:
    """QEMU writes a C name shared by two fields as ``name[n]``
    (``vmfield_name_num``); only the fields that existed are in the JSON,
    usually one. The JSON cannot tell these from C names with an index
    (``gt_timer[0]``, ``_q_ZMMReg[1]``), so: an entry ``x[n]`` is a renamed
    ``x`` when it is the only ``x[...]`` entry, no plain ``x`` is there and
    it is not a struct (``port.ifs[0]`` is one, in ahci),
    when it is ``unused`` (VMSTATE_UNUSED is always so named), or when it is
    itself an array (``env.xmm_regs[0]`` of 16 structs)."""
    names = {e.get("name", "") for e in entries}
    bases: dict[str, int] = {}
    for e in entries:
        m = _RENAMED.match(e.get("name", ""))
        if m and "index" not in e:
            bases[m.group(1)] = bases.get(m.group(1), 0) + 1
    out = {}
    for k, e in enumerate(entries):
        m = _RENAMED.match(e.get("name", ""))
        if not m or "index" in e:
            continue
        base = m.group(1)
        single = bases[base] == 1 and base not in names and e.get("type") != "struct"
        if single or base == "unused" or "array_len" in e:
            out[k] = base
    return out


def vmsd_from_json(desc: dict[str, Any], name: str | None = None,
                   attr_prefix: tuple[str, ...] = ()) -> VMStateDescription:
    """A description that loads what ``desc`` (``vmsd_name``, ``version``,
    ``fields``, ``subsections``) says was written. Array entries written
    element by element (``index``) are merged back into one array field."""
    fields: list[VMStateField] = []
    entries = desc.get("fields", [])
    c_names = _c_names(entries)
    i = 0
    while i < len(entries):
        e = entries[i]
        count = int(e.get("array_len", 1))
        if "index" in e:  # an uncompressed array: consecutive entries, one per element
            j = i + 1
            base = e["name"]
            while j < len(entries) and "index" in entries[j] and \
                    entries[j]["name"] == e["name"] and entries[j]["index"] == j - i \
                    and _same_shape(entries[j], e):
                j += 1
            # QEMU 9+ writes the last element of such an array without "index"
            if j < len(entries) and "index" not in entries[j] and "array_len" not in \
                    entries[j] and entries[j]["name"] == e["name"] and _same_shape(entries[j], e):
                j += 1
            struct = _union_struct([entries[k]["struct"] for k in range(i, j)]) \
                if "struct" in e else None
            fld = _field_from_json(dict(e, name=base), struct, j - i)
            fld.no_compress = True
            _place(fld, attr_prefix)
            fields.append(fld)
            i = j
            continue
        sv = vmsd_from_json(e["struct"]) if "struct" in e else None
        fld = _place(_field_from_json(e, sv, count), attr_prefix)
        if i in c_names:
            fld.json_name = fld.name  # storage stays under the JSON name
            fld.name = c_names[i]
        fields.append(fld)
        i += 1
    # A subsection shares its parent's object in QEMU; here each keeps its
    # values under its own attribute, because two subsections may use one C
    # name for different parts of a union (ppc's env.vsr as fpr/avr/vsr).
    subs = [_json_subsection(s, attr_prefix) for s in desc.get("subsections", [])]
    vname = name or desc.get("vmsd_name", "?")
    version = int(desc.get("version", 0))
    return VMStateDescription(vname, version_id=version, minimum_version_id=0, fields=fields,
                              subsections=subs)


def _attr_key(name: str) -> str:
    return "sub_" + "".join(c if c.isalnum() else "_" for c in name)


def _place(fld: VMStateField, prefix: tuple[str, ...]) -> VMStateField:
    """Values read through the JSON live under their JSON name, verbatim: C
    names may alias (``env.vfp.xregs[0]`` beside a sub-array ``env.vfp.xregs``
    that starts at 2), and the JSON does not tell where a sub-array starts."""
    from .fields import Accessor
    fld.accessor = Accessor.flat(*prefix, fld.name)
    return fld


def _json_subsection(desc: dict[str, Any], prefix: tuple[str, ...]) -> VMStateDescription:
    key = _attr_key(desc.get("vmsd_name", "sub"))
    sub = vmsd_from_json(desc, attr_prefix=prefix + (key,))
    mark = "_sent_" + key

    def pre_load(opaque: Any) -> int:
        setattr(opaque, mark, True)
        return 0

    sub.pre_load = pre_load
    sub.needed = lambda opaque: bool(getattr(opaque, mark, False))
    return sub


def _same_shape(a: dict, b: dict) -> bool:
    """Two JSON entries are elements of one array (sizes and subsections of
    struct elements may differ: subsections come and go per element)."""
    if a.get("type") != b.get("type") or ("struct" in a) != ("struct" in b):
        return False
    if "struct" in a:
        return a["struct"].get("fields") == b["struct"].get("fields") and \
            a["struct"].get("vmsd_name") == b["struct"].get("vmsd_name")
    return a.get("size") == b.get("size")


def _union_struct(structs: list[dict]) -> VMStateDescription:
    """One description for all elements: the union of their subsections,
    each needed where that element had it."""
    subs: dict[str, dict] = {}
    for st in structs:
        for sub in st.get("subsections", []):
            subs.setdefault(sub.get("vmsd_name"), sub)
    return vmsd_from_json(dict(structs[0], subsections=list(subs.values())))
