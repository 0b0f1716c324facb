#!/usr/bin/env python3
"""Capture the edge cases under ``data/qemu-<version>/edge/``: streams from
corners of QEMU that a reader must also get right. Found by a sweep of 165
captures across machines, devices and capabilities (see the issue notes).

    python data/capture_edge.py [--version 7.2|10.0] [--only NAME]

Each case is ``python -m vmstate_edu.qemu.capture`` with the options below;
7.2 is the host's QEMU, 10.0 runs in the Debian 13 chroot (``--trixie-root``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent
REPO = DATA.parent
DISK = "/tmp/vmstate-edu-edge-disk.raw"  # a blank 1 MiB drive, made under each QEMU's root
BOOT = "/tmp/vmstate-edu-edge-boot.raw"  # a drive whose boot sector keeps dirtying RAM:
BOOT_SECTOR = bytes([                    # two words of every 4 KiB page, 0x10000-0x7ffff
    0xB8, 0x00, 0x10,                    # start: mov ax, 0x1000
    0x8E, 0xC0,                          # next:  mov es, ax
    0x26, 0xFF, 0x06, 0x00, 0x00,        #        inc word es:[0x0000]
    0x26, 0xFF, 0x06, 0x00, 0x08,        #        inc word es:[0x0800]
    0x05, 0x00, 0x01,                    #        add ax, 0x0100   (the next 4 KiB)
    0x3D, 0x00, 0x80,                    #        cmp ax, 0x8000
    0x72, 0xEC,                          #        jb next
    0xEB, 0xE7,                          #        jmp start
]).ljust(510, b"\0") + b"\x55\xaa"
MEMFD = ["--extra-arg=-object", "--extra-arg=memory-backend-memfd,id=mem0,size=64M,share=on"]

# name: (versions, capture options)
CASES: dict[str, tuple[tuple[str, ...], list[str]]] = {
    # two isa-ide devices registered as instance 0 (7.2): two FULL sections, one name
    "x86-isapc": (("7.2",), ["--arch", "x86_64", "--machine", "isapc", "--cpu", "qemu32"]),
    # x-ignore-shared: every RAM block of the MEM_SIZE list carries its address
    "cap-x86-ignore-shared": (("7.2", "10.0"), [
        "--arch", "x86_64", "--machine", "pc,memory-backend=mem0",
        "--capability", "x-ignore-shared", *MEMFD]),
    "cap-a64-ignore-shared-running": (("10.0",), [
        "--arch", "aarch64", "--machine", "virt,memory-backend=mem0", "--variant", "running",
        "--capability", "x-ignore-shared", *MEMFD]),
    # s390x: the iterative s390-storage_attributes section; a pointer array with NULLs
    "s390x-ccw": (("7.2", "10.0"), [
        "--arch", "s390x", "--machine", "s390-ccw-virtio", "--memory", "128M",
        "--extra-arg=-device", "--extra-arg=virtio-net-ccw",
        "--extra-arg=-device", "--extra-arg=virtio-rng-ccw"]),
    # 1 KiB target pages (Arm's TARGET_PAGE_BITS_VARY): 10 flag bits per RAM record
    "a64-raspi3b": (("10.0",), [
        "--arch", "aarch64", "--machine", "raspi3b", "--cpu", "cortex-a53", "--smp", "4",
        "--memory", "1G"]),
    # a GICv3 (higher migration priority) saved before the timer and RAM
    "a64-virt-gic3": (("10.0",), [
        "--arch", "aarch64", "--machine", "virt,gic-version=3", "--smp", "2"]),
    # every page sent in full: RAM iterations end at the rate limit, not when done
    "x86-nozerodetect-running": (("10.0",), [
        "--arch", "x86_64", "--variant", "running", "--run-ms", "300",
        "--parameter", "zero-page-detection=none"]),
    # the compress capability (QEMU <= 9.0): pages as be32 length + zlib data
    "x86-compress-running": (("7.2",), [
        "--arch", "x86_64", "--variant", "running", "--run-ms", "300",
        "--capability", "compress"]),
    # a guest that ran long enough for SeaBIOS to IDENTIFY its drive: the drive's
    # element of the IDE/AHCI arrays carries identify_data, the others do not
    "x86-ide-booted-running": (("7.2", "10.0"), [
        "--arch", "x86_64", "--variant", "running", "--run-ms", "1500",
        "--extra-arg=-drive", f"--extra-arg=file={DISK},format=raw,if=ide,file.locking=off"]),
    "x86-q35-ahci-booted-running": (("7.2", "10.0"), [
        "--arch", "x86_64", "--machine", "q35", "--variant", "running", "--run-ms", "1500",
        "--extra-arg=-drive", f"--extra-arg=file={DISK},format=raw,if=ide,file.locking=off"]),
    # VMSTATE_VSTRUCT (kcs, twice by name): its description is written inline
    "x86-ipmi-kcs": (("7.2", "10.0"), [
        "--arch", "x86_64", "--extra-arg=-device", "--extra-arg=ipmi-bmc-sim,id=bmc0",
        "--extra-arg=-device", "--extra-arg=isa-ipmi-kcs,bmc=bmc0"]),
    # two fields named offset (7.2's aspeed.rtc, its .name a TYPE_ macro)
    "arm-ast2500": (("7.2",), ["--arch", "arm", "--machine", "ast2500-evb", "--memory", "512M"]),
    # migrated while the guest runs and keeps changing two words per page: pages
    # are sent again as XBZRLE deltas (a slow link, so there are several passes)
    "x86-xbzrle-live": (("10.0",), [
        "--arch", "x86_64", "--variant", "live", "--run-ms", "1500", "--live-ms", "1000",
        "--capability", "xbzrle", "--parameter", "max-bandwidth=2000000",
        "--parameter", "downtime-limit=1",
        "--extra-arg=-drive", f"--extra-arg=file={BOOT},format=raw,if=ide,file.locking=off"]),
    # no JSON description at the end; 7.2's pc-i440fx-2.0 sends no configuration either
    "x86-novmdesc": (("7.2", "10.0"), ["--arch", "x86_64"]),
}
NOVMDESC_MACHINE = {"7.2": "pc-i440fx-2.0", "10.0": "pc,suppress-vmdesc=on"}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--version", choices=("7.2", "10.0"), action="append")
    p.add_argument("--only", action="append", default=[])
    p.add_argument("--trixie-root", type=Path, default=Path("/opt/trixie"))
    args = p.parse_args()
    failures = []
    for root in (Path("/"), args.trixie_root):
        if (root / "tmp").is_dir():
            with open(root / DISK.lstrip("/"), "wb") as fh:
                fh.truncate(1 << 20)
            with open(root / BOOT.lstrip("/"), "wb") as fh:
                fh.write(BOOT_SECTOR)
                fh.truncate(1 << 20)
    for version in args.version or ["7.2", "10.0"]:
        for name, (versions, opts) in CASES.items():
            if version not in versions or (args.only and not any(s in name for s in args.only)):
                continue
            cmd = [sys.executable, "-m", "vmstate_edu.qemu.capture", *opts,
                   "-o", str(DATA / f"qemu-{version}" / "edge" / name)]
            if name == "x86-novmdesc":
                cmd += ["--machine", NOVMDESC_MACHINE[version]]
            if version == "10.0":
                cmd += ["--qemu-root", str(args.trixie_root)]
            print(f"== {version} {name}", flush=True)
            if subprocess.run(cmd, cwd=REPO, check=False).returncode != 0:
                failures.append(f"{version}/{name}")
    if failures:
        print("failed:", ", ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
