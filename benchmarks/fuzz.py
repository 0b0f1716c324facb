"""The fuzz campaign of tests/fuzz, for longer: mutated real streams through
``vmstate_edu.load_stream`` until ``--cases`` cases or ``--seconds`` seconds.
Prints cases run, cases/s, outcomes by type (VMStateError subclasses are the
expected ones; ESCAPED:*, SLOW, HANG, BAD-ERROR are failures) and the first
failures with the mutator and case number that reproduce them.

    python benchmarks/fuzz.py --seconds 300 [--cases N] [--start 0] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "fuzz"))
sys.path.insert(0, str(ROOT))
import fuzzlib as fz  # noqa: E402


def run(seconds: float | None = 60.0, cases: int | None = None, start: int = 0,
        mutators: list[str] | None = None) -> dict:
    seeds = fz.load_seeds()
    muts = mutators or list(fz.MUTATORS)
    t0 = time.perf_counter()

    def progress(c: fz.Campaign) -> None:
        dt = time.perf_counter() - t0
        print(f"  {c.cases} cases, {c.cases / dt:.1f}/s, failures {len(c.failures)}",
              file=sys.stderr, flush=True)

    c = fz.campaign(seeds, muts, cases=cases, seconds=seconds, start_seed=start,
                    progress=progress)
    wall = time.perf_counter() - t0
    out = {"cases": c.cases, "wall_s": wall, "cases_per_s": c.cases / wall,
           "slowest_case_s": c.slowest, "outcomes": dict(c.kinds.most_common()),
           "failures": len(c.failures), "seeds": [s.name for s in seeds], "mutators": muts,
           "first_failures": [f"{s} {m} case {k}: {t.strip().splitlines()[-1]}"
                              for s, m, k, t in c.failures[:10]]}
    print(f"cases run: {c.cases} in {wall:.1f} s ({out['cases_per_s']:.1f} cases/s), "
          f"slowest case {c.slowest * 1000:.0f} ms")
    print("outcomes by type:")
    for kind, n in c.kinds.most_common():
        print(f"  {kind:24} {n}")
    print(f"failures: {len(c.failures)}")
    for line in out["first_failures"]:
        print("  " + line)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--cases", type=int)
    ap.add_argument("--start", type=int, default=0, help="first case number (reproduce one)")
    ap.add_argument("--mutator", action="append", choices=sorted(fz.MUTATORS))
    ap.add_argument("--json", help="write the figures to this file")
    ns = ap.parse_args()
    out = run(ns.seconds, ns.cases, ns.start, ns.mutator)
    if ns.json:
        Path(ns.json).write_text(json.dumps(out, indent=2))
    sys.exit(1 if out["failures"] else 0)


if __name__ == "__main__":
    main()
