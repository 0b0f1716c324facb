"""``vmstate-edu extract`` versus ``analyze-migration.py -x`` (run in a
temporary folder: -x writes into the cwd) on the large stream, median of
whole processes; throughput in GB/s beside a plain copy of the same file
(``shutil.copyfile`` of the uncompressed stream). Target: at least 5x.

    python benchmarks/bench_extract.py [--reps 3] [--large PATH]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

TARGET = 5.0


def _copy_time(path: Path, reps: int) -> float:
    times = []
    with tempfile.TemporaryDirectory(prefix="bench-copy-", dir=path.parent) as d:
        for k in range(reps):
            t0 = time.perf_counter()
            shutil.copyfile(path, Path(d) / f"copy{k}")
            times.append(time.perf_counter() - t0)
            os.unlink(Path(d) / f"copy{k}")
    return statistics.median(times)


def run(reps: int = 3, large: str | None = None) -> dict:
    if large is None:
        from large_stream import large_stream
        large = str(large_stream())
    path = Path(large)
    size = path.stat().st_size
    work = path.parent

    def ours_cmd() -> list[str]:
        return C.VMSTATE_EDU + ["extract", str(path), "-o", "out"]

    ours, err_o = C.median_time(ours_cmd(), reps, cwd_factory=lambda: work)
    script = C.analyze_script("7.2")
    theirs, err_t = (None, "analyze-migration.py not found")
    if script is not None:
        theirs, err_t = C.median_time([sys.executable, str(script), "-f", str(path), "-x"],
                                      reps, cwd_factory=lambda: work)
    copy = _copy_time(path, reps)
    ratio = theirs / ours if ours and theirs else None
    out = {"size": size, "ours": ours, "theirs": theirs, "copy": copy, "ratio": ratio,
           "ours_gbs": size / ours / 1e9 if ours else None,
           "theirs_gbs": size / theirs / 1e9 if theirs else None,
           "copy_gbs": size / copy / 1e9, "error": err_o or err_t,
           "met": bool(ratio and ratio >= TARGET)}
    print(f"stream {size / 1e6:.1f} MB: ours {C.fmt_s(ours)} ({out['ours_gbs'] or 0:.2f} GB/s), "
          f"analyze-migration.py -x {C.fmt_s(theirs)} ({out['theirs_gbs'] or 0:.2f} GB/s), "
          f"copy {copy:.3f} s ({out['copy_gbs']:.2f} GB/s)")
    print(f"speed-up x{ratio or 0:.2f} (target x{TARGET}); ours at "
          f"{(out['ours_gbs'] or 0) / out['copy_gbs']:.0%} of a plain copy" + (
              f" [{out['error']}]" if out["error"] else ""))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--large")
    ns = ap.parse_args()
    run(ns.reps, ns.large)


if __name__ == "__main__":
    main()
