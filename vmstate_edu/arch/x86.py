"""The x86 CPU as QEMU migrates it: ``target/i386/machine.c`` of QEMU 7.2
and 10.0 (``vmstate_x86_cpu``, idstr ``"cpu"``), written again in Python.

Read this file next to ``target/i386/machine.c``: the helper descriptions
(``segment``, ``xmm_reg``, ``ymmh_reg``, ``zmmh_reg``, ``hi16_zmm_reg``,
``bnd_regs``, ``mtrr_var``, ``lbr_records_var``, ``fpreg_tmp``/``fpreg``)
come first, then the hooks ``cpu_pre_save``/``cpu_post_load``, then every
subsection with its ``needed()`` predicate, in the same order, and last
``vmstate_x86_cpu`` with its 66 top-level fields and its subsection list
(43 in 7.2, 46 in 10.0: ``cpu/xen_vcpu``, ``cpu/msr_hwcr``, ``cpu/fred``).

The field names are the C expressions QEMU stringifies (``"env.regs"``,
``"env.cr[0]"``, ``"_q_ZMMReg[2]"``), so the model below is laid out as
``X86CPU.env`` (``CPUX86State``) is in ``target/i386/cpu.h``, holding only
what migrates plus the few inputs the hooks and ``needed()`` predicates read:

* the FPU as TCG keeps it (``fpstt``, ``fpus``, ``fptags``), from which
  ``cpu_pre_save`` derives the wire words ``fpus_vmstate``,
  ``fptag_vmstate`` and ``fpregs_format_vmstate`` and ``cpu_post_load``
  derives them back;
* the arithmetic flags as TCG keeps them while the vCPU runs (``cc_src``
  with ``cc_op == CC_OP_EFLAGS``, and ``df`` = +1/-1) apart from the rest
  of ``env.eflags``. The wire field ``"env.eflags"`` is stored through the
  property ``env.eflags_vmstate`` (``attr=``): reading it merges the three
  (``cpu_compute_eflags``, what ``x86_cpu_exec_exit`` does when a vCPU
  stops), writing it splits them (``x86_cpu_exec_enter``), so loading,
  saving and editing the full EFLAGS value all behave;
* feature switches (``env.features``, ``X86CPU.migrate_smi_count``,
  ``enable_lmce``, ``hyperv_features``, the machine's ``save_tsc_khz`` and
  the accelerator's ``xen_mode``) that the ``needed()`` predicates consult.

Editing a register (``env.regs[R_EAX]``, ``env.eip``, ``env.cc_src``) and
saving again changes exactly the bytes of that register.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from ..fields import (
    VMS_STRUCT,
    VMSTATE_INT32,
    VMSTATE_INT64,
    VMSTATE_STRUCT_ARRAY,
    VMSTATE_STRUCT_POINTER,
    VMSTATE_STRUCT_SUB_ARRAY,
    VMSTATE_U16,
    VMSTATE_U32,
    VMSTATE_U64,
    VMSTATE_UINT8,
    VMSTATE_UINT8_ARRAY,
    VMSTATE_UINT16,
    VMSTATE_UINT16_ARRAY,
    VMSTATE_UINT32,
    VMSTATE_UINT64,
    VMSTATE_UINT64_ARRAY,
    VMSTATE_UINT64_V,
    VMSTATE_UINTTL,
    VMSTATE_UINTTL_ARRAY,
    VMSTATE_WITH_TMP,
    VMStateDescription,
    VMStateField,
)
from ..info import vmstate_info_uint64
from .common import CPUState, vmstate_cpu_common

ARCH = "x86_64"
EINVAL = 22

# --- constants (target/i386/cpu.h, svm.h, hyperv-proto.h, linux-headers) -----

CPU_NB_REGS = 16           # CPU_NB_REGS64: TARGET_X86_64
MCE_BANKS_DEF = 10
MSR_MTRRcap_VCNT = 8
MAX_FIXED_COUNTERS = 3
MAX_GP_COUNTERS = 0x198 - 0x186   # MSR_IA32_PERF_STATUS - MSR_P6_EVNTSEL0 = 18
NB_OPMASK_REGS = 8
MAX_RTIT_ADDRS = 8
ARCH_LBR_NR_ENTRIES = 32
HV_CRASH_PARAMS = 5
HV_SINT_COUNT = 16
HV_STIMER_COUNT = 4
XEN_NR_VIRQS = 24
KVM_STATE_NESTED_VMX_VMCS_SIZE = 0x1000
KVM_STATE_NESTED_SVM_VMCB_SIZE = 0x1000
KVM_STATE_NESTED_FORMAT_VMX = 0
KVM_STATE_NESTED_FORMAT_SVM = 1

R_EAX, R_ECX, R_EDX, R_EBX, R_ESP, R_EBP, R_ESI, R_EDI = range(8)
R_ES, R_CS, R_SS, R_DS, R_FS, R_GS = range(6)

CC_C, CC_P, CC_A, CC_Z, CC_S, CC_O = 0x0001, 0x0004, 0x0010, 0x0040, 0x0080, 0x0800
CC_MASK = CC_O | CC_S | CC_Z | CC_A | CC_P | CC_C
DF_MASK = 0x00000400
CC_OP_EFLAGS = "CC_OP_EFLAGS"  # the enum's number differs between 7.2 and 10.0

DESC_DPL_SHIFT = 13
DESC_DPL_MASK = 3 << DESC_DPL_SHIFT
HF_CPL_MASK = 3
HF_GUEST_MASK = 1 << 21
HF2_NPT_MASK = 1 << 6
CR0_PE_MASK = 1 << 0
V_TPR_MASK = 0x0F
EXCP01_DB = 1
EXCP0E_PAGE = 14

MSR_IA32_MISC_ENABLE_DEFAULT = 1
MSR_IA32_MISC_ENABLE_MWAIT = 1 << 18
HYPERV_FEAT_RUNTIME = 6
HV_REENLIGHTENMENT_ENABLE_BIT = 1 << 16

# feature words (FeatureWord) and the bits the predicates test
FEAT_1_ECX = "FEAT_1_ECX"
FEAT_7_0_ECX = "FEAT_7_0_ECX"
FEAT_7_0_EDX = "FEAT_7_0_EDX"
FEAT_7_1_EAX = "FEAT_7_1_EAX"
FEAT_SVM = "FEAT_SVM"
FEAT_XSAVE = "FEAT_XSAVE"
FEAT_ARCH_CAPABILITIES = "FEAT_ARCH_CAPABILITIES"
CPUID_EXT_MONITOR = 1 << 3
CPUID_SVM_TSCSCALE = 1 << 4
CPUID_7_0_ECX_SGX_LC = 1 << 30
CPUID_7_0_EDX_ARCH_LBR = 1 << 19
CPUID_7_0_EDX_AMX_TILE = 1 << 24
CPUID_7_1_EAX_FRED = 1 << 17
CPUID_D_1_EAX_XFD = 1 << 4
ARCH_CAP_TSX_CTRL_MSR = 1 << 7

XEN_DISABLED, XEN_EMULATE = 0, 1


# --- the model: X86CPU / CPUX86State (target/i386/cpu.h) ----------------------

def _zeros(n: int) -> Any:
    return dc_field(default_factory=lambda: [0] * n)


@dataclass
class SegmentCache:
    """``SegmentCache``: a segment register's visible selector and its
    hidden descriptor cache (base, limit, flags with the DPL at bits 13-14)."""

    selector: int = 0
    base: int = 0
    limit: int = 0
    flags: int = 0


@dataclass
class ZMMReg:
    """``ZMMReg``: 512 bits as eight 64-bit words; ``ZMM_Q(n)`` is
    ``_q_ZMMReg[n]`` on a little-endian host, and that is the field name."""

    _q_ZMMReg: list[int] = _zeros(8)


@dataclass
class floatx80:  # noqa: N801  (softfloat's type name)
    """softfloat's ``floatx80``: 64-bit mantissa ``low``, sign+exponent ``high``."""

    low: int = 0
    high: int = 0


@dataclass
class FPReg:
    """``FPReg``: one x87 register (or MMX register in ``d.low``)."""

    d: floatx80 = dc_field(default_factory=floatx80)


@dataclass
class MTRRVar:
    base: int = 0
    mask: int = 0


@dataclass
class BNDReg:
    lb: int = 0
    ub: int = 0


@dataclass
class BNDCSReg:
    cfgu: int = 0
    sts: int = 0


class LBREntry:
    """``LBREntry``: its first member is called ``from``, a Python keyword,
    so the attribute is set with ``setattr`` (the accessor uses getattr)."""

    def __init__(self) -> None:
        setattr(self, "from", 0)
        self.to = 0
        self.info = 0

    def __repr__(self) -> str:
        return f"LBREntry(from={getattr(self, 'from'):#x}, to={self.to:#x}, info={self.info:#x})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LBREntry) and vars(self) == vars(other)


