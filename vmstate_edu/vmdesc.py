"""The JSON description QEMU appends to a stream (``QEMU_VM_VMDESCRIPTION``).

:class:`JSONWriter` mirrors ``qobject/json-writer.c`` in its compact form
(``", "`` between members, ``": "`` after a key), so the text we write is
byte-identical to QEMU's. :func:`vmsd_from_json` turns one JSON entry back
into a :class:`VMStateDescription` that the ordinary load loop can use.
"""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

from . import fields as F
from .fields import VMStateDescription, VMStateField
from .info import INFOS, opaque_info
from .qemu_names import DUPLICATE_FIELD_NAMES

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
    if tname == "vstruct" and "fields" in entry:
        # VMSTATE_VSTRUCT: saved at a version of its own (struct_version_id); QEMU
        # writes that struct's vmsd_name, version and fields inline, not under "struct"
        sub = vmsd_from_json(entry)
        return VMStateField(name, vmsd=sub, flags=F.VMS_VSTRUCT | (F.VMS_ARRAY if count > 1 else 0),
                            num=count, size=1, struct_version_id=sub.version_id)
    if tname in ("buffer", "unused_buffer"):
        inf = INFOS[tname]
    else:
        inf = opaque_info(tname, size)  # bitmap, timer of odd size, virtio, ...
    flags = F.VMS_BUFFER | (F.VMS_ARRAY if count > 1 else 0)
    return VMStateField(name, info=inf, flags=flags, size=size, num=count)


_RENAMED = re.compile(r"^(.*)\[(\d+)\]$")


def _c_names(entries: list[dict], vmsd_name: str = "") -> dict[int, str]:
    """QEMU writes a C name shared by two fields as ``name[n]``
    (``vmfield_name_num``); only the fields that existed are in the JSON,
    often just one. The JSON cannot tell these from C names with an index
    (``gt_timer[0]``, ``receive_mask_pieces[1]``, ``env.vregs[0][0]``), so an
    entry ``x[n]`` is taken for a renamed ``x`` only when QEMU's source has
    two fields named ``x`` in that description (:mod:`vmstate_edu.qemu_names`),
    when the ``x[n]`` entries have different types (``parent_obj[0]`` a
    PCIDevice, ``parent_obj[1]`` the MSI-X state: no C array mixes types), or
    when it is ``unused`` (VMSTATE_UNUSED is always so named)."""
    names = {e.get("name", "") for e in entries}
    bases: dict[str, list[dict]] = {}
    for e in entries:
        m = _RENAMED.match(e.get("name", ""))
        if m and "index" not in e:
            bases.setdefault(m.group(1), []).append(e)
    out = {}
    for k, e in enumerate(entries):
        m = _RENAMED.match(e.get("name", ""))
        if not m or "index" in e:
            continue
        base = m.group(1)
        group = bases[base]
        known = base in DUPLICATE_FIELD_NAMES.get(vmsd_name, ())
        # x[0], x[1] of different types cannot be elements of one C array:
        # two fields named x (VMSTATE_PCI_DEVICE and VMSTATE_MSIX of parent_obj)
        mixed = len(group) > 1 and len({(g.get("type"), g.get("size")) for g in group}) > 1 \
            and base not in names
        if known or mixed or base == "unused":
            out[k] = base
    return out


def vmsd_from_json(desc: dict[str, Any], name: str | None = None,
                   attr_prefix: tuple[str, ...] = ()) -> VMStateDescription:
    """A description that loads what ``desc`` (``vmsd_name``, ``version``,
    ``fields``, ``subsections``) says was written. Array entries written
    element by element (``index``) are merged back into one array field."""
    fields: list[VMStateField] = []
    # arrays whose elements the JSON shapes one by one: (field, element prototypes)
    laid_out: list[tuple[VMStateField, list[Any]]] = []
    entries = desc.get("fields", [])
    c_names = _c_names(entries, desc.get("vmsd_name", ""))
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
            structs = [entries[k]["struct"] for k in range(i, j)] if "struct" in e else []
            struct = _union_struct(structs) if structs else None
            fld = _field_from_json(dict(e, name=base), struct, j - i)
            fld.no_compress = True
            _place(fld, attr_prefix)
            fields.append(fld)
            if structs and struct is not None and getattr(struct, "per_element", False):
                laid_out.append((fld, [_element(st) for st in structs]))
            i = j
            continue
        run = _pointer_run(entries, i)
        if run is not None:  # one array of pointers, some of them NULL
            j, fld, layout = run
            fields.append(_place(fld, attr_prefix))
            if layout is not None:
                blank = SimpleNamespace() if fld.flags & F.VMS_STRUCT else 0
                laid_out.append((fld, [blank if real else None for real in layout]))
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
    vmsd = VMStateDescription(vname, version_id=version, minimum_version_id=0, fields=fields,
                              subsections=subs)
    vmsd.from_json = True  # values live under their JSON names (see _place)
    if laid_out:
        vmsd.pre_load = _lay_out(laid_out)
    return vmsd


