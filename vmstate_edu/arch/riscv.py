"""RISC-V CPU state: our reading of ``target/riscv/machine.c`` in QEMU 7.2
and 10.0 (``vmstate_riscv_cpu``, idstr ``"cpu"``, and its subsections).

One module serves riscv64 and riscv32: QEMU builds ``machine.c`` twice, once
with a 64-bit ``target_ulong`` (``qemu-system-riscv64``) and once with a
32-bit one (``qemu-system-riscv32``). Here every ``VMSTATE_UINTTL*`` takes the
width ``tl`` (64 or 32) as its last argument, and :func:`descriptions` reads
it off the stream's JSON (the size of ``env.gpr``).

The description builders :func:`build_7_2` and :func:`build_10_0` follow
their ``machine.c`` from top to bottom: the same descriptions in the same
order, the same field names (the C expression QEMU stringifies), the same
subsection names and versions, and ``needed()`` predicates expressed over
the Python model as QEMU's read the CPU's state, its ``cfg`` or its class.

Where the predicate reads something the stream carries (7.2's
``env.features`` bits for PMP and debug, ``env.misa_ext`` for H and V,
``env.priv_ver`` for envcfg) a loaded model already answers like the CPU
that saved it. Where it reads configuration the stream does not carry
(10.0's ``cfg.pmp``, ``cfg.debug``, ``cfg.ext_zve32x``, ``cfg.ext_sstc``…)
our subsection's ``post_load`` records that the stream sent it, so that
saving the loaded model again sends exactly the same subsections. Those
extra lines are marked "(ours)".

The switches are also offered as properties of :class:`RISCVCPU`
(``has_v``, ``has_h``, ``has_pmp``, ``has_debug``, ``has_envcfg``,
``has_sstc``), which set what either release's ``needed()`` reads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dc_field
from functools import cache
from typing import Any

from ..fields import (
    VMSTATE_BOOL,
    VMSTATE_STRUCT_ARRAY,
    VMSTATE_TIMER_PTR,
    VMSTATE_UINT8,
    VMSTATE_UINT8_ARRAY,
    VMSTATE_UINT32,
    VMSTATE_UINT64,
    VMSTATE_UINT64_ARRAY,
    VMSTATE_UINTTL,
    VMSTATE_UINTTL_ARRAY,
    VMSTATE_UNUSED,
    VMStateDescription,
)
from .common import CPUState, vmstate_cpu_common

ARCH = "riscv"
"""Both riscv64 and riscv32: the width comes from the stream (see :func:`target_bits`)."""

# --- constants from target/riscv/cpu.h, cpu_bits.h, debug.h -----------------

MAX_RISCV_PMPS = 16
RV_VLEN_MAX = 1024
RV_MAX_MHPMEVENTS = 32
RV_MAX_MHPMCOUNTERS = 32
RV_MAX_TRIGGERS = 2
SCTRDEPTH_MAX = 4  # 10.0


def RV(letter: str) -> int:
    """A MISA extension bit: ``RV('H')`` is bit 7."""
    return 1 << (ord(letter) - ord("A"))


RVH, RVV, RVJ = RV("H"), RV("V"), RV("J")

# enum riscv_feature (7.2 only: 10.0 moved these into cpu->cfg)
RISCV_FEATURE_MMU = 0
RISCV_FEATURE_PMP = 1
RISCV_FEATURE_EPMP = 2
RISCV_FEATURE_MISA = 3
RISCV_FEATURE_DEBUG = 4

# enum priv_spec
PRIV_VERSION_1_10_0 = 0
PRIV_VERSION_1_11_0 = 1
PRIV_VERSION_1_12_0 = 2
PRIV_VERSION_1_13_0 = 3  # 10.0

# RISCVMXL
MXL_RV32, MXL_RV64, MXL_RV128 = 1, 2, 3

PRV_U, PRV_S, PRV_M = 0, 1, 3
MSTATUS64_UXL = 0x0000000300000000
MSTATUS64_SXL = 0x0000000C00000000

TIMER_NOT_ARMED = 0xFFFFFFFFFFFFFFFF
"""What ``vmstate_info_timer`` writes for a timer that is not pending (-1)."""


def get_field(reg: int, mask: int) -> int:
    """``get_field`` of cpu_bits.h: the bits of ``reg`` under ``mask``, shifted down."""
    return (reg & mask) // (mask & -mask)


# --- the model: the parts of RISCVCPU / CPURISCVState that migrate ----------

@dataclass
class pmp_entry_t:
    """One PMP entry (``pmp.h``): the address and configuration registers."""

    addr_reg: int = 0
    cfg_reg: int = 0


@dataclass
class pmp_table_t:
    """``env.pmp_state`` (``pmp.h``); only the entries migrate."""

    pmp: list[pmp_entry_t] = dc_field(
        default_factory=lambda: [pmp_entry_t() for _ in range(MAX_RISCV_PMPS)])


@dataclass
class PMUCTRState:
    """One programmable counter (``cpu.h``). ``started`` is 7.2 only."""

    mhpmcounter_val: int = 0
    mhpmcounterh_val: int = 0
    mhpmcounter_prev: int = 0
    mhpmcounterh_prev: int = 0
    started: bool = False


def _zeros(n: int) -> Callable[[], list[int]]:
    return lambda: [0] * n


@dataclass
class CPURISCVState:
    """``CPURISCVState`` (``target/riscv/cpu.h``): every field either release
    migrates, under its C name (``target_ulong`` ones hold 32 or 64 bits)."""

    gpr: list[int] = dc_field(default_factory=_zeros(32))
    gprh: list[int] = dc_field(default_factory=_zeros(32))  # rv128 upper halves
    fpr: list[int] = dc_field(default_factory=_zeros(32))
    miprio: list[int] = dc_field(default_factory=_zeros(64))
    siprio: list[int] = dc_field(default_factory=_zeros(64))
    pc: int = 0
    load_res: int = 0
    load_val: int = 0
    frm: int = 0
    badaddr: int = 0
    guest_phys_fault_addr: int = 0
    priv_ver: int = 0
    vext_ver: int = 0
    misa_mxl: int = 0
    misa_ext: int = 0
    misa_mxl_max: int = 0       # 7.2 (10.0 keeps it in the class: an unused slot)
    misa_ext_mask: int = 0
    features: int = 0           # 7.2: RISCV_FEATURE_* bits
    priv: int = 0
    virt: int = 0               # 7.2 (a flags word)
    virt_enabled: bool = False  # 10.0
    resetvec: int = 0
    mhartid: int = 0
    mstatus: int = 0
    mip: int = 0
    miclaim: int = 0
    mie: int = 0
    mvien: int = 0              # 10.0 (AIA)
    mvip: int = 0               # 10.0
    sie: int = 0                # 10.0
    mideleg: int = 0
    satp: int = 0
    stval: int = 0
    medeleg: int = 0
    stvec: int = 0
    sepc: int = 0
    scause: int = 0
    mtvec: int = 0
    mepc: int = 0
    mcause: int = 0
    mtval: int = 0
    miselect: int = 0
    siselect: int = 0
    scounteren: int = 0
    mcounteren: int = 0
    scountinhibit: int = 0      # 10.0
    mcountinhibit: int = 0
    pmu_ctrs: list[PMUCTRState] = dc_field(
        default_factory=lambda: [PMUCTRState() for _ in range(RV_MAX_MHPMCOUNTERS)])
    mhpmevent_val: list[int] = dc_field(default_factory=_zeros(RV_MAX_MHPMEVENTS))
    mhpmeventh_val: list[int] = dc_field(default_factory=_zeros(RV_MAX_MHPMEVENTS))
    sscratch: int = 0
    mscratch: int = 0
    mfromhost: int = 0          # 7.2 (HTIF)
    mtohost: int = 0            # 7.2
    stimecmp: int = 0
    # cpu/pmp
    pmp_state: pmp_table_t = dc_field(default_factory=pmp_table_t)
    # cpu/hyper
    hstatus: int = 0
    hedeleg: int = 0
    hideleg: int = 0
    hcounteren: int = 0
    htval: int = 0
    htinst: int = 0
    hgatp: int = 0
    hgeie: int = 0
    hgeip: int = 0
    hvien: int = 0              # 10.0
    hvip: int = 0               # 10.0
    htimedelta: int = 0
    vstimecmp: int = 0
    hvictl: int = 0
    hviprio: list[int] = dc_field(default_factory=_zeros(64))
    vsstatus: int = 0
    vstvec: int = 0
    vsscratch: int = 0
    vsepc: int = 0
    vscause: int = 0
    vstval: int = 0
    vsatp: int = 0
    vsiselect: int = 0
    vsie: int = 0               # 10.0
    mtval2: int = 0
    mtinst: int = 0
    stvec_hs: int = 0
    sscratch_hs: int = 0
    sepc_hs: int = 0
    scause_hs: int = 0
    stval_hs: int = 0
    satp_hs: int = 0
    mstatus_hs: int = 0
    # cpu/vector
    vreg: list[int] = dc_field(default_factory=_zeros(32 * RV_VLEN_MAX // 64))
    vxrm: int = 0
    vxsat: int = 0
    vl: int = 0
    vstart: int = 0
    vtype: int = 0
    vill: bool = False
    # cpu/pointer_masking (7.2)
    mmte: int = 0
    mpmmask: int = 0
    mpmbase: int = 0
    spmmask: int = 0
    spmbase: int = 0
    upmmask: int = 0
    upmbase: int = 0
    # cpu/rv128
    mscratchh: int = 0
    sscratchh: int = 0
    # cpu/kvmtimer
    kvm_timer_time: int = 0
    kvm_timer_compare: int = 0
    kvm_timer_state: int = 0
    # cpu/envcfg
    menvcfg: int = 0
    senvcfg: int = 0
    henvcfg: int = 0
    # cpu/debug
    trigger_cur: int = 0
    tdata1: list[int] = dc_field(default_factory=_zeros(RV_MAX_TRIGGERS))
    tdata2: list[int] = dc_field(default_factory=_zeros(RV_MAX_TRIGGERS))
    tdata3: list[int] = dc_field(default_factory=_zeros(RV_MAX_TRIGGERS))
    # 10.0: cpu/smtateen, cpu/jvt, cpu/elp, cpu/ssp, cpu/ctr, cpu/timer, cpu/mseccfg
    mstateen: list[int] = dc_field(default_factory=_zeros(4))
    hstateen: list[int] = dc_field(default_factory=_zeros(4))
    sstateen: list[int] = dc_field(default_factory=_zeros(4))
    jvt: int = 0
    elp: bool = False
    ssp: int = 0
    mctrctl: int = 0
    sctrdepth: int = 0
    sctrstatus: int = 0
    vsctrctl: int = 0
    ctr_src: list[int] = dc_field(default_factory=_zeros(16 << SCTRDEPTH_MAX))
    ctr_dst: list[int] = dc_field(default_factory=_zeros(16 << SCTRDEPTH_MAX))
    ctr_data: list[int] = dc_field(default_factory=_zeros(16 << SCTRDEPTH_MAX))
    stimer: int | None = None   # a QEMUTimer*: None is NULL, else its expiry time
    vstimer: int | None = None
    mseccfg: int = 0
    # not migrated: recomputed by riscv_cpu_post_load
    xl: int = 0
    kvm_timer_dirty: bool = False


@dataclass
class RISCVCPUConfig:
    """The part of ``cpu->cfg`` (``cpu_cfg.h``) that 10.0's ``needed()``
    predicates read. Not in the stream: loading sets what the stream showed."""

    pmp: bool = False
    debug: bool = False
    ext_zve32x: bool = False
    ext_smstateen: bool = False
    ext_zcmt: bool = False
    ext_zicfilp: bool = False
    ext_zicfiss: bool = False
    ext_smctr: bool = False
    ext_ssctr: bool = False
    ext_sstc: bool = False
    ext_smepmp: bool = False
    ext_zkr: bool = False
    ext_smmpm: bool = False
    pmu_num: int = 0   # 7.2
    pmu_mask: int = 0  # 10.0


@dataclass
class RISCVCPU:
    """``RISCVCPU``: the opaque of the ``cpu`` section.

    ``tl`` is the build's ``target_ulong`` width (64 or 32);
    ``mcc_misa_mxl_max`` stands for 10.0's ``RISCV_CPU_GET_CLASS(cpu)->misa_mxl_max``;
    ``kvm_enabled`` is always False here (TCG captures); ``qemu_version`` says
    which release's predicates the switch properties answer for."""

    env: CPURISCVState = dc_field(default_factory=CPURISCVState)
    cfg: RISCVCPUConfig = dc_field(default_factory=RISCVCPUConfig)
    tl: int = 64
    mcc_misa_mxl_max: int = MXL_RV64
    kvm_enabled: bool = False
    qemu_version: str = "10.0"

    # -- feature switches: what the needed() predicates consult ----------------
    @property
    def has_h(self) -> bool:
        """The hypervisor extension (``cpu/hyper``): MISA bit H in both releases."""
        return riscv_has_ext(self.env, RVH)

    @has_h.setter
    def has_h(self, on: bool) -> None:
        _set_misa(self.env, RVH, on)

    @property
    def has_v(self) -> bool:
        """The vector extension (``cpu/vector``): 7.2 reads MISA bit V, 10.0
        (TCG) ``cfg.ext_zve32x``; setting it sets both."""
        return vector_needed_7_2(self) if self.qemu_version == "7.2" else \
            vector_needed_10_0(self)

    @has_v.setter
    def has_v(self, on: bool) -> None:
        _set_misa(self.env, RVV, on)
        self.cfg.ext_zve32x = bool(on)

    @property
    def has_pmp(self) -> bool:
        """``cpu/pmp``: 7.2 reads ``env.features`` bit PMP, 10.0 ``cfg.pmp``."""
        return pmp_needed_7_2(self) if self.qemu_version == "7.2" else pmp_needed_10_0(self)

    @has_pmp.setter
    def has_pmp(self, on: bool) -> None:
        _set_feature(self.env, RISCV_FEATURE_PMP, on)
        self.cfg.pmp = bool(on)

    @property
    def has_debug(self) -> bool:
        """``cpu/debug``: 7.2 reads ``env.features`` bit DEBUG, 10.0 ``cfg.debug``."""
        return debug_needed_7_2(self) if self.qemu_version == "7.2" else \
            debug_needed_10_0(self)

    @has_debug.setter
    def has_debug(self, on: bool) -> None:
        _set_feature(self.env, RISCV_FEATURE_DEBUG, on)
        self.cfg.debug = bool(on)

    @property
    def has_envcfg(self) -> bool:
        """``cpu/envcfg``: privileged spec 1.12 or later (``env.priv_ver``)."""
        return envcfg_needed(self)

    @has_envcfg.setter
    def has_envcfg(self, on: bool) -> None:
        if on and self.env.priv_ver < PRIV_VERSION_1_12_0:
            self.env.priv_ver = PRIV_VERSION_1_12_0
        elif not on and self.env.priv_ver >= PRIV_VERSION_1_12_0:
            self.env.priv_ver = PRIV_VERSION_1_11_0

    @property
    def has_sstc(self) -> bool:
        """10.0's ``cpu/timer``: Sstc with its timers created."""
        return sstc_timer_needed(self)

    @has_sstc.setter
    def has_sstc(self, on: bool) -> None:
        self.cfg.ext_sstc = bool(on)
        if on:
            if self.env.stimer is None:
                self.env.stimer = TIMER_NOT_ARMED
            if self.env.vstimer is None:
                self.env.vstimer = TIMER_NOT_ARMED


