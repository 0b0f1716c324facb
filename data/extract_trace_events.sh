#!/usr/bin/env bash
# Copy the migration trace-event declarations of a QEMU source tree into
# data/qemu-<version>/trace-events-migration.txt (tests check our event
# formats against them). Usage: data/extract_trace_events.sh SRC_DIR VERSION
set -euo pipefail
src=$1; ver=$2
out="$(dirname "$0")/qemu-$ver/trace-events-migration.txt"
{
  echo "# extracted from $src/migration/trace-events (QEMU $ver) by data/extract_trace_events.sh"
  grep -E '^(vmstate|savevm|qemu_savevm|qemu_loadvm|loadvm|get_qtailq|put_qtailq|get_qlist|put_qlist|get_gtree|put_gtree)' "$src/migration/trace-events"
} > "$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out"
