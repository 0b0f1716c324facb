"""The save and load loops, mirroring ``migration/vmstate.c``.

``vmstate_save_state_v`` and ``vmstate_load_state`` walk a description's
fields; for each field that exists at this version they compute the number
of elements and the element size, then put or get every element: a nested
description for ``VMS_STRUCT``, an info type's put/get otherwise. Then come
the subsections. Tracing, when active, records QEMU's events and one leaf
record per element; when inactive it costs one ``if`` per field.
"""

from __future__ import annotations

import struct
from types import SimpleNamespace
from typing import Any

from . import tracing as _trace
from .errors import (
    HookError,
    LimitExceeded,
    SectionError,
    StreamTruncated,
    ValidationError,
    VMStateError,
)
from .fields import (
    VMS_ALLOC,
    VMS_ARRAY,
    VMS_ARRAY_OF_POINTER,
    VMS_MULTIPLY,
    VMS_MULTIPLY_ELEMENTS,
    VMS_MUST_EXIST,
    VMS_POINTER,
    VMS_SINGLE,
    VMS_STRUCT,
    VMS_VARRAY_INT32,
    VMS_VARRAY_UINT8,
    VMS_VARRAY_UINT16,
    VMS_VARRAY_UINT32,
    VMS_VBUFFER,
    VMS_VSTRUCT,
    VMStateDescription,
    VMStateField,
)
from .info import vmstate_info_buffer, vmstate_info_nullptr, vmstate_info_unused_buffer
from .limits import LIMITS
from .plan import Run, plan
from .qemufile import QEMUFile

QEMU_VM_SUBSECTION = 0x05
EINVAL, ENOENT = 22, 2


def _s32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v & 0x80000000 else v


def vmstate_field_exists(vmsd: VMStateDescription, field: VMStateField, opaque: Any,
                         version_id: int) -> bool:
    """A field exists if its test says so, else if its version is not newer."""
    if field.field_exists is not None:
        result = bool(_hook(field.field_exists, opaque, version_id, what=f"{field.name} test"))
        tr = _trace.ACTIVE
        if tr:
            tr.qemu("vmstate_field_exists", vmsd.name, field.name, field.version_id,
                    version_id, int(result))
        return result
    return field.version_id <= version_id


def vmstate_n_elems(opaque: Any, field: VMStateField) -> int:
    """How many elements: ``num`` for arrays, the count field for VARRAYs."""
    flags = field.flags
    n = 1
    if flags & VMS_ARRAY:
        n = field.num
    elif flags & (VMS_VARRAY_INT32 | VMS_VARRAY_UINT32 | VMS_VARRAY_UINT16 | VMS_VARRAY_UINT8):
        raw = _count(opaque, field)
        if flags & VMS_VARRAY_INT32:
            n = _s32(raw)
        elif flags & VMS_VARRAY_UINT32:
            n = raw & 0xFFFFFFFF
        elif flags & VMS_VARRAY_UINT16:
            n = raw & 0xFFFF
        else:
            n = raw & 0xFF
    if flags & VMS_MULTIPLY_ELEMENTS:
        n *= field.num
    tr = _trace.ACTIVE
    if tr:
        tr.qemu("vmstate_n_elems", field.name, n)
    if n > LIMITS.max_elements:
        raise LimitExceeded(f"{field.name} has {n} elements, more than the limit "
                            f"{LIMITS.max_elements}")
    return n


def vmstate_size(opaque: Any, field: VMStateField) -> int:
    """Element size: ``size``, or the size field for ``VMS_VBUFFER``."""
    size = field.size
    if field.flags & VMS_VBUFFER:
        size = _s32(_count(opaque, field, field.size_accessor))
        if field.flags & VMS_MULTIPLY:
            size *= field.size
        if size > LIMITS.max_alloc:
            raise LimitExceeded(f"{field.name} asks for {size} bytes, more than the limit "
                                f"{LIMITS.max_alloc}")
    return size


def _count(opaque: Any, field: VMStateField, acc: Any = None) -> int:
    acc = acc or field.num_accessor
    try:
        return int(acc.get(opaque) or 0)
    except (AttributeError, IndexError, TypeError, ValueError):
        raise VMStateError(f"{field.name}: count/size field "
                           f"{field.num_field or field.size_field!r} missing") from None