def riscv_has_ext(env: CPURISCVState, ext: int) -> bool:
    """``riscv_has_ext`` (cpu.h)."""
    return (env.misa_ext & ext) != 0


def riscv_feature(env: CPURISCVState, feature: int) -> bool:
    """``riscv_feature`` (7.2's cpu.h)."""
    return bool(env.features & (1 << feature))


def _set_misa(env: CPURISCVState, ext: int, on: bool) -> None:
    env.misa_ext = env.misa_ext | ext if on else env.misa_ext & ~ext
    env.misa_ext_mask = env.misa_ext_mask | ext if on else env.misa_ext_mask & ~ext


def _set_feature(env: CPURISCVState, feature: int, on: bool) -> None:
    bit = 1 << feature
    env.features = env.features | bit if on else env.features & ~bit


def cpu_recompute_xl(env: CPURISCVState, tl: int) -> int:
    """``cpu_recompute_xl`` (cpu.h): the effective XLEN code of the current mode."""
    if tl == 32:
        return MXL_RV32
    xl = env.misa_mxl
    if xl != MXL_RV32:
        if env.priv == PRV_M:
            pass
        elif env.priv == PRV_U:
            xl = get_field(env.mstatus, MSTATUS64_UXL)
        else:
            xl = get_field(env.mstatus, MSTATUS64_SXL)
    return xl


