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
import os
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

# ---- the phone variant (:meth:`BookFigure.phone`)
#: Screens up to this wide (CSS px) are shown the phone variant of every figure.
PHONE_MAX_SCREEN_PX = 600
#: The media query the page serves the phone variant with (on screens only: paper, and the
#: PDF printed from the book, keep the desktop figure whatever the page's width).
PHONE_MEDIA = f"screen and (max-width: {PHONE_MAX_SCREEN_PX}px)"
#: The width the phone variant is drawn for, in CSS px: the column of a 360 px screen in
#: dark mode (328 px less the figure's white card). The page stretches it to its column,
#: up to :data:`PHONE_MAX_STRETCH` times (a 390 px phone: 358 px, 1.15 times).
PHONE_WIDTH_PX = 312
#: The phone variant's width in figure inches.
PHONE_WIDTH_IN = PHONE_WIDTH_PX / CSS_PX_PER_INCH
#: The most the page stretches a phone variant (on a screen 600 px wide, say).
PHONE_MAX_STRETCH = 1.35
#: The smallest text of a phone variant drawn at :data:`PHONE_WIDTH_PX`, in CSS px; on a
#: phone it is shown at this size or larger.
PHONE_SMALL_PRINT_PX = 12.0
#: That size in points.
PHONE_MIN_FONT_PT = PHONE_SMALL_PRINT_PX * 72 / CSS_PX_PER_INCH
#: The class of the ``<source>`` element that carries a figure's phone variant in a cell's
#: ``text/html`` output during the book build (:meth:`BookFigure.phone_source`); the book's
#: extension puts it, with the figure's image, in a ``<picture>``.
PHONE_SOURCE_CLASS = "bpkit-phone-source"
#: The class of the marker a figure without a phone variant (:meth:`BookFigure.phone` is
#: ``None``) puts in its place: on a phone the page shows the desktop drawing at its own
#: size, in a box that scrolls sideways (the page itself does not).
PHONE_SCROLL_CLASS = "bpkit-phone-scroll"
#: Environment variable the book build sets to ``"all"`` (``book/bpkit_book.py``): figures
#: then carry a phone variant and explorers precompute every frame.
BOOK_BUILD_ENV = "BPKIT_STATIC_FRAMES"


def book_build() -> bool:
    """True while the book is being built (the extension sets :data:`BOOK_BUILD_ENV`)."""
    return os.environ.get(BOOK_BUILD_ENV, "") == "all"


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

        smallest = self._smallest_allowed_pt()
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

    def _smallest_allowed_pt(self) -> float:
        if getattr(self, "_bpkit_phone", False):
            return PHONE_MIN_FONT_PT
        return min_font_pt(self.get_figwidth())

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

    def phone(self) -> BookFigure | None:
        """A copy of this figure laid out for a phone (this one is left as it is), or
        ``None`` when it cannot be.

        The copy is :data:`PHONE_WIDTH_IN` wide: its panels reflowed into as many columns as
        keep each at least 80% of its width on the desktop page (a row of plots becomes a
        column, a strip of twenty thumbnails a 4-column grid), every text scaled so that the
        desktop's small print becomes :data:`PHONE_SMALL_PRINT_PX`, titles and labels
        wider than their panel wrapped, and the constrained layout run again.

        ``None`` when texts that were apart on the desktop would collide on the phone (a
        diagram whose boxes are placed in data coordinates, say: its labels grow, its boxes
        shrink); the page then shows such a figure as drawn, scrolling in its own box.
        """
        import pickle
        import warnings

        data = pickle.dumps(self)
        copy = pickle.loads(data)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            to_phone(copy, self.get_size_inches())  # (ends with a draw: texts are in place)
        if any("constrained_layout not applied" in str(w.message) for w in caught):
            # the texts leave the panels no room at the phone's width (long tick labels
            # beside a bar chart, say): no layout to show; the page scrolls the desktop one
            return None
        # This figure as last drawn (its image, say), or else a copy of it drawn: a draw
        # re-runs the constrained layout, which may move things by a hair, and this
        # figure's own image must not depend on whether its phone variant was asked for.
        desktop = self if not self.stale else pickle.loads(data)
        if text_collisions(copy, draw=False) > text_collisions(desktop, draw=desktop.stale):
            return None
        return copy

    def is_phone(self) -> bool:
        """True for a phone variant (:meth:`phone`)."""
        return getattr(self, "_bpkit_phone", False)

    def css_size(self) -> tuple[int, int]:
        """The figure's width and height on the page, in CSS px."""
        w, h = self.get_size_inches()
        return round(w * CSS_PX_PER_INCH), round(h * CSS_PX_PER_INCH)

    def image(self) -> tuple[str, bytes]:
        """``(mime type, bytes)``: the SVG, or the 2x PNG when the SVG would be heavy."""
        svg = self.svg()
        if len(svg) <= SVG_MAX_BYTES:
            return "image/svg+xml", svg
        return "image/png", self.png()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> tuple[dict, dict]:
        _defer_to_the_bundle()
        width, height = self.css_size()
        mime, data = self.image()
        if mime == "image/svg+xml":
            bundle, metadata = {mime: data.decode("utf-8")}, {}
        else:
            bundle = {mime: base64.b64encode(data).decode("ascii")}
            metadata = {mime: {"width": width, "height": height}}
        if book_build():
            # The phone variant rides along for the book's extension (book/bpkit_book.py),
            # which serves it to narrow screens in a <picture> around this image. Only in
            # the book build: JupyterLab and nbval see the image alone.
            phone = self.phone()
            bundle["text/html"] = PHONE_SCROLL_MARKER if phone is None else phone.phone_source()
        return bundle, metadata

    def phone_source(self) -> str:
        """This figure as the ``<source>`` of a ``<picture>`` shown on phones
        (:data:`PHONE_MEDIA`): its image as a ``data:`` URL (the book's extension writes it
        to a file), its size in CSS px."""
        mime, data = self.image()
        width, height = self.css_size()
        url = f"data:{mime};base64," + base64.b64encode(data).decode("ascii")
        return (
            f'<source class="{PHONE_SOURCE_CLASS}" media="{PHONE_MEDIA}" srcset="{url}" '
            f'width="{width}" height="{height}">'
        )


