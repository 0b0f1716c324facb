"""The hand-written Arm descriptions (vmstate_edu/arch/arm.py) against every
committed aarch64 stream of QEMU 7.2 and 10.0: byte-identical re-save, the
JSON entry of the ``cpu`` section, the real load and save trace logs of the
``cpu`` and ``cpu_common`` sections line for line, the feature switches, and
the state that put_cpsr / cpu_pre_save derive."""

from __future__ import annotations

import json

import pytest
from archlib import DATA, VERSIONS, save_cpu_json, twin_cpu_lines
from archlib import arch_stream as _stream
from archlib import fresh_stream as _reloaded
from archlib import json_cpu as _json_cpu
from archlib import names as _names
from archlib import raw_stream as _raw
from archlib import shape as _shape
from archlib import subsection_names as _subsection_names

import vmstate_edu as v
from vmstate_edu.arch import arm

CASES = ("aarch64-virt-paused", "aarch64-virt-running", "aarch64-virt-max-running",
         "aarch64-virt-max-nosve-running")
ALL = [(ver, case) for ver in VERSIONS for case in CASES]


# --- every stream -----------------------------------------------------------------

@pytest.mark.parametrize("ver,case", ALL)
def test_arch_descriptions_are_used(ver: str, case: str) -> None:
    s = _stream(ver, case)
    cpu = s.device("cpu")
    assert isinstance(cpu, arm.ARMCPU)
    assert cpu.parent_obj is s.device("cpu_common")
    assert cpu.qemu_version == ver


@pytest.mark.parametrize("ver,case", ALL)
def test_resave_is_byte_identical(ver: str, case: str) -> None:
    assert _stream(ver, case).to_bytes() == _raw(ver, case)


@pytest.mark.parametrize("ver,case", ALL)
def test_saved_json_equals_the_streams(ver: str, case: str) -> None:
    s = _stream(ver, case)
    assert save_cpu_json(arm.vmstate_arm_cpu(ver), s.device("cpu")) == \
        _shape(_json_cpu(ver, case))


@pytest.mark.parametrize("ver,case", ALL)
@pytest.mark.parametrize("side", ["load", "save"])
def test_trace_twin_cpu_sections(ver: str, case: str, side: str) -> None:
    ours, real = twin_cpu_lines(ver, case, side)
    assert real, "no cpu lines in the real log"
    assert ours == real


@pytest.mark.parametrize("ver", VERSIONS)
def test_save_log_has_pre_save_and_load_log_peeks(ver: str) -> None:
    ours, _ = twin_cpu_lines(ver, "aarch64-virt-running", "save")
    assert "vmstate_save_state_pre_save_res cpu/0" in ours
    ours, _ = twin_cpu_lines(ver, "aarch64-virt-running", "load")
    bad = [ln for ln in ours if ln.startswith("vmstate_subsection_load_bad")]
    assert bad == ["vmstate_subsection_load_bad cpu/vfp: cpu/irq-line-state/(prefix)"]


def test_gt_timer_names_follow_macro_expansion() -> None:
    names72 = [f.name for f in arm.vmstate_arm_cpu("7.2").fields]
    names10 = [f.name for f in arm.vmstate_arm_cpu("10.0").fields]
    assert "gt_timer[0]" in names72 and "gt_timer[GTIMER_PHYS]" in names10
    cpu = _stream("10.0", "aarch64-virt-running").device("cpu")
    assert len(cpu.gt_timer) == 2 and not hasattr(cpu, "gt_timer[GTIMER_PHYS]")


def test_matches() -> None:
    assert arm.matches(_json_cpu("7.2", "aarch64-virt-running"))
    rv = json.loads((DATA / "qemu-10.0" / "riscv64-virt-running" / "expected" /
                     "analyze-desc.json").read_text())
    assert not arm.matches(next(d for d in rv["devices"] if d["name"] == "cpu"))


def test_version_22_and_subsection_order() -> None:
    for ver in VERSIONS:
        vmsd = arm.vmstate_arm_cpu(ver)
        assert (vmsd.version_id, len(vmsd.fields)) == (22, 25)
    subs = [sd.name for sd in arm.vmstate_arm_cpu("10.0").subsections]
    assert subs == ["cpu/vfp", "cpu/iwmmxt", "cpu/m", "cpu/thumb2ee", "cpu/pmsav7-rnr",
                    "cpu/pmsav7", "cpu/pmsav8", "cpu/m-security", "cpu/sve", "cpu/sme",
                    "cpu/serror", "cpu/irq-line-state", "cpu/wfxt-timer"]
    assert "cpu/wfxt-timer" not in [sd.name for sd in arm.vmstate_arm_cpu("7.2").subsections]