def _hook(fn: Any, *args: Any, what: str) -> Any:
    try:
        return fn(*args)
    except VMStateError:
        raise
    except Exception as exc:  # a user's hook failed: say which one
        raise HookError(f"{what} raised {type(exc).__name__}: {exc}") from exc


def _locate(err: VMStateError, f: QEMUFile, field: VMStateField) -> None:
    if err.offset is None:
        err.offset = f.tell()
    err.add_context(field.name)


def _ctx(err: VMStateError, field: VMStateField, i: int, is_list: bool) -> VMStateError:
    err.add_context(f"{field.name}[{i}]" if is_list else field.name)
    return err


# ---------------------------------------------------------------------------
# JSON description helpers (vmsd_can_compress, vmsd_desc_field_start/end)
# ---------------------------------------------------------------------------

def vmsd_can_compress(field: VMStateField) -> bool:
    if field.field_exists is not None or field.no_compress:
        return False
    if field.flags & VMS_STRUCT:
        if not all(vmsd_can_compress(s) for s in field.vmsd.fields if s is not None):
            return False
        if field.vmsd.subsections:
            return False
    return True


def _desc_start(vmsd: VMStateDescription, vmdesc: Any, field: VMStateField, i: int,
                max_elems: int, inner: VMStateField | None = None) -> None:
    """``vmsd_desc_field_start``: name, then array_len (a compressible array)
    or index (one entry per element), type, and the struct object."""
    inner = inner or field
    vmdesc.start_object(None)
    # QEMU names the entry after the field it describes: for a NULL element
    # that is the fake nullptr field (not in the list: "[-1]" if not unique)
    vmdesc.str("name", vmsd.json_name(inner))
    if max_elems > 1:
        if vmsd_can_compress(inner):
            vmdesc.int64("array_len", max_elems)
        else:
            vmdesc.int64("index", i)
    vmdesc.str("type", inner.type_name)
    if inner.flags & VMS_STRUCT:
        vmdesc.start_object("struct")


def _desc_end(vmdesc: Any, field: VMStateField, size: int) -> None:
    if field.flags & VMS_STRUCT:
        vmdesc.end_object()
    vmdesc.int64("size", size)
    vmdesc.end_object()


_NULLPTR = VMStateField("nullptr", info=vmstate_info_nullptr, flags=VMS_SINGLE, size=1)


# ---------------------------------------------------------------------------
# Save
# ---------------------------------------------------------------------------

def vmstate_save_state(f: QEMUFile, vmsd: VMStateDescription, opaque: Any,
                       vmdesc: Any = None) -> int:
    """Save ``opaque`` at the description's own version."""
    return vmstate_save_state_v(f, vmsd, opaque, vmdesc, vmsd.version_id)


def vmstate_save_state_with_err(f: QEMUFile, vmsd: VMStateDescription, opaque: Any,
                                vmdesc: Any = None) -> int:
    """QEMU 9+'s name for the same call (errors travel as exceptions here)."""
    return vmstate_save_state_v(f, vmsd, opaque, vmdesc, vmsd.version_id)


def vmstate_save_state_v(f: QEMUFile, vmsd: VMStateDescription, opaque: Any, vmdesc: Any,
                         version_id: int) -> int:
    """Write every existing field, then the needed subsections."""
    tr = _trace.ACTIVE
    if tr:
        outer = _enter(tr, f, "vmstate_save_state_v", vmsd)
        tr.qemu("vmstate_save_state_top", vmsd.name)
    try:
        if vmsd.pre_save:
            ret = _hook(vmsd.pre_save, opaque, what=f"{vmsd.name} pre_save")
            if tr:
                tr.qemu("vmstate_save_state_pre_save_res", vmsd.name, ret or 0)
            if ret:
                raise HookError(f"pre-save failed: {vmsd.name}", errno=-ret)
        if vmdesc is not None:
            vmdesc.str("vmsd_name", vmsd.name)
            vmdesc.int64("version", version_id)
            vmdesc.start_array("fields")
        for step in plan(vmsd, version_id):
            if type(step) is Run:  # plain integers: one struct call, same bytes
                if (step.save_traced(f, opaque, vmdesc, tr, vmsd.name) if tr
                        else step.save(f, opaque, vmdesc)):
                    continue
            for field in (step.fields if type(step) is Run else (step,)):
                if vmstate_field_exists(vmsd, field, opaque, version_id):
                    try:
                        n_elems = vmstate_n_elems(opaque, field)
                        size = vmstate_size(opaque, field)
                    except VMStateError as e:
                        _locate(e, f, field)
                        raise
                    if tr:
                        tr.qemu("vmstate_save_state_loop", vmsd.name, field.name, n_elems)
                    try:
                        _save_field(f, vmsd, field, opaque, vmdesc, n_elems, size, tr)
                    except VMStateError:
                        if vmsd.post_save:
                            _hook(vmsd.post_save, opaque, what=f"{vmsd.name} post_save")
                        raise
                elif field.flags & VMS_MUST_EXIST:
                    raise ValidationError(
                        f"Output state validation failed: {vmsd.name}/{field.name}")
        if vmdesc is not None:
            vmdesc.end_array()
        try:
            vmstate_subsection_save(f, vmsd, opaque, vmdesc)
        finally:
            if vmsd.post_save:
                ret = _hook(vmsd.post_save, opaque, what=f"{vmsd.name} post_save")
                if ret:
                    raise HookError(f"post-save failed: {vmsd.name}", errno=-ret)
    finally:
        if tr:
            _leave(tr, f, "vmstate_save_state_v", outer)
    return 0


