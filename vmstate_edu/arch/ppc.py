"""The PowerPC CPU as QEMU migrates it: ``target/ppc/machine.c`` of QEMU 7.2
and 10.0 (``vmstate_ppc_cpu``, idstr ``"cpu"``, version 5), written again in
Python for a 64-bit target (``TARGET_PPC64``, the ``pseries`` machine).

Read it next to ``target/ppc/machine.c``: the custom field types first
(``avr``, ``fpr``, ``vsr``, ``cpu/altivec/vscr``, ``slbe``), then the hooks
``cpu_pre_save``/``cpu_post_load``, then the subsections in the same order,
and ``vmstate_ppc_cpu`` last. What changed between the releases:

* 7.2 saves ``env.reserve_addr`` where 10.0 has a second ``VMSTATE_UNUSED``;
* 7.2 has four "sanity checking" fields (``mig_msr_mask`` ...) and
  ``cpu/slb`` has ``mig_slb_nr``, all behind ``pre_2_8``/``pre_3_0`` tests
  that are false on current machine types (they never reach the wire);
  10.0 dropped them and bumped ``cpu/slb`` to version 2;
* 7.2 names its ``cpu/tlbemb`` description ``"cpu/tlb6xx"`` (a copy-paste
  slip QEMU fixed later); we keep the slip for 7.2;
* 10.0 adds ``cpu/bhrb`` (POWER10's branch history) and ``cpu/reservation``
  (record/replay only), and its ``cpu_pre_save`` stores the decrementer in
  ``spr[SPR_DECR]`` under TCG.

The model (``PowerPCCPU`` with ``env: CPUPPCState``) keeps what the wire
carries plus the working registers the hooks copy to and from ``spr[]``:
``lr``, ``ctr``, ``cfar``, the split XER (``xer`` + ``so``/``ov``/``ca``/
``ov32``/``ca32``), ``spe_fscr``, the BATs, and the decrementer. Editing
``env.lr`` (not ``env.spr[SPR_LR]``) is what changes the saved LR.
Feature switches: ``env.insns_flags`` (``PPC_FLOAT``, ``PPC_ALTIVEC``),
``env.insns_flags2`` (``PPC2_VSX``), ``env.flags`` (``POWERPC_FLAG_BHRB``),
``env.mmu_model``, ``compat_pvr``, ``replay_mode``. A stream's subsections
turn them on as it loads; the PVR names the CPU model.

Vector registers: ``env.vsr[64]`` of ``ppc_vsr_t`` (two 64-bit words
``u64[0]``, ``u64[1]`` in host order). The captures come from x86 (little
endian) hosts, where ``VsrD(0)`` -- the FPR half -- is ``u64[1]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from ..fields import (
    VMS_SINGLE,
    VMSTATE_ARRAY,
    VMSTATE_INT32_EQUAL,
    VMSTATE_INT32_TEST,
    VMSTATE_STRUCT_VARRAY_POINTER_INT32,
    VMSTATE_SUB_ARRAY,
    VMSTATE_UINT32,
    VMSTATE_UINT32_ARRAY,
    VMSTATE_UINT32_TEST,
    VMSTATE_UINT64,
    VMSTATE_UINT64_ARRAY,
    VMSTATE_UINT64_TEST,
    VMSTATE_UINTTL,
    VMSTATE_UINTTL_ARRAY,
    VMSTATE_UINTTL_TEST,
    VMSTATE_UNUSED,
    VMStateDescription,
    VMStateField,
)
from ..info import VMStateInfo
from ..qemufile import QEMUFile
from .common import CPUState, vmstate_cpu_common

ARCH = "ppc64"
EINVAL = 22

# --- constants (target/ppc/cpu.h, mmu-hash64.h) ----------------------------------

SPR_XER, SPR_LR, SPR_CTR, SPR_DECR, SPR_SDR1, SPR_CFAR = 0x001, 0x008, 0x009, 0x016, 0x019, 0x01C
SPR_PVR = 0x11F
SPR_BOOKE_SPEFSCR = 0x200
SPR_IBAT0U, SPR_DBAT0U, SPR_IBAT4U, SPR_DBAT4U = 0x210, 0x218, 0x230, 0x238

XER_SO, XER_OV, XER_CA, XER_OV32, XER_CA32 = 31, 30, 29, 19, 18

MSR_HV, MSR_TS0, MSR_TS1, MSR_TGPR = 60, 34, 33, 17   # PPC_BIT_NR(3), (29), (30), (46)
MSR_EE, MSR_PR, MSR_IR, MSR_DR = 15, 14, 5, 4
MSR_HVB = 1 << MSR_HV
VSCR_SAT = 0

PPC_FLOAT = 0x0000000000010000
PPC_ALTIVEC = 0x0000000001000000
PPC_SEGMENT_64B = 0x0000080000000000
PPC2_VSX = 0x0000000000000002
PPC2_ISA300 = 0x0000000000080000
POWERPC_FLAG_BHRB = 0x01000000

POWERPC_MMU_32B = 0x00000001
POWERPC_MMU_64 = 0x00010000
POWERPC_MMU_64B = POWERPC_MMU_64 | 0x1
POWERPC_MMU_2_06 = POWERPC_MMU_64 | 0x3
POWERPC_MMU_2_07 = POWERPC_MMU_64 | 0x4
POWERPC_MMU_3_00 = POWERPC_MMU_64 | 0x5

TLB_NONE, TLB_6XX, TLB_EMB, TLB_MAS = 0, 1, 2, 3
MAX_SLB_ENTRIES = 64
BHRB_MAX_NUM_ENTRIES = 1 << 5

SLB_ESID_ESID = 0xFFFFFFFFF0000000
SLB_ESID_V = 0x0000000008000000
SLB_VSID_B = 0xC000000000000000
SLB_VSID_B_1T = 0x4000000000000000
SLB_VSID_LLP_MASK = 0x0000000000000130
SDR_64_HTABORG = 0x0FFFFFFFFFFC0000
SDR_64_HTABSIZE = 0x000000000000001F

REPLAY_MODE_NONE = 0


@dataclass(frozen=True)
class PPCCPUClass:
    """What ``PowerPCCPUClass`` (``cpu_init.c``) gives a CPU model and the
    hooks need: its PVR, instruction flags, MMU, hash-MMU options."""

    name: str
    pvr: int
    insns_flags: int
    insns_flags2: int
    flags: int
    mmu_model: int
    slb_size: int
    one_t_segments: bool
    page_sizes: tuple[tuple[int, int], ...]   # (slb_enc, page_shift)


_P7_SPS = ((0x000, 12), (0x110, 16), (0x100, 24), (0x120, 34))
_BASIC_SPS = ((0x000, 12), (0x100, 24))
_BOOK3S = PPC_FLOAT | PPC_ALTIVEC | PPC_SEGMENT_64B

CPU_CLASSES = {   # by PVR version (pvr >> 16): the families pseries runs
    0x0039: PPCCPUClass("970", 0x00390202, _BOOK3S, 0, 0, POWERPC_MMU_64B, 64, False,
                        _BASIC_SPS),
    0x003F: PPCCPUClass("POWER7", 0x003F0201, _BOOK3S, PPC2_VSX, 0, POWERPC_MMU_2_06, 32,
                        True, _P7_SPS),
    0x004B: PPCCPUClass("POWER8E", 0x004B0201, _BOOK3S, PPC2_VSX, 0, POWERPC_MMU_2_07, 32,
                        True, _P7_SPS),
    0x004D: PPCCPUClass("POWER8", 0x004D0200, _BOOK3S, PPC2_VSX, 0, POWERPC_MMU_2_07, 32,
                        True, _P7_SPS),
    0x004E: PPCCPUClass("POWER9", 0x004E1200, _BOOK3S, PPC2_VSX | PPC2_ISA300, 0,
                        POWERPC_MMU_3_00, 32, True, _P7_SPS),
    0x0080: PPCCPUClass("POWER10", 0x00801200, _BOOK3S, PPC2_VSX | PPC2_ISA300,
                        POWERPC_FLAG_BHRB, POWERPC_MMU_3_00, 32, True, _P7_SPS),
}


def ppc_cpu_class(pvr: int) -> PPCCPUClass | None:
    """The CPU model a PVR belongs to (``pvr_match``: same family)."""
    return CPU_CLASSES.get((pvr >> 16) & 0xFFFF)


# --- the model: PowerPCCPU / CPUPPCState (target/ppc/cpu.h) ------------------------

def _zeros(n: int) -> Any:
    return dc_field(default_factory=lambda: [0] * n)


@dataclass
class ppc_vsr_t:  # noqa: N801
    """A 128-bit VSX register as two 64-bit words in host order."""

    u64: list[int] = _zeros(2)


@dataclass
class ppc_slb_t:  # noqa: N801
    """One SLB entry; ``page_shift`` stands for the ``sps`` pointer
    ``ppc_store_slb`` recomputes (not migrated)."""

    esid: int = 0
    vsid: int = 0
    page_shift: int = 0


@dataclass
class ppc6xx_tlb_t:  # noqa: N801
    pte0: int = 0
    pte1: int = 0
    EPN: int = 0


@dataclass
class ppcemb_tlb_t:  # noqa: N801
    RPN: int = 0
    EPN: int = 0
    PID: int = 0
    size: int = 0
    prot: int = 0
    attr: int = 0


@dataclass
class ppcmas_tlb_t:  # noqa: N801
    mas8: int = 0
    mas1: int = 0
    mas2: int = 0
    mas7_3: int = 0


@dataclass
class ppc_tlb_t:  # noqa: N801
    """The union of TLB arrays; only the one ``tlb_type`` names is used."""

    tlb6: list[ppc6xx_tlb_t] = dc_field(default_factory=list)
    tlbe: list[ppcemb_tlb_t] = dc_field(default_factory=list)
    tlbm: list[ppcmas_tlb_t] = dc_field(default_factory=list)


def _vsrs(n: int) -> Any:
    return dc_field(default_factory=lambda: [ppc_vsr_t() for _ in range(n)])


@dataclass
class CPUPPCState:
    """``CPUPPCState``: the wire fields, then the working state the hooks
    copy to and from ``spr[]``, then the feature switches."""

    gpr: list[int] = _zeros(32)
    crf: list[int] = _zeros(8)
    nip: int = 0
    spr: list[int] = _zeros(1024)
    spe_acc: int = 0
    reserve_addr: int = 0xFFFFFFFFFFFFFFFF   # on the wire in 7.2 only
    msr: int = 0
    hflags_compat_nmsr: int = 0
    # subsections
    vsr: list[ppc_vsr_t] = _vsrs(64)
    fpscr: int = 0
    vscr: int = 0                     # VSCR without SAT
    vscr_sat: list[int] = _zeros(2)   # non-zero iff VSCR[SAT]
    tm_gpr: list[int] = _zeros(32)
    # QEMU's VMSTATE_AVR_ARRAY(env.tm_vsr, 64) starts at element 32 of a
    # 64-element array; we give the list room for all 96 elements it names
    tm_vsr: list[ppc_vsr_t] = _vsrs(96)
    tm_cr: int = 0
    tm_lr: int = 0
    tm_ctr: int = 0
    tm_fpscr: int = 0
    tm_amr: int = 0
    tm_ppr: int = 0
    tm_vrsave: int = 0
    tm_vscr: int = 0
    tm_dscr: int = 0
    tm_tar: int = 0
    sr: list[int] = _zeros(32)
    slb: list[ppc_slb_t] = dc_field(default_factory=lambda: [ppc_slb_t()
                                                              for _ in range(MAX_SLB_ENTRIES)])
    bhrb_offset: int = 0
    bhrb: list[int] = _zeros(BHRB_MAX_NUM_ENTRIES)
    nb_tlb: int = 0
    tlb: ppc_tlb_t = dc_field(default_factory=ppc_tlb_t)
    tgpr: list[int] = _zeros(4)
    reserve_length: int = 0
    reserve_val: int = 0
    reserve_val2: int = 0
    # --- working state (not on the wire as such) ---------------------------------
    lr: int = 0
    ctr: int = 0
    xer: int = 0                      # XER without SO, OV, CA, OV32, CA32
    so: int = 0
    ov: int = 0
    ca: int = 0
    ov32: int = 0
    ca32: int = 0
    cfar: int = 0
    spe_fscr: int = 0
    nb_BATs: int = 0
    DBAT: list[list[int]] = dc_field(default_factory=lambda: [[0] * 8, [0] * 8])
    IBAT: list[list[int]] = dc_field(default_factory=lambda: [[0] * 8, [0] * 8])
    decr: int = 0                     # the decrementer, frozen while stopped
    htab_base: int = 0                # from SDR1 (ppc_store_sdr1)
    htab_mask: int = 0
    # --- feature switches ----------------------------------------------------------
    msr_mask: int = 0xFFFFFFFFFFFFFFFF
    insns_flags: int = 0
    insns_flags2: int = 0
    flags: int = 0
    mmu_model: int = POWERPC_MMU_64B
    tlb_type: int = TLB_NONE


@dataclass
class PowerPCCPU:
    """``PowerPCCPU``: the generic ``CPUState``, ``env``, and the object
    state the hooks read. ``pcc`` is the CPU model (class); None until a
    stream's PVR chooses it."""

    parent_obj: CPUState = dc_field(default_factory=CPUState)
    env: CPUPPCState = dc_field(default_factory=CPUPPCState)
    compat_pvr: int = 0
    vhyp: bool = True                # pseries: the machine is the hypervisor
    pcc: PPCCPUClass | None = None
    replay_mode: int = REPLAY_MODE_NONE
    # 7.2's compatibility switches and the values they send (never on pseries 7.2)
    pre_2_8_migration: bool = False
    pre_3_0_migration: bool = False
    mig_msr_mask: int = 0
    mig_insns_flags: int = 0
    mig_insns_flags2: int = 0
    mig_nb_BATs: int = 0
    mig_slb_nr: int = 0
    unused: bytes = bytes(8)

    @classmethod
    def of_model(cls, pvr: int) -> PowerPCCPU:
        """A CPU of the model ``pvr`` names, feature switches set from its class."""
        cpu = cls()
        cpu.apply_class(ppc_cpu_class(pvr))
        cpu.env.spr[SPR_PVR] = pvr
        return cpu

    def apply_class(self, pcc: PPCCPUClass | None, features: bool = True) -> None:
        """``ppc_cpu_realize`` in short: the class's flags become the CPU's.
        With ``features=False`` (a stream being loaded) only what the stream
        cannot show is taken (ISA 3.0, book3s, the MMU); the subsections the
        stream carries set the rest."""
        self.pcc = pcc
        if pcc is None:
            return
        env = self.env
        env.mmu_model = pcc.mmu_model
        if features:
            env.insns_flags = pcc.insns_flags
            env.insns_flags2 = pcc.insns_flags2
            env.flags = pcc.flags
        else:
            env.insns_flags |= pcc.insns_flags & PPC_SEGMENT_64B
            env.insns_flags2 |= pcc.insns_flags2 & PPC2_ISA300


