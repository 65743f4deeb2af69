r"""Loss functions and their gradients with respect to the prediction (or the logits).

Shapes: predictions and targets are arrays of the same shape ``(n, k)`` (or ``(n,)``),
one row per example; ``softmax_cross_entropy`` also accepts integer class labels of
shape ``(n,)``. Every loss is a mean over the ``n`` examples unless stated otherwise, and
every ``*_grad`` is the exact derivative of *that* loss, so the constant factors agree
(a mean loss has a gradient divided by ``n``).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from bpkit.activations import sigmoid

Array = NDArray[np.floating]

MSE_REDUCTIONS = ("mean", "sum", "half_mean", "half_sum")


def _float_array(x: ArrayLike) -> Array:
    """``x`` as a float32 or float64 (or wider) array; no copy when it already is one."""
    if type(x) is np.ndarray and x.dtype.char in "fd":
        return x  # the common case, checked cheaply
    return np.asarray(x, dtype=np.result_type(np.asarray(x).dtype, np.float32))


def _prepare(
    y_pred: ArrayLike, y_true: ArrayLike, what: str = "y_pred", check_values: bool = True
) -> tuple[Array, Array]:
    y_pred = _float_array(y_pred)
    if type(y_true) is not np.ndarray or y_true.dtype != y_pred.dtype:
        y_true = np.asarray(y_true, dtype=y_pred.dtype)
    if y_pred.shape != y_true.shape:
        raise ValueError(
            f"{what} has shape {y_pred.shape} but y_true has shape {y_true.shape}; "
            "they must match (one row per example)"
        )
    if y_pred.size == 0:
        raise ValueError("the batch is empty: a loss needs at least one example")
    if check_values:
        check_finite(y_pred, what)
    return y_pred, y_true


def check_finite(x: Array, what: str) -> None:
    """Raise a ValueError in words if ``x`` holds NaN or infinity."""
    if not np.all(np.isfinite(x)):
        n_nan, n_inf = int(np.isnan(x).sum()), int(np.isinf(x).sum())
        raise ValueError(
            f"{what} contains {n_nan} NaN and {n_inf} infinite values. This usually means "
            "training diverged earlier (the learning rate is the usual cause: try a smaller one)."
        )


# ---------------------------------------------------------------- mean squared error
def _mse_scale(n: int, reduction: str) -> float:
    scales = {"mean": 1.0 / n, "sum": 1.0, "half_mean": 0.5 / n, "half_sum": 0.5}
    try:
        return scales[reduction]
    except KeyError:
        valid = ", ".join(repr(r) for r in MSE_REDUCTIONS)
        raise ValueError(f"unknown reduction {reduction!r}; choose one of {valid}") from None


def mse(y_pred: ArrayLike, y_true: ArrayLike, reduction: str = "mean") -> float:
    r"""Mean squared error.

    ``reduction`` picks the constant in front of :math:`\sum_i (\hat y_i - y_i)^2` over all
    ``N`` entries: ``"mean"`` :math:`1/N`, ``"sum"`` 1, ``"half_mean"`` :math:`1/(2N)`,
    ``"half_sum"`` :math:`1/2`.
    """
    y_pred, y_true = _prepare(y_pred, y_true)
    r = y_pred - y_true
    return float(_mse_scale(r.size, reduction) * np.sum(r * r))


def mse_grad(y_pred: ArrayLike, y_true: ArrayLike, reduction: str = "mean") -> Array:
    r""":math:`\partial L/\partial \hat y = 2c\,(\hat y - y)` where ``c`` is the reduction's constant."""
    y_pred, y_true = _prepare(y_pred, y_true)
    return 2.0 * _mse_scale(y_pred.size, reduction) * (y_pred - y_true)


def mse_and_grad(
    y_pred: ArrayLike, y_true: ArrayLike, reduction: str = "mean"
) -> tuple[float, Array]:
    r"""``(mse(y_pred, y_true), mse_grad(y_pred, y_true))`` from one residual, for training.

    :math:`r = \hat y - y`, :math:`L = c \sum r^2`, :math:`\partial L/\partial \hat y = 2c\,r`.
    A NaN or infinity in ``y_pred`` is caught from the loss value (no scan of the array)
    and reported in the same words as :func:`mse`.
    """
    y_pred, y_true = _prepare(y_pred, y_true, check_values=False)
    r = y_pred - y_true  # the residual
    c = _mse_scale(r.size, reduction)
    value = c * float(np.vdot(r, r))  # c * sum of squared residuals
    if not math.isfinite(value):
        check_finite(y_pred, "y_pred")
    r *= 2.0 * c  # dL/dy_pred = 2c (y_pred - y_true), written over the residual
    return value, r


# ---------------------------------------------------------------- binary cross-entropy
def _clip_eps(dtype: np.dtype) -> float:
    return 1e-12 if dtype == np.float64 else 1e-7