#: What a figure without a phone variant carries in its place (see :data:`PHONE_SCROLL_CLASS`).
PHONE_SCROLL_MARKER = f'<div class="{PHONE_SOURCE_CLASS} {PHONE_SCROLL_CLASS}"></div>'


# ---------------------------------------------------------------- the phone variant
def text_collisions(fig: Figure, tolerance_px: float = 1.0, draw: bool = True) -> int:
    """How many pairs of the figure's visible texts overlap (by more than ``tolerance_px``
    display px both ways), as it is laid out after a draw (``draw``: draw it first)."""
    from matplotlib.text import Text

    if draw:
        if isinstance(fig, BookFigure):
            fig.legible()
        fig.draw_without_rendering()
    renderer = _renderer(fig)
    undrawn = set()  # labels of ticks outside the view limits keep stale positions
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            drawn = {id(t) for tick in axis._update_ticks() for t in (tick.label1, tick.label2)}
            for tick in axis.majorTicks + axis.minorTicks:
                undrawn.update(id(t) for t in (tick.label1, tick.label2) if id(t) not in drawn)
    boxes = []
    for text in fig.findobj(Text):
        if text.get_visible() and text.get_text().strip() and id(text) not in undrawn:
            box = text.get_window_extent(renderer)
            if box.width > 1 and box.height > 1:
                boxes.append(box)
    count = 0
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            if (
                min(a.x1, b.x1) - max(a.x0, b.x0) > tolerance_px
                and min(a.y1, b.y1) - max(a.y0, b.y0) > tolerance_px
            ):
                count += 1
    return count


