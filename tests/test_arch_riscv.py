"""The hand-written RISC-V descriptions (vmstate_edu/arch/riscv.py) against
every committed riscv64/riscv32 stream of QEMU 7.2 and 10.0: byte-identical
re-save, the subsections of the stream's JSON, the real load and save trace
logs of the ``cpu`` and ``cpu_common`` sections line for line, and the
feature switches."""

from __future__ import annotations

import json

import pytest
from archlib import DATA, VERSIONS, fresh_stream, save_cpu_json, twin_cpu_lines
from archlib import arch_stream as _stream
from archlib import json_cpu as _json_cpu
from archlib import names as _names
from archlib import raw_stream as _raw
from archlib import shape as _shape
from archlib import subsection_names as _subsection_names

import vmstate_edu as v
from vmstate_edu.arch import riscv

CASES = ("riscv64-virt-paused", "riscv64-virt-running", "riscv64-virt-v-running",
         "riscv64-virt-noh-running", "riscv32-virt-running")
ALL = [(ver, case) for ver in VERSIONS for case in CASES]


# --- every stream -----------------------------------------------------------------

@pytest.mark.parametrize("ver,case", ALL)
def test_arch_descriptions_are_used(ver: str, case: str) -> None:
    s = _stream(ver, case)
    cpu = s.device("cpu")
    assert isinstance(cpu, riscv.RISCVCPU)
    assert isinstance(s.device("cpu_common"), riscv.CPUState)
    assert cpu.tl == (32 if case.startswith("riscv32") else 64)
    assert cpu.qemu_version == ver


@pytest.mark.parametrize("ver,case", ALL)
def test_resave_is_byte_identical(ver: str, case: str) -> None:
    assert _stream(ver, case).to_bytes() == _raw(ver, case)


@pytest.mark.parametrize("ver,case", ALL)
def test_saved_json_equals_the_streams(ver: str, case: str) -> None:
    """The cpu description, saved from the loaded model, writes the same JSON
    entry (fields, sizes, subsections) as QEMU did."""
    s = _stream(ver, case)
    vmsd = riscv.vmstate_riscv_cpu(ver, s.device("cpu").tl)
    assert save_cpu_json(vmsd, s.device("cpu")) == _shape(_json_cpu(ver, case))


@pytest.mark.parametrize("ver,case", ALL)
@pytest.mark.parametrize("side", ["load", "save"])
def test_trace_twin_cpu_sections(ver: str, case: str, side: str) -> None:
    ours, real = twin_cpu_lines(ver, case, side)
    assert real, "no cpu lines in the real log"
    assert ours == real


@pytest.mark.parametrize("ver", VERSIONS)
def test_load_log_has_subsection_peeks(ver: str) -> None:
    ours, _ = twin_cpu_lines(ver, "riscv64-virt-running", "load")
    bad = [ln for ln in ours if ln.startswith("vmstate_subsection_load_bad")]
    assert "vmstate_subsection_load_bad cpu/pmp: cpu/hyper/(prefix)" in bad


def test_version_gates_and_counts() -> None:
    a, b = riscv.vmstate_riscv_cpu("7.2"), riscv.vmstate_riscv_cpu("10.0")
    assert (a.version_id, len(a.fields)) == (5, 49)
    assert (b.version_id, len(b.fields)) == (10, 50)
    assert [sd.name for sd in b.subsections] == [
        "cpu/pmp", "cpu/hyper", "cpu/vector", "cpu/pointer_masking", "cpu/rv128",
        "cpu/envcfg", "cpu/debug", "cpu/smtateen", "cpu/jvt", "cpu/elp", "cpu/ssp",
        "cpu/ctr", "cpu/timer", "cpu/mseccfg"]
    assert "cpu/kvmtimer" in [sd.name for sd in a.subsections]


def test_matches() -> None:
    assert riscv.matches(_json_cpu("10.0", "riscv32-virt-running"))
    assert riscv.target_bits(_json_cpu("7.2", "riscv32-virt-running")) == 32
    x86 = json.loads((DATA / "qemu-10.0" / "x86_64-pc-running" / "expected" /
                      "analyze-desc.json").read_text())
    x86_cpu = next(d for d in x86["devices"] if d["name"] == "cpu")
    assert not riscv.matches(x86_cpu)


