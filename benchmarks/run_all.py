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
## Why targets are not met (profiling notes, cProfile and -X importtime)

* **analyze** - on the 0.5 MB streams both tools spend most of their time on
  ~16-50 thousand RAM records; we pay a fixed ~45 ms more for imports, and we
  read the stream twice: ``load_stream`` (indexes every RAM page) and a traced
  load for the field values (``analyze_state``). Done here: RAM records of
  CONTINUE runs go through a tight scan (``ram._scan_continue_run``), and the
  traced load of ``analyze`` records no RAM leaves (``RAMState.trace_leaves``):
  -45% wall time on small streams, -72% on the large one (1.80 s -> 0.50 s).
  ppc64 is 1.6-1.7x faster than the script (its JSON walk of the 262144-entry
  IOMMU tables is slow). Reaching 2x everywhere needs one traced load shared by
  ``load_stream`` and ``analyze`` (``cli``/``stream.py``, not changed here) and a
  slice-based scan of long ZERO/PAGE runs.
* **extract** - ours = interpreter + two record passes + ``state.json`` (the
  traced load) + writing a 512 MiB sparse file with 256 MiB of data; the plain
  copy shows the kernel side alone is ~0.1 s. Done here: records grouped per
  block in one pass and written with ``os.pwritev`` per run of consecutive
  pages (was: one pass over every record per block, one seek+write per page).
  5x (<= 0.17 s) would need skipping the second, traced load.
* **engine, untraced load** - riscv64/x86 cpu sections are hundreds of single
  fields, structs and subsections: each pays ``vmstate_n_elems``,
  ``vmstate_size``, the accessor and the hook checks (~1.3-2.8 us per element).
  Array-heavy sections (aarch64, ppc64) use the bulk ``struct.unpack`` path
  and reach 3-8e6 elements/s.
* **engine, tracing overhead** - a traced run records one leaf per array
  element, where the untraced run unpacks a whole array at once; on array-heavy
  sections (aarch64, ppc64) that is 4-20x, on field-heavy ones 1.5-3.9x.
* **trace -> DataFrame** - rewritten (columns built once in their final
  dtypes, categorical codes by ``pd.factorize``, GC paused): 3.3 s -> ~1.2 s;
  what is left is transposing a million 14-tuples (~0.35 s) and pandas'
  object-column handling.
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
