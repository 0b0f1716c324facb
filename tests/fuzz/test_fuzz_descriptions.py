"""Random descriptions (hypothesis): build a VMStateDescription from a
strategy, save a random object, load it back (directly and through the JSON
description the save wrote), then damage the bytes: only VMStateError may
escape ``vmstate_load_state``, and every case ends within a second."""

from __future__ import annotations

import json
import os
import time
from types import SimpleNamespace as NS
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import vmstate_edu as v
from vmstate_edu.errors import VMStateError

CASE_SECONDS = 1.0  # issue 6: every case ends within a second (slowest seen ~0.1 s)
# FUZZ_EXAMPLES=5000 FUZZ_RANDOM=1 for a longer hunt with fresh random choices
SETTINGS = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "120")), deadline=None,
                    derandomize=not os.environ.get("FUZZ_RANDOM"),
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

INTS = {"uint8": ("B", v.vmstate_info_uint8), "uint16": ("H", v.vmstate_info_uint16),
        "uint32": ("I", v.vmstate_info_uint32), "uint64": ("Q", v.vmstate_info_uint64),
        "int8": ("b", v.vmstate_info_int8), "int16": ("h", v.vmstate_info_int16),
        "int32": ("i", v.vmstate_info_int32), "int64": ("q", v.vmstate_info_int64)}
RANGES = {"B": (0, 255), "H": (0, 65535), "I": (0, 2**32 - 1), "Q": (0, 2**64 - 1),
          "b": (-128, 127), "h": (-2**15, 2**15 - 1), "i": (-2**31, 2**31 - 1),
          "q": (-2**63, 2**63 - 1)}

# A spec is plain data: ("int", t) ("bool",) ("array", t, n) ("varray", t)
# ("buffer", n) ("vbuffer",) ("struct", spec) ("struct_array", spec, n),
# and a description spec is (fields, subsections).
leaf = st.one_of(
    st.tuples(st.just("int"), st.sampled_from(sorted(INTS))),
    st.just(("bool",)),
    st.tuples(st.just("array"), st.sampled_from(sorted(INTS)), st.integers(1, 6)),
    st.tuples(st.just("varray"), st.sampled_from(sorted(INTS))),
    st.tuples(st.just("buffer"), st.integers(1, 12)),
    st.just(("vbuffer",)),
)


def _desc_spec(children: st.SearchStrategy) -> st.SearchStrategy:
    fields = st.lists(st.one_of(leaf, st.tuples(st.just("struct"), children),
                                st.tuples(st.just("struct_array"), children, st.integers(1, 3))),
                      min_size=1, max_size=5)
    return st.tuples(fields, st.lists(st.tuples(st.lists(leaf, max_size=3), st.just([])),
                                      max_size=2))


# Every description has a field of at least one byte: two elements of a
# struct array whose bytes are only subsections cannot be told apart (QEMU
# would load both subsections into the first element as well).
specs = st.recursive(st.tuples(st.lists(leaf, min_size=1, max_size=4), st.just([])), _desc_spec,
                     max_leaves=12)


def build(spec: Any, name: str = "dev") -> v.VMStateDescription:
    """The description a spec stands for (names f0, f1 ...; counts nK)."""
    fields_spec, subs_spec = spec
    fields: list = []
    for i, fs in enumerate(fields_spec):
        n = f"f{i}"
        kind = fs[0]
        if kind == "int":
            fields.append(v.VMSTATE_SINGLE(n, 0, INTS[fs[1]][1]))
        elif kind == "bool":
            fields.append(v.VMSTATE_BOOL(n))
        elif kind == "array":
            fields.append(v.VMSTATE_ARRAY(n, fs[2], 0, INTS[fs[1]][1]))
        elif kind == "varray":
            fields.append(v.VMSTATE_UINT32(f"n{i}"))
            fields.append(v.VMSTATE_VARRAY_UINT32(n, f"n{i}", 0, INTS[fs[1]][1]))
        elif kind == "buffer":
            fields.append(v.VMSTATE_BUFFER(n, fs[1]))
        elif kind == "vbuffer":
            fields.append(v.VMSTATE_UINT32(f"n{i}"))
            fields.append(v.VMSTATE_VBUFFER_UINT32(n, 0, None, f"n{i}"))
        elif kind == "struct":
            fields.append(v.VMSTATE_STRUCT(n, 0, build(fs[1], f"{name}.{n}")))
        elif kind == "struct_array":
            fields.append(v.VMSTATE_STRUCT_ARRAY(n, fs[2], 0, build(fs[1], f"{name}.{n}")))
    subs = []
    for k, ss in enumerate(subs_spec):
        sname = f"{name}/s{k}"
        sub = build(ss, sname)
        # the subsection's fields live on the same object, under their own names
        for fld in sub.fields:
            fld.accessor = v.fields.Accessor.flat(f"s{k}", fld.name)
            if fld.num_accessor is not None:
                fld.num_accessor = v.fields.Accessor.flat(f"s{k}", fld.num_field)
            if fld.size_accessor is not None:
                fld.size_accessor = v.fields.Accessor.flat(f"s{k}", fld.size_field)
        sub.needed = (lambda key: lambda o: getattr(o, key, None) is not None)(f"s{k}")
        sub.pre_load = (lambda key: lambda o: _present(o, key))(f"s{k}")
        subs.append(sub)
    return v.VMStateDescription(name, version_id=1, minimum_version_id=1, fields=fields,
                                subsections=subs)


