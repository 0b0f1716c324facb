"""Trace twin: our ``qemu_log()`` next to a real QEMU ``-trace`` log.

Some lines of a real log cannot be reproduced from what a stream carries;
:func:`comparable` removes exactly those, each for a stated reason
(:data:`EXCLUSIONS`), so everything else can be compared line for line.
"""

from __future__ import annotations

import re

from .tracing import parse_qemu_log

SAVE_EVENTS = ("vmstate_", "savevm_")
LOAD_EVENTS = ("vmstate_load", "vmstate_n_elems", "vmstate_subsection_load",
               "qemu_loadvm_state_section", "vmstate_field_exists", "get_qtailq",
               "get_qlist", "get_gtree")

EXCLUSIONS = {
    "downtime values": "vmstate_downtime_save/load carry wall-clock microseconds; compared "
                       "with the number replaced by N",
    "savevm_section_skip": "a device whose needed() was false sends nothing, so the stream "
                           "does not know it exists",
    "vmstate_downtime_save of invisible handlers": "live handlers that never write a section "
                                                   "(7.2 'block', 'dirty-bitmap') are absent "
                                                   "from the stream",
    "vmstate_load_state_field exists=0 / vmstate_field_exists": "fields that did not exist at "
        "the stream's version are not in the JSON; the hand-written descriptions of "
        "vmstate_edu.arch reproduce them",
    "vmstate_save_state_pre_save_res": "the JSON does not say which descriptions have a "
                                       "pre_save hook; the hand-written ones do",
    "fields with zero elements": "a VARRAY whose count is 0, or a VMSTATE_VALIDATE check, "
                                 "writes no JSON entry, so its field/n_elems/loop lines are "
                                 "unknown to the JSON",
    "repeated vmstate_n_elems": "a VMS_ALLOC field counts its elements twice on load; the "
                                "JSON does not say a field allocates",
    "vmstate_subsection_load_bad": "QEMU peeks at a subsection its description has but the "
                                   "stream did not send; the JSON lists only sent ones",
}


def _norm(line: str) -> str:
    return re.sub(r"downtime=-?\d+", "downtime=N", line)


def comparable(lines: list[str], idstrs: set[str] | None = None, side: str = "save",
               json_only: bool = True) -> list[str]:
    """Lines of either log, normalised and with the documented exclusions removed."""
    out = []
    prefixes = SAVE_EVENTS if side == "save" else LOAD_EVENTS
    for line in lines:
        name = line.split(" ", 1)[0]
        if not name.startswith(prefixes):
            continue
        if side == "load" and name.startswith(("vmstate_save",)):
            continue
        if name == "savevm_section_skip":
            continue
        if name == "vmstate_downtime_save" and idstrs is not None:
            m = re.search(r"idstr=(\S+)", line)
            if m and m.group(1) not in idstrs:
                continue
        if json_only and name == "vmstate_field_exists":
            continue
        if json_only and name in ("vmstate_subsection_load_bad",
                                  "vmstate_save_state_pre_save_res"):
            continue
        out.append(_norm(line))
    if json_only:
        out = _drop_empty_arrays(out)
    if side == "load" and json_only:
        out = _drop_absent_fields(out)
    return out


def _drop_empty_arrays(lines: list[str]) -> list[str]:
    """A field with zero elements (an empty VARRAY, a VMSTATE_VALIDATE check)
    writes no JSON entry: drop its field line, its ``vmstate_n_elems X: 0``
    line and the save loop line after it. A ``VMS_ALLOC`` field counts its
    elements twice on load; the JSON cannot tell, so a repeated
    ``vmstate_n_elems`` line is dropped too."""
    out: list[str] = []
    skip_loop = False
    for line in lines:
        if line.startswith("vmstate_n_elems "):
            if line.endswith(": 0"):
                name = line[len("vmstate_n_elems "):-len(": 0")]
                if out and out[-1].startswith("vmstate_load_state_field ") and \
                        out[-1].split(":", 1)[-1].rsplit(" exists=", 1)[0] == name:
                    out.pop()
                skip_loop = True
                continue
            if out and out[-1] == line:
                continue
        if skip_loop and line.startswith("vmstate_save_state_loop ") and line.endswith("[0]"):
            skip_loop = False
            continue
        skip_loop = False
        out.append(line)
    return out


def _drop_absent_fields(lines: list[str]) -> list[str]:
    """Drop ``vmstate_load_state_field`` lines of fields that were not loaded:
    10.0 says ``exists=0``; 7.2 shows it by no ``vmstate_n_elems`` following."""
    out = []
    for k, line in enumerate(lines):
        if line.startswith("vmstate_load_state_field "):
            if line.endswith(" exists=0"):
                continue
            if not line.endswith(" exists=1"):
                nxt = lines[k + 1] if k + 1 < len(lines) else ""
                if not nxt.startswith("vmstate_n_elems "):
                    continue
        out.append(line)
    return out


def twin_diff(ours: str, real_log: str, idstrs: set[str] | None, side: str,
              json_only: bool = True) -> list[tuple[int, str, str]]:
    """Differences (index, ours, real) between our log and the real one."""
    a = comparable(ours.splitlines(), idstrs, side, json_only)
    b = comparable(parse_qemu_log(real_log), idstrs, side, json_only)
    diffs = []
    for i in range(max(len(a), len(b))):
        x = a[i] if i < len(a) else "<end>"
        y = b[i] if i < len(b) else "<end>"
        if x != y:
            diffs.append((i, x, y))
    return diffs


def section_lines(lines: list[str], idstrs: set[str] | tuple[str, ...], side: str) -> list[str]:
    """The lines of a log that belong to the sections ``idstrs``: save side
    from ``savevm_section_start X`` to ``savevm_section_end X``; load side
    from ``qemu_loadvm_state_section_startfull N(X)`` to the next
    ``qemu_loadvm_state_section*`` line."""
    out: list[str] = []
    cur: str | None = None
    for line in lines:
        if side == "save":
            m = re.match(r"savevm_section_start (\S+), section_id", line)
            if m:
                cur = m.group(1)
            if cur in idstrs:
                out.append(line)
            if line.startswith("savevm_section_end "):
                cur = None
        else:
            m = re.match(r"qemu_loadvm_state_section_startfull \d+\((\S+)\)", line)
            if m:
                cur = m.group(1)
            elif line.startswith("qemu_loadvm_state_section"):
                cur = None
            if cur in idstrs:
                out.append(line)
    return out


def section_twin(ours: str, real_log: str, idstrs: set[str] | tuple[str, ...],
                 side: str) -> tuple[list[str], list[str]]:
    """(ours, QEMU's) lines of the sections ``idstrs`` with nothing excluded:
    what the hand-written descriptions must reproduce exactly."""
    a = comparable(ours.splitlines(), None, side, json_only=False)
    b = comparable(parse_qemu_log(real_log), None, side, json_only=False)
    return section_lines(a, idstrs, side), section_lines(b, idstrs, side)
