"""Descriptions, as in ``include/migration/vmstate.h``.

A :class:`VMStateDescription` is data: a name, versions, a list of
:class:`VMStateField`, subsections and optional hooks. The ``VMSTATE_*``
constructors build fields exactly as QEMU's macros fill ``VMStateField``;
C's "struct type" argument is dropped, every other argument keeps its
order. Where C has an ``offsetof``, we have a field *name* that walks
attributes (``"env.gpr"``, ``"env.vfp.zregs[0]"``); where C has a
``num_offset``/``size_offset``, we have the name of the count field.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from types import SimpleNamespace
from typing import Any

from . import info as _i
from .errors import VMStateError
from .info import VMStateInfo

# enum VMStateFlags
VMS_SINGLE = 0x001
VMS_POINTER = 0x002
VMS_ARRAY = 0x004
VMS_STRUCT = 0x008
VMS_VARRAY_INT32 = 0x010
VMS_BUFFER = 0x020
VMS_ARRAY_OF_POINTER = 0x040
VMS_VARRAY_UINT16 = 0x080
VMS_VBUFFER = 0x100
VMS_MULTIPLY = 0x200
VMS_VARRAY_UINT8 = 0x400
VMS_VARRAY_UINT32 = 0x800
VMS_MUST_EXIST = 0x1000
VMS_ALLOC = 0x2000
VMS_MULTIPLY_ELEMENTS = 0x4000
VMS_VSTRUCT = 0x8000
VMS_END = 0x10000

VMS_VARRAY_ANY = VMS_VARRAY_INT32 | VMS_VARRAY_UINT8 | VMS_VARRAY_UINT16 | VMS_VARRAY_UINT32
VMS_LIST_LIKE = VMS_ARRAY | VMS_VARRAY_ANY | VMS_ARRAY_OF_POINTER

_TOKEN = re.compile(r"\[(\d+)\]|\.?([A-Za-z_]\w*)")


def _parse_path(name: str) -> tuple:
    """``"env.vfp.zregs[0].d"`` -> ``("env", "vfp", "zregs", 0, "d")``;
    ``""`` is the object itself."""
    if name == "":
        return ()
    out: list = []
    pos = 0
    for m in _TOKEN.finditer(name):
        if m.start() != pos:
            break
        out.append(int(m.group(1)) if m.group(1) is not None else m.group(2))
        pos = m.end()
    if pos != len(name) or not out:
        return (name,)  # not a C expression (e.g. a JSON name "x (1)"): one attribute
    return tuple(out)


class Accessor:
    """Reads and writes the value a field names inside an opaque object."""

    __slots__ = ("tokens",)

    def __init__(self, name: str):
        self.tokens = _parse_path(name)

    @classmethod
    def flat(cls, *keys: str) -> Accessor:
        """Attributes named exactly ``keys`` (no parsing of dots or brackets)."""
        a = cls("")
        a.tokens = tuple(keys)
        return a

    def get(self, opaque: Any) -> Any:
        obj = opaque
        for t in self.tokens:
            obj = obj[t] if isinstance(t, int) else getattr(obj, t)
        return obj

    def get_or_none(self, opaque: Any) -> Any:
        try:
            return self.get(opaque)
        except (AttributeError, IndexError, KeyError, TypeError):
            return None

    def set(self, opaque: Any, value: Any) -> None:
        """Store ``value``, creating intermediate namespaces as loading needs.
        An object that cannot hold it (a list where a struct is expected, as
        two stream fields of one name make) raises :class:`VMStateError`."""
        try:
            self._set(opaque, value)
        except (AttributeError, IndexError, TypeError) as e:
            raise VMStateError(f"cannot store {'.'.join(map(str, self.tokens))}: {e}") from None

    def _set(self, opaque: Any, value: Any) -> None:
        obj = opaque
        toks = self.tokens
        if not toks:
            return
        for t, nxt in zip(toks, toks[1:]):
            if isinstance(t, int):
                while len(obj) <= t:
                    obj.append(None)
                child = obj[t]
                if child is None:
                    child = [] if isinstance(nxt, int) else SimpleNamespace()
                    obj[t] = child
            else:
                child = getattr(obj, t, None)
                if child is None:
                    child = [] if isinstance(nxt, int) else SimpleNamespace()
                    setattr(obj, t, child)
            obj = child
        last = toks[-1]
        if isinstance(last, int):
            while len(obj) <= last:
                obj.append(None)
            obj[last] = value
        else:
            setattr(obj, last, value)


@dataclass(eq=False)
class VMStateField:
    """``VMStateField``: one entry of a description's field list."""

    name: str
    info: VMStateInfo | None = None
    flags: int = VMS_SINGLE
    size: int = 0
    num: int = 0
    num_field: str | None = None       # C: num_offset
    size_field: str | None = None      # C: size_offset
    start: int = 0
    version_id: int = 0
    struct_version_id: int = 0
    field_exists: Callable[[Any, int], bool] | None = None
    vmsd: VMStateDescription | None = None
    err_hint: str | None = None
    factory: Callable[[], Any] | None = None  # makes an element when loading
    no_compress: bool = False  # JSON gave one entry per element ("index")
    attr: str | None = None  # where the value lives, if not at ``name``
    json_name: str | None = None  # the JSON name, if not computed from ``name``
    key_vmsd: VMStateDescription | None = None  # GTree: keys saved with a description
    key_factory: Callable[[], Any] | None = None
    key_order: Callable[[Any], Any] | None = None  # GTree: the tree's compare, as a sort key
    accessor: Accessor = dc_field(init=False, repr=False)
    num_accessor: Accessor | None = dc_field(init=False, repr=False)
    size_accessor: Accessor | None = dc_field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.accessor = Accessor(self.name if self.attr is None else self.attr)
        self.num_accessor = Accessor(self.num_field) if self.num_field else None
        self.size_accessor = Accessor(self.size_field) if self.size_field else None

    @property
    def is_list(self) -> bool:
        """True when the Python value is a list of elements."""
        return bool(self.flags & VMS_LIST_LIKE)

    @property
    def type_name(self) -> str:
        """What the stream's JSON calls this field's type (``vmfield_get_type_name``)."""
        if self.flags & VMS_STRUCT:
            return "struct"
        if self.flags & VMS_VSTRUCT:
            return "vstruct"
        return self.info.name if self.info is not None and self.info.name else "unknown"


