#!/usr/bin/env python3
"""Capture every reference case for QEMU 7.2 (host) and 10.0 (chroot).

Run from the repository root::

    python data/capture_all.py                    # everything
    python data/capture_all.py --version 10.0 --only riscv64

Each case calls ``python -m vmstate_edu.qemu.capture`` and lands in
``data/qemu-<version>/<case>/``.  QEMU 7.2 is the system QEMU of Debian 12;
QEMU 10.0 runs inside a Debian 13 chroot (``--trixie-root``, default
``/opt/trixie``).  7.2's riscv32 ``virt`` needs a 32-bit OpenSBI, which is
looked up at run time (``--opensbi-rv32`` or a search of the trixie root);
the firmware itself is never copied into the repository.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parent
REPO = DATA.parent
RUN_MS = "300"


@dataclass(frozen=True)
class Case:
    """One capture: folder name, arch and capture-tool options."""

    name: str
    arch: str
    machine: str
    cpu: str | None
    variant: str
    memory: str | None = None
    needs_rv32_bios_on_72: bool = False


CASES = [
    # RISC-V
    Case("riscv64-virt-paused", "riscv64", "virt", None, "paused"),
    Case("riscv64-virt-running", "riscv64", "virt", None, "running"),
    Case("riscv64-virt-v-running", "riscv64", "virt", "rv64,v=true", "running"),
    Case("riscv64-virt-noh-running", "riscv64", "virt", "rv64,h=false", "running"),
    Case("riscv32-virt-running", "riscv32", "virt", None, "running", needs_rv32_bios_on_72=True),
    # x86 (TCG)
    Case("x86_64-pc-paused", "x86_64", "pc", None, "paused"),
    Case("x86_64-pc-running", "x86_64", "pc", None, "running"),
    Case("x86_64-q35-running", "x86_64", "q35", None, "running"),
    Case("x86_64-pc-max-running", "x86_64", "pc", "max", "running"),
    # Arm
    Case("aarch64-virt-paused", "aarch64", "virt", "cortex-a57", "paused"),
    Case("aarch64-virt-running", "aarch64", "virt", "cortex-a57", "running"),
    Case("aarch64-virt-max-running", "aarch64", "virt", "max,sve=on", "running"),
    Case("aarch64-virt-max-nosve-running", "aarch64", "virt", "max,sve=off", "running"),
    # POWER
    Case("ppc64-pseries-paused", "ppc64", "pseries", None, "paused"),
    Case("ppc64-pseries-running", "ppc64", "pseries", None, "running"),
    Case("ppc64-pseries-970-running", "ppc64", "pseries", "970", "running"),
    Case("ppc64-pseries-power8-running", "ppc64", "pseries", "power8", "running"),
]

VERSIONS = {"7.2": None, "10.0": "trixie"}


def find_opensbi_rv32(explicit: str | None, trixie: Path) -> Path:
    """Locate a 32-bit OpenSBI ``fw_dynamic.bin`` (outside the repository)."""
    if explicit:
        return Path(explicit)
    for base in (trixie / "usr/lib", Path("/usr/lib"), Path("/opt")):
        if not base.is_dir():
            continue
        hits = sorted(base.glob("**/riscv32*/opensbi/generic/fw_dynamic.bin"))
        if hits:
            return hits[0]
    raise SystemExit("no 32-bit OpenSBI fw_dynamic.bin found; pass --opensbi-rv32")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--version",
        choices=sorted(VERSIONS),
        action="append",
        help="QEMU version(s) to capture (default: both)",
    )
    p.add_argument(
        "--only",
        action="append",
        default=[],
        help="capture only cases whose name contains this text",
    )
    p.add_argument("--trixie-root", type=Path, default=Path("/opt/trixie"))
    p.add_argument("--opensbi-rv32", help="32-bit OpenSBI fw_dynamic.bin for 7.2")
    p.add_argument("--run-ms", default=RUN_MS)
    args = p.parse_args()

    failures: list[str] = []
    for version in args.version or ["7.2", "10.0"]:
        for case in CASES:
            if args.only and not any(s in case.name for s in args.only):
                continue
            out = DATA / f"qemu-{version}" / case.name
            cmd = [
                sys.executable,
                "-m",
                "vmstate_edu.qemu.capture",
                "--arch",
                case.arch,
                "--machine",
                case.machine,
                "--variant",
                case.variant,
                "--run-ms",
                args.run_ms,
                "-o",
                str(out),
            ]
            if case.cpu:
                cmd += ["--cpu", case.cpu]
            if case.memory:
                cmd += ["--memory", case.memory]
            if VERSIONS[version] == "trixie":
                cmd += ["--qemu-root", str(args.trixie_root)]
            elif case.needs_rv32_bios_on_72:
                cmd += ["--bios", str(find_opensbi_rv32(args.opensbi_rv32, args.trixie_root))]
            print(f"== {version} {case.name}", flush=True)
            res = subprocess.run(cmd, cwd=REPO, check=False)
            if res.returncode != 0:
                failures.append(f"{version}/{case.name}")
                continue
            manifest = json.loads((out / "manifest.json").read_text())
            if f"version {version}." not in manifest["qemu_version"]:
                failures.append(f"{version}/{case.name}: got {manifest['qemu_version']}")
    if failures:
        print("FAILED: " + ", ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
