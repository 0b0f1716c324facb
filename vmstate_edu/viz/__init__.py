"""Views of traces and descriptions: call chains, byte maps, register tables
and explorers. Each view reads a :class:`~vmstate_edu.tracing.Tracer` (or a
description, or a DataFrame) and returns a matplotlib Figure, a pandas
Styler or an ipywidget. Views never parse streams: the engine does.

The submodules import matplotlib, pandas and ipywidgets only inside the
functions that need them, so ``import vmstate_edu.viz`` stays cheap.
"""

from .bytemap import ByteMapWidget, byte_spans, bytemap_figure, bytemap_html, bytemap_widget
from .callchain import (
    CallNode,
    call_tree,
    call_tree_text,
    callchain_figure,
    callchain_widget,
    to_chrome_trace,
)

__all__ = [
    "ByteMapWidget", "byte_spans", "bytemap_figure", "bytemap_html", "bytemap_widget",
    "CallNode", "call_tree", "call_tree_text", "callchain_figure", "callchain_widget",
    "to_chrome_trace",
]