def _present(obj: Any, key: str) -> int:
    if getattr(obj, key, None) is None:  # a subsection without fields was there too
        setattr(obj, key, NS())
    return 0


@st.composite
def value_of(draw: Any, spec: Any) -> NS:
    """A random object for a spec."""
    fields_spec, subs_spec = spec
    obj = NS()
    for i, fs in enumerate(fields_spec):
        n = f"f{i}"
        kind = fs[0]
        if kind == "int":
            setattr(obj, n, draw(st.integers(*RANGES[INTS[fs[1]][0]])))
        elif kind == "bool":
            setattr(obj, n, draw(st.booleans()))
        elif kind == "array":
            setattr(obj, n, draw(st.lists(st.integers(*RANGES[INTS[fs[1]][0]]),
                                          min_size=fs[2], max_size=fs[2])))
        elif kind == "varray":
            vals = draw(st.lists(st.integers(*RANGES[INTS[fs[1]][0]]), max_size=6))
            setattr(obj, n, vals)
            setattr(obj, f"n{i}", len(vals))
        elif kind == "buffer":
            setattr(obj, n, draw(st.binary(min_size=fs[1], max_size=fs[1])))
        elif kind == "vbuffer":
            b = draw(st.binary(max_size=16))
            setattr(obj, n, b)
            setattr(obj, f"n{i}", len(b))
        elif kind == "struct":
            setattr(obj, n, draw(value_of(fs[1])))
        elif kind == "struct_array":
            setattr(obj, n, [draw(value_of(fs[1])) for _ in range(fs[2])])
    for k, ss in enumerate(subs_spec):
        if draw(st.booleans()):
            setattr(obj, f"s{k}", draw(value_of(ss)))
    return obj


@st.composite
def cases(draw: Any) -> tuple[v.VMStateDescription, NS, Any]:
    spec = draw(specs)
    return build(spec), draw(value_of(spec)), spec


def _subsections_in_array(spec: Any, in_array: bool = False) -> bool:
    """Subsections inside a struct array. Known limit (reported, not fixed
    here): when elements carry different subsets of subsections, vmdesc's
    ``_union_struct`` orders the union by first appearance, so a re-save
    through the JSON may write an element's subsections in another order."""
    fields_spec, subs_spec = spec
    if subs_spec and in_array:
        return True
    return any(_subsections_in_array(fs[1], in_array or fs[0] == "struct_array")
               for fs in fields_spec if fs[0] in ("struct", "struct_array")) or \
        any(_subsections_in_array(ss, in_array) for ss in subs_spec)


def _variable_in_array(spec: Any, in_array: bool = False) -> bool:
    """A VARRAY or VBUFFER inside a struct array: QEMU's JSON describes a
    compressible struct array by its first element only, so the JSON cannot
    tell the sizes of the others (analyze-migration.py misreads them too)."""
    fields_spec, subs_spec = spec
    for fs in fields_spec:
        if fs[0] in ("varray", "vbuffer") and in_array:
            return True
        if fs[0] == "struct" and _variable_in_array(fs[1], in_array):
            return True
        if fs[0] == "struct_array" and _variable_in_array(fs[1], True):
            return True
    return any(_variable_in_array(ss, in_array) for ss in subs_spec)


def save(vmsd: v.VMStateDescription, obj: Any, vmdesc: Any = None) -> bytes:
    f = v.QEMUFile()
    v.vmstate_save_state(f, vmsd, obj, vmdesc)
    return f.getvalue()


# In a stream a section is followed by at least its footer: a field value
# that starts with 0x05 after a struct is peeked at as a subsection marker,
# and QEMU (and we) need the bytes of the name it announces to be there.
TRAILER = b"\x7e" + bytes(259)


def load(vmsd: v.VMStateDescription, data: bytes) -> NS:
    obj = NS()
    f = v.QEMUFile(data + TRAILER)
    v.vmstate_load_state(f, vmsd, obj, vmsd.version_id)
    assert f.remaining() == len(TRAILER)
    return obj


