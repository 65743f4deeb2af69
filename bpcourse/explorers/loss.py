r"""Explorer for the chapter on losses: cross-entropy and squared error on a sigmoid output.

For one example with logit :math:`z`, probability :math:`p = \sigma(z)` and target
:math:`y \in \{0, 1\}`:

* cross-entropy :math:`L_{CE} = -[y\log p + (1-y)\log(1-p)]`, with
  :math:`\partial L_{CE}/\partial z = p - y`;
* squared error :math:`L_{SE} = (p - y)^2`, with
  :math:`\partial L_{SE}/\partial z = 2(p - y)\,p(1-p)`.

Moving the logit shows that the squared error's gradient vanishes when the prediction is
confidently wrong, while cross-entropy's stays near :math:`\pm 1`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from bpcourse.widgets import Explorer, Slider
from bpkit.activations import sigmoid, sigmoid_grad

Array = NDArray[np.float64]

Z_RANGE = (-6.0, 6.0)


def cross_entropy_of_logit(z: ArrayLike, y: float) -> Array:
    r"""Per-example :math:`-[y\log\sigma(z) + (1-y)\log(1-\sigma(z))]`, in the stable logits form
    :math:`\max(z,0) - zy + \log(1+e^{-|z|})`; same shape as ``z``."""
    z = np.asarray(z, dtype=np.float64)
    return np.maximum(z, 0.0) - z * y + np.log1p(np.exp(-np.abs(z)))


def cross_entropy_logit_grad(z: ArrayLike, y: float) -> Array:
    r""":math:`\partial L_{CE}/\partial z = \sigma(z) - y` (the :math:`p(1-p)` factors cancel)."""
    return sigmoid(np.asarray(z, dtype=np.float64)) - y


def squared_error_of_logit(z: ArrayLike, y: float) -> Array:
    r"""Per-example :math:`(\sigma(z) - y)^2`; same shape as ``z``."""
    return (sigmoid(np.asarray(z, dtype=np.float64)) - y) ** 2


def squared_error_logit_grad(z: ArrayLike, y: float) -> Array:
    r""":math:`\partial L_{SE}/\partial z = 2(\sigma(z) - y)\,\sigma'(z)`."""
    z = np.asarray(z, dtype=np.float64)
    # chain rule: dL/dp = 2(p - y), times dp/dz = sigma'(z)
    return 2.0 * (sigmoid(z) - y) * sigmoid_grad(z)


def _check_target(y: float) -> float:
    if y not in (0, 1):
        raise ValueError(f"the target y must be 0 or 1 for a binary label; got {y!r}")
    return float(y)


def compute_logit_losses(z: float, y: float, n_grid: int = 121) -> dict[str, Any]:
    """Both losses and their gradients with respect to the logit, on a grid of logits and
    at the chosen logit ``z`` for the target ``y`` (0 or 1)."""
    y = _check_target(y)
    grid = np.linspace(*Z_RANGE, n_grid)
    z = float(z)
    return {
        "grid": grid,
        "ce": cross_entropy_of_logit(grid, y),
        "se": squared_error_of_logit(grid, y),
        "ce_grad": cross_entropy_logit_grad(grid, y),
        "se_grad": squared_error_logit_grad(grid, y),
        "z": z,
        "y": y,
        "p": float(sigmoid(z)),
        "ce_at": float(cross_entropy_of_logit(z, y)),
        "se_at": float(squared_error_of_logit(z, y)),
        "ce_grad_at": float(cross_entropy_logit_grad(z, y)),
        "se_grad_at": float(squared_error_logit_grad(z, y)),
    }


def render_logit_losses(fig: Any, data: dict[str, Any], params: dict[str, Any]) -> None:
    """Left: each loss against the logit. Right: each loss's gradient with respect to it."""
    from bpcourse.plotting import PALETTE, add_axes

    ce_style = {"color": PALETTE["blue"], "linestyle": "-", "label": "cross-entropy"}
    se_style = {"color": PALETTE["vermillion"], "linestyle": "--", "label": "squared error"}
    left, right = add_axes(fig, 1, 2, 1), add_axes(fig, 1, 2, 2)
    for ax, key, title, ylabel in (
        (left, "", "Loss", "loss L"),
        (right, "_grad", "Gradient with respect to the logit", "dL/dz"),
    ):
        ax.plot(data["grid"], data["ce" + key], **ce_style)
        ax.plot(data["grid"], data["se" + key], **se_style)
        ax.plot(data["z"], data["ce" + key + "_at"], "o", color=PALETTE["blue"])
        ax.plot(data["z"], data["se" + key + "_at"], "s", color=PALETTE["vermillion"])
        ax.axvline(data["z"], color=PALETTE["black"], linewidth=0.6, alpha=0.5)
        ax.set(title=title, xlabel="logit z", ylabel=ylabel)
    left.set_ylim(-0.1, 6.5)
    right.set_ylim(-1.1, 1.1)
    right.axhline(0.0, color=PALETTE["black"], linewidth=0.6)
    left.legend(loc="upper center", fontsize="small")
    fig.suptitle(f"Target y = {data['y']:g}, logit z = {data['z']:g}, p = σ(z) = {data['p']:.3f}")


def describe_logit_losses(data: dict[str, Any], params: dict[str, Any]) -> str:
    """Alt text: the numbers at the chosen logit, and how the two gradients compare.

    Numbers are printed to three significant digits, so a small gradient never shows as
    0.000 beside a ratio; the ratio is stated only when the model is wrong enough for the
    gradients to matter (cross-entropy's is at least 0.05 in size)."""
    ce_g, se_g = data["ce_grad_at"], data["se_grad_at"]
    head = (
        f"For target y = {data['y']:g} and logit z = {data['z']:g} (p = {data['p']:.3g}), "
        f"cross-entropy is {data['ce_at']:.3g} with gradient {ce_g:.3g}, "
        f"and squared error is {data['se_at']:.3g} with gradient {se_g:.3g}"
    )
    if abs(ce_g) < 0.05:
        return head + (
            "; the prediction is right and confident, so both gradients are small and "
            "neither loss pushes much."
        )
    ratio = abs(ce_g) / max(abs(se_g), 1e-300)
    if ratio >= 1.5:
        return head + f"; the cross-entropy gradient is {ratio:.3g} times larger in size."
    return head + f"; the two gradients are within a factor {max(ratio, 1 / ratio):.3g}."


def logit_loss_explorer() -> Explorer:
    """Sliders for the logit ``z`` (-6 to 6 in steps of 1) and the target ``y`` (0 or 1):
    26 precomputed frames."""
    return Explorer(
        compute_logit_losses,
        render_logit_losses,
        {
            "z": Slider.linspace(*Z_RANGE, 13, "logit z", default=-4.0),
            "y": Slider([0.0, 1.0], "target y", default=1.0, fmt=lambda v: f"{v:g}"),
        },
        describe_logit_losses,
        "Cross-entropy and squared error on a sigmoid output, against the logit",
        figsize=(8.0, 3.4),
    )
