"""Real QEMU trace logs from ``data/qemu-<ver>/<case>/`` and what they say
about the call chain, next to what the seed document claims.

The logs are text (``event args`` per line, QEMU's log backend); this module
only reads those lines, it does not parse migration streams.
"""

from __future__ import annotations

import json
import lzma
import os
import re
from pathlib import Path
from typing import Any

__all__ = ["data_root", "list_cases", "read_log", "manifest", "log_phases", "log_sections",
           "section_fields", "loaded_versions", "SEED_CHAIN", "SEED_CLAIMS", "SEED_TABLE"]

# What the seed document (/work/shared/seed) claims, in its own words (translated).
SEED_CHAIN = [
    "migration_thread()",
    "qemu_savevm_state_setup(s->to_dst_file)",
    "for each se in savevm_state.handlers: vmstate_save(f, se, ms->vmdesc)",
    "vmstate_save_state_with_err(f, se->vmsd, se->opaque, vmdesc, &local_err)",
    "vmstate_save_state_v(f, vmsd, opaque, vmdesc, 10, errp)",
    "hand-written loops: qemu_put_be64(f, env.gpr[i]) for x0..x31, f0..f31, pc, "
    "mstatus, mip, mie",
    "subsections, only when needed: vmstate_pmp, vmstate_vector",
]

SEED_CLAIMS = {
    "phase": "device and CPU state is saved from qemu_savevm_state_setup()",
    "loops": "registers are written by per-register qemu_put_be64 loops",
    "version": "vmstate_riscv_cpu is saved at version_id 10",
    "subsections": "the subsections are PMP and vector",
    "sections": "the entry with idstr 'cpu' saves the architecture's CPU state",
    "detection": "'automatic architecture detection' through the SaveStateEntry",
}

SEED_TABLE = [
    ("RISC-V", "vmstate_riscv_cpu", "gpr[32], fpr[32], pc, mstatus, PMP, Vector"),
    ("x86", "vmstate_x86_cpu", "regs[], eip, eflags, segment registers, FPU, SSE/AVX"),
    ("ARM", "vmstate_arm_cpu", "r[16], cpsr, coprocessor registers, NEON"),
    ("PowerPC", "vmstate_ppc_cpu", "gpr[32], fpr[32], SPRs, AltiVec"),
]


def data_root(start: str | os.PathLike | None = None) -> Path:
    """The repository's ``data/`` folder: from ``$VMSTATE_EDU_DATA``, else the
    first ``data/qemu-*`` found above ``start`` (default: the working
    directory) or above the package."""
    env = os.environ.get("VMSTATE_EDU_DATA")
    if env:
        return Path(env)
    here = Path(start or os.getcwd()).resolve()
    pkg = Path(__file__).resolve().parent
    for base in [here, *here.parents, pkg, *pkg.parents]:
        cand = base / "data"
        if cand.is_dir() and any(cand.glob("qemu-*")):
            return cand
    raise FileNotFoundError("no data/qemu-* folder found; set VMSTATE_EDU_DATA")



def case_stream(version: str, name: str) -> Path:
    """The committed stream of a capture: ``data/qemu-<version>/<name>`` or,
    for the corners of QEMU, ``data/qemu-<version>/edge/<name>``."""
    base = data_root() / f"qemu-{version}"
    for folder in (base / name, base / "edge" / name):
        if (folder / "stream.mig.xz").is_file():
            return folder / "stream.mig.xz"
    raise FileNotFoundError(f"no capture {name!r} for QEMU {version} under {base}")


def list_cases(version: str | None = None) -> list[tuple[str, str]]:
    """``(qemu_version, case)`` pairs present under ``data/``."""
    out = []
    for d in sorted(data_root().glob("qemu-*")):
        ver = d.name[len("qemu-"):]
        if version is not None and ver != version:
            continue
        for c in sorted(p for p in d.iterdir() if (p / "manifest.json").exists()):
            out.append((ver, c.name))
    return out


def _case_dir(version: str, case: str) -> Path:
    d = data_root() / f"qemu-{version}" / case
    if not d.is_dir():
        raise FileNotFoundError(f"no capture {case!r} for QEMU {version} under {data_root()}")
    return d


def read_log(version: str, case: str, which: str = "save") -> str:
    """The text of ``save.log`` or ``load.log`` (decompressing ``.xz``)."""
    d = _case_dir(version, case)
    for name in (f"{which}.log", f"{which}.log.xz"):
        p = d / name
        if p.exists():
            raw = p.read_bytes()
            if name.endswith(".xz"):
                raw = lzma.decompress(raw)
            return raw.decode("utf-8", "replace")
    raise FileNotFoundError(f"no {which}.log in {d}")