def _save_field(f: QEMUFile, vmsd: VMStateDescription, field: VMStateField, opaque: Any,
                vmdesc: Any, n_elems: int, size: int, tr: Any) -> None:
    flags = field.flags
    is_list = field.is_list
    if n_elems <= 0:
        return  # QEMU's element loop does not run (VMSTATE_VALIDATE, empty VARRAY)
    try:
        value = field.accessor.get(opaque)
    except (AttributeError, IndexError, KeyError, TypeError):
        if field.info is vmstate_info_unused_buffer:
            value = None  # nothing behind it: QEMU writes zeros
        else:
            raise _ctx(VMStateError(f"the object has no value for field {field.name!r}",
                                    offset=f.tell()), field, 0, False) from None
    if value is None and flags & VMS_POINTER and n_elems and size:
        raise VMStateError(f"{field.name}: NULL pointer with {n_elems} elements", offset=f.tell())
    start = field.start if is_list else 0
    info = field.info
    if (tr is None and vmdesc is None and is_list and info is not None and info.fmt
            and not flags & (VMS_STRUCT | VMS_VSTRUCT | VMS_ARRAY_OF_POINTER)):
        try:  # the whole array in one call: same bytes, no per-element overhead
            f._wbuf += struct.pack(f">{n_elems}{info.fmt[1]}", *value[start:start + n_elems])
            return
        except (struct.error, TypeError):
            pass  # fall through to the element loop, which names the bad element
    vmdesc_loop = vmdesc
    # QEMU 9+ passes the elements left (n - i) where 7.2 passed n: the last
    # element of an uncompressed array then has no "index" in the JSON.
    qemu9 = vmdesc is not None and getattr(vmdesc, "split_nullptr_runs", True)
    is_prev_null = False
    for i in range(n_elems):
        try:
            elem = value[start + i] if is_list else value
        except (IndexError, TypeError):
            raise _ctx(VMStateError(f"the object's {field.name} has fewer than "
                                    f"{start + n_elems} elements", offset=f.tell()),
                       field, i, is_list) from None
        old = f.tell()
        is_null = bool(flags & VMS_ARRAY_OF_POINTER) and elem is None and size > 0
        inner = _null_named(field) if is_null else field
        if vmdesc_loop is not None or (qemu9 and flags & VMS_ARRAY_OF_POINTER):
            max_elems = n_elems - i if qemu9 else n_elems
            if qemu9 and flags & VMS_ARRAY_OF_POINTER and is_null != is_prev_null:
                # a run of NULL / non-NULL elements starts a new JSON entry
                is_prev_null = is_null
                vmdesc_loop = vmdesc
                for j in range(i + 1, n_elems):
                    if (value[start + j] is None) != is_null:
                        max_elems = j - i
                        break
            if vmdesc_loop is not None:
                _desc_start(vmsd, vmdesc_loop, field, i, max_elems,
                            inner if qemu9 else field)
        try:
            if inner.flags & VMS_STRUCT:
                _save_struct(f, inner.vmsd, elem, vmdesc_loop, inner.vmsd.version_id, tr,
                             field, i, is_list)
            elif inner.flags & VMS_VSTRUCT:
                _save_struct(f, inner.vmsd, elem, vmdesc_loop, inner.struct_version_id, tr,
                             field, i, is_list)
            else:
                inner.info.put(f, elem, size, inner, vmdesc_loop)
                # an info with its own description (qtailq, qlist, tmp) records
                # its own leaves; one more over its whole extent would overlap
                if tr is not None and tr.leaves and inner.vmsd is None:
                    end = f.tell()
                    raw = f.slice(old, end)
                    tr.leaf("field", "field_put", _fpath(tr, field), i if is_list else None,
                            inner.info.name, old, end - old,
                            _wire_value(inner.info, raw) if field.attr == "" else elem, raw)
        except VMStateError as e:
            _ctx(e, field, i, is_list)
            raise
        if vmdesc_loop is not None:
            _desc_end(vmdesc_loop, inner if qemu9 else field, f.tell() - old)
            if vmsd_can_compress(field):
                vmdesc_loop = None


