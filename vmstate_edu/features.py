"""CPU feature switches of the four architectures, one table: what a student
flips to watch a subsection appear or disappear in the ``cpu`` section.

Each :class:`Feature` reads and sets a switch on a hand-written CPU model of
:mod:`vmstate_edu.arch` (the same switches the ``needed()`` predicates read,
and that ``tests/test_arch_*`` check against captures made with the matching
``-cpu`` options)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .tables import DEFAULT_CASES, data_dir


@dataclass(frozen=True)
class Feature:
    name: str
    why: str  # what QEMU option or CPU model turns it on
    get: Callable[[Any], bool]
    set: Callable[[Any, bool], None]


def _attr(name: str) -> tuple[Callable, Callable]:
    return (lambda cpu: bool(getattr(cpu, name)), lambda cpu, on: setattr(cpu, name, bool(on)))


def _bit(attr: str, bit: int) -> tuple[Callable, Callable]:
    def get(cpu: Any) -> bool:
        return bool(getattr(cpu.env, attr) & bit)

    def set_(cpu: Any, on: bool) -> None:
        val = getattr(cpu.env, attr)
        setattr(cpu.env, attr, val | bit if on else val & ~bit)

    return get, set_


def _x86(word: str, bit: int) -> tuple[Callable, Callable]:
    return (lambda cpu: bool(cpu.env.features.get(word, 0) & bit)
            if isinstance(cpu.env.features, dict) else bool(cpu.env.features[word] & bit),
            lambda cpu, on: cpu.set_feature(word, bit, bool(on)))


def features(arch: str) -> list[Feature]:
    """The switches of one architecture (``riscv64``, ``x86_64``, ``aarch64``, ``ppc64``)."""
    if arch.startswith("riscv"):
        return [Feature("V (vector)", "-cpu rv64,v=true", *_attr("has_v")),
                Feature("H (hypervisor)", "on by default; -cpu rv64,h=false", *_attr("has_h")),
                Feature("PMP", "on by default", *_attr("has_pmp")),
                Feature("debug triggers", "on by default", *_attr("has_debug")),
                Feature("envcfg", "privileged spec 1.12", *_attr("has_envcfg"))]
    if arch == "aarch64":
        return [Feature("SVE", "-cpu max (sve=on)", *_attr("has_sve")),
                Feature("WFxT timer", "-cpu max on QEMU 10.0", *_attr("has_wfxt"))]
    if arch == "x86_64":
        from .arch import x86
        return [Feature("MONITOR/MWAIT", "-cpu max",
                        *_x86(x86.FEAT_1_ECX, x86.CPUID_EXT_MONITOR))]
    if arch == "ppc64":
        from .arch import ppc
        return [Feature("AltiVec", "POWER7 and later, 970", *_bit("insns_flags", ppc.PPC_ALTIVEC)),
                Feature("VSX", "POWER7 and later (not 970)", *_bit("insns_flags2", ppc.PPC2_VSX)),
                Feature("BHRB", "POWER10 (QEMU 10.0's default CPU)",
                        *_bit("flags", ppc.POWERPC_FLAG_BHRB))]
    raise KeyError(arch)


def cpu_of(arch: str, qemu_version: str = "10.0", case: str | None = None) -> tuple[Any, Any]:
    """(cpu description, a fresh copy of the loaded cpu model) of a capture."""
    from .stream import load_stream

    s = load_stream(data_dir() / f"qemu-{qemu_version}" / (case or DEFAULT_CASES[arch])
                    / "stream.mig.xz", descriptions="arch")
    se = next(e for e in s.registry.handlers if e.idstr == "cpu")
    return se.vmsd, se.opaque


def save_cpu(vmsd: Any, cpu: Any) -> dict:
    """Save the cpu section alone: its bytes and the subsections it sent."""
    import json

    from .qemufile import QEMUFile
    from .vmdesc import JSONWriter
    from .vmstate import vmstate_save_state

    f = QEMUFile()
    w = JSONWriter()
    w.start_object(None)
    vmstate_save_state(f, vmsd, cpu, w)
    w.end_object()
    desc = json.loads(w.get())
    subs = [s["vmsd_name"] for s in desc.get("subsections", [])]
    return {"bytes": f.getvalue(), "subsections": subs, "desc": desc}
