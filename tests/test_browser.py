"""The course in a real browser: JupyterLab on localhost, Debian's Chromium
driven by Playwright. Opens the course map and the byte-map notebook, runs
all cells, checks the widgets rendered and that picking a field highlights
its bytes, and saves screenshots under test-artifacts/.

Skipped (with the reason) when Chromium or Playwright is missing. Install
with ``apt-get install -y chromium`` and ``pip install playwright`` — never
``playwright install``: we use the system Chromium.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
BUDGET = 170.0  # seconds for the whole test (JupyterLab start included)


def _skip_reason() -> str | None:
    if not os.path.exists(CHROMIUM):
        return f"{CHROMIUM} not found (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install playwright)"
    try:
        import jupyterlab  # noqa: F401
        import jupyterlab_widgets  # noqa: F401
    except ImportError:
        return "jupyterlab or jupyterlab_widgets is not installed"
    return None


_REASON = _skip_reason()
if _REASON:
    print(f"test_browser skipped: {_REASON}")
pytestmark = pytest.mark.skipif(_REASON is not None, reason=_REASON or "")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab():
    """A JupyterLab server on a free port, token off, in a temp home, serving
    a copy of notebooks/ (so autosave never touches the repository)."""
    tmp = Path(tempfile.mkdtemp(prefix="vmstate-lab-"))
    root = tmp / "course"
    shutil.copytree(ROOT / "notebooks", root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    home = tmp / "home"
    home.mkdir()
    env = dict(os.environ, HOME=str(home), JUPYTER_CONFIG_DIR=str(home / ".jupyter"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"), IPYTHONDIR=str(home / ".ipython"),
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               VMSTATE_EDU_DATA=str(ROOT / "data"), MPLBACKEND="module://matplotlib_inline"
               ".backend_inline")
    port = _free_port()
    log = open(tmp / "lab.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}",
         "--ServerApp.ip=127.0.0.1", "--IdentityProvider.token=", "--ServerApp.password=",
         "--ServerApp.disable_check_xsrf=True", f"--ServerApp.root_dir={root}",
         "--LabApp.expose_app_in_browser=True",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
        ],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "/api/status", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.fail("JupyterLab did not start:\n" + (tmp / "lab.log").read_text()[-3000:])
        time.sleep(0.5)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()
    shutil.rmtree(tmp, ignore_errors=True)


def _run_all(page, url: str, name: str, timeout_ms: int) -> None:
    page.goto(f"{url}/lab/tree/{name}", wait_until="domcontentloaded", timeout=timeout_ms)
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell", timeout=timeout_ms)
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=timeout_ms)
    # wait for this notebook's kernel, then run everything
    ready = """(name) => { const w = window.jupyterapp.shell.currentWidget;
                 const k = w && w.context && w.context.path.endsWith(name)
                           && w.sessionContext?.session?.kernel;
                 return !!k && k.status === 'idle'; }"""
    page.wait_for_function(ready, arg=name, timeout=timeout_ms, polling=500)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_timeout(1000)
    # done when no cell shows [*] any more and the kernel is idle again
    page.wait_for_function(
        """(name) => { const busy = [...document.querySelectorAll(
                         '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-InputPrompt')]
                         .some(p => p.textContent.includes('*'));
                       const w = window.jupyterapp.shell.currentWidget;
                       const k = w?.sessionContext?.session?.kernel;
                       return !busy && !!k && k.status === 'idle'; }""",
        arg=name, timeout=timeout_ms, polling=500)


def _until(cond, timeout_ms: int, what: str) -> None:
    deadline = time.time() + timeout_ms / 1000
    while not cond():
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.25)


def _options(select) -> list[str]:
    """Option labels of a <select> (ipywidgets writes spaces as no-break spaces)."""
    return [t.replace("\xa0", " ") for t in select.locator("option").all_text_contents()]


def test_course_in_the_browser(lab):
    from playwright.sync_api import sync_playwright

    t0 = time.time()
    ARTIFACTS.mkdir(exist_ok=True)

    def left_ms() -> int:
        return max(5000, int((BUDGET - (time.time() - t0)) * 1000))

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))

            # --- the course map: the machine explorer renders, a field lights up ----------
            _run_all(page, lab, "00-course-map.ipynb", left_ms())
            page.wait_for_selector(".vm-machine-explorer .vm-bytemap-widget", timeout=left_ms())
            tracebacks = page.locator(".jp-RenderedText[data-mime-type='application/vnd.jupyter"
                                      ".stderr'] :text('Traceback')")
            assert tracebacks.count() == 0
            # (JupyterLab may hold more than one view of an output; use the first)
            explorer = page.locator(".vm-machine-explorer").first
            select = explorer.locator(".vm-field-select select").first
            options = _options(select)
            assert "cpu: env.pc" in options and "cpu: env.regs" in options
            select.select_option(index=options.index("cpu: env.pc"))
            hl = explorer.locator(".vm-byte.vm-hl")
            _until(lambda: hl.count() == 8, left_ms(), "8 highlighted bytes for env.pc")
            fields = set(hl.evaluate_all("els => els.map(e => e.dataset.field)"))
            assert fields == {"env.pc"}
            page.locator(".vm-machine-explorer").first.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "browser-course-map.png"), full_page=False)

            # --- the byte-map notebook: kernel-side selection shows, then pick in the page --
            _run_all(page, lab, "02-fields-become-bytes.ipynb", left_ms())
            page.wait_for_selector(".jp-NotebookPanel:visible .vm-bytemap-widget",
                                   timeout=left_ms())
            widget = page.locator(".jp-NotebookPanel:visible .vm-bytemap-widget").first
            # the notebook's last cells called select_field / select_offset in the kernel
            _until(lambda: widget.locator(".vm-byte.vm-hl").count() > 0, left_ms(),
                   "the kernel-side selection to show")
            sel = widget.locator(".vm-field-select select").first
            sel.select_option(index=_options(sel).index("cpu: env.regs"))
            regs = widget.locator(".vm-byte.vm-hl")
            _until(lambda: regs.count() == 64, left_ms(), "64 highlighted bytes for env.regs")
            assert set(regs.evaluate_all("els => els.map(e => e.dataset.field)")) == {
                f"env.regs[{i}]" for i in range(8)}
            # byte -> field: type an offset, the info line names the field
            first = int(regs.first.get_attribute("data-offset"))
            box = widget.locator(".vm-offset-input input").first
            box.fill(str(first + 8 * 3 + 2))
            box.press("Enter")
            info = widget.locator(".vm-info").first
            _until(lambda: "env.regs[3]" in info.text_content(), left_ms(),
                   "the info line to name env.regs[3]")
            _until(lambda: regs.count() == 8, left_ms(), "env.regs[3]'s 8 bytes highlighted")
            # byte -> field by mouse: hovering outlines the element, a click selects it
            target = widget.locator(f".vm-byte[data-offset='{first + 8 * 6 + 1}']").first
            target.scroll_into_view_if_needed()
            target.hover()
            hover = widget.locator(".vm-byte.vm-hover")
            _until(lambda: hover.count() == 8, left_ms(), "env.regs[6]'s 8 bytes outlined")
            assert set(hover.evaluate_all("els => els.map(e => e.dataset.field)")) == {
                "env.regs[6]"}
            target.click()
            _until(lambda: "env.regs[6]" in info.text_content(), left_ms(),
                   "a click to name env.regs[6] in the info line")
            _until(lambda: regs.count() == 8 and regs.first.get_attribute("data-field")
                   == "env.regs[6]", left_ms(), "env.regs[6]'s bytes highlighted")
            assert box.input_value() == str(first + 8 * 6 + 1)
            widget.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "browser-bytemap.png"), full_page=False)
            assert not [e for e in errors if "vmstate" in e.lower()], errors
        finally:
            browser.close()
    assert time.time() - t0 < BUDGET + 10
