r"""Loss functions and their gradients with respect to the prediction (or the logits).

Every loss and every gradient takes its arguments in the order **(prediction, target)**,
as every loss and metric in bpkit does. Shapes and constants:

* :func:`mse`: prediction and target of the same shape, ``(n,)`` or ``(n, k)``; the
  constant in front of the sum of squares is set by ``reduction``, and ``"mean"`` divides
  by the number of *entries* :math:`N = nk`, not by the number of examples ``n``;
* :func:`binary_cross_entropy` and its ``_with_logits`` form: the same shapes, targets in
  :math:`[0, 1]`, a mean over all :math:`N` entries;
* :func:`softmax_cross_entropy`: logits ``(n, k)`` with :math:`k \ge 2` classes, targets as
  integer labels ``(n,)`` or as rows ``(n, k)`` of class probabilities (one-hot or soft),
  a mean over the ``n`` rows.

Every ``*_grad`` is the exact derivative of *that* loss, so the constant factors agree,
and it refuses exactly the inputs its loss refuses. ``LOSSES`` maps each name to a
:class:`LossFunction`; :func:`register_loss` adds one, and the tests gradient-check it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from bpkit.activations import sigmoid
from bpkit.errors import NonFiniteError, ShapeError, count_non_finite

Array = NDArray[np.floating]

MSE_REDUCTIONS = ("mean", "sum", "half_mean", "half_sum")


# ---------------------------------------------------------------- checking the inputs
def _float_array(x: ArrayLike, what: str = "the prediction") -> Array:
    """``x`` as a float32 or float64 (or wider) array; no copy when it already is one."""
    if type(x) is np.ndarray and x.dtype.char in "fd":
        return x  # the common case, checked cheaply
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise TypeError(f"{what} must hold real numbers; got an array of dtype {x.dtype}")
    return x.astype(np.result_type(x.dtype, np.float32), copy=False)


def _pair(y_pred: ArrayLike, y_true: ArrayLike, what: str = "y_pred") -> tuple[Array, Array]:
    """Prediction and target as float arrays of one dtype and one shape, not empty."""
    y_pred = _float_array(y_pred, what)
    if type(y_true) is not np.ndarray or y_true.dtype != y_pred.dtype:
        y_true = _float_array(y_true, "y_true").astype(y_pred.dtype, copy=False)
    if y_pred.shape != y_true.shape:
        raise ShapeError(
            f"{what} has shape {y_pred.shape} but y_true has shape {y_true.shape}; "
            "they must match (one row per example)"
        )
    if y_pred.size == 0:
        raise ValueError("the batch is empty: a loss needs at least one example")
    return y_pred, y_true


def check_finite(x: Array, what: str) -> None:
    """Raise :class:`~bpkit.errors.NonFiniteError` in words if ``x`` holds NaN or infinity.

    ``what`` names the array; a target (``y_true``, ``y``) is blamed on the data, a
    prediction on the usual causes of a non-finite prediction."""
    if np.all(np.isfinite(x)):
        return
    if what in ("y_true", "y", "the targets"):
        cause = "The targets come from the data: look for NaN or infinite values in it."
    else:
        cause = (
            "A prediction becomes NaN or infinite when the input X holds NaN or infinity, "
            "or when training diverges (a learning rate that is too large is the usual cause)."
        )
    raise NonFiniteError(f"{what} contains {count_non_finite(x)}. {cause}")


def _check_probabilities(x: Array, what: str, hint: str) -> None:
    outside = (x < 0) | (x > 1)
    if np.any(outside):
        raise ValueError(
            f"{what} must hold probabilities in [0, 1]; {int(outside.sum())} entries are "
            f"outside, e.g. {float(x[outside][0])!r}. {hint}"
        )


_TARGETS_01 = "A target is 0 or 1 for a hard label, or in between for a soft one."


# ---------------------------------------------------------------- mean squared error
def _mse_scale(size: int, reduction: str) -> float:
    if reduction == "mean":
        return 1.0 / size  # the common case, without building the table
    scales = {"mean": 1.0 / size, "sum": 1.0, "half_mean": 0.5 / size, "half_sum": 0.5}
    try:
        return scales[reduction]
    except (KeyError, TypeError):
        valid = ", ".join(repr(r) for r in MSE_REDUCTIONS)
        raise ValueError(f"unknown reduction {reduction!r}; choose one of {valid}") from None


def _mse_inputs(y_pred: ArrayLike, y_true: ArrayLike) -> tuple[Array, Array]:
    y_pred, y_true = _pair(y_pred, y_true)
    check_finite(y_pred, "y_pred")
    check_finite(y_true, "y_true")
    return y_pred, y_true


def mse(y_pred: ArrayLike, y_true: ArrayLike, reduction: str = "mean") -> float:
    r"""Squared error :math:`c \sum_i (\hat y_i - y_i)^2` over all ``N`` entries.

    ``reduction`` picks the constant ``c``: ``"mean"`` :math:`1/N`, ``"sum"`` 1,
    ``"half_mean"`` :math:`1/(2N)`, ``"half_sum"`` :math:`1/2`. For ``(n, k)`` arrays
    :math:`N = nk`: ``"mean"`` averages over every entry, not over the ``n`` examples.
    """
    y_pred, y_true = _mse_inputs(y_pred, y_true)
    r = y_pred - y_true
    return float(_mse_scale(r.size, reduction) * np.sum(r * r))


def mse_grad(y_pred: ArrayLike, y_true: ArrayLike, reduction: str = "mean") -> Array:
    r""":math:`\partial L/\partial \hat y = 2c\,(\hat y - y)` where ``c`` is the reduction's constant."""
    y_pred, y_true = _mse_inputs(y_pred, y_true)
    return 2.0 * _mse_scale(y_pred.size, reduction) * (y_pred - y_true)