# --- custom field types ------------------------------------------------------------

def get_avr(f: QEMUFile, cur: Any, size: int, field: Any) -> ppc_vsr_t:
    v = cur if cur is not None else ppc_vsr_t()
    v.u64[0] = f.get_be64()
    v.u64[1] = f.get_be64()
    return v


def put_avr(f: QEMUFile, v: ppc_vsr_t, size: int, field: Any, vmdesc: Any = None) -> None:
    f.put_be64(v.u64[0])
    f.put_be64(v.u64[1])


vmstate_info_avr = VMStateInfo("avr", get_avr, put_avr)


def VsrD(i: int) -> int:
    """The host index of big-endian doubleword ``i`` (little-endian host)."""
    return 1 - i


def VMSTATE_AVR_ARRAY_V(name: str, n: int, v: int) -> VMStateField:
    """The AltiVec registers are VSRs 32..63."""
    return VMSTATE_SUB_ARRAY(name, 32, n, v, vmstate_info_avr)


def VMSTATE_AVR_ARRAY(name: str, n: int) -> VMStateField:
    return VMSTATE_AVR_ARRAY_V(name, n, 0)


def get_fpr(f: QEMUFile, cur: Any, size: int, field: Any) -> ppc_vsr_t:
    v = cur if cur is not None else ppc_vsr_t()
    v.u64[VsrD(0)] = f.get_be64()
    return v


