"""A small teaching machine, described in full and registered as QEMU
registers devices: a CPU (``cpu_common`` and ``cpu``), a 16550-style UART
(``serial``, as ``hw/char/serial.c`` describes it), a timer and RAM.

Its ``qemu_savevm_state`` output is a complete QEMU-format stream that QEMU's
own ``scripts/analyze-migration.py`` parses.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field

from .fields import (
    VMSTATE_BOOL,
    VMSTATE_INT32,
    VMSTATE_INT64,
    VMSTATE_TIMER,
    VMSTATE_UINT8,
    VMSTATE_UINT8_V,
    VMSTATE_UINT16,
    VMSTATE_UINT32,
    VMSTATE_UINT32_V,
    VMSTATE_UINT64,
    VMSTATE_UINT64_ARRAY,
    VMSTATE_UNUSED,
    VMStateDescription,
)
from .qemufile import QEMUFile
from .ram import RAMBlock, RAMSaveHandlers, RAMState
from .savevm import (
    SaveVMState,
    qemu_loadvm_state,
    qemu_savevm_state,
    register_savevm_live,
    vmstate_register,
)

# --- CPU -------------------------------------------------------------------


@dataclass
class CPUState:
    """The generic part every QEMU CPU has (``hw/core/cpu.c``: halted, exception)."""

    halted: int = 0
    interrupt_request: int = 0
    exception_index: int = -1


@dataclass
class TeachingCPUEnv:
    pc: int = 0
    regs: list[int] = dc_field(default_factory=lambda: [0] * 8)
    flags: int = 0
    fregs: list[int] = dc_field(default_factory=lambda: [0] * 4)
    fcsr: int = 0


@dataclass
class TeachingCPU:
    parent_obj: CPUState = dc_field(default_factory=CPUState)
    env: TeachingCPUEnv = dc_field(default_factory=TeachingCPUEnv)
    fpu_enabled: bool = False  # a feature switch: the FPU subsection follows it


vmstate_cpu_common_exception_index = VMStateDescription(
    "cpu_common/exception_index", version_id=1, minimum_version_id=1,
    needed=lambda cpu: cpu.exception_index != -1,
    fields=[VMSTATE_INT32("exception_index")],
)

vmstate_cpu_common = VMStateDescription(
    "cpu_common", version_id=1, minimum_version_id=1,
    fields=[VMSTATE_UINT32("halted"), VMSTATE_UINT32("interrupt_request")],
    subsections=[vmstate_cpu_common_exception_index],
)


def _fpu_needed(cpu: TeachingCPU) -> bool:
    return cpu.fpu_enabled


vmstate_teaching_fpu = VMStateDescription(
    "cpu/fpu", version_id=1, minimum_version_id=1, needed=_fpu_needed,
    fields=[VMSTATE_UINT64_ARRAY("env.fregs", 4), VMSTATE_UINT32("env.fcsr")],
)

vmstate_teaching_cpu = VMStateDescription(
    "cpu", version_id=2, minimum_version_id=1,
    fields=[
        VMSTATE_UINT64_ARRAY("env.regs", 8),
        VMSTATE_UINT64("env.pc"),
        VMSTATE_UINT32_V("env.flags", 2),  # added in version 2
    ],
    subsections=[vmstate_teaching_fpu],
)


# --- UART (16550) --------------------------------------------------------------


@dataclass
class SerialState:
    """The registers ``hw/char/serial.c`` migrates (divisor latch, IER, IIR,
    LCR, MCR, LSR, MSR, scratch, FIFO control)."""

    divider: int = 12
    rbr: int = 0
    ier: int = 0
    iir: int = 1
    lcr: int = 3
    mcr: int = 0
    lsr: int = 0x60
    msr: int = 0xB0
    scr: int = 0
    fcr_vmstate: int = 0


def _serial_pre_save(s: SerialState) -> int:
    return 0


vmstate_serial = VMStateDescription(
    "serial", version_id=3, minimum_version_id=2, pre_save=_serial_pre_save,
    fields=[
        VMSTATE_UINT16("divider"),
        VMSTATE_UINT8("rbr"),
        VMSTATE_UINT8("ier"),
        VMSTATE_UINT8("iir"),
        VMSTATE_UINT8("lcr"),
        VMSTATE_UINT8("mcr"),
        VMSTATE_UINT8("lsr"),
        VMSTATE_UINT8("msr"),
        VMSTATE_UINT8("scr"),
        VMSTATE_UINT8_V("fcr_vmstate", 3),
    ],
)

# --- timer ---------------------------------------------------------------------


@dataclass
class TimerState:
    cpu_ticks_offset: int = 0
    cpu_clock_offset: int = 0
    deadline: int = 0xFFFFFFFFFFFFFFFF  # a QEMUTimer: -1 means not armed
    enabled: bool = False


vmstate_timer = VMStateDescription(
    "timer", version_id=2, minimum_version_id=1,
    fields=[
        VMSTATE_INT64("cpu_ticks_offset"),
        VMSTATE_UNUSED(8),
        VMSTATE_INT64("cpu_clock_offset"),
        VMSTATE_TIMER("deadline"),
        VMSTATE_BOOL("enabled"),
    ],
)

# --- the machine -----------------------------------------------------------


@dataclass
class TeachingMachine:
    """CPU, UART, timer and ``ram_size`` bytes of RAM."""

    cpu: TeachingCPU = dc_field(default_factory=TeachingCPU)
    serial: SerialState = dc_field(default_factory=SerialState)
    timer: TimerState = dc_field(default_factory=TimerState)
    ram_size: int = 64 * 1024
    ram: RAMState = dc_field(init=False)
    qemu_version: str = "10.0"

    def __post_init__(self) -> None:
        self.ram = RAMState(blocks=[RAMBlock("teaching.ram", self.ram_size,
                                             bytearray(self.ram_size))], pages_per_iteration=8)

    def registry(self) -> SaveVMState:
        """Register the handlers in QEMU's order: RAM first, then devices."""
        reg = SaveVMState(machine_name="teaching-virt", qemu_version=self.qemu_version)
        register_savevm_live(reg, "ram", 0, 4, RAMSaveHandlers(), self.ram)
        vmstate_register(reg, 0, vmstate_timer, self.timer)
        vmstate_register(reg, 0, vmstate_cpu_common, self.cpu.parent_obj)
        vmstate_register(reg, 0, vmstate_teaching_cpu, self.cpu)
        vmstate_register(reg, 0, vmstate_serial, self.serial)
        return reg

    def save(self) -> bytes:
        """The whole migration stream, as ``migrate "exec:cat > f"`` writes it."""
        f = QEMUFile()
        qemu_savevm_state(f, self.registry())
        return f.getvalue()

    @classmethod
    def load(cls, data: bytes, **kwargs) -> TeachingMachine:
        """A fresh machine with the state of ``data`` loaded into it."""
        m = cls(**kwargs)
        qemu_loadvm_state(QEMUFile(data), m.registry())
        return m


def demo_machine(qemu_version: str = "10.0") -> TeachingMachine:
    """A machine with recognisable register values and a few non-zero pages."""
    m = TeachingMachine(qemu_version=qemu_version)
    m.cpu.env.pc = 0x80000000
    m.cpu.env.regs = [0, 0x80001000, 0x1234, 0xDEADBEEF, 4, 5, 6, 7]
    m.cpu.env.flags = 0x3
    m.cpu.parent_obj.halted = 0
    m.serial.scr = 0x5A
    m.serial.ier = 0x01
    m.timer.cpu_ticks_offset = 123456789
    m.timer.deadline = 1_000_000
    m.timer.enabled = True
    ram = m.ram.blocks[0].data
    ram[0:16] = b"hello, vmstate!\n"
    ram[0x3000:0x3008] = (0x00100093).to_bytes(4, "little") * 2
    return m
