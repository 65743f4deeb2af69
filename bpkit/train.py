r"""The training loop: forward, loss, backward, update; repeated, with a record kept.

One step on a batch ``(X, Y)``::

    out  = model.forward(X)           # forward pass
    L    = loss(out, Y)               # how wrong we are
    model.backward(loss_grad(out, Y)) # backward pass: fills every dW, db
    optimizer.step()                  # W <- W - lr * dW (or Momentum, Adam)

:func:`train_step` computes ``L`` and ``loss_grad(out, Y)`` together in one pass
(:func:`bpkit.losses.get_loss_and_grad`: the same numbers, computed once) and skips the
gradient with respect to the data ``X``, which no update needs
(``backward(..., input_grad=False)``, part of every layer's contract).

:func:`train` refuses what would make its result meaningless before it starts (NaN in
the data or the weights, an optimizer that holds another model's arrays), and tells
divergence (finite numbers that training made overflow) from broken data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from bpkit.errors import NonFiniteError, ShapeError, count_non_finite
from bpkit.layers import Layer, as_generator
from bpkit.losses import get_loss_and_grad
from bpkit.optim import Optimizer


class TrainingDiverged(FloatingPointError):
    """The loss became NaN or infinite during training, from finite data and weights."""


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
    """One gradient-descent step on the batch ``(X, Y)``; returns the loss before the step.

    The data is not scanned for NaN or infinity (that would cost a pass over ``X`` every
    step; :func:`train` checks it once): a bad entry is named, as the data's fault, by the
    first loss it makes non-finite, at the latest one step later."""
    optimizer.check_model(model)  # its arrays must be the model's, or nothing would train
    loss_and_grad = get_loss_and_grad(loss)
    out = model.forward(X)  # forward pass
    try:
        value, dout = loss_and_grad(out, Y)  # the loss L and dL/d(out)
    except NonFiniteError:
        _check_data(X, Y)  # NaN in the data is the data's fault, not training's
        raise
    # Backward pass: fills every dW, db. dL/dX of the data is not needed for an update.
    model.backward(dout, input_grad=False)
    optimizer.step()  # W <- W - lr * dW (or Momentum, Adam)
    return value


def _check_data(X: np.ndarray, Y: np.ndarray) -> None:
    """Refuse NaN or infinity in the data, in words that do not blame the training."""
    for name, data in (("X", np.asarray(X)), ("Y", np.asarray(Y))):
        if data.dtype.kind not in "biuf":
            raise TypeError(f"{name} must hold real numbers; got an array of dtype {data.dtype}")
        if data.dtype.kind == "f" and not np.all(np.isfinite(data)):
            raise NonFiniteError(
                f"the training data {name} contains {count_non_finite(data)}: the data "
                "itself is broken (not the training). Remove or fill in those entries."
            )


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
    progress: bool | str = False,
    callback: Callable[[int, History], bool | None] | None = None,
) -> History:
    """Train ``model`` on ``(X, Y)``; return the :class:`History` of losses.

    ``batch_size=None`` is full-batch gradient descent; a smaller batch is mini-batch
    (``1`` is stochastic) gradient descent, shuffled each epoch with ``rng``.
    ``progress=True`` shows a progress bar (tqdm.auto: a widget in Jupyter);
    ``progress="text"`` a plain-text bar on stdout, which also reads well in a static page.
    ``callback(epoch, history)`` runs after every epoch, e.g. to record validation
    accuracy in ``history.metrics``; it returns ``True`` to stop training there (see
    :class:`EarlyStopping`), or ``None``/``False`` to go on (anything else is refused).

    Every epoch runs in training mode (``model.train()`` at its start), so a callback may
    switch to ``model.eval()`` to measure; predictions with ``model.predict`` need neither.
    Refuses NaN or infinity in ``X``, ``Y`` or the starting weights. Raises
    :class:`TrainingDiverged` as soon as the loss is NaN or infinite.
    """
    X, Y = np.asarray(X), np.asarray(Y)
    _check_data(X, Y)
    n = X.shape[0] if X.ndim else 0
    if n == 0:
        raise ValueError("the training set is empty: X has no rows")
    if Y.ndim == 0 or Y.shape[0] != n:
        rows = Y.shape[0] if Y.ndim else "no rows (a single number)"
        raise ShapeError(f"X has {n} rows but Y has {rows}: one target per example")
    epochs = _whole("epochs", epochs)
    batch_size = n if batch_size is None else _whole("batch_size", batch_size)
    gen = as_generator(rng, "train with mini-batches") if batch_size < n else None
    optimizer.check_model(model)
    for p in model.parameters():
        if not np.all(np.isfinite(p.value)):
            raise NonFiniteError(
                f"the model's parameter {p.name} holds {count_non_finite(p.value)} before "
                "training starts (a previous run diverged?): build the model again"
            )

    history = History()
    epoch_iter = _progress_bar(epochs, progress) if progress else range(epochs)
    try:
        for epoch in epoch_iter:
            model.train()  # batch statistics, not running averages, while fitting
            order = gen.permutation(n) if gen is not None else np.arange(n)
            total = 0.0
            for start in range(0, n, batch_size):
                idx = order[start : start + batch_size]
                try:
                    # An overflow means the run is diverging: stop and say so in words.
                    with np.errstate(over="raise", invalid="raise"):
                        value = train_step(model, X[idx], Y[idx], loss, optimizer)
                except (FloatingPointError, NonFiniteError) as exc:
                    raise _diverged(epoch, optimizer) from exc
                if not np.isfinite(value):
                    raise _diverged(epoch, optimizer)
                history.step_loss.append(value)
                total += value * len(idx)
            history.loss.append(total / n)
            if progress:
                epoch_iter.set_postfix(loss=f"{history.loss[-1]:.4g}", refresh=False)
            if callback is not None and _stop(callback(epoch, history)):
                break
    finally:
        if progress:
            epoch_iter.close()  # also when training diverged: no bar left open
    return history


def _whole(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive whole number; got {value!r}")
    return int(value)


def _stop(answer: object) -> bool:
    """A callback's answer: True stops, None or False goes on; anything else is refused,
    since a stray truthy value (a list, a number) would stop training by accident."""
    if answer is None or isinstance(answer, bool | np.bool_):
        return bool(answer)
    raise TypeError(
        f"the callback returned {answer!r}; return True to stop training, or None (or "
        "False) to go on"
    )


def _progress_bar(epochs: int, kind: bool | str):
    """A tqdm bar over the epochs: ``True`` for tqdm.auto, ``"text"`` for plain text on stdout."""
    if kind is True:
        from tqdm.auto import tqdm  # imported only when asked for

        return tqdm(range(epochs), desc="training", unit="epoch")
    if kind == "text":
        import sys

        from tqdm import tqdm

        # About six refreshes: a live line in Jupyter, a short log in a static page. The
        # interval does not divide `epochs`, so the last line is printed once, by close().
        every = max(1, epochs // 5)
        while epochs % every == 0 and every < epochs - 1:
            every += 1
        return tqdm(
            range(epochs),
            desc="training",
            unit="epoch",
            file=sys.stdout,
            miniters=every,
            mininterval=0.0,
        )
    raise ValueError(f"progress must be True, False or 'text'; got {kind!r}")


def _diverged(epoch: int, optimizer: Optimizer) -> TrainingDiverged:
    return TrainingDiverged(
        f"the loss became NaN or infinite at epoch {epoch + 1} with learning rate "
        f"{optimizer.lr:g}. The steps overshot and grew until the numbers overflowed; the "
        "learning rate is the usual cause: try one 3 to 10 times smaller."
    )


class EarlyStopping:
    r"""A :func:`train` callback: stop when a recorded number has not improved for a while.

    After every epoch it reads ``history.metrics[monitor][-1]`` (recorded by an earlier
    callback, typically the validation loss; lower is better). An epoch is an improvement
    if the value is below the best so far by more than ``min_delta``; then a copy of the
    parameters (and of the running averages of any ``BatchNorm``, ``model.buffers()``) is
    kept. After ``patience`` epochs without improvement it returns ``True``, which stops
    :func:`train`. :meth:`restore_best` copies the kept arrays back.
    Used again in a new :func:`train` run (a new ``History``), it starts afresh.

    Example::

        stop = EarlyStopping(model, monitor="val_loss", patience=10)
        def callback(epoch, history):
            history.metrics.setdefault("val_loss", []).append(val_loss(model))
            return stop(epoch, history)
        train(model, X, y, ..., callback=callback)
        stop.restore_best()
    """

    def __init__(
        self, model: Layer, monitor: str = "val_loss", patience: int = 10, min_delta: float = 0.0
    ) -> None:
        if isinstance(patience, bool) or not isinstance(patience, int | np.integer) or patience < 1:
            raise ValueError(
                f"patience must be a positive whole number of epochs; got {patience!r}"
            )
        if not min_delta >= 0:
            raise ValueError(f"min_delta must be zero or positive; got {min_delta!r}")
        self.params = model.parameters()
        self.arrays = [p.value for p in self.params] + model.buffers()  # what "best" restores
        self.monitor, self.patience, self.min_delta = monitor, int(patience), float(min_delta)
        self._best = [a.copy() for a in self.arrays]
        self._start(None)

    def _start(self, history: History | None) -> None:
        self.history = history  # the run being watched
        self.best_value = float("inf")
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None

    def __call__(self, epoch: int, history: History) -> bool:
        if history is not self.history:  # a new run: nothing from the last one counts
            self._start(history)
        values = history.metrics.get(self.monitor)
        if not values:
            have = ", ".join(repr(k) for k in history.metrics) or "none"
            raise ValueError(
                f"EarlyStopping monitors history.metrics[{self.monitor!r}], but nothing was "
                f"recorded under that name (recorded: {have}); record it in a callback that "
                "runs before this one"
            )
        value = values[-1]
        if value < self.best_value - self.min_delta:
            self.best_value, self.best_epoch = value, epoch
            for kept, a in zip(self._best, self.arrays, strict=True):
                kept[...] = a
        elif epoch - (-1 if self.best_epoch is None else self.best_epoch) >= self.patience:
            self.stopped_epoch = epoch
            return True
        return False

    def restore_best(self) -> None:
        """Copy the parameters (and running averages) of the best epoch back, in place."""
        if self.best_epoch is None:
            raise RuntimeError("no epoch has been seen yet: train with this callback first")
        for kept, a in zip(self._best, self.arrays, strict=True):
            a[...] = kept
