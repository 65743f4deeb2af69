"""Shared figure conventions: a colour-blind-safe palette and a figure that displays itself
legibly in the book, in JupyterLab and on paper.

Figures are ``matplotlib.figure.Figure`` objects made without ``pyplot``, so drawing one
changes no global state. A :class:`BookFigure` left as a cell's last value shows itself
(``_repr_mimebundle_``) as an SVG (sharp at any zoom and on paper), or, when the SVG would
be heavy (dense contours, images), as a PNG at twice the pixel density, in both cases
sized on the page at :data:`CSS_PX_PER_INCH`. Before it is drawn, :meth:`BookFigure.legible`
applies the book's rules for every figure, whoever wrote it:

* no text smaller than the book's small print: a figure of the column's width
  (:data:`COLUMN_INCHES`) shows every label at :data:`SMALL_PRINT_PX` CSS px or more; a wider
  figure, which the page shrinks to the column, gets proportionally larger text;
* thin lines and markers at least :data:`MIN_LINE_CONTRAST`:1 against the background
  (WCAG 1.4.11): a light palette colour (Okabe-Ito orange is 2.25:1 on white) is drawn
  darker, in the same hue, where it is a line; areas keep the palette's colours.
"""

from __future__ import annotations

import base64
import colorsys
import io
import re
from typing import Any

import numpy as np
from cycler import cycler
from matplotlib.colors import to_hex, to_rgb
from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator

# Okabe and Ito (2008), "Color Universal Design": distinguishable with every common
# form of colour-vision deficiency.
PALETTE = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "sky": "#56B4E9",
    "purple": "#CC79A7",
    "yellow": "#F0E442",
    "black": "#000000",
}
#: The colour cycle for lines: the palette's colours with 3:1 contrast on white first.
COLORS = [PALETTE[k] for k in ("blue", "vermillion", "green", "black", "purple", "orange", "sky")]

#: CSS pixels per figure inch on the page (a 7-inch figure is 735 px wide).
CSS_PX_PER_INCH = 105
#: The room a cell output has in the book's column at desktop (740 px), in figure inches,
#: rounded down: a wider figure is shrunk to fit, so its text is drawn larger.
COLUMN_INCHES = 7.0
#: The book's small print (code, the sidebar) at desktop, in CSS px: no figure text is smaller.
SMALL_PRINT_PX = 14.0
#: The smallest font of a column-wide figure, in points.
MIN_FONT_PT = SMALL_PRINT_PX * 72 / CSS_PX_PER_INCH
#: Raster figures and explorer frames carry this many pixels per CSS pixel (sharp on 2x screens).
RASTER_SCALE = 2
#: An SVG larger than this is replaced by the (smaller) 2x PNG.
SVG_MAX_BYTES = 150_000
#: Colours kept by a raster figure's palette quantisation.
PNG_COLOURS = 64
#: Lines and markers at least this contrast against the figure's background.
MIN_LINE_CONTRAST = 3.0


def contrast(a: Any, b: Any) -> float:
    """WCAG contrast ratio of two matplotlib colours (1 to 21)."""

    def luminance(c: Any) -> float:
        channels = [x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4 for x in to_rgb(c)]
        return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def line_colour(colour: Any, background: Any = "white", ratio: float = MIN_LINE_CONTRAST) -> str:
    """``colour``, darkened in its own hue until it has ``ratio`` contrast on ``background``.

    ``line_colour(PALETTE["orange"])`` is ``'#b27a00'`` (3.0:1 on white). A colour that
    already has the contrast comes back unchanged (as hex).
    """
    if contrast(colour, background) >= ratio:
        return to_hex(colour)
    h, lightness, s = colorsys.rgb_to_hls(*to_rgb(colour))
    lo, hi = 0.0, lightness
    for _ in range(30):  # the largest lightness that still reaches the ratio
        mid = (lo + hi) / 2
        if contrast(colorsys.hls_to_rgb(h, mid, s), background) >= ratio:
            lo = mid
        else:
            hi = mid
    return to_hex(colorsys.hls_to_rgb(h, lo, s))


def min_font_pt(width_in: float) -> float:
    """The smallest legible font (pt) for a figure ``width_in`` inches wide."""
    return MIN_FONT_PT * max(1.0, width_in / COLUMN_INCHES)