# --- needed() predicates and hooks, in machine.c's order -----------------------

def pmp_needed_7_2(cpu: RISCVCPU) -> bool:
    return riscv_feature(cpu.env, RISCV_FEATURE_PMP)


def pmp_needed_10_0(cpu: RISCVCPU) -> bool:
    return cpu.cfg.pmp


def pmp_post_load(cpu: RISCVCPU, version_id: int) -> int:
    # QEMU recomputes each rule's address range (pmp_update_rule_addr) and the
    # rule count: TCG lookup state, nothing that goes back on the wire.
    cpu.cfg.pmp = True  # (ours) the stream sent cpu/pmp
    return 0


def hyper_needed(cpu: RISCVCPU) -> bool:
    return riscv_has_ext(cpu.env, RVH)


def vector_needed_7_2(cpu: RISCVCPU) -> bool:
    return riscv_has_ext(cpu.env, RVV)


def vector_needed_10_0(cpu: RISCVCPU) -> bool:
    return riscv_has_ext(cpu.env, RVV) if cpu.kvm_enabled else cpu.cfg.ext_zve32x


def vector_post_load(cpu: RISCVCPU, version_id: int) -> int:
    cpu.cfg.ext_zve32x = True  # (ours) the stream sent cpu/vector
    return 0


def pointermasking_needed_7_2(cpu: RISCVCPU) -> bool:
    return riscv_has_ext(cpu.env, RVJ)