def _pointer_run(entries: list[dict], i: int) -> tuple[int, VMStateField, list[bool] | None] | None:
    """An array of pointers with NULL elements, as the JSON shows it: QEMU 9+
    writes runs of consecutive entries of one name, ``nullptr`` runs between
    runs of the real type (``css`` of s390_css: 254 nullptr, 1 struct, 1
    nullptr); QEMU 7.2 writes one entry for the whole array, described by
    element 0 (a struct array whose ``size`` is the 1 byte of a NULL marker).
    Returns (end index, the field, which elements are non-NULL or None when
    the JSON cannot tell: the loader then reads the marker byte)."""
    e = entries[i]
    if "index" in e:
        return None
    j = i
    while j < len(entries) and entries[j].get("name") == e.get("name") and \
            "index" not in entries[j]:
        j += 1
    run = entries[i:j]
    real = [x for x in run if x.get("type") != "nullptr"]
    if len(run) > 1 and len(real) < len(run) and real and \
            all(_same_shape(x, real[0]) for x in real):
        layout = [x.get("type") != "nullptr" for x in run for _ in range(int(x.get("array_len", 1)))]
        proto = real[0]
    elif len(run) == 1 and "struct" in e and int(e.get("array_len", 1)) > 1 and \
            int(e.get("size", 0)) == 1 and _struct_size(e["struct"]) != 1:
        layout, proto = None, e  # 7.2: element 0 was NULL, the others unknown
    else:
        return None
    num = len(layout) if layout is not None else int(e["array_len"])
    sv = vmsd_from_json(proto["struct"]) if "struct" in proto else None
    if sv is not None and not proto["struct"].get("fields"):
        sv.fields = [_undescribed(e.get("name", "?"))]
    fld = _field_from_json(dict(proto, array_len=num), sv, num)
    fld.flags |= F.VMS_ARRAY_OF_POINTER | F.VMS_ARRAY
    fld.flags &= ~F.VMS_SINGLE
    fld.num = num
    return (j if layout is not None else i + 1), fld, layout


def _undescribed(name: str) -> VMStateField:
    """Stands for a struct the JSON has no fields for: reading it is an error
    that says why (QEMU 7.2 describes a pointer array by its element 0; when
    that one is NULL, the structs of the others are described nowhere)."""
    from .errors import VMStateError
    from .info import VMStateInfo

    def get(f: Any, cur: Any, size: int, field: Any) -> Any:
        raise VMStateError(f"element of {name} is not NULL, but the stream's JSON describes "
                           "the array by its NULL element 0 (QEMU 7.2): the struct's layout "
                           "is not in the stream", offset=f.tell())

    def put(f: Any, value: Any, size: int, field: Any, vmdesc: Any = None) -> None:
        raise VMStateError(f"{name}: no layout for this struct")

    return VMStateField("(undescribed)", info=VMStateInfo("undescribed", get, put),
                        flags=F.VMS_SINGLE, size=0)


def _struct_size(desc: dict) -> int:
    return sum(int(x.get("size", 0)) * int(x.get("array_len", 1))
               for x in desc.get("fields", []))


def _lay_out(arrays: list[tuple[VMStateField, list[Any]]]) -> Any:
    """A ``pre_load`` that gives each such array the shape the JSON shows,
    a fresh copy of its element prototypes: NULL (None) where a pointer
    array's marker was, an element where a value was, each struct element
    knowing which fields its entry had (:func:`_element`)."""
    def pre_load(opaque: Any) -> int:
        for fld, prototypes in arrays:
            fld.accessor.set(opaque, [_copy_element(e) for e in prototypes])
        return 0

    return pre_load


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

    inner = sub.pre_load

    def pre_load(opaque: Any) -> int:
        setattr(opaque, mark, True)
        return inner(opaque) if inner else 0

    sub.pre_load = pre_load
    sub.needed = lambda opaque: bool(getattr(opaque, mark, False))
    return sub


def _same_shape(a: dict, b: dict) -> bool:
    """Two JSON entries are elements of one array (sizes and subsections of
    struct elements may differ: subsections come and go per element)."""
    if a.get("type") != b.get("type") or ("struct" in a) != ("struct" in b):
        return False
    if "struct" in a:  # fields may differ: a field_exists test is run per element
        return a["struct"].get("vmsd_name") == b["struct"].get("vmsd_name")
    return a.get("size") == b.get("size")


