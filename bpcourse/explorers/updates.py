r"""Explorers for the chapter on parameter updates.

* :func:`lr_explorer`: one learning-rate slider over a full-batch training run of a small
  tanh network fitting a noisy sine; shows the loss curve and the fitted curve, and says
  in words when the run diverged (:class:`bpkit.TrainingDiverged` is caught, not raised).
* :func:`race_explorer`: SGD, momentum, Nesterov and Adam raced on an ill-conditioned
  2-D surface (:mod:`bpcourse.surfaces`), with sliders for the learning rate, the
  momentum coefficient :math:`\mu` and Adam's learning rate, and plain SGD at its best
  learning rate drawn as the baseline (:func:`best_sgd`); :func:`quadratic_tuning` gives
  the best constant settings on a quadratic.
* :func:`stacked_mlp` and :func:`train_stacked`: the chapter's two-moons network trained
  for many seeds at once, step for step as ``bpkit.train`` trains one.

The ``compute_*`` functions are pure and fast; the factories wrap them in
:class:`bpcourse.widgets.Explorer`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np

from bpcourse.diagnostics import (
    flat_parameters,
    gradient_function,
    set_flat_parameters,
    top_hessian_eigenvalue,
)
from bpcourse.plotting import PALETTE, add_axes, log_yticks
from bpcourse.surfaces import QUAD_A, QUAD_B, descend, get_surface
from bpcourse.widgets import Explorer, Slider
from bpkit.activations import sigmoid
from bpkit.layers import Array
from bpkit.losses import mse
from bpkit.model import mlp
from bpkit.optim import SGD, Adam, Momentum
from bpkit.train import TrainingDiverged, train

# ---------------------------------------------------------------- learning-rate slider
LR_EPOCHS = 200
LR_HIDDEN = 16
LR_YMAX = 1e4  # the loss axis stops here; larger losses are drawn at the top
LR_SHARP_YMAX = 25.0  # the sharpness axis: 2/eta of the smallest rates is off the chart


def sine_data(n: int = 40, noise: float = 0.1, seed: int = 0) -> tuple[Array, Array]:
    r"""``n`` noisy samples of :math:`y = \sin x` on :math:`[-3, 3]`: ``x``, ``y`` shape ``(n, 1)``."""
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(-3.0, 3.0, n))[:, None]
    y = np.sin(x) + noise * rng.standard_normal(x.shape)
    return x, y


# epochs after which the sharpness is measured: densely at first, where it changes fast
SHARP_EPOCHS = frozenset((1, 2, 3, 5, 10, *range(20, LR_EPOCHS + 1, 20)))
SHARP_ITERS = 3  # power iterations per measurement, each warm-started from the last


@functools.lru_cache(maxsize=4)
def initial_sharpness(seed: int = 1) -> tuple[float, np.ndarray]:
    """lambda_max of the sine network's loss at initialisation (30 power iterations), and
    its eigenvector: every learning rate starts from these weights."""
    x, y = sine_data()
    model = mlp([1, LR_HIDDEN, 1], "tanh", rng=np.random.default_rng(seed))
    grad_fn = gradient_function(model, x, y, "mse")
    lam, v = top_hessian_eigenvalue(grad_fn, flat_parameters(model), iters=30)
    return lam, v.copy()


def compute_lr_run(lr: float, epochs: int = LR_EPOCHS, seed: int = 1) -> dict[str, Any]:
    r"""Train ``mlp([1, 16, 1], "tanh")`` with full-batch SGD at ``lr`` on :func:`sine_data`.

    Returns the per-epoch losses (up to divergence), the fitted curve on a grid (``None``
    if the run diverged), ``noise_mse`` (the MSE of the true :math:`\sin x` on these
    points, what the true curve itself scores), ``status`` (``"converging"``,
    ``"diverging"``: the loss ended above where it started, or ``"diverged"``:
    ``TrainingDiverged`` was raised, its message in ``message``), ``rose_at`` (the first
    epoch whose loss is above the starting loss, or ``None``), ``stayed_above`` (the loss
    never came back below its start after that), and ``sharpness``: pairs
    ``(epoch, lambda_max)``, the top eigenvalue of the loss's Hessian after the epochs in
    ``SHARP_EPOCHS``, whenever the loss there is below the starting loss
    (:func:`bpcourse.diagnostics.top_hessian_eigenvalue`). Gradient descent is stable near
    a minimum only while :math:`\lambda_\text{max} < 2/\eta`.
    """
    x, y = sine_data()
    model = mlp([1, LR_HIDDEN, 1], "tanh", rng=np.random.default_rng(seed))
    optimizer = SGD(model.parameters(), lr=lr)
    grad_fn = gradient_function(model, x, y, "mse")
    losses: list[float] = []
    sharpness: list[tuple[int, float]] = []
    direction: list[np.ndarray] = []

    def measure(epoch: int) -> None:
        # lambda_max at the current parameters, while the loss there is below the start
        # (a run that is blowing up has no minimum nearby to compare with); the last
        # direction is a warm start
        if mse(model.predict(x), y) > losses[0]:
            return
        theta = flat_parameters(model)
        lam, v = top_hessian_eigenvalue(grad_fn, theta, direction[-1], iters=SHARP_ITERS)
        set_flat_parameters(model, theta)  # power iteration moved the model; put it back
        sharpness.append((epoch, lam))
        direction.append(v)

    def record(epoch: int, history: Any) -> None:
        losses.append(history.loss[-1])
        if epoch + 1 in SHARP_EPOCHS and history.loss[-1] < LR_YMAX:
            measure(epoch + 1)

    x_grid = np.linspace(-3.0, 3.0, 121)[:, None]
    message = ""
    lam0, v0 = initial_sharpness(seed)  # the same start for every learning rate
    sharpness.append((0, lam0))
    direction.append(v0)
    with np.errstate(over="ignore", invalid="ignore"):
        try:
            train(model, x, y, loss="mse", optimizer=optimizer, epochs=epochs, callback=record)
            fit = model.predict(x_grid)[:, 0]
            status = "diverging" if losses[-1] > losses[0] else "converging"
        except TrainingDiverged as exc:
            fit, status, message = None, "diverged", str(exc)
    arr = np.array(losses)
    above = np.nonzero(arr[1:] > arr[0])[0]
    rose_at = int(above[0]) + 1 if len(above) else None
    return {
        "lr": lr,
        "x": x[:, 0],
        "y": y[:, 0],
        "losses": arr,
        "x_grid": x_grid[:, 0],
        "fit": fit,
        "noise_mse": float(np.mean((y - np.sin(x)) ** 2)),
        "status": status,
        "message": message,
        "rose_at": rose_at,
        "stayed_above": rose_at is not None and bool(np.all(arr[rose_at:] > arr[0])),
        "sharpness": np.array(sharpness),
    }


def describe_lr_run(data: dict[str, Any], params: dict[str, Any]) -> str:
    """Caption of one frame: what the loss did, and when (epochs count from 1)."""
    lr, losses = data["lr"], data["losses"]
    lam0 = data["sharpness"][0, 1]
    edge = (
        f" At the start the sharpness (the top Hessian eigenvalue) is {lam0:.3g}, so 2/lambda "
        f"= {2 / lam0:.3g}: this rate is {'above' if lr > 2 / lam0 else 'below'} it."
    )
    if data["status"] in ("diverged", "diverging"):
        k = data["rose_at"]
        timeline = (
            f"the loss rose above its starting value {losses[0]:.3g} at epoch {k + 1} and "
            f"never came back; it was {losses[min(k + 4, len(losses) - 1)]:.3g} by epoch "
            f"{min(k + 4, len(losses) - 1) + 1}"
        )
        if data["status"] == "diverged":
            return (
                f"Learning rate {lr:g}: the run diverged from the first epochs: {timeline}. "
                f"bpkit.train raised TrainingDiverged only when the numbers overflowed, at "
                f"epoch {len(losses) + 1}: {data['message']}" + edge
            )
        return (
            f"Learning rate {lr:g}: {timeline}, and it ended at {losses[-1]:.3g} after "
            f"{len(losses)} epochs. The steps overshoot and grow." + edge
        )
    fell = f"Learning rate {lr:g}: the loss fell from {losses[0]:.3g} to {losses[-1]:.3g} in "
    if data["rose_at"] is not None:
        k = data["rose_at"]
        flatter = (
            " while the network moved to a flatter region (the sharpness fell below 2/lr),"
            if data["sharpness"][-1, 1] < 2 / lr < lam0
            else ""
        )
        fell = (
            f"Learning rate {lr:g}: the loss first jumped, to {losses[k]:.3g} at epoch {k + 1},"
            f"{flatter} and then fell from {losses[0]:.3g} to {losses[-1]:.3g} in "
        )
    noise = data["noise_mse"]
    if losses[-1] > 2 * noise:  # still far above what the true sine scores: a crawl
        return (
            fell + f"{len(losses)} epochs, but the true sine scores {noise:.3g} on these "
            "points: the steps are too small, and the fitted curve (orange) still misses "
            "the data. A larger rate gets further in the same number of epochs." + edge
        )
    return (
        fell + f"{len(losses)} epochs, close to the {noise:.3g} that the true sine scores "
        "on these points, and the fitted curve (orange) follows the noisy sine points." + edge
    )


def render_lr_run(fig: Any, data: dict[str, Any], params: dict[str, Any]) -> None:
    ax1, ax2, ax3 = add_axes(fig, 1, 3, 1), add_axes(fig, 1, 3, 2), add_axes(fig, 1, 3, 3)
    losses = data["losses"]
    epochs = np.arange(1, len(losses) + 1)
    if len(losses):
        # clipped at LR_YMAX: a diverging loss reaches 1e300 before it overflows
        ax1.semilogy(epochs, np.minimum(losses, LR_YMAX), color=PALETTE["blue"])
    if np.any(losses > LR_YMAX):
        ax1.text(LR_EPOCHS / 2, 2 * LR_YMAX, "losses above 1e4 drawn at 1e4", ha="center")
    title = f"Loss, η = {data['lr']:g}"
    if data["status"] in ("diverged", "diverging") and data["rose_at"] is not None:
        ax1.axvline(data["rose_at"] + 1, color=PALETTE["orange"], ls=":")
        ax1.text(data["rose_at"] + 3, 1e-2, "growth\nbegins", color=PALETTE["orange"], ha="left")
    if data["status"] == "diverged":
        ax1.axvline(len(losses) + 1, color=PALETTE["vermillion"], ls="--")
        ax1.text(
            len(losses) + 1,
            1e2,
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
    sharp = data["sharpness"]
    ax2.plot(sharp[:, 0], sharp[:, 1], "o-", ms=3, color=PALETTE["purple"], label="λmax")
    ax2.axhline(2 / data["lr"], color=PALETTE["black"], ls="--", lw=1, label="2 / η")
    ax2.set(
        xlim=(0, LR_EPOCHS),
        ylim=(0, LR_SHARP_YMAX),
        xlabel="epoch",
        ylabel="top Hessian eigenvalue",
        title="Sharpness against 2/η",
    )
    ax2.legend(loc="upper right", fontsize="small")
    ax3.scatter(data["x"], data["y"], s=10, color=PALETTE["black"], label="data")
    if data["fit"] is not None and np.all(np.abs(data["fit"]) < 1e3):
        ax3.plot(data["x_grid"], data["fit"], color=PALETTE["orange"], lw=2, label="network")
        ax3.legend(loc="upper left", fontsize="small")
    else:
        words = (
            "TrainingDiverged:\nthe loss became\nNaN or infinite,\nno fit to show"
            if data["status"] == "diverged"
            else "diverging: the fit\nis off the chart"
        )
        ax3.text(
            0,
            0,
            words,
            ha="center",
            va="center",
            color=PALETTE["vermillion"],
            bbox={"facecolor": "white", "edgecolor": PALETTE["vermillion"]},
        )
    ax3.set(ylim=(-2, 2), xlabel="x", ylabel="y", title="Fit after training")


def lr_explorer() -> Explorer:
    """A learning-rate slider (9 values, 0.01 to 3) over :func:`compute_lr_run`."""
    return Explorer(
        compute=compute_lr_run,
        render=render_lr_run,
        sliders={"lr": Slider.logspace(0.01, 3.0, 9, "learning rate", default=0.1)},
        describe=describe_lr_run,
        title="Full-batch gradient descent on a noisy sine, 1-16-1 tanh network",
        figsize=(10.0, 3.4),
    )


# ---------------------------------------------------------------- many seeds at once
def stacked_mlp(init_seeds: Sequence[int], sizes: Sequence[int] = (2, 16, 1)) -> dict[str, Array]:
    """The initial weights of ``mlp(sizes, "tanh", rng=default_rng(seed))`` for every seed,
    stacked along a new first axis: ``{"W1": (S, h, n_in), "b1": (S, h), "W2": (S, 1, h),
    "b2": (S, 1)}``. The same numbers bpkit draws, so a stacked run starts where
    ``bpkit.mlp`` does."""
    if len(sizes) != 3 or sizes[-1] != 1:
        raise ValueError(f"stacked_mlp builds one-hidden-layer, one-output networks; got {sizes}")
    nets = [mlp(list(sizes), "tanh", rng=np.random.default_rng(s)) for s in init_seeds]
    return {
        name: np.stack([net[k].W if name[0] == "W" else net[k].b for net in nets])
        for name, k in (("W1", 0), ("b1", 0), ("W2", 2), ("b2", 2))
    }


def _bce_logits(Z: Array, Y: Array) -> Array:
    # binary cross-entropy from logits, mean over the examples (axis 1): one value per network
    return np.mean(np.maximum(Z, 0) - Z * Y + np.log1p(np.exp(-np.abs(Z))), axis=(1, 2))


STACKED_OPTIMIZERS = ("sgd", "adagrad", "rmsprop", "adam", "adamw")


class _StackedStep:
    r"""The update rule of one bpkit optimizer, applied to stacked parameters in place.

    Each rule is written exactly as :mod:`bpkit.optim` writes it (the same operations in
    the same order, so the same rounding); the learning rate ``lr`` is an array that
    broadcasts against each parameter, one rate per stacked network."""

    def __init__(self, kind: str, params: list[Array], weight_decay: float = 0.0, **hyper: float):
        if kind not in STACKED_OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {STACKED_OPTIMIZERS}; got {kind!r}")
        self.kind, self.lam, self.t = kind, float(weight_decay), 0
        self.b1, self.b2 = hyper.get("beta1", 0.9), hyper.get("beta2", 0.999)
        self.rho, self.eps = hyper.get("rho", 0.9), hyper.get("eps", 1e-8)
        self.m = [np.zeros_like(p) for p in params]
        self.s = [np.zeros_like(p) for p in params]

    def __call__(self, params: list[Array], grads: list[Array], lrs: list[Array]) -> None:
        kind, lam = self.kind, self.lam
        self.t += 1
        c1, c2 = 1.0 - self.b1**self.t, 1.0 - self.b2**self.t  # Adam's bias corrections
        for p, g, lr, m, s in zip(params, grads, lrs, self.m, self.s, strict=True):
            if lam and kind != "adamw":
                g = g + lam * p  # L2 in the loss: the penalty's gradient joins g
            if kind == "sgd":
                p -= lr * g
            elif kind == "adagrad":
                s += g * g  # the running sum of squared gradients
                p -= lr * g / (np.sqrt(s) + self.eps)
            elif kind == "rmsprop":
                s *= self.rho
                s += (1.0 - self.rho) * g * g  # moving average of squared gradients
                p -= lr * g / (np.sqrt(s) + self.eps)
            else:  # adam, adamw
                if kind == "adamw":
                    p *= 1.0 - lr * lam  # decoupled decay, outside the averages
                m *= self.b1
                m += (1.0 - self.b1) * g
                s *= self.b2
                s += (1.0 - self.b2) * g * g
                p -= lr * (m / c1) / (np.sqrt(s / c2) + self.eps)


def train_stacked(
    params: dict[str, Array],
    X: Array,
    y: Array,
    shuffle_seeds: Sequence[int],
    batch_size: int | None,
    lr_table: Array,
    step_losses: bool = True,
    optimizer: str = "sgd",
    weight_decay: float = 0.0,
    step_rms: bool = False,
) -> dict[str, Array]:
    r"""Mini-batch training of ``S`` 2-h-1 tanh networks at once (binary cross-entropy on
    the logit).

    Network ``s`` has its own weights (``params``, as from :func:`stacked_mlp`; updated in
    place), its own shuffling generator ``default_rng(shuffle_seeds[s])`` and its own
    learning rate for every epoch, ``lr_table[s, epoch]``; the number of epochs is
    ``lr_table.shape[1]``. ``optimizer`` is one of :data:`STACKED_OPTIMIZERS`, with the
    defaults of its bpkit class and ``weight_decay`` as there (L2 for all but ``"adamw"``,
    decoupled for ``"adamw"``). Step for step this is what ``bpkit.train`` does to one
    network with that optimizer (the same forward and backward pass, the same batches,
    the same update), vectorised over the networks with batched matrix products, so a
    sweep over seeds costs little more than one run.

    Returns ``full_loss`` (S, epochs): the loss on all of ``(X, y)`` after each epoch;
    ``step_loss`` (S, steps): the loss of each mini-batch before its step (skipped, and
    about a fifth faster, with ``step_losses=False``); with ``step_rms``, ``step_rms``
    (S, epochs): the root mean square, over every weight and bias, of the change one step
    made, averaged over the epoch's steps (how far a step moves a typical parameter).
    """
    W1, b1, W2, b2 = (params[k] for k in ("W1", "b1", "W2", "b2"))
    lr_table = np.asarray(lr_table, dtype=float)
    S, epochs = lr_table.shape
    if len(shuffle_seeds) != S or W1.shape[0] != S:
        raise ValueError(
            f"{W1.shape[0]} networks, {len(shuffle_seeds)} shuffle seeds and {S} rows of "
            "learning rates: they must agree"
        )
    n = len(X)
    B = n if batch_size is None else batch_size
    gens = [np.random.default_rng(seed) for seed in shuffle_seeds]
    update = _StackedStep(optimizer, [W2, b2, W1, b1], weight_decay)
    count = W1[0].size + b1[0].size + W2[0].size + b2[0].size
    full, steps, rms = np.empty((S, epochs)), [], np.zeros((S, epochs))
    for epoch in range(epochs):
        lr = lr_table[:, epoch][:, None, None]
        if B < n:
            order = np.stack([g.permutation(n) for g in gens])  # (S, n): one shuffle each
        else:
            order = np.broadcast_to(np.arange(n), (S, n))
        n_steps = 0
        for start in range(0, n, B):
            idx = order[:, start : start + B]
            Xb, yb = X[idx], y[idx]  # (S, B, n_in), (S, B, 1)
            Z1 = Xb @ W1.transpose(0, 2, 1) + b1[:, None, :]  # forward pass, (S, B, h)
            A1 = np.tanh(Z1)
            Z2 = A1 @ W2.transpose(0, 2, 1) + b2[:, None, :]  # logits, (S, B, 1)
            if step_losses:
                steps.append(_bce_logits(Z2, yb))
            D2 = (sigmoid(Z2) - yb) / idx.shape[1]  # dL/dZ2 = (p - y)/B
            D1 = (D2 @ W2) * (1 - A1 * A1)  # dL/dZ1 = dL/dA1 * tanh'(Z1), tanh' = 1 - A1^2
            grads = [
                D2.transpose(0, 2, 1) @ A1,  # dL/dW2 = D2^T A1
                D2.sum(axis=1),  # dL/db2
                D1.transpose(0, 2, 1) @ Xb,  # dL/dW1 = D1^T X
                D1.sum(axis=1),  # dL/db1
            ]
            before = [W2.copy(), b2.copy(), W1.copy(), b1.copy()] if step_rms else None
            if optimizer == "sgd" and not weight_decay:  # as SGD.step: lr * g, then subtract
                for p, g in zip((W2, b2, W1, b1), grads, strict=True):
                    p -= (lr if p.ndim == 3 else lr[:, :, 0]) * g
            else:
                update([W2, b2, W1, b1], grads, [lr, lr[:, :, 0], lr, lr[:, :, 0]])
            if before is not None:
                sq = sum(
                    np.sum((p - q).reshape(S, -1) ** 2, axis=1)
                    for p, q in zip((W2, b2, W1, b1), before, strict=True)
                )
                rms[:, epoch] += np.sqrt(sq / count)
            n_steps += 1
        rms[:, epoch] /= n_steps
        Z2 = np.tanh(X @ W1.transpose(0, 2, 1) + b1[:, None, :]) @ W2.transpose(0, 2, 1)
        full[:, epoch] = _bce_logits(Z2 + b2[:, None, :], np.broadcast_to(y, (S, n, 1)))
    out = {"full_loss": full, "step_loss": np.array(steps).T if step_losses else None}
    if step_rms:
        out["step_rms"] = rms
    return out


# ---------------------------------------------------------------- optimizer race
def quadratic_tuning(lam_min: float = QUAD_A, lam_max: float = QUAD_B) -> dict[str, float]:
    r"""The best constant settings on a quadratic with curvatures ``lam_min`` and ``lam_max``.

    Gradient descent: :math:`\eta = 2/(\lambda_\text{min} + \lambda_\text{max})`, which makes
    the two extreme directions shrink at the same rate
    :math:`(\kappa - 1)/(\kappa + 1)` per step. Heavy-ball momentum (Polyak):
    :math:`\eta = 4/(\sqrt{\lambda_\text{max}} + \sqrt{\lambda_\text{min}})^2` and
    :math:`\mu = \big((\sqrt\kappa - 1)/(\sqrt\kappa + 1)\big)^2`, rate
    :math:`\sqrt\mu = (\sqrt\kappa - 1)/(\sqrt\kappa + 1)` per step, with
    :math:`\kappa = \lambda_\text{max}/\lambda_\text{min}`.
    """
    if not 0 < lam_min <= lam_max:
        raise ValueError(f"need 0 < lam_min <= lam_max; got {lam_min!r} and {lam_max!r}")
    kappa = lam_max / lam_min
    root = np.sqrt(kappa)
    return {
        "kappa": kappa,
        "gd_lr": 2.0 / (lam_min + lam_max),
        "gd_rate": (kappa - 1) / (kappa + 1),
        "momentum_lr": 4.0 / (np.sqrt(lam_max) + np.sqrt(lam_min)) ** 2,
        "momentum_mu": ((root - 1) / (root + 1)) ** 2,
        "momentum_rate": (root - 1) / (root + 1),
    }


TUNED = quadratic_tuning()
ADAM_LRS = [0.1, 0.5]
ADAM_LR = 0.1  # Adam's default in the race
RACE_STEPS = {"quadratic": 100, "rosenbrock": 500}
RACE_LRS = {
    "quadratic": [0.01, 0.03, TUNED["gd_lr"], TUNED["momentum_lr"]],
    "rosenbrock": [2.5e-4, 1e-3, 2e-3, 3e-3],
}
RACE_MOMENTA = {
    "quadratic": [0.0, TUNED["momentum_mu"], 0.9],
    "rosenbrock": [0.0, 0.5, 0.9],
}
RACE_DEFAULT_LR = {"quadratic": 0.03, "rosenbrock": 1e-3}
RACE_YLIM = (1e-12, 1e6)  # values outside are drawn at the edge of the chart
OPTIMIZERS = ("SGD", "momentum", "Nesterov", "Adam")
COLOURS = {
    "SGD": PALETTE["black"],
    "momentum": PALETTE["blue"],
    "Nesterov": PALETTE["orange"],
    "Adam": PALETTE["purple"],  # not green: next to the blue momentum line they blur
}
STYLES = {"SGD": "-", "momentum": "-", "Nesterov": "--", "Adam": "-."}


@functools.lru_cache(maxsize=4)
def best_sgd(surface: str) -> tuple[float, np.ndarray]:
    """The constant learning rate with which plain gradient descent ends lowest on
    ``surface`` in the race's number of steps, and the values of ``f`` along that run: the
    tuned baseline every optimizer in the race is compared with. Searched on a log grid of
    41 rates from 1e-4 to 1, then on 21 rates between the best one's neighbours; diverging
    runs are excluded."""
    surf = get_surface(surface)
    steps = RACE_STEPS[surface]

    def search(lrs: np.ndarray) -> float:
        final = final_sgd_values(surf, lrs, steps)
        return float(lrs[int(np.argmin(final))])

    coarse = np.geomspace(1e-4, 1.0, 41)
    lr = search(coarse)
    step = coarse[1] / coarse[0]
    lr = search(np.geomspace(lr / step, lr * step, 21))
    return lr, descend(surf, lambda ps: SGD(ps, lr=lr), steps).values


def final_sgd_values(surf: Any, lrs: Sequence[float], steps: int, bound: float = 1e3) -> np.ndarray:
    """The value of ``f`` after ``steps`` steps of plain gradient descent from the surface's
    start, for every learning rate in ``lrs`` at once (``inf`` for a run that diverged).
    Each row does exactly what :func:`~bpcourse.surfaces.descend` with ``SGD`` does (the
    same gradient, ``lr * g``, then the subtraction; the same divergence test), so the
    values are those of separate runs, to the last bit."""
    lr = np.asarray(lrs, dtype=float)[:, None]
    theta = np.tile(np.asarray(surf.start, dtype=float), (len(lr), 1))
    alive = np.ones(len(lr), dtype=bool)
    size = max(np.ptp(surf.xlim), np.ptp(surf.ylim))
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(int(steps)):
            theta[alive] -= surf.grad(theta[alive]) * lr[alive]  # SGD.step: lr * g, subtract
            escaped = ~np.all(np.isfinite(theta), axis=1) | (
                np.max(np.abs(theta), axis=1) > bound * size
            )
            alive &= ~escaped
    return np.where(alive, surf.value(theta), np.inf)


def compute_race(
    surface: str, lr: float, momentum: float, adam_lr: float = ADAM_LR
) -> dict[str, Any]:
    r"""Run the four optimizers from the surface's start point.

    SGD, momentum and Nesterov use ``lr`` (and ``momentum`` :math:`\mu`); Adam uses its
    own learning rate ``adam_lr`` (a step length in parameter units) with
    :math:`\beta_1 = 0.9`, :math:`\beta_2 = 0.999`. Returns, per optimizer, the
    trajectory points, the values of ``f`` along it and whether it diverged, and the tuned
    baseline (:func:`best_sgd`).
    """
    surf = get_surface(surface)
    steps = RACE_STEPS[surface]
    makers = {
        "SGD": lambda ps: SGD(ps, lr=lr),
        "momentum": lambda ps: Momentum(ps, lr=lr, momentum=momentum),
        "Nesterov": lambda ps: Momentum(ps, lr=lr, momentum=momentum, nesterov=True),
        "Adam": lambda ps: Adam(ps, lr=adam_lr),
    }
    runs = {}
    for name, make in makers.items():
        t = descend(surf, make, steps)
        runs[name] = {"points": t.points, "values": t.values, "diverged": t.diverged}
    best_lr, best_values = best_sgd(surface)
    return {
        "surface": surface,
        "lr": lr,
        "momentum": momentum,
        "adam_lr": adam_lr,
        "steps": steps,
        "runs": runs,
        "best_sgd_lr": best_lr,
        "best_sgd": best_values,
    }


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
        f"{surf.name.capitalize()}, {data['steps']} steps, learning rate {data['lr']:.3g}, "
        f"momentum {data['momentum']:.3g}, Adam at its own learning rate {data['adam_lr']:g}: "
        + "; ".join(parts)
        + f". For comparison, plain SGD at its best learning rate ({data['best_sgd_lr']:.3g}) "
        f"reaches f = {data['best_sgd'][-1]:.2g} (dotted grey line)."
    )


def render_race(fig: Any, data: dict[str, Any], params: dict[str, Any]) -> None:
    surf = get_surface(data["surface"])
    ax1 = add_axes(fig, 1, 2, 1)
    ax2 = add_axes(fig, 1, 2, 2)
    X, Y, Z = surf.grid(100)
    levels = np.geomspace(max(Z.min(), 1e-2), Z.max(), 14)
    ax1.contour(X, Y, Z, levels=levels, colors="#999999", linewidths=0.6)
    ax1.plot(*surf.minimum, marker="*", color=PALETTE["vermillion"], ms=12, ls="none")
    ax2.semilogy(
        np.clip(data["best_sgd"], *RACE_YLIM), ":", color="#777777", lw=1.5, label="SGD, best η"
    )
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
        title=f"η {data['lr']:.3g}, μ {data['momentum']:.3g}, Adam η {data['adam_lr']:g}",
    )
    log_yticks(ax2, range(-12, 7, 3))
    ax2.legend(fontsize="small", loc="lower left")


def race_explorer(surface: str = "quadratic") -> Explorer:
    """Sliders for the learning rate (4 values), momentum (3) and Adam's rate (2): 24 frames."""
    get_surface(surface)  # a clear error for an unknown name
    if surface not in RACE_LRS:
        valid = ", ".join(repr(k) for k in RACE_LRS)
        raise ValueError(f"the race runs on {valid}; got {surface!r}")

    def compute(lr: float, momentum: float, adam_lr: float) -> dict[str, Any]:
        return compute_race(surface, lr, momentum, adam_lr)

    return Explorer(
        compute=compute,
        render=render_race,
        sliders={
            "lr": Slider(
                RACE_LRS[surface],
                "η of SGD, momentum and Nesterov",
                RACE_DEFAULT_LR[surface],
                fmt=lambda v: f"{v:.3g}",
            ),
            "momentum": Slider(RACE_MOMENTA[surface], "momentum μ", 0.9, fmt=lambda v: f"{v:.3g}"),
            "adam_lr": Slider(ADAM_LRS, "Adam's learning rate", ADAM_LR),
        },
        describe=describe_race,
        title=f"SGD, momentum, Nesterov and Adam on the {get_surface(surface).name}",
        figsize=(8.0, 3.6),
    )