def pointermasking_needed_10_0(cpu: RISCVCPU) -> bool:
    return False  # 10.0 keeps the (now empty) description for old streams only


def rv128_needed_7_2(cpu: RISCVCPU) -> bool:
    return cpu.env.misa_mxl_max == MXL_RV128


def rv128_needed_10_0(cpu: RISCVCPU) -> bool:
    return cpu.mcc_misa_mxl_max == MXL_RV128


def kvmtimer_needed(cpu: RISCVCPU) -> bool:
    return cpu.kvm_enabled


def cpu_post_load(cpu: RISCVCPU, version_id: int) -> int:
    """7.2's name; 10.0 calls it ``cpu_kvmtimer_post_load``."""
    cpu.env.kvm_timer_dirty = True
    return 0


cpu_kvmtimer_post_load = cpu_post_load


def debug_needed_7_2(cpu: RISCVCPU) -> bool:
    return riscv_feature(cpu.env, RISCV_FEATURE_DEBUG)


def debug_needed_10_0(cpu: RISCVCPU) -> bool:
    return cpu.cfg.debug


def debug_post_load_10_0(cpu: RISCVCPU, version_id: int) -> int:
    # with icount QEMU recomputes env->itrigger_enabled: not migrated
    cpu.cfg.debug = True  # (ours) the stream sent cpu/debug
    return 0


def riscv_cpu_post_load(cpu: RISCVCPU, version_id: int) -> int:
    """``riscv_cpu_post_load``: recompute the current XLEN (7.2 also refreshes
    the pointer-masking masks, which are not migrated)."""
    cpu.env.xl = cpu_recompute_xl(cpu.env, cpu.tl)
    return 0


def envcfg_needed(cpu: RISCVCPU) -> bool:
    return cpu.env.priv_ver >= PRIV_VERSION_1_12_0


def smstateen_needed(cpu: RISCVCPU) -> bool:
    return cpu.cfg.ext_smstateen


def pmu_needed_7_2(cpu: RISCVCPU) -> bool:
    # the description is only used as an array element, where QEMU never
    # asks needed()
    return cpu.cfg.pmu_num != 0


def pmu_needed_10_0(cpu: RISCVCPU) -> bool:
    return cpu.cfg.pmu_mask > 0


def jvt_needed(cpu: RISCVCPU) -> bool:
    return cpu.cfg.ext_zcmt


def elp_needed(cpu: RISCVCPU) -> bool:
    return cpu.cfg.ext_zicfilp


def ssp_needed(cpu: RISCVCPU) -> bool:
    return cpu.cfg.ext_zicfiss


def ctr_needed(cpu: RISCVCPU) -> bool:
    return cpu.cfg.ext_smctr or cpu.cfg.ext_ssctr


def sstc_timer_needed(cpu: RISCVCPU) -> bool:
    if not cpu.cfg.ext_sstc:
        return False
    return cpu.env.stimer is not None or cpu.env.vstimer is not None


def mseccfg_needed(cpu: RISCVCPU) -> bool:
    c = cpu.cfg
    return c.ext_smepmp or c.ext_zkr or c.ext_smmpm or c.ext_zicfilp


def _records(**switches: bool) -> Callable[[RISCVCPU, int], int]:
    """(ours) A post_load that records, in ``cpu.cfg``, that the stream sent
    a subsection whose ``needed()`` reads configuration."""
    def post_load(cpu: RISCVCPU, version_id: int) -> int:
        for name, value in switches.items():
            setattr(cpu.cfg, name, value)
        return 0
    return post_load


def _sstc_post_load(cpu: RISCVCPU, version_id: int) -> int:
    cpu.cfg.ext_sstc = True  # (ours) the stream sent cpu/timer
    return 0


# --- QEMU 7.2 ------------------------------------------------------------------