def put_fpr(f: QEMUFile, v: ppc_vsr_t, size: int, field: Any, vmdesc: Any = None) -> None:
    f.put_be64(v.u64[VsrD(0)])


vmstate_info_fpr = VMStateInfo("fpr", get_fpr, put_fpr)


def VMSTATE_FPR_ARRAY_V(name: str, n: int, v: int) -> VMStateField:
    """The FPRs are the high doublewords of VSRs 0..31."""
    return VMSTATE_SUB_ARRAY(name, 0, n, v, vmstate_info_fpr)


def VMSTATE_FPR_ARRAY(name: str, n: int) -> VMStateField:
    return VMSTATE_FPR_ARRAY_V(name, n, 0)


def get_vsr(f: QEMUFile, cur: Any, size: int, field: Any) -> ppc_vsr_t:
    v = cur if cur is not None else ppc_vsr_t()
    v.u64[VsrD(1)] = f.get_be64()
    return v


def put_vsr(f: QEMUFile, v: ppc_vsr_t, size: int, field: Any, vmdesc: Any = None) -> None:
    f.put_be64(v.u64[VsrD(1)])


vmstate_info_vsr = VMStateInfo("vsr", get_vsr, put_vsr)


def VMSTATE_VSR_ARRAY_V(name: str, n: int, v: int) -> VMStateField:
    """The low doublewords of VSRs 0..31."""
    return VMSTATE_SUB_ARRAY(name, 0, n, v, vmstate_info_vsr)