def mse_and_grad(
    y_pred: ArrayLike, y_true: ArrayLike, reduction: str = "mean"
) -> tuple[float, Array]:
    r"""``(mse(y_pred, y_true), mse_grad(y_pred, y_true))`` from one residual, for training.

    :math:`r = \hat y - y`, :math:`L = c \sum r^2`, :math:`\partial L/\partial \hat y = 2c\,r`.
    A NaN or infinity is caught from the loss value (no scan of the arrays) and reported
    in the same words as :func:`mse`.
    """
    y_pred, y_true = _pair(y_pred, y_true)
    r = y_pred - y_true  # the residual
    c = _mse_scale(r.size, reduction)
    value = c * float(np.vdot(r, r))  # c * sum of squared residuals
    if not math.isfinite(value):
        _mse_inputs(y_pred, y_true)  # says which array holds NaN or infinity
    r *= 2.0 * c  # dL/dy_pred = 2c (y_pred - y_true), written over the residual
    return value, r


# ---------------------------------------------------------------- binary cross-entropy
def _clip_eps(dtype: np.dtype) -> float:
    return 1e-12 if dtype == np.float64 else 1e-7


def _bce_inputs(p: ArrayLike, y: ArrayLike) -> tuple[Array, Array]:
    p, y = _pair(p, y, "p")
    check_finite(p, "p")
    check_finite(y, "y")
    _check_probabilities(p, "p", "For raw scores (logits) use binary_cross_entropy_with_logits.")
    _check_probabilities(y, "y", _TARGETS_01)
    return p, y


def binary_cross_entropy(p: ArrayLike, y: ArrayLike) -> float:
    r"""Binary cross-entropy from probabilities,
    :math:`L = -\frac1N \sum_i \left[y_i \log p_i + (1 - y_i) \log(1 - p_i)\right]`.

    ``p`` is clipped to :math:`[\epsilon, 1-\epsilon]` so that a probability of exactly
    0 or 1 gives a large finite loss instead of ``inf``; prefer
    :func:`binary_cross_entropy_with_logits`, which needs no clipping.
    """
    p, y = _bce_inputs(p, y)
    eps = _clip_eps(p.dtype)
    p = np.clip(p, eps, 1 - eps)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def binary_cross_entropy_grad(p: ArrayLike, y: ArrayLike) -> Array:
    r""":math:`\partial L/\partial p_i = \frac1N \frac{p_i - y_i}{p_i (1 - p_i)}`."""
    p, y = _bce_inputs(p, y)
    eps = _clip_eps(p.dtype)
    p = np.clip(p, eps, 1 - eps)
    return (p - y) / (p * (1 - p)) / p.size


def _bce_logit_inputs(z: ArrayLike, y: ArrayLike) -> tuple[Array, Array]:
    z, y = _pair(z, y, "z")
    check_finite(z, "z")
    check_finite(y, "y")
    _check_probabilities(y, "y", _TARGETS_01)
    return z, y


def binary_cross_entropy_with_logits(z: ArrayLike, y: ArrayLike) -> float:
    r"""Binary cross-entropy of :math:`p = \sigma(z)`, computed from the logits ``z``.

    Uses :math:`L_i = \max(z_i, 0) - z_i y_i + \log(1 + e^{-|z_i|})`, which equals the
    probability form exactly but never takes the log of 0 or overflows.
    """
    z, y = _bce_logit_inputs(z, y)
    return float(np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))))


