"""A hex grid that talks back: the page sends clicks on a byte to the kernel.

The byte map's HTML (``bytemap._render_html``) shows in an ``anywidget``
whose small ES module does two things in the browser, Kaitai-IDE style:
hovering over a byte outlines every byte of the same element (no kernel
round trip), and clicking a byte stores its offset in :attr:`ByteGrid.clicked`
(and bumps :attr:`ByteGrid.clicks`, so clicking the same byte twice still
counts). The Python side observes ``clicks`` and runs the usual
``ByteMapWidget.select_offset``.
"""

from __future__ import annotations

import anywidget
import traitlets

_ESM = r"""
function render({ model, el }) {
  const box = document.createElement("div");
  box.className = "vm-grid-box";
  const draw = () => { box.innerHTML = model.get("value"); };
  draw();
  model.on("change:value", draw);
  const byteOf = (e) => e.target.closest && e.target.closest(".vm-byte[data-offset]");
  let hovered = [];
  const unhover = () => { hovered.forEach((b) => b.classList.remove("vm-hover")); hovered = []; };
  box.addEventListener("mouseover", (e) => {
    const b = byteOf(e);
    unhover();
    if (!b || !b.dataset.field) return;
    hovered = [...box.querySelectorAll(".vm-byte[data-offset]")]
      .filter((x) => x.dataset.field === b.dataset.field
                     && x.dataset.group === b.dataset.group);
    hovered.forEach((x) => x.classList.add("vm-hover"));
  });
  box.addEventListener("mouseleave", unhover);
  box.addEventListener("click", (e) => {
    const b = byteOf(e);
    if (!b) return;
    model.set("clicked", parseInt(b.dataset.offset, 10));
    model.set("clicks", model.get("clicks") + 1);
    model.save_changes();
  });
  el.appendChild(box);
}
export default { render };
"""

_CSS = """
.vm-grid-box .vm-byte[data-offset] { cursor: pointer; }
.vm-grid-box .vm-byte.vm-hover { outline: 2px solid #0077cc; outline-offset: -1px; }
"""


class ByteGrid(anywidget.AnyWidget):
    """The byte map's grid: ``value`` is its HTML; a click in the page sets
    ``clicked`` (absolute stream offset) and increments ``clicks``."""

    _esm = _ESM
    _css = _CSS
    value = traitlets.Unicode("").tag(sync=True)
    clicked = traitlets.Int(-1).tag(sync=True)
    clicks = traitlets.Int(0).tag(sync=True)

    def click(self, offset: int) -> None:
        """Do what a click on the byte at ``offset`` does (for tests and scripts)."""
        self.clicked = offset
        self.clicks += 1