@dataclass(eq=False)
class VMStateDescription:
    """``VMStateDescription``: hooks take the opaque object (post_load also
    the version) and return 0 or a negative errno, as in QEMU."""

    name: str
    version_id: int = 0
    minimum_version_id: int = 0
    fields: Sequence[VMStateField] = ()
    subsections: Sequence[VMStateDescription] = ()
    needed: Callable[[Any], bool] | None = None
    pre_save: Callable[[Any], int] | None = None
    post_save: Callable[[Any], int] | None = None
    pre_load: Callable[[Any], int] | None = None
    post_load: Callable[[Any, int], int] | None = None
    early_setup: bool = False
    priority: int = 0  # MigrationPriority: higher saves first
    unmigratable: bool = False

    def __post_init__(self) -> None:
        # VMSTATE_END_OF_LIST() is None: a list copied from C may end with it
        self.fields = tuple(f for f in self.fields if f is not None)
        self.subsections = tuple(s for s in self.subsections if s is not None)
        names: dict[str, int] = {}
        for f in self.fields:
            names[f.name] = names.get(f.name, 0) + 1
        seen: dict[str, int] = {}
        # JSON names: a name used twice gets "[n]" (vmfield_name_is_unique/num)
        self._json_names: dict[int, str] = {}
        for f in self.fields:
            if f.json_name is not None:
                self._json_names[id(f)] = f.json_name
            elif names[f.name] > 1:
                n = seen.get(f.name, 0)
                seen[f.name] = n + 1
                self._json_names[id(f)] = f"{f.name}[{n}]"
            else:
                self._json_names[id(f)] = f.name

    def json_name(self, f: VMStateField) -> str:
        name = self._json_names.get(id(f))
        if name is not None:
            return name
        # A field not in the list (QEMU 9+'s fake nullptr field): unique by
        # name as usual; vmfield_name_num finds no match and gives -1.
        if sum(1 for g in self.fields if g is not None and g.name == f.name) > 1:
            return f"{f.name}[-1]"
        return f.name

    def __repr__(self) -> str:
        return (f"VMStateDescription({self.name!r}, version_id={self.version_id}, "
                f"{len(self.fields)} fields, {len(self.subsections)} subsections)")


