"""The hand-written x86 CPU descriptions (vmstate_edu.arch.x86) against the
real QEMU 7.2 and 10.0 x86_64 streams and their trace logs."""

from __future__ import annotations

import json
import lzma
import re
from pathlib import Path

import pytest
from archlib import arch_stream as load
from archlib import raw_stream as raw

import vmstate_edu as v
from vmstate_edu.arch import x86
from vmstate_edu.tracing import parse_qemu_log
from vmstate_edu.twin import comparable, section_lines

DATA = Path(__file__).resolve().parent.parent / "data"
CASES = ["x86_64-pc-paused", "x86_64-pc-running", "x86_64-pc-max-running", "x86_64-q35-running"]
STREAMS = [(ver, case) for ver in ("7.2", "10.0") for case in CASES
           if (DATA / f"qemu-{ver}" / case / "stream.mig.xz").exists()]
CPU_IDSTRS = ("cpu_common", "cpu")


def json_cpu(stream: v.stream.Stream, name: str = "cpu") -> dict:
    return next(d for d in stream.vmdesc["devices"] if d["name"] == name)


# ---------------------------------------------------------------------------
# helpers shared with test_arch_ppc
# ---------------------------------------------------------------------------

_LOAD_START = re.compile(r"qemu_loadvm_state_section_startfull \d+\((\S+)\) ")
_SAVE_START = re.compile(r"savevm_section_start (\S+), ")


def cpu_log_diff(stream: v.stream.Stream, folder: Path, side: str,
                 idstrs: tuple[str, ...] = CPU_IDSTRS) -> tuple[list[str], list[str]]:
    """(ours, real): the comparable lines of the cpu sections, every exclusion
    of the JSON-only comparison switched off (json_only=False)."""
    t = stream.trace_load() if side == "load" else stream.trace_save()
    ours = comparable(t.qemu_log().splitlines(), None, side, json_only=False)
    real_text = lzma.decompress((folder / f"{side}.log.xz").read_bytes()).decode("latin-1")
    real = comparable(parse_qemu_log(real_text), None, side, json_only=False)
    return section_lines(ours, idstrs, side), section_lines(real, idstrs, side)


def cpu_save_json(vmsd: v.VMStateDescription, model: object) -> tuple[bytes, dict]:
    """Save one section alone; its bytes and its JSON entry."""
    f = v.QEMUFile()
    w = v.JSONWriter()
    w.start_object(None)
    v.vmstate_save_state(f, vmsd, model, w)
    w.end_object()
    return f.getvalue(), json.loads(w.get())


def strip_entry(d: dict) -> dict:
    """A JSON device entry without the savevm-level keys."""
    return {k: val for k, val in d.items() if k not in ("name", "instance_id")}


# ---------------------------------------------------------------------------
# every committed stream
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("ver,case", STREAMS)
def test_resave_is_byte_identical(ver, case):
    s = load(ver, case)
    assert isinstance(s.device("cpu"), x86.X86CPU)
    assert s.to_bytes() == raw(ver, case)


@pytest.mark.parametrize("ver,case", STREAMS)
def test_subsections_sent_are_the_streams(ver, case):
    s = load(ver, case)
    _, entry = cpu_save_json(x86.descriptions(ver, None, None)["cpu"][0], s.device("cpu"))
    assert strip_entry(entry) == strip_entry(json_cpu(s))
    sent = [x["vmsd_name"] for x in entry.get("subsections", [])]
    assert sent == [x["vmsd_name"] for x in json_cpu(s).get("subsections", [])]


@pytest.mark.parametrize("ver,case", STREAMS)
@pytest.mark.parametrize("side", ["load", "save"])
def test_trace_twin_cpu_sections(ver, case, side):
    s = load(ver, case)
    ours, real = cpu_log_diff(s, DATA / f"qemu-{ver}" / case, side)
    assert len(real) > 100
    assert ours == real


def test_subsection_counts():
    assert len(x86.vmstate_x86_cpu_7_2.subsections) == 43
    assert len(x86.vmstate_x86_cpu_10_0.subsections) == 46
    assert len(x86.vmstate_x86_cpu_7_2.fields) == 66
    names_10 = [d.name for d in x86.vmstate_x86_cpu_10_0.subsections]
    assert {"cpu/xen_vcpu", "cpu/msr_hwcr", "cpu/fred"} <= set(names_10)
    assert names_10.index("cpu/fred") < names_10.index("cpu/intel_amx_xtile")


# ---------------------------------------------------------------------------
# feature switches
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("ver", ["7.2", "10.0"])
def test_max_cpu_switch_gives_the_max_stream(ver):
    base = load(ver, "x86_64-pc-running")
    cpu = base.device("cpu")
    vmsd = x86.descriptions(ver, None, None)["cpu"][0]
    before, _ = cpu_save_json(vmsd, cpu)
    cpu.set_feature(x86.FEAT_1_ECX, x86.CPUID_EXT_MONITOR, True)
    try:
        _, entry = cpu_save_json(vmsd, cpu)
        want = json_cpu(load(ver, "x86_64-pc-max-running"))
        assert [x["vmsd_name"] for x in entry["subsections"]] == \
            [x["vmsd_name"] for x in want["subsections"]]
        assert strip_entry(entry) == strip_entry(want)  # same fields, sizes, subsections
    finally:
        cpu.set_feature(x86.FEAT_1_ECX, x86.CPUID_EXT_MONITOR, False)
    after, _ = cpu_save_json(vmsd, cpu)
    assert after == before