def binary_cross_entropy_with_logits_grad(z: ArrayLike, y: ArrayLike) -> Array:
    r""":math:`\partial L/\partial z_i = \frac1N(\sigma(z_i) - y_i)`: the famous :math:`p - y`."""
    z, y = _bce_logit_inputs(z, y)
    return (sigmoid(z) - y) / z.size


# ---------------------------------------------------------------- softmax cross-entropy
def logsumexp(z: ArrayLike, axis: int = -1) -> Array:
    r""":math:`\log \sum_j e^{z_j}` along ``axis``, shifted by :math:`\max_j z_j` so it never overflows."""
    z = _float_array(z, "z")
    m = np.max(z, axis=axis, keepdims=True)
    return np.squeeze(m, axis=axis) + np.log(np.sum(np.exp(z - m), axis=axis))


def softmax(z: ArrayLike, axis: int = -1) -> Array:
    r""":math:`\mathrm{softmax}(z)_j = e^{z_j} / \sum_k e^{z_k}`, computed without overflow."""
    z = _float_array(z, "z")
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(z: ArrayLike, axis: int = -1) -> Array:
    r""":math:`\log\mathrm{softmax}(z)_j = s_j - \log \sum_k e^{s_k}` with
    :math:`s = z - \max_k z_k`.

    Shifting first keeps the small differences between logits: with float32 logits near
    :math:`10^8`, :math:`z - \mathrm{logsumexp}(z)` would round to 0 instead of
    :math:`-\log k`.
    """
    z = _float_array(z, "z")
    s = z - np.max(z, axis=axis, keepdims=True)  # shifted logits: at most 0
    return s - np.log(np.sum(np.exp(s), axis=axis, keepdims=True))


def _softmax_inputs(logits: ArrayLike, y: ArrayLike) -> tuple[Array, NDArray]:
    """Logits ``(n, k)`` with ``k >= 2``, and the targets as labels ``(n,)`` or as rows of
    probabilities ``(n, k)`` (returned as an integer or a float array), checked."""
    logits = _float_array(logits, "logits")
    if logits.size == 0:
        raise ValueError("the batch is empty: a loss needs at least one example")
    if logits.ndim != 2:
        raise ShapeError(f"logits must have shape (n, classes); got shape {logits.shape}")
    n, k = logits.shape
    if k < 2:
        raise ShapeError(
            f"softmax over {k} class is always 1, so the loss is 0 and the gradient 0 "
            f"whatever the logits (shape {logits.shape}). For two classes use one logit "
            "per example with binary_cross_entropy_with_logits, or give two logits."
        )
    y = np.asarray(y)
    if y.shape == (n,) and y.dtype.kind in "iu":
        if y.min(initial=0) < 0 or y.max(initial=0) >= k:
            raise ValueError(f"class labels must lie in 0..{k - 1} for {k} classes")
        return logits, y
    if y.shape != logits.shape or y.dtype.kind not in "biuf":
        raise ShapeError(
            f"logits have shape {logits.shape} but y has shape {y.shape} (dtype {y.dtype}); "
            f"give y as integer labels of shape ({n},) or as rows of class probabilities "
            f"of shape {logits.shape}"
        )
    Y = y.astype(logits.dtype)
    check_finite(Y, "y")
    _check_probabilities(Y, "y", "Each row of y holds class probabilities.")
    tol = 1e-9 if Y.dtype == np.float64 else 1e-4
    if not np.allclose(Y.sum(axis=1), 1.0, rtol=0, atol=tol):
        raise ValueError(
            "each row of y must sum to 1 (a one-hot row, or the probabilities of the "
            "classes): the gradient softmax(z) - y is only right for such rows"
        )
    return logits, Y


def _one_hot(logits: Array, y: NDArray) -> Array:
    if y.ndim == 2:
        return y
    Y = np.zeros_like(logits)
    Y[np.arange(len(y)), y] = 1.0
    return Y


def softmax_cross_entropy(logits: ArrayLike, y: ArrayLike) -> float:
    r"""Mean cross-entropy of :math:`\mathrm{softmax}(z)` against labels or probability rows,
    :math:`L = -\frac1n \sum_i \sum_j Y_{ij} \log \mathrm{softmax}(z_i)_j`."""
    logits, y = _softmax_inputs(logits, y)
    check_finite(logits, "logits")
    return float(-np.sum(_one_hot(logits, y) * log_softmax(logits)) / logits.shape[0])


