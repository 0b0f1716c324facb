"""``cpu_common``: the part every QEMU CPU saves (``cpu.c`` in 7.2,
``hw/core/cpu-system.c`` in 10.0; the same description in both)."""

from __future__ import annotations

from dataclasses import dataclass

from ..fields import VMSTATE_BOOL, VMSTATE_INT32, VMSTATE_UINT32, VMStateDescription


@dataclass
class CPUState:
    """The generic CPU state that migrates (``CPUState`` in ``hw/core/cpu.h``)."""

    halted: int = 0
    interrupt_request: int = 0
    exception_index: int = -1
    crash_occurred: bool = False


def cpu_common_pre_load(cpu: CPUState) -> int:
    cpu.exception_index = -1
    return 0


def cpu_common_post_load(cpu: CPUState, version_id: int) -> int:
    # QEMU drops a stale exit request and flushes its TLB and translated code
    cpu.interrupt_request &= ~0x01
    return 0


vmstate_cpu_common_exception_index = VMStateDescription(
    "cpu_common/exception_index", version_id=1, minimum_version_id=1,
    needed=lambda cpu: cpu.exception_index != -1,  # and tcg_enabled(): always here
    fields=[VMSTATE_INT32("exception_index")],
)

vmstate_cpu_common_crash_occurred = VMStateDescription(
    "cpu_common/crash_occurred", version_id=1, minimum_version_id=1,
    needed=lambda cpu: cpu.crash_occurred,
    fields=[VMSTATE_BOOL("crash_occurred")],
)

vmstate_cpu_common = VMStateDescription(
    "cpu_common", version_id=1, minimum_version_id=1,
    pre_load=cpu_common_pre_load, post_load=cpu_common_post_load,
    fields=[VMSTATE_UINT32("halted"), VMSTATE_UINT32("interrupt_request")],
    subsections=[vmstate_cpu_common_exception_index, vmstate_cpu_common_crash_occurred],
)
