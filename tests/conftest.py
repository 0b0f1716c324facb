"""Shared helpers for the engine tests."""

from __future__ import annotations

from pathlib import Path

import pytest

import vmstate_edu as v

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
QSRC = Path("/work/qsrc")
QEMU_SOURCES = {
    "7.2": QSRC / "qemu-7.2+dfsg",
    "10.0": QSRC / "qemu-10.0.13+ds",
}


def save_bytes(vmsd, obj, vmdesc=None) -> bytes:
    """``vmstate_save_state`` into a fresh QEMUFile; the bytes written."""
    f = v.QEMUFile()
    v.vmstate_save_state(f, vmsd, obj, vmdesc)
    return f.getvalue()


def leaves_tile(events, stream: bytes, start: int = 0) -> None:
    """Assert the leaf records (field/frame) cover ``stream[start:]`` exactly:
    contiguous, no overlap, no gap, each raw equal to the bytes it names."""
    leaves = sorted((e for e in events if e.kind in ("field", "frame")),
                    key=lambda e: (e.offset, e.seq))
    pos = start
    for e in leaves:
        assert isinstance(e.offset, int), e
        assert e.offset == pos, f"gap or overlap at {pos}: {e!r}"
        assert e.size >= 0, e
        if e.raw is not None:
            assert bytes(e.raw) == stream[e.offset:e.offset + e.size], e
        pos = e.offset + e.size
    assert pos == len(stream), f"leaves end at {pos}, stream has {len(stream)} bytes"


@pytest.fixture
def no_trace():
    """Make sure no tracer leaks in from another test."""
    from vmstate_edu import tracing

    assert tracing.ACTIVE is None
    yield
    assert tracing.ACTIVE is None
