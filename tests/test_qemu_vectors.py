"""The wire vectors of QEMU's ``tests/unit/test-vmstate.c``, reproduced.

Each C struct is a Python object, each C description the same description
built with our constructors. Saving must give the same bytes as the C test
expects (the C test appends ``QEMU_VM_EOF`` after the state, so do we);
loading those bytes must give the same values; a truncated stream must
raise :class:`VMStateError` (never ``struct.error`` or ``IndexError``).

The 7.2 and 10.0 test files carry the same vectors (they differ only in
``const`` qualifiers and includes); ``test_vectors_match_qemu_sources``
checks our byte arrays against both files when the sources are present.

All 23 cases are here, the GTree ones (``VMSTATE_GTREE_V`` and
``VMSTATE_GTREE_DIRECT_KEY_V``, domains and IOMMU mappings) included.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from types import SimpleNamespace as NS

import pytest
from conftest import QEMU_SOURCES, leaves_tile, save_bytes

import vmstate_edu as v
from vmstate_edu.tracing import trace

EOF = 0x00  # QEMU_VM_EOF
NULLPTR = 0x30  # VMS_NULLPTR_MARKER


def save_with_eof(vmsd, obj) -> bytes:
    """As the C helper ``save_vmstate``: the state, then one EOF byte."""
    return save_bytes(vmsd, obj) + bytes([EOF])


def load_one(vmsd, obj, version, wire: bytes) -> v.QEMUFile:
    f = v.QEMUFile(wire)
    assert v.vmstate_load_state(f, vmsd, obj, version) == 0
    return f


def load_checked(vmsd, make_obj, version, wire: bytes, second_half: bool = True):
    """As the C helper ``load_vmstate``: an empty stream, ``size - 2`` bytes,
    the first half and the second half must all fail; the whole stream
    loads and leaves exactly the trailing EOF byte unread.

    The C test runs this only on vectors whose second half cannot parse; for
    a list (QTAILQ, QLIST) the second half may be a valid shorter list, so
    those pass ``second_half=False``."""
    size = len(wire)
    cuts = [b""]
    if size > 3:
        cuts += [wire[:size - 2], wire[:size // 2]]
        if second_half:
            cuts.append(wire[size // 2:size // 2 * 2])
    for cut in cuts:
        obj = make_obj()
        with pytest.raises(v.VMStateError) as info:
            v.vmstate_load_state(v.QEMUFile(cut), vmsd, obj, version)
        assert isinstance(info.value.offset, int)
    obj = make_obj()
    f = load_one(vmsd, obj, version, wire)
    assert f.remaining() == 1 and f.get_byte() == EOF
    return obj


def every_cut_fails(vmsd, make_obj, version, wire: bytes) -> None:
    """Stronger than the C test: cut after every byte before the EOF."""
    for n in range(len(wire) - 1):
        with pytest.raises(v.VMStateError):
            v.vmstate_load_state(v.QEMUFile(wire[:n]), vmsd, make_obj(), version)


# ---------------------------------------------------------------------------
# simple/primitive
# ---------------------------------------------------------------------------

@dataclass
class TSimple:
    b_1: bool = False
    b_2: bool = False
    u8_1: int = 0
    u16_1: int = 0
    u32_1: int = 0
    u64_1: int = 0
    i8_1: int = 0
    i8_2: int = 0
    i16_1: int = 0
    i16_2: int = 0
    i32_1: int = 0
    i32_2: int = 0
    i64_1: int = 0
    i64_2: int = 0


OBJ_SIMPLE = TSimple(b_1=True, b_2=False, u8_1=130, u16_1=512, u32_1=70000, u64_1=12121212,
                        i8_1=65, i8_2=-65, i16_1=512, i16_2=-512, i32_1=70000, i32_2=-70000,
                        i64_1=12121212, i64_2=-12121212)

VMSTATE_SIMPLE_PRIMITIVE = v.VMStateDescription(
    "simple/primitive", version_id=1, minimum_version_id=1,
    fields=[
        v.VMSTATE_BOOL("b_1"), v.VMSTATE_BOOL("b_2"),
        v.VMSTATE_UINT8("u8_1"), v.VMSTATE_UINT16("u16_1"),
        v.VMSTATE_UINT32("u32_1"), v.VMSTATE_UINT64("u64_1"),
        v.VMSTATE_INT8("i8_1"), v.VMSTATE_INT8("i8_2"),
        v.VMSTATE_INT16("i16_1"), v.VMSTATE_INT16("i16_2"),
        v.VMSTATE_INT32("i32_1"), v.VMSTATE_INT32("i32_2"),
        v.VMSTATE_INT64("i64_1"), v.VMSTATE_INT64("i64_2"),
        v.VMSTATE_END_OF_LIST(),
    ])

WIRE_SIMPLE_PRIMITIVE = bytes([
    0x01,                                            # b_1
    0x00,                                            # b_2
    0x82,                                            # u8_1 = 130
    0x02, 0x00,                                      # u16_1 = 512
    0x00, 0x01, 0x11, 0x70,                          # u32_1 = 70000
    0x00, 0x00, 0x00, 0x00, 0x00, 0xb8, 0xf4, 0x7c,  # u64_1 = 12121212
    0x41,                                            # i8_1 = 65
    0xbf,                                            # i8_2 = -65
    0x02, 0x00,                                      # i16_1 = 512
    0xfe, 0x00,                                      # i16_2 = -512
    0x00, 0x01, 0x11, 0x70,                          # i32_1 = 70000
    0xff, 0xfe, 0xee, 0x90,                          # i32_2 = -70000
    0x00, 0x00, 0x00, 0x00, 0x00, 0xb8, 0xf4, 0x7c,  # i64_1 = 12121212
    0xff, 0xff, 0xff, 0xff, 0xff, 0x47, 0x0b, 0x84,  # i64_2 = -12121212
    EOF,
])


def test_simple_primitive_save():
    assert save_with_eof(VMSTATE_SIMPLE_PRIMITIVE, OBJ_SIMPLE) == WIRE_SIMPLE_PRIMITIVE


def test_simple_primitive_load():
    obj = load_checked(VMSTATE_SIMPLE_PRIMITIVE, TSimple, 1, WIRE_SIMPLE_PRIMITIVE)
    assert obj == OBJ_SIMPLE
    assert obj.b_1 is True and obj.b_2 is False
    every_cut_fails(VMSTATE_SIMPLE_PRIMITIVE, TSimple, 1, WIRE_SIMPLE_PRIMITIVE)


def test_simple_primitive_load_into_empty_object():
    """Loading creates the attributes an empty object lacks."""
    obj = NS()
    load_one(VMSTATE_SIMPLE_PRIMITIVE, obj, 1, WIRE_SIMPLE_PRIMITIVE)
    assert vars(obj) == vars(OBJ_SIMPLE)


def test_simple_primitive_traced_save_same_bytes_and_tiles():
    with trace() as t:
        data = save_bytes(VMSTATE_SIMPLE_PRIMITIVE, OBJ_SIMPLE)
    assert data + bytes([EOF]) == WIRE_SIMPLE_PRIMITIVE
    leaves_tile(t.events, data)
    names = [e.field for e in t.events if e.kind == "field"]
    assert names == [f.name for f in VMSTATE_SIMPLE_PRIMITIVE.fields if f is not None]


# ---------------------------------------------------------------------------
# simple/array
# ---------------------------------------------------------------------------

VMSTATE_SIMPLE_ARR = v.VMStateDescription(
    "simple/array", version_id=1, minimum_version_id=1,
    fields=[v.VMSTATE_UINT16_ARRAY("u16_1", 3)])

WIRE_SIMPLE_ARR = bytes([
    0x00, 0x42,  # u16_1[0]
    0x00, 0x43,  # u16_1[1]
    0x00, 0x44,  # u16_1[2]
    EOF,
])


def test_simple_array_save():
    assert save_with_eof(VMSTATE_SIMPLE_ARR, NS(u16_1=[0x42, 0x43, 0x44])) == WIRE_SIMPLE_ARR


def test_simple_array_save_traced_is_identical():
    with trace() as t:
        data = save_bytes(VMSTATE_SIMPLE_ARR, NS(u16_1=[0x42, 0x43, 0x44]))
    assert data + bytes([EOF]) == WIRE_SIMPLE_ARR
    leaves_tile(t.events, data)
    assert [e.index for e in t.events if e.kind == "field"] == [0, 1, 2]


def test_simple_array_load():
    obj = load_checked(VMSTATE_SIMPLE_ARR, lambda: NS(u16_1=[0, 0, 0]), 1, WIRE_SIMPLE_ARR)
    assert list(obj.u16_1) == [0x42, 0x43, 0x44]
    every_cut_fails(VMSTATE_SIMPLE_ARR, lambda: NS(u16_1=[0, 0, 0]), 1, WIRE_SIMPLE_ARR)


def test_simple_array_load_traced_same_values():
    obj = NS(u16_1=[0, 0, 0])
    with trace() as t:
        load_one(VMSTATE_SIMPLE_ARR, obj, 1, WIRE_SIMPLE_ARR)
    assert list(obj.u16_1) == [0x42, 0x43, 0x44]
    leaves_tile(t.events, WIRE_SIMPLE_ARR[:-1])


def test_simple_array_too_short_python_list_is_vmstate_error():
    with pytest.raises(v.VMStateError) as info:
        save_bytes(VMSTATE_SIMPLE_ARR, NS(u16_1=[1, 2]))
    assert "u16_1" in info.value.path


# ---------------------------------------------------------------------------
# versioned: test_load_v1 / test_load_v2
# ---------------------------------------------------------------------------

@dataclass
class TStruct:
    a: int = 0
    b: int = 0
    c: int = 0
    e: int = 0
    d: int = 0
    f: int = 0
    skip_c_e: bool = False


VMSTATE_VERSIONED = v.VMStateDescription(
    "test/versioned", version_id=2, minimum_version_id=1,
    fields=[
        v.VMSTATE_UINT32("a"),
        v.VMSTATE_UINT32_V("b", 2),  # a versioned field in the middle
        v.VMSTATE_UINT32("c"),
        v.VMSTATE_UINT64("d"),
        v.VMSTATE_UINT32_V("e", 2),
        v.VMSTATE_UINT64_V("f", 2),
    ])

WIRE_V1 = bytes([
    0, 0, 0, 10,              # a
    0, 0, 0, 30,              # c
    0, 0, 0, 0, 0, 0, 0, 40,  # d
    EOF,
])
WIRE_V2 = bytes([
    0, 0, 0, 10,              # a
    0, 0, 0, 20,              # b
    0, 0, 0, 30,              # c
    0, 0, 0, 0, 0, 0, 0, 40,  # d
    0, 0, 0, 50,              # e
    0, 0, 0, 0, 0, 0, 0, 60,  # f
    EOF,
])


def test_load_v1():
    obj = load_checked(VMSTATE_VERSIONED, lambda: TStruct(b=200, e=500, f=600), 1, WIRE_V1)
    assert (obj.a, obj.b, obj.c, obj.d, obj.e, obj.f) == (10, 200, 30, 40, 500, 600)


def test_load_v2():
    obj = load_checked(VMSTATE_VERSIONED, TStruct, 2, WIRE_V2)
    assert (obj.a, obj.b, obj.c, obj.d, obj.e, obj.f) == (10, 20, 30, 40, 50, 60)


def test_save_versioned_at_v1_and_v2():
    obj = TStruct(a=10, b=20, c=30, d=40, e=50, f=60)
    f = v.QEMUFile()
    v.vmstate_save_state_v(f, VMSTATE_VERSIONED, obj, None, 1)
    assert f.getvalue() + bytes([EOF]) == WIRE_V1
    assert save_with_eof(VMSTATE_VERSIONED, obj) == WIRE_V2


def test_load_v1_stream_as_v2_misreads_or_fails():
    """A v1 stream announced as v2 is too short for the v2 fields."""
    with pytest.raises(v.StreamTruncated):
        v.vmstate_load_state(v.QEMUFile(WIRE_V1), VMSTATE_VERSIONED, TStruct(), 2)


# ---------------------------------------------------------------------------
# field_exists: skip / noskip (VMSTATE_*_TEST)
# ---------------------------------------------------------------------------

def _test_skip(obj, version_id):
    return not obj.skip_c_e


VMSTATE_SKIPPING = v.VMStateDescription(
    "test/skip", version_id=2, minimum_version_id=1,
    fields=[
        v.VMSTATE_UINT32("a"),
        v.VMSTATE_UINT32("b"),
        v.VMSTATE_UINT32_TEST("c", _test_skip),
        v.VMSTATE_UINT64("d"),
        v.VMSTATE_UINT32_TEST("e", _test_skip),
        v.VMSTATE_UINT64_V("f", 2),
    ])

WIRE_NOSKIP = bytes([
    0, 0, 0, 1,              # a
    0, 0, 0, 2,              # b
    0, 0, 0, 3,              # c
    0, 0, 0, 0, 0, 0, 0, 4,  # d
    0, 0, 0, 5,              # e
    0, 0, 0, 0, 0, 0, 0, 6,  # f
])
WIRE_SKIP = bytes([
    0, 0, 0, 1,              # a
    0, 0, 0, 2,              # b
    0, 0, 0, 0, 0, 0, 0, 4,  # d
    0, 0, 0, 0, 0, 0, 0, 6,  # f
])
WIRE_LOAD_NOSKIP = bytes([
    0, 0, 0, 10, 0, 0, 0, 20, 0, 0, 0, 30, 0, 0, 0, 0, 0, 0, 0, 40,
    0, 0, 0, 50, 0, 0, 0, 0, 0, 0, 0, 60, EOF,
])
WIRE_LOAD_SKIP = bytes([
    0, 0, 0, 10, 0, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0, 40, 0, 0, 0, 0, 0, 0, 0, 60, EOF,
])


def test_save_noskip():
    obj = TStruct(a=1, b=2, c=3, d=4, e=5, f=6, skip_c_e=False)
    assert save_bytes(VMSTATE_SKIPPING, obj) == WIRE_NOSKIP


def test_save_skip():
    obj = TStruct(a=1, b=2, c=3, d=4, e=5, f=6, skip_c_e=True)
    assert save_bytes(VMSTATE_SKIPPING, obj) == WIRE_SKIP


def test_load_noskip():
    obj = load_checked(VMSTATE_SKIPPING, lambda: TStruct(skip_c_e=False), 2, WIRE_LOAD_NOSKIP)
    assert (obj.a, obj.b, obj.c, obj.d, obj.e, obj.f) == (10, 20, 30, 40, 50, 60)


def test_load_skip():
    obj = load_checked(VMSTATE_SKIPPING, lambda: TStruct(skip_c_e=True, c=300, e=500), 2,
                       WIRE_LOAD_SKIP)
    assert (obj.a, obj.b, obj.c, obj.d, obj.e, obj.f) == (10, 20, 300, 40, 500, 60)


def test_skip_test_gets_the_version():
    seen = []

    def test(obj, version_id):
        seen.append(version_id)
        return True

    vmsd = v.VMStateDescription("t", 3, 1, fields=[v.VMSTATE_UINT8_TEST("x", test)])
    v.vmstate_load_state(v.QEMUFile(b"\x07"), vmsd, NS(), 2)
    save_bytes(vmsd, NS(x=1))
    assert seen == [2, 3]


# ---------------------------------------------------------------------------
# arrays of pointers to structs and to primitives (the 0x30 nullptr marker)
# ---------------------------------------------------------------------------

AR_SIZE = 4

VMSD_TST = v.VMStateDescription("test/tst", version_id=1, minimum_version_id=1,
                                fields=[v.VMSTATE_INT32("i")])
VMSD_ARPS = v.VMStateDescription(
    "test/arps", version_id=1, minimum_version_id=1,
    fields=[v.VMSTATE_ARRAY_OF_POINTER_TO_STRUCT("ar", AR_SIZE, 0, VMSD_TST)])
VMSD_ARPP = v.VMStateDescription(
    "test/arps", version_id=1, minimum_version_id=1,
    fields=[v.VMSTATE_ARRAY_OF_POINTER("ar", AR_SIZE, 0, v.vmstate_info_int32)])

WIRE_ARR_PTR_NO0 = bytes([
    0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x02,
    0x00, 0x00, 0x00, 0x03,
    EOF,
])
WIRE_ARR_PTR_0 = bytes([
    0x00, 0x00, 0x00, 0x00,
    NULLPTR,
    0x00, 0x00, 0x00, 0x02,
    0x00, 0x00, 0x00, 0x03,
    EOF,
])


@dataclass
class Triv:
    i: int = 0


def test_arr_ptr_str_no0_save():
    sample = NS(ar=[Triv(0), Triv(1), Triv(2), Triv(3)])
    assert save_with_eof(VMSD_ARPS, sample) == WIRE_ARR_PTR_NO0


def test_arr_ptr_str_no0_load():
    ar = [Triv() for _ in range(AR_SIZE)]
    obj = NS(ar=list(ar))
    load_one(VMSD_ARPS, obj, 1, WIRE_ARR_PTR_NO0)
    assert [x.i for x in ar] == [0, 1, 2, 3]
    # the pointers still point at the same elements (loaded in place)
    assert all(obj.ar[k] is ar[k] for k in range(AR_SIZE))


def test_arr_ptr_str_no0_truncated():
    load_checked(VMSD_ARPS, lambda: NS(ar=[Triv() for _ in range(AR_SIZE)]), 1,
                 WIRE_ARR_PTR_NO0)
    every_cut_fails(VMSD_ARPS, lambda: NS(ar=[Triv() for _ in range(AR_SIZE)]), 1,
                    WIRE_ARR_PTR_NO0)


def test_arr_ptr_str_0_save():
    sample = NS(ar=[Triv(0), None, Triv(2), Triv(3)])
    assert save_with_eof(VMSD_ARPS, sample) == WIRE_ARR_PTR_0


def test_arr_ptr_str_0_load():
    ar = [Triv() for _ in range(AR_SIZE)]
    obj = NS(ar=[ar[0], None, ar[2], ar[3]])
    load_one(VMSD_ARPS, obj, 1, WIRE_ARR_PTR_0)
    assert [x.i for x in ar] == [0, 0, 2, 3]
    assert obj.ar[1] is None
    assert all(obj.ar[k] is not None for k in (0, 2, 3))


def test_arr_ptr_str_0_truncated():
    def make():
        return NS(ar=[Triv(), None, Triv(), Triv()])

    load_checked(VMSD_ARPS, make, 1, WIRE_ARR_PTR_0)
    every_cut_fails(VMSD_ARPS, make, 1, WIRE_ARR_PTR_0)


def test_arr_ptr_prim_0_save():
    sample = NS(ar=[0, None, 2, 3])
    assert save_with_eof(VMSD_ARPP, sample) == WIRE_ARR_PTR_0


def test_arr_ptr_prim_0_load():
    # C: ar = {3, 42, 1, 0} with ar[1]'s pointer NULL; the 42 is never touched.
    obj = NS(ar=[3, None, 1, 0])
    load_one(VMSD_ARPP, obj, 1, WIRE_ARR_PTR_0)
    assert obj.ar == [0, None, 2, 3]


def test_arr_ptr_prim_0_truncated():
    load_checked(VMSD_ARPP, lambda: NS(ar=[3, None, 1, 0]), 1, WIRE_ARR_PTR_0)
    every_cut_fails(VMSD_ARPP, lambda: NS(ar=[3, None, 1, 0]), 1, WIRE_ARR_PTR_0)


@pytest.mark.parametrize("vmsd,sample", [
    (VMSD_ARPS, NS(ar=[Triv(0), None, Triv(2), Triv(3)])),
    (VMSD_ARPP, NS(ar=[0, None, 2, 3])),
], ids=["str", "prim"])
def test_arr_ptr_0_traced_save_tiles(vmsd, sample):
    with trace() as t:
        data = save_bytes(vmsd, sample)
    assert data + bytes([EOF]) == WIRE_ARR_PTR_0
    leaves_tile(t.events, data)
    nulls = [e for e in t.events if e.kind == "field" and e.info == "nullptr"]
    assert [(e.offset, e.size, e.raw) for e in nulls] == [(4, 1, bytes([NULLPTR]))]


def test_arr_ptr_0_wrong_marker_prim_is_error():
    """A byte other than 0x30 where a NULL element's marker should be."""
    bad = bytearray(WIRE_ARR_PTR_0)
    bad[4] = 0x31
    with pytest.raises(v.VMStateError):
        v.vmstate_load_state(v.QEMUFile(bytes(bad)), VMSD_ARPP, NS(ar=[0, None, 0, 0]), 1)