def VMSTATE_VSR_ARRAY(name: str, n: int) -> VMStateField:
    return VMSTATE_VSR_ARRAY_V(name, n, 0)


def ppc_store_vscr(env: CPUPPCState, vscr: int) -> None:
    env.vscr = vscr & ~(1 << VSCR_SAT)
    env.vscr_sat = [vscr & (1 << VSCR_SAT), 0]


def ppc_get_vscr(env: CPUPPCState) -> int:
    return env.vscr | (int(bool(env.vscr_sat[0] | env.vscr_sat[1])) << VSCR_SAT)


def get_vscr(f: QEMUFile, cpu: PowerPCCPU, size: int, field: Any) -> PowerPCCPU:
    """The architected VSCR is not in memory: it is rebuilt from ``vscr``
    and ``vscr_sat``. The field's offset is 0: the opaque is the CPU."""
    ppc_store_vscr(cpu.env, f.get_be32())
    return cpu


def put_vscr(f: QEMUFile, cpu: PowerPCCPU, size: int, field: Any, vmdesc: Any = None) -> None:
    f.put_be32(ppc_get_vscr(cpu.env))


vmstate_vscr = VMStateInfo("cpu/altivec/vscr", get_vscr, put_vscr)


def get_slbe(f: QEMUFile, cur: Any, size: int, field: Any) -> ppc_slb_t:
    v = cur if cur is not None else ppc_slb_t()
    v.esid = f.get_be64()
    v.vsid = f.get_be64()
    return v


def put_slbe(f: QEMUFile, v: ppc_slb_t, size: int, field: Any, vmdesc: Any = None) -> None:
    f.put_be64(v.esid)
    f.put_be64(v.vsid)


vmstate_info_slbe = VMStateInfo("slbe", get_slbe, put_slbe)


def VMSTATE_SLB_ARRAY_V(name: str, n: int, v: int) -> VMStateField:
    return VMSTATE_ARRAY(name, n, v, vmstate_info_slbe)


def VMSTATE_SLB_ARRAY(name: str, n: int) -> VMStateField:
    return VMSTATE_SLB_ARRAY_V(name, n, 0)


# --- helpers the hooks call (cpu.c, helper_regs.c, mmu-hash64.c) -------------------

def is_isa300(env: CPUPPCState) -> bool:
    return bool(env.insns_flags2 & PPC2_ISA300)


def cpu_read_xer(env: CPUPPCState) -> int:
    """``cpu_read_xer``: XER with its flag bits put back (OV32/CA32 on ISA 3.0)."""
    xer = env.xer | (env.so << XER_SO) | (env.ov << XER_OV) | (env.ca << XER_CA)
    if is_isa300(env):
        xer |= (env.ov32 << XER_OV32) | (env.ca32 << XER_CA32)
    return xer


def cpu_write_xer(env: CPUPPCState, xer: int) -> None:
    """``cpu_write_xer``: the flag bits go to their own variables."""
    env.so = (xer >> XER_SO) & 1
    env.ov = (xer >> XER_OV) & 1
    env.ca = (xer >> XER_CA) & 1
    env.ov32 = (xer >> XER_OV32) & 1
    env.ca32 = (xer >> XER_CA32) & 1
    env.xer = xer & ~((1 << XER_SO) | (1 << XER_OV) | (1 << XER_CA) | (1 << XER_OV32)
                      | (1 << XER_CA32))


def ppc_store_sdr1(env: CPUPPCState, value: int) -> None:
    """``ppc_store_sdr1`` (64-bit): the hash table's origin and size."""
    htabsize = value & SDR_64_HTABSIZE
    env.spr[SPR_SDR1] = value
    env.htab_base = value & SDR_64_HTABORG
    env.htab_mask = (1 << (htabsize + 18 - 7)) - 1


def ppc_store_msr(env: CPUPPCState, value: int) -> None:
    """``hreg_store_msr(env, value, 0)``, the part that decides the stored
    value: masked by ``msr_mask``; HV cannot change; PR=1 forces EE/IR/DR on
    book3s. (hflags, exception prefix and TGPR swap are not migrated. QEMU
    10.0 also keeps MSR[ME] of the old value in guest state; after
    ``post_load_update_msr`` inverted the old value that would invert ME, so
    our model leaves ME as loaded.)"""
    value &= env.msr_mask
    value = (value & ~MSR_HVB) | (env.msr & MSR_HVB)
    if env.insns_flags & PPC_SEGMENT_64B and (value >> MSR_PR) & 1:
        value |= (1 << MSR_EE) | (1 << MSR_DR) | (1 << MSR_IR)
    env.msr = value


def post_load_update_msr(env: CPUPPCState) -> None:
    """Invert every supported bit except TGPR/HV, then store the loaded
    value, so that every bit counts as changed (and hflags are recomputed)."""
    msr = env.msr
    env.msr ^= env.msr_mask & ~((1 << MSR_TGPR) | MSR_HVB)
    ppc_store_msr(env, msr)


