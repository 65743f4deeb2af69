r"""Explorers for the chapter on parameter updates.

* :func:`lr_explorer`: one learning-rate slider over a full-batch training run of a small
  tanh network fitting a noisy sine; shows the loss curve and the fitted curve, and says
  in words when the run diverged (:class:`bpkit.TrainingDiverged` is caught, not raised).
* :func:`race_explorer`: SGD, momentum, Nesterov and Adam raced on an ill-conditioned
  2-D surface (:mod:`bpcourse.surfaces`), with sliders for the learning rate and the
  momentum coefficient :math:`\mu`.

The ``compute_*`` functions are pure and fast; the factories wrap them in
:class:`bpcourse.widgets.Explorer`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bpcourse.plotting import PALETTE, add_axes, log_yticks
from bpcourse.surfaces import descend, get_surface
from bpcourse.widgets import Explorer, Slider
from bpkit.layers import Array
from bpkit.model import mlp
from bpkit.optim import SGD, Adam, Momentum
from bpkit.train import TrainingDiverged, train

# ---------------------------------------------------------------- learning-rate slider
LR_EPOCHS = 200
LR_HIDDEN = 16
LR_YMAX = 1e4  # the loss axis stops here; larger losses are drawn at the top


def sine_data(n: int = 40, noise: float = 0.1, seed: int = 0) -> tuple[Array, Array]:
    r"""``n`` noisy samples of :math:`y = \sin x` on :math:`[-3, 3]`: ``x``, ``y`` shape ``(n, 1)``."""
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(-3.0, 3.0, n))[:, None]
    y = np.sin(x) + noise * rng.standard_normal(x.shape)
    return x, y


def compute_lr_run(lr: float, epochs: int = LR_EPOCHS, seed: int = 1) -> dict[str, Any]:
    r"""Train ``mlp([1, 16, 1], "tanh")`` with full-batch SGD at ``lr`` on :func:`sine_data`.

    Returns the per-epoch losses (up to divergence), the fitted curve on a grid (``None``
    if the run diverged), ``noise_mse`` (the MSE of the true :math:`\sin x` on these
    points, what the true curve itself scores), and ``status``: ``"converging"``,
    ``"diverging"`` (the loss ended above where it started) or ``"diverged"``
    (``TrainingDiverged`` was raised; its message is in ``message``).
    """
    x, y = sine_data()
    model = mlp([1, LR_HIDDEN, 1], "tanh", rng=np.random.default_rng(seed))
    optimizer = SGD(model.parameters(), lr=lr)
    losses: list[float] = []

    def record(epoch: int, history: Any) -> None:
        losses.append(history.loss[-1])

    x_grid = np.linspace(-3.0, 3.0, 121)[:, None]
    message = ""
    with np.errstate(over="ignore", invalid="ignore"):
        try:
            train(model, x, y, loss="mse", optimizer=optimizer, epochs=epochs, callback=record)
            fit = model.predict(x_grid)[:, 0]
            status = "diverging" if losses[-1] > losses[0] else "converging"
        except TrainingDiverged as exc:
            fit, status, message = None, "diverged", str(exc)
    return {
        "lr": lr,
        "x": x[:, 0],
        "y": y[:, 0],
        "losses": np.array(losses),
        "x_grid": x_grid[:, 0],
        "fit": fit,
        "noise_mse": float(np.mean((y - np.sin(x)) ** 2)),
        "status": status,
        "message": message,
    }


def describe_lr_run(data: dict[str, Any], params: dict[str, Any]) -> str:
    lr, losses = data["lr"], data["losses"]
    if data["status"] == "diverged":
        return (
            f"Learning rate {lr:g}: training diverged after {len(losses)} full epochs. "
            f"bpkit.train stopped with: {data['message']}"
        )
    if data["status"] == "diverging":
        return (
            f"Learning rate {lr:g}: the loss grew from {losses[0]:.3g} to {losses[-1]:.3g} "
            f"in {len(losses)} epochs. The steps overshoot and grow; a few more epochs and "
            "the numbers overflow."
        )
    fell = f"Learning rate {lr:g}: the loss fell from {losses[0]:.3g} to {losses[-1]:.3g} in "
    noise = data["noise_mse"]
    if losses[-1] > 2 * noise:  # still far above what the true sine scores: a crawl
        return (
            fell + f"{len(losses)} epochs, but the true sine scores {noise:.3g} on these "
            "points: the steps are too small, and the fitted curve (orange) still misses "
            "the data. A larger rate gets further in the same number of epochs."
        )
    return (
        fell + f"{len(losses)} epochs, close to the {noise:.3g} that the true sine scores "
        "on these points, and the fitted curve (orange) follows the noisy sine points."
    )


def render_lr_run(fig: Any, data: dict[str, Any], params: dict[str, Any]) -> None:
    ax1, ax2 = add_axes(fig, 1, 2, 1), add_axes(fig, 1, 2, 2)
    losses = data["losses"]
    epochs = np.arange(1, len(losses) + 1)
    if len(losses):
        # clipped at LR_YMAX: a diverging loss reaches 1e300 before it overflows
        ax1.semilogy(epochs, np.minimum(losses, LR_YMAX), color=PALETTE["blue"])
    if np.any(losses > LR_YMAX):
        ax1.text(LR_EPOCHS / 2, 2 * LR_YMAX, "losses above 1e4 drawn at 1e4", ha="center")
    title = f"Loss, learning rate {data['lr']:g}"
    if data["status"] == "diverged":
        ax1.axvline(len(losses) + 1, color=PALETTE["vermillion"], ls="--")
        ax1.text(
            len(losses) + 1,
            1e-2,
            f" NaN/inf at\n epoch {len(losses) + 1}",
            color=PALETTE["vermillion"],
            ha="right" if len(losses) > LR_EPOCHS / 2 else "left",
        )
        title += " (diverged)"
    elif data["status"] == "diverging":
        title += " (diverging)"
    ax1.set(
        xlim=(0, LR_EPOCHS),
        ylim=(1e-3, 10 * LR_YMAX),
        xlabel="epoch",
        ylabel="training loss (MSE, log scale)",
        title=title,
    )
    if len(losses):
        log_yticks(ax1, range(-3, 6))
    ax2.scatter(data["x"], data["y"], s=10, color=PALETTE["black"], label="data")
    if data["fit"] is not None and np.all(np.abs(data["fit"]) < 1e3):
        ax2.plot(data["x_grid"], data["fit"], color=PALETTE["orange"], lw=2, label="network")
        ax2.legend(loc="upper left", fontsize="small")
    else:
        words = (
            "TrainingDiverged:\nthe loss became NaN or infinite,\nno fit to show"
            if data["status"] == "diverged"
            else "diverging: the fit is\noff the chart"
        )
        ax2.text(
            0,
            0,
            words,
            ha="center",
            va="center",
            color=PALETTE["vermillion"],
            bbox={"facecolor": "white", "edgecolor": PALETTE["vermillion"]},
        )
    ax2.set(ylim=(-2, 2), xlabel="x", ylabel="y", title="Fit after training")


def lr_explorer() -> Explorer:
    """A learning-rate slider (9 values, 0.01 to 3) over :func:`compute_lr_run`."""
    return Explorer(
        compute=compute_lr_run,
        render=render_lr_run,
        sliders={"lr": Slider.logspace(0.01, 3.0, 9, "learning rate", default=0.1)},
        describe=describe_lr_run,
        title="Full-batch gradient descent on a noisy sine, 1-16-1 tanh network",
        figsize=(8.0, 3.4),
    )


# ---------------------------------------------------------------- optimizer race
ADAM_LR = 0.1
RACE_STEPS = {"quadratic": 100, "rosenbrock": 500}
RACE_LRS = {
    "quadratic": [0.01, 0.03, 0.09, 0.105],
    "rosenbrock": [2.5e-4, 1e-3, 2e-3, 3e-3],
}
RACE_DEFAULT_LR = {"quadratic": 0.03, "rosenbrock": 1e-3}
RACE_YLIM = (1e-12, 1e6)  # values outside are drawn at the edge of the chart
MOMENTA = [0.0, 0.5, 0.9]
OPTIMIZERS = ("SGD", "momentum", "Nesterov", "Adam")
COLOURS = {
    "SGD": PALETTE["black"],
    "momentum": PALETTE["blue"],
    "Nesterov": PALETTE["orange"],
    "Adam": PALETTE["purple"],  # not green: next to the blue momentum line they blur
}
STYLES = {"SGD": "-", "momentum": "-", "Nesterov": "--", "Adam": "-."}


def compute_race(surface: str, lr: float, momentum: float) -> dict[str, Any]:
    r"""Run the four optimizers from the surface's start point.

    SGD, momentum and Nesterov use ``lr`` (and ``momentum`` :math:`\mu`); Adam uses its
    own learning rate ``ADAM_LR`` (a step length in parameter units) with
    :math:`\beta_1 = 0.9`, :math:`\beta_2 = 0.999`. Returns, per optimizer, the
    trajectory points, the values of ``f`` along it and whether it diverged.
    """
    surf = get_surface(surface)
    steps = RACE_STEPS[surface]
    makers = {
        "SGD": lambda ps: SGD(ps, lr=lr),
        "momentum": lambda ps: Momentum(ps, lr=lr, momentum=momentum),
        "Nesterov": lambda ps: Momentum(ps, lr=lr, momentum=momentum, nesterov=True),
        "Adam": lambda ps: Adam(ps, lr=ADAM_LR),
    }
    runs = {}
    for name, make in makers.items():
        t = descend(surf, make, steps)
        runs[name] = {"points": t.points, "values": t.values, "diverged": t.diverged}
    return {"surface": surface, "lr": lr, "momentum": momentum, "steps": steps, "runs": runs}


def describe_race(data: dict[str, Any], params: dict[str, Any]) -> str:
    parts = []
    for name in OPTIMIZERS:
        run = data["runs"][name]
        if run["diverged"]:
            parts.append(f"{name} diverged after {len(run['points']) - 1} steps")
        else:
            parts.append(f"{name} reached f = {run['values'][-1]:.2g}")
    surf = get_surface(data["surface"])
    return (
        f"{surf.name.capitalize()}, {data['steps']} steps, learning rate {data['lr']:g}, "
        f"momentum {data['momentum']:g} (Adam at its own learning rate {ADAM_LR:g}): "
        + "; ".join(parts)
        + "."
    )


def render_race(fig: Any, data: dict[str, Any], params: dict[str, Any]) -> None:
    surf = get_surface(data["surface"])
    ax1 = add_axes(fig, 1, 2, 1)
    ax2 = add_axes(fig, 1, 2, 2)
    X, Y, Z = surf.grid(100)
    levels = np.geomspace(max(Z.min(), 1e-2), Z.max(), 14)
    ax1.contour(X, Y, Z, levels=levels, colors="#999999", linewidths=0.6)
    ax1.plot(*surf.minimum, marker="*", color=PALETTE["vermillion"], ms=12, ls="none")
    for name in OPTIMIZERS:
        run = data["runs"][name]
        pts = run["points"]
        style = STYLES[name]
        label = f"{name} (diverged)" if run["diverged"] else name
        ax1.plot(pts[:, 0], pts[:, 1], style, color=COLOURS[name], lw=1.3, label=label)
        shown = np.clip(run["values"], RACE_YLIM[0], RACE_YLIM[1])
        ax2.semilogy(shown, style, color=COLOURS[name], label=label)
    ax1.set(xlim=surf.xlim, ylim=surf.ylim, xlabel="x", ylabel="y")
    ax1.set_title(f"{surf.name}: paths (star = minimum)")
    ax2.set(
        xlim=(0, data["steps"]),
        ylim=RACE_YLIM,
        xlabel="step",
        ylabel="f(x, y) (log scale)",
        title=f"lr {data['lr']:g}, momentum {data['momentum']:g}",
    )
    log_yticks(ax2, range(-12, 7, 3))
    ax2.legend(fontsize="small", loc="lower left")


def race_explorer(surface: str = "quadratic") -> Explorer:
    """Sliders for the learning rate (4 values) and momentum (3 values): 12 frames."""
    get_surface(surface)  # a clear error for an unknown name
    lrs = RACE_LRS[surface]

    def compute(lr: float, momentum: float) -> dict[str, Any]:
        return compute_race(surface, lr, momentum)

    return Explorer(
        compute=compute,
        render=render_race,
        sliders={
            "lr": Slider(lrs, "learning rate (SGD, momentum, Nesterov)", RACE_DEFAULT_LR[surface]),
            "momentum": Slider(MOMENTA, "momentum μ", 0.9),
        },
        describe=describe_race,
        title=f"SGD, momentum, Nesterov and Adam on the {get_surface(surface).name}",
        figsize=(8.0, 3.6),
    )
