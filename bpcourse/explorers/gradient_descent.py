r"""Learning-rate explorers for chapter 2: gradient descent on a parabola and on a bowl.

Both functions are quadratics, so theory says exactly what each setting does. With
Hessian eigenvalues :math:`\lambda_i`, the error along eigenvector :math:`i` is multiplied
by :math:`1 - \eta\lambda_i` per step:

* :math:`0 < 1 - \eta\lambda_i < 1`: a steady approach (slow when near 1);
* :math:`-1 < 1 - \eta\lambda_i < 0`: the iterate jumps across the minimum every step but
  still converges (oscillation);
* :math:`|1 - \eta\lambda_i| > 1`, i.e. :math:`\eta > 2/\lambda_{\max}`: divergence.

``compute_*`` functions are pure (numbers in, a dict out); ``*_explorer()`` wraps them in
sliders for the learning rate and the number of steps.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bpcourse.descent import contraction_factors, gradient_descent, stability_threshold
from bpcourse.widgets import Explorer, Slider

# The 1-D parabola f(x) = (lambda/2)(x - x*)^2 and the 2-D bowl f(w) = 1/2 (w - w*)^T H (w - w*).
PARABOLA_CURVATURE = 4.0
PARABOLA_MIN = 1.0
PARABOLA_START = -1.5
BOWL_HESSIAN = ((3.0, 2.0), (2.0, 6.0))
BOWL_MIN = (1.0, 0.5)
BOWL_START = (-2.5, -1.0)
_GAP_FLOOR = 1e-16  # f - f* below this is plotted at this value (log axis)


def quadratic(w: np.ndarray, hessian: np.ndarray, minimum: np.ndarray) -> float:
    r""":math:`f(w) = \tfrac12 (w - w^*)^\top H (w - w^*)` for one point ``w`` of shape (d,)."""
    e = w - minimum
    return float(0.5 * e @ hessian @ e)


def quadratic_grad(w: np.ndarray, hessian: np.ndarray, minimum: np.ndarray) -> np.ndarray:
    r""":math:`\nabla f(w) = H (w - w^*)`, shape (d,) (H is symmetric)."""
    return hessian @ (w - minimum)


def run_quadratic(
    lr: float,
    steps: int,
    hessian: Any,
    minimum: Any,
    start: Any,
) -> dict[str, Any]:
    """Gradient descent on a quadratic; the trajectory, the gaps f - f* and the verdict."""
    A = np.atleast_2d(np.asarray(hessian, dtype=np.float64))
    m = np.atleast_1d(np.asarray(minimum, dtype=np.float64))
    x0 = np.atleast_1d(np.asarray(start, dtype=np.float64))
    threshold = stability_threshold(A)
    factors = contraction_factors(A, lr)
    traj = gradient_descent(
        lambda w: quadratic_grad(w, A, m),
        x0,
        lr,
        steps,
        f=lambda w: quadratic(w, A, m),
    )
    rate = float(np.max(np.abs(factors)))
    if rate > 1 + 1e-9:
        status = "diverges"
    elif rate > 1 - 1e-9:
        status = "bounces"
    elif factors[0] < 0 or factors[-1] < 0:
        status = "oscillates"
    elif rate < 1e-12:
        status = "exact"
    elif rate > 0.9:
        status = "slow"
    elif rate > 0.5:
        status = "steady"
    else:
        status = "fast"
    return {
        "points": traj.points,
        "gap": traj.values,
        "distance": np.linalg.norm(traj.points - m, axis=1),
        "lr": float(lr),
        "steps": int(steps),
        "threshold": threshold,
        "factors": factors,
        "rate": rate,
        "status": status,
        "diverged": status == "diverges",
    }


def verdict(data: dict[str, Any]) -> str:
    """What the run does, in words, with the numbers that decide it."""
    lr, thr, rate = data["lr"], data["threshold"], data["rate"]
    d0, dn = data["distance"][0], data["distance"][-1]
    n = len(data["distance"]) - 1
    where = f"After {n} step{'s' if n != 1 else ''} the distance to the minimum is {dn:.3g} (it started at {d0:.3g})."
    if data["status"] == "diverges":
        return (
            f"Diverges: the iterates grow without bound: learning rate {lr:g} is above the "
            f"stability threshold 2/λmax = {thr:.4g}, so each step multiplies the error by "
            f"up to {rate:.4g}. {where}"
        )
    if data["status"] == "bounces":
        who = "the iterates bounce" if len(data["factors"]) == 1 else "the steep component bounces"
        return (
            f"On the edge: learning rate {lr:g} equals the stability threshold 2/λmax = "
            f"{thr:.4g}; {who} back and forth across the minimum forever, "
            f"never settling and never growing. {where}"
        )
    below = f"learning rate {lr:g} is below the stability threshold 2/λmax = {thr:.4g}"
    if data["status"] == "oscillates":
        factors = data["factors"]
        if len(factors) == 1:
            what = "the iterates overshoot and jump across the minimum each step"
        else:
            flat = factors[0]  # 1 - lr * lambda_min
            flat_does = (
                "also jumps across it"
                if flat < 0
                else f"approaches from one side (factor {flat:.3g})"
            )
            what = (
                f"the component along the steep direction (factor {factors[-1]:.3g}) "
                f"jumps across the minimum each step, while the component along the flat "
                f"direction {flat_does}"
            )
        return (
            f"Oscillates but converges: {below}, but above 1/λmax = {thr / 2:.4g}, so {what}; "
            f"the error shrinks by a factor {rate:.3g} per step. {where}"
        )
    if data["status"] == "slow":
        return (
            f"Converges slowly: {below}, but the error shrinks only by a factor "
            f"{rate:.3g} per step. {where}"
        )
    if data["status"] == "exact":
        return (
            f"Lands on the minimum in one step: {below} and equals 1/λ = {thr / 2:.4g}, so "
            f"the factor 1 − ηλ is 0 and the first step removes the whole error. {where}"
        )
    how = "fast" if data["status"] == "fast" else "steadily"
    return (
        f"Converges {how}: {below}; the error shrinks by a factor {rate:.3g} per step, "
        f"without overshooting. {where}"
    )


def _title(data: dict[str, Any]) -> str:
    words = {
        "diverges": "DIVERGES, the iterates grow without bound",
        "bounces": "bounces back and forth forever",
        "oscillates": "oscillates, converges",
        "slow": "converges slowly",
        "steady": "converges steadily",
        "fast": "converges fast",
        "exact": "one step to the minimum",
    }[data["status"]]
    where = {"diverges": "above", "bounces": "at"}.get(data["status"], "below")
    return (
        f"learning rate {data['lr']:g} ({where} 2/λmax = {data['threshold']:.3g}), "
        f"{data['steps']} steps: {words}"
    )


def _two_panels(fig):
    """Two side-by-side axes at fixed positions (constrained layout is slow for 40 frames)."""
    from bpcourse.plotting import add_axes

    fig.set_layout_engine("none")
    left, right = add_axes(fig, 1, 2, 1), add_axes(fig, 1, 2, 2)
    left.set_position([0.08, 0.14, 0.38, 0.7])
    right.set_position([0.6, 0.14, 0.38, 0.7])
    return left, right


def _plot_gap(ax, data: dict[str, Any], what: str) -> None:
    from bpcourse.plotting import log_yticks

    k = np.arange(len(data["gap"]))
    ax.semilogy(k, np.maximum(data["gap"], _GAP_FLOOR), marker="o", ms=3)
    ax.set(
        title=f"{what} above its minimum",
        xlabel="step t",
        ylabel="f(x_t) − f(x*)  (log scale)",
        ylim=(1e-12, 1e6),
        xlim=(-0.5, max(data["steps"], 1) + 0.5),
    )
    log_yticks(ax, range(-12, 5, 4))
    n = max(data["steps"], 1)
    ax.set_xticks(np.unique(np.linspace(0, n, min(n, 5) + 1).round().astype(int)))
    ax.grid(True, which="major", alpha=0.3)


# ------------------------------------------------------------------ 1-D: a parabola
def compute_descent_1d(
    lr: float,
    steps: int,
    curvature: float = PARABOLA_CURVATURE,
    minimum: float = PARABOLA_MIN,
    start: float = PARABOLA_START,
) -> dict[str, Any]:
    r"""Gradient descent on :math:`f(x) = \tfrac{\lambda}{2}(x - x^*)^2`, with :math:`\lambda` = ``curvature``."""
    data = run_quadratic(lr, steps, [[curvature]], [minimum], [start])
    data["curvature"] = float(curvature)
    data["minimum"] = float(minimum)
    return data


def render_descent_1d(fig, data: dict[str, Any], params: dict[str, Any]) -> None:
    from bpcourse.plotting import PALETTE

    a, m = data["curvature"], data["minimum"]
    x = data["points"][:, 0]
    ax, ax_gap = _two_panels(fig)
    grid = np.linspace(m - 4, m + 4, 200)
    ax.plot(grid, 0.5 * a * (grid - m) ** 2, color=PALETTE["black"], lw=1, label="f(x)")
    ax.plot(x, data["gap"], color=PALETTE["vermillion"], marker="o", ms=4, lw=1, label="iterates")
    ax.plot([x[0]], [data["gap"][0]], "s", color=PALETTE["blue"], ms=7, label="start")
    ax.plot([m], [0.0], "*", color=PALETTE["green"], ms=12, label="minimum")
    ax.set(title="f(x) = (λ/2)(x − x*)², λ = " + f"{a:g}", xlabel="x", ylabel="f(x)")
    ax.set(xlim=(m - 4, m + 4), ylim=(-2, 0.5 * a * 16 * 1.45))
    ax.set_xticks(np.arange(m - 4, m + 4.5, 2))  # few ticks: tick text dominates frame time
    ax.legend(fontsize=7, loc="upper center", ncol=2)
    _plot_gap(ax_gap, data, "f")
    fig.suptitle(_title(data), fontsize=10)


def describe_descent_1d(data: dict[str, Any], params: dict[str, Any]) -> str:
    return (
        f"Gradient descent on a parabola with curvature λ = f'' = {data['curvature']:g} "
        "(in one dimension λmax is simply λ). " + verdict(data)
    )


def descent_1d_explorer() -> Explorer:
    """Sliders for the learning rate (0.05 to 0.6, threshold 0.5) and the number of steps."""
    return Explorer(
        compute_descent_1d,
        render_descent_1d,
        {
            "lr": Slider.linspace(0.05, 0.6, 12, "learning rate η", default=0.1),
            "steps": Slider([1, 5, 20], "steps", default=5),
        },
        describe_descent_1d,
        "Gradient descent on a parabola: move the learning rate",
        figsize=(8.0, 3.4),
    )


# ------------------------------------------------------------------ 2-D: a quadratic bowl
def compute_descent_2d(
    lr: float,
    steps: int,
    hessian: Any = BOWL_HESSIAN,
    minimum: Any = BOWL_MIN,
    start: Any = BOWL_START,
) -> dict[str, Any]:
    r"""Gradient descent on the bowl :math:`f(w) = \tfrac12 (w - w^*)^\top H (w - w^*)`."""
    data = run_quadratic(lr, steps, hessian, minimum, start)
    data["hessian"] = np.asarray(hessian, dtype=np.float64)
    data["minimum"] = np.asarray(minimum, dtype=np.float64)
    return data


def render_descent_2d(fig, data: dict[str, Any], params: dict[str, Any]) -> None:
    from bpcourse.plotting import PALETTE

    A, m, pts = data["hessian"], data["minimum"], data["points"]
    ax, ax_gap = _two_panels(fig)
    u, v = np.meshgrid(np.linspace(-3.5, 4.0, 90), np.linspace(-2.5, 3.5, 90))
    eu, ev = u - m[0], v - m[1]
    f = 0.5 * (A[0, 0] * eu**2 + 2 * A[0, 1] * eu * ev + A[1, 1] * ev**2)
    ax.contour(u, v, f, levels=np.geomspace(0.05, 60, 10), cmap="cividis", linewidths=0.8)
    ax.plot(
        pts[:, 0], pts[:, 1], color=PALETTE["vermillion"], marker="o", ms=3, lw=1, label="iterates"
    )
    ax.plot(*pts[0], "s", color=PALETTE["blue"], ms=7, label="start")
    ax.plot(*m, "*", color=PALETTE["green"], ms=12, label="minimum")
    ax.set(title="The bowl's contours and the path", xlabel="w₁", ylabel="w₂")
    ax.set(xlim=(-3.5, 4.0), ylim=(-2.5, 3.5), aspect="equal")
    ax.set_xticks([-2, 0, 2, 4])  # few ticks: tick text dominates frame time
    ax.set_yticks([-2, 0, 2])
    ax.legend(fontsize=7, loc="lower right")
    _plot_gap(ax_gap, data, "f")
    fig.suptitle(_title(data), fontsize=10)


def describe_descent_2d(data: dict[str, Any], params: dict[str, Any]) -> str:
    return "Gradient descent on a two-dimensional quadratic bowl. " + verdict(data)


def descent_2d_explorer() -> Explorer:
    """Sliders for the learning rate (0.03 to 0.33, spanning 2/λmax ≈ 0.286) and the steps."""
    return Explorer(
        compute_descent_2d,
        render_descent_2d,
        {
            "lr": Slider.linspace(0.03, 0.33, 11, "learning rate η", default=0.09),
            "steps": Slider([3, 10, 40], "steps", default=10),
        },
        describe_descent_2d,
        "Gradient descent on a quadratic bowl: move the learning rate",
        figsize=(8.0, 3.6),
    )
