#!/usr/bin/env python3
"""List the VMState descriptions of a QEMU source tree in which two fields
share one C name (QEMU's JSON then names them ``x[0]``, ``x[1]``: see
``vmfield_name_num`` in migration/vmstate.c). Prints a Python dict
``{vmsd name: [field names]}``; ``vmstate_edu/qemu_names.py`` holds the
union for the releases the project captures.

    python scripts/qemu_duplicate_names.py QEMU_SOURCE_TREE [...]
"""

from __future__ import annotations

import os
import re
import sys

VMSD = re.compile(r"VMStateDescription\s+\w+\s*=\s*\{(.*?)\n\};", re.S)
NAME = re.compile(r'\.name\s*=\s*(?:"([^"]+)"|([A-Z_][A-Z0-9_]*))')
DEFINE = re.compile(r'^#define\s+([A-Z_][A-Z0-9_]*)\s+"([^"]+)"', re.M)
FIELDS = re.compile(r"\.fields\s*=\s*\(.*?\)\s*\{(.*?)\n\s*\}\s*,?", re.S)
FIELD = re.compile(r"\b(VMSTATE_\w+)\s*\(\s*([^,()]+(?:\([^()]*\))?[^,()]*)\s*[,)]")


def _sources(root: str):
    for folder, _, files in os.walk(root):
        for fname in files:
            if fname.endswith((".c", ".h")):
                with open(os.path.join(folder, fname), errors="replace") as fh:
                    yield fh.read()


def duplicates(root: str) -> dict[str, set[str]]:
    # names given as a type macro (.name = TYPE_ASPEED_RTC) resolve through its #define
    macros = {k: v for src in _sources(root) for k, v in DEFINE.findall(src)}
    out: dict[str, set[str]] = {}
    for src in _sources(root):
        if "VMStateDescription" not in src:
            continue
        for m in VMSD.finditer(src):
            name, fields = NAME.search(m.group(1)), FIELDS.search(m.group(1))
            if not name or not fields:
                continue
            vmsd_name = name.group(1) or macros.get(name.group(2))
            if not vmsd_name:
                continue
            seen = [arg.strip() for macro, arg in FIELD.findall(fields.group(1))
                    if macro != "VMSTATE_END_OF_LIST" and not macro.startswith("VMSTATE_UNUSED")]
            dups = {n for n in seen if seen.count(n) > 1}
            if dups:
                out.setdefault(vmsd_name, set()).update(dups)
    return out


def main() -> None:
    merged: dict[str, set[str]] = {}
    for root in sys.argv[1:]:
        for k, v in duplicates(root).items():
            merged.setdefault(k, set()).update(v)
    print("{")
    for k in sorted(merged):
        print(f"    {k!r}: {sorted(merged[k])!r},")
    print("}")


if __name__ == "__main__":
    main()