def softmax_cross_entropy_grad(logits: ArrayLike, y: ArrayLike) -> Array:
    r""":math:`\partial L/\partial z = \frac1n(\mathrm{softmax}(z) - Y)`."""
    logits, y = _softmax_inputs(logits, y)
    check_finite(logits, "logits")
    return (softmax(logits) - _one_hot(logits, y)) / logits.shape[0]


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
    logits, y = _softmax_inputs(logits, y)
    n, k = logits.shape
    s = logits - _row_max(logits)  # shifted logits: at most 0
    p = np.exp(s)
    row_sums = p @ np.ones((k, 1), dtype=p.dtype)  # sum over each row, as a column
    p /= row_sums  # softmax probabilities
    if y.ndim == 1:
        rows = np.arange(n)
        # -log p[i, y_i] = log sum_j e^{s_ij} - s[i, y_i]
        value = float(np.log(row_sums).sum() - s[rows, y].sum()) / n
        p[rows, y] -= 1.0  # p - Y for one-hot Y
    else:
        value = -float(np.vdot(y, s - np.log(row_sums))) / n
        p -= y
    if not math.isfinite(value):
        check_finite(logits, "logits")
    p /= n  # the loss is a mean over the n examples
    return value, p


# ---------------------------------------------------------------- the registry
LossFn = Callable[[ArrayLike, ArrayLike], float]
LossGrad = Callable[[ArrayLike, ArrayLike], Array]
LossAndGrad = Callable[[ArrayLike, ArrayLike], tuple[float, Array]]

PREDICTIONS = ("real", "probability")  # what a loss's first argument may hold
TARGETS = ("real", "probability", "class")  # and its second (class: labels or rows)


@dataclass(frozen=True)
class LossFunction:
    """One registered loss: ``value(prediction, target)``, ``grad`` (the same arguments,
    :math:`\\partial L/\\partial\\,\\text{prediction}`), an optional one-pass
    ``value_and_grad``, and what its two arguments hold (so tests can make valid ones)."""

    name: str
    value: LossFn
    grad: LossGrad
    value_and_grad: LossAndGrad | None = None
    prediction: str = "real"
    target: str = "real"


LOSSES: dict[str, LossFunction] = {}


def register_loss(
    name: str,
    value: LossFn,
    grad: LossGrad,
    value_and_grad: LossAndGrad | None = None,
    *,
    prediction: str = "real",
    target: str = "real",
    replace: bool = False,
) -> LossFunction:
    """Add a loss under ``name``: ``train(loss=name)``, ``gradcheck(loss=name)`` and the
    tests (a gradient check, and "the gradient refuses what the loss refuses") use it."""
    if name in LOSSES and not replace:
        raise ValueError(f"a loss named {name!r} is registered already (replace=True)")
    for what, kind, kinds in (("prediction", prediction, PREDICTIONS), ("target", target, TARGETS)):
        if kind not in kinds:
            raise ValueError(f"{what} must be one of {kinds}; got {kind!r}")
    LOSSES[name] = LossFunction(name, value, grad, value_and_grad, prediction, target)
    return LOSSES[name]


register_loss("mse", mse, mse_grad, mse_and_grad)
register_loss(
    "binary_cross_entropy",
    binary_cross_entropy,
    binary_cross_entropy_grad,
    prediction="probability",
    target="probability",
)
register_loss(
    "binary_cross_entropy_with_logits",
    binary_cross_entropy_with_logits,
    binary_cross_entropy_with_logits_grad,
    target="probability",
)
register_loss(
    "softmax_cross_entropy",
    softmax_cross_entropy,
    softmax_cross_entropy_grad,
    softmax_cross_entropy_and_grad,
    target="class",
)


def lookup_loss(name: str) -> LossFunction:
    """The registered :class:`LossFunction` called ``name``, e.g. ``"mse"``."""
    try:
        return LOSSES[name]
    except (KeyError, TypeError):
        valid = ", ".join(repr(k) for k in LOSSES)
        raise ValueError(f"unknown loss {name!r}; choose one of {valid}") from None


def get_loss(name: str) -> tuple[LossFn, LossGrad]:
    """Return ``(loss, loss_grad)`` for a loss name such as ``"mse"``."""
    entry = lookup_loss(name)
    return entry.value, entry.grad


def get_loss_and_grad(name: str) -> LossAndGrad:
    """Return ``f(y_pred, y) -> (loss, dloss/dy_pred)`` for a loss name, as the training
    step uses it: the same numbers as ``get_loss(name)``'s two functions, in one pass
    where the loss has a one-pass form."""
    entry = lookup_loss(name)
    if entry.value_and_grad is not None:
        return entry.value_and_grad

    def both(y_pred: ArrayLike, y: ArrayLike) -> tuple[float, Array]:
        return entry.value(y_pred, y), entry.grad(y_pred, y)

    return both