# ---------------------------------------------------------------------------
# The generic constructors (vmstate.h), in the order QEMU defines them.
# ---------------------------------------------------------------------------

def VMSTATE_SINGLE_TEST(name: str, test: Callable | None, version: int, info: VMStateInfo,
                        size: int | None = None) -> VMStateField:
    return VMStateField(name, info=info, flags=VMS_SINGLE, size=size or info.width or 0,
                        version_id=version, field_exists=test)


def VMSTATE_SINGLE(name: str, version: int, info: VMStateInfo) -> VMStateField:
    return VMSTATE_SINGLE_TEST(name, None, version, info)


def VMSTATE_VALIDATE(name: str, test: Callable) -> VMStateField:
    """A check with no bytes: loading fails when ``test`` is false."""
    return VMStateField(name, flags=VMS_ARRAY | VMS_MUST_EXIST, num=0, field_exists=test,
                        info=_i.vmstate_info_uint8)


def VMSTATE_POINTER(name: str, version: int, info: VMStateInfo) -> VMStateField:
    return VMStateField(name, info=info, flags=VMS_SINGLE | VMS_POINTER, size=info.width or 0,
                        version_id=version)


def VMSTATE_POINTER_TEST(name: str, test: Callable, info: VMStateInfo) -> VMStateField:
    return VMStateField(name, info=info, flags=VMS_SINGLE | VMS_POINTER, size=info.width or 0,
                        field_exists=test)


def VMSTATE_ARRAY(name: str, num: int, version: int, info: VMStateInfo,
                  test: Callable | None = None) -> VMStateField:
    return VMStateField(name, info=info, flags=VMS_ARRAY, num=num, size=info.width or 0,
                        version_id=version, field_exists=test)


def VMSTATE_2DARRAY(name: str, n1: int, n2: int, version: int, info: VMStateInfo) -> VMStateField:
    """A C two-dimensional array; in Python a flat list of ``n1 * n2`` elements."""
    return VMSTATE_ARRAY(name, n1 * n2, version, info)


def VMSTATE_SUB_ARRAY(name: str, start: int, num: int, version: int,
                      info: VMStateInfo) -> VMStateField:
    return VMStateField(name, info=info, flags=VMS_ARRAY, num=num, start=start,
                        size=info.width or 0, version_id=version)


def VMSTATE_VARRAY_INT32(name: str, num_field: str, version: int, info: VMStateInfo,
                         pointer: bool = True) -> VMStateField:
    return VMStateField(name, info=info, num_field=num_field, size=info.width or 0,
                        version_id=version,
                        flags=VMS_VARRAY_INT32 | (VMS_POINTER if pointer else 0))


def VMSTATE_VARRAY_UINT32(name: str, num_field: str, version: int, info: VMStateInfo,
                          pointer: bool = True) -> VMStateField:
    return VMStateField(name, info=info, num_field=num_field, size=info.width or 0,
                        version_id=version,
                        flags=VMS_VARRAY_UINT32 | (VMS_POINTER if pointer else 0))


def VMSTATE_VARRAY_UINT32_ALLOC(name: str, num_field: str, version: int,
                                info: VMStateInfo) -> VMStateField:
    return VMStateField(name, info=info, num_field=num_field, size=info.width or 0,
                        version_id=version, flags=VMS_VARRAY_UINT32 | VMS_POINTER | VMS_ALLOC)


def VMSTATE_VARRAY_UINT16_UNSAFE(name: str, num_field: str, version: int,
                                 info: VMStateInfo) -> VMStateField:
    return VMStateField(name, info=info, num_field=num_field, size=info.width or 0,
                        version_id=version, flags=VMS_VARRAY_UINT16)


def VMSTATE_VARRAY_UINT16_ALLOC(name: str, num_field: str, version: int,
                                info: VMStateInfo) -> VMStateField:
    return VMStateField(name, info=info, num_field=num_field, size=info.width or 0,
                        version_id=version, flags=VMS_VARRAY_UINT16 | VMS_POINTER | VMS_ALLOC)


def VMSTATE_VARRAY_MULTIPLY(name: str, num_field: str, multiply: int,
                            info: VMStateInfo) -> VMStateField:
    return VMStateField(name, info=info, num_field=num_field, num=multiply, size=info.width or 0,
                        flags=VMS_VARRAY_UINT32 | VMS_MULTIPLY_ELEMENTS)