def _wire_value(info: Any, raw: bytes) -> Any:
    """What a field computed from its whole object (``attr=""``) put on the wire."""
    if info is not None and info.fmt and len(raw) == struct.calcsize(info.fmt):
        return struct.unpack(info.fmt, raw)[0]
    return raw


def _null_named(field: VMStateField) -> VMStateField:
    """``vmsd_create_fake_nullptr_field``: the field's name, type nullptr."""
    fake = VMStateField(field.name, info=vmstate_info_nullptr, flags=VMS_SINGLE, size=1,
                        version_id=field.version_id)
    fake.no_compress = field.no_compress
    return fake


def _fpath(tr: Any, field: VMStateField) -> str:
    return tr.prefix + field.name if tr.prefix else field.name


def _save_struct(f: QEMUFile, vmsd: VMStateDescription, elem: Any, vmdesc: Any, version: int,
                 tr: Any, field: VMStateField, i: int, is_list: bool) -> None:
    if tr is None:
        vmstate_save_state_v(f, vmsd, elem, vmdesc, version)
        return
    saved = tr.prefix
    tr.prefix = _fpath(tr, field) + (f"[{i}]." if is_list else ".")
    try:
        vmstate_save_state_v(f, vmsd, elem, vmdesc, version)
    finally:
        tr.prefix = saved


def vmstate_section_needed(vmsd: VMStateDescription, opaque: Any) -> bool:
    """``vmstate_section_needed`` (7.2: ``vmstate_save_needed``)."""
    if vmsd.needed is not None and not _hook(vmsd.needed, opaque, what=f"{vmsd.name} needed"):
        return False
    return True


vmstate_save_needed = vmstate_section_needed


def vmstate_subsection_save(f: QEMUFile, vmsd: VMStateDescription, opaque: Any,
                            vmdesc: Any) -> int:
    """For each needed subsection: marker 0x05, name length and name, be32
    version, then the subsection's own fields."""
    tr = _trace.ACTIVE
    if tr:
        tr.qemu("vmstate_subsection_save_top", vmsd.name)
    has_subsections = False
    for sub in vmsd.subsections:
        if sub is None or not vmstate_section_needed(sub, opaque):
            continue
        if tr:
            tr.qemu("vmstate_subsection_save_loop", vmsd.name, sub.name)
        if vmdesc is not None:
            if not has_subsections:
                vmdesc.start_array("subsections")
                has_subsections = True
            vmdesc.start_object(None)
        name = sub.name.encode("latin-1")
        if len(name) > 255:
            raise VMStateError(f"subsection name {sub.name!r} longer than 255 bytes")
        old = f.tell()
        f.put_byte(QEMU_VM_SUBSECTION)
        f.put_byte(len(name))
        f.put_buffer(name)
        f.put_be32(sub.version_id)
        if tr is not None and tr.leaves:
            _subsection_leaves(tr, "frame_put", f, old, sub.name, sub.version_id)
        try:
            vmstate_save_state_with_err(f, sub, opaque, vmdesc)
        except VMStateError as e:
            e.add_context(_short(vmsd.name, sub.name), "sub")
            raise
        if vmdesc is not None:
            vmdesc.end_object()
    if has_subsections:
        vmdesc.end_array()
    return 0


def _short(parent: str, sub: str) -> str:
    return sub[len(parent) + 1:] if sub.startswith(parent + "/") else sub