# ---------------------------------------------------------------------------
# QTAILQ
# ---------------------------------------------------------------------------

@dataclass
class QElem:
    b: bool = False
    u8: int = 0


VMSTATE_Q_ELEMENT = v.VMStateDescription(
    "test/queue-element", version_id=1, minimum_version_id=1,
    fields=[v.VMSTATE_BOOL("b"), v.VMSTATE_UINT8("u8")])
VMSTATE_Q = v.VMStateDescription(
    "test/queue", version_id=1, minimum_version_id=1,
    fields=[
        v.VMSTATE_INT16("i16"),
        v.VMSTATE_QTAILQ_V("q", 1, VMSTATE_Q_ELEMENT, QElem),
        v.VMSTATE_INT32("i32"),
    ])

WIRE_Q = bytes([
    0xfe, 0x00,              # i16 = -512
    0x01,                    # element 0 follows
    0x01,                    # .b
    0x82,                    # .u8
    0x01,                    # element 1 follows
    0x00,                    # .b
    0x41,                    # .u8
    0x00,                    # end of the queue
    0x00, 0x01, 0x11, 0x70,  # i32 = 70000
    EOF,
])


def _obj_q():
    return NS(i16=-512, q=[QElem(True, 130), QElem(False, 65)], i32=70000)