# --- feature switches ---------------------------------------------------------------

@pytest.mark.parametrize("ver,start,switch,value,target", [
    ("7.2", "aarch64-virt-max-running", "has_sve", False, "aarch64-virt-max-nosve-running"),
    ("10.0", "aarch64-virt-max-running", "has_sve", False, "aarch64-virt-max-nosve-running"),
    ("7.2", "aarch64-virt-max-nosve-running", "has_sve", True, "aarch64-virt-max-running"),
    ("10.0", "aarch64-virt-max-nosve-running", "has_sve", True, "aarch64-virt-max-running"),
    ("7.2", "aarch64-virt-running", "has_sve", True, "aarch64-virt-max-running"),
    ("10.0", "aarch64-virt-running", "has_wfxt", True, "aarch64-virt-max-nosve-running"),
    ("10.0", "aarch64-virt-max-nosve-running", "has_wfxt", False, "aarch64-virt-running"),
])
def test_switch_gives_the_captured_feature_set(ver: str, start: str, switch: str,
                                               value: bool, target: str) -> None:
    cpu = _reloaded(ver, start).device("cpu")
    setattr(cpu, switch, value)
    assert getattr(cpu, switch) is value
    got = save_cpu_json(arm.vmstate_arm_cpu(ver), cpu)
    assert _names(got) == _names(_json_cpu(ver, target))


@pytest.mark.parametrize("ver", VERSIONS)
def test_vfp_off_and_za_on(ver: str) -> None:
    cpu = _reloaded(ver, "aarch64-virt-running").device("cpu")
    cpu.has_vfp = False
    got = save_cpu_json(arm.vmstate_arm_cpu(ver), cpu)
    assert _subsection_names(got) == ["cpu/irq-line-state"]
    cpu.has_za = True
    got = save_cpu_json(arm.vmstate_arm_cpu(ver), cpu)
    assert _subsection_names(got) == ["cpu/sme", "cpu/irq-line-state"]
    sme = got["subsections"][0]["fields"][0]
    assert (sme["name"], sme["array_len"], sme["size"]) == ("env.zarray", 256, 256)


def test_fresh_model_has_switches_off() -> None:
    cpu = arm.new_cpu("10.0")
    assert not (cpu.has_vfp or cpu.has_sve or cpu.has_wfxt or cpu.has_za)
    assert _subsection_names(save_cpu_json(arm.vmstate_arm_cpu("10.0"), cpu)) == \
        ["cpu/irq-line-state"]


def test_fpcr_bits_outside_fpscr_use_the_10_0_subsection() -> None:
    s = _reloaded("10.0", "aarch64-virt-running")
    cpu = s.device("cpu")
    cpu.env.vfp.fpcr |= 1 << 1  # FPCR.AH: not visible in the AArch32 FPSCR
    cpu.env.vfp.fpsr |= 1 << 31
    got = save_cpu_json(arm.vmstate_arm_cpu("10.0"), cpu)
    vfp = got["subsections"][0]
    assert [sd["vmsd_name"] for sd in vfp["subsections"]] == ["cpu/vfp/fpcr_fpsr"]
    again = v.load_stream(s.to_bytes(), descriptions="arch").device("cpu")
    assert again.env.vfp.fpcr & 2 and again.env.vfp.fpsr >> 31 == 1
    # without the extra bit, FPSCR carries everything and no subsection is sent
    cpu.env.vfp.fpcr &= ~2
    got = save_cpu_json(arm.vmstate_arm_cpu("10.0"), cpu)
    assert "subsections" not in got["subsections"][0]
    again = v.load_stream(s.to_bytes(), descriptions="arch").device("cpu")
    assert again.env.vfp.fpsr >> 31 == 1


# --- derived wire values: cpsr from pstate, cpregs from the CPU's list ----------------