# --- feature switches ---------------------------------------------------------------


@pytest.mark.parametrize("ver", VERSIONS)
@pytest.mark.parametrize("start,switch,value,target", [
    ("riscv64-virt-running", "has_v", True, "riscv64-virt-v-running"),
    ("riscv64-virt-v-running", "has_v", False, "riscv64-virt-running"),
    ("riscv64-virt-running", "has_h", False, "riscv64-virt-noh-running"),
    ("riscv64-virt-noh-running", "has_h", True, "riscv64-virt-running"),
])
def test_switch_gives_the_captured_feature_set(ver: str, start: str, switch: str,
                                               value: bool, target: str) -> None:
    cpu = fresh_stream(ver, start).device("cpu")
    setattr(cpu, switch, value)
    assert getattr(cpu, switch) is value
    got = save_cpu_json(riscv.vmstate_riscv_cpu(ver, 64), cpu)
    assert _names(got) == _names(_json_cpu(ver, target))


@pytest.mark.parametrize("ver", VERSIONS)
@pytest.mark.parametrize("switch,sub", [
    ("has_pmp", "cpu/pmp"), ("has_debug", "cpu/debug"), ("has_envcfg", "cpu/envcfg"),
    ("has_h", "cpu/hyper")])
def test_switch_off_drops_its_subsection(ver: str, switch: str, sub: str) -> None:
    cpu = fresh_stream(ver, "riscv64-virt-running").device("cpu")
    before = _subsection_names(_json_cpu(ver, "riscv64-virt-running"))
    setattr(cpu, switch, False)
    got = _subsection_names(save_cpu_json(riscv.vmstate_riscv_cpu(ver, 64), cpu))
    assert got == [n for n in before if n != sub]


def test_sstc_switch_10_0() -> None:
    cpu = fresh_stream("10.0", "riscv64-virt-running").device("cpu")
    assert cpu.has_sstc and cpu.cfg.ext_sstc
    cpu.has_sstc = False
    got = _subsection_names(save_cpu_json(riscv.vmstate_riscv_cpu("10.0", 64), cpu))
    assert "cpu/timer" not in got


def test_fresh_model_has_switches_off_and_loading_sets_them() -> None:
    fresh = riscv.new_cpu("10.0", 64)
    assert not (fresh.has_pmp or fresh.has_debug or fresh.has_v or fresh.has_sstc)
    got = _subsection_names(save_cpu_json(riscv.vmstate_riscv_cpu("10.0", 64), fresh))
    assert got == []
    loaded = _stream("10.0", "riscv64-virt-v-running").device("cpu")
    assert loaded.cfg.pmp and loaded.cfg.debug and loaded.cfg.ext_zve32x and loaded.cfg.ext_sstc


def test_rv32_width() -> None:
    cpu = _stream("7.2", "riscv32-virt-running").device("cpu")
    assert cpu.tl == 32 and cpu.env.xl == riscv.MXL_RV32
    assert all(x < 1 << 32 for x in cpu.env.gpr)


# --- editing a register ------------------------------------------------------------

@pytest.mark.parametrize("ver", VERSIONS)
def test_edit_pc_and_resave(ver: str) -> None:
    s = v.load_stream(DATA / f"qemu-{ver}" / "riscv64-virt-running" / "stream.mig.xz",
                      descriptions="arch")
    cpu = s.device("cpu")
    cpu.env.pc = 0x8020_0000
    data = s.to_bytes()
    raw = _raw(ver, "riscv64-virt-running")
    assert len(data) == len(raw)
    diff = [i for i in range(len(raw)) if raw[i] != data[i]]
    assert diff and diff[-1] - diff[0] < 8  # only the 8 bytes of env.pc changed
    assert v.load_stream(data, descriptions="arch").device("cpu").env.pc == 0x8020_0000


def test_post_load_recomputes_xl() -> None:
    cpu = _stream("10.0", "riscv64-virt-running").device("cpu")
    assert cpu.env.xl == riscv.cpu_recompute_xl(cpu.env, 64)
    assert cpu.env.xl in (riscv.MXL_RV32, riscv.MXL_RV64)
