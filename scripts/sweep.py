#!/usr/bin/env python3
"""Capture many real QEMU streams and check vmstate-edu against each: the
sweep that found the edge cases of ``data/qemu-*/edge/``. Needs QEMU (7.2 on
the host, 10.0 in a chroot) and, for the analyze check, QEMU's source trees.

    python scripts/sweep.py OUT [--version 7.2 --version 10.0] [--only TEXT]
                                [--qemu-src 7.2=/work/qsrc/qemu-7.2+dfsg ...]

For every case it runs ``vmstate_edu.qemu.capture`` into ``OUT/<version>/<case>``
and checks: the stream loads (a clear VMStateError counts as "refused"), the
re-save is byte-identical, the traced save and load equal QEMU's logs section
by section (virtio's JSON-invisible inner calls set aside, see
docs/trace-twin.md), and ``analyze -d state`` equals QEMU's analyze-migration.py.
Prints one line per case and keeps every stream for reproduction.
"""

from __future__ import annotations

import argparse
import json
import lzma
import subprocess
import sys
from pathlib import Path

import vmstate_edu as v
from vmstate_edu.analyze import analyze_state
from vmstate_edu.twin import comparable, parse_qemu_log, section_lines

D = ["--extra-arg=-device"]
# (name, capture options): one representative of each family both sweeps covered
CASES: list[tuple[str, list[str]]] = [
    ("x86-pc-nics", ["--arch", "x86_64", *D, "--extra-arg=e1000", *D, "--extra-arg=rtl8139",
                     *D, "--extra-arg=ne2k_pci", *D, "--extra-arg=pcnet"]),
    ("x86-q35-usb", ["--arch", "x86_64", "--machine", "q35", *D, "--extra-arg=qemu-xhci",
                     *D, "--extra-arg=usb-kbd", *D, "--extra-arg=usb-tablet"]),
    ("x86-pc-virtio", ["--arch", "x86_64", *D, "--extra-arg=virtio-net-pci",
                       *D, "--extra-arg=virtio-balloon"]),
    ("x86-pc-hda", ["--arch", "x86_64", "--extra-arg=-audiodev", "--extra-arg=none,id=s",
                    *D, "--extra-arg=intel-hda", *D, "--extra-arg=hda-duplex,audiodev=s"]),
    ("x86-q35-iommu", ["--arch", "x86_64", "--machine", "q35,kernel-irqchip=split",
                       *D, "--extra-arg=intel-iommu"]),
    ("x86-pc-max-smp2-running", ["--arch", "x86_64", "--cpu", "max", "--smp", "2",
                                 "--variant", "running"]),
    ("a64-virt-gic3-max", ["--arch", "aarch64", "--machine", "virt,gic-version=3",
                           "--cpu", "max", "--smp", "2"]),
    ("arm-virt", ["--arch", "arm", "--machine", "virt"]),
    ("rv64-virt-aia", ["--arch", "riscv64", "--machine", "virt,aia=aplic-imsic"]),
    ("rv64-spike", ["--arch", "riscv64", "--machine", "spike"]),
    ("ppc64-pseries-smp2", ["--arch", "ppc64", "--smp", "2"]),
    ("ppc-mac99", ["--arch", "ppc", "--machine", "mac99"]),
    ("s390x-ccw", ["--arch", "s390x", "--machine", "s390-ccw-virtio", "--memory", "128M"]),
    ("loong-virt", ["--arch", "loongarch64", "--machine", "virt", "--memory", "1G"]),
]
CHROOT = {"7.2": None, "10.0": "/opt/trixie"}


def check(folder: Path, qemu_src: dict[str, str]) -> dict[str, str]:
    data = lzma.decompress((folder / "stream.mig.xz").read_bytes())
    out: dict[str, str] = {}
    try:
        s = v.load_stream(data)
    except v.VMStateError as e:
        return {"load": f"refused: {e}"}
    out["load"] = "ok"
    out["resave"] = "ok" if s.to_bytes() == data else "DIFFERS"
    ids = {x.idstr for x in s.sections} | {"configuration"}
    for side in ("save", "load"):
        ours = comparable(getattr(s, f"trace_{side}")(leaves=False).qemu_log(
            s.qemu_version).splitlines(), ids, side)
        real = comparable(parse_qemu_log(lzma.decompress(
            (folder / f"{side}.log.xz").read_bytes()).decode(errors="replace")), ids, side)
        bad = [i for i in sorted(ids) if section_lines(ours, {i}, side) !=
               section_lines(real, {i}, side)]
        rest = [i for i in bad if "virtio" not in i]
        out[f"twin-{side}"] = "ok" if not bad else (
            f"virtio only ({len(bad)})" if not rest else "DIFFERS: " + ", ".join(rest[:3]))
    src = qemu_src.get(s.qemu_version)
    if src:
        tmp = folder / "stream.mig"
        tmp.write_bytes(data)
        r = subprocess.run([sys.executable, f"{src}/scripts/analyze-migration.py", "-f",
                            str(tmp), "-d", "state"], capture_output=True, text=True)
        tmp.unlink()
        out["analyze"] = "script fails" if r.returncode else (
            "ok" if json.loads(json.dumps(analyze_state(s))) == json.loads(r.stdout)
            else "DIFFERS")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--version", action="append", choices=sorted(CHROOT))
    ap.add_argument("--only", action="append", default=[])
    ap.add_argument("--qemu-src", action="append", default=[], metavar="VERSION=PATH")
    ns = ap.parse_args()
    qemu_src = dict(x.split("=", 1) for x in ns.qemu_src)
    failed = 0
    for version in ns.version or sorted(CHROOT):
        for name, opts in CASES:
            if ns.only and not any(t in name for t in ns.only):
                continue
            folder = ns.out / version / name
            cmd = [sys.executable, "-m", "vmstate_edu.qemu.capture", *opts, "--timeout", "60",
                   "-o", str(folder)]
            if CHROOT[version]:
                cmd += ["--qemu-root", CHROOT[version]]
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode:
                print(f"{version:5} {name:28} capture failed: {r.stderr.strip()[-150:]}")
                continue
            res = check(folder, qemu_src)
            failed += any("DIFFERS" in x for x in res.values())
            print(f"{version:5} {name:28} " + "  ".join(f"{k}={x}" for k, x in res.items()),
                  flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
