"""The field types of ``migration/vmstate-types.c``: ``vmstate_info_*``.

A :class:`VMStateInfo` has QEMU's ``name`` (what the stream's JSON calls the
type), a ``get`` that reads one element and returns its new value (QEMU
writes through a pointer; we return), and a ``put`` that writes one element.
``get(f, cur, size, field)`` receives the current value so that the
``_equal`` and ``le`` types can check against it, as QEMU does.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from .errors import ValidationError, VMStateError
from .qemufile import QEMUFile

VMS_NULLPTR_MARKER = 0x30  # '0', include/migration/vmstate.h


class VMStateInfo:
    """``VMStateInfo``: a type name with its get and put functions.

    ``fmt`` is the struct format of a plain integer type (``">I"``) so the
    engine can read or write a whole array in one call when not tracing;
    ``width`` is the element size in bytes where it is fixed."""

    __slots__ = ("name", "get", "put", "fmt", "width", "signed")

    def __init__(self, name: str, get: Callable, put: Callable, fmt: str | None = None,
                 width: int | None = None, signed: bool = False):
        self.name, self.get, self.put = name, get, put
        self.fmt, self.width, self.signed = fmt, width, signed

    def __repr__(self) -> str:
        return f"<vmstate_info {self.name!r}>"


def _out_of_range(info: str, value: Any) -> VMStateError:
    return VMStateError(f"value {value!r} does not fit type {info}")


def _int_info(name: str, code: str, signed: bool) -> VMStateInfo:
    s = struct.Struct(">" + code)
    unpack_from, pack = s.unpack_from, s.pack
    size = s.size

    def get(f: QEMUFile, cur: Any, _size: int, _field: Any) -> int:
        return unpack_from(f._rbuf, f._need(size, name))[0]

    def put(f: QEMUFile, value: Any, _size: int, _field: Any, _vmdesc: Any = None) -> None:
        try:
            f._wbuf += pack(value)
        except (struct.error, TypeError):
            raise _out_of_range(name, value) from None

    return VMStateInfo(name, get, put, fmt=">" + code, width=size, signed=signed)


vmstate_info_int8 = _int_info("int8", "b", True)
vmstate_info_int16 = _int_info("int16", "h", True)
vmstate_info_int32 = _int_info("int32", "i", True)
vmstate_info_int64 = _int_info("int64", "q", True)
vmstate_info_uint8 = _int_info("uint8", "B", False)
vmstate_info_uint16 = _int_info("uint16", "H", False)
vmstate_info_uint32 = _int_info("uint32", "I", False)
vmstate_info_uint64 = _int_info("uint64", "Q", False)


def _get_bool(f: QEMUFile, cur: Any, size: int, field: Any) -> bool:
    return bool(f.get_byte())


def _put_bool(f: QEMUFile, value: Any, size: int, field: Any, vmdesc: Any = None) -> None:
    f.put_byte(1 if value else 0)


vmstate_info_bool = VMStateInfo("bool", _get_bool, _put_bool, width=1)


def _equal_info(name: str, base: VMStateInfo) -> VMStateInfo:
    """``get_*_equal``: the loaded value must equal the current one."""

    def get(f: QEMUFile, cur: Any, size: int, field: Any) -> int:
        offset = f.tell()
        v = base.get(f, cur, size, field)
        if cur is None or v == cur:
            return v
        hint = f" ({field.err_hint})" if field is not None and field.err_hint else ""
        raise ValidationError(f"{name}: loaded {v:#x} != expected {cur:#x}{hint}", offset=offset)

    return VMStateInfo(name, get, base.put, width=base.width, signed=base.signed)


vmstate_info_int32_equal = _equal_info("int32 equal", vmstate_info_int32)
vmstate_info_int64_equal = _equal_info("int64 equal", vmstate_info_int64)
vmstate_info_uint8_equal = _equal_info("uint8 equal", vmstate_info_uint8)
vmstate_info_uint16_equal = _equal_info("uint16 equal", vmstate_info_uint16)
vmstate_info_uint32_equal = _equal_info("uint32 equal", vmstate_info_uint32)


def _get_int32_le(f: QEMUFile, cur: Any, size: int, field: Any) -> int:
    """``get_int32_le``: a check (0 <= loaded <= current), not an endianness."""
    offset = f.tell()
    v = vmstate_info_int32.get(f, cur, size, field)
    if cur is None or 0 <= v <= cur:
        return v
    raise ValidationError(f"int32 le: invalid value {v}, expecting positive value <= {cur}",
                          offset=offset)


vmstate_info_int32_le = VMStateInfo("int32 le", _get_int32_le, vmstate_info_int32.put,
                                    width=4, signed=True)

# float64 (softfloat's float64 is a uint64) and CPU_Double_U (two be32
# halves, upper first) are both kept as their 64-bit pattern.
vmstate_info_float64 = VMStateInfo("float64", vmstate_info_uint64.get, vmstate_info_uint64.put,
                                   width=8)
vmstate_info_cpudouble = VMStateInfo("CPU_Double_U", vmstate_info_uint64.get,
                                     vmstate_info_uint64.put, width=8)
vmstate_info_timer = VMStateInfo("timer", vmstate_info_uint64.get, vmstate_info_uint64.put,
                                 width=8)


def _get_nullptr(f: QEMUFile, cur: Any, size: int, field: Any) -> None:
    offset = f.tell()
    if f.get_byte() != VMS_NULLPTR_MARKER:
        raise VMStateError("get_nullptr expected VMS_NULLPTR_MARKER (0x30)", offset=offset)
    return None


def _put_nullptr(f: QEMUFile, value: Any, size: int, field: Any, vmdesc: Any = None) -> None:
    if value is not None:
        raise VMStateError("put_nullptr must be called with a NULL (None) element")
    f.put_byte(VMS_NULLPTR_MARKER)


vmstate_info_nullptr = VMStateInfo("nullptr", _get_nullptr, _put_nullptr, width=1)


def _get_buffer(f: QEMUFile, cur: Any, size: int, field: Any) -> bytes | bytearray:
    data = f.get_buffer(size)
    start = getattr(field, "start", 0) or 0
    if not start:
        return data
    out = bytearray(cur if cur is not None else bytes(start + size))
    out[start:start + size] = data
    return out


def _put_buffer(f: QEMUFile, value: Any, size: int, field: Any, vmdesc: Any = None) -> None:
    start = getattr(field, "start", 0) or 0
    data = bytes(value[start:start + size]) if value is not None else b""
    if len(data) != size:
        raise VMStateError(f"buffer holds {len(data)} bytes, the field needs {size}")
    f.put_buffer(data)


vmstate_info_buffer = VMStateInfo("buffer", _get_buffer, _put_buffer)


def _get_unused(f: QEMUFile, cur: Any, size: int, field: Any) -> bytes:
    # QEMU discards these bytes; we keep them so a re-save is byte-identical.
    return f.get_buffer(size)


def _put_unused(f: QEMUFile, value: Any, size: int, field: Any, vmdesc: Any = None) -> None:
    if isinstance(value, (bytes, bytearray)) and len(value) == size:
        f.put_buffer(value)
    else:
        f.put_buffer(bytes(size))


vmstate_info_unused_buffer = VMStateInfo("unused_buffer", _get_unused, _put_unused)


def _get_bitmap(f: QEMUFile, cur: Any, size: int, field: Any) -> list[int]:
    """``get_bitmap``: ``size`` bits as be64 words."""
    return [f.get_be64() for _ in range((size + 63) // 64)]


def _put_bitmap(f: QEMUFile, value: Any, size: int, field: Any, vmdesc: Any = None) -> None:
    words = (size + 63) // 64
    value = list(value or [])
    if len(value) < words:
        value += [0] * (words - len(value))
    for w in value[:words]:
        f.put_be64(w)


vmstate_info_bitmap = VMStateInfo("bitmap", _get_bitmap, _put_bitmap)


def _element(field: Any) -> Any:
    factory = getattr(field, "factory", None)
    if factory is None:
        from types import SimpleNamespace
        return SimpleNamespace()
    return factory()


def _get_qtailq(f: QEMUFile, cur: Any, size: int, field: Any) -> list:
    """``get_qtailq``: elements each preceded by 1, the list closed by 0."""
    from . import tracing as _t
    from .vmstate import vmstate_load_state
    vmsd = field.vmsd
    version_id = field.version_id
    tr = _t.ACTIVE
    if tr:
        tr.qemu("get_qtailq", vmsd.name, version_id, offset=f.tell())
    if version_id > vmsd.version_id or version_id < vmsd.minimum_version_id:
        why = "too new" if version_id > vmsd.version_id else "too old"
        if tr:
            tr.qemu("get_qtailq_end", vmsd.name, why, -22)
        raise VMStateError(f"{vmsd.name} {why}", offset=f.tell())
    out = []
    while _marker(f, tr, field, len(out)):
        elm = _element(field)
        vmstate_load_state(f, vmsd, elm, version_id)
        out.append(elm)
    if tr:
        tr.qemu("get_qtailq_end", vmsd.name, "end", 0)
    return out


def _marker(f: QEMUFile, tr: Any, field: Any, index: int) -> int:
    offset = f.tell()
    if f.writable:
        raise AssertionError("marker read on a write stream")
    v = f.get_byte()
    if tr and tr.leaves:
        tr.leaf("frame", "frame_get", "list marker", index, "uint8", offset, 1, v, bytes([v]))
    return v


def _put_marker(f: QEMUFile, tr: Any, v: int, index: int) -> None:
    offset = f.tell()
    f.put_byte(v)
    if tr and tr.leaves:
        tr.leaf("frame", "frame_put", "list marker", index, "uint8", offset, 1, v, bytes([v]))


def _put_qtailq(f: QEMUFile, value: Any, size: int, field: Any, vmdesc: Any = None) -> None:
    from . import tracing as _t
    from .vmstate import vmstate_save_state
    vmsd = field.vmsd
    tr = _t.ACTIVE
    if tr:
        tr.qemu("put_qtailq", vmsd.name, vmsd.version_id, offset=f.tell())
    for i, elm in enumerate(value or []):
        _put_marker(f, tr, 1, i)
        vmstate_save_state(f, vmsd, elm, vmdesc)
    _put_marker(f, tr, 0, len(value or []))
    if tr:
        tr.qemu("put_qtailq_end", vmsd.name, "end")


vmstate_info_qtailq = VMStateInfo("qtailq", _get_qtailq, _put_qtailq)


def _get_qlist(f: QEMUFile, cur: Any, size: int, field: Any) -> list:
    """``get_qlist``: the same framing as a QTAILQ, order kept."""
    from . import tracing as _t
    from .vmstate import vmstate_load_state
    vmsd = field.vmsd
    version_id = field.version_id
    tr = _t.ACTIVE
    if tr:
        tr.qemu("get_qlist", field.name, vmsd.name, version_id, offset=f.tell())
    if version_id > vmsd.version_id or version_id < vmsd.minimum_version_id:
        raise VMStateError(f"{vmsd.name} {'too new' if version_id > vmsd.version_id else 'too old'}",
                           offset=f.tell())
    out = []
    while _marker(f, tr, field, len(out)):
        elm = _element(field)
        vmstate_load_state(f, vmsd, elm, version_id)
        out.append(elm)
    if tr:
        tr.qemu("get_qlist_end", field.name, vmsd.name)
    return out


def _put_qlist(f: QEMUFile, value: Any, size: int, field: Any, vmdesc: Any = None) -> None:
    from . import tracing as _t
    from .vmstate import vmstate_save_state
    vmsd = field.vmsd
    tr = _t.ACTIVE
    if tr:
        tr.qemu("put_qlist", field.name, vmsd.name, vmsd.version_id, offset=f.tell())
    for i, elm in enumerate(value or []):
        _put_marker(f, tr, 1, i)
        vmstate_save_state(f, vmsd, elm, vmdesc)
    _put_marker(f, tr, 0, len(value or []))
    if tr:
        tr.qemu("put_qlist_end", field.name, vmsd.name)


vmstate_info_qlist = VMStateInfo("qlist", _get_qlist, _put_qlist)


def _gtree_names(field: Any) -> tuple[str, str]:
    key = field.key_vmsd.name if field.start else "direct"
    return key, field.vmsd.name


def _get_gtree(f: QEMUFile, cur: Any, size: int, field: Any) -> list:
    """``get_gtree``: be32 node count, then per node 1, the key (be64 or a
    struct), the value struct; 0 ends. Returns [(key, value), ...]."""
    from types import SimpleNamespace

    from . import tracing as _t
    from .vmstate import vmstate_load_state
    tr = _t.ACTIVE
    version_id = field.version_id
    for vmsd in ([field.key_vmsd] if field.start else []) + [field.vmsd]:
        if version_id > vmsd.version_id or version_id < vmsd.minimum_version_id:
            raise VMStateError(f"{vmsd.name} {'too new' if version_id > vmsd.version_id else 'too old'}",
                               offset=f.tell())
    key_name, val_name = _gtree_names(field)
    o = f.tell()
    nnodes = f.get_be32()
    if tr is not None:
        if tr.leaves:
            tr.leaf("frame", "frame_get", "gtree nnodes", None, "uint32", o, 4, nnodes,
                    f.slice(o, o + 4))
        tr.qemu("get_gtree", field.name, key_name, val_name, nnodes)
    out: list = []
    while _marker(f, tr, field, len(out)):
        if len(out) >= nnodes:
            raise VMStateError(f"{field.name}: more nodes than the {nnodes} announced",
                               offset=f.tell())
        if field.start:
            key = field.key_factory() if field.key_factory else SimpleNamespace()
            vmstate_load_state(f, field.key_vmsd, key, version_id)
        else:
            o = f.tell()
            key = f.get_be64()
            if tr is not None and tr.leaves:
                tr.leaf("field", "field_get", field.name + ".key", len(out), "uint64", o, 8,
                        key, f.slice(o, o + 8))
        val = field.factory() if field.factory else SimpleNamespace()
        vmstate_load_state(f, field.vmsd, val, version_id)
        out.append((key, val))
    if len(out) != nnodes:
        raise VMStateError(f"{field.name} inconsistent stream when loading the gtree "
                           f"({len(out)} of {nnodes} nodes)", offset=f.tell())
    if tr is not None:
        tr.qemu("get_gtree_end", field.name, key_name, val_name, 0)
    return out


def _put_gtree(f: QEMUFile, value: Any, size: int, field: Any, vmdesc: Any = None) -> None:
    from . import tracing as _t
    from .vmstate import vmstate_save_state
    tr = _t.ACTIVE
    pairs = list(value.items() if isinstance(value, dict) else value or [])
    if field.key_order is not None:
        pairs.sort(key=lambda kv: field.key_order(kv[0]))
    key_name, val_name = _gtree_names(field)
    if tr is not None:
        tr.qemu("put_gtree", field.name, key_name, val_name, len(pairs))
    o = f.tell()
    f.put_be32(len(pairs))
    if tr is not None and tr.leaves:
        tr.leaf("frame", "frame_put", "gtree nnodes", None, "uint32", o, 4, len(pairs),
                f.slice(o, o + 4))
    for i, (key, val) in enumerate(pairs):
        _put_marker(f, tr, 1, i)
        if field.start:
            vmstate_save_state(f, field.key_vmsd, key, vmdesc)
        else:
            o = f.tell()
            f.put_be64(key)
            if tr is not None and tr.leaves:
                tr.leaf("field", "field_put", field.name + ".key", i, "uint64", o, 8, key,
                        f.slice(o, o + 8))
        vmstate_save_state(f, field.vmsd, val, vmdesc)
    _put_marker(f, tr, 0, len(pairs))
    if tr is not None:
        tr.qemu("put_gtree_end", field.name, key_name, val_name, 0)


vmstate_info_gtree = VMStateInfo("gtree", _get_gtree, _put_gtree)


def _get_tmp(f: QEMUFile, cur: Any, size: int, field: Any) -> Any:
    """``get_tmp`` (VMSTATE_WITH_TMP): load into a temporary object whose
    ``parent`` is the device; the description's post_load copies back."""
    from .vmstate import vmstate_load_state
    if field.factory is not None:
        tmp = field.factory()
        tmp.parent = cur
        vmstate_load_state(f, field.vmsd, tmp, field.version_id)
        return cur
    from types import SimpleNamespace
    tmp = cur if isinstance(cur, SimpleNamespace) else SimpleNamespace()
    vmstate_load_state(f, field.vmsd, tmp, field.version_id)
    return tmp  # read from a stream's JSON: keep the values for a re-save


