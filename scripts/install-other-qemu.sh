#!/usr/bin/env bash
# Install the *other* Debian release's QEMU in a chroot, so both QEMU 7.2 and
# 10.0 can run here (see shared/qemu-10.md): on Debian 12 (QEMU 7.2) a Debian
# 13 root at /opt/trixie (QEMU 10.0, plus the 32-bit OpenSBI 7.2's riscv32
# needs); on Debian 13 a Debian 12 root at /opt/bookworm. Best effort: tests
# that need a missing QEMU are skipped with the reason printed.
set -euo pipefail
major=$(cut -d. -f1 /etc/debian_version 2>/dev/null || echo 0)
if [ "$major" = 12 ]; then suite=trixie; root=${OTHER_QEMU_ROOT:-/opt/trixie}
elif [ "$major" = 13 ]; then suite=bookworm; root=${OTHER_QEMU_ROOT:-/opt/bookworm}
else echo "not Debian 12 or 13: nothing to do"; exit 0; fi
if [ -x "$root/usr/bin/qemu-system-riscv64" ]; then echo "$root already has QEMU"; exit 0; fi
command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap
debootstrap --variant=minbase "$suite" "$root"
cp /etc/resolv.conf "$root/etc/"
chroot "$root" bash -c 'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
  --no-install-recommends qemu-system-misc qemu-system-x86 qemu-system-arm qemu-system-ppc \
  qemu-system-data opensbi seabios'
chroot "$root" qemu-system-riscv64 --version