@dataclass
class KVMNestedStateVMXHdr:
    vmxon_pa: int = 0xFFFFFFFFFFFFFFFF
    vmcs12_pa: int = 0
    smm: Any = dc_field(default_factory=lambda: _Flags())


@dataclass
class _Flags:
    flags: int = 0


@dataclass
class KVMNestedStateSVMHdr:
    vmcb_pa: int = 0


@dataclass
class KVMNestedStateHdr:
    vmx: KVMNestedStateVMXHdr = dc_field(default_factory=KVMNestedStateVMXHdr)
    svm: KVMNestedStateSVMHdr = dc_field(default_factory=KVMNestedStateSVMHdr)


@dataclass
class KVMVMXData:
    vmcs12: list[int] = _zeros(KVM_STATE_NESTED_VMX_VMCS_SIZE)
    shadow_vmcs12: list[int] = _zeros(KVM_STATE_NESTED_VMX_VMCS_SIZE)


@dataclass
class KVMSVMData:
    vmcb12: list[int] = _zeros(KVM_STATE_NESTED_SVM_VMCB_SIZE)


@dataclass
class KVMNestedStateData:
    vmx: list[KVMVMXData] = dc_field(default_factory=lambda: [KVMVMXData()])
    svm: list[KVMSVMData] = dc_field(default_factory=lambda: [KVMSVMData()])


@dataclass
class kvm_nested_state:  # noqa: N801  (linux-headers/asm-x86/kvm.h)
    """``struct kvm_nested_state``: only KVM fills it; TCG leaves the pointer NULL."""

    flags: int = 0
    format: int = 0
    size: int = 0
    hdr: KVMNestedStateHdr = dc_field(default_factory=KVMNestedStateHdr)
    data: KVMNestedStateData = dc_field(default_factory=KVMNestedStateData)


def _default_features() -> dict[str, int]:
    return {w: 0 for w in (FEAT_1_ECX, FEAT_7_0_ECX, FEAT_7_0_EDX, FEAT_7_1_EAX, FEAT_SVM,
                           FEAT_XSAVE, FEAT_ARCH_CAPABILITIES)}


@dataclass
class CPUX86State:
    """``CPUX86State``: what ``vmstate_x86_cpu`` saves, in its order, then
    what the hooks and predicates read. Values are the reset values of a TCG
    vCPU where a subsection's ``needed()`` compares against them."""

    regs: list[int] = _zeros(CPU_NB_REGS)
    eip: int = 0
    eflags: int = 0x2        # without CC_* and DF: those are cc_src and df
    hflags: int = 0
    fpuc: int = 0x37F
    fpus_vmstate: int = 0    # wire form, made by cpu_pre_save
    fptag_vmstate: int = 0   # wire form, made by cpu_pre_save
    fpregs_format_vmstate: int = 0
    fpregs: list[FPReg] = dc_field(default_factory=lambda: [FPReg() for _ in range(8)])
    segs: list[SegmentCache] = dc_field(default_factory=lambda: [SegmentCache()
                                                                  for _ in range(6)])
    ldt: SegmentCache = dc_field(default_factory=SegmentCache)
    tr: SegmentCache = dc_field(default_factory=SegmentCache)
    gdt: SegmentCache = dc_field(default_factory=SegmentCache)
    idt: SegmentCache = dc_field(default_factory=SegmentCache)
    sysenter_cs: int = 0
    sysenter_esp: int = 0
    sysenter_eip: int = 0
    cr: list[int] = _zeros(5)
    dr: list[int] = _zeros(8)
    a20_mask: int = -1
    mxcsr: int = 0x1F80
    xmm_regs: list[ZMMReg] = dc_field(default_factory=lambda: [ZMMReg()
                                                                for _ in range(2 * CPU_NB_REGS)])
    efer: int = 0
    star: int = 0
    lstar: int = 0
    cstar: int = 0
    fmask: int = 0
    kernelgsbase: int = 0
    smbase: int = 0x30000
    pat: int = 0x0007040600070406
    hflags2: int = 0
    vm_hsave: int = 0
    vm_vmcb: int = 0
    tsc_offset: int = 0
    intercept: int = 0
    intercept_cr_read: int = 0
    intercept_cr_write: int = 0
    intercept_dr_read: int = 0
    intercept_dr_write: int = 0
    intercept_exceptions: int = 0
    v_tpr: int = 0
    mtrr_fixed: list[int] = _zeros(11)
    mtrr_deftype: int = 0
    mtrr_var: list[MTRRVar] = dc_field(default_factory=lambda: [MTRRVar()
                                                                 for _ in range(MSR_MTRRcap_VCNT)])
    interrupt_injected: int = -1
    mp_state: int = 0
    tsc: int = 0
    exception_nr: int = -1
    soft_interrupt: int = 0
    nmi_injected: int = 0
    nmi_pending: int = 0
    has_error_code: int = 0
    sipi_vector: int = 0
    mcg_cap: int = 0
    mcg_status: int = 0
    mcg_ctl: int = 0
    mce_banks: list[int] = _zeros(MCE_BANKS_DEF * 4)
    tsc_aux: int = 0
    system_time_msr: int = 0
    wall_clock_msr: int = 0
    xcr0: int = 1
    xstate_bv: int = 0
    # subsections, in the order of vmstate_x86_cpu.subsections
    exception_pending: int = 0
    exception_injected: int = 0
    exception_has_payload: int = 0
    exception_payload: int = 0
    async_pf_en_msr: int = 0
    async_pf_int_msr: int = 0
    pv_eoi_en_msr: int = 0
    steal_time_msr: int = 0
    poll_control_msr: int = 1          # "enabled by default": sent when != 1
    fpop: int = 0
    fpip: int = 0
    fpdp: int = 0
    tsc_adjust: int = 0
    tsc_deadline: int = 0
    msr_ia32_misc_enable: int = MSR_IA32_MISC_ENABLE_DEFAULT
    msr_ia32_feature_control: int = 0
    msr_fixed_ctr_ctrl: int = 0
    msr_global_ctrl: int = 0
    msr_global_status: int = 0
    msr_global_ovf_ctrl: int = 0
    msr_fixed_counters: list[int] = _zeros(MAX_FIXED_COUNTERS)
    msr_gp_counters: list[int] = _zeros(MAX_GP_COUNTERS)
    msr_gp_evtsel: list[int] = _zeros(MAX_GP_COUNTERS)
    bnd_regs: list[BNDReg] = dc_field(default_factory=lambda: [BNDReg() for _ in range(4)])
    bndcs_regs: BNDCSReg = dc_field(default_factory=BNDCSReg)
    msr_bndcfgs: int = 0
    msr_hv_guest_os_id: int = 0
    msr_hv_hypercall: int = 0
    msr_hv_vapic: int = 0
    msr_hv_tsc: int = 0
    msr_hv_crash_params: list[int] = _zeros(HV_CRASH_PARAMS)
    msr_hv_runtime: int = 0
    msr_hv_synic_control: int = 0
    msr_hv_synic_evt_page: int = 0
    msr_hv_synic_msg_page: int = 0
    msr_hv_synic_sint: list[int] = _zeros(HV_SINT_COUNT)
    msr_hv_stimer_config: list[int] = _zeros(HV_STIMER_COUNT)
    msr_hv_stimer_count: list[int] = _zeros(HV_STIMER_COUNT)
    msr_hv_reenlightenment_control: int = 0
    msr_hv_tsc_emulation_control: int = 0
    msr_hv_tsc_emulation_status: int = 0
    opmask_regs: list[int] = _zeros(NB_OPMASK_REGS)
    xss: int = 0
    umwait: int = 0
    tsc_khz: int = 0
    msr_smi_count: int = 0
    pkru: int = 0
    pkrs: int = 0
    spec_ctrl: int = 0
    amd_tsc_scale_msr: int = 0
    mcg_ext_ctl: int = 0
    msr_rtit_ctrl: int = 0
    msr_rtit_status: int = 0
    msr_rtit_output_base: int = 0
    msr_rtit_output_mask: int = 0
    msr_rtit_cr3_match: int = 0
    msr_rtit_addrs: list[int] = _zeros(MAX_RTIT_ADDRS)
    virt_ssbd: int = 0
    nested_cr3: int = 0
    nested_pg_mode: int = 0
    int_ctl: int = 0
    nested_state: kvm_nested_state | None = None   # NULL under TCG
    xen_vcpu_info_gpa: int = 0xFFFFFFFFFFFFFFFF
    xen_vcpu_info_default_gpa: int = 0xFFFFFFFFFFFFFFFF
    xen_vcpu_time_info_gpa: int = 0xFFFFFFFFFFFFFFFF
    xen_vcpu_runstate_gpa: int = 0xFFFFFFFFFFFFFFFF
    xen_vcpu_callback_vector: int = 0
    xen_virq: list[int] = _zeros(XEN_NR_VIRQS)
    xen_singleshot_timer_ns: int = 0
    xen_periodic_timer_period: int = 0
    tsx_ctrl: int = 0
    msr_ia32_sgxlepubkeyhash: list[int] = _zeros(4)
    pdptrs: list[int] = _zeros(4)
    msr_xfd: int = 0
    msr_xfd_err: int = 0
    msr_hwcr: int = 0
    fred_rsp0: int = 0
    fred_rsp1: int = 0
    fred_rsp2: int = 0
    fred_rsp3: int = 0
    fred_stklvls: int = 0
    fred_ssp1: int = 0
    fred_ssp2: int = 0
    fred_ssp3: int = 0
    fred_config: int = 0
    xtilecfg: list[int] = _zeros(64)
    xtiledata: list[int] = _zeros(8192)
    msr_lbr_ctl: int = 0
    msr_lbr_depth: int = 0
    lbr_records: list[LBREntry] = dc_field(default_factory=lambda: [LBREntry() for _ in
                                                                     range(ARCH_LBR_NR_ENTRIES)])
    triple_fault_pending: int = 0
    # --- not on the wire: what the hooks and predicates read ------------------
    fpstt: int = 0                      # top of the x87 stack
    fpus: int = 0                       # status word without TOP (bits 11-13)
    fptags: list[int] = dc_field(default_factory=lambda: [1] * 8)  # 1 = empty
    cc_src: int = 0                     # CC_* flags while cc_op == CC_OP_EFLAGS
    cc_op: str = CC_OP_EFLAGS
    df: int = 1                         # +1 or -1 (DF clear / set)
    pdptrs_valid: bool = False
    tsc_khz_user: int = 0               # user_tsc_khz: -cpu ...,tsc-frequency=
    features: dict[str, int] = dc_field(default_factory=_default_features)

    @property
    def eflags_vmstate(self) -> int:
        """The architectural EFLAGS, as the wire field ``env.eflags`` carries it."""
        return cpu_compute_eflags(self)

    @eflags_vmstate.setter
    def eflags_vmstate(self, value: int) -> None:
        self.eflags = value
        x86_cpu_exec_enter(self)


