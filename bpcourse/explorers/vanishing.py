r"""Chapter 6 explorer: per-layer gradient norms of a deep network.

:func:`deep_network` builds the chapter's test subject: ``depth`` dense layers of width
``width`` with one activation, weights drawn as :math:`W \sim \mathcal N(0, g^2/n_{in})`
(``g`` is the *gain*: ``g = 1`` is LeCun/Xavier-like scaling for a square layer,
``g = \sqrt 2`` is He), optionally wrapped in residual blocks or followed by LayerNorm.
:func:`compute_grad_norms` runs one forward and one backward pass on a fixed random
batch and returns :math:`\lVert dW_\ell\rVert_F` for every layer, input side first.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bpcourse.diagnostics import layer_grad_norms
from bpcourse.widgets import Explorer, Slider
from bpkit.layers import Activation, Dense, Layer
from bpkit.losses import mse_grad
from bpkit.model import Sequential
from bpkit.normalization import LayerNorm
from bpkit.residual import Residual

ACTIVATIONS = ("sigmoid", "tanh", "relu")
DEPTHS = (3, 5, 10, 20)
GAINS = (0.5, 1.0, 1.41, 2.0, 3.0)
LOG10_RANGE = (-20, 12)  # fixed y-axis of the explorer, in decades


def deep_network(
    depth: int,
    activation: str,
    gain: float,
    rng: np.random.Generator,
    width: int = 32,
    n_in: int = 8,
    n_out: int = 1,
    residual: bool = False,
    norm: bool = False,
) -> Sequential:
    r"""``depth`` Dense layers: ``depth - 1`` hidden ones with ``activation``, then a linear output.

    Every weight matrix is :math:`\mathcal N(0, \text{gain}^2 / n_{in})`; biases start at 0.
    ``norm=True`` puts a :class:`~bpkit.normalization.LayerNorm` between each hidden Dense
    and its activation; ``residual=True`` wraps each hidden block after the first (whose
    input and output widths differ) as ``X + block(X)``.
    """
    if not isinstance(depth, int | np.integer) or depth < 2:
        raise ValueError(
            f"depth must be a whole number >= 2 (a hidden and an output layer); got {depth!r}"
        )
    if activation not in ACTIVATIONS:
        valid = ", ".join(repr(a) for a in ACTIVATIONS)
        raise ValueError(f"unknown activation {activation!r}; choose one of {valid}")
    if not gain > 0:
        raise ValueError(f"gain must be positive; got {gain!r}")
    layers: list[Layer] = []
    for ell in range(depth - 1):
        fan_in = n_in if ell == 0 else width
        block: list[Layer] = [
            Dense(fan_in, width, init="normal", scale=gain / np.sqrt(fan_in), rng=rng)
        ]
        if norm:
            block.append(LayerNorm(width))
        block.append(Activation(activation))
        if residual and ell > 0:
            layers.append(Residual(Sequential(*block)))
        else:
            layers.extend(block)
    layers.append(Dense(width, n_out, init="normal", scale=gain / np.sqrt(width), rng=rng))
    return Sequential(*layers)


def probe_batch(seed: int = 0, n: int = 64, n_in: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """A fixed random batch: inputs ``(n, n_in)`` and regression targets ``(n, 1)``, both N(0, 1)."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, n_in)), rng.standard_normal((n, 1))