def binary_cross_entropy(p: ArrayLike, y: ArrayLike) -> float:
    r"""Binary cross-entropy from probabilities,
    :math:`L = -\frac1N \sum_i \left[y_i \log p_i + (1 - y_i) \log(1 - p_i)\right]`.

    ``p`` is clipped to :math:`[\epsilon, 1-\epsilon]` so that a probability of exactly
    0 or 1 gives a large finite loss instead of ``inf``; prefer
    :func:`binary_cross_entropy_with_logits`, which needs no clipping.
    """
    p, y = _prepare(p, y, "p")
    if np.any((p < 0) | (p > 1)):
        raise ValueError("p must hold probabilities in [0, 1]; for raw scores use the logits form")
    eps = _clip_eps(p.dtype)
    p = np.clip(p, eps, 1 - eps)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def binary_cross_entropy_grad(p: ArrayLike, y: ArrayLike) -> Array:
    r""":math:`\partial L/\partial p_i = \frac1N \frac{p_i - y_i}{p_i (1 - p_i)}`."""
    p, y = _prepare(p, y, "p")
    eps = _clip_eps(p.dtype)
    p = np.clip(p, eps, 1 - eps)
    return (p - y) / (p * (1 - p)) / p.size


def binary_cross_entropy_with_logits(z: ArrayLike, y: ArrayLike) -> float:
    r"""Binary cross-entropy of :math:`p = \sigma(z)`, computed from the logits ``z``.

    Uses :math:`L_i = \max(z_i, 0) - z_i y_i + \log(1 + e^{-|z_i|})`, which equals the
    probability form exactly but never takes the log of 0 or overflows.
    """
    z, y = _prepare(z, y, "z")
    return float(np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))))


def binary_cross_entropy_with_logits_grad(z: ArrayLike, y: ArrayLike) -> Array:
    r""":math:`\partial L/\partial z_i = \frac1N(\sigma(z_i) - y_i)`: the famous :math:`p - y`."""
    z, y = _prepare(z, y, "z")
    return (sigmoid(z) - y) / z.size


# ---------------------------------------------------------------- softmax cross-entropy
def logsumexp(z: ArrayLike, axis: int = -1) -> Array:
    r""":math:`\log \sum_j e^{z_j}` along ``axis``, shifted by :math:`\max_j z_j` so it never overflows."""
    z = np.asarray(z, dtype=np.result_type(np.asarray(z).dtype, np.float32))
    m = np.max(z, axis=axis, keepdims=True)
    return np.squeeze(m, axis=axis) + np.log(np.sum(np.exp(z - m), axis=axis))


def softmax(z: ArrayLike, axis: int = -1) -> Array:
    r""":math:`\mathrm{softmax}(z)_j = e^{z_j} / \sum_k e^{z_k}`, computed without overflow."""
    z = np.asarray(z, dtype=np.result_type(np.asarray(z).dtype, np.float32))
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(z: ArrayLike, axis: int = -1) -> Array:
    r""":math:`\log\mathrm{softmax}(z) = z - \mathrm{logsumexp}(z)`."""
    z = np.asarray(z, dtype=np.result_type(np.asarray(z).dtype, np.float32))
    return z - np.expand_dims(logsumexp(z, axis=axis), axis)


def _one_hot_targets(logits: Array, y: ArrayLike) -> Array:
    y = np.asarray(y)
    if logits.ndim != 2:
        raise ValueError(f"logits must have shape (n, classes); got shape {logits.shape}")
    n, k = logits.shape
    if y.shape == (n,) and np.issubdtype(y.dtype, np.integer):
        if y.min(initial=0) < 0 or y.max(initial=0) >= k:
            raise ValueError(f"class labels must lie in 0..{k - 1} for {k} classes")
        Y = np.zeros_like(logits)
        Y[np.arange(n), y] = 1.0
        return Y
    if y.shape != logits.shape:
        raise ValueError(
            f"logits have shape {logits.shape} but y has shape {y.shape}; give y as integer "
            f"labels of shape ({n},) or as one-hot rows of shape {logits.shape}"
        )
    return y.astype(logits.dtype)


def softmax_cross_entropy(logits: ArrayLike, y: ArrayLike) -> float:
    r"""Mean cross-entropy of :math:`\mathrm{softmax}(z)` against labels or one-hot rows,
    :math:`L = -\frac1n \sum_i \sum_j Y_{ij} \log \mathrm{softmax}(z_i)_j`, via log-sum-exp."""
    logits = np.asarray(logits, dtype=np.result_type(np.asarray(logits).dtype, np.float32))
    if logits.size == 0:
        raise ValueError("the batch is empty: a loss needs at least one example")
    check_finite(logits, "logits")
    Y = _one_hot_targets(logits, y)
    return float(-np.sum(Y * log_softmax(logits)) / logits.shape[0])