def VMSTATE_STRUCT_TEST(name: str, test: Callable | None, version: int,
                        vmsd: VMStateDescription) -> VMStateField:
    return VMStateField(name, vmsd=vmsd, flags=VMS_STRUCT, version_id=version, field_exists=test)


def VMSTATE_STRUCT(name: str, version: int, vmsd: VMStateDescription) -> VMStateField:
    return VMSTATE_STRUCT_TEST(name, None, version, vmsd)


def VMSTATE_VSTRUCT_TEST(name: str, test: Callable | None, version: int,
                         vmsd: VMStateDescription, struct_version: int) -> VMStateField:
    return VMStateField(name, vmsd=vmsd, flags=VMS_VSTRUCT, version_id=version,
                        struct_version_id=struct_version, field_exists=test)


def VMSTATE_VSTRUCT(name: str, vmsd: VMStateDescription, struct_version: int) -> VMStateField:
    return VMSTATE_VSTRUCT_TEST(name, None, 0, vmsd, struct_version)


def VMSTATE_VSTRUCT_V(name: str, version: int, vmsd: VMStateDescription,
                      struct_version: int) -> VMStateField:
    return VMSTATE_VSTRUCT_TEST(name, None, version, vmsd, struct_version)


def VMSTATE_STRUCT_POINTER_V(name: str, version: int, vmsd: VMStateDescription) -> VMStateField:
    return VMStateField(name, vmsd=vmsd, flags=VMS_STRUCT | VMS_POINTER, version_id=version)


def VMSTATE_STRUCT_POINTER(name: str, vmsd: VMStateDescription) -> VMStateField:
    return VMSTATE_STRUCT_POINTER_V(name, 0, vmsd)


def VMSTATE_STRUCT_POINTER_TEST(name: str, test: Callable,
                                vmsd: VMStateDescription) -> VMStateField:
    return VMStateField(name, vmsd=vmsd, flags=VMS_STRUCT | VMS_POINTER, field_exists=test)


def VMSTATE_ARRAY_OF_POINTER(name: str, num: int, version: int,
                             info: VMStateInfo) -> VMStateField:
    return VMStateField(name, info=info, num=num, size=info.width or 8, version_id=version,
                        flags=VMS_ARRAY | VMS_ARRAY_OF_POINTER)


def VMSTATE_ARRAY_OF_POINTER_TO_STRUCT(name: str, num: int, version: int,
                                       vmsd: VMStateDescription) -> VMStateField:
    return VMStateField(name, vmsd=vmsd, num=num, size=8, version_id=version,
                        flags=VMS_ARRAY | VMS_STRUCT | VMS_ARRAY_OF_POINTER)


def VMSTATE_STRUCT_ARRAY_TEST(name: str, num: int, test: Callable | None, version: int,
                              vmsd: VMStateDescription) -> VMStateField:
    return VMStateField(name, vmsd=vmsd, num=num, flags=VMS_STRUCT | VMS_ARRAY,
                        version_id=version, field_exists=test, size=1)


def VMSTATE_STRUCT_ARRAY(name: str, num: int, version: int,
                         vmsd: VMStateDescription) -> VMStateField:
    return VMSTATE_STRUCT_ARRAY_TEST(name, num, None, version, vmsd)


def VMSTATE_STRUCT_SUB_ARRAY(name: str, start: int, num: int, version: int,
                             vmsd: VMStateDescription) -> VMStateField:
    return VMStateField(name, vmsd=vmsd, num=num, start=start, version_id=version, size=1,
                        flags=VMS_STRUCT | VMS_ARRAY)


def VMSTATE_STRUCT_2DARRAY(name: str, n1: int, n2: int, version: int,
                           vmsd: VMStateDescription) -> VMStateField:
    return VMSTATE_STRUCT_ARRAY(name, n1 * n2, version, vmsd)


def VMSTATE_STRUCT_VARRAY_UINT8(name: str, num_field: str, version: int,
                                vmsd: VMStateDescription) -> VMStateField:
    return VMStateField(name, vmsd=vmsd, num_field=num_field, version_id=version, size=1,
                        flags=VMS_STRUCT | VMS_VARRAY_UINT8)


