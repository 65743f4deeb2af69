r"""The training loop: forward, loss, backward, update; repeated, with a record kept.

One step on a batch ``(X, Y)``::

    out  = model.forward(X)           # forward pass
    L    = loss(out, Y)               # how wrong we are
    model.backward(loss_grad(out, Y)) # backward pass: fills every dW, db
    optimizer.step()                  # W <- W - lr * dW (or Momentum, Adam)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from bpkit.layers import Layer, as_generator
from bpkit.losses import get_loss
from bpkit.optim import Optimizer


class TrainingDiverged(FloatingPointError):
    """The loss became NaN or infinite during training."""


@dataclass
class History:
    """What a training run recorded: one mean loss per epoch (and per step)."""

    loss: list[float] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)

    @property
    def final_loss(self) -> float:
        if not self.loss:
            raise ValueError("no epoch has finished yet")
        return self.loss[-1]


def train_step(model: Layer, X, Y, loss: str, optimizer: Optimizer) -> float:
    """One gradient-descent step on the batch ``(X, Y)``; returns the loss before the step."""
    loss_fn, loss_grad = get_loss(loss)
    out = model.forward(X)
    value = loss_fn(out, Y)
    model.backward(loss_grad(out, Y))
    optimizer.step()
    return value


def train(
    model: Layer,
    X: ArrayLike,
    Y: ArrayLike,
    *,
    loss: str,
    optimizer: Optimizer,
    epochs: int,
    batch_size: int | None = None,
    rng: np.random.Generator | int | None = None,
    progress: bool = False,
    callback: Callable[[int, History], None] | None = None,
) -> History:
    """Train ``model`` on ``(X, Y)``; return the :class:`History` of losses.

    ``batch_size=None`` is full-batch gradient descent; a smaller batch is mini-batch
    (``1`` is stochastic) gradient descent, shuffled each epoch with ``rng``.
    ``progress=True`` shows a progress bar (tqdm). ``callback(epoch, history)`` runs
    after every epoch, e.g. to record validation accuracy in ``history.metrics``.

    Raises :class:`TrainingDiverged` as soon as the loss is NaN or infinite.
    """
    X, Y = np.asarray(X), np.asarray(Y)
    n = X.shape[0] if X.ndim else 0
    if n == 0:
        raise ValueError("the training set is empty: X has no rows")
    if Y.shape[0] != n:
        raise ValueError(f"X has {n} rows but Y has {Y.shape[0]}: one target per example")
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive whole number; got {epochs!r}")
    if batch_size is None:
        batch_size = n
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive whole number; got {batch_size!r}")
    gen = as_generator(rng, "train with mini-batches") if batch_size < n else None

    history = History()
    epoch_iter = range(epochs)
    if progress:
        from tqdm.auto import tqdm  # imported only when asked for

        epoch_iter = tqdm(epoch_iter, desc="training", unit="epoch")
    for epoch in epoch_iter:
        order = gen.permutation(n) if gen is not None else np.arange(n)
        total = 0.0
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            try:
                # An overflow means the run is diverging: stop and say so in words.
                with np.errstate(over="raise", invalid="raise"):
                    value = train_step(model, X[idx], Y[idx], loss, optimizer)
            except FloatingPointError as exc:
                raise _diverged(epoch, optimizer) from exc
            except ValueError as exc:
                if "NaN" in str(exc) or "infinite" in str(exc):
                    raise _diverged(epoch, optimizer) from exc
                raise
            if not np.isfinite(value):
                raise _diverged(epoch, optimizer)
            history.step_loss.append(value)
            total += value * len(idx)
        history.loss.append(total / n)
        if progress:
            epoch_iter.set_postfix(loss=f"{history.loss[-1]:.4g}")
        if callback is not None:
            callback(epoch, history)
    return history


def _diverged(epoch: int, optimizer: Optimizer) -> TrainingDiverged:
    return TrainingDiverged(
        f"the loss became NaN or infinite at epoch {epoch + 1} with learning rate "
        f"{optimizer.lr:g}. The steps overshot and grew until the numbers overflowed; the "
        "learning rate is the usual cause: try one 3 to 10 times smaller."
    )