def softmax_cross_entropy_grad(logits: ArrayLike, y: ArrayLike) -> Array:
    r""":math:`\partial L/\partial z = \frac1n(\mathrm{softmax}(z) - Y)`."""
    logits = np.asarray(logits, dtype=np.result_type(np.asarray(logits).dtype, np.float32))
    if logits.size == 0:
        raise ValueError("the batch is empty: a loss needs at least one example")
    check_finite(logits, "logits")
    Y = _one_hot_targets(logits, y)
    return (softmax(logits) - Y) / logits.shape[0]


def _row_max(z: Array) -> Array:
    """``z.max(axis=1, keepdims=True)`` for a 2-D ``z``, computed faster for few columns.

    numpy reduces a short last axis one row at a time; with the ten or fewer classes of a
    typical softmax, one ``np.maximum`` per column over all rows at once is 3-6 times
    faster. (The training loss below takes its row sums as a matrix-vector product for
    the same reason.)
    """
    if z.shape[1] > 32:
        return z.max(axis=1, keepdims=True)
    m = z[:, 0].copy()
    for j in range(1, z.shape[1]):
        np.maximum(m, z[:, j], out=m)
    return m[:, None]


def softmax_cross_entropy_and_grad(logits: ArrayLike, y: ArrayLike) -> tuple[float, Array]:
    r"""``(softmax_cross_entropy(z, y), softmax_cross_entropy_grad(z, y))`` sharing one
    softmax, for training.

    With :math:`s = z - \max_j z_j` (so :math:`e^s` cannot overflow), :math:`\log p = s -
    \log \sum_j e^{s_j}`, :math:`L = -\frac1n \sum_{ij} Y_{ij} \log p_{ij}` and
    :math:`\partial L/\partial z = \frac1n (p - Y)`. Integer labels pick one entry per row
    instead of building one-hot rows. A NaN or infinity in the logits is caught from the
    loss value and reported in the same words as :func:`softmax_cross_entropy`.
    """
    logits = _float_array(logits)
    if logits.size == 0:
        raise ValueError("the batch is empty: a loss needs at least one example")
    if logits.ndim != 2:
        raise ValueError(f"logits must have shape (n, classes); got shape {logits.shape}")
    n, k = logits.shape
    s = logits - _row_max(logits)  # shifted logits: at most 0
    p = np.exp(s)
    row_sums = p @ np.ones((k, 1), dtype=p.dtype)  # sum over each row, as a column
    p /= row_sums  # softmax probabilities
    y = np.asarray(y)
    if y.shape == (n,) and y.dtype.kind in "iu":
        if y.min(initial=0) < 0 or y.max(initial=0) >= k:
            raise ValueError(f"class labels must lie in 0..{k - 1} for {k} classes")
        rows = np.arange(n)
        # -log p[i, y_i] = log sum_j e^{s_ij} - s[i, y_i]
        value = float(np.log(row_sums).sum() - s[rows, y].sum()) / n
        p[rows, y] -= 1.0  # p - Y for one-hot Y
    else:
        Y = _one_hot_targets(logits, y)
        value = -float(np.vdot(Y, s - np.log(row_sums))) / n
        p -= Y
    if not math.isfinite(value):
        check_finite(logits, "logits")
    p /= n  # the loss is a mean over the n examples
    return value, p


LossFn = Callable[[ArrayLike, ArrayLike], float]
LossGrad = Callable[[ArrayLike, ArrayLike], Array]

LOSSES: dict[str, tuple[LossFn, LossGrad]] = {
    "mse": (mse, mse_grad),
    "binary_cross_entropy": (binary_cross_entropy, binary_cross_entropy_grad),
    "binary_cross_entropy_with_logits": (
        binary_cross_entropy_with_logits,
        binary_cross_entropy_with_logits_grad,
    ),
    "softmax_cross_entropy": (softmax_cross_entropy, softmax_cross_entropy_grad),
}


LossAndGrad = Callable[[ArrayLike, ArrayLike], tuple[float, Array]]

# Losses with a one-pass ``(value, gradient)`` form; the others pair their two functions.
_FUSED: dict[str, LossAndGrad] = {
    "mse": mse_and_grad,
    "softmax_cross_entropy": softmax_cross_entropy_and_grad,
}


def get_loss_and_grad(name: str) -> LossAndGrad:
    """Return ``f(y_pred, y) -> (loss, dloss/dy_pred)`` for a loss name, as the training
    step uses it: the same numbers as ``get_loss(name)``'s two functions, in one pass."""
    if isinstance(name, str) and name in _FUSED:
        return _FUSED[name]
    loss_fn, loss_grad = get_loss(name)  # validates the name, in words

    def both(y_pred: ArrayLike, y: ArrayLike) -> tuple[float, Array]:
        return loss_fn(y_pred, y), loss_grad(y_pred, y)

    return both


def get_loss(name: str) -> tuple[LossFn, LossGrad]:
    """Return ``(loss, loss_grad)`` for a loss name such as ``"mse"``."""
    try:
        return LOSSES[name]
    except (KeyError, TypeError):
        valid = ", ".join(repr(k) for k in LOSSES)
        raise ValueError(f"unknown loss {name!r}; choose one of {valid}") from None
