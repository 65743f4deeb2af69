r"""Every partial derivative backprop returns is a slope: move one weight and watch.

The network is the chapter's 3-2-1 sigmoid network on one example, with the loss
:math:`L = \frac12 (y - t)^2`. One slider picks a parameter, the other moves it away from
its value in the chapter while every other parameter stays put. The figure draws the loss
along that line and the tangent whose slope is the backprop gradient
:math:`\partial L/\partial\theta` at the current point (checked against a central
difference).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bpcourse.widgets import Explorer, Slider
from bpkit.layers import Activation, Array, Dense
from bpkit.losses import mse, mse_grad
from bpkit.model import Sequential

# (layer index in the Sequential, parameter name, entry)
SLICES: dict[str, tuple[int, str, tuple[int, ...]]] = {
    "W1[0,0]": (0, "W", (0, 0)),
    "W2[0,1]": (2, "W", (0, 1)),
    "b2[0]": (2, "b", (0,)),
}


def chapter_params() -> dict[str, Array]:
    """The numbers of the chapter's worked example: W1 (2, 3), b1 (2,), W2 (1, 2), b2 (1,)."""
    return {
        "W1": np.array([[0.2, 0.4, -0.5], [-0.3, 0.1, 0.2]]),
        "b1": np.array([-0.4, 0.2]),
        "W2": np.array([[-0.3, -0.2]]),
        "b2": np.array([0.1]),
    }


def chapter_example() -> tuple[Array, Array]:
    """The chapter's single example: ``x`` of shape (1, 3) and target ``t`` of shape (1, 1)."""
    return np.array([[1.0, 0.0, 1.0]]), np.array([[1.0]])


def chapter_network(params: dict[str, Array] | None = None) -> Sequential:
    """The 3-2-1 sigmoid network as a bpkit ``Sequential``, holding copies of ``params``."""
    p = chapter_params() if params is None else params
    model = Sequential(
        Dense(3, 2, init="zero"),
        Activation("sigmoid"),
        Dense(2, 1, init="zero"),
        Activation("sigmoid"),
    )
    model[0].W[...], model[0].b[...] = p["W1"], p["b1"]
    model[2].W[...], model[2].b[...] = p["W2"], p["b2"]
    return model


def _entry(model: Sequential, param: str) -> tuple[Array, Array, tuple[int, ...]]:
    try:
        layer, name, idx = SLICES[param]
    except KeyError:
        raise ValueError(f"unknown parameter {param!r}; choose one of {list(SLICES)}") from None
    dense = model[layer]
    return (dense.W, dense.dW, idx) if name == "W" else (dense.b, dense.db, idx)


def compute_slope(param: str = "W2[0,1]", offset: float = 0.0) -> dict[str, Any]:
    """Loss along one parameter, and backprop's slope at ``chapter value + offset``."""
    model = chapter_network()
    x, t = chapter_example()
    value, grad, idx = _entry(model, param)
    start = float(value[idx])
    theta = start + offset

    def loss_at(v: float) -> float:
        value[idx] = v
        return mse(model.forward(x), t, reduction="half_mean")

    grid = start + np.linspace(-4.0, 4.0, 81)
    curve = np.array([loss_at(v) for v in grid])
    h = 1e-6
    numeric = (loss_at(theta + h) - loss_at(theta - h)) / (2 * h)
    L = loss_at(theta)
    y = model.forward(x)
    model.backward(mse_grad(y, t, reduction="half_mean"))  # the backward pass fills dW, db
    return {
        "param": param,
        "start": start,
        "theta": theta,
        "loss": L,
        "grad": float(grad[idx]),
        "numeric": float(numeric),
        "grid": grid,
        "curve": curve,
    }


def render_slope(fig: Any, data: dict[str, Any], params: dict[str, Any]) -> None:
    from bpcourse.plotting import PALETTE, add_axes

    ax = add_axes(fig)
    p, th, L, g = data["param"], data["theta"], data["loss"], data["grad"]
    ax.plot(data["grid"], data["curve"], color=PALETTE["blue"], label=f"loss L as {p} moves")
    span = np.array([-0.8, 0.8])
    ax.plot(
        th + span,
        L + g * span,
        color=PALETTE["vermillion"],
        lw=2.5,
        label=f"tangent, slope = backprop's ∂L/∂{p} = {g:.4f}",
    )
    ax.plot([th], [L], "o", color=PALETTE["black"], label="current value")
    ax.axvline(data["start"], color=PALETTE["black"], lw=0.8, ls=":", label="value in the chapter")
    lo, hi = float(data["curve"].min()), float(data["curve"].max())
    ax.set_ylim(lo - 0.1 * (hi - lo + 1e-3), hi + 0.1 * (hi - lo + 1e-3))
    ax.set_xlabel(f"value of {p} (all other parameters fixed)")
    ax.set_ylabel("loss L = ½(y − t)²")
    ax.set_title(f"Backprop's gradient is the slope of the loss along {p}")
    ax.legend(loc="best", fontsize=8)


def describe_slope(data: dict[str, Any], params: dict[str, Any]) -> str:
    p = data["param"]
    return (
        f"With {p} = {data['theta']:.2f} the loss is {data['loss']:.4f}. Backprop gives "
        f"∂L/∂{p} = {data['grad']:.5f}, the slope of the red tangent; a central difference "
        f"gives {data['numeric']:.5f}."
    )


def slope_explorer() -> Explorer:
    """Two sliders: which parameter, and how far it moves from the chapter's value."""
    return Explorer(
        compute=compute_slope,
        render=render_slope,
        sliders={
            "param": Slider(list(SLICES), "parameter", default="W2[0,1]"),
            "offset": Slider.linspace(-3.0, 3.0, 7, "moved by", default=0.0),
        },
        describe=describe_slope,
        title="A partial derivative is a slope along one parameter",
        figsize=(6.4, 3.8),
        dpi=80,
    )
