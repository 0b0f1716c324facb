"""``vmstate-edu extract`` writes the same RAM as QEMU's own
``analyze-migration.py -x``: for every committed stream the script could
read, each RAM block file has the digest the script's file had
(``expected/extract-sha256.json``, written by ``data/make_expected.sh``).
Covers 4 KiB pages and the 1 KiB pages of a raspi3b guest."""

from __future__ import annotations

import hashlib
import json
import lzma
from pathlib import Path

import pytest

import vmstate_edu as v
from vmstate_edu.extract import extract

DATA = Path(__file__).resolve().parent.parent / "data"
CASES = sorted(str(p.parent.parent.relative_to(DATA))
               for p in DATA.glob("qemu-*/**/expected/extract-sha256.json"))


def test_there_are_cases() -> None:
    assert len(CASES) >= 30 and "qemu-10.0/edge/a64-raspi3b" in CASES


def _sha(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@pytest.mark.parametrize("case", CASES)
def test_extract_matches_analyze_migration_x(case: str, tmp_path: Path) -> None:
    want = json.loads((DATA / case / "expected" / "extract-sha256.json").read_text())
    s = v.load_stream(lzma.decompress((DATA / case / "stream.mig.xz").read_bytes()))
    files = extract(s, str(tmp_path))
    got = {block.lstrip("/"): _sha(tmp_path / fname) for block, fname in files.items()}
    assert got == want