def _put_tmp(f: QEMUFile, value: Any, size: int, field: Any, vmdesc: Any = None) -> None:
    from .vmstate import vmstate_save_state
    if field.factory is not None:
        tmp = field.factory()
        tmp.parent = value
    else:
        tmp = value
    vmstate_save_state(f, field.vmsd, tmp, vmdesc)


vmstate_info_tmp = VMStateInfo("tmp", _get_tmp, _put_tmp)


def opaque_info(name: str, size: int) -> VMStateInfo:
    """A type we cannot decode (a device's custom ``put``, e.g. ``virtio``):
    its ``size`` bytes are kept as they are, as analyze-migration.py does."""

    def get(f: QEMUFile, cur: Any, _size: int, field: Any) -> bytes:
        return f.get_buffer(size)

    def put(f: QEMUFile, value: Any, _size: int, field: Any, vmdesc: Any = None) -> None:
        if not isinstance(value, (bytes, bytearray)) or len(value) != size:
            raise VMStateError(f"opaque {name!r} field needs exactly {size} bytes")
        f.put_buffer(value)

    return VMStateInfo(name, get, put, width=size)


INFOS: dict[str, VMStateInfo] = {
    i.name: i for i in (
        vmstate_info_bool, vmstate_info_int8, vmstate_info_int16, vmstate_info_int32,
        vmstate_info_int64, vmstate_info_uint8, vmstate_info_uint16, vmstate_info_uint32,
        vmstate_info_uint64, vmstate_info_int32_equal, vmstate_info_int64_equal,
        vmstate_info_uint8_equal, vmstate_info_uint16_equal, vmstate_info_uint32_equal,
        vmstate_info_int32_le, vmstate_info_float64, vmstate_info_cpudouble,
        vmstate_info_timer, vmstate_info_nullptr, vmstate_info_buffer,
        vmstate_info_unused_buffer, vmstate_info_bitmap, vmstate_info_qtailq,
        vmstate_info_qlist, vmstate_info_tmp, vmstate_info_gtree)
}
"""Every info type by its QEMU name, as the stream's JSON names it."""
