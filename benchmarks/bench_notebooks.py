"""The whole course's execution time: every notebooks/*.ipynb and
notebooks/exercises/*.ipynb executed with nbclient (skipped with a message
when nbclient or the notebooks are missing).

    python benchmarks/bench_notebooks.py [--timeout 600]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402


def run(timeout: int = 600) -> dict:
    try:
        import nbformat
        from nbclient import NotebookClient
    except ImportError:
        print("skipped: nbclient/nbformat not installed (pip install nbclient nbformat ipykernel)")
        return {"skipped": "nbclient not installed"}
    books = sorted((C.ROOT / "notebooks").glob("*.ipynb")) + \
        sorted((C.ROOT / "notebooks" / "exercises").glob("*.ipynb"))
    if not books:
        print("skipped: no notebooks under notebooks/")
        return {"skipped": "no notebooks"}
    os.environ["PYTHONPATH"] = C.ENV["PYTHONPATH"]
    rows, total = [], 0.0
    for nb_path in books:
        nb = nbformat.read(nb_path, as_version=4)
        t0 = time.perf_counter()
        err = ""
        try:
            NotebookClient(nb, timeout=timeout, kernel_name="python3",
                           resources={"metadata": {"path": str(nb_path.parent)}}).execute()
        except Exception as e:  # a failing notebook is a figure too
            err = f"{type(e).__name__}: {str(e).strip().splitlines()[0][:120] if str(e) else ''}"
        dt = time.perf_counter() - t0
        total += dt
        name = str(nb_path.relative_to(C.ROOT))
        rows.append({"notebook": name, "seconds": dt, "error": err})
        print(f"{name:60} {dt:7.2f} s" + (f"  FAILED {err}" if err else ""), flush=True)
    print(f"whole course: {total:.1f} s for {len(rows)} notebooks "
          f"({sum(1 for r in rows if r['error'])} failed)")
    return {"rows": rows, "total_s": total}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--timeout", type=int, default=600)
    run(ap.parse_args().timeout)


if __name__ == "__main__":
    main()
