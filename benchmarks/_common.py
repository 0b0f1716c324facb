"""Helpers shared by the benchmark scripts: timing whole processes, finding
QEMU's ``scripts/analyze-migration.py``, the committed streams, the machine."""

from __future__ import annotations

import glob
import lzma
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
ENV = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
# the engine of this checkout, whatever ``vmstate-edu`` on PATH points at
VMSTATE_EDU = [sys.executable, "-m", "vmstate_edu.cli"]


def compile_package() -> None:
    """Byte-compile the package first, as ``pip install`` does: this sandbox
    sets PYTHONDONTWRITEBYTECODE, and recompiling every module on every run
    would charge our command ~50 ms that an installed copy never pays."""
    import compileall
    compileall.compile_dir(str(ROOT / "vmstate_edu"), quiet=1)


compile_package()

QSRC_DEFAULTS = {"7.2": "/work/qsrc/qemu-7.2+dfsg", "10.0": "/work/qsrc/qemu-10.0.13+ds"}


def analyze_script(version: str) -> Path | None:
    """``analyze-migration.py`` of QEMU ``version``: ``$ANALYZE_MIGRATION_7_2`` /
    ``$ANALYZE_MIGRATION_10_0`` (the script), ``$QEMU_SRC_7_2`` / ``$QEMU_SRC_10_0``
    (a source tree), or the extracted sources under /work/qsrc. To get them
    elsewhere: ``apt-get source --download-only qemu`` and extract."""
    key = version.replace(".", "_")
    direct = os.environ.get(f"ANALYZE_MIGRATION_{key}")
    if direct and Path(direct).is_file():
        return Path(direct)
    src = os.environ.get(f"QEMU_SRC_{key}", QSRC_DEFAULTS.get(version, ""))
    p = Path(src) / "scripts" / "analyze-migration.py"
    return p if p.is_file() else None


def committed_streams() -> list[tuple[str, str, Path]]:
    """(version, case, path of the .xz) for every committed stream."""
    out = []
    for p in sorted(glob.glob(str(DATA / "qemu-*" / "*" / "stream.mig.xz"))):
        path = Path(p)
        out.append((path.parent.parent.name.removeprefix("qemu-"), path.parent.name, path))
    return out


def plain_copy(xz: Path, folder: Path) -> Path:
    """The uncompressed stream in ``folder`` (the script needs a plain file)."""
    out = folder / (xz.parent.parent.name + "-" + xz.parent.name + ".mig")
    if not out.exists():
        out.write_bytes(lzma.decompress(xz.read_bytes()))
    return out


def run_timed(cmd: list[str], cwd: str | Path | None = None, env: dict | None = None
              ) -> tuple[float, int, bytes]:
    """Wall time of one whole process (stdout discarded), its exit code, stderr tail."""
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, env=env or ENV, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    return time.perf_counter() - t0, p.returncode, p.stderr[-400:]


def median_time(cmd: list[str], reps: int, cwd_factory=None) -> tuple[float | None, str]:
    """Median wall time over ``reps`` runs; None and the error if it failed."""
    times = []
    for _ in range(reps):
        if cwd_factory is not None:
            with tempfile.TemporaryDirectory(prefix="bench-", dir=cwd_factory()) as d:
                dt, rc, err = run_timed(cmd, cwd=d)
        else:
            dt, rc, err = run_timed(cmd)
        if rc != 0:
            return None, err.decode("utf-8", "replace").strip().splitlines()[-1:][0] \
                if err.strip() else f"exit {rc}"
        times.append(dt)
    return statistics.median(times), ""


def machine() -> dict[str, str]:
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"nproc": str(os.cpu_count()), "cpu": cpu, "python": platform.python_version(),
            "platform": platform.platform()}


def fmt_s(t: float | None) -> str:
    return "failed" if t is None else f"{t:.3f} s"