def ppc_store_slb(cpu: PowerPCCPU, slot: int, esid: int, vsid: int) -> int:
    """``ppc_store_slb``: check the entry and find its page size."""
    pcc = cpu.pcc
    slb_size = pcc.slb_size if pcc else MAX_SLB_ENTRIES
    if slot >= slb_size:
        return -1          # bad slot number
    if esid & ~(SLB_ESID_ESID | SLB_ESID_V) & 0xFFFFFFFFFFFFFFFF:
        return -1          # reserved bits set
    if vsid & (SLB_VSID_B & ~SLB_VSID_B_1T):
        return -1          # bad segment size
    if vsid & SLB_VSID_B and pcc is not None and not pcc.one_t_segments:
        return -1          # 1T segment on an MMU without them
    sizes = pcc.page_sizes if pcc else _P7_SPS
    shift = next((s for enc, s in sizes if vsid & SLB_VSID_LLP_MASK == enc), None)
    if shift is None:
        return -1          # "Bad page size encoding in SLB store"
    slb = cpu.env.slb[slot]
    slb.esid, slb.vsid, slb.page_shift = esid, vsid, shift
    return 0


# --- cpu_pre_save / cpu_post_load ---------------------------------------------------

def _bats_to_spr(env: CPUPPCState) -> None:
    for i in range(min(4, env.nb_BATs)):
        env.spr[SPR_DBAT0U + 2 * i] = env.DBAT[0][i]
        env.spr[SPR_DBAT0U + 2 * i + 1] = env.DBAT[1][i]
        env.spr[SPR_IBAT0U + 2 * i] = env.IBAT[0][i]
        env.spr[SPR_IBAT0U + 2 * i + 1] = env.IBAT[1][i]
    for i in range(max(0, min(4, env.nb_BATs - 4))):
        env.spr[SPR_DBAT4U + 2 * i] = env.DBAT[0][i + 4]
        env.spr[SPR_DBAT4U + 2 * i + 1] = env.DBAT[1][i + 4]
        env.spr[SPR_IBAT4U + 2 * i] = env.IBAT[0][i + 4]
        env.spr[SPR_IBAT4U + 2 * i + 1] = env.IBAT[1][i + 4]


def _spr_to_bats(env: CPUPPCState) -> None:
    for i in range(min(4, env.nb_BATs)):
        env.DBAT[0][i] = env.spr[SPR_DBAT0U + 2 * i]
        env.DBAT[1][i] = env.spr[SPR_DBAT0U + 2 * i + 1]
        env.IBAT[0][i] = env.spr[SPR_IBAT0U + 2 * i]
        env.IBAT[1][i] = env.spr[SPR_IBAT0U + 2 * i + 1]
    for i in range(max(0, min(4, env.nb_BATs - 4))):
        env.DBAT[0][i + 4] = env.spr[SPR_DBAT4U + 2 * i]
        env.DBAT[1][i + 4] = env.spr[SPR_DBAT4U + 2 * i + 1]
        env.IBAT[0][i + 4] = env.spr[SPR_IBAT4U + 2 * i]
        env.IBAT[1][i + 4] = env.spr[SPR_IBAT4U + 2 * i + 1]


def _pre_save_common(cpu: PowerPCCPU) -> None:
    """The registers kept outside ``spr[]`` are copied into it."""
    env = cpu.env
    env.spr[SPR_LR] = env.lr
    env.spr[SPR_CTR] = env.ctr
    env.spr[SPR_XER] = cpu_read_xer(env)
    env.spr[SPR_CFAR] = env.cfar          # TARGET_PPC64
    env.spr[SPR_BOOKE_SPEFSCR] = env.spe_fscr
    _bats_to_spr(env)


def cpu_pre_save_7_2(cpu: PowerPCCPU) -> int:
    """7.2's ``cpu_pre_save``: SPR copies, the pre-2.8/pre-3.0 compatibility
    values (only for old machine types), ``hflags_compat_nmsr = 0``."""
    env = cpu.env
    _pre_save_common(cpu)
    if cpu.pre_2_8_migration:
        cpu.mig_msr_mask = env.msr_mask & ~((1 << MSR_TS0) | (1 << MSR_TS1))
        cpu.mig_insns_flags = env.insns_flags   # & insns_compat_mask | PPC_MEM_TLBIE
        cpu.mig_insns_flags2 = env.insns_flags2  # & insns_compat_mask2
        cpu.mig_nb_BATs = env.nb_BATs
    if cpu.pre_3_0_migration and cpu.pcc is not None:
        cpu.mig_slb_nr = cpu.pcc.slb_size
    env.hflags_compat_nmsr = 0
    return 0


def cpu_pre_save_10_0(cpu: PowerPCCPU) -> int:
    """10.0's ``cpu_pre_save``: SPR copies, ``hflags_compat_nmsr = 0``, and
    under TCG the decrementer into ``spr[SPR_DECR]`` (``cpu_ppc_load_decr``)."""
    env = cpu.env
    _pre_save_common(cpu)
    env.hflags_compat_nmsr = 0
    env.spr[SPR_DECR] = env.decr   # tcg_enabled()
    return 0


def pvr_match(cpu: PowerPCCPU, pvr: int) -> bool:
    """Same PVR as the class, or the class's ``pvr_match`` (same family).
    A model not yet bound to a CPU class takes the stream's."""
    if cpu.pcc is None:
        cpu.apply_class(ppc_cpu_class(pvr), features=False)
        return True
    return pvr == cpu.pcc.pvr or (pvr >> 16) == (cpu.pcc.pvr >> 16)


