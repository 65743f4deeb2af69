"""Shared figure conventions: a colour-blind-safe palette and a figure factory.

Figures are made with ``matplotlib.figure.Figure`` (not ``pyplot``), so drawing one
changes no global state; a notebook shows one by leaving it as the cell's last value
or with ``IPython.display.display(fig)``.
"""

from __future__ import annotations

from typing import Any

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


def new_figure(width: float = 6.0, height: float = 4.0, dpi: int = 100, **kwargs: Any):
    """A detached matplotlib ``Figure`` using the book's palette (imports matplotlib lazily)."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=dpi, layout="constrained", **kwargs)


def add_axes(fig, *args: Any, **kwargs: Any):
    """``fig.add_subplot`` with the palette as the colour cycle."""
    from cycler import cycler

    ax = fig.add_subplot(*args, **kwargs)
    ax.set_prop_cycle(cycler(color=COLORS))
    return ax
