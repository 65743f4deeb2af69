"""Sphinx extension for the book: self-contained pages with every explorer frame.

Book tooling, not part of the installed packages: ``_config.yml`` loads it from
``book/`` (``sphinx.local_extensions``). It

1. sets ``BPKIT_STATIC_FRAMES=all`` before any notebook executes, so that explorers
   displayed during the build precompute every frame (the kernels that myst-nb starts
   inherit this process's environment); a live kernel skips that work;
2. warns (an error under ``-W``) when an explorer block holding only its default frame
   (``data-frames="partial"``, e.g. from a notebook executed elsewhere) reaches a page;
3. drops sphinx-thebe's page scripts and config (thebe is off in this book, and its
   script would come from unpkg.com) and the embedded ipywidgets state (nothing on the
   static page reads it: the explorers' own HTML block replaces the widgets);
4. warns about any script or stylesheet still loaded from another host, so that a page
   never needs the network beyond the server that hosts the book;
5. marks bibliography entries as list items: docutils puts ``role="doc-biblioentry"``
   entries in a ``role="list"`` container, which axe-core reports as a critical
   accessibility violation (a list must contain list items);
6. re-executes every notebook when the ``bpkit`` or ``bpcourse`` package changed since
   the last build: the execution cache is keyed on the notebooks' code only, so without
   this a page would keep numbers, figures and frames computed by older code.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from docutils import nodes

import bpcourse
import bpkit
from bpcourse.widgets import FRAMES_ENV

_THEBE_MARKERS = ("text/x-thebe-config", "<script>kernelName = ")
_DROPPED_SCRIPT_TYPES = ("application/vnd.jupyter.widget-state+json",)


def _is_remote(url: str) -> bool:
    return "://" in url or url.startswith("//")


def _check_doctree(app: Any, doctree: nodes.document, docname: str) -> None:
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    for node in list(doctree.findall(nodes.raw)):
        text = node.astext()
        if any(marker in text for marker in _THEBE_MARKERS):
            node.parent.remove(node)
        elif 'data-frames="partial"' in text:
            logger.warning(
                f"an explorer on {docname!r} has only its default frame: the notebook was "
                f"executed without {FRAMES_ENV}=all (clear the execution cache and rebuild)",
                location=node,
                type="bpkit",
                subtype="explorer",
            )


def _keep_script(js: Any) -> bool:
    name = str(getattr(js, "filename", js) or "")
    attrs = getattr(js, "attributes", {})
    if name.endswith("sphinx-thebe.js") or "THEBE_JS_URL" in attrs.get("body", ""):
        return False
    return attrs.get("type") not in _DROPPED_SCRIPT_TYPES


def _check_page(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    if "body" in context:
        context["body"] = context["body"].replace('role="doc-biblioentry"', 'role="listitem"')
    if "script_files" in context:
        context["script_files"] = [js for js in context["script_files"] if _keep_script(js)]
    for key in ("script_files", "css_files"):
        for asset in context.get(key, []):
            name = str(getattr(asset, "filename", asset) or "")
            if _is_remote(name):
                logger.warning(
                    f"page {pagename!r} loads {name} from another host; serve it from the "
                    "book instead",
                    type="bpkit",
                    subtype="remote",
                )


def bpkit_fingerprint() -> str:
    """A hash of every file of the ``bpkit`` and ``bpcourse`` packages (code and data)."""
    h = hashlib.sha256()
    for package in (bpkit, bpcourse):
        root = Path(package.__file__).resolve().parent
        for path in sorted(root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                h.update(f"{root.name}/{path.relative_to(root).as_posix()}".encode())
                h.update(path.read_bytes())
    return h.hexdigest()


def _stamp_path(app: Any) -> Path:
    return Path(app.outdir).parent / ".bpkit-fingerprint"


def _outdated_when_bpkit_changed(app: Any, env: Any, added: Any, changed: Any, removed: Any):
    from sphinx.util import logging

    stamp = _stamp_path(app)
    if stamp.is_file() and stamp.read_text() == bpkit_fingerprint():
        return []
    cache = Path(env.mystnb_config.execution_cache_path)
    if cache.is_dir():
        from jupyter_cache import get_cache

        get_cache(str(cache)).clear_cache()
    notebooks = [d for d in env.found_docs if str(env.doc2path(d)).endswith(".ipynb")]
    logging.getLogger(__name__).info(
        f"bpkit or bpcourse changed since the last build: executing {len(notebooks)} notebooks afresh"
    )
    return notebooks


def _write_stamp(app: Any, exc: Exception | None) -> None:
    if exc is None:
        _stamp_path(app).write_text(bpkit_fingerprint())


def setup(app: Any) -> dict[str, Any]:
    os.environ[FRAMES_ENV] = "all"
    app.connect("env-get-outdated", _outdated_when_bpkit_changed)
    app.connect("build-finished", _write_stamp)
    # After sphinx-thebe and myst-nb (default priority 500) have added their parts.
    app.connect("doctree-resolved", _check_doctree, priority=900)
    app.connect("html-page-context", _check_page, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
