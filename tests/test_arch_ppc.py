"""The hand-written PowerPC CPU descriptions (vmstate_edu.arch.ppc) against
the real QEMU 7.2 and 10.0 ppc64 pseries streams and their trace logs."""

from __future__ import annotations

from pathlib import Path

import pytest
from archlib import arch_stream as load
from archlib import raw_stream as raw
from test_arch_x86 import cpu_log_diff, cpu_save_json, strip_entry

import vmstate_edu as v
from vmstate_edu.arch import ppc

DATA = Path(__file__).resolve().parent.parent / "data"
CASES = ["ppc64-pseries-paused", "ppc64-pseries-running", "ppc64-pseries-970-running",
         "ppc64-pseries-power8-running"]
STREAMS = [(ver, case) for ver in ("7.2", "10.0") for case in CASES
           if (DATA / f"qemu-{ver}" / case / "stream.mig.xz").exists()]


def json_cpu(stream: v.stream.Stream) -> dict:
    return next(d for d in stream.vmdesc["devices"] if d["name"] == "cpu")


def vmsd_of(ver: str) -> v.VMStateDescription:
    return ppc.descriptions(ver, None, None)["cpu"][0]


def subs(entry: dict) -> list[str]:
    return [x["vmsd_name"] for x in entry.get("subsections", [])]


# ---------------------------------------------------------------------------
# every committed stream
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("ver,case", STREAMS)
def test_resave_is_byte_identical(ver, case):
    s = load(ver, case)
    assert isinstance(s.device("cpu"), ppc.PowerPCCPU)
    assert s.to_bytes() == raw(ver, case)


@pytest.mark.parametrize("ver,case", STREAMS)
def test_cpu_entry_equals_the_streams(ver, case):
    s = load(ver, case)
    _, entry = cpu_save_json(vmsd_of(ver), s.device("cpu"))
    assert subs(entry) == subs(json_cpu(s))
    assert strip_entry(entry) == strip_entry(json_cpu(s))


@pytest.mark.parametrize("ver,case", STREAMS)
@pytest.mark.parametrize("side", ["load", "save"])
def test_trace_twin_cpu_sections(ver, case, side):
    s = load(ver, case)
    ours, real = cpu_log_diff(s, DATA / f"qemu-{ver}" / case, side)
    assert len(real) > 50
    assert ours == real


@pytest.mark.parametrize("ver,case,model", [
    ("7.2", "ppc64-pseries-running", "POWER9"), ("10.0", "ppc64-pseries-running", "POWER10"),
    ("7.2", "ppc64-pseries-970-running", "970"), ("10.0", "ppc64-pseries-power8-running",
                                                  "POWER8"),
])
def test_pvr_chooses_the_cpu_model(ver, case, model):
    cpu = load(ver, case).device("cpu")
    assert cpu.pcc is not None and cpu.pcc.name == model
    assert cpu.env.mmu_model & ppc.POWERPC_MMU_64


def test_release_differences():
    d72, d10 = ppc.vmstate_ppc_cpu_7_2, ppc.vmstate_ppc_cpu_10_0
    assert [f.name for f in d72.fields][6] == "env.reserve_addr"
    assert [f.name for f in d10.fields][6] == "unused"
    assert len(d72.fields) == 13 and len(d10.fields) == 9
    n72 = [s.name for s in d72.subsections]
    n10 = [s.name for s in d10.subsections]
    assert n72.count("cpu/tlb6xx") == 2           # 7.2's cpu/tlbemb is misnamed
    assert "cpu/tlbemb" in n10 and "cpu/bhrb" in n10 and "cpu/reservation" in n10
    assert next(s for s in d10.subsections if s.name == "cpu/slb").version_id == 2


# ---------------------------------------------------------------------------
# feature switches
# ---------------------------------------------------------------------------