def VMSTATE_STRUCT_VARRAY_INT32(name: str, num_field: str, version: int,
                                vmsd: VMStateDescription) -> VMStateField:
    return VMStateField(name, vmsd=vmsd, num_field=num_field, version_id=version, size=1,
                        flags=VMS_STRUCT | VMS_VARRAY_INT32)


def VMSTATE_STRUCT_VARRAY_UINT32(name: str, num_field: str, version: int,
                                 vmsd: VMStateDescription) -> VMStateField:
    return VMStateField(name, vmsd=vmsd, num_field=num_field, version_id=version, size=1,
                        flags=VMS_STRUCT | VMS_VARRAY_UINT32)


def VMSTATE_STRUCT_VARRAY_POINTER_INT32(name: str, num_field: str,
                                        vmsd: VMStateDescription) -> VMStateField:
    return VMStateField(name, vmsd=vmsd, num_field=num_field, size=1,
                        flags=VMS_STRUCT | VMS_VARRAY_INT32 | VMS_POINTER)


def VMSTATE_STRUCT_VARRAY_POINTER_UINT32(name: str, num_field: str,
                                         vmsd: VMStateDescription) -> VMStateField:
    return VMStateField(name, vmsd=vmsd, num_field=num_field, size=1,
                        flags=VMS_STRUCT | VMS_VARRAY_UINT32 | VMS_POINTER)


def VMSTATE_STRUCT_VARRAY_POINTER_UINT16(name: str, num_field: str,
                                         vmsd: VMStateDescription) -> VMStateField:
    return VMStateField(name, vmsd=vmsd, num_field=num_field, size=1,
                        flags=VMS_STRUCT | VMS_VARRAY_UINT16 | VMS_POINTER)


def VMSTATE_STRUCT_VARRAY_ALLOC(name: str, num_field: str, version: int,
                                vmsd: VMStateDescription,
                                factory: Callable | None = None) -> VMStateField:
    return VMStateField(name, vmsd=vmsd, num_field=num_field, version_id=version, size=1,
                        flags=VMS_STRUCT | VMS_VARRAY_INT32 | VMS_ALLOC | VMS_POINTER,
                        factory=factory)


def VMSTATE_STATIC_BUFFER(name: str, version: int, test: Callable | None, start: int,
                          size: int) -> VMStateField:
    return VMStateField(name, info=_i.vmstate_info_buffer, flags=VMS_BUFFER, size=size - start,
                        start=start, version_id=version, field_exists=test)


def VMSTATE_BUFFER_V(name: str, size: int, version: int) -> VMStateField:
    return VMSTATE_STATIC_BUFFER(name, version, None, 0, size)


def VMSTATE_BUFFER(name: str, size: int | None = None) -> VMStateField:
    """A fixed-size byte buffer. C takes its size from ``sizeof``; pass it
    here, or give the model a bytes value of the right length."""
    return VMSTATE_STATIC_BUFFER(name, 0, None, 0, size or 0)


def VMSTATE_BUFFER_TEST(name: str, size: int, test: Callable) -> VMStateField:
    return VMSTATE_STATIC_BUFFER(name, 0, test, 0, size)


def VMSTATE_PARTIAL_BUFFER(name: str, size: int) -> VMStateField:
    return VMSTATE_STATIC_BUFFER(name, 0, None, 0, size)


def VMSTATE_BUFFER_START_MIDDLE_V(name: str, total: int, start: int,
                                  version: int) -> VMStateField:
    return VMSTATE_STATIC_BUFFER(name, version, None, start, total)


def VMSTATE_BUFFER_START_MIDDLE(name: str, total: int, start: int) -> VMStateField:
    return VMSTATE_BUFFER_START_MIDDLE_V(name, total, start, 0)


def VMSTATE_BUFFER_UNSAFE_INFO_TEST(name: str, test: Callable | None, version: int,
                                    info: VMStateInfo, size: int) -> VMStateField:
    return VMStateField(name, info=info, flags=VMS_BUFFER, size=size, version_id=version,
                        field_exists=test)


def VMSTATE_BUFFER_UNSAFE_INFO(name: str, version: int, info: VMStateInfo,
                               size: int) -> VMStateField:
    return VMSTATE_BUFFER_UNSAFE_INFO_TEST(name, None, version, info, size)


