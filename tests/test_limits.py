"""``vmstate_edu.limits.LIMITS``: each bound raises LimitExceeded naming the
field and the value; changing the bound makes the error appear or go away."""

from __future__ import annotations

import struct
from types import SimpleNamespace as NS

import pytest

import vmstate_edu as v
from vmstate_edu.machine import TeachingMachine, demo_machine
from vmstate_edu.vmdesc import validate_vmdesc


@pytest.fixture
def limits(monkeypatch: pytest.MonkeyPatch) -> v.Limits:
    """LIMITS, restored after the test whatever it changes."""
    for name in ("max_elements", "max_alloc", "max_depth", "max_json", "max_sections"):
        monkeypatch.setattr(v.LIMITS, name, getattr(v.LIMITS, name))
    return v.LIMITS


VARRAY = v.VMStateDescription("dev", 1, 1, fields=[
    v.VMSTATE_UINT32("n"), v.VMSTATE_VARRAY_UINT32("arr", "n", 0, v.vmstate_info_uint16)])
VBUF = v.VMStateDescription("dev", 1, 1, fields=[
    v.VMSTATE_UINT32("len"), v.VMSTATE_VBUFFER_UINT32("buf", 0, None, "len")])


def _load(vmsd: v.VMStateDescription, data: bytes) -> NS:
    obj = NS()
    v.vmstate_load_state(v.QEMUFile(data), vmsd, obj, vmsd.version_id)
    return obj


def test_defaults() -> None:
    assert isinstance(v.LIMITS, v.Limits)
    assert v.LIMITS.max_elements >= 1 << 20 and v.LIMITS.max_alloc >= 64 << 20


def test_max_elements(limits: v.Limits) -> None:
    data = struct.pack(">I", 1000) + bytes(2000)
    limits.max_elements = 999
    with pytest.raises(v.LimitExceeded) as ei:
        _load(VARRAY, data)
    e = ei.value
    assert e.path == "arr" and "1000" in str(e) and "999" in str(e)
    assert e.offset == 4  # where the array would start
    limits.max_elements = 1000
    assert len(_load(VARRAY, data).arr) == 1000


def test_max_elements_on_save_too(limits: v.Limits) -> None:
    limits.max_elements = 3
    f = v.QEMUFile()
    with pytest.raises(v.LimitExceeded, match="arr has 4 elements"):
        v.vmstate_save_state(f, VARRAY, NS(n=4, arr=[1, 2, 3, 4]))


def test_max_alloc(limits: v.Limits) -> None:
    data = struct.pack(">I", 4096) + bytes(4096)
    limits.max_alloc = 4095
    with pytest.raises(v.LimitExceeded) as ei:
        _load(VBUF, data)
    e = ei.value
    assert e.path == "buf" and "4096" in str(e) and "4095" in str(e)
    limits.max_alloc = 4096
    assert _load(VBUF, data).buf == bytes(4096)


def test_max_alloc_applies_to_json_sizes(limits: v.Limits) -> None:
    desc = {"devices": [{"name": "d", "instance_id": 0, "vmsd_name": "d", "version": 1,
                         "fields": [{"name": "x", "type": "buffer", "size": 5000}]}]}
    validate_vmdesc(desc)
    limits.max_alloc = 4999
    with pytest.raises(v.LimitExceeded, match=r"devices\[0\]\.fields\[0\]\.size is 5000"):
        validate_vmdesc(desc)


def test_max_json(limits: v.Limits) -> None:
    data = demo_machine().save()
    reg_len = len(TeachingMachine.load(data).save())  # loads with the default
    assert reg_len == len(data)
    limits.max_json = 100
    with pytest.raises(v.LimitExceeded) as ei:
        TeachingMachine.load(data)
    assert ei.value.path == "vmdescription" and "100" in str(ei.value)
    assert isinstance(ei.value.offset, int)
    limits.max_json = 1 << 20
    TeachingMachine.load(data)


def _nested(depth: int) -> dict:
    inner: dict = {"vmsd_name": "leaf", "version": 1, "fields": []}
    for _ in range(depth):
        inner = {"vmsd_name": "n", "version": 1,
                 "fields": [{"name": "s", "type": "struct", "size": 0, "struct": inner}]}
    return {"devices": [dict(inner, name="deep", instance_id=0)]}


def test_max_depth_of_a_json_description(limits: v.Limits) -> None:
    desc = _nested(10)
    validate_vmdesc(desc)
    limits.max_depth = 9
    with pytest.raises(v.LimitExceeded, match="nests deeper than 9"):
        validate_vmdesc(desc)
    limits.max_depth = 10
    validate_vmdesc(desc)


def test_max_depth_of_a_traced_load(limits: v.Limits) -> None:
    vmsd = v.VMStateDescription("l0", 1, 1, fields=[v.VMSTATE_UINT8("x")])
    obj = NS(x=1)
    for k in range(1, 6):
        vmsd = v.VMStateDescription(f"l{k}", 1, 1, fields=[v.VMSTATE_STRUCT("s", 0, vmsd)])
        obj = NS(s=obj)
    f = v.QEMUFile()
    v.vmstate_save_state(f, vmsd, obj)
    limits.max_depth = 4
    with v.trace(), pytest.raises(v.LimitExceeded, match="deeper than 4"):
        _load(vmsd, f.getvalue())
    limits.max_depth = 6
    with v.trace():
        assert _load(vmsd, f.getvalue()).s.s.s.s.s.x == 1


def test_json_element_total(limits: v.Limits) -> None:
    desc = {"devices": [{"name": "d", "instance_id": 0, "vmsd_name": "d", "version": 1,
                         "fields": [{"name": "a", "type": "struct", "size": 0,
                                     "array_len": 1000, "struct": {
                                         "vmsd_name": "e", "version": 1, "fields": [
                                             {"name": "b", "type": "uint8", "size": 1,
                                              "array_len": 1000}]}}]}]}
    limits.max_elements = 1000 * 1001
    validate_vmdesc(desc)
    limits.max_elements = 1000 * 1001 - 1
    with pytest.raises(v.LimitExceeded, match="describes more than"):
        validate_vmdesc(desc)


def test_max_sections(limits: v.Limits) -> None:
    data = demo_machine().save()
    n = len(v.load_stream(data).sections)
    limits.max_sections = n - 2
    with pytest.raises(v.LimitExceeded) as ei:
        v.load_stream(data)
    assert "sections" in str(ei.value) and isinstance(ei.value.offset, int)
    limits.max_sections = n + 4  # the loop also meets commands and EOF
    assert len(v.load_stream(data).sections) == n


def test_limit_errors_are_vmstate_errors_with_enomem() -> None:
    e = v.LimitExceeded("x")
    assert isinstance(e, v.VMStateError) and e.errno == 12