def test_save_q():
    assert save_with_eof(VMSTATE_Q, _obj_q()) == WIRE_Q


def test_load_q():
    tgt = NS(i16=0, q=[], i32=0)
    f = load_one(VMSTATE_Q, tgt, 1, WIRE_Q)
    assert f.get_byte() == EOF and f.remaining() == 0
    src = _obj_q()
    assert (tgt.i16, tgt.i32) == (src.i16, src.i32)
    assert tgt.q == src.q
    assert all(isinstance(e, QElem) for e in tgt.q)  # made by the element factory


def test_load_q_truncated():
    load_checked(VMSTATE_Q, lambda: NS(i16=0, q=[], i32=0), 1, WIRE_Q, second_half=False)
    every_cut_fails(VMSTATE_Q, lambda: NS(i16=0, q=[], i32=0), 1, WIRE_Q)


def test_q_traced_tiles_both_ways():
    with trace() as t:
        data = save_bytes(VMSTATE_Q, _obj_q())
    leaves_tile(t.events, data)
    markers = [e.value for e in t.events if e.kind == "frame"]
    assert markers == [1, 1, 0]
    with trace() as t:
        load_one(VMSTATE_Q, NS(q=[]), 1, WIRE_Q)
    leaves_tile(t.events, WIRE_Q[:-1])