def _switched_entry(ver: str, case: str, **changes: tuple[str, int, bool]) -> dict:
    cpu = load(ver, case).device("cpu")
    saved = {k: getattr(cpu.env, a) for k, (a, _, _) in changes.items()}
    try:
        for _, (attr, bit, on) in changes.items():
            val = getattr(cpu.env, attr)
            setattr(cpu.env, attr, val | bit if on else val & ~bit)
        return cpu_save_json(vmsd_of(ver), cpu)[1]
    finally:
        for k, (attr, _, _) in changes.items():
            setattr(cpu.env, attr, saved[k])


NO_VSX = ("insns_flags2", ppc.PPC2_VSX, False)
VSX = ("insns_flags2", ppc.PPC2_VSX, True)
NO_BHRB = ("flags", ppc.POWERPC_FLAG_BHRB, False)


@pytest.mark.parametrize("ver", ["7.2", "10.0"])
def test_default_cpu_without_vsx_saves_like_970(ver):
    changes = {"vsx": NO_VSX}
    if ver == "10.0":
        changes["bhrb"] = NO_BHRB          # POWER10's branch history: not on 970
    entry = _switched_entry(ver, "ppc64-pseries-running", **changes)
    want = json_cpu(load(ver, "ppc64-pseries-970-running"))
    assert subs(entry) == subs(want) == ["cpu/fpu", "cpu/altivec", "cpu/slb"]
    assert strip_entry(entry) == strip_entry(want)


def test_power10_without_bhrb_saves_like_power8():
    entry = _switched_entry("10.0", "ppc64-pseries-running", bhrb=NO_BHRB)
    want = json_cpu(load("10.0", "ppc64-pseries-power8-running"))
    assert "cpu/bhrb" not in subs(entry)
    assert strip_entry(entry) == strip_entry(want)


@pytest.mark.parametrize("ver", ["7.2", "10.0"])
def test_970_with_vsx_saves_like_power8(ver):
    entry = _switched_entry(ver, "ppc64-pseries-970-running", vsx=VSX)
    want = json_cpu(load(ver, "ppc64-pseries-power8-running"))
    assert subs(entry) == subs(want)
    assert strip_entry(entry) == strip_entry(want)


def test_fresh_cpu_models_send_their_subsections():
    p10 = ppc.PowerPCCPU.of_model(0x00801200)
    _, entry = cpu_save_json(ppc.vmstate_ppc_cpu_10_0, p10)
    assert subs(entry) == ["cpu/fpu", "cpu/altivec", "cpu/vsx", "cpu/slb", "cpu/bhrb"]
    g5 = ppc.PowerPCCPU.of_model(0x00390202)
    _, entry = cpu_save_json(ppc.vmstate_ppc_cpu_7_2, g5)
    assert subs(entry) == ["cpu/fpu", "cpu/altivec", "cpu/slb"]
    g5.env.msr |= 1 << ppc.MSR_TS1          # a transaction in flight adds cpu/tm
    _, entry = cpu_save_json(ppc.vmstate_ppc_cpu_7_2, g5)
    assert subs(entry) == ["cpu/fpu", "cpu/altivec", "cpu/tm", "cpu/slb"]


# ---------------------------------------------------------------------------
# wire values derived in pre_save
# ---------------------------------------------------------------------------

def _cpu_fields_offset(s: v.stream.Stream) -> int:
    sec = next(x for x in s.sections if x.idstr == "cpu")
    return sec.offset + 1 + 4 + 1 + len("cpu") + 4 + 4


