r"""Checkers for the exercises of the chapter on loss functions.

Each exercise is a :class:`~bpcourse.exercises.feedback.Check` (``MSE_GRAD``, ``BCE``,
``SIGMOID_MSE``, ``LOGSUMEXP``, ``EQUIVALENT_LR``) and each ``check_*`` runs it on the
learner's function.
The named mistakes are the typical wrong answers (a dropped 2, a sum instead of a mean,
brackets in the wrong place, a missing sigmoid derivative, an overflowing ``exp``), so a
failure names the mistake rather than just saying "wrong".
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from bpcourse.exercises.feedback import Check, Feedback, Mistake, failed
from bpkit.activations import sigmoid

Array = NDArray[np.float64]

__all__ = [
    "check_bce",
    "check_equivalent_lr",
    "check_logsumexp",
    "check_mse_grad",
    "check_sigmoid_mse_logit_grad",
]


# ---------------------------------------------------------------- ex-loss-mse-grad
def mse_grad(y_pred: Array, y: Array) -> Array:
    r"""Reference: :math:`\partial L/\partial \hat y = \frac2N(\hat y - y)` for
    :math:`L = \frac1N\sum (\hat y - y)^2` over all ``N`` entries (as ``bpkit.mse``)."""
    return 2.0 * (y_pred - y) / y_pred.size


MSE_GRAD = Check(
    "ex-loss-mse-grad",
    mse_grad,
    (
        (np.array([2.0, -1.0, 0.5]), np.array([1.0, 1.0, 1.0])),
        (np.array([[0.3, 1.2], [-0.7, 2.0], [1.5, 0.0], [0.25, -0.5]]), np.zeros((4, 2))),
    ),
    (
        Mistake(
            "wrong sign: you wrote 2(y - ŷ)/N; the loss grows as ŷ moves away from y, "
            "so ∂L/∂ŷ = +2(ŷ - y)/N",
            lambda p, y: -mse_grad(p, y),
            "wrong-sign",
        ),
        Mistake(
            "off by a constant factor of 2: the 2 from d/dŷ (ŷ - y)² = 2(ŷ - y) is missing "
            "(that is the gradient of the half-mean loss, not of the mean)",
            lambda p, y: mse_grad(p, y) / 2,
            "dropped-2",
        ),
        Mistake(
            "off by a constant factor of N (the number of entries): the loss is a mean, so "
            "its gradient is divided by N; yours is the gradient of the sum",
            lambda p, y: 2.0 * (p - y),
            "sum-not-mean",
        ),
        Mistake(
            "off by a constant factor: both the 2 and the 1/N are missing "
            "(that is the gradient of half the sum)",
            lambda p, y: p - y,
            "half-sum",
        ),
        Mistake(
            "you divided by the number of rows, not by the number of entries N = y.size; "
            "bpkit.mse averages over every entry",
            lambda p, y: 2 * (p - y) / len(p),
            "rows-not-entries",
        ),
        Mistake(
            "wrong shape: you returned the total (one number); the gradient has one entry "
            "per prediction, the same shape as y_pred",
            lambda p, y: np.sum(mse_grad(p, y)),
            "returned-total",
        ),
    ),
    "your gradient",
)


def check_mse_grad(fn: Callable[[Array, Array], Array]) -> Feedback:
    r"""Check ``fn(y_pred, y)`` :math:`= \partial L/\partial \hat y` for
    :math:`L = \frac1N\sum (\hat y - y)^2` over all ``N`` entries, i.e. ``2 (y_pred - y) / N``,
    shape ``y_pred.shape``."""
    return MSE_GRAD.run(fn)


# ---------------------------------------------------------------- ex-loss-bce
def _bce_terms(p: Array, y: Array) -> tuple[Array, Array]:
    return y * np.log(p), (1 - y) * np.log(1 - p)


def bce(p: Array, y: Array) -> float:
    r"""Reference: :math:`-\frac1N\sum_i [y_i\log p_i + (1-y_i)\log(1-p_i)]`."""
    a, b = _bce_terms(p, y)
    return float(-np.mean(a + b))


BCE = Check(
    "ex-loss-bce",
    bce,
    (
        (np.array([0.9, 0.2, 0.6, 0.3]), np.array([1.0, 0.0, 0.0, 1.0])),
        (np.array([0.05, 0.7, 0.5]), np.array([0.0, 1.0, 1.0])),
    ),
    (
        Mistake(
            "the brackets are wrong: you computed -y·log p + (1 - y)·log(1 - p), so the minus "
            "sign only reaches the first term; it belongs in front of the whole bracket, "
            "-[y·log p + (1 - y)·log(1 - p)]",
            lambda p, y: np.mean(-_bce_terms(p, y)[0] + _bce_terms(p, y)[1]),
            "minus-on-first-term",
        ),
        Mistake(
            "wrong sign: your loss is negative. log p ≤ 0 for a probability, so the leading "
            "minus sign is what makes the loss positive",
            lambda p, y: -bce(p, y),
            "wrong-sign",
        ),
        Mistake(
            "off by a constant factor of N: you summed over the examples; the loss is their mean",
            lambda p, y: len(p) * bce(p, y),
            "sum-not-mean",
        ),
        Mistake(
            "the (1 - y)·log(1 - p) term is missing, so examples with target 0 cost nothing "
            "whatever p says",
            lambda p, y: -np.mean(_bce_terms(p, y)[0]),
            "missing-negative-term",
        ),
        Mistake(
            "the y·log p term is missing, so examples with target 1 cost nothing",
            lambda p, y: -np.mean(_bce_terms(p, y)[1]),
            "missing-positive-term",
        ),
        Mistake(
            "p and 1 - p are swapped: you scored the probability of class 0 against the target 1",
            lambda p, y: bce(1 - p, y),
            "p-swapped",
        ),
        Mistake(
            "wrong shape: you returned one loss per example; the loss is their mean, one number",
            lambda p, y: -(_bce_terms(p, y)[0] + _bce_terms(p, y)[1]),
            "per-example",
        ),
        Mistake(
            "you took the base-10 logarithm (np.log10): the loss uses the natural log, np.log "
            "(so the gradient (p - y)/(p(1 - p)) has no 1/ln 10 in it)",
            lambda p, y: bce(p, y) / np.log(10),
            "log10",
        ),
    ),
    "your loss",
)


def check_bce(fn: Callable[[Array, Array], float]) -> Feedback:
    r"""Check ``fn(p, y)`` :math:`= -\frac1N\sum_i [y_i\log p_i + (1-y_i)\log(1-p_i)]`,
    one number, for probabilities ``p`` in (0, 1) and targets ``y`` in {0, 1}."""
    return BCE.run(fn)


# ---------------------------------------------------------------- ex-loss-sigmoid-mse
def sigmoid_mse_logit_grad(z: Array, y: Array) -> Array:
    r"""Reference: :math:`\partial L/\partial z` for :math:`L = \frac1N\sum(\sigma(z) - y)^2`,
    :math:`= \frac2N(\sigma(z) - y)\,\sigma(z)(1 - \sigma(z))`, shape ``z.shape``."""
    p = sigmoid(z)
    # chain rule: dL/dp = 2(p - y)/N, times dp/dz = sigma'(z) = p(1 - p)
    return 2.0 * (p - y) / p.size * p * (1.0 - p)


def _dl_dp(z: Array, y: Array) -> Array:
    return 2.0 * (sigmoid(z) - y) / z.size


SIGMOID_MSE = Check(
    "ex-loss-sigmoid-mse",
    sigmoid_mse_logit_grad,
    (
        (np.array([-3.0, -0.5, 0.0, 1.5, 4.0]), np.array([1.0, 0.0, 1.0, 0.0, 1.0])),
        (np.array([[2.0], [-1.0], [0.7]]), np.array([[0.0], [1.0], [1.0]])),
    ),
    (
        Mistake(
            "missing derivative: this is ∂L/∂p, the gradient with respect to the probability. "
            "The last step of the chain rule, times dp/dz = σ'(z) = σ(z)(1 - σ(z)), is missing",
            _dl_dp,
            "missing-sigmoid-derivative",
        ),
        Mistake(
            "you computed z(1 - z) from the logit z. The identity σ'(z) = p(1 - p) needs the "
            "sigmoid's output p = σ(z), not z",
            lambda z, y: _dl_dp(z, y) * z * (1 - z),
            "sigmoid-derivative-of-logit",
        ),
        Mistake(
            "σ' written as σ: you multiplied by p = σ(z); the derivative is σ'(z) = p(1 - p)",
            lambda z, y: _dl_dp(z, y) * sigmoid(z),
            "sigmoid-for-its-derivative",
        ),
        Mistake(
            "1 - p² is tanh's derivative written with tanh's output (tanh' = 1 - tanh²); "
            "the sigmoid's is σ'(z) = p(1 - p)",
            lambda z, y: _dl_dp(z, y) * (1 - sigmoid(z) ** 2),
            "tanh-derivative-for-sigmoid",
        ),
        Mistake(
            "this is (p - y)/N, the gradient of cross-entropy with respect to the logit. "
            "For the squared error the factor σ'(z) does not cancel: "
            "∂L/∂z = 2(p - y)·p(1 - p)/N",
            lambda z, y: (sigmoid(z) - y) / z.size,
            "cross-entropy-gradient",
        ),
        Mistake(
            "wrong sign: the loss grows as p moves away from y, so the factor is (p - y), "
            "not (y - p)",
            lambda z, y: -sigmoid_mse_logit_grad(z, y),
            "wrong-sign",
        ),
        Mistake(
            "off by a constant factor of 2: the 2 from d/dp (p - y)² is missing",
            lambda z, y: sigmoid_mse_logit_grad(z, y) / 2,
            "dropped-2",
        ),
        Mistake(
            "off by a constant factor of N: the loss is a mean over the N entries, so its "
            "gradient is divided by N",
            lambda z, y: sigmoid_mse_logit_grad(z, y) * z.size,
            "sum-not-mean",
        ),
        Mistake(
            "the residual uses the logit: it should be p - y with p = σ(z), not z - y",
            lambda z, y: 2.0 * (z - y) / z.size * sigmoid(z) * (1 - sigmoid(z)),
            "residual-of-logit",
        ),
    ),
    "your gradient",
)


def check_sigmoid_mse_logit_grad(fn: Callable[[Array, Array], Array]) -> Feedback:
    r"""Check ``fn(z, y)`` :math:`= \partial L/\partial z` for
    :math:`L = \frac1N\sum_i(\sigma(z_i) - y_i)^2` (see :func:`sigmoid_mse_logit_grad`)."""
    return SIGMOID_MSE.run(fn)


# ---------------------------------------------------------------- ex-loss-logsumexp
def row_logsumexp(z: Array) -> Array:
    r"""Reference: :math:`m_i + \log\sum_j e^{z_{ij} - m_i}` with :math:`m_i = \max_j z_{ij}`."""
    m = np.max(z, axis=1, keepdims=True)
    return m[:, 0] + np.log(np.sum(np.exp(z - m), axis=1))


def _global_shift(z: Array) -> Array:
    m = np.max(z)
    return m + np.log(np.sum(np.exp(z - m), axis=1))


LOGSUMEXP = Check(
    "ex-loss-logsumexp",
    row_logsumexp,
    (
        (np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]),),
        (np.array([[1000.0, 1001.0, 999.0], [-2.0, 0.5, 1.0]]),),
        (np.array([[-1000.0, -999.0, -1001.0], [1000.0, 998.0, 1000.0]]),),
        # a row whose spread (2000) is more than exp can take (709.78): only the row's
        # maximum is a safe shift; its minimum or its mean still overflows
        (np.array([[-1000.0, 0.0, 1000.0], [3.0, -1.0, 0.5]]),),
    ),
    (
        Mistake(
            "overflow: e^1000 is inf in float64, so the naive log(sum(exp(z))) gives inf. "
            "Subtract each row's maximum before exp and add it back after the log",
            lambda z: np.log(np.sum(np.exp(z), axis=1)),
            "overflow",
        ),
        Mistake(
            "you subtracted the row maximum m but did not add it back: "
            "log Σ e^z = m + log Σ e^(z - m)",
            lambda z: row_logsumexp(z) - np.max(z, axis=1),
            "max-not-added-back",
        ),
        Mistake(
            "you subtracted one maximum for the whole array, so a row far below it "
            "underflows to log(0) = -inf; subtract each row's own maximum (axis=1, keepdims=True)",
            _global_shift,
            "global-max",
        ),
        Mistake(
            "you summed along the wrong axis: the sum runs over the classes of one example "
            "(axis=1), giving one number per row",
            lambda z: row_logsumexp(z.T),
            "wrong-axis",
        ),
        Mistake(
            "wrong shape: you kept the summed axis (shape (n, 1)); return shape (n,), one "
            "number per row",
            lambda z: row_logsumexp(z)[:, None],
            "kept-dims",
        ),
        Mistake(
            "you returned only the row maximum, which is a lower bound: the "
            "log Σ e^(z - m) part is missing",
            lambda z: np.max(z, axis=1),
            "max-only",
        ),
        Mistake(
            "you shifted each row by a number below its maximum (its minimum, or its mean?): "
            "the entries above it stay positive, and a row with a large spread (-1000 to 1000) "
            "still overflows; shift by the row's maximum, so that every exponent is at most 0",
            lambda z: _row_shift(z, np.min(z, axis=1, keepdims=True)),
            "shift-not-max",
        ),
    ),
    "your log-sum-exp",
)


def _row_shift(z: Array, m: Array) -> Array:
    return m[:, 0] + np.log(np.sum(np.exp(z - m), axis=1))


_LIBRARY_LOGSUMEXP = (
    "the exercise asks you to write log-sum-exp yourself: your function calls a library's "
    "`logsumexp`. Subtract each row's maximum m, exponentiate, sum, take the log, add m back"
)


def _calls_a_library_logsumexp(fn: Callable[..., object]) -> bool:
    """Whether the source of ``fn`` calls something named ``logsumexp`` (``bpkit.logsumexp``,
    ``scipy.special.logsumexp``, ...). A function without source (built in a string) is
    not judged."""
    import ast
    import inspect
    import textwrap

    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            if name == "logsumexp":
                return True
    return False


def check_logsumexp(fn: Callable[[Array], Array]) -> Feedback:
    r"""Check ``fn(z)`` :math:`= \log\sum_j e^{z_{ij}}` for each row of a 2-D ``z``
    (shape ``(n,)``), finite even when the logits are around ±1000, written without a
    library's ``logsumexp``."""
    fb = LOGSUMEXP.run(fn)
    if fb.passed and _calls_a_library_logsumexp(fn):
        return failed(LOGSUMEXP.exercise, _LIBRARY_LOGSUMEXP, "library-logsumexp")
    return fb


