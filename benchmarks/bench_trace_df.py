"""One million trace events to a DataFrame (``Tracer.to_dataframe``); target
under 1 s. The rows are real ones (a traced load of a committed stream),
repeated to a million; the ratio to building the rows is printed beside it.

    python benchmarks/bench_trace_df.py [--events 1000000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

import vmstate_edu as v  # noqa: E402

TARGET = 1.0


def run(events: int = 1_000_000) -> dict:
    s = v.load_stream(C.DATA / "qemu-10.0" / "x86_64-pc-paused" / "stream.mig.xz")
    t0 = time.perf_counter()
    n_loads = 0
    rows: list[tuple] = []
    while len(rows) < events:  # building the rows: traced loads, as a user would
        rows += s.trace_load().rows
        n_loads += 1
    build = time.perf_counter() - t0
    per_event_build = build / len(rows)
    tr = v.Tracer()
    tr.rows = rows[:events]
    import pandas  # noqa: F401  (import time is not the conversion's)
    t0 = time.perf_counter()
    df = tr.to_dataframe()
    conv = time.perf_counter() - t0
    assert len(df) == events
    build_1m = per_event_build * events
    out = {"events": events, "to_dataframe_s": conv, "build_rows_s": build_1m,
           "ratio": conv / build_1m, "met": conv < TARGET}
    print(f"{events} events -> DataFrame in {conv:.3f} s (target < {TARGET} s); building "
          f"those rows (traced loads) took {build_1m:.3f} s: conversion = "
          f"{out['ratio']:.2f}x the building")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    run(ap.parse_args().events)


if __name__ == "__main__":
    main()