def VMSTATE_BUFFER_UNSAFE(name: str, version: int, size: int) -> VMStateField:
    return VMSTATE_BUFFER_UNSAFE_INFO(name, version, _i.vmstate_info_buffer, size)


def VMSTATE_BUFFER_POINTER_UNSAFE(name: str, version: int, size: int) -> VMStateField:
    return VMStateField(name, info=_i.vmstate_info_buffer, flags=VMS_BUFFER | VMS_POINTER,
                        size=size, version_id=version)


def VMSTATE_VBUFFER_MULTIPLY(name: str, version: int, test: Callable | None, size_field: str,
                             multiply: int) -> VMStateField:
    return VMStateField(name, info=_i.vmstate_info_buffer, size=multiply, size_field=size_field,
                        version_id=version, field_exists=test,
                        flags=VMS_VBUFFER | VMS_POINTER | VMS_MULTIPLY)


def VMSTATE_VBUFFER(name: str, version: int, test: Callable | None,
                    size_field: str) -> VMStateField:
    return VMStateField(name, info=_i.vmstate_info_buffer, size_field=size_field,
                        version_id=version, field_exists=test, flags=VMS_VBUFFER | VMS_POINTER)


def VMSTATE_VBUFFER_UINT32(name: str, version: int, test: Callable | None,
                           size_field: str) -> VMStateField:
    return VMSTATE_VBUFFER(name, version, test, size_field)


def VMSTATE_VBUFFER_ALLOC_UINT32(name: str, version: int, test: Callable | None,
                                 size_field: str) -> VMStateField:
    return VMStateField(name, info=_i.vmstate_info_buffer, size_field=size_field,
                        version_id=version, field_exists=test,
                        flags=VMS_VBUFFER | VMS_POINTER | VMS_ALLOC)


def VMSTATE_PARTIAL_VBUFFER(name: str, size_field: str) -> VMStateField:
    return VMSTATE_VBUFFER(name, 0, None, size_field)


VMSTATE_PARTIAL_VBUFFER_UINT32 = VMSTATE_PARTIAL_VBUFFER


_UNUSED_IDS = itertools.count()


def VMSTATE_UNUSED_BUFFER(test: Callable | None, version: int, size: int) -> VMStateField:
    """Bytes QEMU no longer uses. Each keeps the bytes it read under its own
    attribute, so a description with several re-saves each one's bytes."""
    return VMStateField("unused", info=_i.vmstate_info_unused_buffer, flags=VMS_BUFFER,
                        size=size, version_id=version, field_exists=test,
                        attr=f"_unused{next(_UNUSED_IDS)}")


def VMSTATE_UNUSED_V(version: int, size: int) -> VMStateField:
    return VMSTATE_UNUSED_BUFFER(None, version, size)


def VMSTATE_UNUSED(size: int) -> VMStateField:
    return VMSTATE_UNUSED_V(0, size)


def VMSTATE_UNUSED_TEST(test: Callable, size: int) -> VMStateField:
    return VMSTATE_UNUSED_BUFFER(test, 0, size)


def VMSTATE_BITMAP_TEST(name: str, test: Callable | None, version: int,
                        size_field: str) -> VMStateField:
    """A bitmap whose length in bits is another int32 field."""
    return VMStateField(name, info=_i.vmstate_info_bitmap, size_field=size_field,
                        version_id=version, field_exists=test, flags=VMS_VBUFFER | VMS_POINTER)


def VMSTATE_BITMAP(name: str, version: int, size_field: str) -> VMStateField:
    return VMSTATE_BITMAP_TEST(name, None, version, size_field)


def VMSTATE_QTAILQ_V(name: str, version: int, vmsd: VMStateDescription,
                     element_factory: Callable | None = None) -> VMStateField:
    return VMStateField(name, info=_i.vmstate_info_qtailq, vmsd=vmsd, version_id=version,
                        flags=0, factory=element_factory)


def VMSTATE_QLIST_V(name: str, version: int, vmsd: VMStateDescription,
                    element_factory: Callable | None = None) -> VMStateField:
    return VMStateField(name, info=_i.vmstate_info_qlist, vmsd=vmsd, version_id=version,
                        flags=0, factory=element_factory)