def test_empty_q():
    obj = NS(i16=1, q=[], i32=2)
    data = save_bytes(VMSTATE_Q, obj)
    assert data == bytes([0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x02])
    back = NS(q=[QElem()])
    load_one(VMSTATE_Q, back, 1, data)
    assert back.q == []


# ---------------------------------------------------------------------------
# QLIST
# ---------------------------------------------------------------------------

@dataclass
class QListElement:
    id: int = 0


VMSTATE_QLIST_ELEMENT = v.VMStateDescription(
    "test/queue list", version_id=1, minimum_version_id=1, fields=[v.VMSTATE_UINT32("id")])
VMSTATE_CONTAINER = v.VMStateDescription(
    "test/container/qlist", version_id=1, minimum_version_id=1,
    fields=[
        v.VMSTATE_UINT32("id"),
        v.VMSTATE_QLIST_V("list", 1, VMSTATE_QLIST_ELEMENT, QListElement),
    ])

QLIST_DUMP = bytes([
    0x00, 0x00, 0x00, 0x01,  # container id
    0x01,                    # a
    0x00, 0x00, 0x00, 0x0a,
    0x01,                    # b
    0x00, 0x00, 0x0b, 0x00,
    0x01,                    # c
    0x00, 0x0c, 0x00, 0x00,
    0x01,                    # d
    0x0d, 0x00, 0x00, 0x00,
    0x00,                    # end of the list
    EOF,
])