@pytest.mark.parametrize("ver", ["7.2", "10.0"])
def test_loaded_max_stream_remembers_monitor(ver):
    cpu = load(ver, "x86_64-pc-max-running").device("cpu")
    assert cpu.env.features[x86.FEAT_1_ECX] & x86.CPUID_EXT_MONITOR
    assert cpu.env.msr_ia32_misc_enable == x86.MSR_IA32_MISC_ENABLE_DEFAULT | \
        x86.MSR_IA32_MISC_ENABLE_MWAIT
    cpu.set_feature(x86.FEAT_1_ECX, x86.CPUID_EXT_MONITOR, False)
    try:
        _, entry = cpu_save_json(x86.descriptions(ver, None, None)["cpu"][0], cpu)
        want = json_cpu(load(ver, "x86_64-pc-running"))
        assert strip_entry(entry) == strip_entry(want)
    finally:
        cpu.set_feature(x86.FEAT_1_ECX, x86.CPUID_EXT_MONITOR, True)


@pytest.mark.parametrize("switch,sub", [
    ((x86.FEAT_7_0_EDX, x86.CPUID_7_0_EDX_ARCH_LBR), "cpu/arch_lbr"),
    ((x86.FEAT_XSAVE, x86.CPUID_D_1_EAX_XFD), "cpu/msr_xfd"),
    ((x86.FEAT_SVM, x86.CPUID_SVM_TSCSCALE), "cpu/amd_tsc_scale_msr"),
    ((x86.FEAT_7_1_EAX, x86.CPUID_7_1_EAX_FRED), "cpu/fred"),
])
def test_feature_gated_subsections_round_trip(switch, sub):
    """A CPUID bit turns on its subsection; a stream carrying it loads into
    a model with the bit on, and re-saves byte-identically."""
    ver = "10.0"
    vmsd = x86.vmstate_x86_cpu_10_0
    cpu = x86.X86CPU()
    cpu.env.features[switch[0]] |= switch[1]
    data, entry = cpu_save_json(vmsd, cpu)
    assert sub in [x["vmsd_name"] for x in entry["subsections"]]
    fresh = x86.X86CPU()
    v.vmstate_load_state(v.QEMUFile(data), vmsd, fresh, 12)
    assert fresh.env.features[switch[0]] & switch[1]
    again, _ = cpu_save_json(vmsd, fresh)
    assert again == data
    assert ver


def test_subsection_order_on_the_wire():
    """Needed subsections go out in declaration order."""
    cpu = x86.X86CPU()
    cpu.env.pkru = 0x55
    cpu.env.tsc_adjust = 7
    cpu.env.poll_control_msr = 0
    _, entry = cpu_save_json(x86.vmstate_x86_cpu_7_2, cpu)
    assert [x["vmsd_name"] for x in entry["subsections"]] == [
        "cpu/poll_control_msr", "cpu/msr_tsc_adjust", "cpu/pkru"]


# ---------------------------------------------------------------------------
# wire values derived in pre_save
# ---------------------------------------------------------------------------

def _cpu_section_span(s: v.stream.Stream) -> tuple[int, int]:
    sec = next(x for x in s.sections if x.idstr == "cpu")
    return sec.offset, sec.end


@pytest.mark.parametrize("ver", ["7.2", "10.0"])
def test_editing_rax_and_eip_changes_exactly_those_bytes(ver):
    s = v.load_stream(DATA / f"qemu-{ver}" / "x86_64-pc-running" / "stream.mig.xz",
                      descriptions="arch")
    orig = raw(ver, "x86_64-pc-running")
    cpu = s.device("cpu")
    start, _ = _cpu_section_span(s)
    hdr = 1 + 4 + 1 + len("cpu") + 4 + 4          # FULL, id, idstr, instance, version
    rax_off = start + hdr + 8 * x86.R_EAX
    eip_off = start + hdr + 8 * 16
    cpu.env.regs[x86.R_EAX] = 0x1122334455667788
    cpu.env.eip = 0xFFF0
    new = s.to_bytes()
    assert len(new) == len(orig)
    diff = [i for i in range(len(orig)) if orig[i] != new[i]]
    assert diff and all(rax_off <= i < rax_off + 8 or eip_off <= i < eip_off + 8 for i in diff)
    assert new[rax_off:rax_off + 8] == bytes.fromhex("1122334455667788")
    assert new[eip_off:eip_off + 8] == (0xFFF0).to_bytes(8, "big")


