"""Shared fixtures. Keep this file small: one fixture per shared, expensive resource."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests draw the same examples on every run, as every figure in the book is the
# same on every run: a red CI run always reproduces. Explore further by hand with
# `pytest --hypothesis-seed=N`.
settings.register_profile("bpkit", derandomize=True, database=None)
settings.load_profile("bpkit")

ROOT = Path(__file__).resolve().parents[1]
# The book's build tooling (the Sphinx extension, the notebook stripper) is not installed:
# Jupyter Book loads it from book/, and so do the tests.
sys.path.insert(0, str(ROOT / "book"))
# The book the suite builds and checks: this repository, into ./_build (as `make book`),
# so the execution cache is shared. Point elsewhere only to develop against a scratch book.
BOOK_SOURCE = Path(os.environ.get("BPKIT_BOOK_SOURCE", ROOT))
BOOK_OUTPUT = Path(os.environ.get("BPKIT_BOOK_OUTPUT", BOOK_SOURCE))


@pytest.fixture(scope="session")
def built_book() -> Path:
    """Build the book once per session (``-W -n --keep-going``); return ``_build/html``.

    Fails, showing the end of the build log, on any build error or warning.
    """
    cmd = [
        str(Path(sys.executable).with_name("jupyter-book")),
        "build",
        str(BOOK_SOURCE),
        "-W",
        "-n",
        "--keep-going",
        "--path-output",
        str(BOOK_OUTPUT),
    ]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, check=False)
    html = BOOK_OUTPUT / "_build" / "html"
    if run.returncode != 0 or not (html / "index.html").is_file():
        log = (run.stdout + run.stderr)[-8000:]
        pytest.fail(f"the book build failed ({' '.join(cmd)}, exit {run.returncode}):\n{log}")
    return html


@pytest.fixture(scope="session")
def built_zh_book(built_book: Path) -> Path:
    """The Chinese edition, built after the English one from the same execution cache
    (``book/i18n.py build``, as ``make book``); return ``_build/html/zh``."""
    if BOOK_SOURCE.resolve() != ROOT:
        pytest.fail("the Chinese edition is built from this repository only (BPKIT_BOOK_SOURCE)")
    cmd = [sys.executable, str(ROOT / "book" / "i18n.py"), "build"]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, check=False)
    html = built_book / "zh"
    if run.returncode != 0 or not (html / "index.html").is_file():
        log = (run.stdout + run.stderr)[-8000:]
        pytest.fail(f"the Chinese build failed ({' '.join(cmd)}, exit {run.returncode}):\n{log}")
    return html


#: Variables the book's extensions set for the notebooks they execute (every language,
#: every frame). A test that runs Sphinx in this process (a gettext build, say) loads those
#: extensions; without this the later tests would see a book build in a plain kernel.
BOOK_BUILD_VARIABLES = ("BPKIT_LANGUAGES", "BPKIT_STATIC_FRAMES", "BPKIT_LANG")


#: Their values when the session started (a fixture of wider scope may have changed them
#: before a test's own fixtures run, so the baseline is taken here, once).
_BASELINE = {key: os.environ.get(key) for key in BOOK_BUILD_VARIABLES}


@pytest.fixture(autouse=True)
def _no_book_build_environment_after_a_test() -> object:
    yield
    for key, value in _BASELINE.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
