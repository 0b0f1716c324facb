"""The views: figures build, byte maps colour every byte, widgets link both
ways, Chrome trace JSON is well formed, explorers react to the switches."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import vmstate_edu as v
from vmstate_edu.machine import demo_machine
from vmstate_edu.viz import bytemap, callchain, explorers, qemulog
from vmstate_edu.viz import tables as vtables
from vmstate_edu.viz._common import FRAME_COLOR, byte_spans, section_ranges

pytest.importorskip("matplotlib")
import matplotlib  # noqa: E402

matplotlib.use("Agg")


def _save(fpu=False, exc=-1, version="10.0"):
    m = demo_machine(version)
    m.cpu.fpu_enabled = fpu
    m.cpu.parent_obj.exception_index = exc
    f = v.QEMUFile()
    with v.trace() as t:
        v.qemu_savevm_state(f, m.registry())
    return f.getvalue(), t


@pytest.fixture(scope="module")
def saved():
    return _save(fpu=True, exc=2)


def test_import_viz_does_not_import_pandas_or_matplotlib():
    code = ("import sys, vmstate_edu, vmstate_edu.viz, vmstate_edu.exercises.grader; "
            "print('pandas' in sys.modules, 'matplotlib' in sys.modules, "
            "'ipywidgets' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "False"]


# --- byte map ----------------------------------------------------------------

def test_section_ranges_tile_the_sections(saved):
    data, t = saved
    ranges = section_ranges(t)
    names = [r["name"] for r in ranges]
    for want in ("timer", "cpu_common", "cpu", "serial"):
        assert want in names
    for r in ranges:
        covered = sum(s.size for s in byte_spans(t, r["start"], r["end"]))
        assert covered == r["end"] - r["start"]


@pytest.mark.parametrize("section", ["timer", "cpu_common", "cpu", "serial"])
def test_bytemap_colours_every_byte_of_a_section(saved, section):
    data, t = saved
    lo, hi, owners = bytemap.byte_owner_map(t, section=section)
    assert hi > lo and all(o is not None for o in owners)
    fig = bytemap.bytemap_figure(t, section=section, data=data)
    assert fig.vm_range == (lo, hi)
    assert len(fig.vm_byte_groups) == hi - lo and None not in fig.vm_byte_groups
    # framing and fields are told apart: the header is framing, the fields are not
    assert fig.vm_byte_groups[0].startswith("[frame]")
    assert any(not g.startswith("[") for g in fig.vm_byte_groups)
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_bytemap_html_attributes_and_hex_match_the_stream(saved):
    data, t = saved
    lo, hi = bytemap.section_range(t, "cpu")
    html = bytemap.bytemap_html(t, section="cpu", highlight={lo + 20})
    assert html.count('class="vm-byte vm-') >= hi - lo
    assert html.count("vm-hl") == 1 + html.count(".vm-hl")  # one byte + the CSS rule
    import re

    for off, text in re.findall(r'data-offset="(\d+)"[^>]*>([0-9a-f]{2})<', html):
        assert int(text, 16) == data[int(off)]


def test_bytemap_widget_links_both_ways(saved):
    data, t = saved
    w = bytemap.bytemap_widget(t, section="cpu", data=data)
    regs = [s for s in byte_spans(t, section="cpu") if s.path == "env.regs"]
    # field -> bytes
    hl = w.select_field("env.regs")
    assert w.selected_field == "cpu: env.regs"
    assert hl == {o for s in regs for o in range(s.start, s.end)}
    assert w.grid.value.count("vm-byte vm-field vm-hl") == len(hl)
    assert "uint64" in w.info_text
    # the dropdown drives the same path
    w.field_picker.value = "cpu: env.pc"
    pc = next(s for s in byte_spans(t, section="cpu") if s.path == "env.pc")
    assert w.highlighted_offsets == set(range(pc.start, pc.end))
    # byte -> field
    target = regs[3].start + 5
    span = w.select_offset(target)
    assert span.label == "env.regs[3]"
    assert w.field_picker.value == "cpu: env.regs"
    assert w.highlighted_offsets == set(range(regs[3].start, regs[3].end))
    assert "env.regs[3]" in w.info_text and f"{regs[3].value:x}" in w.info_text
    # the offset box drives the same path
    w.offset_picker.value = pc.start + 1
    assert w.selected_span.label == "env.pc"
    # a click in the page (the grid's traitlets) drives the same path
    w.grid.click(regs[5].start + 1)
    assert w.selected_span.label == "env.regs[5]" and w.offset_picker.value == regs[5].start + 1
    assert w.grid.value.count("vm-byte vm-field vm-hl") == regs[5].end - regs[5].start
    w.grid.click(regs[5].start + 1)  # the same byte again still counts
    assert w.grid.clicks == 2 and w.selected_span.label == "env.regs[5]"
    # framing bytes say so
    lo = w.start
    w.select_offset(lo)
    assert "framing" in w.info_text and "section type" in w.info_text
    with pytest.raises(ValueError):
        w.select_offset(w.end + 10)
    with pytest.raises(KeyError):
        w.select_field("no.such.field")


# --- call chain ----------------------------------------------------------------

def test_call_tree_nesting_and_sizes(saved):
    data, t = saved
    root = callchain.call_tree(t)
    (top,) = root.children
    assert top.func == "qemu_savevm_state" and top.size == len(data)
    phases = [c.func for c in top.children]
    assert phases[0] == "qemu_savevm_state_header"
    assert phases[-1] == "qemu_savevm_state_complete_precopy"
    # device state is saved in the completion phase, not in setup
    setup = top.find("qemu_savevm_state_setup")[0]
    assert not setup.find("vmstate_save")
    complete = top.find("qemu_savevm_state_complete_precopy")[0]
    saved_ids = [n.detail for n in complete.find("vmstate_save")]
    assert saved_ids == ["timer", "cpu_common", "cpu", "serial"]
    # children lie inside their parents; the subsection is nested in cpu
    for n in root.walk():
        for c in n.children:
            assert n.start <= c.start <= c.end <= n.end
    cpu = complete.find("vmstate_save_state_v", "cpu")[0]
    assert [c.detail for c in cpu.children] == ["cpu/fpu"]
    assert cpu.n_fields() == len([r for r in t.rows if r[2] == "field" and r[4] == "cpu"])


def test_call_tree_text_and_figure(saved):
    data, t = saved
    text = callchain.call_tree_text(t)
    assert "qemu_savevm_state_complete_precopy" in text and "vmstate_save(cpu)" in text
    assert f"{len(data):>6} B" in text
    assert "env.regs[7]" in callchain.call_tree_text(t, fields=True)
    fig = callchain.callchain_figure(t)
    assert len(fig.vm_bars) == sum(1 for r in t.rows if r[2] == "call" and r[8] == "B")
    fig2 = callchain.callchain_figure(t, x="seq", span=(0, 100))
    assert fig2.axes[0].get_xlabel().startswith("trace record")
    import matplotlib.pyplot as plt

    plt.close("all")


def test_callchain_widget(saved):
    _, t = saved
    w = callchain.callchain_widget(t, open_depth=1)
    html = w.children[1].value
    assert html.count("<details") == sum(1 for r in t.rows if r[2] == "call" and r[8] == "B")
    assert html.count("<details") == html.count("</details>")
    w.children[0].children[0].value = 0
    assert " open" not in w.children[1].value


def _check_chrome(obj):
    evs = obj["traceEvents"]
    assert evs and all("ph" in e and "pid" in e and "tid" in e for e in evs)
    stack = []
    last = -1
    for e in evs:
        if e["ph"] == "M":
            continue
        assert isinstance(e["ts"], (int, float)) and e["ts"] >= last, e
        last = e["ts"]
        if e["ph"] == "B":
            stack.append(e["name"])
        elif e["ph"] == "E":
            assert stack and stack.pop() == e["name"], e
        elif e["ph"] == "X":
            assert e["dur"] >= 0
    assert stack == []
    return evs


def test_chrome_trace_is_valid(tmp_path, saved):
    data, t = saved
    p = tmp_path / "save.json"
    callchain.to_chrome_trace(t, p)
    obj = json.loads(p.read_text())
    evs = _check_chrome(obj)
    n_b = sum(e["ph"] == "B" for e in evs)
    assert n_b == sum(1 for r in t.rows if r[2] == "call" and r[8] == "B")
    xs = [e for e in evs if e["ph"] == "X"]
    assert sum(e["dur"] for e in xs) == len(data)  # the leaves tile the stream
    assert max(e["ts"] for e in evs if "ts" in e) == len(data)


def test_chrome_trace_of_a_load_and_of_a_failed_load(saved):
    data, _ = saved
    from vmstate_edu.machine import TeachingMachine

    m = TeachingMachine()
    with v.trace() as t:
        v.qemu_loadvm_state(v.QEMUFile(data), m.registry())
    _check_chrome(callchain.to_chrome_trace(t))
    assert callchain.call_tree(t).children[0].func == "qemu_loadvm_state"
    with v.trace() as t2, pytest.raises(v.VMStateError):
        v.qemu_loadvm_state(v.QEMUFile(data[: len(data) // 2 + 8600 // 2]),
                            TeachingMachine().registry())
    _check_chrome(callchain.to_chrome_trace(t2))


# --- tables ------------------------------------------------------------------------

def _fake_tables():
    import pandas as pd

    rows = []
    for arch, n in (("riscv64", 5), ("x86_64", 4), ("aarch64", 3), ("ppc64", 6)):
        for i in range(n):
            rows.append(dict(architecture=arch, qemu_version="10.0", section="cpu",
                             subsection=None, field="env.gpr", register=f"{arch[:1]}{i}",
                             category="general" if i else "pc", type="uint64", width=8,
                             offset=100 + 8 * i, value=i * 0x1000 + 1))
    return pd.DataFrame(rows)


def test_register_styler_and_side_by_side():
    df = _fake_tables()
    html = vtables.style_registers(df[df.architecture == "riscv64"]).to_html()
    assert "0x0000000000001001" in html and "0x64" in html
    assert "background-color" in html
    wide = vtables.side_by_side(df, per_arch=3)
    assert set(wide.data.columns.get_level_values(0)) == {"riscv64", "x86_64", "aarch64",
                                                          "ppc64"}
    assert len(wide.data) == 3
    summary = vtables.category_summary(df)
    assert summary.loc[summary.architecture == "ppc64", "registers"].sum() == 6


# --- explorers -------------------------------------------------------------------

def test_machine_explorer_follows_the_switches():
    e = explorers.machine_explorer()
    base = set(e.subsections)
    size0 = len(e.stream)
    e.set(fpu=True)
    assert set(e.subsections) - base == {"cpu/fpu"}
    assert len(e.stream) > size0
    e.set(exception_index=4)
    assert "cpu_common/exception_index" in e.subsections
    e.fpu.value = False
    assert "cpu/fpu" not in e.subsections
    assert "cpu" in e.table.value and e.bytemap.start == bytemap.section_range(e.tracer, "cpu")[0]
    e.section_picker.value = "serial"
    assert e.bytemap.start == bytemap.section_range(e.tracer, "serial")[0]


def test_save_stepper_follows_the_bytes(saved):
    data, t = saved
    s = explorers.save_stepper(t, data=data)
    first = s.current
    assert first[6] == "file magic"
    s.goto(next(i for i, k in enumerate(s.steps) if t.rows[k][6] == "env.pc"))
    r = s.current
    assert s.highlighted_offsets == set(range(r[9], r[9] + r[10]))
    assert s.map_range[0] <= r[9] < s.map_range[1]
    assert s.call_stack()[-1] == "vmstate_save_state_v(cpu)"
    s.step(1)
    assert s.current[6] == "env.flags"
    s.slider.value = 0
    assert s.current == first
    s2 = explorers.save_stepper(t, only="all")
    assert len(s2.steps) == len(t.rows)


# --- real QEMU logs -------------------------------------------------------------------

def test_real_logs_show_the_completion_phase():
    text = qemulog.read_log("7.2", "riscv64-virt-running")
    rows = qemulog.log_sections(text)
    cpu = next(r for r in rows if r["idstr"] == "cpu")
    assert cpu["phase"] == "complete"
    assert "cpu/pmp" in cpu["subsections"]
    assert not any(r["phase"] == "setup" and r["idstr"] == "cpu" for r in rows)
    f72 = qemulog.section_fields(text, "cpu")
    f10 = qemulog.section_fields(qemulog.read_log("10.0", "riscv64-virt-running"), "cpu")
    assert ("env.gpr", 32) in f72 and len(f10) != len(f72)
    versions = {r["idstr"]: r["version_id"] for r in
                qemulog.loaded_versions(qemulog.read_log("10.0", "riscv64-virt-running", "load"))}
    assert versions["cpu"] != {r["idstr"]: r["version_id"] for r in qemulog.loaded_versions(
        qemulog.read_log("7.2", "riscv64-virt-running", "load"))}["cpu"]


@pytest.mark.skipif(not hasattr(v, "load_stream"), reason="load_stream not available")
def test_real_stream_explorer():
    e = explorers.real_stream_explorer("10.0", "riscv64-virt-running", "cpu")
    lo, hi, owners = bytemap.byte_owner_map(e.tracer, section="cpu")
    assert all(o is not None for o in owners)
    assert "cpu/pmp" in e.summary.value
    e.section_picker.value = "timer"
    assert e.bytemap.start == bytemap.section_range(e.tracer, "timer")[0]
    assert FRAME_COLOR in e.bytemap.grid.value


@pytest.mark.parametrize("arch,feature,sub,on", [
    ("riscv64", "V (vector)", "cpu/vector", True),
    ("riscv64", "H (hypervisor)", "cpu/hyper", False),
    ("aarch64", "SVE", "cpu/sve", True),
    ("ppc64", "VSX", "cpu/vsx", False),
    ("x86_64", "MONITOR/MWAIT", "cpu/msr_ia32_misc_enable", True),
])
def test_cpu_feature_explorer_shows_the_subsection_change(arch, feature, sub, on):
    pytest.importorskip("ipywidgets")
    from vmstate_edu.viz.explorers import cpu_feature_explorer
    x = cpu_feature_explorer("10.0", arch)
    before = x.subsections
    assert (sub in before) is (not on)
    x.set_feature(feature, on)
    assert (sub in x.subsections) is on
    assert set(x.subsections) ^ set(before) == {sub}
    assert sub in x.summary.value
    x.set_feature(feature, not on)
    assert x.subsections == before


def test_feature_table_covers_four_architectures():
    from vmstate_edu.features import features
    for arch in ("riscv64", "x86_64", "aarch64", "ppc64"):
        assert features(arch)
