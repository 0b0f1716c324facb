"""``vmstate-edu analyze`` versus ``analyze-migration.py -d state`` (the same
QEMU version's script): whole processes, wall time, median of several runs,
on each committed stream and on a large one (512 MiB x86 guest with 256 MiB
of random data, see ``large_stream.py``). Target: at least 2x faster, while
we also index every RAM page.

    python benchmarks/bench_analyze.py [--reps 3] [--no-large] [--large PATH]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

TARGET = 2.0


def run(reps: int = 3, large: str | None = None, with_large: bool = True) -> dict:
    rows = []
    # The floor both tools share: starting the interpreter (with site) and exiting.
    floor, _ = C.median_time([sys.executable, "-c", "pass"], max(reps, 5))
    print(f"interpreter start-up floor: {C.fmt_s(floor)}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-analyze-") as tmp:
        items = [(ver, case, C.plain_copy(xz, Path(tmp))) for ver, case, xz in
                 C.committed_streams()]
        if with_large:
            if large is None:
                from large_stream import large_stream
                large = str(large_stream())
            items.append(("7.2", "LARGE x86_64-pc 512M, 256 MiB random", Path(large)))
        for ver, case, path in items:
            script = C.analyze_script(ver)
            ours, err_o = C.median_time(C.VMSTATE_EDU + ["analyze", str(path)], reps)
            theirs, err_t = (None, "analyze-migration.py not found")
            if script is not None:
                theirs, err_t = C.median_time([sys.executable, str(script), "-f", str(path),
                                               "-d", "state"], reps)
            ratio = theirs / ours if ours and theirs else None
            work = ((theirs - floor) / max(ours - floor, 1e-3)
                    if ours and theirs and floor else None)
            rows.append({"version": ver, "case": case, "size": path.stat().st_size,
                         "ours": ours, "theirs": theirs, "ratio": ratio, "work_ratio": work,
                         "error": err_t or err_o})
            print(f"{ver:5} {case:42} {path.stat().st_size / 1e6:8.1f} MB  ours "
                  f"{C.fmt_s(ours):>9}  script {C.fmt_s(theirs):>9}  "
                  + (f"x{ratio:.2f}" if ratio else f"({err_t or err_o})"), flush=True)
    ratios = [r["ratio"] for r in rows if r["ratio"]]
    large_rows = [r for r in rows if r["case"].startswith("LARGE")]
    summary = {
        "rows": rows,
        "median_ratio": statistics.median(ratios) if ratios else None,
        "min_ratio": min(ratios) if ratios else None,
        "large_ratio": large_rows[0]["ratio"] if large_rows else None,
        "script_failures": [f'{r["version"]}/{r["case"]}' for r in rows if r["theirs"] is None],
        "floor": floor,
        "min_work_ratio": min((r["work_ratio"] for r in rows if r["work_ratio"]), default=None),
        "median_work_ratio": statistics.median([r["work_ratio"] for r in rows
                                                if r["work_ratio"]] or [0]),
    }
    summary["met"] = bool(ratios) and summary["min_ratio"] >= TARGET
    print(f"median speed-up x{summary['median_ratio']:.2f}, min x{summary['min_ratio']:.2f}, "
          f"large x{summary['large_ratio'] or 0:.2f} (target x{TARGET}); beyond the "
          f"{C.fmt_s(floor)} start-up floor: median x{summary['median_work_ratio']:.2f}, "
          f"min x{summary['min_work_ratio'] or 0:.2f}")
    return summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--large", help="path of the large stream (default: make/cache it)")
    ap.add_argument("--no-large", action="store_true")
    ns = ap.parse_args()
    run(ns.reps, ns.large, not ns.no_large)


if __name__ == "__main__":
    main()