@pytest.mark.parametrize("ver", VERSIONS)
def test_pstate_round_trip_and_edit(ver: str) -> None:
    s = _reloaded(ver, "aarch64-virt-paused")
    cpu = s.device("cpu")
    assert cpu.cpsr == 0x400003C5  # EL1h, DAIF masked, Z set (reset)
    assert cpu.env.ZF == 0 and cpu.env.daif == 0x3C0 and cpu.env.pstate == 0x5
    cpu.env.NF = 0x80000000  # set N
    cpu.env.ZF = 1           # clear Z
    cpu.env.btype = 2
    assert cpu.cpsr == 0x80000BC5
    again = v.load_stream(s.to_bytes(), descriptions="arch").device("cpu")
    assert again.cpsr == 0x80000BC5 and again.env.NF >> 31 == 1 and again.env.ZF != 0


def test_pstate_helpers_are_inverse() -> None:
    env = arm.CPUARMState()
    for val in (0, 0x3C5, 0x400003C5, 0xF0000C05, 0x200003C4, 0x600023C9):
        arm.pstate_write(env, val)
        assert arm.pstate_read(env) == val


def test_cpsr_aarch32_view() -> None:
    f = v.QEMUFile()
    f.put_be32(0x600001D3)  # AArch32 SVC mode, Z C, A I F masked
    cpu_in = arm.new_cpu("10.0")
    arm.get_cpsr(v.QEMUFile(f.getvalue()), cpu_in, 4, None)
    assert not cpu_in.env.aarch64 and cpu_in.cpsr == 0x600001D3
    assert cpu_in.env.uncached_cpsr == 0x13 and cpu_in.env.CF == 1 and cpu_in.env.ZF == 0


@pytest.mark.parametrize("ver", VERSIONS)
def test_cpreg_edit_goes_through_pre_save(ver: str) -> None:
    s = _reloaded(ver, "aarch64-virt-running")
    cpu = s.device("cpu")
    idx = cpu.cpreg_indexes[10]
    cpu.cpreg_set(idx, 0x1234_5678_9ABC_DEF0)
    assert cpu.cpreg_vmstate_values[10] != 0x1234_5678_9ABC_DEF0  # not synced yet
    again = v.load_stream(s.to_bytes(), descriptions="arch").device("cpu")
    assert again.cpreg_get(idx) == 0x1234_5678_9ABC_DEF0
    assert again.cpreg_vmstate_array_len == len(again.cpreg_indexes)


def test_post_load_merges_into_an_existing_register_list() -> None:
    s = _stream("10.0", "aarch64-virt-running")
    loaded = s.device("cpu")
    mine = arm.new_cpu("10.0")
    mine.cpreg_indexes = list(loaded.cpreg_indexes)
    mine.cpreg_values = [0] * len(mine.cpreg_indexes)
    mine.cpreg_array_len = mine.cpreg_vmstate_array_len = len(mine.cpreg_indexes)
    raw = _raw("10.0", "aarch64-virt-running")
    sec = next(x for x in s.sections if x.idstr == "cpu")
    f = v.QEMUFile(raw)
    f.skip(sec.offset + 1 + 4 + 1 + len("cpu") + 4 + 4)  # type, id, idstr, instance, version
    v.vmstate_load_state(f, arm.vmstate_arm_cpu("10.0"), mine, 22)
    assert mine.cpreg_values == loaded.cpreg_values
    # a register the CPU does not have makes the load fail, as in QEMU
    mine.cpreg_indexes = mine.cpreg_indexes[1:]
    mine.cpreg_values = mine.cpreg_values[1:]
    mine.cpreg_array_len = len(mine.cpreg_indexes)
    mine.cpreg_vmstate_array_len = 10_000
    f = v.QEMUFile(raw)
    f.skip(sec.offset + 1 + 4 + 1 + len("cpu") + 4 + 4)
    with pytest.raises(v.VMStateError):
        v.vmstate_load_state(f, arm.vmstate_arm_cpu("10.0"), mine, 22)


def test_power_state() -> None:
    cpu = _reloaded("7.2", "aarch64-virt-running").device("cpu")
    assert cpu.power_state == arm.PSCI_ON
    cpu.power_state = arm.PSCI_ON_PENDING
    with pytest.raises(v.VMStateError):
        v.vmstate_save_state(v.QEMUFile(), arm.vmstate_arm_cpu("7.2"), cpu)
