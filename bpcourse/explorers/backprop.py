r"""Explorers for chapter 4: the worked network drawn with its numbers, its backward pass
step by step, and every partial derivative as a slope.

The networks are the chapter's worked examples, one example each, in the book's notation
(``y`` the target, ``y_hat`` the prediction, superscripts for layers):

* ``"3-2-1"``: three inputs, two sigmoid hidden units, one sigmoid output;
* ``"3-2-2"``: the same hidden layer and a second sigmoid output unit, so that a hidden
  activation reaches the loss along two paths and its gradient is the sum
  :math:`\partial L/\partial a^{(1)}_j = \sum_k \delta^{(2)}_k W^{(2)}_{kj}`.

The loss is the book's: bpkit's ``mse``, the mean over the :math:`N` output entries,
:math:`L = \frac1N \sum_k (\hat y_k - y_k)^2` (:math:`N = 1` or 2 here).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bpcourse.widgets import Explorer, Slider
from bpkit.activations import sigmoid, sigmoid_grad
from bpkit.layers import Activation, Array, Dense
from bpkit.losses import mse, mse_grad
from bpkit.model import Sequential

NETWORKS = ("3-2-1", "3-2-2")

# (layer index in the Sequential, parameter name, entry)
SLICES: dict[str, tuple[int, str, tuple[int, ...]]] = {
    "W1[0,0]": (0, "W", (0, 0)),
    "W2[0,1]": (2, "W", (0, 1)),
    "b2[0]": (2, "b", (0,)),
}


def _check_network(network: str) -> int:
    if network not in NETWORKS:
        raise ValueError(f"unknown network {network!r}; choose one of {NETWORKS}")
    return int(network[-1])


def chapter_params(network: str = "3-2-1") -> dict[str, Array]:
    """The numbers of a worked example: W1 (2, 3), b1 (2,), W2 (n_out, 2), b2 (n_out,).

    The 3-2-2 network keeps the 3-2-1 network's weights and adds a second output unit.
    """
    n_out = _check_network(network)
    W2 = np.array([[-0.3, -0.2], [0.5, -0.4]])[:n_out]
    b2 = np.array([0.1, -0.2])[:n_out]
    return {
        "W1": np.array([[0.2, 0.4, -0.5], [-0.3, 0.1, 0.2]]),
        "b1": np.array([-0.4, 0.2]),
        "W2": W2,
        "b2": b2,
    }


def chapter_example(network: str = "3-2-1") -> tuple[Array, Array]:
    """The single example: input ``x`` of shape (1, 3) and target ``y`` of shape (1, n_out)."""
    n_out = _check_network(network)
    return np.array([[1.0, 0.0, 1.0]]), np.array([[1.0, 0.0]])[:, :n_out]


def chapter_network(params: dict[str, Array] | None = None) -> Sequential:
    """A worked network as a bpkit ``Sequential``, holding copies of ``params``."""
    p = chapter_params() if params is None else params
    n_out = p["W2"].shape[0]
    model = Sequential(
        Dense(3, 2, init="zero"),
        Activation("sigmoid"),
        Dense(2, n_out, init="zero"),
        Activation("sigmoid"),
    )
    model[0].W[...], model[0].b[...] = p["W1"], p["b1"]
    model[2].W[...], model[2].b[...] = p["W2"], p["b2"]
    return model


# ------------------------------------------------------------------ the worked numbers
def network_trace(network: str = "3-2-1") -> dict[str, Any]:
    r"""Every number of the forward and backward pass of a worked example, by the index
    formulas of the chapter (one example; the loss is bpkit's ``mse``).

    Forward: :math:`z^{(1)}_j = \sum_m W^{(1)}_{jm} x_m + b^{(1)}_j`, :math:`a^{(1)} =
    \sigma(z^{(1)})`, :math:`z^{(2)}_k = \sum_j W^{(2)}_{kj} a^{(1)}_j + b^{(2)}_k`,
    :math:`\hat y = \sigma(z^{(2)})`, :math:`L = \frac1N \sum_k (\hat y_k - y_k)^2`.

    Backward: :math:`\partial L/\partial \hat y_k = \frac2N (\hat y_k - y_k)`;
    :math:`\delta^{(2)}_k = \partial L/\partial \hat y_k \cdot \sigma'(z^{(2)}_k)`;
    :math:`\partial L/\partial W^{(2)}_{kj} = \delta^{(2)}_k a^{(1)}_j`;
    :math:`\partial L/\partial a^{(1)}_j = \sum_k \delta^{(2)}_k W^{(2)}_{kj}` (``terms``
    holds the summands, one per output unit); :math:`\delta^{(1)}_j = \partial L/\partial
    a^{(1)}_j \cdot \sigma'(z^{(1)}_j)`; :math:`\partial L/\partial W^{(1)}_{jm} =
    \delta^{(1)}_j x_m`.
    """
    p = chapter_params(network)
    x_row, y_row = chapter_example(network)
    x, y = x_row[0], y_row[0]
    W1, b1, W2, b2 = p["W1"], p["b1"], p["W2"], p["b2"]
    z1 = W1 @ x + b1
    a1 = sigmoid(z1)
    z2 = W2 @ a1 + b2
    y_hat = sigmoid(z2)
    N = y.size
    loss = float(np.sum((y_hat - y) ** 2) / N)
    dL_dyhat = 2.0 * (y_hat - y) / N  # the mean over N entries
    delta2 = dL_dyhat * sigmoid_grad(z2)  # times sigma'(z2): the output deltas
    terms = delta2[:, None] * W2  # terms[k, j] = delta2_k W2_kj, one per path a_j -> z2_k
    dL_da1 = terms.sum(axis=0)  # the sum over the output units k
    delta1 = dL_da1 * sigmoid_grad(z1)  # times sigma'(z1): the hidden deltas
    return {
        "network": network,
        "params": p,
        "x": x,
        "y": y,
        "z1": z1,
        "a1": a1,
        "z2": z2,
        "y_hat": y_hat,
        "N": N,
        "loss": loss,
        "dL_dyhat": dL_dyhat,
        "delta2": delta2,
        "dW2": np.outer(delta2, a1),  # delta of the unit fed, times the input it multiplies
        "db2": delta2,
        "terms": terms,
        "dL_da1": dL_da1,
        "delta1": delta1,
        "dW1": np.outer(delta1, x),
        "db1": delta1,
    }


# ------------------------------------------------------------------ drawing the network
STEPS = (
    "forward pass",
    "loss gradient",
    "output deltas",
    "output-layer gradients",
    "back to the hidden layer",
    "hidden deltas",
    "first-layer gradients",
)


def _sub(i: int) -> str:
    return "".join("₀₁₂₃₄₅₆₇₈₉"[int(c)] for c in str(i))


def _num(v: float) -> str:
    if v == 0:
        return "0"  # also for -0.0
    return f"{v:.3g}" if abs(v) >= 1e-3 else f"{v:.2e}"


def draw_network(ax: Any, trace: dict[str, Any], step: int = 0, fontsize: float = 9.0) -> None:
    """Draw a worked network on ``ax`` as the backward pass stands after ``step``.

    Nodes show their forward values (and, once computed, ∂L/∂ŷ, ∂L/∂a and the deltas);
    every edge shows its weight ``w`` and, once computed, its gradient ``g``, which is the
    delta of the unit it feeds times the value at its tail. What the current step added
    is drawn in vermillion.
    """
    from matplotlib.patches import FancyBboxPatch

    from bpcourse.plotting import PALETTE

    if not 0 <= step < len(STEPS):
        raise ValueError(f"step must be between 0 and {len(STEPS) - 1}; got {step}")
    p, x, n_out = trace["params"], trace["x"], trace["y"].size
    hot, ink = PALETTE["vermillion"], PALETTE["black"]
    col = {"in": 0.0, "hid": 1.55, "out": 3.1, "loss": 4.3}
    ys = {
        "in": [1.1, 0.0, -1.1],
        "hid": [0.6, -0.6],
        "out": [0.0] if n_out == 1 else [0.6, -0.6],
    }
    w_box, h_box, in_width = 0.86, 0.56, 0.55

    def node(cx, cy, lines, new=False, width=w_box, dashed=False):
        ax.add_patch(
            FancyBboxPatch(
                (cx - width / 2, cy - h_box / 2),
                width,
                h_box,
                boxstyle="round,pad=0.02,rounding_size=0.08",
                facecolor=PALETTE["orange"] if new else "white",
                edgecolor=ink,
                linewidth=1.6 if new else 0.9,
                linestyle="--" if dashed else "-",
                zorder=2,
            )
        )
        ax.text(cx, cy, "\n".join(lines), ha="center", va="center", fontsize=fontsize, zorder=3)

    def edge(x0, y0, x1, y1, w, g, new, tail_width=w_box):
        start, end = (x0 + tail_width / 2, y0), (x1 - w_box / 2, y1)
        colour = hot if new else ink
        ax.annotate(
            "",
            xy=end,
            xytext=start,
            arrowprops={
                "arrowstyle": "-|>",
                "color": colour,
                "lw": 1.8 if new else 0.8,
                "shrinkA": 0,
                "shrinkB": 0,
            },
            zorder=1,
        )
        t = 0.3  # label near the tail, where the edges of one node are still apart
        lx, ly = start[0] + t * (end[0] - start[0]), start[1] + t * (end[1] - start[1])
        label = f"w {w:g}" + ("" if g is None else f"\ng {_num(g)}")
        ax.text(
            lx,
            ly,
            label,
            ha="center",
            va="center",
            fontsize=fontsize - 1,
            color=colour,
            zorder=4,
            bbox={"boxstyle": "round,pad=0.12", "facecolor": "white", "edgecolor": "none"},
        )

    # edges: input m -> hidden j, hidden j -> output k
    for j, yj in enumerate(ys["hid"]):
        for m, ym in enumerate(ys["in"]):
            g = trace["dW1"][j, m] if step >= 6 else None
            edge(col["in"], ym, col["hid"], yj, p["W1"][j, m], g, step == 6, in_width)
    for k, yk in enumerate(ys["out"]):
        for j, yj in enumerate(ys["hid"]):
            g = trace["dW2"][k, j] if step >= 3 else None
            # step 4 sends the deltas back along these edges, times their weights
            edge(col["hid"], yj, col["out"], yk, p["W2"][k, j], g, step in (3, 4))
    for yk in ys["out"]:
        ax.annotate(
            "",
            xy=(col["loss"] - 0.35, 0.0),
            xytext=(col["out"] + w_box / 2, yk),
            arrowprops={"arrowstyle": "-|>", "color": ink, "lw": 0.8, "shrinkA": 0, "shrinkB": 0},
            zorder=1,
        )
    # nodes
    for m, ym in enumerate(ys["in"]):
        node(col["in"], ym, [f"x{_sub(m)} = {x[m]:g}"], dashed=True, width=in_width)
    for j, yj in enumerate(ys["hid"]):
        lines = [
            f"b {p['b1'][j]:g}   z {_num(trace['z1'][j])}",
            f"a{_sub(j)} = σ(z) = {_num(trace['a1'][j])}",
        ]
        if step == 4:
            lines.append(f"∂L/∂a = {_num(trace['dL_da1'][j])}")
        if step >= 5:
            lines.append(f"δ = {_num(trace['delta1'][j])}")
        node(col["hid"], yj, lines, new=step in (4, 5))
    for k, yk in enumerate(ys["out"]):
        lines = [
            f"b {p['b2'][k]:g}   z {_num(trace['z2'][k])}",
            f"ŷ{_sub(k)} = {_num(trace['y_hat'][k])}  (y {trace['y'][k]:g})",
        ]
        if step == 1:
            lines.append(f"∂L/∂ŷ = {_num(trace['dL_dyhat'][k])}")
        if step >= 2:
            lines.append(f"δ = {_num(trace['delta2'][k])}")
        node(col["out"], yk, lines, new=step in (1, 2))
    node(col["loss"], 0.0, ["loss", f"L = {_num(trace['loss'])}"], width=0.66)
    ax.set_xlim(col["in"] - 0.45, col["loss"] + 0.4)
    ax.set_ylim(-1.5, 1.5)
    ax.set_xticks([col["in"], col["hid"], col["out"], col["loss"]])
    ax.set_xticklabels(["inputs", "hidden layer (1)", "output layer (2)", "loss"])
    ax.set_yticks([])
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)


# ------------------------------------------------------------------ the step explorer
def compute_network_step(step: int = 0, network: str = "3-2-1") -> dict[str, Any]:
    """The worked network's numbers and how far its backward pass has got (0 to 6)."""
    _check_network(network)
    if not 0 <= step < len(STEPS):
        raise ValueError(f"step must be between 0 and {len(STEPS) - 1}; got {step}")
    return {"trace": network_trace(network), "step": int(step)}


def render_network_step(fig: Any, data: dict[str, Any], params: dict[str, Any]) -> None:
    from bpcourse.plotting import add_axes

    trace, step = data["trace"], data["step"]
    ax = add_axes(fig)
    draw_network(ax, trace, step)
    ax.set_title(
        f"{trace['network']} network, step {step} of {len(STEPS) - 1}: {STEPS[step]}",
        fontsize=10,
    )


def describe_network_step(data: dict[str, Any], params: dict[str, Any]) -> str:
    """What this step computed, with the numbers (alt text and caption)."""
    t, step = data["trace"], data["step"]
    n_out, N = t["y"].size, t["N"]
    ks = range(n_out)
    if step == 0:
        outs = ", ".join(f"ŷ{_sub(k)} = {_num(t['y_hat'][k])}" for k in ks)
        return (
            f"Step 0, the forward pass of the {t['network']} network: each edge shows its "
            f"weight w; the hidden activations are a = {_num(t['a1'][0])} and "
            f"{_num(t['a1'][1])}, the output {outs} for the target y = "
            f"{', '.join(f'{v:g}' for v in t['y'])}, and the loss L = {_num(t['loss'])}."
        )
    if step == 1:
        parts = "; ".join(
            f"∂L/∂ŷ{_sub(k)} = 2/{N} × ({_num(t['y_hat'][k])} − {t['y'][k]:g}) = "
            f"{_num(t['dL_dyhat'][k])}"
            for k in ks
        )
        return f"Step 1, the loss gradient, from L = (1/{N}) Σ (ŷ − y)²: {parts}."
    if step == 2:
        parts = "; ".join(
            f"δ{_sub(k)} = {_num(t['dL_dyhat'][k])} × σ'(z) {_num(t['delta2'][k] / t['dL_dyhat'][k])}"
            f" = {_num(t['delta2'][k])}"
            for k in ks
        )
        return f"Step 2, the output deltas δ = ∂L/∂ŷ × σ'(z), with σ'(z) = ŷ(1 − ŷ): {parts}."
    if step == 3:
        k, j = 0, 1
        return (
            f"Step 3, the output layer's weight gradients: each is the delta of the unit the "
            f"weight feeds times the activation at its tail, for example "
            f"∂L/∂W2[{k},{j}] = δ{_sub(k)} × a{_sub(j)} = {_num(t['delta2'][k])} × "
            f"{_num(t['a1'][j])} = {_num(t['dW2'][k, j])}; each bias gradient is its unit's δ."
        )
    if step == 4:
        j = 0
        sums = " + ".join(f"{_num(t['delta2'][k])} × {t['params']['W2'][k, j]:g}" for k in ks)
        paths = "one path" if n_out == 1 else f"{n_out} paths, one per output unit, which add"
        return (
            f"Step 4, back to the hidden layer: a hidden activation reaches the loss along "
            f"{paths}: ∂L/∂a{_sub(j)} = Σ_k δ_k W2[k,{j}] = {sums} = {_num(t['dL_da1'][j])}, "
            f"and ∂L/∂a{_sub(1)} = {_num(t['dL_da1'][1])}."
        )
    if step == 5:
        return (
            f"Step 5, the hidden deltas δ = ∂L/∂a × σ'(z) with σ'(z) = a(1 − a): "
            f"δ{_sub(0)} = {_num(t['delta1'][0])}, δ{_sub(1)} = {_num(t['delta1'][1])}."
        )
    return (
        f"Step 6, the first layer's weight gradients, delta times input: for example "
        f"∂L/∂W1[1,2] = δ{_sub(1)} × x{_sub(2)} = {_num(t['delta1'][1])} × {t['x'][2]:g} = "
        f"{_num(t['dW1'][1, 2])}; the edges from x{_sub(1)} = 0 get gradient 0."
    )


def network_explorer() -> Explorer:
    """A slider over the seven steps of the worked backward pass, for either network."""
    return Explorer(
        compute=compute_network_step,
        render=render_network_step,
        sliders={
            "step": Slider(list(range(len(STEPS))), "backward step", default=0),
            "network": Slider(list(NETWORKS), "network", default="3-2-1"),
        },
        describe=describe_network_step,
        title="The backward pass through the worked network, one step at a time",
        figsize=(8.0, 4.2),
        dpi=80,
    )


# ------------------------------------------------------------------ a slope per parameter
def _entry(model: Sequential, param: str) -> tuple[Array, Array, tuple[int, ...]]:
    try:
        layer, name, idx = SLICES[param]
    except KeyError:
        raise ValueError(f"unknown parameter {param!r}; choose one of {list(SLICES)}") from None
    dense = model[layer]
    return (dense.W, dense.dW, idx) if name == "W" else (dense.b, dense.db, idx)


def compute_slope(param: str = "W2[0,1]", offset: float = 0.0) -> dict[str, Any]:
    """The 3-2-1 network's loss along one parameter, and backprop's slope at
    ``chapter value + offset``; the loss is ``bpkit.mse``, here :math:`(\\hat y - y)^2`."""
    model = chapter_network()
    x, y = chapter_example()
    value, grad, idx = _entry(model, param)
    start = float(value[idx])
    theta = start + offset

    def loss_at(v: float) -> float:
        value[idx] = v
        return mse(model.forward(x), y)

    grid = start + np.linspace(-4.0, 4.0, 81)
    curve = np.array([loss_at(v) for v in grid])
    h = 1e-6
    numeric = (loss_at(theta + h) - loss_at(theta - h)) / (2 * h)
    L = loss_at(theta)
    y_hat = model.forward(x)
    model.backward(mse_grad(y_hat, y))  # the backward pass fills dW, db
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
    ax.set_ylabel("loss L = (ŷ − y)²")
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
