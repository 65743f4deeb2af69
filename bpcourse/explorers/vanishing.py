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


def log10_window(values: np.ndarray, min_decades: int = 3) -> tuple[int, int]:
    """Whole-decade y limits that hold every value, at least ``min_decades`` decades tall.

    The explorer's axis follows the frame: a fixed axis tall enough for a vanishing
    sigmoid (a dozen decades) would flatten a 50-fold explosion into a level line.
    """
    logs = np.log10(np.asarray(values, dtype=float))
    lo, hi = int(np.floor(logs.min())), int(np.ceil(logs.max()))
    while hi - lo < min_decades:  # grow evenly on both sides
        lo, hi = (lo - 1, hi) if (hi - lo) % 2 else (lo, hi + 1)
    return lo, hi


def render_grad_norms(fig, data: dict[str, Any], params: dict[str, Any]) -> None:
    """Plot log10 of each layer's gradient norm, on an axis that fits this frame.

    The y axis spans whole decades around this frame's norms (:func:`log10_window`), so
    a growth or a decay of a few fold is visible; the dashed line marks the last layer's
    norm, the reference the caption's ratio is measured against. (A linear axis over
    log10 values with ``1e{k}`` tick labels reads like a log axis and draws about twice as
    fast, which matters for 60 precomputed frames.)
    """
    from bpcourse.plotting import PALETTE, add_axes

    # fixed margins instead of constrained layout: same look, a third less time per frame
    fig.set_layout_engine(None)
    fig.subplots_adjust(left=0.15, right=0.97, bottom=0.15, top=0.9)
    ax = add_axes(fig, 1, 1, 1)
    norms = data["norms"]
    layers = np.arange(1, data["depth"] + 1)
    colour = {"sigmoid": "vermillion", "tanh": "blue", "relu": "green"}[data["activation"]]
    lo, hi = log10_window(norms)
    ax.axhspan(max(lo, -1), min(hi, 1), color=PALETTE["sky"], alpha=0.15, lw=0)
    ax.axhline(np.log10(norms[-1]), color=PALETTE["black"], lw=0.8, ls="--")
    ax.plot(layers, np.log10(norms), "o-", color=PALETTE[colour])
    ax.set_ylim(lo, hi)
    step = max(1, int(np.ceil((hi - lo) / 6)))
    ticks = np.arange(lo, hi + 1, step)
    ax.set_yticks(ticks, ["1" if k == 0 else f"1e{k}" for k in ticks])
    ax.set_xlim(0.5, data["depth"] + 0.5)
    ax.set_xticks(layers[:: max(1, data["depth"] // 6)])
    ax.set_xlabel("layer (1 = nearest the input)")
    ax.set_ylabel("gradient norm ||dL/dW|| (log scale)")
    ax.set_title(
        f"{data['depth']} layers, {data['activation']}, gain {data['gain']:g}: "
        f"first/last = {data['ratio']:.2g}"
    )
    ax.grid(True, alpha=0.3)


def describe_trend(ratio: float, depth: int) -> str:
    """The first/last ratio in words, with the average factor per layer.

    Within a factor of 2 either way the gradient "keeps roughly its size"; otherwise the
    caption says how many fold it grows or shrinks toward the input and by how much per
    layer on average (the ``depth - 1``-th root of the ratio), and beyond a factor of 10
    it names the trend: exploding or vanishing toward the input.
    """
    per_layer = f"about {ratio ** (1.0 / (depth - 1)):.2f} times per layer"
    if ratio > 2:
        words = (
            f"the gradient grows {ratio:.2g}-fold from the last layer to the first ({per_layer})"
        )
        return words + (": it explodes toward the input" if ratio > 10 else "")
    if ratio < 0.5:
        words = (
            f"the gradient shrinks to {ratio:.2g} times the last layer's by the first layer "
            f"({per_layer})"
        )
        return words + (": it vanishes toward the input" if ratio < 0.1 else "")
    return "the gradient keeps roughly its size through the layers (within a factor of 2)"


def describe_grad_norms(data: dict[str, Any], params: dict[str, Any]) -> str:
    """Caption of one frame: the two end norms, the trend toward the input, and the overall size.

    The trend reads the first/last ratio (:func:`describe_trend`); every frame whose norms
    all lie below 1e-3 or above 1e3 says so as well, which is what a wrong weight scale
    does to ReLU (the profile can be level while every layer's gradient is tiny or huge).
    """
    norms, ratio = data["norms"], data["ratio"]
    trend = describe_trend(ratio, data["depth"])
    if np.min(norms) > 1e3:
        trend += "; and every norm is huge (above 1e3): the whole gradient explodes"
    elif np.max(norms) < 1e-3:
        trend += "; and every norm is tiny (below 1e-3): the whole gradient vanishes"
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
            "gain": Slider(list(GAINS), "weight gain α (std = α/√n_in)", default=1.0),
        },
        describe=describe_grad_norms,
        title="Per-layer gradient norms of a deep network",
        figsize=(6.0, 3.4),
    )