@dataclass
class X86CPU:
    """``X86CPU``: the generic ``CPUState`` (its own ``cpu_common`` section),
    ``env``, and the object properties the predicates read."""

    parent_obj: CPUState = dc_field(default_factory=CPUState)
    env: CPUX86State = dc_field(default_factory=CPUX86State)
    migrate_smi_count: bool = True      # property "x-migrate-smi-count"
    enable_lmce: bool = False           # property "lmce"
    hyperv_features: int = 0            # bit HYPERV_FEAT_* per hv-* property
    save_tsc_khz: bool = True           # X86MachineClass.save_tsc_khz
    xen_mode: int = XEN_DISABLED        # accel/kvm xen emulation (10.0)

    def set_feature(self, word: str, bit: int, on: bool = True) -> None:
        """Turn a CPUID feature on or off, with the reset-time consequence
        ``x86_cpu_reset_hold`` gives it: MONITOR sets MISC_ENABLE's MWAIT
        bit (that is what makes ``-cpu max`` send
        ``cpu/msr_ia32_misc_enable``)."""
        env = self.env
        env.features[word] = (env.features.get(word, 0) | bit) if on else \
            (env.features.get(word, 0) & ~bit)
        if word == FEAT_1_ECX and bit & CPUID_EXT_MONITOR:
            if on:
                env.msr_ia32_misc_enable |= MSR_IA32_MISC_ENABLE_MWAIT
            else:
                env.msr_ia32_misc_enable &= ~MSR_IA32_MISC_ENABLE_MWAIT


# --- TCG's lazy flags (target/i386/cpu.h, tcg/tcg-cpu.c) ------------------------

def cpu_compute_eflags(env: CPUX86State) -> int:
    """``cpu_compute_eflags``: ``eflags | cc_compute_all() | (df & DF_MASK)``.
    Our model keeps the flags only in the ``CC_OP_EFLAGS`` form."""
    if env.cc_op != CC_OP_EFLAGS:
        raise NotImplementedError("only cc_op == CC_OP_EFLAGS is modelled")
    return env.eflags | (env.cc_src & CC_MASK) | (DF_MASK if env.df == -1 else 0)


def x86_cpu_exec_enter(env: CPUX86State) -> None:
    """Split ``eflags`` into ``cc_src`` and ``df`` (``x86_cpu_exec_enter``)."""
    env.cc_src = env.eflags & CC_MASK
    env.df = 1 - (2 * ((env.eflags >> 10) & 1))
    env.cc_op = CC_OP_EFLAGS
    env.eflags &= ~(DF_MASK | CC_MASK)


def x86_cpu_exec_exit(env: CPUX86State) -> None:
    """Merge them back (``x86_cpu_exec_exit``): a stopped vCPU's ``eflags``."""
    env.eflags = cpu_compute_eflags(env)


# --- helper descriptions -------------------------------------------------------

vmstate_segment = VMStateDescription(
    "segment", version_id=1, minimum_version_id=1,
    fields=[
        VMSTATE_UINT32("selector"),
        VMSTATE_UINTTL("base"),
        VMSTATE_UINT32("limit"),
        VMSTATE_UINT32("flags"),
    ],
)


def VMSTATE_SEGMENT(name: str) -> VMStateField:
    """machine.c's ``VMSTATE_SEGMENT``: one ``SegmentCache`` as a struct."""
    return VMStateField(name, vmsd=vmstate_segment, flags=VMS_STRUCT,
                        factory=SegmentCache)


def VMSTATE_SEGMENT_ARRAY(name: str, n: int) -> VMStateField:
    return VMSTATE_STRUCT_ARRAY(name, n, 0, vmstate_segment)


vmstate_xmm_reg = VMStateDescription(
    "xmm_reg", version_id=1, minimum_version_id=1,
    fields=[VMSTATE_UINT64("_q_ZMMReg[0]"), VMSTATE_UINT64("_q_ZMMReg[1]")],
)


def VMSTATE_XMM_REGS(name: str, start: int) -> VMStateField:
    return VMSTATE_STRUCT_SUB_ARRAY(name, start, CPU_NB_REGS, 0, vmstate_xmm_reg)


# the YMMH format is the XMM one for bits 128-255
vmstate_ymmh_reg = VMStateDescription(
    "ymmh_reg", version_id=1, minimum_version_id=1,
    fields=[VMSTATE_UINT64("_q_ZMMReg[2]"), VMSTATE_UINT64("_q_ZMMReg[3]")],
)


def VMSTATE_YMMH_REGS_VARS(name: str, start: int, v: int) -> VMStateField:
    return VMSTATE_STRUCT_SUB_ARRAY(name, start, CPU_NB_REGS, v, vmstate_ymmh_reg)


vmstate_zmmh_reg = VMStateDescription(
    "zmmh_reg", version_id=1, minimum_version_id=1,
    fields=[VMSTATE_UINT64(f"_q_ZMMReg[{i}]") for i in (4, 5, 6, 7)],
)


def VMSTATE_ZMMH_REGS_VARS(name: str, start: int) -> VMStateField:
    return VMSTATE_STRUCT_SUB_ARRAY(name, start, CPU_NB_REGS, 0, vmstate_zmmh_reg)


vmstate_hi16_zmm_reg = VMStateDescription(
    "hi16_zmm_reg", version_id=1, minimum_version_id=1,
    fields=[VMSTATE_UINT64(f"_q_ZMMReg[{i}]") for i in range(8)],
)


def VMSTATE_Hi16_ZMM_REGS_VARS(name: str, start: int) -> VMStateField:
    return VMSTATE_STRUCT_SUB_ARRAY(name, start, CPU_NB_REGS, 0, vmstate_hi16_zmm_reg)


vmstate_bnd_regs = VMStateDescription(
    "bnd_regs", version_id=1, minimum_version_id=1,
    fields=[VMSTATE_UINT64("lb"), VMSTATE_UINT64("ub")],
)


def VMSTATE_BND_REGS(name: str, n: int) -> VMStateField:
    return VMSTATE_STRUCT_ARRAY(name, n, 0, vmstate_bnd_regs)


vmstate_mtrr_var = VMStateDescription(
    "mtrr_var", version_id=1, minimum_version_id=1,
    fields=[VMSTATE_UINT64("base"), VMSTATE_UINT64("mask")],
)


def VMSTATE_MTRR_VARS(name: str, n: int, v: int) -> VMStateField:
    return VMSTATE_STRUCT_ARRAY(name, n, v, vmstate_mtrr_var)


vmstate_lbr_records_var = VMStateDescription(
    "lbr_records_var", version_id=1, minimum_version_id=1,
    fields=[VMSTATE_UINT64("from"), VMSTATE_UINT64("to"), VMSTATE_UINT64("info")],
)


def VMSTATE_LBR_VARS(name: str, n: int, v: int) -> VMStateField:
    return VMSTATE_STRUCT_ARRAY(name, n, v, vmstate_lbr_records_var)


