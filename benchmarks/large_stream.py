"""Make (once) the large benchmark stream: an x86_64 ``pc`` guest, 512 MiB,
paused, with 256 MiB of random bytes loaded into its RAM by
``-device loader``. The stream is kept out of the repository, in a cache
folder (``$VMSTATE_BENCH_CACHE`` or ``~/.cache/vmstate-edu-bench``).

    python benchmarks/large_stream.py          # prints the stream's path
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

RANDOM_MIB = 256
LOAD_ADDR = 0x1000000  # 16 MiB into guest RAM, inside pc.ram


def cache_dir() -> Path:
    """The folder that holds the large stream and its random payload."""
    d = Path(os.environ.get("VMSTATE_BENCH_CACHE", Path.home() / ".cache" / "vmstate-edu-bench"))
    d.mkdir(parents=True, exist_ok=True)
    return d


def large_stream(verbose: bool = True) -> Path:
    """The path of the large stream, capturing it with QEMU 7.2 if missing."""
    d = cache_dir()
    out = d / "x86_64-pc-512M-random"
    stream = out / "stream.mig"
    if stream.exists():
        return stream
    payload = d / "random.bin"
    if not payload.exists() or payload.stat().st_size != RANDOM_MIB << 20:
        tmp = payload.with_suffix(".tmp")
        rng = random.Random(1234)
        with open(tmp, "wb") as fh:
            for _ in range(RANDOM_MIB):
                fh.write(rng.randbytes(1 << 20))
        os.replace(tmp, payload)
    cmd = [sys.executable, "-m", "vmstate_edu.qemu.capture", "--arch", "x86_64",
           "--machine", "pc", "--variant", "paused", "--memory", "512M", "--timeout", "600",
           "--extra-arg=-device", f"--extra-arg=loader,file={payload},addr=0x{LOAD_ADDR:x}",
           "-o", str(out)]
    if verbose:
        print("capturing:", " ".join(cmd), file=sys.stderr)
    subprocess.run(cmd, check=True, cwd=Path(__file__).resolve().parent.parent)
    xz = out / "stream.mig.xz"
    if not stream.exists() and xz.exists():  # the capture tool stores xz: keep a plain copy
        subprocess.run(["xz", "-dk", str(xz)], check=True)
    return stream


if __name__ == "__main__":
    print(large_stream())