def _subsection_leaves(tr: Any, ev: str, f: QEMUFile, old: int, name: str, version: int) -> None:
    n = len(name)
    tr.leaf("frame", ev, "subsection marker", None, "uint8", old, 1, QEMU_VM_SUBSECTION,
            f.slice(old, old + 1))
    tr.leaf("frame", ev, "subsection name length", None, "uint8", old + 1, 1, n,
            f.slice(old + 1, old + 2))
    tr.leaf("frame", ev, "subsection name", None, "string", old + 2, n, name,
            f.slice(old + 2, old + 2 + n))
    tr.leaf("frame", ev, "subsection version", None, "uint32", old + 2 + n, 4, version,
            f.slice(old + 2 + n, old + 6 + n))


# ---------------------------------------------------------------------------
# Load
# ---------------------------------------------------------------------------

def vmstate_load_state(f: QEMUFile, vmsd: VMStateDescription, opaque: Any,
                       version_id: int) -> int:
    """Read every field that exists at ``version_id``, then the subsections,
    then run ``post_load``. A version outside [minimum, current] is refused."""
    tr = _trace.ACTIVE
    if tr:
        outer = _enter(tr, f, "vmstate_load_state", vmsd)
        tr.qemu("vmstate_load_state", vmsd.name, version_id)
    try:
        if version_id > vmsd.version_id or version_id < vmsd.minimum_version_id:
            new = version_id > vmsd.version_id
            if tr:
                tr.qemu("vmstate_load_state_end", vmsd.name, "too new" if new else "too old",
                        -EINVAL)
            from .errors import VersionError
            raise VersionError(
                f"{vmsd.name}: incoming version_id {version_id} is too "
                + (f"new for local version_id {vmsd.version_id}" if new else
                   f"old for local minimum version_id {vmsd.minimum_version_id}"),
                offset=f.tell())
        if vmsd.pre_load:
            ret = _hook(vmsd.pre_load, opaque, what=f"{vmsd.name} pre_load")
            if ret:
                raise HookError(f"{vmsd.name} pre_load failed ({ret})", offset=f.tell(),
                                errno=-ret)
        for step in plan(vmsd, version_id):
            if type(step) is Run:  # plain integers: one struct call, same values
                if (step.load_traced(f, opaque, tr, vmsd.name) if tr
                        else step.load(f, opaque)):
                    continue
            for field in (step.fields if type(step) is Run else (step,)):
                exists = vmstate_field_exists(vmsd, field, opaque, version_id)
                if tr:
                    tr.qemu("vmstate_load_state_field", vmsd.name, field.name, int(exists))
                if exists:
                    try:
                        _load_field(f, vmsd, field, opaque, version_id, tr)
                    except VMStateError as e:
                        if e.offset is None:  # e.g. storing the value failed: where we are
                            e.offset = f.tell()
                        if tr:
                            tr.qemu("vmstate_load_field_error", field.name, -e.errno)
                        raise
                elif field.flags & VMS_MUST_EXIST:
                    raise ValidationError(f"Input validation failed: {vmsd.name}/{field.name}",
                                          offset=f.tell())
        vmstate_subsection_load(f, vmsd, opaque)
        ret = 0
        if vmsd.post_load:
            ret = _hook(vmsd.post_load, opaque, version_id, what=f"{vmsd.name} post_load") or 0
            if ret:
                if tr:
                    tr.qemu("vmstate_load_state_end", vmsd.name, "end", ret)
                raise ValidationError(f"{vmsd.name} post_load refused the state ({ret})",
                                      offset=f.tell(), errno=-ret)
        if tr:
            tr.qemu("vmstate_load_state_end", vmsd.name, "end", ret)
    finally:
        if tr:
            _leave(tr, f, "vmstate_load_state", outer)
    return 0


_BUFFERS = (vmstate_info_buffer, vmstate_info_unused_buffer)  # ``size`` bytes each