# An x87 register travels as mantissa + exponent through a temporary
# (VMSTATE_WITH_TMP): the wire form is not the in-memory form.

@dataclass
class x86_FPReg_tmp:  # noqa: N801
    parent: FPReg | None = None
    tmp_mant: int = 0
    tmp_exp: int = 0


def fpreg_pre_save(tmp: x86_FPReg_tmp) -> int:
    """``cpu_get_fp80``: the 64-bit mantissa (the MMX register) and the
    16-bit sign+exponent."""
    tmp.tmp_mant = tmp.parent.d.low
    tmp.tmp_exp = tmp.parent.d.high
    return 0


def fpreg_post_load(tmp: x86_FPReg_tmp, version_id: int) -> int:
    """``cpu_set_fp80``."""
    tmp.parent.d = floatx80(tmp.tmp_mant, tmp.tmp_exp)
    return 0


vmstate_fpreg_tmp = VMStateDescription(
    "fpreg_tmp", post_load=fpreg_post_load, pre_save=fpreg_pre_save,
    fields=[VMSTATE_UINT64("tmp_mant"), VMSTATE_UINT16("tmp_exp")],
)

vmstate_fpreg = VMStateDescription(
    "fpreg",
    fields=[VMSTATE_WITH_TMP(x86_FPReg_tmp, vmstate_fpreg_tmp)],
)


# --- cpu_pre_save / cpu_post_load -----------------------------------------------

def _fix_real_mode_dpl(env: CPUX86State) -> None:
    """Real-mode segments must have DPL 0 (old KVM set it wrongly)."""
    if not (env.cr[0] & CR0_PE_MASK) and (env.segs[R_CS].flags >> DESC_DPL_SHIFT & 3) != 0:
        for r in (R_CS, R_DS, R_ES, R_FS, R_GS, R_SS):
            env.segs[r].flags &= ~(env.segs[r].flags & DESC_DPL_MASK)


def cpu_pre_save(cpu: X86CPU) -> int:
    """``cpu_pre_save``: derive the wire words from the working state
    (``env.eflags`` needs nothing here: its property merges the flags)."""
    env = cpu.env
    env.v_tpr = env.int_ctl & V_TPR_MASK
    # FPU: TOP goes into bits 11-13 of the status word; tag bit i = register i valid
    env.fpus_vmstate = (env.fpus & ~0x3800) | (env.fpstt & 0x7) << 11
    env.fptag_vmstate = 0
    for i in range(8):
        env.fptag_vmstate |= (0 if env.fptags[i] else 1) << i
    env.fpregs_format_vmstate = 0
    _fix_real_mode_dpl(env)
    # (CONFIG_KVM nested-virtualisation check: KVM only)
    # a pending exception outside guest mode travels as an injected one
    if env.exception_pending and not (env.hflags & HF_GUEST_MASK):
        env.exception_pending = 0
        env.exception_injected = 1
        if env.exception_has_payload:
            if env.exception_nr == EXCP01_DB:
                env.dr[6] = env.exception_payload
            elif env.exception_nr == EXCP0E_PAGE:
                env.cr[2] = env.exception_payload
    return 0


def cpu_post_load(cpu: X86CPU, version_id: int) -> int:
    """``cpu_post_load``: checks, then the working state from the wire words."""
    env = cpu.env
    if env.tsc_khz and env.tsc_khz_user and env.tsc_khz != env.tsc_khz_user:
        return -EINVAL  # "Mismatch between user-specified TSC frequency and migrated ..."
    if env.fpregs_format_vmstate:
        return -EINVAL  # "Unsupported old non-softfloat CPU state"
    _fix_real_mode_dpl(env)
    # the CPL in hflags comes from SS.DPL
    env.hflags &= ~HF_CPL_MASK
    env.hflags |= (env.segs[R_SS].flags >> DESC_DPL_SHIFT) & HF_CPL_MASK
    if env.exception_nr != -1 and not env.exception_pending and not env.exception_injected:
        env.exception_injected = 1
    env.fpstt = (env.fpus_vmstate >> 11) & 7
    env.fpus = env.fpus_vmstate & ~0x3800
    env.fptag_vmstate ^= 0xFF
    for i in range(8):
        env.fptags[i] = (env.fptag_vmstate >> i) & 1
    env.fptag_vmstate ^= 0xFF  # ours: keep the wire word as loaded (QEMU leaves it flipped)
    # tcg_enabled(): update_fp_status, update_mxcsr_status, breakpoints from dr7,
    # tlb_flush -- nothing that migrates
    return 0


def _feature(word: str, bit: int) -> Any:
    """Ours: a subsection gated only by a CPUID bit was sent, so the bit is on."""
    def post_load(cpu: X86CPU, version_id: int) -> int:
        cpu.env.features[word] = cpu.env.features.get(word, 0) | bit
        return 0
    return post_load


def _switch(name: str, value: Any = True) -> Any:
    """Ours: a subsection gated by an object property was sent, so it is set."""
    def post_load(cpu: X86CPU, version_id: int) -> int:
        setattr(cpu, name, value)
        return 0
    return post_load


# --- subsections -----------------------------------------------------------------

def async_pf_msr_needed(cpu: X86CPU) -> bool:
    return cpu.env.async_pf_en_msr != 0


def async_pf_int_msr_needed(cpu: X86CPU) -> bool:
    return cpu.env.async_pf_int_msr != 0


def pv_eoi_msr_needed(cpu: X86CPU) -> bool:
    return cpu.env.pv_eoi_en_msr != 0


def steal_time_msr_needed(cpu: X86CPU) -> bool:
    return cpu.env.steal_time_msr != 0


def exception_info_needed(cpu: X86CPU) -> bool:
    """Only a pending exception while running L2 must stay distinct from an
    injected one (see cpu_pre_save)."""
    env = cpu.env
    return bool(env.exception_pending and (env.hflags & HF_GUEST_MASK))


vmstate_exception_info = VMStateDescription(
    "cpu/exception_info", version_id=1, minimum_version_id=1,
    needed=exception_info_needed,
    fields=[
        VMSTATE_UINT8("env.exception_pending"),
        VMSTATE_UINT8("env.exception_injected"),
        VMSTATE_UINT8("env.exception_has_payload"),
        VMSTATE_UINT64("env.exception_payload"),
    ],
)


def poll_control_msr_needed(cpu: X86CPU) -> bool:
    """Poll control is enabled (1) by default."""
    return cpu.env.poll_control_msr != 1


vmstate_steal_time_msr = VMStateDescription(
    "cpu/steal_time_msr", version_id=1, minimum_version_id=1,
    needed=steal_time_msr_needed,
    fields=[VMSTATE_UINT64("env.steal_time_msr")],
)

vmstate_async_pf_msr = VMStateDescription(
    "cpu/async_pf_msr", version_id=1, minimum_version_id=1,
    needed=async_pf_msr_needed,
    fields=[VMSTATE_UINT64("env.async_pf_en_msr")],
)

vmstate_async_pf_int_msr = VMStateDescription(
    "cpu/async_pf_int_msr", version_id=1, minimum_version_id=1,
    needed=async_pf_int_msr_needed,
    fields=[VMSTATE_UINT64("env.async_pf_int_msr")],
)

vmstate_pv_eoi_msr = VMStateDescription(
    "cpu/async_pv_eoi_msr", version_id=1, minimum_version_id=1,
    needed=pv_eoi_msr_needed,
    fields=[VMSTATE_UINT64("env.pv_eoi_en_msr")],
)

vmstate_poll_control_msr = VMStateDescription(
    "cpu/poll_control_msr", version_id=1, minimum_version_id=1,
    needed=poll_control_msr_needed,
    fields=[VMSTATE_UINT64("env.poll_control_msr")],
)


def fpop_ip_dp_needed(cpu: X86CPU) -> bool:
    env = cpu.env
    return env.fpop != 0 or env.fpip != 0 or env.fpdp != 0


vmstate_fpop_ip_dp = VMStateDescription(
    "cpu/fpop_ip_dp", version_id=1, minimum_version_id=1,
    needed=fpop_ip_dp_needed,
    fields=[VMSTATE_UINT16("env.fpop"), VMSTATE_UINT64("env.fpip"), VMSTATE_UINT64("env.fpdp")],
)


def tsc_adjust_needed(cpu: X86CPU) -> bool:
    return cpu.env.tsc_adjust != 0


vmstate_msr_tsc_adjust = VMStateDescription(
    "cpu/msr_tsc_adjust", version_id=1, minimum_version_id=1,
    needed=tsc_adjust_needed,
    fields=[VMSTATE_UINT64("env.tsc_adjust")],
)


def msr_smi_count_needed(cpu: X86CPU) -> bool:
    return cpu.migrate_smi_count and cpu.env.msr_smi_count != 0


