"""The committed real QEMU streams, for tests (no QEMU needed)."""

from __future__ import annotations

import json
import lzma
import os
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data"
CASES = sorted(str(p.parent.relative_to(DATA)) for p in DATA.glob("qemu-*/*/stream.mig.xz"))


def case_dir(case: str) -> Path:
    return DATA / case


@lru_cache(maxsize=8)
def stream_bytes(case: str) -> bytes:
    return lzma.decompress((DATA / case / "stream.mig.xz").read_bytes())


def real_log(case: str, side: str) -> str:
    return lzma.decompress((DATA / case / f"{side}.log.xz").read_bytes()).decode("latin-1")


def expected(case: str, name: str):
    base = DATA / case / "expected" / name
    if base.exists():
        return json.loads(base.read_text())
    xz = Path(str(base) + ".xz")
    if xz.exists():
        return json.loads(lzma.decompress(xz.read_bytes()))
    return None


def has_expected_error(case: str) -> bool:
    return os.path.exists(DATA / case / "expected" / "analyze-error.txt")