def _only_vmstate_error(vmsd: v.VMStateDescription, data: bytes) -> None:
    t0 = time.perf_counter()
    try:
        obj = NS()
        v.vmstate_load_state(v.QEMUFile(data), vmsd, obj, vmsd.version_id)
    except VMStateError as e:
        assert e.offset is None or isinstance(e.offset, int)
        assert isinstance(e.path, str)
        str(e)
    dt = time.perf_counter() - t0
    assert dt < CASE_SECONDS, f"case took {dt:.2f} s"


@SETTINGS
@given(cases())
def test_save_load_roundtrip(case: tuple) -> None:
    vmsd, obj, _ = case
    data = save(vmsd, obj)
    back = load(vmsd, data)
    assert save(vmsd, back) == data


@SETTINGS
@given(cases())
def test_roundtrip_through_the_json_description(case: tuple) -> None:
    """The JSON the save wrote describes the bytes well enough to read them."""
    vmsd, obj, spec = case
    assume(not _variable_in_array(spec))
    w = v.JSONWriter()
    w.start_object(None)
    data = save(vmsd, obj, w)
    w.end_object()
    desc = json.loads(w.get())
    jvmsd = v.vmsd_from_json(desc)
    from vmstate_edu.vmdesc import validate_vmdesc
    validate_vmdesc({"devices": [dict(desc, name="dev", instance_id=0)]})
    back = NS()
    f = v.QEMUFile(data + TRAILER)
    v.vmstate_load_state(f, jvmsd, back, jvmsd.version_id)
    assert f.remaining() == len(TRAILER)
    if not _subsections_in_array(spec):
        assert save(jvmsd, back) == data


mutations = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10**6), st.integers(0, 7)),
    st.tuples(st.just("cut"), st.integers(0, 10**6)),
    st.tuples(st.just("insert"), st.integers(0, 10**6), st.binary(min_size=1, max_size=8)),
    st.tuples(st.just("delete"), st.integers(0, 10**6), st.integers(1, 8)),
    st.tuples(st.just("max"), st.integers(0, 10**6), st.integers(1, 4)),
)


def apply(data: bytes, muts: list) -> bytes:
    b = bytearray(data)
    for m in muts:
        if not b:
            break
        i = m[1] % len(b)
        if m[0] == "flip":
            b[i] ^= 1 << m[2]
        elif m[0] == "cut":
            del b[i:]
        elif m[0] == "insert":
            b[i:i] = m[2]
        elif m[0] == "delete":
            del b[i:i + m[2]]
        else:  # a count or a size set to its maximum
            b[i:i + m[2]] = b"\xff" * m[2]
    return bytes(b)


@SETTINGS
@given(cases(), st.lists(mutations, min_size=1, max_size=4))
def test_damaged_bytes_raise_only_vmstate_errors(case: tuple, muts: list) -> None:
    vmsd, obj, _ = case
    data = apply(save(vmsd, obj), muts)
    _only_vmstate_error(vmsd, data)


@SETTINGS
@given(cases(), st.lists(mutations, min_size=1, max_size=3))
def test_damaged_bytes_through_json_raise_only_vmstate_errors(case: tuple, muts: list) -> None:
    vmsd, obj, _ = case
    w = v.JSONWriter()
    w.start_object(None)
    data = save(vmsd, obj, w)
    w.end_object()
    jvmsd = v.vmsd_from_json(json.loads(w.get()))
    _only_vmstate_error(jvmsd, apply(data, muts))


def test_huge_varray_count_is_refused_before_building_the_list() -> None:
    """A VARRAY count read from the stream: over LIMITS.max_elements it is a
    LimitExceeded naming the field; under it but more than the stream holds,
    a StreamTruncated before any list is built."""
    import tracemalloc

    vmsd = v.VMStateDescription("dev", 1, 1, fields=[
        v.VMSTATE_UINT32("n"), v.VMSTATE_VARRAY_UINT32("arr", "n", 0, v.vmstate_info_uint64)])
    data = (0xFFFFFFFF).to_bytes(4, "big") + bytes(16)
    try:
        v.vmstate_load_state(v.QEMUFile(data), vmsd, NS(), 1)
    except v.LimitExceeded as e:
        assert e.path == "arr" and "4294967295" in str(e)
    else:
        raise AssertionError("no LimitExceeded")
    data = (v.LIMITS.max_elements).to_bytes(4, "big") + bytes(16)
    tracemalloc.start()
    try:
        v.vmstate_load_state(v.QEMUFile(data), vmsd, NS(), 1)
    except v.StreamTruncated as e:
        assert e.path == "arr" and e.offset == 4
    else:
        raise AssertionError("no StreamTruncated")
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak < 1 << 20, peak
