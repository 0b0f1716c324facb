"""Build the course notebooks from their sources in ``src/`` (percent format:
``# %%`` starts a code cell, ``# %% [markdown]`` a markdown cell whose lines
start with ``# ``). Run ``python notebooks/build.py`` after editing a source.
The .ipynb files are written without outputs."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent


def parse(text: str) -> list:
    cells = []
    kind, buf = None, []

    def flush() -> None:
        if kind is None:
            return
        body = "\n".join(buf).strip("\n")
        if kind == "markdown":
            body = "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#")
                             for line in body.splitlines())
            cells.append(nbformat.v4.new_markdown_cell(body))
        elif body.strip():
            cells.append(nbformat.v4.new_code_cell(body))

    for line in text.splitlines():
        if line.startswith("# %%"):
            flush()
            kind, buf = ("markdown" if "[markdown]" in line else "code"), []
        else:
            buf.append(line)
    flush()
    return cells


def build(src: Path) -> Path:
    rel = src.relative_to(HERE / "src").with_suffix(".ipynb")
    out = HERE / rel
    nb = nbformat.v4.new_notebook()
    nb.cells = parse(src.read_text())
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out)
    return out


if __name__ == "__main__":
    srcs = sorted((HERE / "src").rglob("*.py"))
    for s in srcs:
        if len(sys.argv) == 1 or any(a in s.name for a in sys.argv[1:]):
            print(build(s).relative_to(HERE))
