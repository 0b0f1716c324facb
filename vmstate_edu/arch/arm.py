"""Arm CPU state: our reading of ``target/arm/machine.c`` in QEMU 7.2 and
10.0 (``vmstate_arm_cpu``, idstr ``"cpu"``, version 22 in both) for the
``qemu-system-aarch64`` build (``TARGET_AARCH64``: ``cpu/sve`` and
``cpu/sme`` exist).

:func:`build_7_2` and :func:`build_10_0` follow their ``machine.c`` from top
to bottom: the same descriptions in the same order, the same names, the same
hooks. What makes Arm worth reading:

* **Custom info types that read the CPU, not a field.** ``cpsr``,
  ``power_state`` and ``fpscr`` (and 10.0's ``fpcr``/``fpsr``) are fields at
  offset 0: their ``put`` computes the wire value from the model
  (``pstate_read``: N, Z, C, V, DAIF and BTYPE kept apart, as in QEMU) and
  their ``get`` scatters it back (``pstate_write``). Here they are fields
  whose ``attr`` is ``""``: the info receives the whole ARMCPU.
* **The coprocessor registers travel as two parallel arrays**
  (``cpreg_vmstate_indexes``/``cpreg_vmstate_values``, VARRAYs counted by
  ``cpreg_vmstate_array_len``). ``cpu_pre_save`` copies the CPU's own list
  (``cpreg_indexes``/``cpreg_values``) into them; ``cpu_post_load`` matches
  the incoming indexes against the CPU's list. Edit ``cpreg_values`` (or use
  :meth:`ARMCPU.cpreg_set`) and re-save: the wire follows.
* **Names are the stringified C expressions after macro expansion.**
  ``GTIMER_PHYS`` was a ``#define`` in 7.2 (the name is ``gt_timer[0]``) and
  an ``enum`` in 10.0 (``gt_timer[GTIMER_PHYS]``); ``M_REG_NS`` is an enum in
  both. Symbolic indices are resolved for the accessor only (:data:`ENUMS`).
* **10.0's FPSCR compatibility trick**: ``cpu/vfp``'s ``fpscr`` is sent as 0
  and the full FPCR/FPSR go into ``cpu/vfp/fpcr_fpsr`` when they have bits
  the AArch32 FPSCR cannot show.

Feature switches that are not in the stream (the ISA feature bits
``aa64_sve``…, ``env.features``) start off in a fresh model; a subsection's
``post_load`` marked "(ours)" records that the stream sent it, so re-saving
a loaded model sends the same subsections. Properties :attr:`ARMCPU.has_vfp`,
``has_sve``, ``has_wfxt``, ``has_za`` set what the ``needed()`` predicates read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dc_field
from functools import cache
from typing import Any

from ..errors import VMStateError
from ..fields import (
    VMS_SINGLE,
    VMSTATE_INT32,
    VMSTATE_INT32_POSITIVE_LE,
    VMSTATE_STRUCT_ARRAY,
    VMSTATE_TIMER_PTR,
    VMSTATE_UINT8,
    VMSTATE_UINT32,
    VMSTATE_UINT32_ARRAY,
    VMSTATE_UINT32_SUB_ARRAY,
    VMSTATE_UINT64,
    VMSTATE_UINT64_ARRAY,
    VMSTATE_UINT64_SUB_ARRAY,
    VMSTATE_UNUSED,
    VMSTATE_VALIDATE,
    VMSTATE_VARRAY_INT32,
    VMSTATE_VARRAY_UINT32,
    Accessor,
    VMStateDescription,
    VMStateField,
)
from ..info import VMStateInfo, vmstate_info_uint32, vmstate_info_uint64
from ..qemufile import QEMUFile
from .common import CPUState, vmstate_cpu_common

ARCH = "aarch64"

# --- constants (target/arm/cpu.h, cpu-qom.h, gtimer.h) ------------------------

ARM_MAX_VQ = 16
M_REG_NS, M_REG_S, M_REG_NUM_BANKS = 0, 1, 2
GTIMER_PHYS, GTIMER_VIRT = 0, 1
ENUMS = {"M_REG_NS": M_REG_NS, "M_REG_S": M_REG_S,
         "GTIMER_PHYS": GTIMER_PHYS, "GTIMER_VIRT": GTIMER_VIRT}
"""Enum constants that stay symbolic in QEMU's field names (the C
preprocessor expands ``#define``s, not enums)."""

# enum arm_features (the ones machine.c asks about)
ARM_FEATURE_IWMMXT = 2
ARM_FEATURE_V7 = 5
ARM_FEATURE_PMSA = 7
ARM_FEATURE_NEON = 8
ARM_FEATURE_M = 9
ARM_FEATURE_THUMB2EE = 11
ARM_FEATURE_V8 = 26
ARM_FEATURE_AARCH64 = 27
ARM_FEATURE_M_SECURITY = 35

PSTATE_nRW = 1 << 4
PSTATE_F, PSTATE_I, PSTATE_A, PSTATE_D = 1 << 6, 1 << 7, 1 << 8, 1 << 9
PSTATE_BTYPE = 3 << 10
PSTATE_V, PSTATE_C, PSTATE_Z, PSTATE_N = 1 << 28, 1 << 29, 1 << 30, 1 << 31
PSTATE_NZCV = PSTATE_N | PSTATE_Z | PSTATE_C | PSTATE_V
PSTATE_DAIF = PSTATE_D | PSTATE_A | PSTATE_I | PSTATE_F
CACHED_PSTATE_BITS = PSTATE_NZCV | PSTATE_DAIF | PSTATE_BTYPE

CPSR_M = 0x1F
CPSR_T = 1 << 5
CPSR_F, CPSR_I, CPSR_A = 1 << 6, 1 << 7, 1 << 8
CPSR_IT_2_7 = 0xFC00
CPSR_GE = 0xF << 16
CPSR_IT_0_1 = 3 << 25
CPSR_Q = 1 << 27
CPSR_NZCV = PSTATE_NZCV
CPSR_AIF = CPSR_A | CPSR_I | CPSR_F
CPSR_IT = CPSR_IT_0_1 | CPSR_IT_2_7
CACHED_CPSR_BITS = CPSR_T | CPSR_AIF | CPSR_GE | CPSR_IT | CPSR_Q | CPSR_NZCV
XPSR_EXCP = 0x1FF
XPSR_T = 1 << 24

# FPSCR / FPCR / FPSR (7.2: FPSR_MASK/FPCR_MASK; 10.0: FPSCR_FPSR_MASK/FPSCR_FPCR_MASK)
FPSR_MASK = 0xF800009F
FPCR_MASK = 0x07FF9F00
FPSCR_FPSR_MASK = 0xF800009F  # NZCV, QC, cumulative exception bits
FPSCR_FPCR_MASK = 0x07FF9F00  # trap enables, Len, FZ16, Stride, RMode, FZ, DN, AHP
R_V7M_CSSELR_INDEX_MASK = 0xF
R_V7M_CLIDR_CTYPE_ALL_MASK = (1 << 21) - 1
R_SVCR_ZA_MASK = 1 << 1

