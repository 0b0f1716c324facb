#!/bin/sh
# Regenerate data/qemu-<version>/<case>/expected/ with QEMU's own
# scripts/analyze-migration.py of the matching version.
#
# Usage (from anywhere):
#   data/make_expected.sh 7.2=/work/qsrc/qemu-7.2+dfsg 10.0=/work/qsrc/qemu-10.0.13+ds
#
# Each argument is VERSION=PATH, where PATH is either a QEMU source tree
# (containing scripts/analyze-migration.py) or the script itself.  The script
# is run in place and never copied into the repository.
#
# For every case folder holding stream.mig.xz (edge/ cases too) it writes
#   expected/analyze-state.json   (analyze-migration.py -d state)
#   expected/analyze-desc.json    (analyze-migration.py -d desc)
#   expected/extract-sha256.json  (-x: sha256 of each RAM block file it writes,
#                                  keyed by its path: the block name less a leading /)
# and, when a run crashes, expected/analyze-error.txt with the command, its
# exit status and the last lines of the traceback (instead of that JSON).
# An output larger than XZ_OVER bytes (default 1 MiB; only ppc64's
# -d state, dominated by spapr_iommu's TCE tables) is stored compressed as
# expected/analyze-<mode>.json.xz (xz -9) to keep the data folder small.
# -m (RAM contents) is not used: it crashes in both versions' scripts
# (TypeError: ord() expected string of length 1, but int found).
set -eu

PYTHON=${PYTHON:-python3}
DATA=$(cd "$(dirname "$0")" && pwd)
TAIL_LINES=${TAIL_LINES:-6}
XZ_OVER=${XZ_OVER:-1048576}

[ $# -gt 0 ] || { echo "usage: $0 VERSION=PATH [VERSION=PATH ...]" >&2; exit 2; }

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM

for arg in "$@"; do
    version=${arg%%=*}
    path=${arg#*=}
    if [ -f "$path" ]; then
        script=$path
    else
        script=$path/scripts/analyze-migration.py
    fi
    [ -f "$script" ] || { echo "no analyze-migration.py at $path" >&2; exit 2; }
    [ -d "$DATA/qemu-$version" ] || { echo "no folder $DATA/qemu-$version" >&2; exit 2; }

    for case_dir in "$DATA/qemu-$version"/*/ "$DATA/qemu-$version"/edge/*/; do
        case_dir=${case_dir%/}
        [ -f "$case_dir/stream.mig.xz" ] || continue
        name=${case_dir#"$DATA/qemu-$version/"}
        exp=$case_dir/expected
        mkdir -p "$exp"
        rm -f "$exp/analyze-state.json" "$exp/analyze-desc.json" \
              "$exp/analyze-state.json.xz" "$exp/analyze-desc.json.xz" \
              "$exp/analyze-error.txt"
        xz -dc "$case_dir/stream.mig.xz" > "$TMP/stream.mig"
        status="ok"
        for mode in state desc; do
            if "$PYTHON" "$script" -f "$TMP/stream.mig" -d "$mode" \
                    > "$TMP/out.json" 2> "$TMP/err.txt"; then
                if [ "$(wc -c < "$TMP/out.json")" -gt "$XZ_OVER" ]; then
                    xz -9 -c "$TMP/out.json" > "$TMP/out.json.xz"
                    mv "$TMP/out.json.xz" "$exp/analyze-$mode.json.xz"
                    rm -f "$TMP/out.json"
                else
                    mv "$TMP/out.json" "$exp/analyze-$mode.json"
                fi
            else
                rc=$?
                case $status in ok) status="CRASH:$mode" ;; *) status="$status,$mode" ;; esac
                {
                    echo "analyze-migration.py -d $mode (QEMU $version) exited with status $rc"
                    echo "--- last lines of stderr ---"
                    tail -n "$TAIL_LINES" "$TMP/err.txt" | cut -c1-400
                    echo
                } >> "$TMP/error.txt"
            fi
        done
        if [ -f "$TMP/error.txt" ]; then
            mv "$TMP/error.txt" "$exp/analyze-error.txt"
        fi
        # -x: the RAM block files the script writes, as {block name: sha256}
        rm -f "$exp/extract-sha256.json"
        mkdir "$TMP/x"
        if (cd "$TMP/x" && "$PYTHON" "$script" -f "$TMP/stream.mig" -x > /dev/null 2>&1); then
            "$PYTHON" - "$TMP/x" "$exp/extract-sha256.json" <<'PY'
import hashlib, json, os, sys
root, out = sys.argv[1], sys.argv[2]
digests = {}
for folder, _, files in os.walk(root):
    for f in files:
        rel = os.path.relpath(os.path.join(folder, f), root)
        if rel not in ("desc.json", "state.json"):
            with open(os.path.join(folder, f), "rb") as fh:
                digests[rel] = hashlib.sha256(fh.read()).hexdigest()
with open(out, "w") as fh:
    json.dump(dict(sorted(digests.items())), fh, indent=1)
    fh.write("\n")
PY
        else
            status="$status,no-x"
        fi
        rm -rf "$TMP/x"
        echo "$version/$name: $status"
    done
done
