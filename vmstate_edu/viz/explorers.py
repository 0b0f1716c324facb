"""Explorers (ipywidgets) built from the views:

* :class:`MachineExplorer` — flip the teaching machine's FPU feature or its
  ``cpu_common`` exception index and watch the sections and subsections of
  the stream change (byte map and section list);
* :class:`SaveStepper` — step through a save (or load) record by record, the
  call stack and the byte map following;
* :class:`RealStreamExplorer` — pick a QEMU version, a capture from
  ``data/`` and a section, and see its bytes (uses ``vmstate_edu.load_stream``);
* :class:`CPUFeatureExplorer` — flip a real CPU's features (RISC-V V/H/PMP…,
  Arm SVE, x86 MONITOR, PowerPC AltiVec/VSX/BHRB) and watch the ``cpu``
  subsections it sends change.

Each keeps its state in plain attributes, so it can be driven and checked
from Python; display it with ``display(x)`` or ``x.widget``.
"""

from __future__ import annotations

from typing import Any

from ._common import byte_spans, esc, rows_of, section_ranges
from .bytemap import ByteMapWidget, bytemap_html

__all__ = ["MachineExplorer", "SaveStepper", "RealStreamExplorer", "CPUFeatureExplorer",
           "stream_sections", "machine_explorer", "save_stepper", "real_stream_explorer",
           "cpu_feature_explorer"]


def stream_sections(tracer: Any) -> list[dict]:
    """Sections of a traced stream: name, occurrence, start, end, size and the
    subsections sent inside (from the subsection-name framing records)."""
    out = []
    spans = byte_spans(tracer)
    for r in section_ranges(tracer):
        subs = [s.value for s in spans if s.kind == "frame" and s.path == "subsection name"
                and r["start"] <= s.start < r["end"]]
        out.append({**r, "size": r["end"] - r["start"], "subsections": subs})
    return out


def _sections_html(secs: list[dict], highlight: str | None = None) -> str:
    rows = ["<table class='vm-sections'><tr><th>section</th><th>offset</th><th>bytes</th>"
            "<th>subsections</th></tr>"]
    for s in secs:
        style = " style='background:#fff3b0'" if s["name"] == highlight else ""
        name = s["name"] + (f" #{s['occurrence']}" if s["occurrence"] else "")
        rows.append(f"<tr{style}><td>{esc(name)}</td><td>0x{s['start']:x}</td>"
                    f"<td>{s['size']}</td><td>{esc(', '.join(s['subsections']) or '—')}</td></tr>")
    rows.append("</table>")
    return "".join(rows)


class MachineExplorer:
    """The teaching machine with its feature switches. :meth:`update`
    re-saves it under a trace; :attr:`sections` lists what the stream holds."""

    def __init__(self, machine: Any = None, section: str = "cpu"):
        import ipywidgets as W

        from ..machine import demo_machine

        self.machine = machine if machine is not None else demo_machine()
        self.section = section
        cpu = self.machine.cpu
        self.fpu = W.Checkbox(value=bool(cpu.fpu_enabled), description="FPU enabled (cpu/fpu)")
        self.exc = W.IntText(value=cpu.parent_obj.exception_index,
                             description="exception_index", layout=W.Layout(width="16em"))
        self.version = W.Dropdown(options=["7.2", "10.0"], value=self.machine.qemu_version,
                                  description="QEMU")
        self.section_picker = W.Dropdown(options=["cpu"], value="cpu", description="section")
        self.summary = W.HTML()
        self.table = W.HTML()
        self.map_box = W.VBox()
        for w in (self.fpu, self.exc, self.version):
            w.observe(self._changed, names="value")
        self.section_picker.observe(self._section_changed, names="value")
        self.widget = W.VBox([W.HBox([self.fpu, self.exc, self.version]), self.summary,
                              self.table, self.section_picker, self.map_box])
        self.widget.add_class("vm-machine-explorer")
        self.update()

    def set(self, *, fpu: bool | None = None, exception_index: int | None = None,
            qemu_version: str | None = None) -> MachineExplorer:
        """Change the switches (as the controls do) and re-save."""
        if fpu is not None:
            self.fpu.value = fpu
        if exception_index is not None:
            self.exc.value = exception_index
        if qemu_version is not None:
            self.version.value = qemu_version
        return self

    def _changed(self, _: Any = None) -> None:
        self.update()

    def _section_changed(self, change: dict) -> None:
        if getattr(self, "_updating", False):
            return
        if change["new"] and change["new"] != self.section:
            self.section = change["new"]
            self._draw_map()

    def update(self) -> None:
        """Apply the controls to the machine, save it, redraw."""
        from ..qemufile import QEMUFile
        from ..savevm import qemu_savevm_state
        from ..tracing import trace

        m = self.machine
        m.cpu.fpu_enabled = bool(self.fpu.value)
        m.cpu.parent_obj.exception_index = int(self.exc.value)
        m.qemu_version = self.version.value
        f = QEMUFile()
        with trace() as t:
            qemu_savevm_state(f, m.registry())
        self.tracer = t
        self.stream = f.getvalue()
        self.sections = stream_sections(t)
        self.subsections = [s for sec in self.sections for s in sec["subsections"]]
        names = list(dict.fromkeys(s["name"] for s in self.sections))
        if self.section not in names:
            self.section = "cpu" if "cpu" in names else names[0]
        self._updating = True
        try:
            self.section_picker.options = names
            self.section_picker.value = self.section
        finally:
            self._updating = False
        self.summary.value = (f"<b>{len(self.stream)} bytes</b>, {len(self.sections)} section "
                              f"pieces; subsections sent: "
                              f"<code>{esc(', '.join(self.subsections) or 'none')}</code>")
        self.table.value = _sections_html(self.sections, self.section)
        self._draw_map()

    def _draw_map(self) -> None:
        self.bytemap = ByteMapWidget(self.tracer, section=self.section, data=self.stream,
                                     title=f"section {self.section}")
        self.map_box.children = [self.bytemap.widget]

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