def grad_norms(model: Sequential, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """One forward pass, the MSE gradient, one backward pass: each Dense layer's ``||dW||``."""
    out = model.forward(X)
    model.backward(mse_grad(out, y))
    return np.array(layer_grad_norms(model))


def compute_grad_norms(
    depth: int = 10,
    activation: str = "sigmoid",
    gain: float = 1.0,
    seed: int = 0,
    residual: bool = False,
    norm: bool = False,
) -> dict[str, Any]:
    """Per-layer weight-gradient norms of :func:`deep_network` on :func:`probe_batch`.

    Returns ``{"norms": (depth,) array, "ratio": first / last, "depth", "activation", "gain"}``.
    """
    X, y = probe_batch(seed)
    model = deep_network(
        depth, activation, gain, np.random.default_rng(seed + 1), residual=residual, norm=norm
    )
    norms = grad_norms(model, X, y)
    return {
        "norms": norms,
        "ratio": float(norms[0] / norms[-1]),
        "depth": int(depth),
        "activation": activation,
        "gain": float(gain),
    }


def render_grad_norms(fig, data: dict[str, Any], params: dict[str, Any]) -> None:
    """Plot log10 of each layer's gradient norm on fixed axes, so frames compare at a glance.

    (A linear axis over log10 values with ``1e{k}`` tick labels reads like a log axis and
    draws about twice as fast, which matters for 60 precomputed frames.)
    """
    from bpcourse.plotting import PALETTE, add_axes

    # fixed margins instead of constrained layout: same look, a third less time per frame
    fig.set_layout_engine(None)
    fig.subplots_adjust(left=0.15, right=0.97, bottom=0.15, top=0.9)
    ax = add_axes(fig, 1, 1, 1)
    layers = np.arange(1, data["depth"] + 1)
    colour = {"sigmoid": "vermillion", "tanh": "blue", "relu": "green"}[data["activation"]]
    ax.axhspan(-1, 1, color=PALETTE["sky"], alpha=0.15, lw=0)
    ax.plot(layers, np.log10(data["norms"]), "o-", color=PALETTE[colour])
    ax.set_ylim(*LOG10_RANGE)
    ticks = np.arange(LOG10_RANGE[0], LOG10_RANGE[1] + 1, 4)
    ax.set_yticks(ticks, [f"1e{k}" for k in ticks])
    ax.set_xlim(0.5, data["depth"] + 0.5)
    ax.set_xticks(layers[:: max(1, data["depth"] // 6)])
    ax.set_xlabel("layer (1 = nearest the input)")
    ax.set_ylabel("gradient norm ||dL/dW|| (log scale)")
    ax.set_title(
        f"{data['depth']} layers, {data['activation']}, gain {data['gain']:g}: "
        f"first/last = {data['ratio']:.1e}"
    )
    ax.grid(True, alpha=0.3)


def describe_grad_norms(data: dict[str, Any], params: dict[str, Any]) -> str:
    """Caption of one frame: the two end norms, the trend toward the input, and the overall size.

    The trend reads the first/last ratio (below 0.1: vanishing toward the input; above 10:
    exploding toward the input); a level profile is still called tiny or huge when every
    norm lies below 1e-3 or above 1e3, which is what a wrong weight scale does to ReLU.
    """
    norms, ratio = data["norms"], data["ratio"]
    if ratio < 0.1:
        trend = "the gradient vanishes toward the input"
    elif ratio > 10:
        trend = "the gradient explodes toward the input, growing layer after layer"
    elif np.max(norms) > 1e3:
        trend = "the profile is level, but every norm is huge: the whole gradient explodes"
    elif np.max(norms) < 1e-3:
        trend = "the profile is level, but every norm is tiny: the whole gradient vanishes"
    else:
        trend = "the gradient keeps roughly its size through the layers"
    return (
        f"Per-layer gradient norms, log scale, for {data['depth']} {data['activation']} layers "
        f"with weight gain {data['gain']:g}: {norms[-1]:.2g} at the last layer and "
        f"{norms[0]:.2g} at the first, a ratio of {ratio:.2g}; {trend}."
    )


def grad_norms_explorer() -> Explorer:
    """Sliders for depth, activation and weight gain (4 x 3 x 5 = 60 precomputed frames)."""
    return Explorer(
        compute=lambda depth, activation, gain: compute_grad_norms(depth, activation, gain),
        render=render_grad_norms,
        sliders={
            "depth": Slider(list(DEPTHS), "depth (layers)", default=10),
            "activation": Slider(list(ACTIVATIONS), "activation", default="sigmoid"),
            "gain": Slider(list(GAINS), "weight gain g (std = g/√n_in)", default=1.0),
        },
        describe=describe_grad_norms,
        title="Per-layer gradient norms of a deep network",
        figsize=(6.0, 3.4),
    )