def manifest(version: str, case: str) -> dict:
    """The capture's ``manifest.json``."""
    return json.loads((_case_dir(version, case) / "manifest.json").read_text())


_PHASES = {
    "savevm_state_header": "header",
    "savevm_state_setup": "setup",
    "savevm_state_iterate": "iterate",
    "savevm_state_complete_precopy": "complete",  # 7.2
}


def _lines(text: str) -> list[tuple[str, str]]:
    out = []
    for line in text.splitlines():
        if not line or not re.match(r"^[a-z_0-9]+( |$)", line):
            continue
        ev, _, args = line.partition(" ")
        out.append((ev, args))
    return out


def log_phases(text: str) -> list[dict]:
    """Every ``savevm_section_start`` of a save log with the migration phase it
    happened in (header, setup, iterate, complete). 10.0 has no
    ``savevm_state_complete_precopy`` event; there the phase changes at
    ``vmstate_downtime_checkpoint src-vm-stopped`` (the VM stops, then the
    completion runs)."""
    out: list[dict] = []
    for n, phase, ev, args in _phased(text):
        if ev == "savevm_section_start":
            m = re.match(r"(.*), section_id (\d+)", args)
            if m:
                out.append({"line": n, "phase": phase, "idstr": m.group(1),
                            "section_id": int(m.group(2))})
    return out


def _phased(text: str) -> Any:
    """(line number, phase, event, args) of a save log's lines, the phase
    being the one the last phase event (or the VM's stop, in 10.0) began."""
    phase = "start"
    for n, (ev, args) in enumerate(_lines(text)):
        if ev in _PHASES:
            phase = _PHASES[ev]
        elif ev == "vmstate_downtime_checkpoint" and args.strip() == "src-vm-stopped":
            phase = "complete"
        yield n, phase, ev, args


def log_sections(text: str) -> list[dict]:
    """One row per section saved in a save log: phase, idstr, section id,
    vmsd, number of top-level fields, the subsections sent."""
    rows: list[dict] = []
    cur: dict | None = None
    for _, phase, ev, args in _phased(text):
        if ev == "savevm_section_start":
            m = re.match(r"(.*), section_id (\d+)", args)
            if m:
                cur = {"phase": phase, "idstr": m.group(1), "section_id": int(m.group(2)),
                       "vmsd": None, "fields": 0, "subsections": []}
                rows.append(cur)
        elif ev == "vmstate_save" and cur is not None:
            cur["vmsd"] = args.split(", ", 1)[-1]
        elif ev == "vmstate_save_state_loop" and cur is not None and cur["vmsd"]:
            rest = args[len(cur["vmsd"]) + 1:] if args.startswith(cur["vmsd"] + "/") else ""
            if re.match(r"^[^/\[]+\[\d+\]$", rest):
                cur["fields"] += 1
        elif ev == "vmstate_subsection_save_loop" and cur is not None and cur["vmsd"]:
            parent, _, sub = args.partition("/")
            if parent == cur["vmsd"]:
                cur["subsections"].append(sub)
        elif ev == "savevm_section_end":
            cur = None
    return rows


def section_fields(text: str, idstr: str, occurrence: int = 0) -> list[tuple[str, int]]:
    """``(field, n_elems)`` of the top-level fields of section ``idstr`` in a
    save log, in the order QEMU's generic loop wrote them."""
    seen = -1
    inside = False
    vmsd = None
    out: list[tuple[str, int]] = []
    for ev, args in _lines(text):
        if ev == "savevm_section_start" and args.startswith(idstr + ", section_id"):
            seen += 1
            inside = seen == occurrence
            vmsd = None
        elif ev == "savevm_section_end" and inside:
            break
        elif inside and ev == "vmstate_save":
            vmsd = args.split(", ", 1)[-1]
        elif inside and vmsd and ev == "vmstate_save_state_loop" and args.startswith(vmsd + "/"):
            m = re.match(r"^([^/\[]+)\[(\d+)\]$", args[len(vmsd) + 1:])
            if m:
                out.append((m.group(1), int(m.group(2))))
    return out


def loaded_versions(text: str) -> list[dict]:
    """From a load log: ``section_id``, ``idstr``, ``instance_id`` and the
    ``version_id`` each FULL/START section header carried."""
    out = []
    for ev, args in _lines(text):
        if ev == "qemu_loadvm_state_section_startfull":
            m = re.match(r"(\d+)\((.*)\) (\d+) (\d+)", args)
            if m:
                out.append({"section_id": int(m.group(1)), "idstr": m.group(2),
                            "instance_id": int(m.group(3)), "version_id": int(m.group(4))})
    return out


def frame(rows: list[dict]) -> Any:
    """Rows (list of dicts) as a pandas DataFrame."""
    import pandas as pd

    return pd.DataFrame(rows)