def to_phone(
    fig: BookFigure,
    desktop_size: Any,
    layout: dict | None = None,
    max_height_px: float | None = None,
) -> dict:
    """Lay ``fig`` out again, in place, for a phone (see :meth:`BookFigure.phone`).

    ``desktop_size`` is the (width, height) in inches the figure was drawn for. With
    ``layout`` (what this function returned for another figure drawn by the same code,
    e.g. an explorer's default frame) the figure gets that size and its axes are put
    where they were there, so that every frame of an explorer has one layout (unless a
    title here wraps onto more lines: then its own layout, in the same size).
    ``max_height_px`` caps the height by flattening the panels (an explorer's frame
    should fit on the screen with its controls). Returns the layout.
    """
    w0, h0 = (float(x) for x in desktop_size)
    # the desktop's small print becomes the phone's (a wider figure was shown shrunk)
    scale = min(1.0, COLUMN_INCHES / w0) * PHONE_SMALL_PRINT_PX / SMALL_PRINT_PX
    _scale_fonts(fig, scale, min_font_pt(w0))
    fig._bpkit_phone = True
    below = _legends_to_move(fig, w0, h0)
    cap = None if max_height_px is None else max_height_px / CSS_PX_PER_INCH
    height = _reflow(fig, w0, h0, below, cap)
    if layout is not None:
        height = layout["height"]
    fig.set_size_inches(PHONE_WIDTH_IN, height)
    if layout is not None and len(layout["boxes"]) == len(fig.axes):
        fig.set_layout_engine("none")
        for ax, box in zip(fig.axes, layout["boxes"], strict=True):
            ax.set_position(box)
        if fig._suptitle is not None and layout.get("suptitle") is not None:
            fig._suptitle.set_y(layout["suptitle"])
        _wrap_texts(fig)
        for ax, leg in below.items():
            _fit_legend(leg, ax.bbox.width)
        taller = any(
            _legend_height(leg) > layout["legend_heights"].get(k, 0.0) + 1
            for k, ax in enumerate(fig.axes)
            for leg in [below.get(ax)]
            if leg is not None
        )
        if _wrapped_lines(fig) <= layout["lines"] and not taller:
            for k, ax in enumerate(fig.axes):
                if ax in below:
                    _put_legend_below(ax, layout["legends"].get(k, 0.0))
            fig.legible()
            return layout
    fig.set_layout_engine("constrained")
    for ax in fig.axes:  # (an axes placed by hand, as an explorer does, left the layout)
        ax.set_in_layout(True)
    for leg in below.values():
        leg.set_in_layout(False)
    fig.legible().draw_without_rendering()
    if _wrap_texts(fig):
        fig.draw_without_rendering()
    offsets = {}
    if below:
        for ax, leg in below.items():
            _fit_legend(leg, ax.bbox.width)
        renderer = _renderer(fig)
        for k, ax in enumerate(fig.axes):
            if ax in below:
                # from the axes' bottom edge past its tick labels and axis label, in points
                depth = ax.bbox.y0 - ax.get_tightbbox(renderer).y0
                offsets[k] = depth * 72 / fig.dpi + 4
                _put_legend_below(ax, offsets[k])
        fig.draw_without_rendering()
        for _ in range(3):  # the legends took room from their panels: wrap again
            if not _wrap_texts(fig):
                break
            fig.draw_without_rendering()
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    if legends + fig.legends:
        height = _room_for_legends(fig, legends + fig.legends, height)
    # Keep this layout: another pass of the constrained layout (when the image is saved)
    # moves legends anchored under their panels again, out of the figure.
    fig.set_layout_engine("none")
    fig.legible()
    return {
        "boxes": [ax.get_position() for ax in fig.axes],
        "legends": offsets,
        "legend_heights": {
            k: _legend_height(below[ax]) for k, ax in enumerate(fig.axes) if ax in below
        },
        "lines": _wrapped_lines(fig),
        "height": height,
        "suptitle": None if fig._suptitle is None else fig._suptitle.get_position()[1],
    }


def _legend_height(leg: Any) -> float:
    return leg.get_window_extent(_renderer(leg.figure)).height


def _wrapped_lines(fig: Figure) -> int:
    """How many lines the figure's titles and axis labels take together."""
    texts = [fig._suptitle] if fig._suptitle is not None else []
    for ax in fig.axes:
        texts += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label]
    return sum(t.get_text().count("\n") + 1 for t in texts if t.get_text())


def _legends_to_move(fig: Figure, w0: float, h0: float) -> dict[Any, Any]:
    """The legends that would hide too much of a phone-sized panel (over an eighth of it,
    or placed outside it to the right), by axes: they go below their panel."""
    renderer = _renderer(fig)
    cols = max(1, _columns(fig))
    moved = {}
    for ax in fig.axes:
        leg = ax.get_legend()
        if leg is None or not leg.get_visible():
            continue
        anchor = leg.get_bbox_to_anchor().transformed(ax.transAxes.inverted())
        outside = anchor.x0 >= 0.99 or (anchor.x1 > 1.01 and anchor.width < 0.2)
        size = leg.get_window_extent(renderer)
        # the plotting area of the panel on a phone, roughly (display px at fig.dpi)
        area = (
            max(PHONE_WIDTH_IN / min(cols, 2) - 0.6, 1.0)
            * max(PHONE_WIDTH_IN * min(max(h0 / w0, 0.5), 1.1) - 0.2, 0.8)
            * fig.dpi**2
        )
        if outside or size.width * size.height > area / 8:
            moved[ax] = _legend_in_columns(ax, leg, PHONE_WIDTH_IN * fig.dpi, renderer)
    return moved