def _container():
    # C inserts d, c, b, a at the head: the list reads a, b, c, d.
    return NS(id=1, list=[QListElement(0x0a), QListElement(0x0b00), QListElement(0xc0000),
                          QListElement(0xd000000)])


def test_save_qlist():
    assert save_with_eof(VMSTATE_CONTAINER, _container()) == QLIST_DUMP


def test_load_qlist():
    dest = NS(id=0, list=[])
    f = load_one(VMSTATE_CONTAINER, dest, 1, QLIST_DUMP)
    assert f.get_byte() == EOF
    assert dest.id == 1
    # order kept (the C test checks it through list manipulations)
    assert [e.id for e in dest.list] == [0x0a, 0x0b00, 0xc0000, 0xd000000]
    assert dest.list == _container().list


def test_load_qlist_truncated():
    load_checked(VMSTATE_CONTAINER, lambda: NS(id=0, list=[]), 1, QLIST_DUMP,
                 second_half=False)
    every_cut_fails(VMSTATE_CONTAINER, lambda: NS(id=0, list=[]), 1, QLIST_DUMP)


@pytest.mark.parametrize("macro", ["VMSTATE_QLIST_V", "VMSTATE_QTAILQ_V"])
def test_list_element_version_too_new_refused(macro):
    """The list field's version (2) is newer than the element description (1)."""
    vmsd = v.VMStateDescription(
        "c", 2, 1, fields=[getattr(v, macro)("list", 2, VMSTATE_QLIST_ELEMENT, QListElement)])
    with pytest.raises(v.VMStateError):
        v.vmstate_load_state(v.QEMUFile(b"\x00"), vmsd, NS(list=[]), 2)