def VMSTATE_WITH_TMP_TEST(tmp_factory: Callable, test: Callable | None,
                          vmsd: VMStateDescription) -> VMStateField:
    """A temporary object (made by ``tmp_factory``, with ``parent`` set to the
    device) is saved or loaded with ``vmsd``; its pre_save/post_load hooks
    convert between the device and the wire form."""
    return VMStateField("tmp", info=_i.vmstate_info_tmp, vmsd=vmsd, field_exists=test,
                        factory=tmp_factory, attr="")


def VMSTATE_WITH_TMP(tmp_factory: Callable, vmsd: VMStateDescription) -> VMStateField:
    return VMSTATE_WITH_TMP_TEST(tmp_factory, None, vmsd)


def VMSTATE_GTREE_V(name: str, version: int, vmsds: Sequence[VMStateDescription],
                    key_factory: Callable | None = None, val_factory: Callable | None = None,
                    key_order: Callable | None = None) -> VMStateField:
    """A GTree whose keys and values are structs: ``vmsds`` is QEMU's pair
    (value description, key description). In Python the tree is a list of
    (key, value) pairs, saved in ``key_order`` (the tree's compare function)."""
    val_vmsd, key_vmsd = vmsds
    return VMStateField(name, info=_i.vmstate_info_gtree, vmsd=val_vmsd, version_id=version,
                        flags=0, start=1, key_vmsd=key_vmsd, key_factory=key_factory,
                        factory=val_factory, key_order=key_order)


def VMSTATE_GTREE_DIRECT_KEY_V(name: str, version: int, val_vmsd: VMStateDescription,
                               val_factory: Callable | None = None) -> VMStateField:
    """A GTree keyed by integers (pointers cast to integers in C), values structs."""
    return VMStateField(name, info=_i.vmstate_info_gtree, vmsd=val_vmsd, version_id=version,
                        flags=0, start=0, factory=val_factory, key_order=lambda k: k)


def VMSTATE_END_OF_LIST() -> None:
    """QEMU's terminator. Our field lists are Python sequences; this returns
    None so a list copied from C can keep the line; the engine ignores it."""
    return None


# ---------------------------------------------------------------------------
# The typed constructors, generated from one table as vmstate.h does with
# its macros: VMSTATE_<T>, _V, _TEST, _ARRAY, _ARRAY_V, _2DARRAY, _SUB_ARRAY.
# ---------------------------------------------------------------------------

_TYPES = {
    "BOOL": _i.vmstate_info_bool, "INT8": _i.vmstate_info_int8, "INT16": _i.vmstate_info_int16,
    "INT32": _i.vmstate_info_int32, "INT64": _i.vmstate_info_int64,
    "UINT8": _i.vmstate_info_uint8, "UINT16": _i.vmstate_info_uint16,
    "UINT32": _i.vmstate_info_uint32, "UINT64": _i.vmstate_info_uint64,
    "TIMER": _i.vmstate_info_timer, "TIMER_PTR": _i.vmstate_info_timer,
    "CPUDOUBLE": _i.vmstate_info_cpudouble, "FLOAT64": _i.vmstate_info_float64,
}


def _make_typed(tname: str, info: VMStateInfo) -> dict[str, Callable]:
    def single_v(name: str, version: int) -> VMStateField:
        return VMSTATE_SINGLE(name, version, info)

    def single(name: str) -> VMStateField:
        return VMSTATE_SINGLE(name, 0, info)

    def test_(name: str, test: Callable) -> VMStateField:
        return VMSTATE_SINGLE_TEST(name, test, 0, info)

    def array_v(name: str, num: int, version: int) -> VMStateField:
        return VMSTATE_ARRAY(name, num, version, info)

    def array(name: str, num: int) -> VMStateField:
        return VMSTATE_ARRAY(name, num, 0, info)

    def array2d_v(name: str, n1: int, n2: int, version: int) -> VMStateField:
        return VMSTATE_2DARRAY(name, n1, n2, version, info)

    def array2d(name: str, n1: int, n2: int) -> VMStateField:
        return VMSTATE_2DARRAY(name, n1, n2, 0, info)

    def sub_array(name: str, start: int, num: int) -> VMStateField:
        return VMSTATE_SUB_ARRAY(name, start, num, 0, info)

    made = {
        f"VMSTATE_{tname}": single, f"VMSTATE_{tname}_V": single_v,
        f"VMSTATE_{tname}_TEST": test_, f"VMSTATE_{tname}_ARRAY": array,
        f"VMSTATE_{tname}_ARRAY_V": array_v, f"VMSTATE_{tname}_2DARRAY": array2d,
        f"VMSTATE_{tname}_2DARRAY_V": array2d_v, f"VMSTATE_{tname}_SUB_ARRAY": sub_array,
    }
    for fname, fn in made.items():
        fn.__name__ = fn.__qualname__ = fname
        fn.__doc__ = f"``{fname}`` (vmstate.h) over ``vmstate_info_{info.name}``."
    return made


