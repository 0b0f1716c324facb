"""Hand-written CPU descriptions, one module per architecture, mirroring
``target/<arch>/machine.c`` of QEMU 7.2 and 10.0.

Each module (``riscv``, ``x86``, ``arm``, ``ppc``) defines:

* ``ARCH``: its name (``"riscv64"``, ``"x86_64"``, ``"aarch64"``, ``"ppc64"``);
* ``matches(json_dev, registry) -> bool``: whether a stream's ``cpu`` section
  (its JSON entry) is this architecture's;
* ``descriptions(qemu_version, json_dev, registry) -> dict[str, (vmsd, factory)]``:
  for each idstr it describes (``"cpu"``, ``"cpu_common"``), the description
  of that QEMU release and a factory for an empty model to load into.

:func:`arch_descriptions` is the hook ``load_stream(..., descriptions="arch")``
uses: a section gets the hand-written description when one exists, else the
one the stream's JSON gives.
"""

from __future__ import annotations

import importlib
from typing import Any

ARCH_MODULES = ("riscv", "x86", "arm", "ppc")


def _modules() -> list[Any]:
    mods = []
    for name in ARCH_MODULES:
        try:
            mods.append(importlib.import_module(f"{__name__}.{name}"))
        except ImportError:
            continue
    return mods


def detect(registry: Any) -> Any | None:
    """The architecture module whose ``matches`` accepts the stream's cpu."""
    devs = getattr(registry, "vmdesc_json", {}).get("devices", [])
    cpu = next((d for d in devs if d.get("name") == "cpu"), None)
    if cpu is None:
        return None
    for mod in _modules():
        if mod.matches(cpu, registry):
            return mod
    return None


def arch_descriptions(idstr: str, instance_id: int, json_dev: dict | None,
                      registry: Any) -> tuple[Any, Any] | None:
    """``(vmsd, opaque)`` for a section the architecture describes, else None."""
    mod = getattr(registry, "_arch_module", False)
    if mod is False:
        mod = detect(registry)
        registry._arch_module = mod
        registry._arch_cache = {}
    if mod is None:
        return None
    cache = registry._arch_cache
    key = registry.qemu_version
    if key not in cache:
        cpu = next((d for d in registry.vmdesc_json.get("devices", [])
                    if d.get("name") == "cpu"), None)
        cache[key] = mod.descriptions(registry.qemu_version, cpu, registry)
    entry = cache[key].get(idstr)
    if entry is None:
        return None
    vmsd, factory = entry
    return vmsd, factory()