# ---------------------------------------------------------------------------
# Not reproduced
# ---------------------------------------------------------------------------

VMSTATE_INTERVAL = v.VMStateDescription(
    "interval", 1, 1, fields=[v.VMSTATE_UINT64("low"), v.VMSTATE_UINT64("high")])
VMSTATE_MAPPING = v.VMStateDescription(
    "mapping", 1, 1, fields=[v.VMSTATE_UINT64("phys_addr"), v.VMSTATE_UINT32("flags")])
VMSTATE_DOMAIN = v.VMStateDescription(
    "domain", 1, 1, fields=[
        v.VMSTATE_INT32("id"),
        v.VMSTATE_GTREE_V("mappings", 1, (VMSTATE_MAPPING, VMSTATE_INTERVAL),
                          key_order=lambda k: k.low)])
VMSTATE_IOMMU = v.VMStateDescription(
    "iommu", 1, 1, fields=[
        v.VMSTATE_INT32("id"),
        v.VMSTATE_GTREE_DIRECT_KEY_V("domains", 1, VMSTATE_DOMAIN)])

FIRST_DOMAIN_DUMP = bytes([
    0x00, 0x0, 0x0, 0x6, 0x00, 0x0, 0x0, 0x2, 0x1,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F,
    0xFF, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x00, 0x00, 0x00, 0x00, 0x01, 0x1,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x4F,
    0xFF, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x0, 0x00])
IOMMU_DUMP = bytes([
    0x00, 0x0, 0x0, 0x7, 0x00, 0x0, 0x0, 0x2, 0x1,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x0, 0x0, 0x5, 0x00, 0x0, 0x0, 0x5, 0x00, 0x0, 0x0, 0x1, 0x1,
    0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xFF, 0xFF,
    0xFF, 0x00, 0x00, 0x00, 0x00, 0x0F, 0x00, 0x00, 0x00, 0x00, 0x0, 0x0, 0x3, 0x0, 0x1,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x0, 0x0, 0x6, 0x00, 0x0, 0x0, 0x6, 0x00, 0x0, 0x0, 0x2, 0x1,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F,
    0xFF, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x00, 0x00, 0x00, 0x00, 0x01, 0x1,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x4F,
    0xFF, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x0, 0x0,
    0x00])