@pytest.mark.parametrize("ver", ["7.2", "10.0"])
def test_editing_gpr3_and_nip_changes_exactly_those_bytes(ver):
    s = v.load_stream(DATA / f"qemu-{ver}" / "ppc64-pseries-running" / "stream.mig.xz",
                      descriptions="arch")
    orig = raw(ver, "ppc64-pseries-running")
    cpu = s.device("cpu")
    base = _cpu_fields_offset(s)
    gpr3 = base + 8 + 8 * 3
    nip = base + 8 + 8 * 32 + 4 * 8
    cpu.env.gpr[3] = 0xDEADBEEF
    cpu.env.nip = 0x100
    new = s.to_bytes()
    assert len(new) == len(orig)
    diff = [i for i in range(len(orig)) if orig[i] != new[i]]
    assert diff and all(gpr3 <= i < gpr3 + 8 or nip <= i < nip + 8 for i in diff)
    assert new[gpr3:gpr3 + 8] == (0xDEADBEEF).to_bytes(8, "big")
    assert new[nip:nip + 8] == (0x100).to_bytes(8, "big")


@pytest.mark.parametrize("ver", ["7.2", "10.0"])
def test_lr_ctr_xer_travel_in_spr(ver):
    s = v.load_stream(DATA / f"qemu-{ver}" / "ppc64-pseries-power8-running" / "stream.mig.xz",
                      descriptions="arch")
    cpu = s.device("cpu")
    env = cpu.env
    assert env.lr == env.spr[ppc.SPR_LR] and env.ctr == env.spr[ppc.SPR_CTR]
    assert env.ca == 1 and env.xer & (1 << ppc.XER_CA) == 0   # XER[CA] lives in env.ca
    orig = raw(ver, "ppc64-pseries-power8-running")
    spr = _cpu_fields_offset(s) + 8 + 8 * 32 + 4 * 8 + 8
    env.lr = 0x1234
    env.ca = 0
    new = s.to_bytes()
    diff = [i for i in range(len(orig)) if orig[i] != new[i]]
    lr_at = spr + 8 * ppc.SPR_LR
    xer_at = spr + 8 * ppc.SPR_XER
    assert diff and all(lr_at <= i < lr_at + 8 or xer_at <= i < xer_at + 8 for i in diff)
    assert new[lr_at:lr_at + 8] == (0x1234).to_bytes(8, "big")
    assert int.from_bytes(new[xer_at:xer_at + 8], "big") & (1 << ppc.XER_CA) == 0


def test_decrementer_is_saved_by_10_0_only():
    for vmsd, want in ((ppc.vmstate_ppc_cpu_10_0, 0x1234), (ppc.vmstate_ppc_cpu_7_2, 0x77)):
        cpu = ppc.PowerPCCPU.of_model(0x004E1200)
        cpu.env.decr = 0x1234
        cpu.env.spr[ppc.SPR_DECR] = 0x77
        data, _ = cpu_save_json(vmsd, cpu)
        assert cpu.env.spr[ppc.SPR_DECR] == want
        fresh = ppc.PowerPCCPU()
        v.vmstate_load_state(v.QEMUFile(data), vmsd, fresh, 5)
        assert fresh.env.spr[ppc.SPR_DECR] == want


def test_isa300_keeps_ov32_ca32_power8_drops_them():
    xer = (1 << ppc.XER_OV32) | (1 << ppc.XER_CA32) | (1 << ppc.XER_SO) | 0x7F
    p9 = ppc.PowerPCCPU.of_model(0x004E1200)
    ppc.cpu_write_xer(p9.env, xer)
    assert ppc.cpu_read_xer(p9.env) == xer
    p8 = ppc.PowerPCCPU.of_model(0x004D0200)
    ppc.cpu_write_xer(p8.env, xer)
    assert ppc.cpu_read_xer(p8.env) == (1 << ppc.XER_SO) | 0x7F


def test_vscr_sat_is_split_and_rebuilt():
    cpu = ppc.PowerPCCPU.of_model(0x004E1200)
    ppc.ppc_store_vscr(cpu.env, 0x00010001)          # NJ and SAT
    assert cpu.env.vscr == 0x00010000 and cpu.env.vscr_sat[0]
    data, entry = cpu_save_json(ppc.vmstate_ppc_cpu_7_2, cpu)
    alt = next(x for x in entry["subsections"] if x["vmsd_name"] == "cpu/altivec")
    assert [f["type"] for f in alt["fields"]] == ["avr", "cpu/altivec/vscr"]
    fresh = ppc.PowerPCCPU()
    v.vmstate_load_state(v.QEMUFile(data), ppc.vmstate_ppc_cpu_7_2, fresh, 5)
    assert ppc.ppc_get_vscr(fresh.env) == 0x00010001


