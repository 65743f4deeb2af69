"""The chapters in JupyterLab, as a self-study learner opens them (``make lab``, Binder).

Starts JupyterLab on a copy of one chapter, opens it in Debian's headless Chromium with
every address other than 127.0.0.1 blocked, and checks that jupyterlab-myst renders the
chapter's MyST: the learning-objectives admonition and the exercise and solution
directives appear as rendered blocks, and no directive is left as raw ``:::{...}`` text.
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """JupyterLab serving a copy of one chapter; yields the notebook's URL."""
    root = tmp_path_factory.mktemp("lab")
    shutil.copy(BOOK_SOURCE / "chapters" / CHAPTER, root / CHAPTER)
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
        yield f"{base}/lab/tree/{CHAPTER}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_jupyterlab_renders_the_chapters_myst(lab: str) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(executable).exists():
        pytest.fail("The JupyterLab test needs Chromium: run 'make browser-deps' and retry.")
    remote: list[str] = []
    errors: list[str] = []

    def route(r: object) -> None:
        if urlsplit(r.request.url).hostname == "127.0.0.1" or r.request.url.startswith("data:"):
            r.continue_()
        else:
            remote.append(r.request.url)
            r.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
        page.route("**/*", route)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(lab, wait_until="domcontentloaded")
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
