"""The RAM index's fast scan (runs of ``ZERO|CONTINUE`` / ``PAGE|CONTINUE``
records decoded by byte-slice arithmetic) must index a stream exactly as the
general record loop does, and fail exactly as it does: same records, or the
same error at the same offset. Checked on real streams and on real streams
with one record of a zero-page run altered."""

from __future__ import annotations

import lzma
import re
from pathlib import Path

import pytest

import vmstate_edu as v
from vmstate_edu import ram

DATA = Path(__file__).resolve().parent.parent / "data"
SEEDS = ["qemu-7.2/riscv64-virt-paused", "qemu-10.0/x86_64-pc-running",
         "qemu-10.0/aarch64-virt-paused", "qemu-7.2/ppc64-pseries-paused"]
ZERO_RUN = re.compile(rb"(?s)(?:.{7}\x22\x00){40}")  # 40 ZERO|CONTINUE records, fill 0


def _stream(seed: str) -> bytes:
    return lzma.decompress((DATA / seed / "stream.mig.xz").read_bytes())


def _outcome(data: bytes, slow: bool, monkeypatch: pytest.MonkeyPatch) -> tuple:
    with monkeypatch.context() as m:
        if slow:
            m.setattr(ram, "_scan_continue_run", lambda f, state, bi: None)
        try:
            s = v.load_stream(data)
        except v.VMStateError as e:
            return ("error", type(e).__name__, e.offset, str(e))
    r = s.registry.ram
    return ("ok", r.rec_word.tobytes(), r.rec_block.tobytes(), r.rec_data.tobytes(),
            tuple(r.pieces))


@pytest.mark.parametrize("seed", SEEDS)
def test_fast_scan_indexes_real_streams_like_the_record_loop(seed, monkeypatch) -> None:
    data = _stream(seed)
    fast = _outcome(data, False, monkeypatch)
    assert fast[0] == "ok" and len(fast[1]) // 8 > 1000
    assert fast == _outcome(data, True, monkeypatch)


def _alterations(data: bytes) -> list[tuple[str, bytes]]:
    m = ZERO_RUN.search(data, len(data) // 8)
    assert m, "no run of zero pages found"
    out = []
    for r in (0, 1, 13, 39):
        at = m.start() + 9 * r
        word = int.from_bytes(data[at:at + 8], "big")

        def put(w: int, fill: int = 0, at: int = at) -> bytes:
            return data[:at] + w.to_bytes(8, "big") + bytes([fill]) + data[at + 9:]

        out += [
            (f"rec{r} page outside the block", put((1 << 50) | 0x22)),
            (f"rec{r} page just past 64 MiB", put((64 << 20) | 0x22)),
            (f"rec{r} becomes PAGE|CONTINUE", put((word & ~0xFFF) | 0x28)),
            (f"rec{r} flag bit 8 set", put(word | 0x100)),
            (f"rec{r} loses CONTINUE", put((word & ~0xFFF) | 0x02)),
            (f"rec{r} fill 0x5a", put(word, 0x5A)),
            (f"rec{r} EOS", put((word & ~0xFFF) | 0x10)),
            (f"cut inside rec{r}", data[:at + 4]),
        ]
    return out


def _page_alterations(data: bytes) -> list[tuple[str, bytes]]:
    """The same for a run of PAGE|CONTINUE records (4104 bytes apart)."""
    r = v.load_stream(data).registry.ram
    starts = [d - 8 for w, d in zip(r.rec_word, r.rec_data) if w & 0xFFF == 0x28]
    runs = [a for a, b in zip(starts, starts[1:]) if b - a == 4104]
    assert len(runs) > 40, "no run of full pages found"
    out = []
    for at in (runs[0], runs[1], runs[len(runs) // 2]):
        word = int.from_bytes(data[at:at + 8], "big")

        def put(w: int, at: int = at) -> bytes:
            return data[:at] + w.to_bytes(8, "big") + data[at + 8:]

        out += [
            (f"page@{at:x} outside the block", put((1 << 50) | 0x28)),
            (f"page@{at:x} becomes ZERO|CONTINUE", put((word & ~0xFFF) | 0x22)),
            (f"page@{at:x} loses CONTINUE", put((word & ~0xFFF) | 0x08)),
            (f"page@{at:x} flag bit 9 set", put(word | 0x200)),
            (f"cut inside page@{at:x}", data[:at + 100]),
        ]
    return out


@pytest.mark.parametrize("seed", SEEDS[:2])
def test_fast_scan_fails_like_the_record_loop(seed, monkeypatch) -> None:
    data = _stream(seed)
    kinds = set()
    alterations = _alterations(data)
    if "running" in seed:
        alterations += _page_alterations(data)
    for what, bad in alterations:
        fast = _outcome(bad, False, monkeypatch)
        assert fast == _outcome(bad, True, monkeypatch), what
        kinds.add(fast[0] if fast[0] == "ok" else fast[1])
    assert "ok" in kinds and len(kinds) >= 2  # some alterations load, some are refused