class BookFigure(Figure):
    """A ``Figure`` that shows itself in a notebook and in the book, legibly."""

    def legible(self) -> BookFigure:
        """Apply the book's rules (module docstring) to everything drawn so far; idempotent."""
        from matplotlib.collections import LineCollection
        from matplotlib.text import Text

        smallest = min_font_pt(self.get_figwidth())
        for ax in self.axes:
            for axis in (ax.xaxis, ax.yaxis, getattr(ax, "zaxis", None)):
                if axis is None:
                    continue
                for which in ("major", "minor"):
                    labels = axis.get_ticklabels(which=which)
                    if any(t.get_fontsize() < smallest for t in labels):
                        # through the axis, so ticks made at draw time get it too
                        axis.set_tick_params(which=which, labelsize=smallest)
        for text in self.findobj(Text):
            if not text.get_text():
                continue
            if text.get_fontsize() < smallest:
                text.set_fontsize(smallest)
            if text.get_bbox_patch() is None and _is_colour(text.get_color()):
                text.set_color(line_colour(text.get_color(), self.get_facecolor(), 4.5))
        for ax in self.axes:
            background = ax.get_facecolor()
            lines = list(ax.get_lines())
            legends = [ax.get_legend(), *self.legends]
            lines += [h for leg in legends if leg is not None for h in leg.get_lines()]
            for line in lines:
                if line.get_alpha() is not None and line.get_alpha() < 0.5:
                    continue  # a deliberately faint line (background paths, guides)
                old = line.get_color()
                if not _is_colour(old):
                    continue
                new = line_colour(old, background)
                line.set_color(new)
                for get, set_ in (
                    (line.get_markeredgecolor, line.set_markeredgecolor),
                    (line.get_markerfacecolor, line.set_markerfacecolor),
                ):
                    if _is_colour(get()) and to_rgb(get()) == to_rgb(old):
                        set_(new)
            for coll in ax.collections:
                if isinstance(coll, LineCollection) and len(coll.get_edgecolor()):
                    coll.set_edgecolor(
                        [
                            (*to_rgb(line_colour(c[:3], background)), c[3])
                            for c in coll.get_edgecolor()
                        ]
                    )
        return self

    def smallest_font_pt(self) -> float:
        """The size of the smallest text drawn (pt), after :meth:`legible`."""
        from matplotlib.text import Text

        self.legible()
        sizes = [t.get_fontsize() for t in self.findobj(Text) if t.get_text() and t.get_visible()]
        for ax in self.axes:
            for axis in (ax.xaxis, ax.yaxis):
                sizes += [t.get_fontsize() for t in axis.get_ticklabels() if t.get_text()]
        return min(sizes, default=float("inf"))

    def book_note(self) -> str:
        """What the image file says about itself, for the browser test: its smallest font
        and its width, from which the text's size on a page follows."""
        return f"bpkit min-font-pt={self.smallest_font_pt():.2f} width-in={self.get_figwidth():.3f}"

    def svg(self) -> bytes:
        """The figure as SVG, sized at :data:`CSS_PX_PER_INCH` (text as shapes: exact)."""
        import matplotlib

        buf = io.BytesIO()
        # A fixed salt: the same figure gives the same file (ids are hashes otherwise salted
        # at random), so builds are reproducible and tests can compare bytes.
        with matplotlib.rc_context({"svg.hashsalt": "bpkit"}):
            self.legible().savefig(
                buf, format="svg", metadata={"Date": None, "Description": self.book_note()}
            )
        return _svg_in_css_px(buf.getvalue(), self.get_figwidth(), self.get_figheight())

    def png(self, scale: float = RASTER_SCALE) -> bytes:
        """The figure as PNG at ``scale`` pixels per CSS pixel, quantised to a palette of
        :data:`PNG_COLOURS` colours (a figure uses a few flat colours plus antialiasing:
        about a quarter of the size of the full-colour PNG, and it reads the same)."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        self.legible()
        dpi = self.get_dpi()
        try:
            self.set_dpi(CSS_PX_PER_INCH * scale)
            canvas = FigureCanvasAgg(self)
            canvas.draw()
            rgba = np.asarray(canvas.buffer_rgba())
        finally:
            self.set_dpi(dpi)
        try:
            from PIL import Image
        except ImportError:  # no Pillow (matplotlib depends on it): the plain PNG
            buf = io.BytesIO()
            self.savefig(buf, format="png", dpi=CSS_PX_PER_INCH * scale)
            return buf.getvalue()
        from PIL.PngImagePlugin import PngInfo

        info = PngInfo()
        info.add_text("Description", self.book_note())
        out = io.BytesIO()
        rgb = Image.fromarray(rgba).convert("RGB")
        rgb.quantize(PNG_COLOURS, dither=Image.Dither.NONE).save(out, format="png", pnginfo=info)
        return out.getvalue()

    def css_size(self) -> tuple[int, int]:
        """The figure's width and height on the page, in CSS px."""
        w, h = self.get_size_inches()
        return round(w * CSS_PX_PER_INCH), round(h * CSS_PX_PER_INCH)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> tuple[dict, dict]:
        _defer_to_the_bundle()
        width, height = self.css_size()
        size = {"width": width, "height": height}
        svg = self.svg()
        if len(svg) <= SVG_MAX_BYTES:
            return {"image/svg+xml": svg.decode("utf-8")}, {}
        png = base64.b64encode(self.png()).decode("ascii")
        return {"image/png": png}, {"image/png": size}


