"""The fast path (runs of plain integer fields in one struct call) changes
nothing observable: the same bytes, the same JSON, the same trace records."""

from __future__ import annotations

import pytest
from streams import stream_bytes

import vmstate_edu as v
import vmstate_edu.vmstate as vm
from vmstate_edu.plan import Run, plan


def _slow(monkeypatch):
    monkeypatch.setattr(vm, "plan", lambda vmsd, version: [f for f in vmsd.fields if f])


CASES = ["qemu-10.0/riscv64-virt-running", "qemu-7.2/x86_64-pc-running",
         "qemu-10.0/aarch64-virt-running", "qemu-7.2/riscv64-virt-running"]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("descriptions", [None, "arch"])
def test_same_trace_records_with_and_without_runs(case, descriptions, monkeypatch):
    data = stream_bytes(case)
    s = v.load_stream(data, descriptions=descriptions)
    fast_load, fast_save = s.trace_load().rows, s.trace_save().rows
    _slow(monkeypatch)
    s2 = v.load_stream(data, descriptions=descriptions)
    assert s2.trace_load().rows == fast_load
    assert s2.trace_save().rows == fast_save
    assert s2.to_bytes() == data


def test_runs_exist_and_cover_plain_fields():
    s = v.load_stream(stream_bytes("qemu-10.0/riscv64-virt-running"))
    cpu = next(se for se in s.registry.handlers if se.idstr == "cpu")
    steps = plan(cpu.vmsd, cpu.load_version_id)
    runs = [st for st in steps if type(st) is Run]
    assert runs and sum(len(r.fields) for r in runs) > 40


def test_run_falls_back_and_names_the_field_on_a_short_stream():
    dev = v.VMStateDescription("dev", 1, 1, fields=[
        v.VMSTATE_UINT32("a"), v.VMSTATE_UINT64_ARRAY("b", 4), v.VMSTATE_UINT16("c")])
    from types import SimpleNamespace as NS
    data = bytes(range(4 + 32 + 2))
    for cut in (0, 3, 4, 20, 36, 37):
        with pytest.raises(v.StreamTruncated) as ei:
            v.vmstate_load_state(v.QEMUFile(data[:cut]), dev, NS(), 1)
        want = "a" if cut < 4 else ("b" if cut < 36 else "c")
        assert ei.value.path.startswith(want), (cut, ei.value.path)
    obj = NS()
    v.vmstate_load_state(v.QEMUFile(data), dev, obj, 1)
    assert obj.a == 0x00010203 and len(obj.b) == 4 and obj.c == 0x2425


def test_run_falls_back_on_a_value_that_does_not_fit():
    dev = v.VMStateDescription("dev", 1, 1, fields=[v.VMSTATE_UINT8("a"), v.VMSTATE_UINT8("b")])
    from types import SimpleNamespace as NS
    with pytest.raises(v.VMStateError) as ei:
        v.vmstate_save_state(v.QEMUFile(), dev, NS(a=1, b=256))
    assert ei.value.path == "b"