def _union_struct(structs: list[dict]) -> VMStateDescription:
    """One description for all elements: the union of their subsections,
    each needed where that element had it, and of their fields, in order,
    at every depth: a field some elements lack (a ``_TEST`` field such as
    ide_drive's ``identify_data``, sent once the drive was identified)
    exists in an element when that element's JSON had it (see
    :func:`_element`, which lays the elements out before they load)."""
    union, partial = _union_json(structs)
    vmsd = vmsd_from_json(union)
    if partial:
        vmsd.per_element = True
        _mark_partial(vmsd, partial)
    return vmsd


def _union_json(structs: list[dict]) -> tuple[dict, dict]:
    """(the union of JSON struct descriptions, {field name: (missing from
    some elements, the same map for its nested struct)} for what differs)."""
    subs: dict[str, dict] = {}
    for st in structs:
        for sub in st.get("subsections", []):
            subs.setdefault(sub.get("vmsd_name"), sub)
    lists = [[_entry_key(x) for x in st.get("fields", [])] for st in structs]
    groups: dict[tuple[str, int], list[dict]] = {}
    for st in structs:
        for x in st.get("fields", []):
            groups.setdefault(_entry_key(x), []).append(x)
    fields, partial = [], {}
    for k in _merge_orders(lists):
        xs = groups[k]
        x, nested = xs[0], {}
        if "struct" in x and k[1] < 0 and "array_len" not in x and \
                any(y.get("struct") != x["struct"] for y in xs):
            inner, nested = _union_json([y["struct"] for y in xs if "struct" in y])
            x = dict(x, struct=inner)
        missing = not all(k in lst for lst in lists)
        if missing or nested:
            partial[k[0]] = (missing, nested)
        fields.append(x)
    return dict(structs[0], fields=fields, subsections=list(subs.values())), partial


def _mark_partial(vmsd: VMStateDescription, partial: dict) -> None:
    for fld in vmsd.fields:
        missing, nested = partial.get(fld.json_name or fld.name, (False, {}))
        if missing:
            fld.field_exists = _sent_in_element(fld.json_name or fld.name)
        if nested and fld.vmsd is not None:
            _mark_partial(fld.vmsd, nested)


def _entry_key(x: dict) -> tuple[str, int]:
    return x.get("name", ""), int(x.get("index", -1))


def _merge_orders(lists: list[list]) -> list:
    """One order that keeps every list's order (the lists are subsequences
    of one C field list, so appending each unseen item after its
    predecessor works)."""
    out = list(lists[0])
    for lst in lists[1:]:
        for n, k in enumerate(lst):
            if k not in out:
                prev = lst[n - 1] if n else None
                out.insert(out.index(prev) + 1 if prev in out else 0, k)
    return out


_SENT = "_vmstate_json_fields"  # on an element: the field names its JSON entry had


def _element(struct: dict) -> Any:
    """An element object that knows which fields its JSON entry had, and so
    do its single nested structs (ahci's ``dev[k]`` holds ``port.ifs[0]``)."""
    ns = SimpleNamespace()
    setattr(ns, _SENT, frozenset(x.get("name", "") for x in struct.get("fields", [])))
    for x in struct.get("fields", []):
        if "struct" in x and "index" not in x and "array_len" not in x:
            setattr(ns, x["name"], _element(x["struct"]))
    return ns


def _copy_element(e: Any) -> Any:
    if not isinstance(e, SimpleNamespace):
        return e  # None (a NULL pointer) or a scalar
    return SimpleNamespace(**{k: _copy_element(x) for k, x in vars(e).items()})


def _sent_in_element(name: str) -> Any:
    def test(opaque: Any, version_id: int) -> bool:
        sent = getattr(opaque, _SENT, None)
        return True if sent is None else name in sent
    return test


# ---------------------------------------------------------------------------
# Checking a JSON description read from a stream
# ---------------------------------------------------------------------------