def _post_load(cpu: PowerPCCPU, version_id: int, qemu10: bool) -> int:
    env = cpu.env
    if cpu.compat_pvr:
        pass  # ppc_set_compat(cpu, compat_pvr): the PCR and the compat mode
    elif not pvr_match(cpu, env.spr[SPR_PVR]):
        return -EINVAL
    # (kvmppc_pvr_workaround_required: KVM HV only)
    env.lr = env.spr[SPR_LR]
    env.ctr = env.spr[SPR_CTR]
    cpu_write_xer(env, env.spr[SPR_XER])
    env.cfar = env.spr[SPR_CFAR]
    env.spe_fscr = env.spr[SPR_BOOKE_SPEFSCR]
    _spr_to_bats(env)
    if not cpu.vhyp:
        ppc_store_sdr1(env, env.spr[SPR_SDR1])
    post_load_update_msr(env)
    if qemu10:
        # tcg: ciabr/dawr breakpoints, then restart the decrementer
        env.decr = env.spr[SPR_DECR]   # cpu_ppc_store_decr
    # pmu_mmcr01(a)_updated: PMU hflags, nothing that migrates
    return 0


def cpu_post_load_7_2(cpu: PowerPCCPU, version_id: int) -> int:
    """``cpu_post_load``: check the PVR (or enter the compat mode), then
    copy the SPRs back to the working registers, SDR1 (not on pseries,
    whose hash table belongs to the machine), and the MSR."""
    return _post_load(cpu, version_id, False)


def cpu_post_load_10_0(cpu: PowerPCCPU, version_id: int) -> int:
    """As 7.2, and TCG restarts the decrementer from ``spr[SPR_DECR]``."""
    return _post_load(cpu, version_id, True)


def _turn_on(attr: str, bit: int) -> Any:
    """Ours: a subsection gated by a feature bit was sent, so the bit is on."""
    def post_load(cpu: PowerPCCPU, version_id: int) -> int:
        setattr(cpu.env, attr, getattr(cpu.env, attr) | bit)
        return 0
    return post_load


# --- subsections --------------------------------------------------------------------

def fpu_needed(cpu: PowerPCCPU) -> bool:
    return bool(cpu.env.insns_flags & PPC_FLOAT)


vmstate_fpu = VMStateDescription(
    "cpu/fpu", version_id=1, minimum_version_id=1,
    needed=fpu_needed, post_load=_turn_on("insns_flags", PPC_FLOAT),
    fields=[VMSTATE_FPR_ARRAY("env.vsr", 32), VMSTATE_UINTTL("env.fpscr")],
)


def altivec_needed(cpu: PowerPCCPU) -> bool:
    return bool(cpu.env.insns_flags & PPC_ALTIVEC)


vmstate_altivec = VMStateDescription(
    "cpu/altivec", version_id=1, minimum_version_id=1,
    needed=altivec_needed, post_load=_turn_on("insns_flags", PPC_ALTIVEC),
    fields=[
        VMSTATE_AVR_ARRAY("env.vsr", 32),
        # the architected VSCR, built by its info from the CPU (offset 0)
        VMStateField("vscr", info=vmstate_vscr, flags=VMS_SINGLE, size=4, version_id=0,
                     attr=""),
    ],
)


def vsx_needed(cpu: PowerPCCPU) -> bool:
    return bool(cpu.env.insns_flags2 & PPC2_VSX)


vmstate_vsx = VMStateDescription(
    "cpu/vsx", version_id=1, minimum_version_id=1,
    needed=vsx_needed, post_load=_turn_on("insns_flags2", PPC2_VSX),
    fields=[VMSTATE_VSR_ARRAY("env.vsr", 32)],
)


def tm_needed(cpu: PowerPCCPU) -> bool:
    """Transactional memory state: MSR[TS] non-zero."""
    return bool((cpu.env.msr >> MSR_TS1) & 3)


vmstate_tm = VMStateDescription(
    "cpu/tm", version_id=1, minimum_version_id=1, needed=tm_needed,
    fields=[
        VMSTATE_UINTTL_ARRAY("env.tm_gpr", 32),
        VMSTATE_AVR_ARRAY("env.tm_vsr", 64),
        VMSTATE_UINT64("env.tm_cr"),
        VMSTATE_UINT64("env.tm_lr"),
        VMSTATE_UINT64("env.tm_ctr"),
        VMSTATE_UINT64("env.tm_fpscr"),
        VMSTATE_UINT64("env.tm_amr"),
        VMSTATE_UINT64("env.tm_ppr"),
        VMSTATE_UINT64("env.tm_vrsave"),
        VMSTATE_UINT32("env.tm_vscr"),
        VMSTATE_UINT64("env.tm_dscr"),
        VMSTATE_UINT64("env.tm_tar"),
    ],
)


def sr_needed(cpu: PowerPCCPU) -> bool:
    return not (cpu.env.mmu_model & POWERPC_MMU_64)   # !mmu_is_64bit()


def _sr_post_load(cpu: PowerPCCPU, version_id: int) -> int:
    """Ours: segment registers were sent, so the MMU is a 32-bit one."""
    if cpu.env.mmu_model & POWERPC_MMU_64:
        cpu.env.mmu_model = POWERPC_MMU_32B
    return 0


vmstate_sr = VMStateDescription(
    "cpu/sr", version_id=1, minimum_version_id=1,
    needed=sr_needed, post_load=_sr_post_load,
    fields=[VMSTATE_UINTTL_ARRAY("env.sr", 32)],
)


def cpu_pre_3_0_migration(cpu: PowerPCCPU, version_id: int) -> bool:
    return cpu.pre_3_0_migration


def cpu_pre_2_8_migration(cpu: PowerPCCPU, version_id: int) -> bool:
    return cpu.pre_2_8_migration


def slb_needed(cpu: PowerPCCPU) -> bool:
    """The old segment-table 64-bit CPUs are not supported: 64-bit means SLB."""
    return bool(cpu.env.mmu_model & POWERPC_MMU_64)