# ---------------------------------------------------------------- ex-loss-reduction-lr
def equivalent_mean_lr(lr_sum: float, n: int) -> float:
    r"""The learning rate that makes ``reduction="mean"`` take the same steps as
    ``reduction="sum"`` with ``lr_sum``, for a batch of ``n`` examples with one output each:
    the mean's gradient is the sum's divided by :math:`N = n`, so the rate is multiplied."""
    return lr_sum * n


_RATES_DIFFER = (
    'The "sum" and "mean" gradients differ by the number of entries N = n, and so must the rates.'
)

EQUIVALENT_LR = Check(
    "ex-loss-reduction-lr",
    equivalent_mean_lr,
    ((0.001, 64), (0.01, 10), (0.5, 3)),
    (
        Mistake(
            "the wrong way round: the mean's gradient is n times *smaller* than the sum's, "
            "so the learning rate must be n times *larger* to take the same step",
            lambda lr, n: lr / n,
            "wrong-way-round",
        ),
        Mistake(
            "the rate is unchanged: the gradients differ by the factor n, so the rates must too",
            lambda lr, n: lr,
            "unchanged",
        ),
        Mistake(
            "off by the factor 2: both losses have the same 2 from the square, so only the n "
            "differs",
            lambda lr, n: lr * n / 2,
            "factor-2",
        ),
    ),
    "your learning rate",
    show=lambda lr_sum, n: f"lr_sum = {lr_sum:g} and n = {n}",
    hints={"factor": _RATES_DIFFER, "scaled": _RATES_DIFFER, "other": _RATES_DIFFER},
)


def check_equivalent_lr(fn: Callable[[float, int], float]) -> Feedback:
    """Check ``fn(lr_sum, n)``: the ``"mean"`` learning rate equivalent to ``lr_sum`` with
    ``"sum"``, one output per example."""
    return EQUIVALENT_LR.run(fn)