def _no_image(fig: Any) -> None:
    return None


def _defer_to_the_bundle() -> None:
    """Let a :class:`BookFigure` show only its own bundle in IPython.

    matplotlib's inline backend, once imported (ipywidgets' ``interact`` imports it), registers
    PNG (and other) printers for every ``Figure``; IPython ranks a printer registered for a
    type above an object's ``_repr_mimebundle_``, so a heavy figure's PNG would be replaced
    by matplotlib's (without the size note the book's tests read), and every SVG figure
    would carry a second, unused PNG. A printer registered for :class:`BookFigure` itself
    that returns nothing takes precedence over those and leaves the bundle as it is."""
    try:
        from IPython import get_ipython
    except ImportError:  # no IPython: nothing registers printers
        return
    shell = get_ipython()
    if shell is None:
        return
    for mime, formatter in shell.display_formatter.formatters.items():
        if mime.startswith("image/") or mime == "application/pdf":
            formatter.for_type(BookFigure, _no_image)


def _is_colour(value: Any) -> bool:
    try:
        to_rgb(value)
    except (ValueError, TypeError):
        return False
    return not (isinstance(value, str) and value.lower() == "none")


_SVG_SIZE = re.compile(rb'<svg([^>]*?) width="[\d.]+pt" height="[\d.]+pt"')


def _svg_in_css_px(svg: bytes, width_in: float, height_in: float) -> bytes:
    """Give an SVG's root element its size in CSS px (matplotlib writes points)."""
    w, h = round(width_in * CSS_PX_PER_INCH), round(height_in * CSS_PX_PER_INCH)
    return _SVG_SIZE.sub(rb'<svg\1 width="%dpx" height="%dpx"' % (w, h), svg, count=1)


def new_figure(
    width: float = 6.0, height: float = 4.0, dpi: int = 100, **kwargs: Any
) -> BookFigure:
    """A detached figure (no pyplot state) laid out with ``constrained`` layout."""
    return BookFigure(figsize=(width, height), dpi=dpi, layout="constrained", **kwargs)


def add_axes(fig: Figure, *args: Any, **kwargs: Any):
    """``fig.add_subplot(*args, **kwargs)`` with the book's palette as the colour cycle."""
    ax = fig.add_subplot(*args, **kwargs)
    ax.set_prop_cycle(cycler(color=COLORS))
    return ax


def log_yticks(ax: Any, exponents: Any) -> None:
    """Major y ticks at ``10**k`` for each ``k`` in ``exponents``, labelled in plain text
    ("1e-4", "1", "1e4"), and no minor ticks, on a log-scale axis.

    An explorer redraws its figure on every slider move: matplotlib's default log axis
    builds dozens of minor ticks and a mathtext label (:math:`10^k`) per decade, which
    together take longer to draw than the rest of a frame.
    """
    exponents = [int(k) for k in exponents]
    ax.set_yticks(
        [10.0**k for k in exponents], labels=["1" if k == 0 else f"1e{k}" for k in exponents]
    )
    ax.minorticks_off()


def log_ticks(ax: Any, which: str = "y", most: int = 7) -> None:
    """Plain-text ticks at whole decades ("1e-4", "0.01", "1", "100") and no minor ticks on the
    log-scale axes ``which`` ("x", "y" or "both") of ``ax``, the decades taken from the
    limits the data gave (call it after plotting): at most ``most`` labels, every second
    or third decade when the axis spans many. As :func:`log_yticks`, it spares a static
    figure the cost of matplotlib's mathtext labels (about half a second a figure)."""
    for name in ("x", "y") if which == "both" else (which,):
        lo, hi = getattr(ax, f"get_{name}lim")()
        first, last = int(np.ceil(np.log10(lo) - 1e-9)), int(np.floor(np.log10(hi) + 1e-9))
        stride = max(1, -(-(last - first + 1) // most))
        ks = list(range(first, last + 1, stride)) or [round(np.log10(np.sqrt(lo * hi)))]
        labels = [f"{10.0**k:g}" if -3 <= k <= 3 else f"1e{k}" for k in ks]  # 0.01, 1e-4
        getattr(ax, f"set_{name}ticks")([10.0**k for k in ks], labels=labels)
        getattr(ax, f"set_{name}lim")(lo, hi)
        getattr(ax, f"{name}axis").set_minor_locator(NullLocator())