def slb_post_load(cpu: PowerPCCPU, version_id: int) -> int:
    """The raw ESID/VSID pairs came in; recompute each entry's page size."""
    if cpu.pcc is None:
        cpu.apply_class(ppc_cpu_class(cpu.env.spr[SPR_PVR]), features=False)
    slb_size = cpu.pcc.slb_size if cpu.pcc else MAX_SLB_ENTRIES
    for i in range(slb_size):
        if ppc_store_slb(cpu, i, cpu.env.slb[i].esid, cpu.env.slb[i].vsid) < 0:
            return -1   # the source had bad values in its SLB
    return 0


vmstate_slb_7_2 = VMStateDescription(
    "cpu/slb", version_id=1, minimum_version_id=1,
    needed=slb_needed, post_load=slb_post_load,
    fields=[
        VMSTATE_INT32_TEST("mig_slb_nr", cpu_pre_3_0_migration),
        VMSTATE_SLB_ARRAY("env.slb", MAX_SLB_ENTRIES),
    ],
)

vmstate_slb_10_0 = VMStateDescription(
    "cpu/slb", version_id=2, minimum_version_id=1,
    needed=slb_needed, post_load=slb_post_load,
    fields=[VMSTATE_SLB_ARRAY("env.slb", MAX_SLB_ENTRIES)],
)

vmstate_tlb6xx_entry = VMStateDescription(
    "cpu/tlb6xx_entry", version_id=1, minimum_version_id=1,
    fields=[VMSTATE_UINTTL("pte0"), VMSTATE_UINTTL("pte1"), VMSTATE_UINTTL("EPN")],
)


def tlb6xx_needed(cpu: PowerPCCPU) -> bool:
    return bool(cpu.env.nb_tlb) and cpu.env.tlb_type == TLB_6XX


def _tlb_post_load(tlb_type: int) -> Any:
    def post_load(cpu: PowerPCCPU, version_id: int) -> int:
        cpu.env.tlb_type = tlb_type   # ours: the stream shows the TLB kind
        return 0
    return post_load


def _tlb_fields(name: str, vmsd: VMStateDescription, factory: Any) -> list[VMStateField]:
    arr = VMSTATE_STRUCT_VARRAY_POINTER_INT32(name, "env.nb_tlb", vmsd)
    arr.factory = factory
    # the _EQUAL check compares with the destination's own nb_tlb; a model
    # built from the stream takes the stream's (cur None: any value is fine)
    return [VMSTATE_INT32_EQUAL("env.nb_tlb", None), arr]


vmstate_tlb6xx = VMStateDescription(
    "cpu/tlb6xx", version_id=1, minimum_version_id=1,
    needed=tlb6xx_needed, post_load=_tlb_post_load(TLB_6XX),
    fields=_tlb_fields("env.tlb.tlb6", vmstate_tlb6xx_entry, ppc6xx_tlb_t)
    + [VMSTATE_UINTTL_ARRAY("env.tgpr", 4)],
)

vmstate_tlbemb_entry = VMStateDescription(
    "cpu/tlbemb_entry", version_id=1, minimum_version_id=1,
    fields=[
        VMSTATE_UINT64("RPN"),
        VMSTATE_UINTTL("EPN"),
        VMSTATE_UINTTL("PID"),
        VMSTATE_UINTTL("size"),
        VMSTATE_UINT32("prot"),
        VMSTATE_UINT32("attr"),
    ],
)


def tlbemb_needed(cpu: PowerPCCPU) -> bool:
    return bool(cpu.env.nb_tlb) and cpu.env.tlb_type == TLB_EMB


def _make_tlbemb(name: str) -> VMStateDescription:
    return VMStateDescription(
        name, version_id=1, minimum_version_id=1,
        needed=tlbemb_needed, post_load=_tlb_post_load(TLB_EMB),
        fields=_tlb_fields("env.tlb.tlbe", vmstate_tlbemb_entry, ppcemb_tlb_t),
    )


vmstate_tlbemb_7_2 = _make_tlbemb("cpu/tlb6xx")   # sic: 7.2's name
vmstate_tlbemb_10_0 = _make_tlbemb("cpu/tlbemb")

vmstate_tlbmas_entry = VMStateDescription(
    "cpu/tlbmas_entry", version_id=1, minimum_version_id=1,
    fields=[
        VMSTATE_UINT32("mas8"),
        VMSTATE_UINT32("mas1"),
        VMSTATE_UINT64("mas2"),
        VMSTATE_UINT64("mas7_3"),
    ],
)


def tlbmas_needed(cpu: PowerPCCPU) -> bool:
    return bool(cpu.env.nb_tlb) and cpu.env.tlb_type == TLB_MAS


vmstate_tlbmas = VMStateDescription(
    "cpu/tlbmas", version_id=1, minimum_version_id=1,
    needed=tlbmas_needed, post_load=_tlb_post_load(TLB_MAS),
    fields=_tlb_fields("env.tlb.tlbm", vmstate_tlbmas_entry, ppcmas_tlb_t),
)


def compat_needed_7_2(cpu: PowerPCCPU) -> bool:
    return not cpu.pre_2_8_migration and cpu.compat_pvr != 0   # !pre_2_10_migration


def compat_needed(cpu: PowerPCCPU) -> bool:
    assert not (cpu.compat_pvr and not cpu.vhyp)
    return cpu.compat_pvr != 0


vmstate_compat_7_2 = VMStateDescription(
    "cpu/compat", version_id=1, minimum_version_id=1, needed=compat_needed_7_2,
    fields=[VMSTATE_UINT32("compat_pvr")],
)

vmstate_compat_10_0 = VMStateDescription(
    "cpu/compat", version_id=1, minimum_version_id=1, needed=compat_needed,
    fields=[VMSTATE_UINT32("compat_pvr")],
)


def reservation_needed(cpu: PowerPCCPU) -> bool:
    return cpu.replay_mode != REPLAY_MODE_NONE


