"""Real streams from corners of QEMU (``data/qemu-*/edge/``, captured by
``data/capture_edge.py``): a name and instance written twice, the
``x-ignore-shared`` capability, s390x's storage attributes, machines that
send no configuration section or no JSON description."""

from __future__ import annotations

import lzma
from pathlib import Path

import vmstate_edu as v
from vmstate_edu.twin import twin_diff

DATA = Path(__file__).resolve().parent.parent / "data"


def _raw(case: str) -> bytes:
    return lzma.decompress((DATA / case / "stream.mig.xz").read_bytes())


def test_isapc_two_sections_with_one_name_and_instance_both_survive() -> None:
    """QEMU 7.2's isapc registers two ``isa-ide`` devices as instance 0: two
    FULL sections (ids 22, 23) with the same name and instance. Each gets its
    own entry and JSON description, so the re-save keeps both."""
    data = _raw("qemu-7.2/edge/x86-isapc")
    s = v.load_stream(data)
    ide = [x for x in s.sections if x.idstr == "isa-ide"]
    assert [(x.instance_id, x.section_id) for x in ide] == [(0, 22), (0, 23)]
    entries = [se for se in s.registry.handlers if se.idstr == "isa-ide"]
    assert len(entries) == 2 and entries[0] is not entries[1]
    assert s.to_bytes() == data
    s.reload(data)  # loading again into the same objects finds the same two entries
    assert [se for se in s.registry.handlers if se.idstr == "isa-ide"] == entries
    assert s.to_bytes() == data
    assert _twin("qemu-7.2/edge/x86-isapc", s) == {"save": [], "load": []}


def _log(case: str, side: str) -> str:
    return lzma.decompress((DATA / case / f"{side}.log.xz").read_bytes()).decode()


def _twin(case: str, s: v.Stream) -> dict[str, list]:
    ids = {sec.idstr for sec in s.sections} | {"configuration"}
    return {side: twin_diff(getattr(s, f"trace_{side}")().qemu_log(s.qemu_version),
                            _log(case, side), ids, side)
            for side in ("save", "load")}