def test_fpr_vsr_avr_halves():
    cpu = ppc.PowerPCCPU.of_model(0x004E1200)
    cpu.env.vsr[1].u64[ppc.VsrD(0)] = 0x3FF0000000000000     # f1 = 1.0
    cpu.env.vsr[1].u64[ppc.VsrD(1)] = 0x1111
    cpu.env.vsr[33].u64 = [0xAAAA, 0xBBBB]                  # v1
    data, _ = cpu_save_json(ppc.vmstate_ppc_cpu_7_2, cpu)
    fresh = ppc.PowerPCCPU()
    v.vmstate_load_state(v.QEMUFile(data), ppc.vmstate_ppc_cpu_7_2, fresh, 5)
    assert fresh.env.vsr[1] == cpu.env.vsr[1]
    assert fresh.env.vsr[33] == cpu.env.vsr[33]
    assert (0x3FF0000000000000).to_bytes(8, "big") in data


def test_slb_post_load_refuses_reserved_bits():
    cpu = ppc.PowerPCCPU.of_model(0x004E1200)
    cpu.env.slb[0].esid = 0xC000000008000000
    cpu.env.slb[0].vsid = 0x0000400000000510    # 64K pages (LLP 0x110)
    data, _ = cpu_save_json(ppc.vmstate_ppc_cpu_10_0, cpu)
    fresh = ppc.PowerPCCPU()
    v.vmstate_load_state(v.QEMUFile(data), ppc.vmstate_ppc_cpu_10_0, fresh, 5)
    assert fresh.env.slb[0].page_shift == 16
    cpu.env.slb[0].esid |= 0x1                  # a reserved bit
    bad, _ = cpu_save_json(ppc.vmstate_ppc_cpu_10_0, cpu)
    with pytest.raises(v.VMStateError):
        v.vmstate_load_state(v.QEMUFile(bad), ppc.vmstate_ppc_cpu_10_0, ppc.PowerPCCPU(), 5)


def test_msr_post_load_keeps_supported_bits():
    env = ppc.PowerPCCPU.of_model(0x004E1200).env
    env.msr_mask = 0x8000000000003000
    env.msr = 0x8000000000003000 | 0x4
    ppc.post_load_update_msr(env)
    assert env.msr == 0x8000000000003000


def test_sdr1_sets_the_hash_table_without_vhyp():
    cpu = ppc.PowerPCCPU.of_model(0x00390202)
    cpu.vhyp = False
    cpu.env.spr[ppc.SPR_SDR1] = 0x0000000001000003
    data, _ = cpu_save_json(ppc.vmstate_ppc_cpu_7_2, cpu)
    fresh = ppc.PowerPCCPU()
    fresh.vhyp = False
    v.vmstate_load_state(v.QEMUFile(data), ppc.vmstate_ppc_cpu_7_2, fresh, 5)
    assert fresh.env.htab_base == 0x1000000 and fresh.env.htab_mask == (1 << 14) - 1


def test_pvr_mismatch_is_refused():
    cpu = ppc.PowerPCCPU.of_model(0x004E1200)
    data, _ = cpu_save_json(ppc.vmstate_ppc_cpu_7_2, cpu)
    dest = ppc.PowerPCCPU.of_model(0x00390202)    # a 970 cannot take a POWER9
    with pytest.raises(v.VMStateError):
        v.vmstate_load_state(v.QEMUFile(data), ppc.vmstate_ppc_cpu_7_2, dest, 5)
