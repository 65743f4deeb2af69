r"""Loss functions and their gradients with respect to the prediction (or the logits).

Shapes: predictions and targets are arrays of the same shape ``(n, k)`` (or ``(n,)``),
one row per example; ``softmax_cross_entropy`` also accepts integer class labels of
shape ``(n,)``. Every loss is a mean over the ``n`` examples unless stated otherwise, and
every ``*_grad`` is the exact derivative of *that* loss, so the constant factors agree
(a mean loss has a gradient divided by ``n``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from bpkit.activations import sigmoid

Array = NDArray[np.floating]

MSE_REDUCTIONS = ("mean", "sum", "half_mean", "half_sum")


def _prepare(y_pred: ArrayLike, y_true: ArrayLike, what: str = "y_pred") -> tuple[Array, Array]:
    y_pred = np.asarray(y_pred, dtype=np.result_type(np.asarray(y_pred).dtype, np.float32))
    y_true = np.asarray(y_true, dtype=y_pred.dtype)
    if y_pred.shape != y_true.shape:
        raise ValueError(
            f"{what} has shape {y_pred.shape} but y_true has shape {y_true.shape}; "
            "they must match (one row per example)"
        )
    if y_pred.size == 0:
        raise ValueError("the batch is empty: a loss needs at least one example")
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
    check_finite(logits, "logits")
    Y = _one_hot_targets(logits, y)
    return (softmax(logits) - Y) / logits.shape[0]


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


def get_loss(name: str) -> tuple[LossFn, LossGrad]:
    """Return ``(loss, loss_grad)`` for a loss name such as ``"mse"``."""
    try:
        return LOSSES[name]
    except (KeyError, TypeError):
        valid = ", ".join(repr(k) for k in LOSSES)
        raise ValueError(f"unknown loss {name!r}; choose one of {valid}") from None
