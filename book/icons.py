"""The theme's icon fonts cut down to the icons the book shows.

pydata-sphinx-theme ships Font Awesome's full fonts (268 KB of solid and brand glyphs)
for about a dozen icons. After the build, :func:`subset_icon_fonts` finds the icons the
pages and the theme's own scripts and stylesheets use, writes fonts holding only those
glyphs (a few KB, WOFF, from the theme's TrueType files with fontTools, which matplotlib
already installs) and a stylesheet whose ``@font-face`` rules, loaded after the theme's,
point the same font families at them. A browser then never fetches the full fonts.
"""

from __future__ import annotations

import re
from pathlib import Path

#: The stylesheet written into ``_static`` (linked on every page by the extension).
STYLESHEET = "bpkit-icons.css"
_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_CODEPOINT = re.compile(r"\"\\([0-9a-fA-F]{2,5})\s?\"")
_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")  # icons written as the character itself
_TABLE_SELECTOR = re.compile(r"^(?:\s*\.fa-[\w-]+:{1,2}before\s*,?)+$")
_FONT_FACE = re.compile(r"@font-face\{([^{}]*Font Awesome[^{}]*)\}")
_ICON_CLASS = re.compile(r"\bfa-[a-z0-9-]+")


def used_codepoints(css_texts: list[str], page_texts: list[str]) -> set[int]:
    """Codepoints of every icon the pages name (``fa-bars``...) plus every icon a theme
    stylesheet sets outside Font Awesome's own class table (admonition icons...)."""
    names = set()
    for text in page_texts:
        names.update(_ICON_CLASS.findall(text))
    points: set[int] = set()
    for css in css_texts:
        for selector, body in _RULE.findall(css):
            found = [int(h, 16) for h in _CODEPOINT.findall(body)]
            found += [ord(c) for c in _PRIVATE_USE.findall(body)]
            if not found:
                continue
            if _TABLE_SELECTOR.match(selector):
                classes = {s.strip().split(":")[0][1:] for s in selector.split(",")}
                if classes & names:
                    points.update(found)
            else:
                points.update(found)
    return {p for p in points if p >= 0xE000}  # private-use icons, not ordinary letters


def subset_icon_fonts(outdir: Path) -> Path | None:
    """Write the cut-down fonts and :data:`STYLESHEET` into ``outdir/_static``."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    static = outdir / "_static"
    css_files = [p for p in static.rglob("*.css") if p.name != STYLESHEET]
    css_texts = [p.read_text(errors="replace") for p in css_files]
    pages = [p.read_text(errors="replace") for p in outdir.rglob("*.html")]
    scripts = [
        p.read_text(errors="replace")
        for p in static.rglob("*.js")
        if "fontawesome" not in p.name and "mathjax" not in p.parts
    ]
    points = used_codepoints(css_texts, pages + scripts)
    rules = []
    for css_path, css in zip(css_files, css_texts, strict=True):
        for face in _FONT_FACE.findall(css):
            ttf = re.search(r"url\(([^)]+\.ttf)\)", face)
            if not ttf:
                continue
            source = (css_path.parent / ttf.group(1).strip("'\"")).resolve()
            if not source.is_file():
                continue
            font = TTFont(source)
            keep = sorted(points & set(font.getBestCmap()))
            if not keep:
                continue
            options = subset.Options()
            options.flavor = "woff"  # zlib: no brotli needed
            options.layout_features = ["*"]
            subsetter = subset.Subsetter(options)
            subsetter.populate(unicodes=keep)
            subsetter.subset(font)
            target = static / "bpkit-icons" / (source.stem + ".woff")
            target.parent.mkdir(exist_ok=True)
            font.flavor = "woff"
            font.save(target)
            descriptors = re.sub(r"src:[^;}]*;?", "", face).rstrip(";")
            rules.append(
                f'@font-face{{{descriptors};src:url(bpkit-icons/{target.name}) format("woff")}}'
            )
    if not rules:
        return None
    sheet = static / STYLESHEET
    sheet.write_text(
        "/* Font Awesome cut down to the icons this book uses (book/icons.py). */\n"
        + "\n".join(rules)
        + "\n"
    )
    return sheet
