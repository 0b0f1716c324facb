"""Helpers shared by the views: byte spans of a trace, section ranges, colours."""

from __future__ import annotations

import html as _html
from dataclasses import dataclass
from typing import Any

# matplotlib's tab20 (pale shades second), hard-coded so that widgets need no matplotlib
PALETTE = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
    "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5",
    "#c49c94", "#f7b6d2", "#dbdb8d", "#9edae5", "#393b79", "#637939", "#8c6d31",
    "#843c39", "#7b4173", "#3182bd",
]
FRAME_COLOR = "#d0d0d0"
DATA_COLOR = "#f2e6c9"   # RAM pages and the JSON: bulk data, not fields
UNKNOWN_COLOR = "#ffffff"

# frame leaves that carry bulk data rather than framing
_DATA_FRAMES = {"page data", "vmdescription"}


@dataclass(frozen=True)
class Span:
    """One leaf of a trace: the bytes ``[start, start + size)`` of the stream."""

    start: int
    size: int
    kind: str          # "field", "frame" (framing) or "data" (RAM page, JSON)
    section: str | None
    vmsd: str | None
    path: str          # field path ("env.regs") or what a frame is ("section footer")
    index: int | None
    info: str | None
    value: Any
    seq: int
    raw: bytes | None = None

    @property
    def end(self) -> int:
        return self.start + self.size

    @property
    def group(self) -> str:
        """The key a byte map colours by: one colour per field (all elements of
        an array share it), framing by what it is."""
        if self.kind == "field":
            return f"{self.section}: {self.path}" if self.section else self.path
        if self.kind == "data":
            return f"[{self.path}]"
        return f"[frame] {self.path}"

    @property
    def label(self) -> str:
        """The element's name: ``env.regs[3]``, ``section footer`` …"""
        return self.path + (f"[{self.index}]" if self.index is not None else "")

    def value_text(self, limit: int = 40) -> str:
        v = self.value
        if isinstance(v, bool):
            return str(v)
        if isinstance(v, int):
            return f"{v} (0x{v & ((1 << (8 * max(self.size, 1))) - 1):x})" if v >= 0 \
                else f"{v}"
        if isinstance(v, (bytes, bytearray)):
            h = bytes(v).hex()
            return h if len(h) <= limit else h[:limit] + "…"
        if v is None:
            return "—"
        s = repr(v)
        return s if len(s) <= limit else s[: limit - 1] + "…"


def rows_of(tracer: Any) -> list[tuple]:
    """The row tuples of a Tracer (or of a list of rows / Events)."""
    rows = getattr(tracer, "rows", tracer)
    if rows and not isinstance(rows[0], tuple):
        from ..tracing import COLUMNS
        rows = [tuple(getattr(e, c) for c in COLUMNS) for e in rows]
    return rows


def _kind(row: tuple) -> str | None:
    kind, field = row[2], row[6]
    if kind not in ("field", "frame"):
        return None
    if field in _DATA_FRAMES:
        return "data"
    return kind


def byte_spans(tracer: Any, start: int | None = None, end: int | None = None,
               section: str | None = None) -> list[Span]:
    """The leaves of ``tracer`` (fields and framing) that overlap
    ``[start, end)`` or belong to ``section``, in stream order."""
    out: list[Span] = []
    for r in rows_of(tracer):
        k = _kind(r)
        if k is None or r[9] is None or not r[10]:
            continue
        if section is not None and r[4] != section:
            continue
        o, n = r[9], r[10]
        if start is not None and o + n <= start:
            continue
        if end is not None and o >= end:
            continue
        out.append(Span(o, n, k, r[4], r[5], r[6] or "", r[7], r[8], r[11], r[0],
                        r[12] if isinstance(r[12], (bytes, bytearray)) else None))
    out.sort(key=lambda s: (s.start, s.seq))
    return out


def section_ranges(tracer: Any) -> list[dict]:
    """Contiguous byte ranges per section, in stream order: ``name``,
    ``occurrence`` (0, 1, … for a name seen again, e.g. RAM pieces), ``start``,
    ``end``. Bytes outside any section (header, EOF, JSON) are not listed."""
    ranges: list[dict] = []
    seen: dict[str, int] = {}
    cur: dict | None = None
    for s in byte_spans(tracer):
        new_piece = s.kind == "frame" and s.path == "section type"
        if s.section is None:
            cur = None
            continue
        if cur is None or cur["name"] != s.section or new_piece or s.start != cur["end"]:
            n = seen.get(s.section, 0)
            seen[s.section] = n + 1
            cur = {"name": s.section, "occurrence": n, "start": s.start, "end": s.end}
            ranges.append(cur)
        else:
            cur["end"] = max(cur["end"], s.end)
    return ranges


def section_range(tracer: Any, section: str, occurrence: int = 0) -> tuple[int, int]:
    """``(start, end)`` of the ``occurrence``-th piece of ``section``."""
    for r in section_ranges(tracer):
        if r["name"] == section and r["occurrence"] == occurrence:
            return r["start"], r["end"]
    names = sorted({r["name"] for r in section_ranges(tracer)})
    raise KeyError(f"no section {section!r} (occurrence {occurrence}) in this trace; "
                   f"sections: {', '.join(names)}")


def colour_map(spans: list[Span]) -> dict[str, str]:
    """A colour per span group: fields cycle through the palette, framing grey."""
    colours: dict[str, str] = {}
    i = 0
    for s in spans:
        g = s.group
        if g in colours:
            continue
        if s.kind == "frame":
            colours[g] = FRAME_COLOR
        elif s.kind == "data":
            colours[g] = DATA_COLOR
        else:
            colours[g] = PALETTE[i % len(PALETTE)]
            i += 1
    return colours


def esc(text: Any) -> str:
    return _html.escape(str(text), quote=True)