def validate_vmdesc(desc: Any, offset: int | None = None) -> dict:
    """Check that a JSON description read from a stream has the shape the
    readers rely on (QEMU writes it; a damaged or hostile stream may not):
    an object with an optional positive ``page_size``, a list of
    ``devices`` (``name``, ``instance_id``, and either ``vmsd_name``/``version``/
    ``fields``/``subsections`` or an old-style ``size``), field entries with a
    string ``name`` and ``type``, sizes and counts within
    :data:`~vmstate_edu.limits.LIMITS`, nesting at most ``LIMITS.max_depth``.
    Raises :class:`~vmstate_edu.errors.SectionError` (or ``LimitExceeded``)
    naming the JSON path; returns ``desc``."""
    _check_obj(desc, "", offset)
    if "page_size" in desc:
        ps = _check_int(desc, "page_size", "", offset, 1, 1 << 30)
        if ps & (ps - 1):
            _bad("page_size", f"is {ps}, not a power of two", offset)
    devices = desc.get("devices", [])
    _check_list(devices, "devices", offset)
    for k, dev in enumerate(devices):
        where = f"devices[{k}]"
        _check_obj(dev, where, offset)
        _check_str(dev, "name", where, offset, required=True)
        _check_int(dev, "instance_id", where, offset, 0, 0xFFFFFFFF)
        if "vmsd_name" in dev:
            _check_vmsd(dev, where, offset, 0)
        else:
            _check_int(dev, "size", where, offset, 0, _limits().max_alloc)
    if "configuration" in desc:
        _check_obj(desc["configuration"], "configuration", offset)
        _check_vmsd(desc["configuration"], "configuration", offset, 0)
    return desc


def _limits() -> Any:
    from .limits import LIMITS
    return LIMITS


def _bad(where: str, what: str, offset: int | None, limit: bool = False) -> None:
    from .errors import LimitExceeded, SectionError
    cls = LimitExceeded if limit else SectionError
    raise cls(f"JSON description: {where} {what}", offset=offset, path="vmdescription")


def _check_obj(obj: Any, where: str, offset: int | None) -> None:
    if not isinstance(obj, dict):
        _bad(where or "the description", f"is a {type(obj).__name__}, not an object", offset)


def _check_list(obj: Any, where: str, offset: int | None) -> None:
    if not isinstance(obj, list):
        _bad(where, f"is a {type(obj).__name__}, not a list", offset)


def _check_str(obj: dict, key: str, where: str, offset: int | None,
               required: bool = False) -> None:
    if key not in obj:
        if required:
            _bad(f"{where}.{key}", "is missing", offset)
        return
    if not isinstance(obj[key], str):
        _bad(f"{where}.{key}", f"is a {type(obj[key]).__name__}, not a string", offset)


def _check_int(obj: dict, key: str, where: str, offset: int | None, lo: int, hi: int) -> int:
    if key not in obj:
        return lo
    val = obj[key]
    name = f"{where}.{key}" if where else key
    if not isinstance(val, int) or isinstance(val, bool):
        _bad(name, f"is a {type(val).__name__}, not an integer", offset)
    if val < lo:
        _bad(name, f"is {val}, less than {lo}", offset)
    if val > hi:
        _bad(name, f"is {val}, more than the limit {hi}", offset, limit=True)
    return val


def _check_vmsd(desc: dict, where: str, offset: int | None, depth: int) -> int:
    """One description: ``vmsd_name``, ``version``, ``fields``, ``subsections``.
    Returns the number of elements it describes (arrays of structs multiply),
    which may not exceed ``LIMITS.max_elements``: elements of zero bytes
    would otherwise let a short stream ask for unbounded work."""
    limits = _limits()
    total = 0
    if depth > limits.max_depth:
        _bad(where, f"nests deeper than {limits.max_depth} descriptions", offset, limit=True)
    _check_str(desc, "vmsd_name", where, offset)
    _check_int(desc, "version", where, offset, 0, 0xFFFFFFFF)
    fields = desc.get("fields", [])
    _check_list(fields, f"{where}.fields", offset)
    for i, e in enumerate(fields):
        fw = f"{where}.fields[{i}]"
        _check_obj(e, fw, offset)
        _check_str(e, "name", fw, offset, required=True)
        _check_str(e, "type", fw, offset)
        _check_int(e, "size", fw, offset, 0, limits.max_alloc)
        n = _check_int(e, "array_len", fw, offset, 0, limits.max_elements) \
            if "array_len" in e else 1
        _check_int(e, "index", fw, offset, 0, limits.max_elements)
        inner = 1
        if "struct" in e:
            _check_obj(e["struct"], f"{fw}.struct", offset)
            inner += _check_vmsd(e["struct"], f"{fw}.struct", offset, depth + 1)
        if "fields" in e or "subsections" in e:  # VMSTATE_WITH_TMP: a nested description
            inner += _check_vmsd(e, fw, offset, depth + 1)
        total += n * inner
        if total > limits.max_elements:
            _bad(where, f"describes more than {limits.max_elements} elements", offset,
                 limit=True)
    subs = desc.get("subsections", [])
    _check_list(subs, f"{where}.subsections", offset)
    for i, s in enumerate(subs):
        _check_obj(s, f"{where}.subsections[{i}]", offset)
        total += _check_vmsd(s, f"{where}.subsections[{i}]", offset, depth + 1)
    if total > limits.max_elements:
        _bad(where, f"describes more than {limits.max_elements} elements", offset, limit=True)
    return total
