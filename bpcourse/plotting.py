"""Shared figure conventions: a colour-blind-safe palette and a figure that displays itself.

Figures are ``matplotlib.figure.Figure`` objects made without ``pyplot``, so drawing one
changes no global state. :class:`BookFigure` adds ``_repr_png_``, so a figure left as a
cell's last value is shown by Jupyter and by the book with no backend set up.
"""

from __future__ import annotations

import io
from typing import Any

from cycler import cycler
from matplotlib.figure import Figure

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
COLORS = [PALETTE[k] for k in ("blue", "orange", "green", "vermillion", "sky", "purple", "black")]


class BookFigure(Figure):
    """A ``Figure`` that renders itself as PNG in a notebook."""

    def _repr_png_(self) -> bytes:
        buf = io.BytesIO()
        self.savefig(buf, format="png")
        return buf.getvalue()


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
