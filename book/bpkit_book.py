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
   this a page would keep numbers, figures and frames computed by older code;
7. lightens every page's first load and fixes the theme's navigation: the layout in
   ``book/templates`` drops ``fontawesome.js`` (1.45 MB; the theme's CSS ships the same
   icons as fonts), the search index on pages other than the search page, the empty top
   bar whose hidden sidebar toggles the theme's scripts bound instead of the visible ones,
   and the duplicate viewport tags; inline ``data:`` images (explorer frames) become files
   under ``_frames/``, and every image loads lazily;
8. takes MathJax's formulas out of the Tab order (each one was a Tab stop);
9. cleans cell outputs: no build-machine path in a traceback or anywhere in a page, and a
   text progress bar as its final line;
10. marks runs of Chinese characters ``lang="zh-Hans"``, and gives each page a meta
    description (its first paragraph) and a title without the book's name repeated;
11. serves a figure's phone variant to phones: during the build a ``BookFigure`` output
    carries it beside its image as a ``<source>`` (``text/html``,
    :meth:`bpcourse.plotting.BookFigure.phone_source`); :class:`PhoneFigures` puts that
    source and the image (with its alt text and caption from the cell's metadata) in one
    ``<picture>``, so a phone loads only the phone file and every other screen, paper
    and the PDF only the desktop one (both files under ``_frames``/``_images``, no script,
    works from ``file://``). A figure that has no phone layout (its texts would collide)
    is put in a box that, on a phone, scrolls sideways with the figure at its own size.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any

import icons
import pagetools
from docutils import nodes
from sphinx.transforms.post_transforms import SphinxPostTransform

import bpcourse
import bpkit
from bpcourse.plotting import PHONE_SCROLL_CLASS, PHONE_SOURCE_CLASS
from bpcourse.widgets import FRAMES_ENV

TEMPLATES = Path(__file__).resolve().parent / "templates"
#: Where inline ``data:`` images of a page (explorer frames) are written, under the output.
FRAMES_DIR = "_frames"

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


class PhoneFigures(SphinxPostTransform):
    """A figure's image and its phone variant in one ``<picture>`` (item 11 above).

    Runs before myst-nb's ``SelectMimeType`` (priority 4) picks one mime type of each
    output, while the output's image and its ``text/html`` phone source are both there.
    """

    default_priority = 3

    def run(self, **kwargs: Any) -> None:
        phone_pictures(self.document, html=self.app.builder.format == "html")


def phone_pictures(doctree: nodes.Node, html: bool = True) -> int:
    """Put each cell output's image and its phone source in one ``<picture>`` (for
    ``html``; other builders only drop the source). Returns how many were made."""
    from sphinx.util import logging

    made = 0
    for bundle in list(doctree.findall(_is_mime_bundle)):
        phone = [c for c in bundle.children if _is_phone_source(c)]
        if not phone:
            continue
        source = phone[0].astext()
        for c in phone:
            bundle.remove(c)
        images = [
            c
            for c in bundle.children
            if str(c.get("mime_type", "")).startswith("image/")
            and any(isinstance(n, nodes.image) for n in c.children)
        ]
        if not html:
            continue
        if not images:
            logging.getLogger(__name__).warning(
                "a figure's phone variant came without its image: the phone is shown "
                "nothing (is the image's mime type in nb_mime_priority_overrides?)",
                location=bundle,
                type="bpkit",
                subtype="phone",
            )
            continue
        if PHONE_SCROLL_CLASS in source:  # no phone variant: the figure scrolls in its box
            opening, closing = f'<div class="{PHONE_SCROLL_CLASS}">', "</div>"
        else:
            opening, closing = f'<picture class="bpkit-figure">{source}', "</picture>"
        for c in images:
            c.insert(0, nodes.raw("", opening, format="html"))
            c.append(nodes.raw("", closing, format="html"))
            made += 1
    return made


def _is_mime_bundle(node: nodes.Node) -> bool:
    return isinstance(node, nodes.container) and node.get("nb_element") == "mime_bundle"


def _is_phone_source(node: nodes.Node) -> bool:
    return (
        isinstance(node, nodes.container)
        and node.get("mime_type") == "text/html"
        and re.search(rf'class="{PHONE_SOURCE_CLASS}[" ]', node.astext()) is not None
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
        context["body"] = _page_body(app, context, context["body"])
    _page_head(app, context, doctree)
    if "script_files" in context:
        context["script_files"] = [js for js in context["script_files"] if _keep_script(js)]
    if "sd-" not in context.get("body", ""):  # no sphinx-design component on this page
        for key in ("script_files", "css_files"):
            context[key] = [a for a in context.get(key, []) if not _is_sphinx_design(a)]
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


def _is_sphinx_design(asset: Any) -> bool:
    name = Path(str(getattr(asset, "filename", asset) or "")).name
    return name.startswith(("sphinx-design", "design-tabs"))


def _page_body(app: Any, context: dict, body: str) -> str:
    body = body.replace('role="doc-biblioentry"', 'role="listitem"')
    frames = Path(app.outdir) / FRAMES_DIR

    def write(name: str, data: bytes) -> str:
        frames.mkdir(parents=True, exist_ok=True)
        path = frames / name
        if not path.is_file():
            path.write_bytes(data)
        return context["pathto"](f"{FRAMES_DIR}/{name}", 1)

    body = pagetools.extract_inline_images(body, write)
    body = pagetools.lazy_images(body)
    body = pagetools.scrub_paths(body, pagetools.machine_roots(app.srcdir))
    return pagetools.mark_chinese(body)


def _page_head(app: Any, context: dict, doctree: Any) -> None:
    context["metatags"] = pagetools.without_viewport(context.get("metatags", ""))
    if doctree is not None:
        first = _first_paragraph(doctree)
        if first:
            context["bpkit_description"] = pagetools.description(first)


def _first_paragraph(doctree: nodes.document) -> str:
    """The text of the page's first paragraph of prose (not inside a box or a cell)."""
    for para in doctree.findall(nodes.paragraph):
        parent, inside = para.parent, False
        while parent is not None:
            if isinstance(parent, nodes.Admonition | nodes.topic | nodes.sidebar) or (
                "cell" in parent.get("classes", [])
            ):
                inside = True
                break
            parent = parent.parent
        text = para.astext()
        if not inside and len(text) > 40:
            return text
    return ""


def _clean_outputs(app: Any, doctree: nodes.document, docname: str) -> None:
    """Cell outputs without build-machine paths; progress bars as their final line."""
    roots = pagetools.machine_roots(app.srcdir)
    for block in list(doctree.findall(nodes.literal_block)):
        classes = block.get("classes", [])
        if "output" not in classes:
            continue
        old = block.astext()
        new = pagetools.scrub_paths(old, roots)
        if "stream" in classes:
            new = pagetools.collapse_progress(new)
        if new != old:
            block.children = [nodes.Text(new)]
            block.rawsource = new


#: MathJax components a page loads: TeX in, HTML out, and hidden MathML for screen
#: readers. Not ``tex-chtml.js``, which adds MathJax's context menu (426 KB of its 1.16 MB)
#: and makes every formula a Tab stop for it (58-242 per chapter).
MATHJAX_COMPONENTS = ["input/tex", "output/chtml", "a11y/assistive-mml"]


def _configure(app: Any, config: Any) -> None:
    config.templates_path = [*config.templates_path, str(TEMPLATES)]
    if str(config.mathjax_path).startswith("mathjax/"):  # served from the book (offline)
        config.mathjax_path = "mathjax/startup.js"
    mathjax = dict(config.mathjax3_config or {})
    loader = dict(mathjax.get("loader", {}))
    loader["load"] = [*MATHJAX_COMPONENTS, *loader.get("load", [])]
    mathjax["loader"] = loader
    # Should the menu ever be loaded again, it still keeps formulas out of the Tab order.
    options = dict(mathjax.get("options", {}))
    menu = dict(options.get("menuOptions", {}))
    menu["settings"] = {**menu.get("settings", {}), "inTabOrder": False}
    options["menuOptions"] = menu
    mathjax["options"] = options
    config.mathjax3_config = mathjax


def _template_filters(app: Any) -> None:
    from markupsafe import Markup

    templates = getattr(app.builder, "templates", None)
    if templates is not None and hasattr(templates, "environment"):
        templates.environment.filters["bpkit_without_fontawesome_js"] = lambda markup: Markup(
            pagetools.without_fontawesome_js(markup)
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
    # The cache keeps its own stamp: a second build sharing it (the Chinese edition, whose
    # pages have their own stamp) re-reads the notebooks but does not execute them again.
    cache_stamp = cache.with_name(cache.name + ".bpkit-fingerprint")
    if not (cache_stamp.is_file() and cache_stamp.read_text() == bpkit_fingerprint()):
        if cache.is_dir():
            from jupyter_cache import get_cache

            get_cache(str(cache)).clear_cache()
        cache_stamp.parent.mkdir(parents=True, exist_ok=True)
        cache_stamp.write_text(bpkit_fingerprint())
    notebooks = [d for d in env.found_docs if str(env.doc2path(d)).endswith(".ipynb")]
    logging.getLogger(__name__).info(
        f"bpkit or bpcourse changed since the last build: executing {len(notebooks)} notebooks afresh"
    )
    return notebooks


def _write_stamp(app: Any, exc: Exception | None) -> None:
    if exc is None:
        _stamp_path(app).write_text(bpkit_fingerprint())
        _assets_stamp(app).write_text(assets_fingerprint())


def assets_fingerprint() -> str:
    """A hash of the book's own assets, templates and page tools (book/)."""
    h = hashlib.sha256()
    root = Path(__file__).resolve().parent
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            h.update(path.relative_to(root).as_posix().encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def _assets_stamp(app: Any) -> Path:
    return Path(app.outdir).parent / ".bpkit-assets-fingerprint"


def _rewrite_when_assets_changed(app: Any, env: Any, added: Any, changed: Any, removed: Any):
    """Every page again (from the execution cache) when book/ changed: Sphinx copies the
    stylesheets and scripts only when some page is written."""
    stamp = _assets_stamp(app)
    if stamp.is_file() and stamp.read_text() == assets_fingerprint():
        return []
    return sorted(env.found_docs)


def _subset_icons(app: Any, exc: Exception | None) -> None:
    if exc is None and app.builder.format == "html":
        icons.subset_icon_fonts(Path(app.outdir))


def _drop_unused_frames(app: Any, exc: Exception | None) -> None:
    """Delete frame files no page refers to any more (left by earlier builds)."""
    frames = Path(app.outdir) / FRAMES_DIR
    if exc is not None or not frames.is_dir():
        return
    used: set[str] = set()
    for page in Path(app.outdir).rglob("*.html"):
        used.update(re.findall(rf"{FRAMES_DIR}/([\w.]+)", page.read_text(errors="replace")))
    for path in frames.iterdir():
        if path.name not in used:
            path.unlink()


def _write_selfcheck_assets(app: Any, exc: Exception | None) -> None:
    """The self-check questions' script and style, served once for every page (in the book
    build a question's output carries neither: bpcourse.selfcheck.page_assets)."""
    if exc is not None or getattr(app.builder, "format", "") != "html":
        return
    from bpcourse.selfcheck import page_assets

    static = Path(app.outdir) / "_static"
    static.mkdir(parents=True, exist_ok=True)
    for name, text in page_assets().items():
        (static / name).write_text(text, encoding="utf-8")


def setup(app: Any) -> dict[str, Any]:
    os.environ[FRAMES_ENV] = "all"
    from bpcourse.selfcheck import PAGE_SCRIPT, PAGE_STYLE

    app.add_js_file(PAGE_SCRIPT, loading_method="defer")
    app.add_css_file(PAGE_STYLE)
    app.connect("build-finished", _write_selfcheck_assets)
    # myst-nb draws its folded code ("show code cell source") for the html builder only; the
    # one-page build behind `make pdf` (singlehtml) stopped at the first fold ("unknown node
    # type: HideCodeCellNode"). Same drawing there.
    from myst_nb.sphinx_ import HideCodeCellNode, depart_HideCellInput, visit_HideCellInput

    app.registry.add_translation_handlers(
        HideCodeCellNode, singlehtml=(visit_HideCellInput, depart_HideCellInput)
    )
    app.connect("config-inited", _configure)
    app.connect("builder-inited", _template_filters)
    app.connect("doctree-resolved", _clean_outputs)
    app.connect("env-get-outdated", _outdated_when_bpkit_changed)
    app.connect("env-get-outdated", _rewrite_when_assets_changed)
    app.connect("build-finished", _write_stamp)
    app.connect("build-finished", _subset_icons)
    app.connect("build-finished", _drop_unused_frames)
    app.add_css_file(icons.STYLESHEET)
    app.add_post_transform(PhoneFigures)
    # After sphinx-thebe and myst-nb (default priority 500) have added their parts.
    app.connect("doctree-resolved", _check_doctree, priority=900)
    app.connect("html-page-context", _check_page, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