def _first_domain():
    # inserted out of order: the tree saves in its compare order
    b = (NS(low=0x4000, high=0x4FFF), NS(phys_addr=0xE0000, flags=2))
    a = (NS(low=0x1000, high=0x1FFF), NS(phys_addr=0xA000, flags=1))
    return NS(id=6, mappings=[b, a])


def _iommu():
    second = NS(id=5, mappings=[(NS(low=0x1000000, high=0x1FFFFFF),
                                 NS(phys_addr=0xF000000, flags=3))])
    return NS(id=7, domains=[(6, _first_domain()), (5, second)])


def _flat(obj):
    if isinstance(obj, list):  # a GTree's (key, value) pairs: compare in key order
        items = [_flat(x) for x in obj]
        return sorted(items, key=lambda kv: kv[0] if isinstance(kv[0], int) else kv[0]["low"])
    if isinstance(obj, tuple):
        return tuple(_flat(x) for x in obj)
    if isinstance(obj, NS):
        return {k: _flat(x) for k, x in vars(obj).items()}
    return obj


@pytest.mark.parametrize("vmsd,make,dump", [
    (VMSTATE_DOMAIN, _first_domain, FIRST_DOMAIN_DUMP),
    (VMSTATE_IOMMU, _iommu, IOMMU_DUMP)], ids=["first_domain", "iommu"])
def test_gtree_save_and_load(vmsd, make, dump):
    assert save_bytes(vmsd, make()) + b"\x00" == dump
    f = v.QEMUFile(dump)
    dest = NS()
    v.vmstate_load_state(f, vmsd, dest, 1)
    assert f.get_byte() == 0  # QEMU_VM_EOF: nothing read too far
    assert _flat(dest) == _flat(make())
    every_cut_fails(vmsd, NS, 1, dump[:-1])


def test_gtree_more_nodes_than_announced():
    bad = bytearray(FIRST_DOMAIN_DUMP)
    bad[7] = 1  # announces 1 node, sends 2
    with pytest.raises(v.VMStateError, match="more nodes"):
        v.vmstate_load_state(v.QEMUFile(bytes(bad)), VMSTATE_DOMAIN, NS(), 1)


def test_gtree_trace_events():
    with v.trace() as t:
        save_bytes(VMSTATE_IOMMU, _iommu())
    log = t.qemu_log("10.0")
    assert "put_gtree domains(direct/domain) nnodes=2" in log
    assert "put_gtree mappings(interval/mapping) nnodes=2" in log
    assert "put_gtree_end domains(direct/domain) 0" in log


# ---------------------------------------------------------------------------
# VMSTATE_WITH_TMP (test_tmp_struct)
# ---------------------------------------------------------------------------

@dataclass
class TmpTestStruct:
    parent: object = None
    diff: int = 0


def _tmp_child_pre_save(tts):
    tts.diff = tts.parent.b - tts.parent.a
    return 0


def _tmp_child_post_load(tts, version_id):
    tts.parent.b = tts.parent.a + tts.diff
    return 0


VMSTATE_TMP_BACK_TO_PARENT = v.VMStateDescription(
    "test/tmp_child_parent", fields=[v.VMSTATE_UINT64("f")])
VMSTATE_TMP_CHILD = v.VMStateDescription(
    "test/tmp_child", pre_save=_tmp_child_pre_save, post_load=_tmp_child_post_load,
    fields=[v.VMSTATE_INT64("diff"),
            v.VMSTATE_STRUCT_POINTER("parent", VMSTATE_TMP_BACK_TO_PARENT)])

WIRE_WITH_TMP = bytes([
    0x00, 0x00, 0x00, 0x02,                          # u32 a
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,  # u64 d
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,  # diff (b - a), from the tmp
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08,  # u64 f, through tmp->parent
    EOF,
])


def _vmstate_with_tmp():
    if not hasattr(v, "VMSTATE_WITH_TMP"):
        pytest.skip("VMSTATE_WITH_TMP is not supported by vmstate_edu")
    return v.VMStateDescription(
        "test/with_tmp", version_id=1,
        fields=[v.VMSTATE_UINT32("a"), v.VMSTATE_UINT64("d"),
                v.VMSTATE_WITH_TMP(TmpTestStruct, VMSTATE_TMP_CHILD)])


def test_tmp_struct_save():
    vmsd = _vmstate_with_tmp()
    obj = TStruct(a=2, b=4, d=1, f=8)
    assert save_with_eof(vmsd, obj) == WIRE_WITH_TMP
    assert (obj.a, obj.b, obj.d, obj.f) == (2, 4, 1, 8)  # the device is unchanged


def test_tmp_struct_load():
    vmsd = _vmstate_with_tmp()
    obj = load_checked(vmsd, TStruct, 1, WIRE_WITH_TMP)
    assert obj.a == 2  # top-level description
    assert obj.b == 4  # the tmp's post_load
    assert obj.d == 1  # top-level description
    assert obj.f == 8  # through tmp->parent
    every_cut_fails(vmsd, TStruct, 1, WIRE_WITH_TMP)