PSCI_ON, PSCI_OFF, PSCI_ON_PENDING = 0, 1, 2
UINT32_MAX = 0xFFFFFFFF
TIMER_NOT_ARMED = 0xFFFFFFFFFFFFFFFF

CPU_INTERRUPT_HARD, CPU_INTERRUPT_FIQ = 0x0002, 0x0010
CPU_INTERRUPT_VIRQ, CPU_INTERRUPT_VFIQ = 0x0040, 0x0200


# --- the model ---------------------------------------------------------------

def _zeros(n: int) -> Callable[[], list[int]]:
    return lambda: [0] * n


@dataclass
class ARMVectorReg:
    """One Z (or ZA) register: ``2 * ARM_MAX_VQ`` 64-bit words; Q/D/S are its low end."""

    d: list[int] = dc_field(default_factory=_zeros(2 * ARM_MAX_VQ))


@dataclass
class ARMPredicateReg:
    """One SVE predicate register (P0–P15, FFR is the 17th)."""

    p: list[int] = dc_field(default_factory=_zeros(2 * ARM_MAX_VQ // 8))


@dataclass
class ARMVFPState:
    """``env.vfp``. ``fpcr``/``fpsr`` hold the architectural FPCR and FPSR
    (QEMU 10.0 keeps them so too; 7.2 keeps one FPSCR word plus the softfloat
    flags, Len/Stride and QC: same values, other places)."""

    zregs: list[ARMVectorReg] = dc_field(
        default_factory=lambda: [ARMVectorReg() for _ in range(32)])
    pregs: list[ARMPredicateReg] = dc_field(
        default_factory=lambda: [ARMPredicateReg() for _ in range(17)])
    xregs: list[int] = dc_field(default_factory=_zeros(16))
    fpcr: int = 0
    fpsr: int = 0


@dataclass
class ARMIWMMXTState:
    regs: list[int] = dc_field(default_factory=_zeros(16))
    cregs: list[int] = dc_field(default_factory=_zeros(16))


@dataclass
class ARMException:
    """``env.exception``: the syndrome of the last exception taken."""

    syndrome: int = 0
    fsr: int = 0
    vaddress: int = 0


@dataclass
class ARMSError:
    pending: int = 0
    has_esr: int = 0
    esr: int = 0


def _banks() -> list[int]:
    return [0] * M_REG_NUM_BANKS


@dataclass
class ARMv7MState:
    """``env.v7m``: M-profile system registers, banked [M_REG_NS, M_REG_S]."""

    vecbase: list[int] = dc_field(default_factory=_banks)
    basepri: list[int] = dc_field(default_factory=_banks)
    control: list[int] = dc_field(default_factory=_banks)
    ccr: list[int] = dc_field(default_factory=_banks)
    cfsr: list[int] = dc_field(default_factory=_banks)
    hfsr: int = 0
    dfsr: int = 0
    mmfar: list[int] = dc_field(default_factory=_banks)
    bfar: int = 0
    mpu_ctrl: list[int] = dc_field(default_factory=_banks)
    exception: int = 0
    faultmask: list[int] = dc_field(default_factory=_banks)
    primask: list[int] = dc_field(default_factory=_banks)
    csselr: list[int] = dc_field(default_factory=_banks)
    scr: list[int] = dc_field(default_factory=_banks)
    other_sp: int = 0
    msplim: list[int] = dc_field(default_factory=_banks)
    psplim: list[int] = dc_field(default_factory=_banks)
    fpcar: list[int] = dc_field(default_factory=_banks)
    fpccr: list[int] = dc_field(default_factory=_banks)
    fpdscr: list[int] = dc_field(default_factory=_banks)
    cpacr: list[int] = dc_field(default_factory=_banks)
    nsacr: int = 0
    vpr: int = 0
    ltpsize: int = 0
    secure: int = 0
    other_ss_msp: int = 0
    other_ss_psp: int = 0
    sfsr: int = 0
    sfar: int = 0
    aircr: int = 0


@dataclass
class ARMPMSAv7:
    drbar: list[int] = dc_field(default_factory=list)
    drsr: list[int] = dc_field(default_factory=list)
    dracr: list[int] = dc_field(default_factory=list)
    rnr: list[int] = dc_field(default_factory=_banks)


@dataclass
class ARMPMSAv8:
    rbar: list[list[int]] = dc_field(default_factory=lambda: [[], []])
    rlar: list[list[int]] = dc_field(default_factory=lambda: [[], []])
    mair0: list[int] = dc_field(default_factory=_banks)
    mair1: list[int] = dc_field(default_factory=_banks)
    hprbar: list[int] = dc_field(default_factory=list)  # 10.0 (R-profile v8)
    hprlar: list[int] = dc_field(default_factory=list)


@dataclass
class ARMSAU:
    rbar: list[int] = dc_field(default_factory=list)
    rlar: list[int] = dc_field(default_factory=list)
    rnr: int = 0
    ctrl: int = 0


@dataclass
class CPUARMState:
    """``CPUARMState`` (``target/arm/cpu.h``): what ``vmstate_arm_cpu`` saves,
    with the PSTATE/CPSR pieces kept apart as QEMU keeps them (``NF`` bit 31
    is N, ``ZF`` is zero iff Z, ``CF`` is 0/1, ``VF`` bit 31 is V)."""

    regs: list[int] = dc_field(default_factory=_zeros(16))
    xregs: list[int] = dc_field(default_factory=_zeros(32))
    pc: int = 0
    # the pieces put_cpsr/get_cpsr combine
    aarch64: bool = True
    pstate: int = 0
    uncached_cpsr: int = 0
    NF: int = 0
    ZF: int = 1
    CF: int = 0
    VF: int = 0
    QF: int = 0
    GE: int = 0
    thumb: int = 0
    condexec_bits: int = 0
    daif: int = 0
    btype: int = 0
    spsr: int = 0
    banked_spsr: list[int] = dc_field(default_factory=_zeros(8))
    banked_r13: list[int] = dc_field(default_factory=_zeros(8))
    banked_r14: list[int] = dc_field(default_factory=_zeros(8))
    usr_regs: list[int] = dc_field(default_factory=_zeros(5))
    fiq_regs: list[int] = dc_field(default_factory=_zeros(5))
    elr_el: list[int] = dc_field(default_factory=_zeros(4))
    sp_el: list[int] = dc_field(default_factory=_zeros(4))
    exclusive_addr: int = 0
    exclusive_val: int = 0
    exclusive_high: int = 0
    exception: ARMException = dc_field(default_factory=ARMException)
    vfp: ARMVFPState = dc_field(default_factory=ARMVFPState)
    iwmmxt: ARMIWMMXTState = dc_field(default_factory=ARMIWMMXTState)
    zarray: list[ARMVectorReg] | None = None  # ARM_MAX_VQ * 16 rows, made when needed
    svcr: int = 0
    serror: ARMSError = dc_field(default_factory=ARMSError)
    irq_line_state: int = 0
    v7m: ARMv7MState = dc_field(default_factory=ARMv7MState)
    teecr: int = 0
    teehbr: int = 0
    pmsav7: ARMPMSAv7 = dc_field(default_factory=ARMPMSAv7)
    pmsav8: ARMPMSAv8 = dc_field(default_factory=ARMPMSAv8)
    sau: ARMSAU = dc_field(default_factory=ARMSAU)
    features: int = 0  # ARM_FEATURE_* bits (not migrated)


@dataclass
class ARMISAFeatures:
    """The ``cpu_isar_feature()`` tests machine.c uses (QEMU derives them
    from the ID registers; here they are switches)."""

    aa64_fp_simd: bool = False
    aa32_vfp_simd: bool = False
    aa64_sve: bool = False
    aa32_mve: bool = False
    aa32_lob: bool = False


@dataclass
class ARMCPU:
    """``ARMCPU``: the opaque of the ``cpu`` section.

    ``cpreg_indexes``/``cpreg_values`` are the CPU's own coprocessor register
    list (QEMU fills it from the registers with ``write_cpustate_to_list``);
    the ``cpreg_vmstate_*`` arrays are what goes on the wire.
    ``cpreg_vmstate_array_len`` is None in a fresh model: it has no list of
    its own yet, so it accepts the stream's (QEMU compares with its count)."""

    env: CPUARMState = dc_field(default_factory=CPUARMState)
    parent_obj: CPUState = dc_field(default_factory=CPUState)
    isar: ARMISAFeatures = dc_field(default_factory=ARMISAFeatures)
    cpreg_indexes: list[int] = dc_field(default_factory=list)
    cpreg_values: list[int] = dc_field(default_factory=list)
    cpreg_array_len: int = 0
    cpreg_vmstate_indexes: list[int] = dc_field(default_factory=list)
    cpreg_vmstate_values: list[int] = dc_field(default_factory=list)
    cpreg_vmstate_array_len: int | None = None
    gt_timer: list[int] = dc_field(default_factory=lambda: [TIMER_NOT_ARMED] * 2)
    wfxt_timer: int | None = None  # 10.0: a QEMUTimer* only with FEAT_WFxT
    power_state: int = PSCI_ON
    pmsav7_dregion: int = 0
    pmsav8r_hdregion: int = 0
    sau_sregion: int = 0
    clidr: int = 0
    kvm_enabled: bool = False
    qemu_version: str = "10.0"

    # -- coprocessor registers by index -----------------------------------------
    def cpreg_get(self, index: int) -> int:
        return self.cpreg_values[self.cpreg_indexes.index(index)]

    def cpreg_set(self, index: int, value: int) -> None:
        self.cpreg_values[self.cpreg_indexes.index(index)] = value & 0xFFFFFFFFFFFFFFFF

    # -- PSTATE / CPSR as one number ---------------------------------------------
    @property
    def cpsr(self) -> int:
        """What ``put_cpsr`` would send now (pstate_read / cpsr_read / xpsr_read)."""
        return _cpsr_value(self)

    # -- feature switches ---------------------------------------------------------
    @property
    def has_vfp(self) -> bool:
        """``cpu/vfp`` (FP/AdvSIMD)."""
        return vfp_needed(self)

    @has_vfp.setter
    def has_vfp(self, on: bool) -> None:
        self.isar.aa64_fp_simd = self.isar.aa32_vfp_simd = bool(on)

    @property
    def has_sve(self) -> bool:
        """``cpu/sve``: ``cpu_isar_feature(aa64_sve)``."""
        return sve_needed(self)

    @has_sve.setter
    def has_sve(self, on: bool) -> None:
        self.isar.aa64_sve = bool(on)

    @property
    def has_wfxt(self) -> bool:
        """10.0's ``cpu/wfxt-timer``: the timer exists only with FEAT_WFxT."""
        return wfxt_timer_needed(self)

    @has_wfxt.setter
    def has_wfxt(self, on: bool) -> None:
        if not on:
            self.wfxt_timer = None
        elif self.wfxt_timer is None:
            self.wfxt_timer = TIMER_NOT_ARMED

    @property
    def has_za(self) -> bool:
        """``cpu/sme``: SVCR.ZA set (ZA storage enabled)."""
        return za_needed(self)

    @has_za.setter
    def has_za(self, on: bool) -> None:
        self.env.svcr = self.env.svcr | R_SVCR_ZA_MASK if on else \
            self.env.svcr & ~R_SVCR_ZA_MASK
        if on and self.env.zarray is None:
            self.env.zarray = [ARMVectorReg() for _ in range(ARM_MAX_VQ * 16)]


def arm_feature(env: CPUARMState, feature: int) -> bool:
    return bool(env.features & (1 << feature))


def set_feature(env: CPUARMState, feature: int) -> None:
    env.features |= 1 << feature


def cpu_isar_feature(name: str, cpu: ARMCPU) -> bool:
    return bool(getattr(cpu.isar, name))


def is_a64(env: CPUARMState) -> bool:
    return env.aarch64


# --- the PSTATE / CPSR / xPSR views (cpu.h, helper.c, m_helper.c) ------------------

def pstate_read(env: CPUARMState) -> int:
    zf = int(env.ZF == 0)
    return ((env.NF & 0x80000000) | (zf << 30) | (env.CF << 29)
            | ((env.VF & 0x80000000) >> 3) | env.pstate | env.daif | (env.btype << 10))


def pstate_write(env: CPUARMState, val: int) -> None:
    env.ZF = (~val) & PSTATE_Z
    env.NF = val
    env.CF = (val >> 29) & 1
    env.VF = (val << 3) & 0x80000000
    env.daif = val & PSTATE_DAIF
    env.btype = (val >> 10) & 3
    env.pstate = val & ~CACHED_PSTATE_BITS


def cpsr_read(env: CPUARMState) -> int:
    zf = int(env.ZF == 0)
    return (env.uncached_cpsr | (env.NF & 0x80000000) | (zf << 30) | (env.CF << 29)
            | ((env.VF & 0x80000000) >> 3) | (env.QF << 27) | (env.thumb << 5)
            | ((env.condexec_bits & 3) << 25) | ((env.condexec_bits & 0xFC) << 8)
            | (env.GE << 16) | (env.daif & CPSR_AIF))


def cpsr_write_raw(env: CPUARMState, val: int) -> None:
    """``cpsr_write(env, val, 0xffffffff, CPSRWriteRaw)`` without the register
    bank switch a mode change makes in QEMU (our model keeps the banks as
    they came: ``banked_r13``… travel in the stream anyway)."""
    env.ZF = (~val) & CPSR_NZCV & PSTATE_Z
    env.NF = val
    env.CF = (val >> 29) & 1
    env.VF = (val << 3) & 0x80000000
    env.QF = (val >> 27) & 1
    env.GE = (val >> 16) & 0xF
    env.thumb = (val >> 5) & 1
    env.condexec_bits = ((val >> 25) & 3) | ((val >> 8) & 0xFC)
    env.daif = (env.daif & ~CPSR_AIF) | (val & CPSR_AIF)
    env.uncached_cpsr = val & ~CACHED_CPSR_BITS


def xpsr_read(env: CPUARMState) -> int:
    zf = int(env.ZF == 0)
    return ((env.NF & 0x80000000) | (zf << 30) | (env.CF << 29)
            | ((env.VF & 0x80000000) >> 3) | (env.QF << 27) | (env.thumb << 24)
            | ((env.condexec_bits & 3) << 25) | ((env.condexec_bits & 0xFC) << 8)
            | (env.GE << 16) | env.v7m.exception)


def xpsr_write(env: CPUARMState, val: int, mask: int) -> None:
    """``xpsr_write`` for the bits ``mask`` (the exception number is ``vmstate_m``'s)."""
    if mask & CPSR_NZCV:
        env.ZF = (~val) & PSTATE_Z
        env.NF = val
        env.CF = (val >> 29) & 1
        env.VF = (val << 3) & 0x80000000
    if mask & CPSR_Q:
        env.QF = (val >> 27) & 1
    if mask & CPSR_GE:
        env.GE = (val >> 16) & 0xF
    if mask & XPSR_T:
        env.thumb = int(bool(val & XPSR_T))
    if mask & CPSR_IT:
        env.condexec_bits = ((val >> 25) & 3) | ((val >> 8) & 0xFC)
    if mask & XPSR_EXCP:
        env.v7m.exception = val & XPSR_EXCP


def _cpsr_value(cpu: ARMCPU) -> int:
    env = cpu.env
    if arm_feature(env, ARM_FEATURE_M):
        return xpsr_read(env) & ~XPSR_EXCP & 0xFFFFFFFF
    if is_a64(env):
        return pstate_read(env) & 0xFFFFFFFF
    return cpsr_read(env) & 0xFFFFFFFF


# --- custom VMStateInfo: fpscr, fpcr, fpsr, cpsr, powered_off ------------------------

def vfp_get_fpscr(env: CPUARMState) -> int:
    return (env.vfp.fpcr & FPSCR_FPCR_MASK) | (env.vfp.fpsr & FPSCR_FPSR_MASK)


def vfp_set_fpscr(env: CPUARMState, val: int) -> None:
    env.vfp.fpcr = (env.vfp.fpcr & ~FPSCR_FPCR_MASK) | (val & FPSCR_FPCR_MASK)
    env.vfp.fpsr = val & FPSCR_FPSR_MASK


def _get_fpscr_7_2(f: QEMUFile, cpu: ARMCPU, size: int, field: Any) -> int:
    val = f.get_be32()
    # 7.2 keeps every bit in one FPSCR word: split it so that none is lost
    cpu.env.vfp.fpsr = val & FPSR_MASK
    cpu.env.vfp.fpcr = val & ~FPSR_MASK
    return val


def _put_fpscr_7_2(f: QEMUFile, cpu: ARMCPU, size: int, field: Any, vmdesc: Any = None) -> None:
    f.put_be32((cpu.env.vfp.fpcr | cpu.env.vfp.fpsr) & 0xFFFFFFFF)


def vfp_fpcr_fpsr_needed(cpu: ARMCPU) -> bool:
    """10.0: FPCR or FPSR has bits the AArch32 FPSCR view cannot carry."""
    env = cpu.env
    return bool((env.vfp.fpcr & ~FPSCR_FPCR_MASK) or (env.vfp.fpsr & ~FPSCR_FPSR_MASK))


def _get_fpscr_10_0(f: QEMUFile, cpu: ARMCPU, size: int, field: Any) -> int:
    val = f.get_be32()
    if val:  # 0: the values may come in cpu/vfp/fpcr_fpsr
        vfp_set_fpscr(cpu.env, val)
    return val


def _put_fpscr_10_0(f: QEMUFile, cpu: ARMCPU, size: int, field: Any,
                    vmdesc: Any = None) -> None:
    fpscr = 0 if vfp_fpcr_fpsr_needed(cpu) else vfp_get_fpscr(cpu.env)
    f.put_be32(fpscr & 0xFFFFFFFF)


def _get_fpcr(f: QEMUFile, cpu: ARMCPU, size: int, field: Any) -> int:
    val = f.get_be64()
    cpu.env.vfp.fpcr = val & 0xFFFFFFFF  # vfp_set_fpcr
    return val


def _put_fpcr(f: QEMUFile, cpu: ARMCPU, size: int, field: Any, vmdesc: Any = None) -> None:
    f.put_be64(cpu.env.vfp.fpcr)


def _get_fpsr(f: QEMUFile, cpu: ARMCPU, size: int, field: Any) -> int:
    val = f.get_be64()
    cpu.env.vfp.fpsr = val & 0xFFFFFFFF  # vfp_set_fpsr
    return val


def _put_fpsr(f: QEMUFile, cpu: ARMCPU, size: int, field: Any, vmdesc: Any = None) -> None:
    f.put_be64(cpu.env.vfp.fpsr)


vmstate_fpscr_7_2 = VMStateInfo("fpscr", _get_fpscr_7_2, _put_fpscr_7_2)
vmstate_fpscr_10_0 = VMStateInfo("fpscr", _get_fpscr_10_0, _put_fpscr_10_0)
vmstate_fpcr = VMStateInfo("fpcr", _get_fpcr, _put_fpcr)
vmstate_fpsr = VMStateInfo("fpsr", _get_fpsr, _put_fpsr)


def get_cpsr(f: QEMUFile, cpu: ARMCPU, size: int, field: Any) -> int:
    env = cpu.env
    val = f.get_be32()
    if arm_feature(env, ARM_FEATURE_M):
        if val & XPSR_EXCP:
            # a CPSR-format value from a QEMU older than 2.x: rearrange
            newval = val & (CPSR_NZCV | CPSR_Q | CPSR_IT | CPSR_GE)
            if val & CPSR_T:
                newval |= XPSR_T
            if val & CPSR_F:
                env.v7m.faultmask[M_REG_NS] = 1
            if val & CPSR_I:
                env.v7m.primask[M_REG_NS] = 1
            val = newval
        xpsr_write(env, val, ~XPSR_EXCP)
        return val
    env.aarch64 = (val & PSTATE_nRW) == 0
    if is_a64(env):
        pstate_write(env, val)
        return val
    cpsr_write_raw(env, val)
    return val


def put_cpsr(f: QEMUFile, cpu: ARMCPU, size: int, field: Any, vmdesc: Any = None) -> None:
    f.put_be32(_cpsr_value(cpu))


vmstate_cpsr = VMStateInfo("cpsr", get_cpsr, put_cpsr)


def get_power(f: QEMUFile, cpu: ARMCPU, size: int, field: Any) -> int:
    powered_off = f.get_byte()
    cpu.power_state = PSCI_OFF if powered_off else PSCI_ON
    return powered_off


def put_power(f: QEMUFile, cpu: ARMCPU, size: int, field: Any, vmdesc: Any = None) -> None:
    if cpu.power_state not in (PSCI_ON, PSCI_OFF):
        # QEMU's put returns 1: migration must not happen mid-transition
        raise VMStateError("power_state: CPU is changing power state", offset=f.tell())
    f.put_byte(1 if cpu.power_state == PSCI_OFF else 0)


vmstate_powered_off = VMStateInfo("powered_off", get_power, put_power)


def _opaque_field(name: str, info: VMStateInfo, size: int) -> VMStateField:
    """A hand-built field at offset 0 (``{.name=..., .info=&..., .flags=VMS_SINGLE,
    .offset=0}``): the info gets the whole ARMCPU."""
    return VMStateField(name, info=info, flags=VMS_SINGLE, size=size, version_id=0, attr="")


def _resolve_enums(vmsd: VMStateDescription) -> VMStateDescription:
    """Point fields named with enum indices (``gt_timer[GTIMER_PHYS]``,
    ``env.v7m.faultmask[M_REG_NS]``) at the right list element; the name,
    which is what the stream shows, stays as QEMU spells it."""
    for fld in vmsd.fields:
        if fld.attr is None and any(k in fld.name for k in ENUMS):
            path = fld.name
            for k, val in ENUMS.items():
                path = path.replace(f"[{k}]", f"[{val}]")
            fld.attr = path
            fld.accessor = Accessor(path)
        if fld.vmsd is not None:
            _resolve_enums(fld.vmsd)
    for sub in vmsd.subsections:
        _resolve_enums(sub)
    return vmsd


# --- needed() predicates and hooks ------------------------------------------------------

def vfp_needed(cpu: ARMCPU) -> bool:
    return (cpu_isar_feature("aa64_fp_simd", cpu) if arm_feature(cpu.env, ARM_FEATURE_AARCH64)
            else cpu_isar_feature("aa32_vfp_simd", cpu))


def _vfp_post_load(cpu: ARMCPU, version_id: int) -> int:
    cpu.has_vfp = True  # (ours) the stream sent cpu/vfp
    return 0


def iwmmxt_needed(cpu: ARMCPU) -> bool:
    return arm_feature(cpu.env, ARM_FEATURE_IWMMXT)


def sve_needed(cpu: ARMCPU) -> bool:
    return cpu_isar_feature("aa64_sve", cpu)


def _sve_post_load(cpu: ARMCPU, version_id: int) -> int:
    cpu.isar.aa64_sve = True  # (ours) the stream sent cpu/sve
    return 0


def za_needed(cpu: ARMCPU) -> bool:
    # ZA disabled: its contents are discarded, zeroed when re-enabled
    return bool(cpu.env.svcr & R_SVCR_ZA_MASK)


def _za_pre_load(cpu: ARMCPU) -> int:
    cpu.has_za = True  # (ours) ZA rows to load into; SVCR itself is a cpreg
    return 0


def serror_needed(cpu: ARMCPU) -> bool:
    return cpu.env.serror.pending != 0


def irq_line_state_needed(cpu: ARMCPU) -> bool:
    return True


def wfxt_timer_needed(cpu: ARMCPU) -> bool:
    return cpu.wfxt_timer is not None


def m_needed(cpu: ARMCPU) -> bool:
    return arm_feature(cpu.env, ARM_FEATURE_M)


def _m_post_load(cpu: ARMCPU, version_id: int) -> int:
    set_feature(cpu.env, ARM_FEATURE_M)  # (ours)
    return 0


def csselr_vmstate_validate(cpu: ARMCPU, version_id: int) -> bool:
    v7m = cpu.env.v7m
    return (v7m.csselr[M_REG_NS] <= R_V7M_CSSELR_INDEX_MASK
            and v7m.csselr[M_REG_S] <= R_V7M_CSSELR_INDEX_MASK)


def arm_v7m_csselr_razwi(cpu: ARMCPU) -> bool:
    return (cpu.clidr & R_V7M_CLIDR_CTYPE_ALL_MASK) != 0


def m_csselr_needed(cpu: ARMCPU) -> bool:
    return not arm_v7m_csselr_razwi(cpu)


def m_v8m_needed(cpu: ARMCPU) -> bool:
    return arm_feature(cpu.env, ARM_FEATURE_M) and arm_feature(cpu.env, ARM_FEATURE_V8)


def mve_needed(cpu: ARMCPU) -> bool:
    return cpu_isar_feature("aa32_mve", cpu)


def thumb2ee_needed(cpu: ARMCPU) -> bool:
    return arm_feature(cpu.env, ARM_FEATURE_THUMB2EE)


def pmsav7_needed(cpu: ARMCPU) -> bool:
    env = cpu.env
    return (arm_feature(env, ARM_FEATURE_PMSA) and arm_feature(env, ARM_FEATURE_V7)
            and not arm_feature(env, ARM_FEATURE_V8))


def pmsav7_rgnr_vmstate_validate(cpu: ARMCPU, version_id: int) -> bool:
    return cpu.env.pmsav7.rnr[M_REG_NS] < cpu.pmsav7_dregion


def pmsav7_rnr_needed(cpu: ARMCPU) -> bool:
    # R profile migrates RGNR as a cpreg; M profile needs it here
    return arm_feature(cpu.env, ARM_FEATURE_M)


def pmsav8_needed(cpu: ARMCPU) -> bool:
    return arm_feature(cpu.env, ARM_FEATURE_PMSA) and arm_feature(cpu.env, ARM_FEATURE_V8)


def pmsav8r_needed(cpu: ARMCPU) -> bool:
    env = cpu.env
    return (arm_feature(env, ARM_FEATURE_PMSA) and arm_feature(env, ARM_FEATURE_V8)
            and not arm_feature(env, ARM_FEATURE_M))


def s_rnr_vmstate_validate(cpu: ARMCPU, version_id: int) -> bool:
    return cpu.env.pmsav7.rnr[M_REG_S] < cpu.pmsav7_dregion


def sau_rnr_vmstate_validate(cpu: ARMCPU, version_id: int) -> bool:
    return cpu.env.sau.rnr < cpu.sau_sregion


def m_security_needed(cpu: ARMCPU) -> bool:
    return arm_feature(cpu.env, ARM_FEATURE_M_SECURITY)


def _records_feature(*features: int) -> Callable[[ARMCPU, int], int]:
    """(ours) A post_load recording ``env.features`` bits the stream showed."""
    def post_load(cpu: ARMCPU, version_id: int) -> int:
        for feat in features:
            set_feature(cpu.env, feat)
        return 0
    return post_load


def cpu_pre_save(cpu: ARMCPU) -> int:
    """Sync the wire arrays from the CPU's register list (TCG:
    ``write_cpustate_to_list``; ``pmu_op_start`` has no wire effect)."""
    cpu.cpreg_array_len = len(cpu.cpreg_indexes)
    cpu.cpreg_vmstate_array_len = cpu.cpreg_array_len
    cpu.cpreg_vmstate_indexes = list(cpu.cpreg_indexes[:cpu.cpreg_array_len])
    cpu.cpreg_vmstate_values = list(cpu.cpreg_values[:cpu.cpreg_array_len])
    return 0


def cpu_post_save(cpu: ARMCPU) -> int:
    return 0  # pmu_op_finish


def _cpu_pre_load_common(cpu: ARMCPU) -> None:
    # a value never valid as data: cpu_post_load can tell whether the
    # irq-line-state subsection came
    cpu.env.irq_line_state = UINT32_MAX


def cpu_pre_load_7_2(cpu: ARMCPU) -> int:
    _cpu_pre_load_common(cpu)
    return 0


def cpu_pre_load_10_0(cpu: ARMCPU) -> int:
    # zero FPSCR/FPCR/FPSR: a source with all three 0 sends neither a
    # non-zero fpscr nor the fpcr_fpsr subsection
    vfp_set_fpscr(cpu.env, 0)
    _cpu_pre_load_common(cpu)
    return 0


def cpu_post_load(cpu: ARMCPU, version_id: int) -> int:
    env = cpu.env
    if env.irq_line_state == UINT32_MAX:  # an old source without irq-line-state
        env.irq_line_state = cpu.parent_obj.interrupt_request & (
            CPU_INTERRUPT_HARD | CPU_INTERRUPT_FIQ | CPU_INTERRUPT_VIRQ | CPU_INTERRUPT_VFIQ)
    n_in = cpu.cpreg_vmstate_array_len or 0
    if not cpu.cpreg_indexes:
        # (ours) a model built from the stream has no list of its own: adopt it
        cpu.cpreg_indexes = list(cpu.cpreg_vmstate_indexes[:n_in])
        cpu.cpreg_values = list(cpu.cpreg_vmstate_values[:n_in])
        cpu.cpreg_array_len = n_in
    else:
        # match the incoming list against ours: unknown incoming register fails,
        # ours missing from the stream keeps its value
        i = v = 0
        while i < cpu.cpreg_array_len and v < n_in:
            if cpu.cpreg_vmstate_indexes[v] > cpu.cpreg_indexes[i]:
                i += 1
                continue
            if cpu.cpreg_vmstate_indexes[v] < cpu.cpreg_indexes[i]:
                return -1
            cpu.cpreg_values[i] = cpu.cpreg_vmstate_values[v]
            v += 1
            i += 1
    # write_list_to_cpustate, breakpoints/watchpoints, hflags: not modelled
    if arm_feature(env, ARM_FEATURE_M) and cpu_isar_feature("aa32_lob", cpu):
        ltp = [(x >> 16) & 7 for x in env.v7m.fpdscr]
        if ltp != [4, 4]:
            return -1
    if not is_a64(env) and env.thumb and (env.regs[15] & 1):
        return -1  # a misaligned Thumb PC is architecturally impossible
    return 0


# --- the descriptions -----------------------------------------------------------------

def _build(qemu_version: str) -> VMStateDescription:
    ten = qemu_version == "10.0"

    vmstate_vfp_fpcr_fpsr = VMStateDescription(
        "cpu/vfp/fpcr_fpsr", version_id=1, minimum_version_id=1,
        needed=vfp_fpcr_fpsr_needed,
        fields=[
            _opaque_field("fpcr", vmstate_fpcr, 8),
            _opaque_field("fpsr", vmstate_fpsr, 8),
        ]) if ten else None

    vmstate_vfp = VMStateDescription(
        "cpu/vfp", version_id=3, minimum_version_id=3,
        needed=vfp_needed, post_load=_vfp_post_load,
        fields=[
            # Q0..Q31 are the low 128 bits of Z0..Z31
            *[VMSTATE_UINT64_SUB_ARRAY(f"env.vfp.zregs[{i}].d", 0, 2) for i in range(32)],
            # xregs[1] is FPSCR, which needs its own accessor
            VMSTATE_UINT32("env.vfp.xregs[0]"),
            VMSTATE_UINT32_SUB_ARRAY("env.vfp.xregs", 2, 14),
            _opaque_field("fpscr", vmstate_fpscr_10_0 if ten else vmstate_fpscr_7_2, 4),
        ],
        subsections=[vmstate_vfp_fpcr_fpsr])

    vmstate_iwmmxt = VMStateDescription(
        "cpu/iwmmxt", version_id=1, minimum_version_id=1,
        needed=iwmmxt_needed, post_load=_records_feature(ARM_FEATURE_IWMMXT),
        fields=[
            VMSTATE_UINT64_ARRAY("env.iwmmxt.regs", 16),
            VMSTATE_UINT32_ARRAY("env.iwmmxt.cregs", 16),
        ])

    # TARGET_AARCH64 only
    vmstate_zreg_hi_reg = VMStateDescription(
        "cpu/sve/zreg_hi", version_id=1, minimum_version_id=1,
        fields=[VMSTATE_UINT64_SUB_ARRAY("d", 2, ARM_MAX_VQ - 2)])

    vmstate_preg_reg = VMStateDescription(
        "cpu/sve/preg", version_id=1, minimum_version_id=1,
        fields=[VMSTATE_UINT64_ARRAY("p", 2 * ARM_MAX_VQ // 8)])

    vmstate_sve = VMStateDescription(
        "cpu/sve", version_id=1, minimum_version_id=1,
        needed=sve_needed, post_load=_sve_post_load,
        fields=[
            VMSTATE_STRUCT_ARRAY("env.vfp.zregs", 32, 0, vmstate_zreg_hi_reg),
            VMSTATE_STRUCT_ARRAY("env.vfp.pregs", 17, 0, vmstate_preg_reg),
        ])

    vmstate_vreg = VMStateDescription(
        "vreg", version_id=1, minimum_version_id=1,
        fields=[VMSTATE_UINT64_ARRAY("d", ARM_MAX_VQ * 2)])

    vmstate_za = VMStateDescription(
        "cpu/sme", version_id=1, minimum_version_id=1,
        needed=za_needed, pre_load=_za_pre_load,
        fields=[VMSTATE_STRUCT_ARRAY("env.zarray", ARM_MAX_VQ * 16, 0, vmstate_vreg)])

    vmstate_serror = VMStateDescription(
        "cpu/serror", version_id=1, minimum_version_id=1,
        needed=serror_needed,
        fields=[
            VMSTATE_UINT8("env.serror.pending"),
            VMSTATE_UINT8("env.serror.has_esr"),
            VMSTATE_UINT64("env.serror.esr"),
        ])

    vmstate_irq_line_state = VMStateDescription(
        "cpu/irq-line-state", version_id=1, minimum_version_id=1,
        needed=irq_line_state_needed,
        fields=[VMSTATE_UINT32("env.irq_line_state")])

    vmstate_wfxt_timer = VMStateDescription(
        "cpu/wfxt-timer", version_id=1, minimum_version_id=1,
        needed=wfxt_timer_needed,
        fields=[VMSTATE_TIMER_PTR("wfxt_timer")]) if ten else None

    vmstate_m_faultmask_primask = VMStateDescription(
        "cpu/m/faultmask-primask", version_id=1, minimum_version_id=1,
        needed=m_needed,
        fields=[
            VMSTATE_UINT32("env.v7m.faultmask[M_REG_NS]"),
            VMSTATE_UINT32("env.v7m.primask[M_REG_NS]"),
        ])

    vmstate_m_csselr = VMStateDescription(
        "cpu/m/csselr", version_id=1, minimum_version_id=1,
        needed=m_csselr_needed,
        fields=[
            VMSTATE_UINT32_ARRAY("env.v7m.csselr", M_REG_NUM_BANKS),
            VMSTATE_VALIDATE("CSSELR is valid", csselr_vmstate_validate),
        ])

    vmstate_m_scr = VMStateDescription(
        "cpu/m/scr", version_id=1, minimum_version_id=1,
        needed=m_needed,
        fields=[VMSTATE_UINT32("env.v7m.scr[M_REG_NS]")])

    vmstate_m_other_sp = VMStateDescription(
        "cpu/m/other-sp", version_id=1, minimum_version_id=1,
        needed=m_needed,
        fields=[VMSTATE_UINT32("env.v7m.other_sp")])

    vmstate_m_v8m = VMStateDescription(
        "cpu/m/v8m", version_id=1, minimum_version_id=1,
        needed=m_v8m_needed,
        fields=[
            VMSTATE_UINT32_ARRAY("env.v7m.msplim", M_REG_NUM_BANKS),
            VMSTATE_UINT32_ARRAY("env.v7m.psplim", M_REG_NUM_BANKS),
        ])

    vmstate_m_fp = VMStateDescription(
        "cpu/m/fp", version_id=1, minimum_version_id=1,
        needed=vfp_needed,
        fields=[
            VMSTATE_UINT32_ARRAY("env.v7m.fpcar", M_REG_NUM_BANKS),
            VMSTATE_UINT32_ARRAY("env.v7m.fpccr", M_REG_NUM_BANKS),
            VMSTATE_UINT32_ARRAY("env.v7m.fpdscr", M_REG_NUM_BANKS),
            VMSTATE_UINT32_ARRAY("env.v7m.cpacr", M_REG_NUM_BANKS),
            VMSTATE_UINT32("env.v7m.nsacr"),
        ])

    vmstate_m_mve = VMStateDescription(
        "cpu/m/mve", version_id=1, minimum_version_id=1,
        needed=mve_needed,
        fields=[
            VMSTATE_UINT32("env.v7m.vpr"),
            VMSTATE_UINT32("env.v7m.ltpsize"),
        ])

    vmstate_m = VMStateDescription(
        "cpu/m", version_id=4, minimum_version_id=4,
        needed=m_needed, post_load=_m_post_load,
        fields=[
            VMSTATE_UINT32("env.v7m.vecbase[M_REG_NS]"),
            VMSTATE_UINT32("env.v7m.basepri[M_REG_NS]"),
            VMSTATE_UINT32("env.v7m.control[M_REG_NS]"),
            VMSTATE_UINT32("env.v7m.ccr[M_REG_NS]"),
            VMSTATE_UINT32("env.v7m.cfsr[M_REG_NS]"),
            VMSTATE_UINT32("env.v7m.hfsr"),
            VMSTATE_UINT32("env.v7m.dfsr"),
            VMSTATE_UINT32("env.v7m.mmfar[M_REG_NS]"),
            VMSTATE_UINT32("env.v7m.bfar"),
            VMSTATE_UINT32("env.v7m.mpu_ctrl[M_REG_NS]"),
            VMSTATE_INT32("env.v7m.exception"),
        ],
        subsections=[
            vmstate_m_faultmask_primask,
            vmstate_m_csselr,
            vmstate_m_scr,
            vmstate_m_other_sp,
            vmstate_m_v8m,
            vmstate_m_fp,
            vmstate_m_mve,
        ])

    vmstate_thumb2ee = VMStateDescription(
        "cpu/thumb2ee", version_id=1, minimum_version_id=1,
        needed=thumb2ee_needed, post_load=_records_feature(ARM_FEATURE_THUMB2EE),
        fields=[
            VMSTATE_UINT32("env.teecr"),
            VMSTATE_UINT32("env.teehbr"),
        ])

    vmstate_pmsav7 = VMStateDescription(
        "cpu/pmsav7", version_id=1, minimum_version_id=1,
        needed=pmsav7_needed,
        post_load=_records_feature(ARM_FEATURE_PMSA, ARM_FEATURE_V7),
        fields=[
            VMSTATE_VARRAY_UINT32("env.pmsav7.drbar", "pmsav7_dregion", 0, vmstate_info_uint32, pointer=False),
            VMSTATE_VARRAY_UINT32("env.pmsav7.drsr", "pmsav7_dregion", 0, vmstate_info_uint32, pointer=False),
            VMSTATE_VARRAY_UINT32("env.pmsav7.dracr", "pmsav7_dregion", 0, vmstate_info_uint32, pointer=False),
            VMSTATE_VALIDATE("rgnr is valid", pmsav7_rgnr_vmstate_validate),
        ])

    vmstate_pmsav7_rnr = VMStateDescription(
        "cpu/pmsav7-rnr", version_id=1, minimum_version_id=1,
        needed=pmsav7_rnr_needed,
        fields=[VMSTATE_UINT32("env.pmsav7.rnr[M_REG_NS]")])

    vmstate_pmsav8r = VMStateDescription(
        "cpu/pmsav8/pmsav8r", version_id=1, minimum_version_id=1,
        needed=pmsav8r_needed,
        fields=[
            VMSTATE_VARRAY_UINT32("env.pmsav8.hprbar", "pmsav8r_hdregion", 0,
                                  vmstate_info_uint32, pointer=False),
            VMSTATE_VARRAY_UINT32("env.pmsav8.hprlar", "pmsav8r_hdregion", 0,
                                  vmstate_info_uint32, pointer=False),
        ]) if ten else None

    vmstate_pmsav8 = VMStateDescription(
        "cpu/pmsav8", version_id=1, minimum_version_id=1,
        needed=pmsav8_needed,
        post_load=_records_feature(ARM_FEATURE_PMSA, ARM_FEATURE_V8),
        fields=[
            VMSTATE_VARRAY_UINT32("env.pmsav8.rbar[M_REG_NS]", "pmsav7_dregion", 0,
                                  vmstate_info_uint32, pointer=False),
            VMSTATE_VARRAY_UINT32("env.pmsav8.rlar[M_REG_NS]", "pmsav7_dregion", 0,
                                  vmstate_info_uint32, pointer=False),
            VMSTATE_UINT32("env.pmsav8.mair0[M_REG_NS]"),
            VMSTATE_UINT32("env.pmsav8.mair1[M_REG_NS]"),
        ],
        subsections=[vmstate_pmsav8r])

    vmstate_m_security = VMStateDescription(
        "cpu/m-security", version_id=1, minimum_version_id=1,
        needed=m_security_needed, post_load=_records_feature(ARM_FEATURE_M_SECURITY),
        fields=[
            VMSTATE_UINT32("env.v7m.secure"),
            VMSTATE_UINT32("env.v7m.other_ss_msp"),
            VMSTATE_UINT32("env.v7m.other_ss_psp"),
            VMSTATE_UINT32("env.v7m.basepri[M_REG_S]"),
            VMSTATE_UINT32("env.v7m.primask[M_REG_S]"),
            VMSTATE_UINT32("env.v7m.faultmask[M_REG_S]"),
            VMSTATE_UINT32("env.v7m.control[M_REG_S]"),
            VMSTATE_UINT32("env.v7m.vecbase[M_REG_S]"),
            VMSTATE_UINT32("env.pmsav8.mair0[M_REG_S]"),
            VMSTATE_UINT32("env.pmsav8.mair1[M_REG_S]"),
            VMSTATE_VARRAY_UINT32("env.pmsav8.rbar[M_REG_S]", "pmsav7_dregion", 0,
                                  vmstate_info_uint32, pointer=False),
            VMSTATE_VARRAY_UINT32("env.pmsav8.rlar[M_REG_S]", "pmsav7_dregion", 0,
                                  vmstate_info_uint32, pointer=False),
            VMSTATE_UINT32("env.pmsav7.rnr[M_REG_S]"),
            VMSTATE_VALIDATE("secure MPU_RNR is valid", s_rnr_vmstate_validate),
            VMSTATE_UINT32("env.v7m.mpu_ctrl[M_REG_S]"),
            VMSTATE_UINT32("env.v7m.ccr[M_REG_S]"),
            VMSTATE_UINT32("env.v7m.mmfar[M_REG_S]"),
            VMSTATE_UINT32("env.v7m.cfsr[M_REG_S]"),
            VMSTATE_UINT32("env.v7m.sfsr"),
            VMSTATE_UINT32("env.v7m.sfar"),
            VMSTATE_VARRAY_UINT32("env.sau.rbar", "sau_sregion", 0, vmstate_info_uint32, pointer=False),
            VMSTATE_VARRAY_UINT32("env.sau.rlar", "sau_sregion", 0, vmstate_info_uint32, pointer=False),
            VMSTATE_UINT32("env.sau.rnr"),
            VMSTATE_VALIDATE("SAU_RNR is valid", sau_rnr_vmstate_validate),
            VMSTATE_UINT32("env.sau.ctrl"),
            VMSTATE_UINT32("env.v7m.scr[M_REG_S]"),
            # AIRCR is not secure-only, but read-only without the extension
            VMSTATE_UINT32("env.v7m.aircr"),
        ])

    # 7.2 expands the GTIMER_* #defines inside the name; 10.0's are enums
    gt_phys, gt_virt = ("gt_timer[GTIMER_PHYS]", "gt_timer[GTIMER_VIRT]") if ten else \
        ("gt_timer[0]", "gt_timer[1]")

    vmstate_arm_cpu = VMStateDescription(
        "cpu", version_id=22, minimum_version_id=22,
        pre_save=cpu_pre_save, post_save=cpu_post_save,
        pre_load=cpu_pre_load_10_0 if ten else cpu_pre_load_7_2,
        post_load=cpu_post_load,
        fields=[
            VMSTATE_UINT32_ARRAY("env.regs", 16),
            VMSTATE_UINT64_ARRAY("env.xregs", 32),
            VMSTATE_UINT64("env.pc"),
            _opaque_field("cpsr", vmstate_cpsr, 4),
            VMSTATE_UINT32("env.spsr"),
            VMSTATE_UINT64_ARRAY("env.banked_spsr", 8),
            VMSTATE_UINT32_ARRAY("env.banked_r13", 8),
            VMSTATE_UINT32_ARRAY("env.banked_r14", 8),
            VMSTATE_UINT32_ARRAY("env.usr_regs", 5),
            VMSTATE_UINT32_ARRAY("env.fiq_regs", 5),
            VMSTATE_UINT64_ARRAY("env.elr_el", 4),
            VMSTATE_UINT64_ARRAY("env.sp_el", 4),
            # the length check comes before the arrays it bounds
            VMSTATE_INT32_POSITIVE_LE("cpreg_vmstate_array_len"),
            VMSTATE_VARRAY_INT32("cpreg_vmstate_indexes", "cpreg_vmstate_array_len", 0,
                                 vmstate_info_uint64),
            VMSTATE_VARRAY_INT32("cpreg_vmstate_values", "cpreg_vmstate_array_len", 0,
                                 vmstate_info_uint64),
            VMSTATE_UINT64("env.exclusive_addr"),
            VMSTATE_UINT64("env.exclusive_val"),
            VMSTATE_UINT64("env.exclusive_high"),
            VMSTATE_UNUSED(8),
            VMSTATE_UINT32("env.exception.syndrome"),
            VMSTATE_UINT32("env.exception.fsr"),
            VMSTATE_UINT64("env.exception.vaddress"),
            VMSTATE_TIMER_PTR(gt_phys),
            VMSTATE_TIMER_PTR(gt_virt),
            _opaque_field("power_state", vmstate_powered_off, 1),
        ],
        subsections=[
            vmstate_vfp,
            vmstate_iwmmxt,
            vmstate_m,
            vmstate_thumb2ee,
            # pmsav7_rnr before pmsav7: its VALIDATE needs the region number
            vmstate_pmsav7_rnr,
            vmstate_pmsav7,
            vmstate_pmsav8,
            vmstate_m_security,
            vmstate_sve,  # TARGET_AARCH64
            vmstate_za,   # TARGET_AARCH64
            vmstate_serror,
            vmstate_irq_line_state,
            vmstate_wfxt_timer,  # 10.0
        ])
    return _resolve_enums(vmstate_arm_cpu)


def build_7_2() -> VMStateDescription:
    """``vmstate_arm_cpu`` of QEMU 7.2 (aarch64 build)."""
    return _build("7.2")


def build_10_0() -> VMStateDescription:
    """``vmstate_arm_cpu`` of QEMU 10.0 (aarch64 build)."""
    return _build("10.0")


@cache
def vmstate_arm_cpu(qemu_version: str) -> VMStateDescription:
    if qemu_version not in ("7.2", "10.0"):
        raise ValueError(f"no Arm description for QEMU {qemu_version!r}")
    return _build(qemu_version)


# --- the arch hook ---------------------------------------------------------------------

def matches(json_dev: dict | None, registry: Any = None) -> bool:
    """An Arm ``cpu`` section: fields ``env.regs``, ``env.xregs``, ``env.pc``, ``cpsr``."""
    if not json_dev or json_dev.get("vmsd_name") != "cpu":
        return False
    names = [f.get("name") for f in json_dev.get("fields", [])]
    return names[:4] == ["env.regs", "env.xregs", "env.pc", "cpsr"]


def new_cpu(qemu_version: str, parent: CPUState | None = None) -> ARMCPU:
    """An empty ARMCPU (every feature switch off), for a stream to fill."""
    cpu = ARMCPU(qemu_version=qemu_version)
    if parent is not None:
        cpu.parent_obj = parent
    return cpu


def descriptions(qemu_version: str, json_dev: dict | None,
                 registry: Any = None) -> dict[str, tuple[VMStateDescription, Callable[[], Any]]]:
    """``{"cpu": ..., "cpu_common": ...}``. As in QEMU, the ``cpu_common``
    opaque is the ARMCPU's own ``parent_obj`` (the section comes first)."""
    last: list[CPUState] = []

    def make_common() -> CPUState:
        last.append(CPUState())
        return last[-1]

    def make_cpu() -> ARMCPU:
        return new_cpu(qemu_version, last.pop() if last else None)

    return {
        "cpu": (vmstate_arm_cpu(qemu_version), make_cpu),
        "cpu_common": (vmstate_cpu_common, make_common),
    }
