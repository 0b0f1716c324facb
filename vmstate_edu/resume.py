"""Edit a paused machine's registers and let real QEMU run on with them.

:func:`edit_and_resume` changes registers of a committed capture through the
hand-written CPU description, saves the stream, starts real QEMU with
``-incoming`` on it, reads the registers back, lets the machine run a moment
and reads them again. Where QEMU is not installed it returns the result
recorded by ``data/record_edit_resume.py`` instead, and says so.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .arch.registers import stream_arch
from .edit import get_value, set_value
from .qemu.verify import load_in_qemu, parse_registers, qemu_available, read_manifest
from .stream import load_stream
from .tables import data_dir

RECORD = "edit-resume.json"
PC_NAME = {"riscv": "pc", "x86": "rip", "arm": "pc", "ppc": "nip"}


def edit_and_resume(version: str = "7.2", case: str = "riscv64-virt-running",
                    edits: dict[str, int] | None = None, run_ms: int = 50,
                    use_qemu: bool = True) -> dict[str, Any]:
    """Apply ``edits`` ({register: value}) to the capture's cpu 0 and resume it."""
    from .arch.registers import arch_family

    edits = edits or {"a0": 0x1234, "pc": 0x80000000}
    folder = data_dir() / f"qemu-{version}" / case
    s = load_stream(folder / "stream.mig.xz", descriptions="arch")
    arch = stream_arch(s.vmdesc) or "unknown"
    before = {name: get_value(s, "cpu", 0, name) for name in edits}
    for name, value in edits.items():
        set_value(s, "cpu", 0, name, value)
    manifest = read_manifest(folder)
    why = qemu_available(manifest) if use_qemu else "not asked to run QEMU"
    if why is None:
        pc = PC_NAME[arch_family(arch)]
        r = load_in_qemu(s.to_bytes(), manifest, ["info registers"], run_ms=run_ms)
        loaded = parse_registers(r.outputs.get("info registers", ""), arch)
        ran = parse_registers(r.after_run.get("info registers", ""), arch)
        return {"source": "real QEMU, just now", "qemu": manifest["qemu_version"],
                "case": f"qemu-{version}/{case}", "arch": arch, "loaded": r.ok,
                "error": r.error, "in_stream": before, "edited": dict(edits),
                "qemu_after_load": {n: loaded.get(n) for n in edits},
                "pc_after_running": ran.get(pc), "ran_ms": run_ms}
    path = folder / RECORD
    if not path.exists():
        return {"source": f"no QEMU here ({why}) and no recorded result", "loaded": None}
    rec = json.loads(path.read_text())
    rec["source"] = f"recorded on {rec.get('recorded', '?')} (QEMU not usable here: {why})"
    return rec


def record(version: str = "7.2", case: str = "riscv64-virt-running") -> Path:
    """Run :func:`edit_and_resume` with real QEMU and keep the result beside the capture."""
    import datetime as _dt

    from .qemufile import write_atomic

    result = edit_and_resume(version, case)
    if result.get("source") != "real QEMU, just now":
        raise RuntimeError(f"cannot record without QEMU: {result.get('source')}")
    result["recorded"] = _dt.date.today().isoformat()
    path = data_dir() / f"qemu-{version}" / case / RECORD
    write_atomic(path, (json.dumps(result, indent=2) + "\n").encode())
    return path