vmstate_msr_smi_count = VMStateDescription(
    "cpu/msr_smi_count", version_id=1, minimum_version_id=1,
    needed=msr_smi_count_needed, post_load=_switch("migrate_smi_count"),
    fields=[VMSTATE_UINT64("env.msr_smi_count")],
)


def tscdeadline_needed(cpu: X86CPU) -> bool:
    return cpu.env.tsc_deadline != 0


vmstate_msr_tscdeadline = VMStateDescription(
    "cpu/msr_tscdeadline", version_id=1, minimum_version_id=1,
    needed=tscdeadline_needed,
    fields=[VMSTATE_UINT64("env.tsc_deadline")],
)


def misc_enable_needed(cpu: X86CPU) -> bool:
    return cpu.env.msr_ia32_misc_enable != MSR_IA32_MISC_ENABLE_DEFAULT


def feature_control_needed(cpu: X86CPU) -> bool:
    return cpu.env.msr_ia32_feature_control != 0


def _misc_enable_post_load(cpu: X86CPU, version_id: int) -> int:
    """Ours: the MWAIT bit at reset means the CPU has MONITOR (``-cpu max``)."""
    if cpu.env.msr_ia32_misc_enable & MSR_IA32_MISC_ENABLE_MWAIT:
        cpu.env.features[FEAT_1_ECX] |= CPUID_EXT_MONITOR
    return 0


vmstate_msr_ia32_misc_enable = VMStateDescription(
    "cpu/msr_ia32_misc_enable", version_id=1, minimum_version_id=1,
    needed=misc_enable_needed, post_load=_misc_enable_post_load,
    fields=[VMSTATE_UINT64("env.msr_ia32_misc_enable")],
)

vmstate_msr_ia32_feature_control = VMStateDescription(
    "cpu/msr_ia32_feature_control", version_id=1, minimum_version_id=1,
    needed=feature_control_needed,
    fields=[VMSTATE_UINT64("env.msr_ia32_feature_control")],
)


def pmu_enable_needed(cpu: X86CPU) -> bool:
    env = cpu.env
    if (env.msr_fixed_ctr_ctrl or env.msr_global_ctrl or env.msr_global_status
            or env.msr_global_ovf_ctrl):
        return True
    if any(env.msr_fixed_counters[:MAX_FIXED_COUNTERS]):
        return True
    return any(env.msr_gp_counters[i] or env.msr_gp_evtsel[i] for i in range(MAX_GP_COUNTERS))


vmstate_msr_architectural_pmu = VMStateDescription(
    "cpu/msr_architectural_pmu", version_id=1, minimum_version_id=1,
    needed=pmu_enable_needed,
    fields=[
        VMSTATE_UINT64("env.msr_fixed_ctr_ctrl"),
        VMSTATE_UINT64("env.msr_global_ctrl"),
        VMSTATE_UINT64("env.msr_global_status"),
        VMSTATE_UINT64("env.msr_global_ovf_ctrl"),
        VMSTATE_UINT64_ARRAY("env.msr_fixed_counters", MAX_FIXED_COUNTERS),
        VMSTATE_UINT64_ARRAY("env.msr_gp_counters", MAX_GP_COUNTERS),
        VMSTATE_UINT64_ARRAY("env.msr_gp_evtsel", MAX_GP_COUNTERS),
    ],
)


def mpx_needed(cpu: X86CPU) -> bool:
    env = cpu.env
    if any(env.bnd_regs[i].lb or env.bnd_regs[i].ub for i in range(4)):
        return True
    if env.bndcs_regs.cfgu or env.bndcs_regs.sts:
        return True
    return bool(env.msr_bndcfgs)


vmstate_mpx = VMStateDescription(
    "cpu/mpx", version_id=1, minimum_version_id=1,
    needed=mpx_needed,
    fields=[
        VMSTATE_BND_REGS("env.bnd_regs", 4),
        VMSTATE_UINT64("env.bndcs_regs.cfgu"),
        VMSTATE_UINT64("env.bndcs_regs.sts"),
        VMSTATE_UINT64("env.msr_bndcfgs"),
    ],
)


def hyperv_hypercall_enable_needed(cpu: X86CPU) -> bool:
    return cpu.env.msr_hv_hypercall != 0 or cpu.env.msr_hv_guest_os_id != 0


vmstate_msr_hyperv_hypercall = VMStateDescription(
    "cpu/msr_hyperv_hypercall", version_id=1, minimum_version_id=1,
    needed=hyperv_hypercall_enable_needed,
    fields=[VMSTATE_UINT64("env.msr_hv_guest_os_id"), VMSTATE_UINT64("env.msr_hv_hypercall")],
)


def hyperv_vapic_enable_needed(cpu: X86CPU) -> bool:
    return cpu.env.msr_hv_vapic != 0


vmstate_msr_hyperv_vapic = VMStateDescription(
    "cpu/msr_hyperv_vapic", version_id=1, minimum_version_id=1,
    needed=hyperv_vapic_enable_needed,
    fields=[VMSTATE_UINT64("env.msr_hv_vapic")],
)


def hyperv_time_enable_needed(cpu: X86CPU) -> bool:
    return cpu.env.msr_hv_tsc != 0


vmstate_msr_hyperv_time = VMStateDescription(
    "cpu/msr_hyperv_time", version_id=1, minimum_version_id=1,
    needed=hyperv_time_enable_needed,
    fields=[VMSTATE_UINT64("env.msr_hv_tsc")],
)


def hyperv_crash_enable_needed(cpu: X86CPU) -> bool:
    return any(cpu.env.msr_hv_crash_params[i] for i in range(HV_CRASH_PARAMS))


vmstate_msr_hyperv_crash = VMStateDescription(
    "cpu/msr_hyperv_crash", version_id=1, minimum_version_id=1,
    needed=hyperv_crash_enable_needed,
    fields=[VMSTATE_UINT64_ARRAY("env.msr_hv_crash_params", HV_CRASH_PARAMS)],
)


def hyperv_runtime_enable_needed(cpu: X86CPU) -> bool:
    if not cpu.hyperv_features & (1 << HYPERV_FEAT_RUNTIME):  # hyperv_feat_enabled()
        return False
    return cpu.env.msr_hv_runtime != 0


def _hyperv_runtime_post_load(cpu: X86CPU, version_id: int) -> int:
    """Ours: the subsection was sent, so ``hv-runtime`` is on."""
    cpu.hyperv_features |= 1 << HYPERV_FEAT_RUNTIME
    return 0


vmstate_msr_hyperv_runtime = VMStateDescription(
    "cpu/msr_hyperv_runtime", version_id=1, minimum_version_id=1,
    needed=hyperv_runtime_enable_needed,
    post_load=_hyperv_runtime_post_load,
    fields=[VMSTATE_UINT64("env.msr_hv_runtime")],
)


def hyperv_synic_enable_needed(cpu: X86CPU) -> bool:
    env = cpu.env
    if env.msr_hv_synic_control != 0 or env.msr_hv_synic_evt_page != 0 or \
            env.msr_hv_synic_msg_page != 0:
        return True
    return any(s != 0 for s in env.msr_hv_synic_sint)


def hyperv_synic_post_load(cpu: X86CPU, version_id: int) -> int:
    """``hyperv_x86_synic_update``: re-points the SynIC pages; nothing migrates."""
    return 0


vmstate_msr_hyperv_synic = VMStateDescription(
    "cpu/msr_hyperv_synic", version_id=1, minimum_version_id=1,
    needed=hyperv_synic_enable_needed, post_load=hyperv_synic_post_load,
    fields=[
        VMSTATE_UINT64("env.msr_hv_synic_control"),
        VMSTATE_UINT64("env.msr_hv_synic_evt_page"),
        VMSTATE_UINT64("env.msr_hv_synic_msg_page"),
        VMSTATE_UINT64_ARRAY("env.msr_hv_synic_sint", HV_SINT_COUNT),
    ],
)


def hyperv_stimer_enable_needed(cpu: X86CPU) -> bool:
    env = cpu.env
    return any(env.msr_hv_stimer_config[i] or env.msr_hv_stimer_count[i]
               for i in range(len(env.msr_hv_stimer_config)))


vmstate_msr_hyperv_stimer = VMStateDescription(
    "cpu/msr_hyperv_stimer", version_id=1, minimum_version_id=1,
    needed=hyperv_stimer_enable_needed,
    fields=[
        VMSTATE_UINT64_ARRAY("env.msr_hv_stimer_config", HV_STIMER_COUNT),
        VMSTATE_UINT64_ARRAY("env.msr_hv_stimer_count", HV_STIMER_COUNT),
    ],
)


def hyperv_reenlightenment_enable_needed(cpu: X86CPU) -> bool:
    env = cpu.env
    return (env.msr_hv_reenlightenment_control != 0 or env.msr_hv_tsc_emulation_control != 0
            or env.msr_hv_tsc_emulation_status != 0)