def _load_field(f: QEMUFile, vmsd: VMStateDescription, field: VMStateField, opaque: Any,
                version_id: int, tr: Any) -> None:
    flags = field.flags
    info = field.info
    try:
        n_elems = vmstate_n_elems(opaque, field)
        size = vmstate_size(opaque, field)
    except VMStateError as e:  # a count or size over the limit: say where
        _locate(e, f, field)
        raise
    # Bytes the elements need at least (fixed-width types, buffers): checked
    # against what the stream holds before anything is allocated for them.
    need = 0
    if info is not None and not flags & (VMS_STRUCT | VMS_VSTRUCT):
        elem = info.width or (size if info in _BUFFERS else 0)
        need = n_elems * (min(elem, 1) if flags & VMS_ARRAY_OF_POINTER else elem)
    if need > f.remaining():
        raise _ctx(StreamTruncated(f"stream ends: {n_elems} element{'s' if n_elems != 1 else ''}"
                                   f" of {field.name} need {need} bytes, {f.remaining()} left",
                                   offset=f.tell()), field, 0, False)
    if flags & VMS_POINTER and flags & VMS_ALLOC:  # vmstate_handle_alloc
        if size * n_elems > 0 and not field.is_list:
            field.accessor.set(opaque, bytearray(size))
    is_list = field.is_list
    cur = field.accessor.get_or_none(opaque)
    if not is_list:
        if flags & (VMS_STRUCT | VMS_VSTRUCT):
            if cur is None:
                cur = field.factory() if field.factory else SimpleNamespace()
                field.accessor.set(opaque, cur)
            ver = field.vmsd.version_id if flags & VMS_STRUCT else field.struct_version_id
            for i in range(n_elems):  # n_elems is 1 here (0 for an empty VARRAY)
                _load_struct(f, field.vmsd, cur, ver, tr, field, i, False)
            return
        for _ in range(n_elems):
            old = f.tell()
            try:
                v = info.get(f, cur, size, field)
            except VMStateError as e:
                _ctx(e, field, 0, False)
                raise
            field.accessor.set(opaque, v)
            if tr is not None and tr.leaves and field.vmsd is None:
                end = f.tell()
                tr.leaf("field", "field_get", _fpath(tr, field), None, info.name, old, end - old,
                        v, f.slice(old, end))
        return
    start = field.start
    seq = cur
    if seq is None or isinstance(seq, (bytes, tuple)):
        seq = bytearray(seq) if isinstance(seq, bytes) else list(seq or [])
        field.accessor.set(opaque, seq)
    # A list is sized up front only when the stream is known to hold its
    # elements (need: at least a byte each); else it grows element by element.
    grow = need < n_elems and not isinstance(seq, bytearray)
    try:
        if len(seq) < start + n_elems and not grow:
            if isinstance(seq, bytearray):
                seq.extend(bytes(start + n_elems - len(seq)))
            else:
                seq.extend([None] * (start + n_elems - len(seq)))
        elif grow and len(seq) < start:
            seq.extend([None] * (start - len(seq)))
    except (AttributeError, TypeError):  # e.g. a struct loaded earlier under this name
        raise _ctx(VMStateError(f"the object holds a {type(seq).__name__} where the array "
                                f"{field.name} goes", offset=f.tell()), field, 0, False) from None
    if (tr is None and info is not None and info.fmt and n_elems > 0
            and not flags & (VMS_STRUCT | VMS_VSTRUCT | VMS_ARRAY_OF_POINTER)):
        n = n_elems * info.width
        try:
            pos = f._need(n, f"{n_elems} elements")
        except VMStateError as e:
            _ctx(e, field, 0, True)
            raise
        seq[start:start + n_elems] = struct.unpack_from(f">{n_elems}{info.fmt[1]}", f._rbuf, pos)
        return
    for i in range(n_elems):
        if grow and start + i >= len(seq):
            seq.append(None)
        elem = seq[start + i]
        if flags & (VMS_STRUCT | VMS_VSTRUCT) and not (
                flags & VMS_ARRAY_OF_POINTER and elem is None and _peek_null(f)):
            if elem is None:
                elem = field.factory() if field.factory else SimpleNamespace()
                seq[start + i] = elem
            ver = field.vmsd.version_id if flags & VMS_STRUCT else field.struct_version_id
            _load_struct(f, field.vmsd, elem, ver, tr, field, i, True)
            continue
        inner = _NULLPTR if (flags & VMS_ARRAY_OF_POINTER and elem is None and size
                             and (info is None or _peek_null(f))) else field
        old = f.tell()
        try:
            v = inner.info.get(f, elem, size, inner)
        except VMStateError as e:
            _ctx(e, field, i, True)
            raise
        seq[start + i] = v
        if tr is not None and tr.leaves and inner.vmsd is None:
            end = f.tell()
            tr.leaf("field", "field_get", _fpath(tr, field), i, inner.info.name, old, end - old,
                    v, f.slice(old, end))