def machine_explorer(machine: Any = None, section: str = "cpu") -> MachineExplorer:
    """See :class:`MachineExplorer`."""
    return MachineExplorer(machine, section)


class SaveStepper:
    """Step through a trace one record at a time (``only="leaves"`` steps over
    field elements and framing, ``"all"`` over every record). Shows the
    record, QEMU's log line if it is a QEMU event, the call stack and the
    byte map of the section being written, the current bytes highlighted."""

    def __init__(self, tracer: Any, *, only: str = "leaves", data: bytes | None = None,
                 window: int = 256):
        import ipywidgets as W

        self.rows = rows_of(tracer)
        self.tracer = tracer
        self.data = data
        self.window = window
        if only == "leaves":
            self.steps = [i for i, r in enumerate(self.rows) if r[2] in ("field", "frame")]
        elif only == "all":
            self.steps = list(range(len(self.rows)))
        else:
            raise ValueError("only must be 'leaves' or 'all'")
        if not self.steps:
            raise ValueError("the trace has no records to step through")
        self._ranges = section_ranges(tracer)
        self.position = 0
        self.play = W.Play(value=0, min=0, max=len(self.steps) - 1, interval=300)
        self.slider = W.IntSlider(value=0, min=0, max=len(self.steps) - 1, description="step",
                                  layout=W.Layout(width="40em"))
        self.slider.add_class("vm-step-slider")
        W.jslink((self.play, "value"), (self.slider, "value"))
        self.event_html = W.HTML()
        self.stack_html = W.HTML()
        self.map_html = W.HTML()
        self.slider.observe(lambda c: self.goto(c["new"]), names="value")
        self.widget = W.VBox([W.HBox([self.play, self.slider]), self.event_html,
                              self.stack_html, self.map_html])
        self.widget.add_class("vm-save-stepper")
        self.goto(0)

    @property
    def current(self) -> tuple:
        """The current record (a row tuple)."""
        return self.rows[self.steps[self.position]]

    def call_stack(self) -> list[str]:
        """The calls open at the current record, outermost first."""
        stack: list[str] = []
        for r in self.rows[: self.steps[self.position] + 1]:
            if r[2] == "call":
                if r[8] == "B":
                    stack.append(r[1] + (f"({r[6]})" if r[6] else ""))
                elif stack:
                    stack.pop()
        return stack

    def step(self, n: int = 1) -> tuple:
        """Move ``n`` steps (clamped) and return the record."""
        self.slider.value = max(0, min(len(self.steps) - 1, self.position + n))
        return self.current

    def goto(self, position: int) -> tuple:
        self.position = max(0, min(len(self.steps) - 1, int(position)))
        if self.slider.value != self.position:
            self.slider.value = self.position
            return self.current
        r = self.current
        from ..tracing import format_event

        line = format_event(r[1], r[13], getattr(self.tracer, "qemu_version", None) or "10.0") \
            if r[2] == "qemu" else None
        what = (f"{r[8]} <b>{esc((r[6] or '') + (f'[{r[7]}]' if r[7] is not None else ''))}</b>"
                if r[2] in ("field", "frame") else f"<b>{esc(r[1])}</b> {esc(r[6] or '')}")
        raw = r[12].hex() if isinstance(r[12], (bytes, bytearray)) else ""
        self.event_html.value = (
            f"record {r[0]} ({r[2]}, {esc(r[1])}) — {what}"
            + (f" at 0x{r[9]:x}, {r[10]} bytes <code>{esc(raw[:64])}</code>"
               if r[9] is not None and r[10] else "")
            + (f"<br>QEMU log line: <code>{esc(line)}</code>" if line else ""))
        self.stack_html.value = "call stack: <code>" + esc(" → ".join(self.call_stack())) \
            + "</code>"
        self.highlighted_offsets = frozenset()
        self.map_range = None
        off = r[9]
        if off is None:  # a QEMU or call record: show where the stream is
            off = next((self.rows[i][9] for i in range(self.steps[self.position], -1, -1)
                        if self.rows[i][9] is not None), None)
        if off is not None:
            lo, hi = self._range_for(off)
            if r[2] in ("field", "frame") and r[10]:
                self.highlighted_offsets = frozenset(range(r[9], r[9] + r[10]))
            self.map_range = (lo, hi)
            self.map_html.value = bytemap_html(self.rows, lo, hi, data=self.data,
                                               highlight=self.highlighted_offsets)
        return r

    def _range_for(self, off: int) -> tuple[int, int]:
        for s in self._ranges:
            if s["start"] <= off < s["end"]:
                lo, hi = s["start"], s["end"]
                break
        else:
            lo, hi = off - off % 16, off - off % 16 + 64
        if hi - lo > self.window:  # a big piece (RAM): a window around the byte
            lo = max(lo, off - off % 16 - self.window // 2)
            hi = min(hi, lo + self.window)
        return lo, hi

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


def save_stepper(tracer: Any, *, only: str = "leaves", data: bytes | None = None) -> SaveStepper:
    """See :class:`SaveStepper`."""
    return SaveStepper(tracer, only=only, data=data)


class RealStreamExplorer:
    """Choose a QEMU version, a capture under ``data/`` and a section; see the
    section list and the section's byte map (traced load of the real
    stream through ``vmstate_edu.load_stream``)."""

    def __init__(self, version: str = "10.0", case: str = "riscv64-virt-running",
                 section: str = "cpu"):
        import ipywidgets as W

        from .qemulog import list_cases

        self.cases = list_cases()
        versions = sorted({v for v, _ in self.cases})
        self._cache: dict[tuple[str, str], tuple[Any, Any, bytes]] = {}
        self.version = W.Dropdown(options=versions, value=version, description="QEMU")
        self.case = W.Dropdown(options=self._cases_for(version), value=case, description="case",
                               layout=W.Layout(width="30em"))
        self.section_picker = W.Dropdown(options=[section], value=section,
                                         description="section")
        self.summary = W.HTML()
        self.map_box = W.VBox()
        self.version.observe(self._version_changed, names="value")
        self.case.observe(lambda c: self.show(), names="value")
        self.section_picker.observe(
            lambda c: None if getattr(self, "_updating", False) else self._draw(), names="value")
        self.widget = W.VBox([W.HBox([self.version, self.case]), self.summary,
                              self.section_picker, self.map_box])
        self.widget.add_class("vm-real-explorer")
        self._want = section
        self.show()

    def _cases_for(self, version: str) -> list[str]:
        return [c for v, c in self.cases if v == version]

    def _version_changed(self, change: dict) -> None:
        opts = self._cases_for(change["new"])
        cur = self.case.value
        self.case.options = opts
        self.case.value = cur if cur in opts else opts[0]
        self.show()

    def load(self, version: str, case: str) -> tuple[Any, Any, bytes]:
        """``(stream, tracer, bytes)`` of a capture (cached)."""
        key = (version, case)
        if key not in self._cache:
            from .. import load_stream
            from .qemulog import data_root

            st = load_stream(data_root() / f"qemu-{version}" / case / "stream.mig.xz")
            tr = st.trace_load()
            data = getattr(st, "data", None)
            self._cache[key] = (st, tr, bytes(data) if data is not None else st.to_bytes())
        return self._cache[key]

    def show(self) -> None:
        self.stream, self.tracer, self.data = self.load(self.version.value, self.case.value)
        self.sections = stream_sections(self.tracer)
        names = list(dict.fromkeys(s["name"] for s in self.sections))
        want = self.section_picker.value if self.section_picker.value in names else (
            self._want if self._want in names else names[0])
        self._updating = True
        try:
            self.section_picker.options = names
            self.section_picker.value = want
        finally:
            self._updating = False
        cpu = next((s for s in self.sections if s["name"] == "cpu"), None)
        self.summary.value = (
            f"<b>{esc(self.case.value)}</b> on QEMU {esc(self.version.value)}: "
            f"{len(self.data)} bytes, {len(self.sections)} section pieces"
            + (f"; cpu subsections: <code>{esc(', '.join(cpu['subsections']))}</code>"
               if cpu else ""))
        self._draw()

    def _draw(self) -> None:
        sec = self.section_picker.value
        if not sec:
            return
        self.bytemap = ByteMapWidget(self.tracer, section=sec, data=self.data, max_bytes=2048,
                                     title=f"{self.case.value} — section {sec}")
        self.map_box.children = [self.bytemap.widget]

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


def real_stream_explorer(version: str = "10.0", case: str = "riscv64-virt-running",
                         section: str = "cpu") -> RealStreamExplorer:
    """See :class:`RealStreamExplorer`."""
    return RealStreamExplorer(version, case, section)


class CPUFeatureExplorer:
    """A real CPU model (from a committed capture, through the hand-written
    descriptions) with its feature switches (:mod:`vmstate_edu.features`):
    flip one and see which ``cpu`` subsections the section now sends, and how
    many bytes it takes. Every change starts again from the captured model."""

    def __init__(self, qemu_version: str = "10.0", arch: str = "riscv64"):
        import ipywidgets as W

        from ..features import features

        self.qemu_version = qemu_version
        self.arch_picker = W.Dropdown(options=["riscv64", "x86_64", "aarch64", "ppc64"],
                                      value=arch, description="CPU")
        self.version_picker = W.Dropdown(options=["7.2", "10.0"], value=qemu_version,
                                         description="QEMU")
        self.boxes = W.VBox()
        self.summary = W.HTML()
        self._features = features
        self.checks: dict[str, Any] = {}
        self.captured: dict | None = None
        self.now: dict | None = None
        self.arch_picker.observe(lambda _c: self._load(), names="value")
        self.version_picker.observe(lambda _c: self._load(), names="value")
        self.widget = W.VBox([W.HBox([self.arch_picker, self.version_picker]), self.boxes,
                              self.summary])
        self._load()

    def _ipython_display_(self) -> None:  # pragma: no cover - notebook display
        from IPython.display import display
        display(self.widget)

    @property
    def arch(self) -> str:
        return self.arch_picker.value

    def _load(self) -> None:
        import ipywidgets as W

        from ..features import cpu_of, save_cpu

        vmsd, cpu = cpu_of(self.arch, self.version_picker.value)
        self.captured = save_cpu(vmsd, cpu)
        self.checks = {}
        for ft in self._features(self.arch):
            cb = W.Checkbox(value=ft.get(cpu), description=f"{ft.name} ({ft.why})",
                            layout=W.Layout(width="40em"))
            cb.observe(lambda _c: self.update(), names="value")
            self.checks[ft.name] = cb
        self.boxes.children = tuple(self.checks.values())
        self.update()

    def set_feature(self, name: str, on: bool) -> None:
        """Flip a switch from Python (as clicking its checkbox does)."""
        self.checks[name].value = bool(on)

    @property
    def subsections(self) -> list[str]:
        return list(self.now["subsections"]) if self.now else []

    def update(self) -> None:
        from ..features import cpu_of, save_cpu

        vmsd, cpu = cpu_of(self.arch, self.version_picker.value)
        for ft in self._features(self.arch):
            if ft.name in self.checks and ft.get(cpu) != self.checks[ft.name].value:
                ft.set(cpu, self.checks[ft.name].value)
        self.now = save_cpu(vmsd, cpu)
        before = self.captured["subsections"]
        rows = []
        for name in dict.fromkeys(before + self.now["subsections"]):
            if name in self.now["subsections"] and name in before:
                mark = ""
            elif name in self.now["subsections"]:
                mark = " style='color:#1a7f37;font-weight:bold'"
            else:
                mark = " style='color:#cf222e;text-decoration:line-through'"
            rows.append(f"<li{mark}>{esc(name)}</li>")
        self.summary.value = (
            f"<b>cpu</b> section of {esc(self.arch)}, QEMU {esc(self.version_picker.value)}: "
            f"{len(self.now['bytes'])} bytes (captured: {len(self.captured['bytes'])}); "
            f"subsections sent:<ul>{''.join(rows)}</ul>")


def cpu_feature_explorer(qemu_version: str = "10.0", arch: str = "riscv64") -> CPUFeatureExplorer:
    """Flip a real CPU's features and watch its ``cpu`` subsections change."""
    return CPUFeatureExplorer(qemu_version, arch)