def hyperv_reenlightenment_post_load(cpu: X86CPU, version_id: int) -> int:
    """The TSC frequency must not change when the guest asked for
    re-enlightenment notifications: ``tsc-frequency=`` is required."""
    env = cpu.env
    if env.msr_hv_reenlightenment_control & HV_REENLIGHTENMENT_ENABLE_BIT and \
            not env.tsc_khz_user:
        return -EINVAL
    return 0


vmstate_msr_hyperv_reenlightenment = VMStateDescription(
    "cpu/msr_hyperv_reenlightenment", version_id=1, minimum_version_id=1,
    needed=hyperv_reenlightenment_enable_needed,
    post_load=hyperv_reenlightenment_post_load,
    fields=[
        VMSTATE_UINT64("env.msr_hv_reenlightenment_control"),
        VMSTATE_UINT64("env.msr_hv_tsc_emulation_control"),
        VMSTATE_UINT64("env.msr_hv_tsc_emulation_status"),
    ],
)


def avx512_needed(cpu: X86CPU) -> bool:
    env = cpu.env
    if any(env.opmask_regs[:NB_OPMASK_REGS]):
        return True
    for i in range(CPU_NB_REGS):
        q = env.xmm_regs[i]._q_ZMMReg
        if q[4] or q[6] or q[5] or q[7]:
            return True
        if any(env.xmm_regs[i + 16]._q_ZMMReg[:8]):   # TARGET_X86_64
            return True
    return False


vmstate_avx512 = VMStateDescription(
    "cpu/avx512", version_id=1, minimum_version_id=1,
    needed=avx512_needed,
    fields=[
        VMSTATE_UINT64_ARRAY("env.opmask_regs", NB_OPMASK_REGS),
        VMSTATE_ZMMH_REGS_VARS("env.xmm_regs", 0),
        VMSTATE_Hi16_ZMM_REGS_VARS("env.xmm_regs", 16),   # TARGET_X86_64
    ],
)


def xss_needed(cpu: X86CPU) -> bool:
    return cpu.env.xss != 0


vmstate_xss = VMStateDescription(
    "cpu/xss", version_id=1, minimum_version_id=1, needed=xss_needed,
    fields=[VMSTATE_UINT64("env.xss")],
)


def umwait_needed(cpu: X86CPU) -> bool:
    return cpu.env.umwait != 0


vmstate_umwait = VMStateDescription(
    "cpu/umwait", version_id=1, minimum_version_id=1, needed=umwait_needed,
    fields=[VMSTATE_UINT32("env.umwait")],
)


def pkru_needed(cpu: X86CPU) -> bool:
    return cpu.env.pkru != 0


vmstate_pkru = VMStateDescription(
    "cpu/pkru", version_id=1, minimum_version_id=1, needed=pkru_needed,
    fields=[VMSTATE_UINT32("env.pkru")],
)


def pkrs_needed(cpu: X86CPU) -> bool:
    return cpu.env.pkrs != 0


vmstate_pkrs = VMStateDescription(
    "cpu/pkrs", version_id=1, minimum_version_id=1, needed=pkrs_needed,
    fields=[VMSTATE_UINT32("env.pkrs")],
)


def tsc_khz_needed(cpu: X86CPU) -> bool:
    """Sent when known and the machine type saves it (``x86mc->save_tsc_khz``)."""
    return bool(cpu.env.tsc_khz and cpu.save_tsc_khz)


vmstate_tsc_khz = VMStateDescription(
    "cpu/tsc_khz", version_id=1, minimum_version_id=1,
    needed=tsc_khz_needed, post_load=_switch("save_tsc_khz"),
    fields=[VMSTATE_INT64("env.tsc_khz")],
)


# CONFIG_KVM: the nested-virtualisation state (a NULL pointer under TCG)

def vmx_vmcs12_needed(ns: kvm_nested_state) -> bool:
    return ns.size > 128           # offsetof(struct kvm_nested_state, data.vmx[0].vmcs12)


vmstate_vmx_vmcs12 = VMStateDescription(
    "cpu/kvm_nested_state/vmx/vmcs12", version_id=1, minimum_version_id=1,
    needed=vmx_vmcs12_needed,
    fields=[VMSTATE_UINT8_ARRAY("data.vmx[0].vmcs12", KVM_STATE_NESTED_VMX_VMCS_SIZE)],
)


def vmx_shadow_vmcs12_needed(ns: kvm_nested_state) -> bool:
    return ns.size > 128 + KVM_STATE_NESTED_VMX_VMCS_SIZE  # ...data.vmx[0].shadow_vmcs12


vmstate_vmx_shadow_vmcs12 = VMStateDescription(
    "cpu/kvm_nested_state/vmx/shadow_vmcs12", version_id=1, minimum_version_id=1,
    needed=vmx_shadow_vmcs12_needed,
    fields=[VMSTATE_UINT8_ARRAY("data.vmx[0].shadow_vmcs12", KVM_STATE_NESTED_VMX_VMCS_SIZE)],
)


def vmx_nested_state_needed(ns: kvm_nested_state) -> bool:
    return ns.format == KVM_STATE_NESTED_FORMAT_VMX and \
        ns.hdr.vmx.vmxon_pa != 0xFFFFFFFFFFFFFFFF


vmstate_vmx_nested_state = VMStateDescription(
    "cpu/kvm_nested_state/vmx", version_id=1, minimum_version_id=1,
    needed=vmx_nested_state_needed,
    fields=[
        VMSTATE_U64("hdr.vmx.vmxon_pa"),
        VMSTATE_U64("hdr.vmx.vmcs12_pa"),
        VMSTATE_U16("hdr.vmx.smm.flags"),
    ],
    subsections=[vmstate_vmx_vmcs12, vmstate_vmx_shadow_vmcs12],
)


def svm_nested_state_needed(ns: kvm_nested_state) -> bool:
    """hflags/hflags2 already carry HF_GUEST_MASK and HF2_GIF_MASK; what is
    left is the opaque nested-state blob."""
    return ns.format == KVM_STATE_NESTED_FORMAT_SVM and ns.size > 128  # offsetof(.., data)


vmstate_svm_nested_state = VMStateDescription(
    "cpu/kvm_nested_state/svm", version_id=1, minimum_version_id=1,
    needed=svm_nested_state_needed,
    fields=[
        VMSTATE_U64("hdr.svm.vmcb_pa"),
        VMSTATE_UINT8_ARRAY("data.svm[0].vmcb12", KVM_STATE_NESTED_SVM_VMCB_SIZE),
    ],
)


def nested_state_needed(cpu: X86CPU) -> bool:
    ns = cpu.env.nested_state
    return ns is not None and (vmx_nested_state_needed(ns) or svm_nested_state_needed(ns))


def nested_state_post_load(cpu: X86CPU, version_id: int) -> int:
    """Only a KVM host can restore nested state: ``kvm_max_nested_state_length``
    is 0 under TCG, so QEMU refuses it."""
    return -EINVAL


vmstate_kvm_nested_state = VMStateDescription(
    "cpu/kvm_nested_state", version_id=1, minimum_version_id=1,
    fields=[VMSTATE_U16("flags"), VMSTATE_U16("format"), VMSTATE_U32("size")],
    subsections=[vmstate_vmx_nested_state, vmstate_svm_nested_state],
)

vmstate_nested_state = VMStateDescription(
    "cpu/nested_state", version_id=1, minimum_version_id=1,
    needed=nested_state_needed, post_load=nested_state_post_load,
    fields=[VMSTATE_STRUCT_POINTER("env.nested_state", vmstate_kvm_nested_state)],
)
vmstate_nested_state.fields[0].factory = kvm_nested_state


def mcg_ext_ctl_needed(cpu: X86CPU) -> bool:
    return bool(cpu.enable_lmce and cpu.env.mcg_ext_ctl)


vmstate_mcg_ext_ctl = VMStateDescription(
    "cpu/mcg_ext_ctl", version_id=1, minimum_version_id=1,
    needed=mcg_ext_ctl_needed, post_load=_switch("enable_lmce"),
    fields=[VMSTATE_UINT64("env.mcg_ext_ctl")],
)


def spec_ctrl_needed(cpu: X86CPU) -> bool:
    return cpu.env.spec_ctrl != 0


vmstate_spec_ctrl = VMStateDescription(
    "cpu/spec_ctrl", version_id=1, minimum_version_id=1, needed=spec_ctrl_needed,
    fields=[VMSTATE_UINT64("env.spec_ctrl")],
)


def amd_tsc_scale_msr_needed(cpu: X86CPU) -> bool:
    return bool(cpu.env.features[FEAT_SVM] & CPUID_SVM_TSCSCALE)


amd_tsc_scale_msr_ctrl = VMStateDescription(
    "cpu/amd_tsc_scale_msr", version_id=1, minimum_version_id=1,
    needed=amd_tsc_scale_msr_needed, post_load=_feature(FEAT_SVM, CPUID_SVM_TSCSCALE),
    fields=[VMSTATE_UINT64("env.amd_tsc_scale_msr")],
)


