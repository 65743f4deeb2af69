"""The chapters in JupyterLab, as a self-study learner opens them (``make lab``, Binder).

Starts JupyterLab on a copy of one chapter and a small scratch notebook, opens them in
Debian's headless Chromium with every address other than 127.0.0.1 blocked, and checks

* that jupyterlab-myst renders the chapter's MyST: the learning-objectives admonition and
  the exercise and solution directives appear as rendered blocks, and no directive is
  left as raw ``:::{...}`` text;
* that, once its cells have run, a notebook written to the book's conventions reads as
  the page does: a number quoted with ``{eval}`` shows as the number, a link to another
  chapter as the chapter's title, and an explorer's controls get room and line up (the
  momentum race, whose long label once left its slider a 43 px track).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import BOOK_SOURCE

CHAPTER = "04_backprop.ipynb"
SCRATCH = "conventions.ipynb"


def _scratch_notebook() -> object:
    """Cells as a converted chapter has them (book/conventions.py): a computed number, the
    prose quoting it with {eval}, a link to a chapter, and an explorer."""
    import nbformat

    v4 = nbformat.v4
    nb = v4.new_notebook()
    nb.cells = [
        v4.new_code_cell("import numpy as np\nfinal_loss = float(np.log(10) / 18.7)"),
        v4.new_markdown_cell(
            'The loss ends at {eval}`f"{final_loss:.4f}"`; '
            "[Loss functions](01_loss.ipynb) defines it."
        ),
        v4.new_code_cell(
            'from bpcourse.explorers.updates import race_explorer\nrace_explorer("quadratic")'
        ),
    ]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """JupyterLab serving a copy of one chapter; yields the notebook's URL."""
    root = tmp_path_factory.mktemp("lab")
    shutil.copy(BOOK_SOURCE / "chapters" / CHAPTER, root / CHAPTER)
    import nbformat

    nbformat.write(_scratch_notebook(), root / SCRATCH)
    settings = root / ".settings"
    # Render every cell at once (Lab 4 otherwise renders only the cells in view), and
    # no news pop-up over the page.
    (settings / "@jupyterlab" / "notebook-extension").mkdir(parents=True)
    (settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings").write_text(
        json.dumps({"windowingMode": "none"})
    )
    (settings / "@jupyterlab" / "apputils-extension").mkdir(parents=True)
    (
        settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    ).write_text(json.dumps({"fetchNews": "false"}))
    port = _free_port()
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(root / ".config"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    cmd = [
        str(Path(sys.executable).with_name("jupyter")),
        "lab",
        "--no-browser",
        f"--port={port}",
        "--ServerApp.ip=127.0.0.1",
        "--IdentityProvider.token=",
        "--ServerApp.password=",
        f"--ServerApp.root_dir={root}",
        f"--LabApp.user_settings_dir={settings}",
        f"--LabApp.workspaces_dir={root / '.workspaces'}",
        "--LabApp.expose_app_in_browser=True",  # the test runs a command: Run All Cells
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log = (root / "server.log").open("w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited:\n{(root / 'server.log').read_text()[-2000:]}")
            try:
                urllib.request.urlopen(f"{base}/api/status", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not start within 60 s")
        yield f"{base}/lab/tree/"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


class LabPage:
    """A notebook open in JupyterLab in headless Chromium, the network off."""

    def __init__(self, p: object, url: str) -> None:
        executable = shutil.which("chromium") or "/usr/bin/chromium"
        if not Path(executable).exists():
            pytest.fail("The JupyterLab test needs Chromium: run 'make browser-deps' and retry.")
        self.remote: list[str] = []
        self.errors: list[str] = []
        self.browser = p.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        self.page = self.browser.new_page(viewport={"width": 1300, "height": 1000})
        self.page.route("**/*", self._route)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.goto(url, wait_until="domcontentloaded")

    def _route(self, r: object) -> None:
        if urlsplit(r.request.url).hostname == "127.0.0.1" or r.request.url.startswith("data:"):
            r.continue_()
        else:
            self.remote.append(r.request.url)
            r.abort()


def test_jupyterlab_renders_the_chapters_myst(lab: str) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        lab_page = LabPage(p, lab + CHAPTER)
        page, browser = lab_page.page, lab_page.browser
        errors, remote = lab_page.errors, lab_page.remote
        page.wait_for_selector(".jp-Notebook .jp-MarkdownCell", timeout=60_000)
        # Wait until jupyterlab-myst has rendered the solutions (if it never does, the
        # assertions below say what was left raw).
        try:
            page.wait_for_function(
                "() => [...document.querySelectorAll('.jp-MarkdownCell')]"
                ".some(c => c.innerText.includes('Solution to'))",
                timeout=60_000,
            )
        except PlaywrightTimeout:
            pass
        texts = page.eval_on_selector_all(
            ".jp-Notebook .jp-MarkdownCell", "cells => cells.map(c => c.innerText)"
        )
        browser.close()

    rendered = "\n".join(texts)
    raw = [t[:120] for t in texts if ":::{" in t or "```{" in t]
    assert not raw, f"MyST directives left as raw text in JupyterLab: {raw}"
    assert "Learning objectives" in rendered  # the admonition's title
    assert "Exercise" in rendered and "Solution to" in rendered
    assert not errors, errors
    assert not remote, f"JupyterLab asked for remote addresses: {remote[:5]}"


JS_CONTROLS = """() => [...document.querySelectorAll('.jp-OutputArea .widget-interact > .widget-inline-hbox,'
  + ' .jp-OutputArea .widget-interact > .widget-toggle-buttons')].map(row => {
  const label = row.querySelector('.widget-label');
  const track = row.querySelector('.slider-container, .widget-toggle-button');
  return {label: label ? label.textContent : '',
          labelWidth: label ? label.getBoundingClientRect().width : 0,
          labelClipped: label ? label.scrollWidth > label.clientWidth + 1 : true,
          left: track ? track.getBoundingClientRect().left : -1,
          width: track ? row.querySelector('.slider-container, .widget-toggle-buttons > div')
                          .getBoundingClientRect().width : 0,
          kind: row.classList.contains('widget-toggle-buttons') ? 'buttons' : 'slider'};
})"""


def test_a_converted_notebook_reads_in_jupyterlab_as_on_the_page(lab: str, tmp_path) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # a workspace of its own: the default one reopens the chapter the first test opened,
        # whose (unexecuted) cells would be read with this notebook's
        lab_page = LabPage(
            p, lab.replace("/lab/tree/", "/lab/workspaces/conventions/tree/") + SCRATCH
        )
        lab_page.tmp = tmp_path
        page = lab_page.page
        page.wait_for_selector(".jp-Notebook .jp-MarkdownCell", timeout=60_000)
        page.wait_for_function("() => !!window.jupyterapp", timeout=60_000)
        # the kernel is up (Run All before that runs nothing)
        page.wait_for_function("() => document.body.innerText.includes('| Idle')", timeout=90_000)
        # Run > Run All Cells, by its command id. A run that starts while the kernel is
        # still connecting runs nothing: try again (it is idempotent here).
        for _attempt in range(3):
            page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
            try:
                page.wait_for_function(
                    "() => [...document.querySelectorAll('.jp-MarkdownCell')]"
                    ".some(c => c.innerText.includes('0.1231'))",
                    timeout=40_000,
                )
                break
            except PlaywrightTimeout:
                page.screenshot(path=str(Path(lab_page.tmp) / "lab-run-all.png"))
        # attached, not visible: a squeezed track has no width, and the assertions below
        # then say so with the measured controls instead of timing out
        page.wait_for_selector(
            ".jp-OutputArea .widget-interact .slider-container", state="attached", timeout=120_000
        )
        page.wait_for_timeout(1500)
        prose = page.eval_on_selector_all(".jp-MarkdownCell", "cs => cs.map(c => c.innerText)")
        links = page.eval_on_selector_all(".jp-MarkdownCell a", "as => as.map(a => a.textContent)")
        controls = page.evaluate(JS_CONTROLS)
        lab_page.browser.close()

    text = "\n".join(prose)
    assert "0.1231" in text and "{eval}" not in text and "final_loss" not in text, text
    assert "Loss functions" in links, links
    from bpcourse.explorers.updates import race_explorer

    expected = [s.label for s in race_explorer("quadratic").sliders.values()]
    assert [c["label"] for c in controls] == expected, controls
    sliders = [c for c in controls if c["kind"] == "slider"]
    assert all(c["width"] >= 200 for c in sliders), f"a slider track is cramped: {controls}"
    # one label column: the controls start together (a slider's track is inset by half
    # its handle, hence the tolerance)
    lefts = [c["left"] for c in controls]
    assert max(lefts) - min(lefts) <= 16, f"the controls do not line up: {controls}"
    assert len({round(c["labelWidth"]) for c in controls}) == 1, controls
    assert not any(c["labelClipped"] for c in controls), f"a label is cut off: {controls}"
    assert not lab_page.errors, lab_page.errors
    assert not lab_page.remote, f"JupyterLab asked for remote addresses: {lab_page.remote[:5]}"
