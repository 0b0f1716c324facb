"""Regenerate the README pictures: ``python docs/images/make_images.py``.

matplotlib views are saved directly; HTML views (register tables, the call
tree) are rendered by Debian's Chromium through Playwright when available;
the widget pictures are copied from the browser test's screenshots
(``test-artifacts/``) when present."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))

import vmstate_edu as v  # noqa: E402
from vmstate_edu.machine import demo_machine  # noqa: E402
from vmstate_edu.viz import bytemap, callchain  # noqa: E402
from vmstate_edu.viz import tables as vt  # noqa: E402
from vmstate_edu.viz.qemulog import data_root  # noqa: E402


def html_to_png(html: str, out: Path, width: int = 1200) -> bool:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return False
    with tempfile.TemporaryDirectory() as d:
        page_file = Path(d) / "page.html"
        page_file.write_text("<html><body style='font-family:sans-serif;background:white'>"
                             "<div id='shot' style='display:inline-block;padding:8px'>"
                             + html + "</div></body></html>")
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                  args=["--headless", "--no-sandbox", "--disable-gpu"])
            page = b.new_page(viewport={"width": width, "height": 400})
            page.goto(page_file.as_uri())
            page.locator("#shot").screenshot(path=str(out))
            b.close()
    return True


def main() -> list[Path]:
    made: list[Path] = []
    m = demo_machine()
    m.cpu.fpu_enabled = True
    m.cpu.parent_obj.exception_index = 3
    f = v.QEMUFile()
    with v.trace() as t:
        v.qemu_savevm_state(f, m.registry())
    data = f.getvalue()

    fig = bytemap.bytemap_figure(t, section="cpu", data=data,
                                 title="byte map: the teaching machine's cpu section")
    fig.savefig(HERE / "bytemap-cpu.png", dpi=110, bbox_inches="tight")
    made.append(HERE / "bytemap-cpu.png")
    fig = callchain.callchain_figure(t, x="seq", title="call chain of a save (x = trace record)")
    fig.savefig(HERE / "callchain.png", dpi=110, bbox_inches="tight")
    made.append(HERE / "callchain.png")
    lo = next(r[9] for r in t.rows if r[2] == "call" and r[1] == "vmstate_save" and r[8] == "B")
    eof = next(r[9] for r in t.rows if r[2] == "frame" and r[6] == "EOF")
    fig = callchain.callchain_figure(t, span=(lo, eof + 1),
                                     title="call chain, x = stream offset (device sections)")
    fig.savefig(HERE / "callchain-offsets.png", dpi=110, bbox_inches="tight")
    made.append(HERE / "callchain-offsets.png")

    real = v.load_stream(data_root() / "qemu-10.0/x86_64-pc-running/stream.mig.xz")
    rt = real.trace_load()
    fig = bytemap.bytemap_figure(rt, section="cpu", data=bytes(real.data), max_bytes=512,
                                 title="real QEMU 10.0 x86_64 pc: first 512 bytes of cpu")
    fig.savefig(HERE / "bytemap-real-x86-cpu.png", dpi=110, bbox_inches="tight")
    made.append(HERE / "bytemap-real-x86-cpu.png")

    from vmstate_edu import tables as T

    tabs = T.default_tables("10.0")
    html = vt.side_by_side(tabs, categories=["general-purpose", "program counter"],
                           per_arch=10).to_html()
    if html_to_png(html, HERE / "registers-side-by-side.png"):
        made.append(HERE / "registers-side-by-side.png")
    rv = tabs["riscv64"]
    html = vt.style_registers(rv[rv.category.isin(["program counter", "status/control"])],
                              max_rows=20).to_html()
    if html_to_png(html, HERE / "registers-riscv64.png", width=1000):
        made.append(HERE / "registers-riscv64.png")
    html = callchain.callchain_html(t, open_depth=3, max_fields=4)
    if html_to_png(html, HERE / "calltree.png", width=1000):
        made.append(HERE / "calltree.png")

    for src, dst in (("browser-course-map.png", "widget-machine-explorer.png"),
                     ("browser-bytemap.png", "widget-bytemap.png")):
        p = ROOT / "test-artifacts" / src
        if p.exists():
            shutil.copy(p, HERE / dst)
            made.append(HERE / dst)
    return made


if __name__ == "__main__":
    for p in main():
        print(p.relative_to(ROOT))