def intel_pt_enable_needed(cpu: X86CPU) -> bool:
    env = cpu.env
    if (env.msr_rtit_ctrl or env.msr_rtit_status or env.msr_rtit_output_base
            or env.msr_rtit_output_mask or env.msr_rtit_cr3_match):
        return True
    return any(env.msr_rtit_addrs[:MAX_RTIT_ADDRS])


vmstate_msr_intel_pt = VMStateDescription(
    "cpu/intel_pt", version_id=1, minimum_version_id=1, needed=intel_pt_enable_needed,
    fields=[
        VMSTATE_UINT64("env.msr_rtit_ctrl"),
        VMSTATE_UINT64("env.msr_rtit_status"),
        VMSTATE_UINT64("env.msr_rtit_output_base"),
        VMSTATE_UINT64("env.msr_rtit_output_mask"),
        VMSTATE_UINT64("env.msr_rtit_cr3_match"),
        VMSTATE_UINT64_ARRAY("env.msr_rtit_addrs", MAX_RTIT_ADDRS),
    ],
)


def virt_ssbd_needed(cpu: X86CPU) -> bool:
    return cpu.env.virt_ssbd != 0


vmstate_msr_virt_ssbd = VMStateDescription(
    "cpu/virt_ssbd", version_id=1, minimum_version_id=1, needed=virt_ssbd_needed,
    fields=[VMSTATE_UINT64("env.virt_ssbd")],
)


def svm_npt_needed(cpu: X86CPU) -> bool:
    return bool(cpu.env.hflags2 & HF2_NPT_MASK)


vmstate_svm_npt = VMStateDescription(
    "cpu/svn_npt", version_id=1, minimum_version_id=1,   # sic: "svn" in QEMU
    needed=svm_npt_needed,
    fields=[VMSTATE_UINT64("env.nested_cr3"), VMSTATE_UINT32("env.nested_pg_mode")],
)


def svm_guest_needed(cpu: X86CPU) -> bool:
    return bool(cpu.env.int_ctl)  # tcg_enabled() && int_ctl


vmstate_svm_guest = VMStateDescription(
    "cpu/svm_guest", version_id=1, minimum_version_id=1, needed=svm_guest_needed,
    fields=[VMSTATE_UINT32("env.int_ctl")],
)


def xen_vcpu_needed(cpu: X86CPU) -> bool:
    return cpu.xen_mode == XEN_EMULATE


vmstate_xen_vcpu = VMStateDescription(      # 10.0
    "cpu/xen_vcpu", version_id=1, minimum_version_id=1,
    needed=xen_vcpu_needed, post_load=_switch("xen_mode", XEN_EMULATE),
    fields=[
        VMSTATE_UINT64("env.xen_vcpu_info_gpa"),
        VMSTATE_UINT64("env.xen_vcpu_info_default_gpa"),
        VMSTATE_UINT64("env.xen_vcpu_time_info_gpa"),
        VMSTATE_UINT64("env.xen_vcpu_runstate_gpa"),
        VMSTATE_UINT8("env.xen_vcpu_callback_vector"),
        VMSTATE_UINT16_ARRAY("env.xen_virq", XEN_NR_VIRQS),
        VMSTATE_UINT64("env.xen_singleshot_timer_ns"),
        VMSTATE_UINT64("env.xen_periodic_timer_period"),
    ],
)


def msr_tsx_ctrl_needed(cpu: X86CPU) -> bool:
    return bool(cpu.env.features[FEAT_ARCH_CAPABILITIES] & ARCH_CAP_TSX_CTRL_MSR)


vmstate_msr_tsx_ctrl = VMStateDescription(
    "cpu/msr_tsx_ctrl", version_id=1, minimum_version_id=1,
    needed=msr_tsx_ctrl_needed, post_load=_feature(FEAT_ARCH_CAPABILITIES, ARCH_CAP_TSX_CTRL_MSR),
    fields=[VMSTATE_UINT32("env.tsx_ctrl")],
)


def intel_sgx_msrs_needed(cpu: X86CPU) -> bool:
    return bool(cpu.env.features[FEAT_7_0_ECX] & CPUID_7_0_ECX_SGX_LC)


vmstate_msr_intel_sgx = VMStateDescription(
    "cpu/intel_sgx", version_id=1, minimum_version_id=1,
    needed=intel_sgx_msrs_needed, post_load=_feature(FEAT_7_0_ECX, CPUID_7_0_ECX_SGX_LC),
    fields=[VMSTATE_UINT64_ARRAY("env.msr_ia32_sgxlepubkeyhash", 4)],
)


def pdptrs_needed(cpu: X86CPU) -> bool:
    return bool(cpu.env.pdptrs_valid)


def pdptrs_post_load(cpu: X86CPU, version_id: int) -> int:
    cpu.env.pdptrs_valid = True
    return 0


vmstate_pdptrs = VMStateDescription(
    "cpu/pdptrs", version_id=1, minimum_version_id=1,
    needed=pdptrs_needed, post_load=pdptrs_post_load,
    fields=[VMSTATE_UINT64_ARRAY("env.pdptrs", 4)],
)


def xfd_msrs_needed(cpu: X86CPU) -> bool:
    return bool(cpu.env.features[FEAT_XSAVE] & CPUID_D_1_EAX_XFD)


vmstate_msr_xfd = VMStateDescription(
    "cpu/msr_xfd", version_id=1, minimum_version_id=1,
    needed=xfd_msrs_needed, post_load=_feature(FEAT_XSAVE, CPUID_D_1_EAX_XFD),
    fields=[VMSTATE_UINT64("env.msr_xfd"), VMSTATE_UINT64("env.msr_xfd_err")],
)


def msr_hwcr_needed(cpu: X86CPU) -> bool:
    return cpu.env.msr_hwcr != 0


vmstate_msr_hwcr = VMStateDescription(      # 10.0
    "cpu/msr_hwcr", version_id=1, minimum_version_id=1, needed=msr_hwcr_needed,
    fields=[VMSTATE_UINT64("env.msr_hwcr")],
)


def intel_fred_msrs_needed(cpu: X86CPU) -> bool:
    return bool(cpu.env.features[FEAT_7_1_EAX] & CPUID_7_1_EAX_FRED)


vmstate_msr_fred = VMStateDescription(      # 10.0, TARGET_X86_64
    "cpu/fred", version_id=1, minimum_version_id=1,
    needed=intel_fred_msrs_needed, post_load=_feature(FEAT_7_1_EAX, CPUID_7_1_EAX_FRED),
    fields=[VMSTATE_UINT64(f"env.{n}") for n in (
        "fred_rsp0", "fred_rsp1", "fred_rsp2", "fred_rsp3", "fred_stklvls", "fred_ssp1",
        "fred_ssp2", "fred_ssp3", "fred_config")],
)


def amx_xtile_needed(cpu: X86CPU) -> bool:
    return bool(cpu.env.features[FEAT_7_0_EDX] & CPUID_7_0_EDX_AMX_TILE)


vmstate_amx_xtile = VMStateDescription(    # TARGET_X86_64
    "cpu/intel_amx_xtile", version_id=1, minimum_version_id=1,
    needed=amx_xtile_needed, post_load=_feature(FEAT_7_0_EDX, CPUID_7_0_EDX_AMX_TILE),
    fields=[VMSTATE_UINT8_ARRAY("env.xtilecfg", 64), VMSTATE_UINT8_ARRAY("env.xtiledata", 8192)],
)


def arch_lbr_needed(cpu: X86CPU) -> bool:
    return bool(cpu.env.features[FEAT_7_0_EDX] & CPUID_7_0_EDX_ARCH_LBR)


vmstate_arch_lbr = VMStateDescription(
    "cpu/arch_lbr", version_id=1, minimum_version_id=1,
    needed=arch_lbr_needed, post_load=_feature(FEAT_7_0_EDX, CPUID_7_0_EDX_ARCH_LBR),
    fields=[
        VMSTATE_UINT64("env.msr_lbr_ctl"),
        VMSTATE_UINT64("env.msr_lbr_depth"),
        VMSTATE_LBR_VARS("env.lbr_records", ARCH_LBR_NR_ENTRIES, 1),
    ],
)


def triple_fault_needed(cpu: X86CPU) -> bool:
    return bool(cpu.env.triple_fault_pending)


vmstate_triple_fault = VMStateDescription(
    "cpu/triple_fault", version_id=1, minimum_version_id=1, needed=triple_fault_needed,
    fields=[VMSTATE_UINT8("env.triple_fault_pending")],
)


# --- vmstate_x86_cpu ----------------------------------------------------------------

