"""Helpers the architecture tests share: committed streams read through the
hand-written descriptions, their cpu JSON entry, and the cpu/cpu_common lines
of our trace next to the real QEMU log's."""

from __future__ import annotations

import json
import lzma
from functools import cache
from pathlib import Path

import vmstate_edu as v
from vmstate_edu.twin import section_twin

DATA = Path(__file__).resolve().parent.parent / "data"
VERSIONS = ("7.2", "10.0")
CPU_SECTIONS = {"cpu", "cpu_common"}


@cache
def arch_stream(ver: str, case: str) -> v.stream.Stream:
    """A committed stream read with ``descriptions="arch"`` (cached: do not edit it)."""
    return v.load_stream(DATA / f"qemu-{ver}" / case / "stream.mig.xz", descriptions="arch")


@cache
def raw_stream(ver: str, case: str) -> bytes:
    return lzma.decompress((DATA / f"qemu-{ver}" / case / "stream.mig.xz").read_bytes())


def json_cpu(ver: str, case: str) -> dict:
    """The stream's own JSON entry for the ``cpu`` section."""
    return next(d for d in arch_stream(ver, case).vmdesc["devices"] if d["name"] == "cpu")


def twin_cpu_lines(ver: str, case: str, side: str) -> tuple[list[str], list[str]]:
    """(ours, QEMU's) cpu/cpu_common lines, nothing excluded (json_only=False)."""
    s = arch_stream(ver, case)
    t = s.trace_load() if side == "load" else s.trace_save()
    text = lzma.decompress((DATA / f"qemu-{ver}" / case / f"{side}.log.xz").read_bytes())
    return section_twin(t.qemu_log(), text.decode("latin-1"), CPU_SECTIONS, side)


def shape(node: dict) -> dict:
    """A description's JSON without the section's own name/instance."""
    return {k: val for k, val in node.items() if k not in ("name", "instance_id")}


def save_cpu_json(vmsd: v.VMStateDescription, model: object) -> dict:
    """The JSON entry ``vmsd`` writes when saving ``model``."""
    w = v.JSONWriter()
    w.start_object(None)
    v.vmstate_save_state(v.QEMUFile(), vmsd, model, w)
    w.end_object()
    return json.loads(w.get())


def subsection_names(node: dict) -> list[str]:
    return [s["vmsd_name"] for s in node.get("subsections", [])]


def fresh_stream(ver: str, case: str) -> v.stream.Stream:
    """A private copy of a committed stream (the cached one stays untouched)."""
    return v.load_stream(DATA / f"qemu-{ver}" / case / "stream.mig.xz", descriptions="arch")


def names(node: dict) -> tuple:
    """vmsd names, field names/types/element sizes and subsections, recursively
    (not array lengths: Arm's cpreg list length depends on the CPU model)."""
    return (node["vmsd_name"], node["version"],
            tuple((f["name"], f["type"], f["size"]) for f in node["fields"]),
            tuple(names(sd) for sd in node.get("subsections", [])))
