r"""Checkers for chapter 2 (gradients and gradient descent).

Each exercise is a :class:`~bpcourse.exercises.feedback.Check` (``GRADIENT``,
``CENTRAL``, ``LINE_GRADIENT``, ``THRESHOLD``, ``DISTANCE``); each ``check_*`` runs it on
the learner's function. The named mistakes: the partial derivatives swapped, a forward instead of a
central difference, ``/ 2 * h`` for ``/ (2 * h)``, the factor 2 of the square dropped, a
sum where the loss takes a mean, the smallest eigenvalue where the largest belongs, a
contraction factor without the curvature or off by one step, and so on. An untouched stub reports "not attempted yet".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from bpcourse.exercises.feedback import Check, Feedback, Mistake
from bpkit.data import line_points

# ---------------------------------------------------------------- ex-gd-partials
GRADIENT_POINTS = ((1.0, 2.0), (-1.5, 0.5), (0.3, -2.0), (2.0, 1.0))


def f_w(w1: float, w2: float) -> float:
    r""":math:`f(w_1, w_2) = w_1^2 w_2 + 3 w_2^2`."""
    return w1**2 * w2 + 3 * w2**2


def grad_f_w(w1: float, w2: float) -> np.ndarray:
    r""":math:`\nabla f = (2 w_1 w_2,\; w_1^2 + 6 w_2)`."""
    return np.array([2 * w1 * w2, w1**2 + 6 * w2])


GRADIENT = Check(
    "ex-gd-partials",
    grad_f_w,
    GRADIENT_POINTS,
    (
        Mistake(
            "the two partial derivatives are swapped: the first entry should be ∂f/∂w₁ "
            "(hold w₂ fixed), the second ∂f/∂w₂ (hold w₁ fixed)",
            lambda w1, w2: grad_f_w(w1, w2)[::-1],
            "swapped-partials",
        ),
        Mistake(
            "∂f/∂w₁ (the first entry) is right, but the power rule is off in ∂f/∂w₂: "
            "d(3w₂²)/dw₂ = 6w₂, not 3w₂",
            lambda w1, w2: np.array([2 * w1 * w2, w1**2 + 3 * w2]),
            "power-rule-3w2",
        ),
        Mistake(
            "∂f/∂w₂ (the second entry) is right, but ∂f/∂w₁ lost the factor w₂: holding w₂ "
            "fixed, d(w₁²w₂)/dw₁ = 2w₁·w₂",
            lambda w1, w2: np.array([2 * w1, w1**2 + 6 * w2]),
            "partial-w1-drops-w2",
        ),
        Mistake(
            "∂f/∂w₁ (the first entry) is right, but ∂f/∂w₂ dropped the term w₁²: holding w₁ "
            "fixed, w₁²w₂ is w₁² times w₂, so its derivative is w₁²",
            lambda w1, w2: np.array([2 * w1 * w2, 6 * w2]),
            "partial-w2-drops-w1-squared",
        ),
    ),
    "your gradient",
    parts=("∂f/∂w₁ (the first entry)", "∂f/∂w₂ (the second entry)"),
    noun="entries",
    show=lambda w1, w2: f"(w₁, w₂) = ({w1:g}, {w2:g})",
    passed_message="both partial derivatives are right at every test point.",
)


def check_gradient_w(fn: Callable[[float, float], Any]) -> Feedback:
    r"""``fn(w1, w2)`` should return :math:`\nabla f = (\partial f/\partial w_1,
    \partial f/\partial w_2)` for :math:`f(w_1, w_2) = w_1^2 w_2 + 3 w_2^2`, shape (2,)."""
    return GRADIENT.run(fn)


# ---------------------------------------------------------------- ex-gd-central
CENTRAL_CASES: tuple[tuple[Callable[[float], float], float, float], ...] = (
    (np.sin, 1.0, 1e-2),
    (np.exp, 0.5, 1e-3),
    (lambda x: x**3 - 2 * x, -1.2, 1e-2),
    (np.tanh, 0.3, 1e-1),
)


def central(f: Callable[[float], float], x: float, h: float) -> float:
    r"""Reference: :math:`\dfrac{f(x + h) - f(x - h)}{2h}`."""
    return (f(x + h) - f(x - h)) / (2 * h)


def _show_central(f: Callable[[float], float], x: float, h: float) -> str:
    k = next(i for i, c in enumerate(CENTRAL_CASES) if c[0] is f)
    return f"test function {k + 1} at x = {x:g}, h = {h:g}"


CENTRAL = Check(
    "ex-gd-central",
    central,
    CENTRAL_CASES,
    (
        Mistake(
            "this is the forward difference (f(x+h) − f(x))/h, whose error shrinks only "
            "like h; step to both sides: (f(x+h) − f(x−h))/(2h)",
            lambda f, x, h: (f(x + h) - f(x)) / h,
            "forward-difference",
        ),
        Mistake(
            "this is the backward difference (f(x) − f(x−h))/h; use both sides, over 2h",
            lambda f, x, h: (f(x) - f(x - h)) / h,
            "backward-difference",
        ),
        Mistake(
            "off by a constant factor: twice the central difference; the two points are "
            "2h apart, so divide by 2h, not h",
            lambda f, x, h: (f(x + h) - f(x - h)) / h,
            "divided-by-h",
        ),
        Mistake(
            "operator precedence: `/ 2 * h` divides by 2 and then multiplies by h; "
            "write `/ (2 * h)`",
            lambda f, x, h: (f(x + h) - f(x - h)) / 2 * h,
            "precedence-2-h",
        ),
        Mistake(
            "wrong sign: compute f(x+h) − f(x−h), not f(x−h) − f(x+h)",
            lambda f, x, h: (f(x - h) - f(x + h)) / (2 * h),
            "wrong-sign",
        ),
    ),
    "your central difference",
    show=_show_central,
    rtol=1e-9,
    passed_message="that is the central difference, error O(h²).",
)


def check_central_difference(
    fn: Callable[[Callable[[float], float], float, float], Any],
) -> Feedback:
    r"""``fn(f, x, h)`` should return :math:`\dfrac{f(x + h) - f(x - h)}{2h}` (a number)."""
    return CENTRAL.run(fn)


# ---------------------------------------------------------------- ex-gd-line-grad
def _line_cases() -> tuple[tuple[float, float, np.ndarray, np.ndarray], ...]:
    x, y = line_points()
    x2 = np.array([-1.0, 0.0, 0.5, 2.0, 3.0, 4.5, 6.0])
    y2 = np.array([0.3, -0.2, 1.1, 2.0, 2.2, 3.9, 4.1])
    return ((0.0, 0.0, x, y), (0.7, 0.4, x, y), (1.3, -0.5, x2, y2), (-0.4, 2.0, x2, y2))


def line_loss(w: float, b: float, x: np.ndarray, y: np.ndarray) -> float:
    r""":math:`L(w, b) = \frac1n \sum_i (w x_i + b - y_i)^2`."""
    return float(np.mean((w * x + b - y) ** 2))


def line_loss_grad(w: float, b: float, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    r""":math:`\left(\frac2n \sum_i (\hat y_i - y_i)\, x_i,\; \frac2n \sum_i (\hat y_i - y_i)\right)`."""
    r = w * x + b - y  # dL/dŷ_i = 2 r_i / n; then dŷ/dw = x_i and dŷ/db = 1
    return np.array([2 * np.mean(r * x), 2 * np.mean(r)])


def _show_line(w: float, b: float, x: np.ndarray, y: np.ndarray) -> str:
    data = 1 if len(x) == len(line_points()[0]) else 2
    return f"w = {w:g}, b = {b:g} on data set {data}"


def _r(w: float, b: float, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return w * x + b - y


LINE_GRADIENT = Check(
    "ex-gd-line-grad",
    line_loss_grad,
    _line_cases,
    (
        Mistake(
            "∂L/∂w and ∂L/∂b are swapped: return (∂L/∂w, ∂L/∂b) in that order",
            lambda w, b, x, y: line_loss_grad(w, b, x, y)[::-1],
            "swapped-partials",
        ),
        Mistake(
            "sign flipped: the residual is ŷ − y (prediction minus target); with y − ŷ "
            "gradient descent would climb the loss",
            lambda w, b, x, y: -line_loss_grad(w, b, x, y),
            "wrong-sign",
        ),
        Mistake(
            "off by a constant factor: half the true gradient; the derivative of r² is 2r, "
            "so keep the 2",
            lambda w, b, x, y: line_loss_grad(w, b, x, y) / 2,
            "dropped-2",
        ),
        Mistake(
            "off by a constant factor of n (the number of points): the loss is a mean, so "
            "its gradient is a mean too (sum, then divide by n)",
            lambda w, b, x, y: line_loss_grad(w, b, x, y) * len(x),
            "sum-not-mean",
        ),
        Mistake(
            "off by a constant factor of n/2: the 1/n of the mean and the 2 of the square "
            "are both missing (that is the gradient of half the sum)",
            lambda w, b, x, y: line_loss_grad(w, b, x, y) * len(x) / 2,
            "half-sum",
        ),
        Mistake(
            "∂L/∂b is right, but ∂L/∂w is missing a derivative: the chain rule multiplies "
            "each residual by ∂ŷᵢ/∂w = xᵢ",
            lambda w, b, x, y: np.array([2 * np.mean(_r(w, b, x, y)), 2 * np.mean(_r(w, b, x, y))]),
            "missing-x",
        ),
    ),
    "your gradient",
    parts=("∂L/∂w", "∂L/∂b"),
    noun="entries",
    show=_show_line,
    passed_message="∂L/∂w and ∂L/∂b are both right.",
)


def check_line_gradient(fn: Callable[..., Any]) -> Feedback:
    r"""``fn(w, b, x, y)`` should return :math:`(\partial L/\partial w, \partial L/\partial b)` of
    the mean squared error of the line :math:`\hat y = w x + b`, as an array of shape (2,)."""
    return LINE_GRADIENT.run(fn)


# ---------------------------------------------------------------- ex-gd-threshold
THRESHOLD_HESSIANS = (
    np.array([[3.0, 2.0], [2.0, 6.0]]),
    np.array([[4.0, 0.0], [0.0, 1.0]]),
    np.array([[2.0, -1.0, 0.0], [-1.0, 2.0, -1.0], [0.0, -1.0, 2.0]]),
    np.array([[10.0, 3.0], [3.0, 1.5]]),
)


def stability_threshold(H: np.ndarray) -> float:
    r"""Reference: :math:`2/\lambda_{\max}(H)` for a symmetric positive-definite Hessian ``H``."""
    return float(2 / np.linalg.eigvalsh(H)[-1])


def _lmax(H: np.ndarray) -> float:
    return float(np.linalg.eigvalsh(H)[-1])


THRESHOLD = Check(
    "ex-gd-threshold",
    stability_threshold,
    tuple((A,) for A in THRESHOLD_HESSIANS),
    (
        Mistake(
            "you used the smallest eigenvalue: the steepest direction (the largest "
            "eigenvalue) is the one that blows up first, so the threshold is 2/λmax",
            lambda H: 2 / np.linalg.eigvalsh(H)[0],
            "smallest-eigenvalue",
        ),
        Mistake(
            "off by a constant factor: 1/λmax is where the iterates start to oscillate; "
            "they diverge only above 2/λmax",
            lambda H: 1 / _lmax(H),
            "one-over-lmax",
        ),
        Mistake(
            "upside down: the threshold is 2 divided by λmax, a small number",
            lambda H: _lmax(H) / 2,
            "upside-down",
        ),
        Mistake(
            "upside down and doubled: the threshold is 2 divided by λmax, not 2·λmax",
            lambda H: 2 * _lmax(H),
            "two-times-lmax",
        ),
        Mistake(
            "you used the largest diagonal entry; the off-diagonal entries change the "
            "curvature too: take the largest eigenvalue (np.linalg.eigvalsh)",
            lambda H: 2 / np.max(np.diag(H)),
            "largest-diagonal",
        ),
        Mistake(
            "2/(λmin + λmax) is the best single learning rate (the fastest for the slowest "
            "direction), not the threshold: the run still converges up to 2/λmax",
            lambda H: 2 / (np.linalg.eigvalsh(H)[0] + _lmax(H)),
            "best-rate-not-threshold",
        ),
        Mistake(
            "you used the trace of H, the sum of all its eigenvalues, which is larger than "
            "λmax: take the largest eigenvalue itself (np.linalg.eigvalsh(H)[-1])",
            lambda H: 2 / np.trace(H),
            "trace",
        ),
        Mistake(
            "you used the Frobenius norm of H (np.linalg.norm(H)), which is larger than "
            "λmax whenever H has more than one nonzero eigenvalue: take the largest "
            "eigenvalue itself (np.linalg.eigvalsh(H)[-1])",
            lambda H: 2 / np.linalg.norm(H),
            "frobenius-norm",
        ),
    ),
    "your threshold",
    show=lambda H: f"H = {np.round(H, 3).tolist()}",
    passed_message="2/λmax: the steepest direction sets the limit.",
)


def check_stability_threshold(fn: Callable[[np.ndarray], Any]) -> Feedback:
    r"""``fn(H)`` should return the stability threshold :math:`2/\lambda_{\max}(H)` of gradient
    descent on a quadratic with symmetric positive-definite Hessian ``H``."""
    return THRESHOLD.run(fn)


# ---------------------------------------------------------------- ex-gd-1d-factor
def distance_after(lr: float, lam: float, x0: float, x_star: float, t: int) -> float:
    r""":math:`|x_t - x^*| = |1 - \eta\lambda|^t\, |x_0 - x^*|` for gradient descent on
    :math:`f(x) = \tfrac{\lambda}{2}(x - x^*)^2`."""
    return abs(1 - lr * lam) ** t * abs(x0 - x_star)


def _factor(lr: float, lam: float) -> float:
    return 1 - lr * lam


_DISTANCE_HINT = (
    "Find the factor by which one step multiplies the error x_t - x* (from f'(x) and the "
    "update rule), then apply it t times."
)
_NEGATIVE = (
    "A distance cannot be negative: with x_0 on the other side of x*, or a negative factor "
    "1 - ηλ, the error x_t - x* is negative, so take its absolute value"
)

DISTANCE = Check(
    "ex-gd-1d-factor",
    distance_after,
    (
        # |x_0| / |x_0 - x*| is no power of |1 - ηλ| in any case, so "forgot x*" cannot
        # pass for "off by one step" (cold read 2: x0 = -1.5, x* = 1 gave 1.5 = 0.6 x 2.5)
        (0.1, 4.0, -2.0, 1.0, 10),
        (0.4, 4.0, -2.0, 1.0, 3),  # a negative factor and an odd t: |.| matters
        (0.05, 2.0, 3.0, -1.0, 7),
    ),
    (
        Mistake(
            "the curvature is missing: each step multiplies the error by 1 - ηλ, not 1 - η",
            lambda lr, lam, x0, xs, t: abs(1 - lr) ** t * abs(x0 - xs),
            "curvature-missing",
        ),
        Mistake(
            "the ½ in f = (λ/2)(x - x*)² cancels against the 2 of the square: f'(x) = "
            "λ(x - x*), so the factor is 1 - ηλ, not 1 - ηλ/2",
            lambda lr, lam, x0, xs, t: abs(1 - lr * lam / 2) ** t * abs(x0 - xs),
            "half-curvature",
        ),
        Mistake(
            "ηλ is the part of the error a step removes; the part that remains is 1 - ηλ",
            lambda lr, lam, x0, xs, t: abs(lr * lam) ** t * abs(x0 - xs),
            "removed-not-remaining",
        ),
        Mistake(
            "a distance is never negative: with a negative factor 1 - ηλ the error changes sign "
            "each step, so take the absolute value",
            lambda lr, lam, x0, xs, t: _factor(lr, lam) ** t * abs(x0 - xs),
            "no-absolute-value",
        ),
        Mistake(
            _NEGATIVE + " (you returned x_t - x* itself)",
            lambda lr, lam, x0, xs, t: _factor(lr, lam) ** t * (x0 - xs),
            "signed-error",
        ),
        Mistake(
            _NEGATIVE + " (of x_0 - x* as well as of the factor)",
            lambda lr, lam, x0, xs, t: abs(_factor(lr, lam)) ** t * (x0 - xs),
            "start-not-absolute",
        ),
        Mistake(
            "the error is x_t - x*, the distance to the minimiser, not to 0: start from "
            "|x_0 - x*|, not |x_0|",
            lambda lr, lam, x0, xs, t: abs(_factor(lr, lam)) ** t * abs(x0),
            "forgot-minimiser",
        ),
        Mistake(
            "off by one step: x_t has been multiplied by the factor t times, starting from x_0",
            lambda lr, lam, x0, xs, t: abs(_factor(lr, lam)) ** (t - 1) * abs(x0 - xs),
            "one-step-short",
        ),
        Mistake(
            "off by one step the other way: x_0 is the start, before any step",
            lambda lr, lam, x0, xs, t: abs(_factor(lr, lam)) ** (t + 1) * abs(x0 - xs),
            "one-step-too-many",
        ),
    ),
    "your distance",
    show=lambda lr, lam, x0, x_star, t: (
        f"lr = {lr:g}, λ = {lam:g}, x0 = {x0:g}, x* = {x_star:g} and t = {t}"
    ),
    hints={
        "factor": _DISTANCE_HINT,
        "scaled": _DISTANCE_HINT,
        "other": _DISTANCE_HINT,
        "sign": _NEGATIVE + ".",
    },
    passed_message="the error shrinks by the same factor |1 - ηλ| at every step.",
)


def check_distance_after(fn: Callable[[float, float, float, float, int], Any]) -> Feedback:
    r"""Check ``fn(lr, lam, x0, x_star, t)`` :math:`= |1 - \eta\lambda|^t |x_0 - x^*|`."""
    return DISTANCE.run(fn)