for _tname, _info in _TYPES.items():
    globals().update(_make_typed(_tname, _info))

# The equal checks.
for _tname, _info in {"INT32": _i.vmstate_info_int32_equal,
                      "INT64": _i.vmstate_info_int64_equal,
                      "UINT8": _i.vmstate_info_uint8_equal,
                      "UINT16": _i.vmstate_info_uint16_equal,
                      "UINT32": _i.vmstate_info_uint32_equal}.items():
    def _eq_v(name: str, version: int, _info: VMStateInfo = _info) -> VMStateField:
        return VMSTATE_SINGLE(name, version, _info)

    def _eq(name: str, err_hint: str | None = None, _info: VMStateInfo = _info) -> VMStateField:
        fld = VMSTATE_SINGLE(name, 0, _info)
        fld.err_hint = err_hint
        return fld

    globals()[f"VMSTATE_{_tname}_EQUAL"] = _eq
    globals()[f"VMSTATE_{_tname}_EQUAL_V"] = _eq_v
# QEMU names the 64-bit unsigned check after int64 equal's info.
VMSTATE_UINT64_EQUAL = globals()["VMSTATE_INT64_EQUAL"]
VMSTATE_UINT64_EQUAL_V = globals()["VMSTATE_INT64_EQUAL_V"]


def VMSTATE_INT32_POSITIVE_LE(name: str) -> VMStateField:
    return VMSTATE_SINGLE(name, 0, _i.vmstate_info_int32_le)


def VMSTATE_UINTTL(name: str, bits: int = 64) -> VMStateField:
    """``target_ulong``: uint64 on 64-bit targets, uint32 on 32-bit ones."""
    return VMSTATE_SINGLE(name, 0, _i.vmstate_info_uint64 if bits == 64 else _i.vmstate_info_uint32)


def VMSTATE_UINTTL_V(name: str, version: int, bits: int = 64) -> VMStateField:
    return VMSTATE_SINGLE(name, version,
                          _i.vmstate_info_uint64 if bits == 64 else _i.vmstate_info_uint32)


def VMSTATE_UINTTL_TEST(name: str, test: Callable, bits: int = 64) -> VMStateField:
    return VMSTATE_SINGLE_TEST(name, test, 0,
                               _i.vmstate_info_uint64 if bits == 64 else _i.vmstate_info_uint32)


def VMSTATE_UINTTL_ARRAY(name: str, num: int, bits: int = 64) -> VMStateField:
    return VMSTATE_ARRAY(name, num, 0,
                         _i.vmstate_info_uint64 if bits == 64 else _i.vmstate_info_uint32)


def VMSTATE_UINTTL_ARRAY_V(name: str, num: int, version: int, bits: int = 64) -> VMStateField:
    return VMSTATE_ARRAY(name, num, version,
                         _i.vmstate_info_uint64 if bits == 64 else _i.vmstate_info_uint32)


def VMSTATE_UINTTL_SUB_ARRAY(name: str, start: int, num: int, bits: int = 64) -> VMStateField:
    return VMSTATE_SUB_ARRAY(name, start, num, 0,
                             _i.vmstate_info_uint64 if bits == 64 else _i.vmstate_info_uint32)


# Short aliases QEMU has for some device code.
VMSTATE_U8 = globals()["VMSTATE_UINT8"]
VMSTATE_U16 = globals()["VMSTATE_UINT16"]
VMSTATE_U32 = globals()["VMSTATE_UINT32"]
VMSTATE_U64 = globals()["VMSTATE_UINT64"]




__all__ = [n for n in list(globals()) if n.startswith(("VMSTATE_", "VMS_"))] + [
    "VMStateField", "VMStateDescription", "Accessor"]
