"""Pure text and HTML helpers of the book's Sphinx extension (``bpkit_book``).

Each function takes a string and returns a string (or a small value), so each can be
tested without building the book: ``tests/book/test_pagetools.py``.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import sys
import sysconfig
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

# ------------------------------------------------------------------ Chinese terms
# Han ideographs (with the CJK punctuation and full-width forms that sit between them).
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RUN = re.compile(f"[{_HAN}\u3000-\u303f\uff00-\uffef]+")
_HAS_HAN = re.compile(f"[{_HAN}]")
_TAG = re.compile(r"(<[^>]*>)")
_RAW_TEXT_ELEMENTS = ("script", "style", "title", "textarea")


def mark_chinese(markup: str, lang: str = "zh-Hans") -> str:
    """Wrap every run of Chinese characters in the text of ``markup`` in
    ``<span lang="zh-Hans">``, so that screen readers and fonts treat it as Chinese.

    Tags, attribute values and the contents of ``script``/``style`` are left alone.
    """
    out: list[str] = []
    skip: str | None = None
    for part in _TAG.split(markup):
        if part.startswith("<"):
            name = re.match(r"</?\s*([a-zA-Z0-9-]+)", part)
            tag = name.group(1).lower() if name else ""
            if skip is None and not part.startswith("</") and tag in _RAW_TEXT_ELEMENTS:
                skip = tag
            elif skip == tag and part.startswith("</"):
                skip = None
            out.append(part)
        elif skip is None and _HAS_HAN.search(part):
            out.append(
                _CJK_RUN.sub(
                    lambda m: (
                        f'<span lang="{lang}">{m.group(0)}</span>'
                        if _HAS_HAN.search(m.group(0))
                        else m.group(0)
                    ),
                    part,
                )
            )
        else:
            out.append(part)
    return "".join(out)


# ------------------------------------------------------------------ machine paths
def machine_roots(srcdir: str | Path) -> list[str]:
    """Directories of the build machine that must not show in a page, longest first."""
    roots = {
        str(Path(srcdir).resolve()),
        str(Path(srcdir)),
        sys.prefix,
        sys.base_prefix,
        sysconfig.get_paths()["purelib"],
        sysconfig.get_paths()["stdlib"],
        os.path.expanduser("~"),
        tempfile.gettempdir(),
    }
    return sorted((r.rstrip("/") for r in roots if r and r != "/"), key=len, reverse=True)


_SITE_PACKAGES = re.compile(r"(?:/[^\s/:'\"<>()]+)*/(?:site|dist)-packages/")


def scrub_paths(text: str, roots: Iterable[str]) -> str:
    """``text`` with the build machine's directories cut from every file path.

    A traceback's ``File /home/me/book/bpkit/losses.py:67`` becomes
    ``File bpkit/losses.py:67``, and ``.../site-packages/numpy/core.py`` becomes
    ``numpy/core.py``: what a reader can look up, without where it was built.
    """
    text = _SITE_PACKAGES.sub("", text)
    for root in roots:
        text = text.replace(root + "/", "")
    return text


# ------------------------------------------------------------------ progress bars
_BAR = re.compile(r"^(?P<desc>.*?)\s*\d{1,3}%\|")


def collapse_progress(text: str) -> str:
    """A text progress bar as its final line.

    Terminal semantics first (a carriage return starts the line again), then any run of
    consecutive progress-bar lines with the same description (tqdm's plain-text bar as
    a static page receives it, one line per update) is reduced to its last line.
    """
    lines = [line.rsplit("\r", 1)[-1] for line in text.split("\n")]
    out: list[str] = []
    previous: str | None = None
    for line in lines:
        bar = _BAR.match(line)
        desc = bar.group("desc") if bar else None
        if desc is not None and desc == previous and out:
            out[-1] = line
        else:
            out.append(line)
        previous = desc
    return "\n".join(out)


# ------------------------------------------------------------------ page description
def description(text: str, limit: int = 160) -> str:
    """One paragraph cut to at most ``limit`` characters at a word boundary."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "…"


# ------------------------------------------------------------------ inline images
_DATA_IMAGE = re.compile(r"data:image/(png|jpeg|gif|webp|svg\+xml);base64,([A-Za-z0-9+/=]+)")
_EXTENSIONS = {"png": ".png", "jpeg": ".jpg", "gif": ".gif", "webp": ".webp", "svg+xml": ".svg"}


def extract_inline_images(markup: str, write: Callable[[str, bytes], str]) -> str:
    """Every base64 ``data:image/...`` URL in ``markup`` replaced by a file.

    ``write(filename, data)`` stores the bytes and returns the URL to use in their place;
    file names are content hashes, so a frame shown on two pages is stored once.
    """

    def replace(m: re.Match[str]) -> str:
        data = base64.b64decode(m.group(2))
        name = hashlib.sha256(data).hexdigest()[:20] + _EXTENSIONS[m.group(1)]
        return write(name, data)

    return _DATA_IMAGE.sub(replace, markup)


_IMG = re.compile(r"<img\b(?![^>]*\bloading=)")


def lazy_images(markup: str) -> str:
    """``loading="lazy"`` on every ``<img>`` that does not say otherwise: an image is
    fetched when the reader scrolls near it, not with the page."""
    return _IMG.sub('<img loading="lazy" decoding="async"', markup)


# ------------------------------------------------------------------ head
_VIEWPORT = re.compile(r"\s*<meta\s+name=\"viewport\"[^>]*>")


def without_viewport(metatags: str) -> str:
    """``metatags`` without a viewport tag (the layout writes the one the page keeps)."""
    return _VIEWPORT.sub("", metatags)


_FONTAWESOME_JS = re.compile(r"\s*<script\b[^>]*fontawesome(?:\.min)?\.js[^>]*>\s*</script>")


def without_fontawesome_js(markup: str) -> str:
    """``markup`` without the theme's ``fontawesome.js`` script tag."""
    return _FONTAWESOME_JS.sub("", str(markup))