def build_7_2(tl: int) -> VMStateDescription:
    """``vmstate_riscv_cpu`` of QEMU 7.2 (version 5, 49 fields), ``tl``-bit build."""
    vmstate_pmp_entry = VMStateDescription(
        "cpu/pmp/entry", version_id=1, minimum_version_id=1,
        fields=[
            VMSTATE_UINTTL("addr_reg", tl),
            VMSTATE_UINT8("cfg_reg"),
        ])

    vmstate_pmp = VMStateDescription(
        "cpu/pmp", version_id=1, minimum_version_id=1,
        needed=pmp_needed_7_2, post_load=pmp_post_load,
        fields=[
            VMSTATE_STRUCT_ARRAY("env.pmp_state.pmp", MAX_RISCV_PMPS, 0, vmstate_pmp_entry),
        ])

    vmstate_hyper = VMStateDescription(
        "cpu/hyper", version_id=2, minimum_version_id=2,
        needed=hyper_needed,
        fields=[
            VMSTATE_UINTTL("env.hstatus", tl),
            VMSTATE_UINTTL("env.hedeleg", tl),
            VMSTATE_UINT64("env.hideleg"),
            VMSTATE_UINTTL("env.hcounteren", tl),
            VMSTATE_UINTTL("env.htval", tl),
            VMSTATE_UINTTL("env.htinst", tl),
            VMSTATE_UINTTL("env.hgatp", tl),
            VMSTATE_UINTTL("env.hgeie", tl),
            VMSTATE_UINTTL("env.hgeip", tl),
            VMSTATE_UINT64("env.htimedelta"),
            VMSTATE_UINT64("env.vstimecmp"),

            VMSTATE_UINTTL("env.hvictl", tl),
            VMSTATE_UINT8_ARRAY("env.hviprio", 64),

            VMSTATE_UINT64("env.vsstatus"),
            VMSTATE_UINTTL("env.vstvec", tl),
            VMSTATE_UINTTL("env.vsscratch", tl),
            VMSTATE_UINTTL("env.vsepc", tl),
            VMSTATE_UINTTL("env.vscause", tl),
            VMSTATE_UINTTL("env.vstval", tl),
            VMSTATE_UINTTL("env.vsatp", tl),
            VMSTATE_UINTTL("env.vsiselect", tl),

            VMSTATE_UINTTL("env.mtval2", tl),
            VMSTATE_UINTTL("env.mtinst", tl),

            VMSTATE_UINTTL("env.stvec_hs", tl),
            VMSTATE_UINTTL("env.sscratch_hs", tl),
            VMSTATE_UINTTL("env.sepc_hs", tl),
            VMSTATE_UINTTL("env.scause_hs", tl),
            VMSTATE_UINTTL("env.stval_hs", tl),
            VMSTATE_UINTTL("env.satp_hs", tl),
            VMSTATE_UINT64("env.mstatus_hs"),
        ])

    vmstate_vector = VMStateDescription(
        "cpu/vector", version_id=2, minimum_version_id=2,
        needed=vector_needed_7_2,
        fields=[
            VMSTATE_UINT64_ARRAY("env.vreg", 32 * RV_VLEN_MAX // 64),
            VMSTATE_UINTTL("env.vxrm", tl),
            VMSTATE_UINTTL("env.vxsat", tl),
            VMSTATE_UINTTL("env.vl", tl),
            VMSTATE_UINTTL("env.vstart", tl),
            VMSTATE_UINTTL("env.vtype", tl),
            VMSTATE_BOOL("env.vill"),
        ])

    vmstate_pointermasking = VMStateDescription(
        "cpu/pointer_masking", version_id=1, minimum_version_id=1,
        needed=pointermasking_needed_7_2,
        fields=[
            VMSTATE_UINTTL("env.mmte", tl),
            VMSTATE_UINTTL("env.mpmmask", tl),
            VMSTATE_UINTTL("env.mpmbase", tl),
            VMSTATE_UINTTL("env.spmmask", tl),
            VMSTATE_UINTTL("env.spmbase", tl),
            VMSTATE_UINTTL("env.upmmask", tl),
            VMSTATE_UINTTL("env.upmbase", tl),
        ])

    vmstate_rv128 = VMStateDescription(
        "cpu/rv128", version_id=1, minimum_version_id=1,
        needed=rv128_needed_7_2,
        fields=[
            VMSTATE_UINTTL_ARRAY("env.gprh", 32, tl),
            VMSTATE_UINT64("env.mscratchh"),
            VMSTATE_UINT64("env.sscratchh"),
        ])

    vmstate_kvmtimer = VMStateDescription(
        "cpu/kvmtimer", version_id=1, minimum_version_id=1,
        needed=kvmtimer_needed, post_load=cpu_post_load,
        fields=[
            VMSTATE_UINT64("env.kvm_timer_time"),
            VMSTATE_UINT64("env.kvm_timer_compare"),
            VMSTATE_UINT64("env.kvm_timer_state"),
        ])

    vmstate_debug = VMStateDescription(
        "cpu/debug", version_id=2, minimum_version_id=2,
        needed=debug_needed_7_2,
        fields=[
            VMSTATE_UINTTL("env.trigger_cur", tl),
            VMSTATE_UINTTL_ARRAY("env.tdata1", RV_MAX_TRIGGERS, tl),
            VMSTATE_UINTTL_ARRAY("env.tdata2", RV_MAX_TRIGGERS, tl),
            VMSTATE_UINTTL_ARRAY("env.tdata3", RV_MAX_TRIGGERS, tl),
        ])

    vmstate_envcfg = VMStateDescription(
        "cpu/envcfg", version_id=1, minimum_version_id=1,
        needed=envcfg_needed,
        fields=[
            VMSTATE_UINT64("env.menvcfg"),
            VMSTATE_UINTTL("env.senvcfg", tl),
            VMSTATE_UINT64("env.henvcfg"),
        ])

    vmstate_pmu_ctr_state = VMStateDescription(
        "cpu/pmu", version_id=1, minimum_version_id=1,
        needed=pmu_needed_7_2,
        fields=[
            VMSTATE_UINTTL("mhpmcounter_val", tl),
            VMSTATE_UINTTL("mhpmcounterh_val", tl),
            VMSTATE_UINTTL("mhpmcounter_prev", tl),
            VMSTATE_UINTTL("mhpmcounterh_prev", tl),
            VMSTATE_BOOL("started"),
        ])

    return VMStateDescription(
        "cpu", version_id=5, minimum_version_id=5,
        post_load=riscv_cpu_post_load,
        fields=[
            VMSTATE_UINTTL_ARRAY("env.gpr", 32, tl),
            VMSTATE_UINT64_ARRAY("env.fpr", 32),
            VMSTATE_UINT8_ARRAY("env.miprio", 64),
            VMSTATE_UINT8_ARRAY("env.siprio", 64),
            VMSTATE_UINTTL("env.pc", tl),
            VMSTATE_UINTTL("env.load_res", tl),
            VMSTATE_UINTTL("env.load_val", tl),
            VMSTATE_UINTTL("env.frm", tl),
            VMSTATE_UINTTL("env.badaddr", tl),
            VMSTATE_UINTTL("env.guest_phys_fault_addr", tl),
            VMSTATE_UINTTL("env.priv_ver", tl),
            VMSTATE_UINTTL("env.vext_ver", tl),
            VMSTATE_UINT32("env.misa_mxl"),
            VMSTATE_UINT32("env.misa_ext"),
            VMSTATE_UINT32("env.misa_mxl_max"),
            VMSTATE_UINT32("env.misa_ext_mask"),
            VMSTATE_UINT32("env.features"),
            VMSTATE_UINTTL("env.priv", tl),
            VMSTATE_UINTTL("env.virt", tl),
            VMSTATE_UINT64("env.resetvec"),
            VMSTATE_UINTTL("env.mhartid", tl),
            VMSTATE_UINT64("env.mstatus"),
            VMSTATE_UINT64("env.mip"),
            VMSTATE_UINT64("env.miclaim"),
            VMSTATE_UINT64("env.mie"),
            VMSTATE_UINT64("env.mideleg"),
            VMSTATE_UINTTL("env.satp", tl),
            VMSTATE_UINTTL("env.stval", tl),
            VMSTATE_UINTTL("env.medeleg", tl),
            VMSTATE_UINTTL("env.stvec", tl),
            VMSTATE_UINTTL("env.sepc", tl),
            VMSTATE_UINTTL("env.scause", tl),
            VMSTATE_UINTTL("env.mtvec", tl),
            VMSTATE_UINTTL("env.mepc", tl),
            VMSTATE_UINTTL("env.mcause", tl),
            VMSTATE_UINTTL("env.mtval", tl),
            VMSTATE_UINTTL("env.miselect", tl),
            VMSTATE_UINTTL("env.siselect", tl),
            VMSTATE_UINTTL("env.scounteren", tl),
            VMSTATE_UINTTL("env.mcounteren", tl),
            VMSTATE_UINTTL("env.mcountinhibit", tl),
            VMSTATE_STRUCT_ARRAY("env.pmu_ctrs", RV_MAX_MHPMCOUNTERS, 0,
                                 vmstate_pmu_ctr_state),
            VMSTATE_UINTTL_ARRAY("env.mhpmevent_val", RV_MAX_MHPMEVENTS, tl),
            VMSTATE_UINTTL_ARRAY("env.mhpmeventh_val", RV_MAX_MHPMEVENTS, tl),
            VMSTATE_UINTTL("env.sscratch", tl),
            VMSTATE_UINTTL("env.mscratch", tl),
            VMSTATE_UINT64("env.mfromhost"),
            VMSTATE_UINT64("env.mtohost"),
            VMSTATE_UINT64("env.stimecmp"),
        ],
        subsections=[
            vmstate_pmp,
            vmstate_hyper,
            vmstate_vector,
            vmstate_pointermasking,
            vmstate_rv128,
            vmstate_kvmtimer,
            vmstate_envcfg,
            vmstate_debug,
        ])


# --- QEMU 10.0 -----------------------------------------------------------------

CONFIG_KVM = False
"""Debian builds qemu-system-riscv* on x86: no KVM for RISC-V, so 10.0's
``#ifdef CONFIG_KVM`` leaves ``cpu/kvmtimer`` out of the subsection list."""


def build_10_0(tl: int) -> VMStateDescription:
    """``vmstate_riscv_cpu`` of QEMU 10.0 (version 10, 50 fields), ``tl``-bit build."""
    vmstate_pmp_entry = VMStateDescription(
        "cpu/pmp/entry", version_id=1, minimum_version_id=1,
        fields=[
            VMSTATE_UINTTL("addr_reg", tl),
            VMSTATE_UINT8("cfg_reg"),
        ])

    vmstate_pmp = VMStateDescription(
        "cpu/pmp", version_id=1, minimum_version_id=1,
        needed=pmp_needed_10_0, post_load=pmp_post_load,
        fields=[
            VMSTATE_STRUCT_ARRAY("env.pmp_state.pmp", MAX_RISCV_PMPS, 0, vmstate_pmp_entry),
        ])

    vmstate_hyper = VMStateDescription(
        "cpu/hyper", version_id=4, minimum_version_id=4,
        needed=hyper_needed,
        fields=[
            VMSTATE_UINTTL("env.hstatus", tl),
            VMSTATE_UINTTL("env.hedeleg", tl),
            VMSTATE_UINT64("env.hideleg"),
            VMSTATE_UINT32("env.hcounteren"),
            VMSTATE_UINTTL("env.htval", tl),
            VMSTATE_UINTTL("env.htinst", tl),
            VMSTATE_UINTTL("env.hgatp", tl),
            VMSTATE_UINTTL("env.hgeie", tl),
            VMSTATE_UINTTL("env.hgeip", tl),
            VMSTATE_UINT64("env.hvien"),
            VMSTATE_UINT64("env.hvip"),
            VMSTATE_UINT64("env.htimedelta"),
            VMSTATE_UINT64("env.vstimecmp"),

            VMSTATE_UINTTL("env.hvictl", tl),
            VMSTATE_UINT8_ARRAY("env.hviprio", 64),

            VMSTATE_UINT64("env.vsstatus"),
            VMSTATE_UINTTL("env.vstvec", tl),
            VMSTATE_UINTTL("env.vsscratch", tl),
            VMSTATE_UINTTL("env.vsepc", tl),
            VMSTATE_UINTTL("env.vscause", tl),
            VMSTATE_UINTTL("env.vstval", tl),
            VMSTATE_UINTTL("env.vsatp", tl),
            VMSTATE_UINTTL("env.vsiselect", tl),
            VMSTATE_UINT64("env.vsie"),

            VMSTATE_UINTTL("env.mtval2", tl),
            VMSTATE_UINTTL("env.mtinst", tl),

            VMSTATE_UINTTL("env.stvec_hs", tl),
            VMSTATE_UINTTL("env.sscratch_hs", tl),
            VMSTATE_UINTTL("env.sepc_hs", tl),
            VMSTATE_UINTTL("env.scause_hs", tl),
            VMSTATE_UINTTL("env.stval_hs", tl),
            VMSTATE_UINTTL("env.satp_hs", tl),
            VMSTATE_UINT64("env.mstatus_hs"),
        ])

    vmstate_vector = VMStateDescription(
        "cpu/vector", version_id=2, minimum_version_id=2,
        needed=vector_needed_10_0, post_load=vector_post_load,
        fields=[
            VMSTATE_UINT64_ARRAY("env.vreg", 32 * RV_VLEN_MAX // 64),
            VMSTATE_UINTTL("env.vxrm", tl),
            VMSTATE_UINTTL("env.vxsat", tl),
            VMSTATE_UINTTL("env.vl", tl),
            VMSTATE_UINTTL("env.vstart", tl),
            VMSTATE_UINTTL("env.vtype", tl),
            VMSTATE_BOOL("env.vill"),
        ])

    vmstate_pointermasking = VMStateDescription(
        "cpu/pointer_masking", version_id=2, minimum_version_id=2,
        needed=pointermasking_needed_10_0,
        fields=[])

    vmstate_rv128 = VMStateDescription(
        "cpu/rv128", version_id=1, minimum_version_id=1,
        needed=rv128_needed_10_0,
        fields=[
            VMSTATE_UINTTL_ARRAY("env.gprh", 32, tl),
            VMSTATE_UINT64("env.mscratchh"),
            VMSTATE_UINT64("env.sscratchh"),
        ])

    vmstate_kvmtimer = VMStateDescription(
        "cpu/kvmtimer", version_id=1, minimum_version_id=1,
        needed=kvmtimer_needed, post_load=cpu_kvmtimer_post_load,
        fields=[
            VMSTATE_UINT64("env.kvm_timer_time"),
            VMSTATE_UINT64("env.kvm_timer_compare"),
            VMSTATE_UINT64("env.kvm_timer_state"),
        ]) if CONFIG_KVM else None

    vmstate_debug = VMStateDescription(
        "cpu/debug", version_id=2, minimum_version_id=2,
        needed=debug_needed_10_0, post_load=debug_post_load_10_0,
        fields=[
            VMSTATE_UINTTL("env.trigger_cur", tl),
            VMSTATE_UINTTL_ARRAY("env.tdata1", RV_MAX_TRIGGERS, tl),
            VMSTATE_UINTTL_ARRAY("env.tdata2", RV_MAX_TRIGGERS, tl),
            VMSTATE_UINTTL_ARRAY("env.tdata3", RV_MAX_TRIGGERS, tl),
        ])

    vmstate_smstateen = VMStateDescription(
        "cpu/smtateen",  # sic: QEMU's spelling, and so the wire's
        version_id=1, minimum_version_id=1,
        needed=smstateen_needed, post_load=_records(ext_smstateen=True),
        fields=[
            VMSTATE_UINT64_ARRAY("env.mstateen", 4),
            VMSTATE_UINT64_ARRAY("env.hstateen", 4),
            VMSTATE_UINT64_ARRAY("env.sstateen", 4),
        ])

    vmstate_envcfg = VMStateDescription(
        "cpu/envcfg", version_id=1, minimum_version_id=1,
        needed=envcfg_needed,
        fields=[
            VMSTATE_UINT64("env.menvcfg"),
            VMSTATE_UINTTL("env.senvcfg", tl),
            VMSTATE_UINT64("env.henvcfg"),
        ])

    vmstate_ctr = VMStateDescription(
        "cpu/ctr", version_id=1, minimum_version_id=1,
        needed=ctr_needed, post_load=_records(ext_smctr=True),
        fields=[
            VMSTATE_UINT64("env.mctrctl"),
            VMSTATE_UINT32("env.sctrdepth"),
            VMSTATE_UINT32("env.sctrstatus"),
            VMSTATE_UINT64("env.vsctrctl"),
            VMSTATE_UINT64_ARRAY("env.ctr_src", 16 << SCTRDEPTH_MAX),
            VMSTATE_UINT64_ARRAY("env.ctr_dst", 16 << SCTRDEPTH_MAX),
            VMSTATE_UINT64_ARRAY("env.ctr_data", 16 << SCTRDEPTH_MAX),
        ])

    vmstate_pmu_ctr_state = VMStateDescription(
        "cpu/pmu", version_id=2, minimum_version_id=2,
        needed=pmu_needed_10_0,
        fields=[
            VMSTATE_UINTTL("mhpmcounter_val", tl),
            VMSTATE_UINTTL("mhpmcounterh_val", tl),
            VMSTATE_UINTTL("mhpmcounter_prev", tl),
            VMSTATE_UINTTL("mhpmcounterh_prev", tl),
        ])

    vmstate_jvt = VMStateDescription(
        "cpu/jvt", version_id=1, minimum_version_id=1,
        needed=jvt_needed, post_load=_records(ext_zcmt=True),
        fields=[
            VMSTATE_UINTTL("env.jvt", tl),
        ])

    vmstate_elp = VMStateDescription(
        "cpu/elp", version_id=1, minimum_version_id=1,
        needed=elp_needed, post_load=_records(ext_zicfilp=True),
        fields=[
            VMSTATE_BOOL("env.elp"),
        ])

    vmstate_ssp = VMStateDescription(
        "cpu/ssp", version_id=1, minimum_version_id=1,
        needed=ssp_needed, post_load=_records(ext_zicfiss=True),
        fields=[
            VMSTATE_UINTTL("env.ssp", tl),
        ])

    vmstate_sstc = VMStateDescription(
        "cpu/timer", version_id=1, minimum_version_id=1,
        needed=sstc_timer_needed, post_load=_sstc_post_load,
        fields=[
            VMSTATE_TIMER_PTR("env.stimer"),
            VMSTATE_TIMER_PTR("env.vstimer"),
        ])

    vmstate_mseccfg = VMStateDescription(
        "cpu/mseccfg", version_id=1, minimum_version_id=1,
        needed=mseccfg_needed, post_load=_records(ext_smepmp=True),
        fields=[
            VMSTATE_UINTTL("env.mseccfg", tl),
        ])

    return VMStateDescription(
        "cpu", version_id=10, minimum_version_id=10,
        post_load=riscv_cpu_post_load,
        fields=[
            VMSTATE_UINTTL_ARRAY("env.gpr", 32, tl),
            VMSTATE_UINT64_ARRAY("env.fpr", 32),
            VMSTATE_UINT8_ARRAY("env.miprio", 64),
            VMSTATE_UINT8_ARRAY("env.siprio", 64),
            VMSTATE_UINTTL("env.pc", tl),
            VMSTATE_UINTTL("env.load_res", tl),
            VMSTATE_UINTTL("env.load_val", tl),
            VMSTATE_UINTTL("env.frm", tl),
            VMSTATE_UINTTL("env.badaddr", tl),
            VMSTATE_UINTTL("env.guest_phys_fault_addr", tl),
            VMSTATE_UINTTL("env.priv_ver", tl),
            VMSTATE_UINTTL("env.vext_ver", tl),
            VMSTATE_UINT32("env.misa_mxl"),
            VMSTATE_UINT32("env.misa_ext"),
            VMSTATE_UNUSED(4),  # was env.misa_mxl_max, now in the CPU class
            VMSTATE_UINT32("env.misa_ext_mask"),
            VMSTATE_UINTTL("env.priv", tl),
            VMSTATE_BOOL("env.virt_enabled"),
            VMSTATE_UINT64("env.resetvec"),
            VMSTATE_UINTTL("env.mhartid", tl),
            VMSTATE_UINT64("env.mstatus"),
            VMSTATE_UINT64("env.mip"),
            VMSTATE_UINT64("env.miclaim"),
            VMSTATE_UINT64("env.mie"),
            VMSTATE_UINT64("env.mvien"),
            VMSTATE_UINT64("env.mvip"),
            VMSTATE_UINT64("env.sie"),
            VMSTATE_UINT64("env.mideleg"),
            VMSTATE_UINTTL("env.satp", tl),
            VMSTATE_UINTTL("env.stval", tl),
            VMSTATE_UINTTL("env.medeleg", tl),
            VMSTATE_UINTTL("env.stvec", tl),
            VMSTATE_UINTTL("env.sepc", tl),
            VMSTATE_UINTTL("env.scause", tl),
            VMSTATE_UINTTL("env.mtvec", tl),
            VMSTATE_UINTTL("env.mepc", tl),
            VMSTATE_UINTTL("env.mcause", tl),
            VMSTATE_UINTTL("env.mtval", tl),
            VMSTATE_UINTTL("env.miselect", tl),
            VMSTATE_UINTTL("env.siselect", tl),
            VMSTATE_UINT32("env.scounteren"),
            VMSTATE_UINT32("env.mcounteren"),
            VMSTATE_UINT32("env.scountinhibit"),
            VMSTATE_UINT32("env.mcountinhibit"),
            VMSTATE_STRUCT_ARRAY("env.pmu_ctrs", RV_MAX_MHPMCOUNTERS, 0,
                                 vmstate_pmu_ctr_state),
            VMSTATE_UINTTL_ARRAY("env.mhpmevent_val", RV_MAX_MHPMEVENTS, tl),
            VMSTATE_UINTTL_ARRAY("env.mhpmeventh_val", RV_MAX_MHPMEVENTS, tl),
            VMSTATE_UINTTL("env.sscratch", tl),
            VMSTATE_UINTTL("env.mscratch", tl),
            VMSTATE_UINT64("env.stimecmp"),
        ],
        subsections=[
            vmstate_pmp,
            vmstate_hyper,
            vmstate_vector,
            vmstate_pointermasking,
            vmstate_rv128,
            vmstate_kvmtimer,  # None unless CONFIG_KVM: dropped like the #ifdef
            vmstate_envcfg,
            vmstate_debug,
            vmstate_smstateen,
            vmstate_jvt,
            vmstate_elp,
            vmstate_ssp,
            vmstate_ctr,
            vmstate_sstc,
            vmstate_mseccfg,
        ])


@cache
def vmstate_riscv_cpu(qemu_version: str, tl: int = 64) -> VMStateDescription:
    """The ``cpu`` description of a release (``"7.2"`` or ``"10.0"``) and width."""
    if qemu_version == "7.2":
        return build_7_2(tl)
    if qemu_version == "10.0":
        return build_10_0(tl)
    raise ValueError(f"no RISC-V description for QEMU {qemu_version!r}")


# --- the arch hook -------------------------------------------------------------

def target_bits(json_dev: dict | None) -> int:
    """64 or 32: the size of one ``env.gpr`` element in the stream's JSON."""
    for f in (json_dev or {}).get("fields", []):
        if f.get("name") == "env.gpr":
            return 32 if int(f.get("size", 8)) == 4 else 64
    return 64


def matches(json_dev: dict | None, registry: Any = None) -> bool:
    """A RISC-V ``cpu`` section: vmsd ``cpu`` whose fields start ``env.gpr``,
    ``env.fpr``, ``env.miprio`` (no other target has ``miprio``)."""
    if not json_dev or json_dev.get("vmsd_name") != "cpu":
        return False
    names = [f.get("name") for f in json_dev.get("fields", [])]
    return names[:3] == ["env.gpr", "env.fpr", "env.miprio"]


def new_cpu(qemu_version: str, tl: int) -> RISCVCPU:
    """An empty RISCVCPU of that build, every feature switch off."""
    cpu = RISCVCPU(tl=tl, qemu_version=qemu_version,
                   mcc_misa_mxl_max=MXL_RV64 if tl == 64 else MXL_RV32)
    return cpu


def descriptions(qemu_version: str, json_dev: dict | None,
                 registry: Any = None) -> dict[str, tuple[VMStateDescription, Callable[[], Any]]]:
    """``{"cpu": (vmstate_riscv_cpu, RISCVCPU factory), "cpu_common": ...}``."""
    tl = target_bits(json_dev)
    return {
        "cpu": (vmstate_riscv_cpu(qemu_version, tl), lambda: new_cpu(qemu_version, tl)),
        "cpu_common": (vmstate_cpu_common, CPUState),
    }