def _legend_in_columns(ax: Any, leg: Any, room: float, renderer: Any) -> Any:
    """The legend of ``ax`` again, in as many columns as fit in ``room`` display px (a
    legend under its panel is then a line or two, not a tall list)."""
    texts = leg.get_texts()
    if len(texts) < 2:
        return leg
    size = texts[0].get_fontsize()
    em = size * ax.figure.dpi / 72
    # each column: the handle, the gap to its text, the text, the space between columns
    column = (
        max(t.get_window_extent(renderer).width for t in texts)
        + (leg.handlelength + leg.handletextpad + leg.columnspacing) * em
    )
    n = max(1, min(len(texts), int((room - 2 * leg.borderpad * em) // column)))
    if n <= 1:
        return leg
    rows = -(-len(texts) // n)
    n = -(-len(texts) // rows)  # as few columns as keep that many rows
    title = leg.get_title().get_text()
    new = ax.legend(
        leg.legend_handles,
        [t.get_text() for t in texts],
        ncols=n,
        fontsize=size,
        title=title or None,
        title_fontsize=leg.get_title().get_fontsize() if title else None,
        frameon=leg.get_frame_on(),
        markerscale=leg.markerscale,
        handlelength=leg.handlelength,
    )
    for old, text in zip(texts, new.get_texts(), strict=True):
        text.set_color(old.get_color())
    return new


def _fit_legend(leg: Any, room: float) -> None:
    """Wrap the labels of ``leg`` so that it is no wider than ``room`` display px (a legend
    under a panel wider than the panel would make the layout shrink the panel)."""
    texts = [t for t in leg.get_texts() if t.get_text()]
    if not texts:
        return
    renderer = _renderer(leg.figure)
    em = texts[0].get_fontsize() * leg.figure.dpi / 72
    columns = max(1, getattr(leg, "_ncols", 1))
    handle = (leg.handlelength + leg.handletextpad + leg.columnspacing) * em
    per_column = (room - 2 * leg.borderpad * em) / columns - handle
    for text in texts:
        _wrap_to(text, max(per_column, 4 * em), renderer)


def _room_for_legends(fig: Figure, legends: list, height: float) -> float:
    """Make ``fig`` taller until every legend under a panel is inside it (wrapped labels
    can make a legend taller than the room first set aside); return the new height."""
    for _ in range(3):
        renderer = _renderer(fig)
        lowest = min(leg.get_window_extent(renderer).y0 for leg in legends)
        if lowest >= 1:
            break
        height += (2 - lowest) / fig.dpi
        fig.set_size_inches(PHONE_WIDTH_IN, height)
        fig.draw_without_rendering()
    return height


def _put_legend_below(ax: Any, depth_pt: float) -> None:
    """Move the legend of ``ax`` under its panel, ``depth_pt`` below the axes' edge."""
    from matplotlib.transforms import offset_copy

    leg = ax.get_legend()
    leg.set_loc("upper center")
    shifted = offset_copy(ax.transAxes, fig=ax.figure, y=-depth_pt, units="points")
    leg.set_bbox_to_anchor((0.5, 0.0), transform=shifted)
    leg.set_in_layout(True)


def _scale_fonts(fig: Figure, scale: float, floor_pt: float) -> None:
    """Every text of ``fig`` at ``scale`` times its size (raised to ``floor_pt`` first)."""
    from matplotlib.text import Text

    ticks: set[int] = set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis, getattr(ax, "zaxis", None)):
            if axis is None:
                continue
            for which, made in (("major", axis.majorTicks), ("minor", axis.minorTicks)):
                labels = [t.label1 for t in made] + [t.label2 for t in made]
                ticks.update(id(t) for t in labels)
                if labels:
                    size = max(labels[0].get_fontsize(), floor_pt) * scale
                    axis.set_tick_params(which=which, labelsize=size)
                    for t in labels:
                        t.set_fontsize(size)
    for text in fig.findobj(Text):
        if id(text) not in ticks and text.get_text():
            text.set_fontsize(max(text.get_fontsize(), floor_pt) * scale)


def _reflow(
    fig: Figure, w0: float, h0: float, below: dict[Any, Any], cap: float | None = None
) -> float:
    """Put the panels of ``fig`` in as many columns as a phone has room for; return the
    figure's new height (inches), with room for the legends in ``below`` under their panel,
    at most ``cap`` inches if that leaves each plot at least 40% as tall as it is wide."""
    panels = [ax for ax in fig.axes if ax.get_subplotspec() is not None]
    grids = {id(ax.get_subplotspec().get_gridspec()) for ax in panels}
    width = PHONE_WIDTH_IN
    renderer = _renderer(fig)
    extra = {
        ax: leg.get_window_extent(renderer).height / fig.dpi + 0.1 for ax, leg in below.items()
    }
    if len(grids) != 1:  # no grid, or nested ones: keep the arrangement, narrower
        return width * min(max(h0 / w0, 0.5), 1.6) + 0.45 + sum(extra.values())
    gs = panels[0].get_subplotspec().get_gridspec()
    nrows, ncols = gs.get_geometry()
    shown = min(1.0, COLUMN_INCHES / w0)  # the desktop page shrinks a wide figure
    cell_px = w0 * CSS_PX_PER_INCH * shown / ncols
    # as many columns as keep a panel at least 80% as wide as on the desktop page
    cols = max(1, min(ncols, int(PHONE_WIDTH_PX // (0.8 * cell_px))))
    ratios = gs.get_height_ratios() or [1] * nrows
    places = []  # (row, column, spans the whole row, the panel's desktop aspect, axes)
    for ax in panels:
        ss = ax.get_subplotspec()
        panel_aspect = (h0 * sum(ratios[ss.rowspan.start : ss.rowspan.stop]) / sum(ratios)) / (
            w0 * len(ss.colspan) / ncols
        )
        places.append(
            [ss.rowspan.start, ss.colspan.start, len(ss.colspan) == ncols, panel_aspect, ax]
        )
    if cols < ncols:
        # reading order; a panel as wide as the grid keeps a row of its own
        places.sort(key=lambda p: (p[0], p[1]))
        row, col = 0, 0
        for place in places:
            full = place[2]
            if (full or col >= cols) and col:
                row, col = row + 1, 0
            place[0], place[1] = row, col
            row, col = (row + 1, 0) if full else (row, col + 1)
    else:
        cols = ncols
    n_rows = max(p[0] for p in places) + 1
    plots, rest = [0.0] * n_rows, [0.0] * n_rows  # plotting areas; titles, labels, legends
    fixed = [False] * n_rows  # a plot of fixed aspect (an image) cannot be flattened
    for r, _, full, panel_aspect, ax in places:
        cell = width if full else width / cols
        plot, decor, is_fixed = _panel_height(fig, ax, cell, panel_aspect)
        if plot + decor + extra.get(ax, 0) > plots[r] + rest[r]:
            plots[r], rest[r], fixed[r] = plot, decor + extra.get(ax, 0), is_fixed
    if cap is not None and sum(plots) + sum(rest) > cap:
        free = sum(p for p, f in zip(plots, fixed, strict=True) if not f)
        squeeze = max((cap - (sum(plots) - free) - sum(rest)) / max(free, 1e-9), 0.0)
        plots = [
            p if f else max(p * squeeze, min(p, 0.4 * width / cols))
            for p, f in zip(plots, fixed, strict=True)
        ]
    heights = [max(p + d, 0.3) for p, d in zip(plots, rest, strict=True)]
    grid = fig.add_gridspec(n_rows, cols, height_ratios=heights)
    for r, c, full, _, ax in places:
        ax.set_subplotspec(grid[r, :] if full else grid[r, c])
        for other in ax.get_shared_y_axes().get_siblings(ax):
            if other is not ax:  # a row that shared one y axis: each panel labels its own
                ax.yaxis.set_tick_params(which="both", labelleft=True)
    return sum(heights)


#: The height of one line of the phone variant's small print, with its padding (inches).
_LINE_IN = 1.45 * PHONE_MIN_FONT_PT / 72


def _panel_height(
    fig: Figure, ax: Any, cell: float, desktop_aspect: float
) -> tuple[float, float, bool]:
    """The height (inches) a panel ``cell`` inches wide needs on a phone: its plotting area,
    as tall as the panel was on the desktop relative to its width (or as its fixed aspect
    says, for images and maps), and its title, tick labels and axis labels; and whether
    the aspect is fixed."""
    if not ax.axison:
        across, down = 0.1, 0.1 + (_LINE_IN + 0.05 if ax.get_title() else 0)
    else:
        x_labels = bool(len(ax.get_xticks())) and ax.xaxis._major_tick_kw.get("label1On", True)
        y_labels = bool(len(ax.get_yticks())) and ax.yaxis._major_tick_kw.get("label1On", True)
        lines = lambda t: t.count("\n") + 1 if t else 0  # noqa: E731
        down = 0.12 + _LINE_IN * (
            lines(ax.get_title()) + lines(ax.get_xlabel()) + (1 if x_labels else 0)
        )
        across = 0.12 + _LINE_IN * lines(ax.get_ylabel())
        if y_labels:  # as wide as the widest tick label
            renderer = _renderer(fig)
            widths = [t.get_window_extent(renderer).width for t in ax.get_yticklabels()]
            across += max(widths, default=0) / fig.dpi + 0.08
    if any(ax in getattr(c, "_colorbar_info", {}).get("parents", ()) for c in fig.axes):
        across += 0.75  # a colorbar beside it
    plot_w = max(cell - across, 0.5)
    aspect = ax.get_aspect()
    if isinstance(aspect, int | float):  # a fixed aspect (imshow, maps): its own shape
        return plot_w * float(aspect) * ax.get_data_ratio(), down, True
    return plot_w * min(max(desktop_aspect, 0.55), 1.0), down, False


def _wrap_texts(fig: Figure) -> bool:
    """Wrap every title and axis label wider than its panel; True if one was wrapped."""
    renderer = _renderer(fig)
    changed = False
    for ax in fig.axes:
        box = ax.get_position()
        room_w = box.width * fig.bbox.width
        room_h = box.height * fig.bbox.height
        # a title is centred on its panel: room as far as the nearer edge of the figure
        # (or of the panel's column, when there are several)
        centre = (box.x0 + box.width / 2) * fig.bbox.width
        column = fig.bbox.width / max(1, _phone_columns(ax))
        left = centre - (centre // column) * column
        cell_w = min(1.15 * room_w, max(room_w, 2 * min(left, column - left) - 4))
        for text, room in (
            (ax.title, cell_w),
            (ax._left_title, cell_w),
            (ax._right_title, cell_w),
            (ax.xaxis.label, cell_w),
            (ax.yaxis.label, min(1.3 * room_h, fig.bbox.height - 4)),
        ):
            changed |= _wrap_to(text, room, renderer)
    if fig._suptitle is not None:
        changed |= _wrap_to(fig._suptitle, 0.96 * fig.bbox.width, renderer)
    return changed


def _phone_columns(ax: Any) -> int:
    ss = ax.get_subplotspec()
    return 1 if ss is None else ss.get_gridspec().get_geometry()[1]


def _columns(fig: Figure) -> int:
    specs = [ax.get_subplotspec() for ax in fig.axes if ax.get_subplotspec() is not None]
    return max((s.get_gridspec().get_geometry()[1] for s in specs), default=1)


def _renderer(fig: Figure) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    return canvas.get_renderer()


def _wrap_to(text: Any, room: float, renderer: Any) -> bool:
    """Break ``text`` into lines no wider than ``room`` display px (never inside $...$)."""
    s = text.get_text()
    if not s or not text.get_visible():
        return False
    vertical = text.get_rotation() % 180 == 90
    extent = text.get_window_extent(renderer)
    size = extent.height if vertical else extent.width
    if size <= room:
        return False
    words = _words(s.replace("\n", " "))
    longest = max(len(line) for line in s.split("\n"))  # the line that sets the width
    chars = max(8, int(longest * room / size))
    for _ in range(4):
        lines, line = [], ""
        for word in words:
            if line and len(line) + 1 + len(word) > chars:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        lines.append(line)
        text.set_text("\n".join(lines))
        extent = text.get_window_extent(renderer)
        if (extent.height if vertical else extent.width) <= room or chars <= 8:
            break
        chars = max(8, int(chars * 0.85))
    return True


def _words(s: str) -> list[str]:
    """The words of ``s``; a $...$ formula is one word."""
    words, current, maths = [], "", False
    for ch in s:
        if ch == "$":
            maths = not maths
        if ch == " " and not maths:
            if current:
                words.append(current)
            current = ""
        else:
            current += ch
    if current:
        words.append(current)
    return words


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