def _reservation_post_load(cpu: PowerPCCPU, version_id: int) -> int:
    cpu.replay_mode = cpu.replay_mode or 1   # ours: only record/replay sends it
    return 0


vmstate_reservation = VMStateDescription(   # 10.0
    "cpu/reservation", version_id=1, minimum_version_id=1,
    needed=reservation_needed, post_load=_reservation_post_load,
    fields=[
        VMSTATE_UINTTL("env.reserve_addr"),
        VMSTATE_UINTTL("env.reserve_length"),
        VMSTATE_UINTTL("env.reserve_val"),
        VMSTATE_UINTTL("env.reserve_val2"),   # TARGET_PPC64
    ],
)


def bhrb_needed(cpu: PowerPCCPU) -> bool:
    return (cpu.env.flags & POWERPC_FLAG_BHRB) != 0


vmstate_bhrb = VMStateDescription(   # 10.0, TARGET_PPC64
    "cpu/bhrb", version_id=1, minimum_version_id=1,
    needed=bhrb_needed, post_load=_turn_on("flags", POWERPC_FLAG_BHRB),
    fields=[
        VMSTATE_UINTTL("env.bhrb_offset"),
        VMSTATE_UINT64_ARRAY("env.bhrb", BHRB_MAX_NUM_ENTRIES),
    ],
)


# --- vmstate_ppc_cpu ----------------------------------------------------------------

vmstate_ppc_cpu_7_2 = VMStateDescription(
    "cpu", version_id=5, minimum_version_id=5,
    pre_save=cpu_pre_save_7_2, post_load=cpu_post_load_7_2,
    fields=[
        VMSTATE_UNUSED(8),                    # was _EQUAL(env.spr[SPR_PVR])
        # user-mode architected state
        VMSTATE_UINTTL_ARRAY("env.gpr", 32),
        # (!TARGET_PPC64: env.gprh)
        VMSTATE_UINT32_ARRAY("env.crf", 8),
        VMSTATE_UINTTL("env.nip"),
        # SPRs
        VMSTATE_UINTTL_ARRAY("env.spr", 1024),
        VMSTATE_UINT64("env.spe_acc"),
        # reservation
        VMSTATE_UINTTL("env.reserve_addr"),
        # supervisor-mode architected state
        VMSTATE_UINTTL("env.msr"),
        # backward-compatible internal state
        VMSTATE_UINTTL("env.hflags_compat_nmsr"),
        # sanity checking (pre-2.8 machine types only)
        VMSTATE_UINTTL_TEST("mig_msr_mask", cpu_pre_2_8_migration),
        VMSTATE_UINT64_TEST("mig_insns_flags", cpu_pre_2_8_migration),
        VMSTATE_UINT64_TEST("mig_insns_flags2", cpu_pre_2_8_migration),
        VMSTATE_UINT32_TEST("mig_nb_BATs", cpu_pre_2_8_migration),
    ],
    subsections=[
        vmstate_fpu,
        vmstate_altivec,
        vmstate_vsx,
        vmstate_sr,
        vmstate_tm,          # TARGET_PPC64
        vmstate_slb_7_2,     # TARGET_PPC64
        vmstate_tlb6xx,
        vmstate_tlbemb_7_2,
        vmstate_tlbmas,
        vmstate_compat_7_2,
    ],
)

vmstate_ppc_cpu_10_0 = VMStateDescription(
    "cpu", version_id=5, minimum_version_id=5,
    pre_save=cpu_pre_save_10_0, post_load=cpu_post_load_10_0,
    fields=[
        VMSTATE_UNUSED(8),                    # was _EQUAL(env.spr[SPR_PVR])
        # user-mode architected state
        VMSTATE_UINTTL_ARRAY("env.gpr", 32),
        VMSTATE_UINT32_ARRAY("env.crf", 8),
        VMSTATE_UINTTL("env.nip"),
        # SPRs
        VMSTATE_UINTTL_ARRAY("env.spr", 1024),
        VMSTATE_UINT64("env.spe_acc"),
        VMSTATE_UNUSED(8),                    # was env.reserve_addr
        # supervisor-mode architected state
        VMSTATE_UINTTL("env.msr"),
        # backward-compatible internal state
        VMSTATE_UINTTL("env.hflags_compat_nmsr"),
    ],
    subsections=[
        vmstate_fpu,
        vmstate_altivec,
        vmstate_vsx,
        vmstate_sr,
        vmstate_tm,          # TARGET_PPC64
        vmstate_slb_10_0,    # TARGET_PPC64
        vmstate_bhrb,        # TARGET_PPC64
        vmstate_tlb6xx,
        vmstate_tlbemb_10_0,
        vmstate_tlbmas,
        vmstate_compat_10_0,
        vmstate_reservation,
    ],
)


# --- the arch hook (vmstate_edu.arch) ------------------------------------------------

def matches(json_dev: dict | None, registry: Any) -> bool:
    """A PowerPC ``cpu`` section: it has ``env.nip`` and ``env.spr``."""
    if not json_dev or json_dev.get("vmsd_name") != "cpu":
        return False
    names = {f.get("name", "") for f in json_dev.get("fields", [])}
    return "env.nip" in names and "env.spr" in names


def descriptions(qemu_version: str, json_dev: dict | None, registry: Any) -> dict:
    """``{"cpu": (vmstate_ppc_cpu, PowerPCCPU), "cpu_common": (vmstate_cpu_common,
    CPUState)}`` for QEMU ``qemu_version``."""
    vmsd = vmstate_ppc_cpu_10_0 if str(qemu_version).startswith("10") else vmstate_ppc_cpu_7_2
    return {"cpu": (vmsd, PowerPCCPU), "cpu_common": (vmstate_cpu_common, CPUState)}