def _x86_cpu_fields() -> list[VMStateField]:
    """The top-level field list (the same in 7.2 and 10.0). It is not sorted
    by version: xcr0, xstate_bv and the YMM upper halves came in version 12."""
    return [
        VMSTATE_UINTTL_ARRAY("env.regs", CPU_NB_REGS),
        VMSTATE_UINTTL("env.eip"),
        VMStateField("env.eflags", info=vmstate_info_uint64, size=8,
                     attr="env.eflags_vmstate"),   # VMSTATE_UINTTL; see CPUX86State
        VMSTATE_UINT32("env.hflags"),
        # FPU
        VMSTATE_UINT16("env.fpuc"),
        VMSTATE_UINT16("env.fpus_vmstate"),
        VMSTATE_UINT16("env.fptag_vmstate"),
        VMSTATE_UINT16("env.fpregs_format_vmstate"),

        VMSTATE_STRUCT_ARRAY("env.fpregs", 8, 0, vmstate_fpreg),

        VMSTATE_SEGMENT_ARRAY("env.segs", 6),
        VMSTATE_SEGMENT("env.ldt"),
        VMSTATE_SEGMENT("env.tr"),
        VMSTATE_SEGMENT("env.gdt"),
        VMSTATE_SEGMENT("env.idt"),

        VMSTATE_UINT32("env.sysenter_cs"),
        VMSTATE_UINTTL("env.sysenter_esp"),
        VMSTATE_UINTTL("env.sysenter_eip"),

        VMSTATE_UINTTL("env.cr[0]"),
        VMSTATE_UINTTL("env.cr[2]"),
        VMSTATE_UINTTL("env.cr[3]"),
        VMSTATE_UINTTL("env.cr[4]"),
        VMSTATE_UINTTL_ARRAY("env.dr", 8),
        # MMU
        VMSTATE_INT32("env.a20_mask"),
        # XMM
        VMSTATE_UINT32("env.mxcsr"),
        VMSTATE_XMM_REGS("env.xmm_regs", 0),
        # TARGET_X86_64
        VMSTATE_UINT64("env.efer"),
        VMSTATE_UINT64("env.star"),
        VMSTATE_UINT64("env.lstar"),
        VMSTATE_UINT64("env.cstar"),
        VMSTATE_UINT64("env.fmask"),
        VMSTATE_UINT64("env.kernelgsbase"),

        VMSTATE_UINT32("env.smbase"),

        VMSTATE_UINT64("env.pat"),
        VMSTATE_UINT32("env.hflags2"),

        VMSTATE_UINT64("env.vm_hsave"),
        VMSTATE_UINT64("env.vm_vmcb"),
        VMSTATE_UINT64("env.tsc_offset"),
        VMSTATE_UINT64("env.intercept"),
        VMSTATE_UINT16("env.intercept_cr_read"),
        VMSTATE_UINT16("env.intercept_cr_write"),
        VMSTATE_UINT16("env.intercept_dr_read"),
        VMSTATE_UINT16("env.intercept_dr_write"),
        VMSTATE_UINT32("env.intercept_exceptions"),
        VMSTATE_UINT8("env.v_tpr"),
        # MTRRs
        VMSTATE_UINT64_ARRAY("env.mtrr_fixed", 11),
        VMSTATE_UINT64("env.mtrr_deftype"),
        VMSTATE_MTRR_VARS("env.mtrr_var", MSR_MTRRcap_VCNT, 8),
        # KVM-related state
        VMSTATE_INT32("env.interrupt_injected"),
        VMSTATE_UINT32("env.mp_state"),
        VMSTATE_UINT64("env.tsc"),
        VMSTATE_INT32("env.exception_nr"),
        VMSTATE_UINT8("env.soft_interrupt"),
        VMSTATE_UINT8("env.nmi_injected"),
        VMSTATE_UINT8("env.nmi_pending"),
        VMSTATE_UINT8("env.has_error_code"),
        VMSTATE_UINT32("env.sipi_vector"),
        # MCE
        VMSTATE_UINT64("env.mcg_cap"),
        VMSTATE_UINT64("env.mcg_status"),
        VMSTATE_UINT64("env.mcg_ctl"),
        VMSTATE_UINT64_ARRAY("env.mce_banks", MCE_BANKS_DEF * 4),
        # rdtscp
        VMSTATE_UINT64("env.tsc_aux"),
        # KVM pvclock MSRs
        VMSTATE_UINT64("env.system_time_msr"),
        VMSTATE_UINT64("env.wall_clock_msr"),
        # XSAVE
        VMSTATE_UINT64_V("env.xcr0", 12),
        VMSTATE_UINT64_V("env.xstate_bv", 12),
        VMSTATE_YMMH_REGS_VARS("env.xmm_regs", 0, 12),
    ]


_SUBSECTIONS_HEAD = [
    vmstate_exception_info,
    vmstate_async_pf_msr,
    vmstate_async_pf_int_msr,
    vmstate_pv_eoi_msr,
    vmstate_steal_time_msr,
    vmstate_poll_control_msr,
    vmstate_fpop_ip_dp,
    vmstate_msr_tsc_adjust,
    vmstate_msr_tscdeadline,
    vmstate_msr_ia32_misc_enable,
    vmstate_msr_ia32_feature_control,
    vmstate_msr_architectural_pmu,
    vmstate_mpx,
    vmstate_msr_hyperv_hypercall,
    vmstate_msr_hyperv_vapic,
    vmstate_msr_hyperv_time,
    vmstate_msr_hyperv_crash,
    vmstate_msr_hyperv_runtime,
    vmstate_msr_hyperv_synic,
    vmstate_msr_hyperv_stimer,
    vmstate_msr_hyperv_reenlightenment,
    vmstate_avx512,
    vmstate_xss,
    vmstate_umwait,
    vmstate_tsc_khz,
    vmstate_msr_smi_count,
    vmstate_pkru,
    vmstate_pkrs,
    vmstate_spec_ctrl,
    amd_tsc_scale_msr_ctrl,
    vmstate_mcg_ext_ctl,
    vmstate_msr_intel_pt,
    vmstate_msr_virt_ssbd,
    vmstate_svm_npt,
    vmstate_svm_guest,
    # (#ifndef TARGET_X86_64: vmstate_efer32)
]

SUBSECTIONS_7_2 = _SUBSECTIONS_HEAD + [
    vmstate_nested_state,            # CONFIG_KVM (Debian builds it)
    vmstate_msr_tsx_ctrl,
    vmstate_msr_intel_sgx,
    vmstate_pdptrs,
    vmstate_msr_xfd,
    vmstate_amx_xtile,               # TARGET_X86_64
    vmstate_arch_lbr,
    vmstate_triple_fault,
]

SUBSECTIONS_10_0 = _SUBSECTIONS_HEAD + [
    vmstate_nested_state,            # CONFIG_KVM
    vmstate_xen_vcpu,                # CONFIG_KVM
    vmstate_msr_tsx_ctrl,
    vmstate_msr_intel_sgx,
    vmstate_pdptrs,
    vmstate_msr_xfd,
    vmstate_msr_hwcr,
    vmstate_msr_fred,                # TARGET_X86_64
    vmstate_amx_xtile,               # TARGET_X86_64
    vmstate_arch_lbr,
    vmstate_triple_fault,
]


def make_vmstate_x86_cpu(qemu_version: str) -> VMStateDescription:
    """``vmstate_x86_cpu`` of QEMU ``"7.2"`` or ``"10.0"``: version 12,
    minimum 11; only the subsection list differs."""
    subs = SUBSECTIONS_10_0 if qemu_version.startswith("10") else SUBSECTIONS_7_2
    return VMStateDescription(
        "cpu", version_id=12, minimum_version_id=11,
        pre_save=cpu_pre_save, post_load=cpu_post_load,
        fields=_x86_cpu_fields(),
        subsections=subs,
    )


vmstate_x86_cpu_7_2 = make_vmstate_x86_cpu("7.2")
vmstate_x86_cpu_10_0 = make_vmstate_x86_cpu("10.0")


# --- the arch hook (vmstate_edu.arch) --------------------------------------------

def matches(json_dev: dict | None, registry: Any) -> bool:
    """An x86 ``cpu`` section: ``vmsd_name`` "cpu", and it has ``env.eip``
    and ``env.xmm_regs`` fields."""
    if not json_dev or json_dev.get("vmsd_name") != "cpu":
        return False
    names = {f.get("name", "") for f in json_dev.get("fields", [])}
    return "env.eip" in names and any(n.startswith("env.xmm_regs") for n in names)


def descriptions(qemu_version: str, json_dev: dict | None, registry: Any) -> dict:
    """``{"cpu": (vmstate_x86_cpu, X86CPU), "cpu_common": (vmstate_cpu_common,
    CPUState)}`` for QEMU ``qemu_version``."""
    vmsd = vmstate_x86_cpu_10_0 if str(qemu_version).startswith("10") else vmstate_x86_cpu_7_2
    return {"cpu": (vmsd, X86CPU), "cpu_common": (vmstate_cpu_common, CPUState)}
