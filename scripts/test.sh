#!/usr/bin/env bash
# Set up everything the tests need on a fresh Debian machine, then run them all.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  # Real QEMU (capture and edit-and-resume tests) and Chromium (browser test).
  pkgs="qemu-system-misc qemu-system-x86 qemu-system-arm qemu-system-ppc xz-utils chromium"
  missing=""
  for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  if [ -n "$missing" ]; then
    (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing) \
      >/tmp/vmstate-edu-apt.log 2>&1 || echo "warning: apt-get install failed; tests needing QEMU or Chromium will be skipped (see /tmp/vmstate-edu-apt.log)"
  fi
fi
if [ "$(id -u)" = 0 ] && [ "${VMSTATE_EDU_OTHER_QEMU:-1}" = 1 ]; then
  # the other QEMU release (7.2 or 10.0) in a chroot, for the real-QEMU tests of both
  timeout 1500 bash scripts/install-other-qemu.sh >/tmp/vmstate-edu-other-qemu.log 2>&1 \
    || echo "warning: the other QEMU release is not installed; its real-QEMU tests will be skipped (see /tmp/vmstate-edu-other-qemu.log)"
fi
python3 -m pip install -q -e '.[test]'
python3 -m ruff check .
exec python3 -m pytest -q "$@"
