"""The material the exercises work on: small devices, streams and traces,
all built by the engine when asked for (nothing is stored)."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from ..fields import (
    VMSTATE_UINT8,
    VMSTATE_UINT16,
    VMSTATE_UINT32,
    VMStateDescription,
)
from ..qemufile import QEMUFile
from ..savevm import qemu_savevm_state
from ..tracing import Tracer, trace
from ..vmstate import vmstate_save_state


def demo_stream(fpu: bool = False, exception_index: int = -1, qemu_version: str = "10.0",
                **regs: int) -> tuple[bytes, Tracer]:
    """The teaching machine's stream and its save trace (``regs`` sets
    ``env.regs[i]`` as ``r5=...``)."""
    from ..machine import demo_machine

    m = demo_machine(qemu_version)
    m.cpu.fpu_enabled = fpu
    m.cpu.parent_obj.exception_index = exception_index
    for k, v in regs.items():
        m.cpu.env.regs[int(k[1:])] = v
    f = QEMUFile()
    with trace() as t:
        qemu_savevm_state(f, m.registry())
    return f.getvalue(), t


def field_elements(tracer: Tracer, section: str | None = None) -> dict[str, tuple]:
    """``{"env.regs[3]": (offset, size, value, raw)}`` of a trace's field elements."""
    out: dict[str, tuple] = {}
    for r in tracer.rows:
        if r[2] != "field" or r[6] == "page data":
            continue
        if section is not None and r[4] != section:
            continue
        name = r[6] + (f"[{r[7]}]" if r[7] is not None else "")
        out.setdefault(name, (r[9], r[10], r[11], r[12]))
    return out


# --- q3: a small device whose bytes the student reproduces --------------------

def timer_device() -> SimpleNamespace:
    """The object of exercise q3."""
    return SimpleNamespace(id=42, mode=1, regs=[7, 8, 0x12345678], enabled=True,
                           scratch=0xFFFF)


def q3_target() -> bytes:
    """The byte string q3 asks for: id (be16), mode (u8), regs (3 x be32),
    enabled (one byte); ``scratch`` is not migrated."""
    d = timer_device()
    out = d.id.to_bytes(2, "big") + bytes([d.mode])
    out += b"".join(r.to_bytes(4, "big") for r in d.regs)
    return out + bytes([1 if d.enabled else 0])


# --- q4: a GPIO block and its optional interrupt mask -------------------------

@dataclass
class GPIOState:
    out: int = 0x0F
    irq_mask: int = 0


def gpio_vmsd(subsections: Any = ()) -> VMStateDescription:
    """The ``gpio`` description of q4, with the given subsections."""
    return VMStateDescription("gpio", version_id=1, minimum_version_id=1,
                              fields=[VMSTATE_UINT32("out")], subsections=list(subsections))


# --- q5: a sensor whose description gains a field in version 2 -------------------

@dataclass
class SensorState:
    temp: int = 0x0123
    status: int = 0x5
    calib: int = 0


def sensor_v1() -> VMStateDescription:
    """Version 1 of the ``sensor`` description (q5)."""
    return VMStateDescription("sensor", version_id=1, minimum_version_id=1,
                              fields=[VMSTATE_UINT16("temp"), VMSTATE_UINT8("status")])


def sensor_v1_stream(temp: int = 0x0123, status: int = 5) -> bytes:
    """The fields of a sensor saved by version 1 of its description."""
    f = QEMUFile()
    vmstate_save_state(f, sensor_v1(), SensorState(temp=temp, status=status))
    return f.getvalue()


# --- q9: which hook runs when -------------------------------------------------------

HOOK_STEPS = ["pre_save", "save fields", "save subsections", "post_save",
              "pre_load", "load fields", "load subsections", "post_load"]


def observed_hook_order() -> list[str]:
    """Run a save and a load of a device whose hooks, fields and subsection
    record when they run; return the steps in the order they happened."""
    from ..info import vmstate_info_uint8
    from ..vmstate import vmstate_load_state

    log: list[str] = []

    def put(f: QEMUFile, v: Any, size: int, fld: Any, vmdesc: Any = None) -> None:
        log.append(f"save {fld.name}")
        vmstate_info_uint8.put(f, v, size, fld, vmdesc)

    def get(f: QEMUFile, cur: Any, size: int, fld: Any) -> Any:
        log.append(f"load {fld.name}")
        return vmstate_info_uint8.get(f, cur, size, fld)

    from ..info import VMStateInfo

    logged = VMStateInfo("uint8", get, put)
    from ..fields import VMStateField

    def fld(name: str) -> VMStateField:
        return VMStateField(name, info=logged, size=1)

    sub = VMStateDescription("dev/sub", version_id=1, minimum_version_id=1,
                             needed=lambda s: True, fields=[fld("subsections")])
    dev = VMStateDescription(
        "dev", version_id=1, minimum_version_id=1, fields=[fld("fields")], subsections=[sub],
        pre_save=lambda s: log.append("pre_save") and 0,
        post_save=lambda s: log.append("post_save") and 0,
        pre_load=lambda s: log.append("pre_load") and 0,
        post_load=lambda s, v: log.append("post_load") and 0)
    obj = SimpleNamespace(fields=1, subsections=2)
    f = QEMUFile()
    vmstate_save_state(f, dev, obj)
    vmstate_load_state(QEMUFile(f.getvalue()), dev, SimpleNamespace(fields=0, subsections=0), 1)
    order: list[str] = []
    for e in log:
        if e not in order:
            order.append(e)
    return order


@dataclass
class Material:
    """Everything a question hands the student (see ``grader.material``)."""

    items: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.items[name]
        except KeyError:
            raise AttributeError(name) from None

    def __repr__(self) -> str:
        return "Material(" + ", ".join(self.items) + ")"
