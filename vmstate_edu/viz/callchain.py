"""Call chains: the nested calls of a save or a load, from a trace's ``call``
records (``qemu_savevm_state`` → phases → ``vmstate_save`` →
``vmstate_save_state_v`` → struct recursion and subsections).

* :func:`call_tree` builds the tree (each node knows the stream bytes it wrote
  or read and the field elements inside it);
* :func:`call_tree_text` prints it; :func:`callchain_figure` draws it
  (x = stream offset, y = depth, one bar per call);
* :func:`callchain_widget` is a collapsible tree;
* :func:`to_chrome_trace` writes Chrome trace-event JSON whose time axis is
  the stream offset, so Perfetto or ``chrome://tracing`` shows a byte map of
  the calls.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from ._common import PALETTE, esc, rows_of

__all__ = ["CallNode", "call_tree", "call_tree_text", "callchain_figure", "callchain_widget",
           "to_chrome_trace", "chrome_trace_events"]


@dataclass
class CallNode:
    """One call: ``func`` with ``detail`` (a vmsd or section name), the
    stream range ``[start, end)`` it covers, its children and leaves."""

    func: str
    detail: str | None
    start: int
    end: int
    depth: int
    section: str | None = None
    seq: int = 0
    children: list[CallNode] = field(default_factory=list)
    fields: list[tuple] = field(default_factory=list)  # leaf rows directly inside
    frames: list[tuple] = field(default_factory=list)

    @property
    def size(self) -> int:
        """Bytes written (or read) inside this call."""
        return self.end - self.start

    @property
    def name(self) -> str:
        return f"{self.func}({self.detail})" if self.detail else self.func

    def walk(self):
        """This node and every descendant, depth first."""
        yield self
        for c in self.children:
            yield from c.walk()

    def find(self, func: str, detail: str | None = None) -> list[CallNode]:
        """Descendants (and self) calling ``func`` (with ``detail`` if given)."""
        return [n for n in self.walk() if n.func == func and (detail is None or n.detail == detail)]

    def n_fields(self) -> int:
        """Field elements in this call and all calls inside it."""
        return sum(len(n.fields) for n in self.walk())


def call_tree(tracer: Any) -> CallNode:
    """The call tree of a trace. The root is a synthetic ``trace`` node that
    holds the top-level calls (normally one ``qemu_savevm_state`` or
    ``qemu_loadvm_state``, or one ``vmstate_save_state_v``)."""
    rows = rows_of(tracer)
    offs = [r[9] for r in rows if r[9] is not None]
    root = CallNode("trace", None, min(offs) if offs else 0, max(
        [r[9] + (r[10] or 0) for r in rows if r[9] is not None] or [0]), -1)
    stack = [root]
    for r in rows:
        kind = r[2]
        if kind == "call":
            if r[8] == "B":
                node = CallNode(r[1], r[6], r[9] if r[9] is not None else stack[-1].start,
                                r[9] if r[9] is not None else stack[-1].start, len(stack) - 1,
                                section=r[4], seq=r[0])
                stack[-1].children.append(node)
                stack.append(node)
            elif r[8] == "E":
                if len(stack) > 1 and stack[-1].func == r[1]:
                    node = stack.pop()
                    if r[9] is not None:
                        node.end = r[9]
        elif kind in ("field", "frame") and r[9] is not None:
            target = stack[-1]
            (target.fields if kind == "field" and r[6] != "page data" else target.frames).append(r)
            end = r[9] + (r[10] or 0)
            for n in stack[1:]:
                n.end = max(n.end, end)
    return root


def call_tree_text(tracer: Any, *, max_depth: int | None = None, fields: bool = False,
                   skip: tuple[str, ...] = ()) -> str:
    """The call tree as indented text: each line is a call, its stream range
    and the bytes inside it; with ``fields=True`` the field elements too.
    Calls whose func is in ``skip`` are left out (their children are kept)."""
    root = tracer if isinstance(tracer, CallNode) else call_tree(tracer)
    lines: list[str] = []

    def emit(node: CallNode, prefix: str, last: bool, depth: int) -> None:
        branch = "" if depth == 0 else ("└─ " if last else "├─ ")
        label = f"{prefix}{branch}{node.name}"
        lines.append(f"{label:<64} [0x{node.start:06x}, 0x{node.end:06x})  {node.size:>6} B")
        if max_depth is not None and depth >= max_depth:
            return
        kids: list[Any] = list(node.children)
        if fields:
            kids = sorted(kids + node.fields, key=lambda k: k.seq if isinstance(k, CallNode)
                          else k[0])
        child_prefix = prefix + ("" if depth == 0 else ("   " if last else "│  "))
        for i, k in enumerate(kids):
            is_last = i == len(kids) - 1
            if isinstance(k, CallNode):
                if k.func in skip:
                    for j, g in enumerate(k.children):
                        emit(g, child_prefix, is_last and j == len(k.children) - 1, depth + 1)
                else:
                    emit(k, child_prefix, is_last, depth + 1)
            else:
                name = k[6] + (f"[{k[7]}]" if k[7] is not None else "")
                b = "└─ " if is_last else "├─ "
                raw = k[12].hex() if isinstance(k[12], (bytes, bytearray)) else ""
                lines.append(f"{child_prefix}{b}{k[8]} {name} = {raw[:32]}"
                             f"{'…' if len(raw) > 32 else ''}")

    for i, c in enumerate(root.children):
        emit(c, "", i == len(root.children) - 1, 0)
    return "\n".join(lines)


def callchain_figure(tracer: Any, *, x: str = "offset", span: tuple[int, int] | None = None,
                     max_depth: int | None = None, label_min: float = 0.04,
                     title: str | None = None, ax: Any = None) -> Any:
    """Draw the call tree: one bar per call at y = depth, from its first to
    its last stream byte (``x="offset"``) or from its first to last record
    (``x="seq"``, which gives tiny calls room). ``span`` zooms into a byte
    range. Bars are labelled with the call and its byte count when wide
    enough. Returns the Figure (attribute ``vm_bars``: the drawn nodes)."""
    import matplotlib.pyplot as plt

    root = tracer if isinstance(tracer, CallNode) else call_tree(tracer)
    nodes = [n for n in root.walk() if n is not root
             and (max_depth is None or n.depth <= max_depth)]
    if span is not None:
        nodes = [n for n in nodes if n.end > span[0] and n.start < span[1]]
    if x == "seq":
        last_seq: dict[int, int] = {}

        def close(n: CallNode) -> int:
            if id(n) not in last_seq:
                s = max([n.seq + 1] + [close(c) for c in n.children]
                        + [r[0] for r in n.fields + n.frames])
                last_seq[id(n)] = s
            return last_seq[id(n)]

        ext = {id(n): (n.seq, close(n) + 1) for n in nodes}
    else:
        ext = {id(n): (n.start, max(n.end, n.start)) for n in nodes}
    funcs = list(dict.fromkeys(n.func for n in nodes))
    colour = {f: PALETTE[i % len(PALETTE)] for i, f in enumerate(funcs)}
    depth = max([n.depth for n in nodes] + [0])
    if ax is None:
        fig, ax = plt.subplots(figsize=(13, 1.2 + 0.5 * (depth + 1)))
    else:
        fig = ax.figure
    lo = min([ext[id(n)][0] for n in nodes] + [0]) if span is None or x == "seq" else span[0]
    hi = max([ext[id(n)][1] for n in nodes] + [1]) if span is None or x == "seq" else span[1]
    total = max(hi - lo, 1)
    for n in nodes:
        a, b = ext[id(n)]
        w = max(b - a, total * 0.002)
        ax.broken_barh([(a, w)], (n.depth - 0.4, 0.8), facecolors=colour[n.func],
                       edgecolor="white", linewidth=0.5)
        short = n.detail or n.func.replace("qemu_savevm_state_", "").replace(
            "qemu_loadvm_state_", "")
        if w / total >= label_min and w / total * 150 >= len(short):
            text = f"{short}\n{n.size} B"
            ax.text(max(a, lo) + min(w, hi - max(a, lo)) / 2, n.depth, text, ha="center",
                    va="center", fontsize=7, clip_on=True)
    ax.set_xlim(lo, hi)
    ax.set_ylim(depth + 0.6, -0.6)
    ax.set_yticks(range(depth + 1))
    ax.set_ylabel("call depth")
    ax.set_xlabel("stream offset (bytes)" if x == "offset" else "trace record number")
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color=colour[f], label=f) for f in funcs], fontsize=7,
              loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.set_title(title or "call chain", fontsize=10)
    fig.tight_layout()
    fig.vm_bars = nodes
    return fig


def callchain_html(tracer: Any, *, open_depth: int = 2, fields: bool = True,
                   max_fields: int = 64) -> str:
    """The tree as nested ``<details>`` elements (click to fold/unfold)."""
    root = tracer if isinstance(tracer, CallNode) else call_tree(tracer)
    out = ['<div class="vm-calltree" style="font-family:monospace;font-size:12px">']

    def emit(n: CallNode) -> None:
        opened = " open" if n.depth < open_depth else ""
        out.append(f'<details class="vm-call" data-func="{esc(n.func)}" '
                   f'data-start="{n.start}" data-end="{n.end}"{opened}>'
                   f'<summary><b>{esc(n.func)}</b> {esc(n.detail or "")} '
                   f'<span style="color:#666">[0x{n.start:x}, 0x{n.end:x}) {n.size} B, '
                   f'{n.n_fields()} field elements</span></summary>'
                   '<div style="margin-left:1.5em">')
        kids: list[Any] = list(n.children) + (n.fields if fields else [])
        kids.sort(key=lambda k: k.seq if isinstance(k, CallNode) else k[0])
        shown = 0
        for k in kids:
            if isinstance(k, CallNode):
                emit(k)
            elif shown < max_fields:
                shown += 1
                name = k[6] + (f"[{k[7]}]" if k[7] is not None else "")
                raw = k[12].hex() if isinstance(k[12], (bytes, bytearray)) else ""
                out.append(f'<div class="vm-leaf">{esc(k[8])} <b>{esc(name)}</b> @0x{k[9]:x} '
                           f'= {esc(raw[:48])}</div>')
        if shown < len(n.fields) and fields:
            out.append(f'<div class="vm-leaf">… {len(n.fields) - shown} more</div>')
        out.append("</div></details>")

    for c in root.children:
        emit(c)
    out.append("</div>")
    return "".join(out)


def callchain_widget(tracer: Any, *, open_depth: int = 2, fields: bool = True) -> Any:
    """A collapsible tree of the calls (an ``ipywidgets.HTML`` of nested
    ``<details>``), with a depth control."""
    import ipywidgets as W

    root = tracer if isinstance(tracer, CallNode) else call_tree(tracer)
    html = W.HTML(value=callchain_html(root, open_depth=open_depth, fields=fields))
    html.add_class("vm-calltree-widget")
    depth = W.IntSlider(value=open_depth, min=0, max=8, description="open to depth")
    show = W.Checkbox(value=fields, description="show field elements")

    def redraw(_: Any = None) -> None:
        html.value = callchain_html(root, open_depth=depth.value, fields=show.value)

    depth.observe(redraw, names="value")
    show.observe(redraw, names="value")
    box = W.VBox([W.HBox([depth, show]), html])
    box.tree = root
    return box


# ---------------------------------------------------------------------------
# Chrome trace-event JSON
# ---------------------------------------------------------------------------

def chrome_trace_events(tracer: Any, *, leaves: bool = True, qemu_events: bool = True
                        ) -> list[dict]:
    """Trace-event records: B/E for calls, X for field elements and framing
    (``dur`` = size), ``i`` for QEMU trace events; ``ts`` is the stream
    offset (1 µs = 1 byte)."""
    rows = rows_of(tracer)
    ev: list[dict] = [
        {"name": "process_name", "ph": "M", "pid": 1, "tid": 1,
         "args": {"name": "vmstate-edu (time axis = stream offset in bytes)"}},
        {"name": "thread_name", "ph": "M", "pid": 1, "tid": 1, "args": {"name": "migration"}},
    ]
    ts = 0
    open_calls: list[str] = []
    for r in rows:
        if r[9] is not None:
            ts = max(ts, r[9])
        kind = r[2]
        if kind == "call":
            args = {k: v for k, v in (("detail", r[6]), ("section", r[4])) if v is not None}
            if r[8] == "B":
                open_calls.append(r[1])
                ev.append({"name": r[1] + (f" {r[6]}" if r[6] else ""), "cat": "call",
                           "ph": "B", "ts": ts, "pid": 1, "tid": 1, "args": args})
            elif r[8] == "E" and open_calls:
                open_calls.pop()
                ev.append({"name": r[1] + (f" {r[6]}" if r[6] else ""), "cat": "call",
                           "ph": "E", "ts": ts, "pid": 1, "tid": 1})
        elif kind in ("field", "frame") and leaves and r[9] is not None:
            name = (r[6] or "") + (f"[{r[7]}]" if r[7] is not None else "")
            raw = r[12].hex()[:64] if isinstance(r[12], (bytes, bytearray)) else None
            args = {"type": r[8], "section": r[4], "vmsd": r[5], "offset": r[9],
                    "size": r[10]}
            if raw is not None:
                args["bytes"] = raw
            ev.append({"name": name, "cat": kind, "ph": "X", "ts": r[9], "dur": r[10],
                       "pid": 1, "tid": 1, "args": args})
            ts = max(ts, r[9] + r[10])
        elif kind == "qemu" and qemu_events:
            ev.append({"name": r[1], "cat": "qemu", "ph": "i", "s": "t", "ts": ts, "pid": 1,
                       "tid": 1, "args": {"args": [_jsonable(a) for a in (r[13] or ())]}})
    # close anything left open (a trace cut short by an error)
    for name in reversed(open_calls):
        ev.append({"name": name, "cat": "call", "ph": "E", "ts": ts, "pid": 1, "tid": 1})
    # the end of an X leaf can move ts past the next B/E: keep ts monotone
    last = 0
    for e in ev:
        if "ts" in e:
            e["ts"] = last = max(last, e["ts"])
    return ev


def _jsonable(v: Any) -> Any:
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).hex()
    return str(v)


def to_chrome_trace(tracer: Any, path: str | os.PathLike | None = None, *,
                    leaves: bool = True, qemu_events: bool = True) -> dict:
    """The trace as Chrome trace-event JSON (``{"traceEvents": [...]}``),
    written to ``path`` if given; open it in https://ui.perfetto.dev or
    ``chrome://tracing``. Returns the JSON object."""
    obj = {"traceEvents": chrome_trace_events(tracer, leaves=leaves, qemu_events=qemu_events),
           "displayTimeUnit": "ns",
           "otherData": {"time_axis": "stream offset, 1 us = 1 byte",
                         "producer": "vmstate_edu.viz.callchain"}}
    if path is not None:
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(obj, fh)
    return obj
