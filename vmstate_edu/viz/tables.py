"""Styled register tables (pandas Stylers) from the DataFrames that
:mod:`vmstate_edu.tables` produces: one row per register with the columns
``architecture, qemu_version, section, subsection, field, register,
category, type, width, offset, value``.
"""

from __future__ import annotations

from typing import Any

from ._common import PALETTE

__all__ = ["CATEGORY_COLOURS", "style_registers", "side_by_side", "category_summary",
           "format_value"]

TABLE_COLUMNS = ["architecture", "qemu_version", "section", "subsection", "field", "register",
                 "category", "type", "width", "offset", "value"]

CATEGORY_COLOURS = {
    "general-purpose": "#dbe9f6", "floating point/vector": "#d9f0d3",
    "program counter": "#fde0c5", "status/control": "#fff2b3",
    "memory management": "#f6d5d5", "timer/counter": "#e0f3f8", "other": "#eeeeee",
    "general": "#dbe9f6", "gpr": "#dbe9f6",
    "pc": "#fde0c5", "control": "#fde0c5",
    "fpu": "#d9f0d3", "float": "#d9f0d3", "fp": "#d9f0d3",
    "vector": "#e8dff5", "simd": "#e8dff5",
    "csr": "#fff2b3", "system": "#fff2b3", "spr": "#fff2b3", "coprocessor": "#fff2b3",
    "segment": "#f6d5d5", "mmu": "#f6d5d5",
    "timer": "#e0f3f8", "interrupt": "#fbe3f0",
}


def _colour(cat: Any) -> str:
    if not isinstance(cat, str):
        return ""
    c = CATEGORY_COLOURS.get(cat.lower())
    if c is None:  # a stable pale colour for a category we did not list
        base = PALETTE[9 + (sum(map(ord, cat)) % 9)]
        c = base
    return f"background-color: {c}"


def format_value(v: Any, width: Any = None) -> str:
    """A register value as hex, padded to its width in bytes when known."""
    if isinstance(v, bool) or v is None:
        return "" if v is None else str(v)
    if isinstance(v, int):
        try:
            w = int(width) if width is not None else 0
        except (TypeError, ValueError):
            w = 0
        digits = max(1, 2 * w) if w else 1
        return f"0x{v & ((1 << (8 * w)) - 1) if w else v:0{digits}x}" if v >= 0 or w else str(v)
    if isinstance(v, (bytes, bytearray)):
        h = bytes(v).hex()
        return h if len(h) <= 34 else h[:32] + "…"
    return str(v)


def style_registers(df: Any, *, max_rows: int | None = 200, caption: str | None = None,
                    hide: tuple[str, ...] = ("architecture", "qemu_version")) -> Any:
    """A register table as a Styler: values in hex, rows tinted by category,
    offsets in hex, repeated architecture/version columns hidden."""
    d = df.copy()
    if max_rows is not None and len(d) > max_rows:
        d = d.head(max_rows)
    if "value" in d.columns:
        widths = d["width"] if "width" in d.columns else [None] * len(d)
        d["value"] = [format_value(v, w) for v, w in zip(d["value"], widths)]
    if "offset" in d.columns:
        d["offset"] = [f"0x{int(o):x}" if o is not None and o == o else "" for o in d["offset"]]
    cols = [c for c in d.columns if c not in hide]
    d = d[cols]
    st = d.style
    if "category" in d.columns:
        st = st.apply(lambda row: [_colour(row["category"])] * len(row), axis=1)
    st = st.set_properties(**{"font-family": "monospace", "font-size": "11px"})
    st = st.set_table_attributes('class="vm-register-table"')
    if caption is None and "architecture" in df.columns and len(df):
        arch = ", ".join(map(str, df["architecture"].unique()[:4]))
        ver = ", ".join(map(str, df["qemu_version"].unique()[:2])) \
            if "qemu_version" in df.columns else ""
        caption = f"{arch} — QEMU {ver} — {len(df)} registers" + (
            f" (first {max_rows} shown)" if max_rows is not None and len(df) > max_rows else "")
    if caption:
        st = st.set_caption(caption)
    return st.hide(axis="index")


def category_summary(df: Any) -> Any:
    """Registers and bytes per architecture and category (a DataFrame)."""
    import pandas as pd

    d = df.copy()
    d["width"] = pd.to_numeric(d.get("width"), errors="coerce").fillna(0)
    keys = [k for k in ("architecture", "qemu_version", "category") if k in d.columns]
    return (d.groupby(keys, observed=True)
             .agg(registers=("register", "count"), bytes=("width", "sum"))
             .reset_index())


def side_by_side(tables: Any, *, register_names: list[str] | None = None,
                 per_arch: int = 12, categories: list[str] | None = None) -> Any:
    """Four architectures next to each other: one column block per
    architecture (register, category, value), ``per_arch`` rows each (or the
    ``register_names`` asked for), as a Styler. ``tables`` is one DataFrame
    with an ``architecture`` column or a dict ``{arch: DataFrame}``."""
    import pandas as pd

    if isinstance(tables, dict):
        parts = []
        for arch, t in tables.items():
            t = t.copy()
            t["architecture"] = arch
            parts.append(t)
        df = pd.concat(parts, ignore_index=True)
    else:
        df = tables
    blocks = {}
    for arch, t in df.groupby("architecture", sort=False, observed=True):
        if categories is not None and "category" in t.columns:
            t = t[t["category"].isin(categories)]
        if register_names is not None:
            t = t[t["register"].isin(register_names)]
        t = t.head(per_arch)
        widths = t["width"] if "width" in t.columns else [None] * len(t)
        blocks[arch] = pd.DataFrame({
            "register": list(t["register"]),
            "category": list(t["category"]) if "category" in t.columns else [""] * len(t),
            "value": [format_value(v, w) for v, w in zip(t["value"], widths)],
        })
    n = max([len(b) for b in blocks.values()] + [0])
    wide = pd.concat({a: b.reindex(range(n)) for a, b in blocks.items()}, axis=1).fillna("")

    def tint(col: Any) -> list[str]:
        if col.name[1] != "category":
            cats = wide[(col.name[0], "category")]
        else:
            cats = col
        return [_colour(c) if c else "" for c in cats]

    st = wide.style.apply(tint, axis=0)
    st = st.set_properties(**{"font-family": "monospace", "font-size": "11px"})
    st = st.set_table_attributes('class="vm-side-by-side"')
    return st.hide(axis="index")