def _peek_null(f: QEMUFile) -> bool:
    # A NULL element of a pointer array was saved as the nullptr marker. The
    # C loader knows from its own pointer; a model built from the stream
    # looks at the byte (the JSON names these elements "nullptr").
    from .info import VMS_NULLPTR_MARKER
    return f.peek_byte(0) == VMS_NULLPTR_MARKER


def _load_struct(f: QEMUFile, vmsd: VMStateDescription, elem: Any, version: int, tr: Any,
                 field: VMStateField, i: int, is_list: bool) -> None:
    try:
        if tr is None:
            vmstate_load_state(f, vmsd, elem, version)
            return
        saved = tr.prefix
        tr.prefix = _fpath(tr, field) + (f"[{i}]." if is_list else ".")
        try:
            vmstate_load_state(f, vmsd, elem, version)
        finally:
            tr.prefix = saved
    except VMStateError as e:
        _ctx(e, field, i, is_list)
        raise


def vmstate_get_subsection(subs: Any, idstr: str) -> VMStateDescription | None:
    for s in subs:
        if s is not None and s.name == idstr:
            return s
    return None


def vmstate_subsection_load(f: QEMUFile, vmsd: VMStateDescription, opaque: Any) -> int:
    """While the next byte is a subsection marker whose name starts with
    ``vmsd.name + "/"``, load it; a foreign name is handed back to the caller
    (each hand-back is a harmless ``vmstate_subsection_load_bad`` line)."""
    tr = _trace.ACTIVE
    if tr:
        tr.qemu("vmstate_subsection_load", vmsd.name)
    while f.peek_byte(0) == QEMU_VM_SUBSECTION:
        ln = f.peek_byte(1)
        if ln is None or ln < len(vmsd.name) + 1:
            if tr:
                tr.qemu("vmstate_subsection_load_bad", vmsd.name, "(short)", "")
            if ln is None:  # QEMU's peek past the end also sets the file's -EIO
                raise StreamTruncated("stream ends inside a subsection header",
                                      offset=f.tell())
            return 0
        raw = f.peek_buffer(ln, 2)
        if len(raw) != ln:
            if tr:
                tr.qemu("vmstate_subsection_load_bad", vmsd.name, "(peek fail)", "")
            raise StreamTruncated("stream ends inside a subsection name", offset=f.tell())
        idstr = raw.decode("latin-1")
        if not idstr.startswith(vmsd.name):
            if tr:
                tr.qemu("vmstate_subsection_load_bad", vmsd.name, idstr, "(prefix)")
            return 0
        sub = vmstate_get_subsection(vmsd.subsections, idstr)
        if sub is None:
            if tr:
                tr.qemu("vmstate_subsection_load_bad", vmsd.name, idstr, "(lookup)")
            raise SectionError(f"unknown subsection {idstr!r} of {vmsd.name!r}",
                               offset=f.tell(), errno=ENOENT)
        old = f.tell()
        f.skip(2 + ln)
        version_id = f.get_be32()
        if tr is not None and tr.leaves:
            _subsection_leaves(tr, "frame_get", f, old, idstr, version_id)
        try:
            vmstate_load_state(f, sub, opaque, version_id)
        except VMStateError as e:
            if tr:
                tr.qemu("vmstate_subsection_load_bad", vmsd.name, idstr, "(child)")
            e.add_context(_short(vmsd.name, idstr), "sub")
            raise
    if tr:
        tr.qemu("vmstate_subsection_load_good", vmsd.name)
    return 0


# ---------------------------------------------------------------------------
# call records for call-chain views
# ---------------------------------------------------------------------------

def _enter(tr: Any, f: QEMUFile, func: str, vmsd: VMStateDescription) -> tuple:
    if tr.depth >= LIMITS.max_depth:
        raise LimitExceeded(f"descriptions nest deeper than {LIMITS.max_depth}", offset=f.tell())
    tr.call("B", func, f.tell(), vmsd.name)
    outer = (tr.vmsd,)
    tr.vmsd = vmsd.name
    tr.depth += 1
    return outer


def _leave(tr: Any, f: QEMUFile, func: str, outer: tuple) -> None:
    tr.depth -= 1
    tr.call("E", func, f.tell(), tr.vmsd)
    tr.vmsd = outer[0]