def test_eflags_split_and_merge():
    s = load("7.2", "x86_64-pc-running")
    cpu = s.device("cpu")
    env = cpu.env
    # after loading, the arithmetic flags and DF live in cc_src / df
    assert env.eflags & (x86.CC_MASK | x86.DF_MASK) == 0
    wire = x86.cpu_compute_eflags(env)
    orig_cc = env.cc_src
    env.cc_src ^= x86.CC_Z
    try:
        data, _ = cpu_save_json(x86.vmstate_x86_cpu_7_2, cpu)
        assert int.from_bytes(data[8 * 17:8 * 18], "big") == wire ^ x86.CC_Z
        assert env.eflags & x86.CC_MASK == 0          # saving does not merge in place
    finally:
        env.cc_src = orig_cc
    env.df = -1
    try:
        data, _ = cpu_save_json(x86.vmstate_x86_cpu_7_2, cpu)
        assert int.from_bytes(data[8 * 17:8 * 18], "big") & x86.DF_MASK
    finally:
        env.df = 1 if not wire & x86.DF_MASK else -1


def test_setting_the_full_eflags_splits_it():
    """What an editor does: set ``env.eflags`` through the wire field."""
    from vmstate_edu.edit import set_value

    s = v.load_stream(DATA / "qemu-10.0" / "x86_64-pc-running" / "stream.mig.xz",
                      descriptions="arch")
    env = s.device("cpu").env
    set_value(s, "cpu", 0, "env.eflags", 0x2 | x86.CC_C | x86.DF_MASK)
    assert env.cc_src == x86.CC_C and env.df == -1 and env.eflags == 0x2
    assert env.eflags_vmstate == 0x2 | x86.CC_C | x86.DF_MASK
    set_value(s, "cpu", 0, "env.eflags", 0x2)           # clearing works too
    assert env.eflags_vmstate == 0x2 and env.cc_src == 0 and env.df == 1


def test_fpu_tags_and_top_derive_the_wire_words():
    cpu = x86.X86CPU()
    env = cpu.env
    env.fpstt = 5
    env.fpus = 0x4001 | 0x3800          # TOP bits in fpus are replaced by fpstt
    env.fptags = [1, 1, 1, 0, 1, 1, 1, 0]  # registers 3 and 7 valid
    env.fpregs[3].d = x86.floatx80(0x8000000000000000, 0x3FFF)   # 1.0
    data, _ = cpu_save_json(x86.vmstate_x86_cpu_7_2, cpu)
    assert env.fpus_vmstate == 0x4001 | (5 << 11)
    assert env.fptag_vmstate == 0x88
    assert env.fpregs_format_vmstate == 0
    fresh = x86.X86CPU()
    v.vmstate_load_state(v.QEMUFile(data), x86.vmstate_x86_cpu_7_2, fresh, 12)
    assert fresh.env.fpstt == 5 and fresh.env.fpus == 0x4001
    assert fresh.env.fptags == [1, 1, 1, 0, 1, 1, 1, 0]
    assert fresh.env.fpregs[3].d == x86.floatx80(0x8000000000000000, 0x3FFF)


def test_real_mode_dpl_is_cleared_on_save():
    cpu = x86.X86CPU()
    env = cpu.env
    env.cr[0] = 0                                      # real mode
    for r in range(6):
        env.segs[r].flags = 3 << x86.DESC_DPL_SHIFT | 0x93 << 8
    data, _ = cpu_save_json(x86.vmstate_x86_cpu_7_2, cpu)
    assert all(env.segs[r].flags >> x86.DESC_DPL_SHIFT & 3 == 0 for r in range(6))
    fresh = x86.X86CPU()
    v.vmstate_load_state(v.QEMUFile(data), x86.vmstate_x86_cpu_7_2, fresh, 12)
    assert fresh.env.hflags & x86.HF_CPL_MASK == 0


def test_post_load_refuses_old_fpregs_format():
    cpu = x86.X86CPU()
    data, _ = cpu_save_json(x86.vmstate_x86_cpu_7_2, cpu)
    # fpregs_format_vmstate sits after regs, eip, eflags, hflags, fpuc, fpus, fptag
    off = 8 * 18 + 4 + 2 + 2 + 2
    bad = bytearray(data)
    bad[off:off + 2] = b"\x00\x01"
    with pytest.raises(v.VMStateError):
        v.vmstate_load_state(v.QEMUFile(bytes(bad)), x86.vmstate_x86_cpu_7_2, x86.X86CPU(), 12)


def test_version_11_stream_has_no_xsave_fields():
    """``env.xcr0``, ``env.xstate_bv`` and the YMM halves are version 12."""
    cpu = x86.X86CPU()
    f = v.QEMUFile()
    v.vmstate_save_state_v(f, x86.vmstate_x86_cpu_7_2, cpu, None, 11)
    v12 = v.QEMUFile()
    v.vmstate_save_state_v(v12, x86.vmstate_x86_cpu_7_2, cpu, None, 12)
    assert len(v12.getvalue()) - len(f.getvalue()) == 8 + 8 + 16 * 16