def test_tmp_struct_traced_tiles():
    vmsd = _vmstate_with_tmp()
    with trace() as t:
        data = save_bytes(vmsd, TStruct(a=2, b=4, d=1, f=8))
    leaves_tile(t.events, data)
    with trace() as t:
        load_one(vmsd, TStruct(), 1, WIRE_WITH_TMP)
    leaves_tile(t.events, WIRE_WITH_TMP[:-1])


# ---------------------------------------------------------------------------
# Our byte arrays against the C test files themselves (both QEMU versions)
# ---------------------------------------------------------------------------

_C_CONSTS = {"QEMU_VM_EOF": EOF, "VMS_NULLPTR_MARKER": NULLPTR}


def _c_arrays(text: str) -> dict[str, bytes]:
    """``uint8_t name[] = { ... };`` arrays of a C file, comments dropped."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    out = {}
    for m in re.finditer(r"uint8_t\s+(?:const\s+)?(\w+)\[\]\s*=\s*\{(.*?)\};", text, re.S):
        items = [x.strip() for x in m.group(2).split(",") if x.strip()]
        out[m.group(1)] = bytes(_C_CONSTS[x] if x in _C_CONSTS else int(x, 0) for x in items)
    return out


OURS = {
    "wire_simple_primitive": WIRE_SIMPLE_PRIMITIVE,
    "wire_simple_arr": WIRE_SIMPLE_ARR,
    "wire_arr_ptr_no0": WIRE_ARR_PTR_NO0,
    "wire_arr_ptr_0": WIRE_ARR_PTR_0,
    "wire_q": WIRE_Q,
    "qlist_dump": QLIST_DUMP,
}
LOCAL_ARRAYS = {"wire_with_tmp": WIRE_WITH_TMP}


@pytest.mark.parametrize("version", sorted(QEMU_SOURCES))
def test_vectors_match_qemu_sources(version):
    path = QEMU_SOURCES[version] / "tests" / "unit" / "test-vmstate.c"
    if not path.exists():
        pytest.skip(f"QEMU {version} sources not at {path}")
    arrays = _c_arrays(path.read_text())
    for name, ours in {**OURS, **LOCAL_ARRAYS}.items():
        assert arrays[name] == ours, name
    # The local arrays inside the test functions (versioned / skip loads)
    # appear as "buf" and "expected"; every one of them must be one of ours.
    locals_ = [b for k, b in arrays.items() if k in ("buf", "expected")]
    known = {WIRE_V1, WIRE_V2, WIRE_NOSKIP, WIRE_SKIP, WIRE_LOAD_NOSKIP, WIRE_LOAD_SKIP}
    text = re.sub(r"/\*.*?\*/", "", path.read_text(), flags=re.S)
    for m in re.finditer(r"uint8_t\s+(buf|expected)\[\]\s*=\s*\{(.*?)\};", text, re.S):
        items = [x.strip() for x in m.group(2).split(",") if x.strip()]
        arr = bytes(_C_CONSTS[x] if x in _C_CONSTS else int(x, 0) for x in items)
        assert arr in known, arr.hex()
    assert locals_  # the regex found them at all


# ---------------------------------------------------------------------------
# Round trips of every vector (save -> load -> save)
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("vmsd,obj,fresh", [
    (VMSTATE_SIMPLE_PRIMITIVE, OBJ_SIMPLE, TSimple),
    (VMSTATE_SIMPLE_ARR, NS(u16_1=[0x42, 0x43, 0x44]), NS),
    (VMSTATE_VERSIONED, TStruct(1, 2, 3, 4, 5, 6), TStruct),
    (VMSD_ARPS, NS(ar=[Triv(0), Triv(1), Triv(2), Triv(3)]), NS),
    (VMSTATE_Q, _obj_q(), NS),
    (VMSTATE_CONTAINER, _container(), NS),
], ids=["primitive", "array", "versioned", "arps", "qtailq", "qlist"])
def test_round_trip(vmsd, obj, fresh):
    data = save_bytes(vmsd, copy.deepcopy(obj))
    back = fresh()
    f = load_one(vmsd, back, vmsd.version_id, data)
    assert f.remaining() == 0
    assert save_bytes(vmsd, back) == data


def test_unused_field_reads_and_writes_zeros():
    """VMSTATE_UNUSED: zeros on save even without an attribute."""
    vmsd = v.VMStateDescription("u", 1, 1, fields=[v.VMSTATE_UNUSED(3), v.VMSTATE_UINT8("x")])
    assert save_bytes(vmsd, NS(x=9)) == b"\0\0\0\x09"
    obj = NS()
    load_one(vmsd, obj, 1, b"\1\2\3\4")
    assert obj.x == 4
