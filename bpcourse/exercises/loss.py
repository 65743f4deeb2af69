r"""Checkers for the exercises of the chapter on loss functions.

Each ``check_*`` takes the learner's function, runs it on a few fixed inputs and returns a
:class:`~bpcourse.exercises.feedback.Feedback`. Before comparing with the right answer it
compares with the *typical wrong answers* (a dropped 2, a sum instead of a mean, brackets
in the wrong place, a missing sigmoid derivative, an overflowing ``exp``) so that a failure
names the mistake rather than just saying "wrong".
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from bpcourse.exercises.feedback import (
    Feedback,
    Mistake,
    check_function,
    failed,
)
from bpkit.activations import sigmoid
from bpkit.losses import binary_cross_entropy, logsumexp, mse_grad

Array = NDArray[np.float64]

__all__ = ["check_bce", "check_logsumexp", "check_mse_grad", "check_sigmoid_mse_logit_grad"]


# ---------------------------------------------------------------- ex-loss-mse-grad
_MSE_CASES = (
    (np.array([2.0, -1.0, 0.5]), np.array([1.0, 1.0, 1.0])),
    (np.array([[0.3, 1.2], [-0.7, 2.0], [1.5, 0.0], [0.25, -0.5]]), np.zeros((4, 2))),
)


def check_mse_grad(fn: Callable[[Array, Array], Array]) -> Feedback:
    r"""Check ``fn(y_pred, y)`` :math:`= \partial L/\partial \hat y` for
    :math:`L = \frac1N\sum (\hat y - y)^2` over all ``N`` entries, i.e. ``2 (y_pred - y) / N``,
    shape ``y_pred.shape``."""
    mistakes: list[Mistake] = [
        (
            "wrong sign: you wrote 2(y - ŷ)/N; the loss grows as ŷ moves away from y, "
            "so ∂L/∂ŷ = +2(ŷ - y)/N",
            lambda p, y: -mse_grad(p, y),
        ),
        (
            "off by a constant factor of 2: the 2 from d/dŷ (ŷ - y)² = 2(ŷ - y) is missing "
            "(that is the gradient of the half-mean loss, not of the mean)",
            lambda p, y: mse_grad(p, y, "half_mean"),
        ),
        (
            "off by a constant factor of N (the number of entries): the loss is a mean, so "
            "its gradient is divided by N; yours is the gradient of the sum",
            lambda p, y: mse_grad(p, y, "sum"),
        ),
        (
            "off by a constant factor: both the 2 and the 1/N are missing "
            "(that is the gradient of half the sum)",
            lambda p, y: mse_grad(p, y, "half_sum"),
        ),
        (
            "you divided by the number of rows, not by the number of entries N = y.size; "
            "bpkit.mse averages over every entry",
            lambda p, y: 2 * (p - y) / len(p),
        ),
        (
            "wrong shape: you returned the total (one number); the gradient has one entry "
            "per prediction, the same shape as y_pred",
            lambda p, y: np.sum(mse_grad(p, y)),
        ),
    ]
    return check_function(
        "ex-loss-mse-grad", fn, mse_grad, _MSE_CASES, "your gradient", mistakes=mistakes
    )


# ---------------------------------------------------------------- ex-loss-bce
_BCE_CASES = (
    (np.array([0.9, 0.2, 0.6, 0.3]), np.array([1.0, 0.0, 0.0, 1.0])),
    (np.array([0.05, 0.7, 0.5]), np.array([0.0, 1.0, 1.0])),
)


def _bce_terms(p: Array, y: Array) -> tuple[Array, Array]:
    return y * np.log(p), (1 - y) * np.log(1 - p)


def check_bce(fn: Callable[[Array, Array], float]) -> Feedback:
    r"""Check ``fn(p, y)`` :math:`= -\frac1N\sum_i [y_i\log p_i + (1-y_i)\log(1-p_i)]`,
    one number, for probabilities ``p`` in (0, 1) and targets ``y`` in {0, 1}."""
    mistakes: list[Mistake] = [
        (
            "the brackets are wrong: you computed -y·log p + (1 - y)·log(1 - p), so the minus "
            "sign only reaches the first term; it belongs in front of the whole bracket, "
            "-[y·log p + (1 - y)·log(1 - p)]",
            lambda p, y: np.mean(-_bce_terms(p, y)[0] + _bce_terms(p, y)[1]),
        ),
        (
            "wrong sign: your loss is negative. log p ≤ 0 for a probability, so the leading "
            "minus sign is what makes the loss positive",
            lambda p, y: -binary_cross_entropy(p, y),
        ),
        (
            "off by a constant factor of N: you summed over the examples; the loss is their mean",
            lambda p, y: len(p) * binary_cross_entropy(p, y),
        ),
        (
            "the (1 - y)·log(1 - p) term is missing, so examples with target 0 cost nothing "
            "whatever p says",
            lambda p, y: -np.mean(_bce_terms(p, y)[0]),
        ),
        (
            "the y·log p term is missing, so examples with target 1 cost nothing",
            lambda p, y: -np.mean(_bce_terms(p, y)[1]),
        ),
        (
            "p and 1 - p are swapped: you scored the probability of class 0 against the target 1",
            lambda p, y: binary_cross_entropy(1 - p, y),
        ),
        (
            "wrong shape: you returned one loss per example; the loss is their mean, one number",
            lambda p, y: -(_bce_terms(p, y)[0] + _bce_terms(p, y)[1]),
        ),
    ]
    return check_function(
        "ex-loss-bce", fn, binary_cross_entropy, _BCE_CASES, "your loss", mistakes=mistakes
    )


# ---------------------------------------------------------------- ex-loss-sigmoid-mse
_LOGIT_CASES = (
    (np.array([-3.0, -0.5, 0.0, 1.5, 4.0]), np.array([1.0, 0.0, 1.0, 0.0, 1.0])),
    (np.array([[2.0], [-1.0], [0.7]]), np.array([[0.0], [1.0], [1.0]])),
)


def sigmoid_mse_logit_grad(z: Array, y: Array) -> Array:
    r"""Reference: :math:`\partial L/\partial z` for :math:`L = \frac1N\sum(\sigma(z) - y)^2`,
    :math:`= \frac2N(\sigma(z) - y)\,\sigma(z)(1 - \sigma(z))`, shape ``z.shape``."""
    p = sigmoid(z)
    # chain rule: dL/dp = 2(p - y)/N, times dp/dz = sigma'(z) = p(1 - p)
    return 2.0 * (p - y) / p.size * p * (1.0 - p)


def check_sigmoid_mse_logit_grad(fn: Callable[[Array, Array], Array]) -> Feedback:
    r"""Check ``fn(z, y)`` :math:`= \partial L/\partial z` for
    :math:`L = \frac1N\sum_i(\sigma(z_i) - y_i)^2` (see :func:`sigmoid_mse_logit_grad`)."""

    def dl_dp(z: Array, y: Array) -> Array:
        return 2.0 * (sigmoid(z) - y) / z.size

    mistakes: list[Mistake] = [
        (
            "missing derivative: this is ∂L/∂p, the gradient with respect to the probability. "
            "The last step of the chain rule, times dp/dz = σ'(z) = σ(z)(1 - σ(z)), is missing",
            dl_dp,
        ),
        (
            "you applied σ'(x) = x(1 - x) to the logit z. That formula needs the sigmoid's "
            "output: σ'(z) = p(1 - p) with p = σ(z), not z(1 - z)",
            lambda z, y: dl_dp(z, y) * z * (1 - z),
        ),
        (
            "this is (p - y)/N, the gradient of cross-entropy with respect to the logit. "
            "For the squared error the factor σ'(z) does not cancel: "
            "∂L/∂z = 2(p - y)·p(1 - p)/N",
            lambda z, y: (sigmoid(z) - y) / z.size,
        ),
        (
            "wrong sign: the loss grows as p moves away from y, so the factor is (p - y), "
            "not (y - p)",
            lambda z, y: -sigmoid_mse_logit_grad(z, y),
        ),
        (
            "off by a constant factor of 2: the 2 from d/dp (p - y)² is missing",
            lambda z, y: sigmoid_mse_logit_grad(z, y) / 2,
        ),
        (
            "off by a constant factor of N: the loss is a mean over the N entries, so its "
            "gradient is divided by N",
            lambda z, y: sigmoid_mse_logit_grad(z, y) * z.size,
        ),
        (
            "the residual uses the logit: it should be p - y with p = σ(z), not z - y",
            lambda z, y: 2.0 * (z - y) / z.size * sigmoid(z) * (1 - sigmoid(z)),
        ),
    ]
    return check_function(
        "ex-loss-sigmoid-mse",
        fn,
        sigmoid_mse_logit_grad,
        _LOGIT_CASES,
        "your gradient",
        mistakes=mistakes,
    )


# ---------------------------------------------------------------- ex-loss-logsumexp
_LSE_CASES = (
    (np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]),),
    (np.array([[1000.0, 1001.0, 999.0], [-2.0, 0.5, 1.0]]),),
    (np.array([[-1000.0, -999.0, -1001.0], [1000.0, 998.0, 1000.0]]),),
)


def _naive_lse(z: Array) -> Array:
    return np.log(np.sum(np.exp(z), axis=1))


def check_logsumexp(fn: Callable[[Array], Array]) -> Feedback:
    r"""Check ``fn(z)`` :math:`= \log\sum_j e^{z_{ij}}` for each row of a 2-D ``z``
    (shape ``(n,)``), finite even when the logits are around ±1000."""

    def global_shift(z: Array) -> Array:
        m = np.max(z)
        return m + np.log(np.sum(np.exp(z - m), axis=1))

    def row_shift(z: Array) -> Array:
        return np.max(z, axis=1)

    mistakes: list[Mistake] = [
        (
            "overflow: e^1000 is inf in float64, so the naive log(sum(exp(z))) gives inf. "
            "Subtract each row's maximum before exp and add it back after the log",
            _naive_lse,
        ),
        (
            "you subtracted the row maximum m but did not add it back: "
            "log Σ e^z = m + log Σ e^(z - m)",
            lambda z: logsumexp(z, axis=1) - np.max(z, axis=1),
        ),
        (
            "you subtracted one maximum for the whole array, so a row far below it "
            "underflows to log(0) = -inf; subtract each row's own maximum (axis=1, keepdims=True)",
            global_shift,
        ),
        (
            "you summed along the wrong axis: the sum runs over the classes of one example "
            "(axis=1), giving one number per row",
            lambda z: logsumexp(z, axis=0),
        ),
        (
            "wrong shape: you kept the summed axis (shape (n, 1)); return shape (n,), one "
            "number per row",
            lambda z: logsumexp(z, axis=1)[:, None],
        ),
        (
            "you returned only the row maximum, which is a lower bound: the "
            "log Σ e^(z - m) part is missing",
            row_shift,
        ),
    ]
    return check_function(
        "ex-loss-logsumexp",
        fn,
        lambda z: logsumexp(z, axis=1),
        _LSE_CASES,
        "your log-sum-exp",
        mistakes=mistakes,
    )


# ---------------------------------------------------------------- ex-loss-reduction-lr
def equivalent_mean_lr(lr_sum: float, n: int) -> float:
    r"""The learning rate that makes ``reduction="mean"`` take the same steps as
    ``reduction="sum"`` with ``lr_sum``, for a batch of ``n`` examples with one output each:
    the mean's gradient is the sum's divided by :math:`N = n`, so the rate is multiplied."""
    return lr_sum * n


def check_equivalent_lr(fn: Callable[[float, int], float]) -> Feedback:
    """Check ``fn(lr_sum, n)``: the ``"mean"`` learning rate equivalent to ``lr_sum`` with
    ``"sum"``, one output per example."""
    cases = [(0.001, 64), (0.01, 10), (0.5, 3)]
    mistakes: list[Mistake] = [
        (
            "the wrong way round: the mean's gradient is n times *smaller* than the sum's, "
            "so the learning rate must be n times *larger* to take the same step",
            lambda lr, n: lr / n,
        ),
        (
            "the rate is unchanged: the gradients differ by the factor n, so the rates must too",
            lambda lr, n: lr,
        ),
        (
            "off by the factor 2: both losses have the same 2 from the square, so only the n "
            "differs",
            lambda lr, n: lr * n / 2,
        ),
    ]
    verdict = check_function(
        "ex-loss-reduction-lr",
        fn,
        equivalent_mean_lr,
        cases,
        "your learning rate",
        mistakes=mistakes,
    )
    if verdict.passed or not verdict.attempted or "analytic gradient" not in verdict.message:
        return verdict
    # a wrong number no typical mistake explains: say what was expected, in its own words
    lr, n = cases[0]
    return failed(
        "ex-loss-reduction-lr",
        f'for lr_sum = {lr:g} and n = {n} the "mean" loss needs the learning rate '
        f"{equivalent_mean_lr(lr, n):g}, and your function returned {fn(lr, n):g}: the two "
        "gradients differ by the number of entries N = n, and so must the rates",
    )
