"""``vmstate-edu diff A B``: which saved fields differ between two streams."""

from __future__ import annotations

from typing import Any

from .stream import Stream


def field_values(stream: Stream) -> dict[tuple, Any]:
    """{(section, instance, path, index): (type, value)} for every field element."""
    df = stream.to_dataframe()
    out: dict[tuple, Any] = {}
    seen: dict[tuple, int] = {}
    for row in df.itertuples(index=False):
        idx = None if row.index is None or str(row.index) == "<NA>" else int(row.index)
        key = (row.section, int(row.instance), row.path, idx)
        n = seen.get(key, 0)
        seen[key] = n + 1
        if n:
            key = key + (n,)
        out[key] = (row.type, row.value if not isinstance(row.value, (bytes, bytearray))
                    else bytes(row.value).hex())
    return out


def diff_streams(a: Stream, b: Stream) -> dict[str, list]:
    """``changed``: (section, path, old, new); ``only_a``/``only_b``: fields in one only."""
    va, vb = field_values(a), field_values(b)
    changed, only_a, only_b = [], [], []
    for key, (_t, v) in va.items():
        if key not in vb:
            only_a.append(_label(key))
        elif vb[key][1] != v:
            changed.append((f"{key[0]}:{key[1]}", _path(key), v, vb[key][1]))
    for key in vb:
        if key not in va:
            only_b.append(_label(key))
    pa, pb = _pages(a), _pages(b)
    for key in sorted(set(pa) | set(pb)):
        if pa.get(key) != pb.get(key):
            changed.append(("ram:0", f"{key[0]}@0x{key[1]:x}", _page_label(pa.get(key)),
                            _page_label(pb.get(key))))
    return {"changed": changed, "only_a": only_a, "only_b": only_b}


def _pages(s: Stream) -> dict[tuple[str, int], Any]:
    """The last content each page got in the stream: zero fill byte or a digest."""
    import hashlib
    out: dict[tuple[str, int], Any] = {}
    for block, addr, kind, off in s.ram.page_index():
        if kind == "zero":
            out[(block, addr)] = ("zero", 0)
        else:
            out[(block, addr)] = ("page", hashlib.sha1(s.ram.source.view(
                off, off + s.ram.page_size)).hexdigest()[:12])
    return out


def _page_label(v: Any) -> str:
    if v is None:
        return "absent"
    return "zero page" if v[0] == "zero" else f"page sha1:{v[1]}"


def _path(key: tuple) -> str:
    return key[2] + (f"[{key[3]}]" if key[3] is not None else "")


def _label(key: tuple) -> str:
    return f"{key[0]}:{key[1]}/{_path(key)}"
