r"""Checkers for chapter 2 (gradients and gradient descent).

Each ``check_*`` takes the learner's function, runs it on a few fixed inputs, and returns
a :class:`~bpcourse.exercises.feedback.Feedback` that names the mistake: the partial
derivatives swapped, a forward instead of a central difference, the factor 2 of the
square dropped, a sum where the loss takes a mean, the smallest eigenvalue where the
largest belongs, and so on. An untouched stub reports "not attempted yet".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from bpcourse.exercises.feedback import (
    Feedback,
    call_answer,
    compare_arrays,
    failed,
    not_attempted,
    passed,
)
from bpkit.data import line_points

_STUB = object()  # marks "the learner's function is still the stub"


def _answers(
    exercise: str, fn: Callable[..., Any], cases: Sequence[tuple[Any, ...]], shape: tuple[int, ...]
) -> np.ndarray | Feedback:
    """Call ``fn(*case)`` for every case; stack the results, or say what went wrong."""
    rows = []
    for args in cases:
        try:
            ok, got = call_answer(fn, *args)
        except Exception as exc:  # the learner's code raised: say so in words
            return failed(exercise, f"your function raised {type(exc).__name__}: {exc}")
        if not ok:
            return not_attempted(exercise)
        try:
            arr = np.asarray(got, dtype=np.float64)
        except (TypeError, ValueError):
            return failed(exercise, f"your function should return numbers, got {got!r}")
        if arr.shape != shape:
            want = "a single number" if shape == () else f"an array of shape {shape}"
            return failed(
                exercise, f"wrong shape: your function returned shape {arr.shape}; expected {want}"
            )
        if not np.all(np.isfinite(arr)):
            return failed(exercise, "your function returned NaN or inf")
        rows.append(arr)
    return np.stack(rows)


def _explain(
    ex: str, got: np.ndarray, want: np.ndarray, what: str, inputs: Sequence[str]
) -> Feedback:
    """A sign flip or constant factor by name; otherwise the first input where it differs."""
    verdict = compare_arrays(ex, got, want, what=what)
    named = ("sign flipped", "constant factor", "shape", "NaN")
    message = verdict.message
    if verdict.passed or (
        "not a sign flip" not in message and any(word in message for word in named)
    ):
        return verdict
    bad = np.flatnonzero(
        ~np.isclose(got, want, rtol=1e-6, atol=1e-9).reshape(len(inputs), -1).all(axis=1)
    )
    k = int(bad[0])
    return failed(
        ex,
        f"{what} is wrong for {inputs[k]}: you gave {np.round(got[k], 6).tolist()}, "
        f"the right value is {np.round(want[k], 6).tolist()}",
    )


def _close(a: np.ndarray, b: np.ndarray, rtol: float = 1e-6) -> bool:
    return bool(np.allclose(a, b, rtol=rtol, atol=1e-9))


# ---------------------------------------------------------------- ex-gd-partials
GRADIENT_POINTS = ((1.0, 2.0), (-1.5, 0.5), (0.3, -2.0), (2.0, 1.0))


def f_xy(x: float, y: float) -> float:
    r""":math:`f(x, y) = x^2 y + 3 y^2`."""
    return x**2 * y + 3 * y**2


def grad_f_xy(x: float, y: float) -> np.ndarray:
    r""":math:`\nabla f = (2xy,\; x^2 + 6y)`."""
    return np.array([2 * x * y, x**2 + 6 * y])


def check_gradient(fn: Callable[[float, float], Any]) -> Feedback:
    r"""``fn(x, y)`` should return :math:`\nabla f(x, y) = (\partial f/\partial x, \partial f/\partial y)`
    for :math:`f(x, y) = x^2 y + 3y^2`, as an array of shape (2,)."""
    ex = "ex-gd-partials"
    got = _answers(ex, fn, GRADIENT_POINTS, (2,))
    if isinstance(got, Feedback):
        return got
    want = np.stack([grad_f_xy(*p) for p in GRADIENT_POINTS])
    if _close(got, want):
        return passed(ex, "both partial derivatives are right at every test point.")
    if _close(got, want[:, ::-1]):
        return failed(
            ex,
            "the two partial derivatives are swapped: the first entry should be ∂f/∂x "
            "(hold y fixed), the second ∂f/∂y (hold x fixed)",
        )
    names = ("∂f/∂x (the first entry)", "∂f/∂y (the second entry)")
    inputs = [f"(x, y) = ({x:g}, {y:g})" for x, y in GRADIENT_POINTS]
    for i in (0, 1):
        j = 1 - i
        if _close(got[:, j], want[:, j]) and not _close(got[:, i], want[:, i]):
            verdict = _explain(ex, got[:, i], want[:, i], names[i], inputs)
            return failed(ex, f"{names[j]} is right, but {verdict.message}")
    return _explain(ex, got, want, "your gradient", inputs)


# ---------------------------------------------------------------- ex-gd-central
CENTRAL_CASES: tuple[tuple[Callable[[float], float], float, float], ...] = (
    (np.sin, 1.0, 1e-2),
    (np.exp, 0.5, 1e-3),
    (lambda x: x**3 - 2 * x, -1.2, 1e-2),
    (np.tanh, 0.3, 1e-1),
)


def _central(f: Callable[[float], float], x: float, h: float) -> float:
    return (f(x + h) - f(x - h)) / (2 * h)


def check_central_difference(
    fn: Callable[[Callable[[float], float], float, float], Any],
) -> Feedback:
    r"""``fn(f, x, h)`` should return :math:`\dfrac{f(x + h) - f(x - h)}{2h}` (a number)."""
    ex = "ex-gd-central"
    got = _answers(ex, fn, CENTRAL_CASES, ())
    if isinstance(got, Feedback):
        return got
    want = np.array([_central(f, x, h) for f, x, h in CENTRAL_CASES])
    if _close(got, want, rtol=1e-9):
        return passed(ex, "that is the central difference, error O(h²).")
    forward = np.array([(f(x + h) - f(x)) / h for f, x, h in CENTRAL_CASES])
    backward = np.array([(f(x) - f(x - h)) / h for f, x, h in CENTRAL_CASES])
    if _close(got, forward, rtol=1e-9):
        return failed(
            ex,
            "this is the forward difference (f(x+h) − f(x))/h, whose error shrinks only "
            "like h; step to both sides: (f(x+h) − f(x−h))/(2h)",
        )
    if _close(got, backward, rtol=1e-9):
        return failed(
            ex, "this is the backward difference (f(x) − f(x−h))/h; use both sides, over 2h"
        )
    if _close(got, 2 * want, rtol=1e-9):
        return failed(
            ex,
            "off by a constant factor: twice the central difference; the two points are "
            "2h apart, so divide by 2h, not h",
        )
    if _close(got, -want, rtol=1e-9):
        return failed(ex, "wrong sign: compute f(x+h) − f(x−h), not f(x−h) − f(x+h)")
    inputs = [
        f"test function {k + 1} at x = {x:g}, h = {h:g}"
        for k, (_, x, h) in enumerate(CENTRAL_CASES)
    ]
    return _explain(ex, got, want, "your central difference", inputs)


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


def check_line_gradient(fn: Callable[..., Any]) -> Feedback:
    r"""``fn(w, b, x, y)`` should return :math:`(\partial L/\partial w, \partial L/\partial b)` of
    the mean squared error of the line :math:`\hat y = w x + b`, as an array of shape (2,)."""
    ex = "ex-gd-line-grad"
    cases = _line_cases()
    got = _answers(ex, fn, cases, (2,))
    if isinstance(got, Feedback):
        return got
    want = np.stack([line_loss_grad(*c) for c in cases])
    if _close(got, want):
        return passed(ex, "∂L/∂w and ∂L/∂b are both right.")
    if _close(got, want[:, ::-1]):
        return failed(ex, "∂L/∂w and ∂L/∂b are swapped: return (∂L/∂w, ∂L/∂b) in that order")
    if _close(got, -want):
        return failed(
            ex,
            "sign flipped: the residual is ŷ − y (prediction minus target); with y − ŷ "
            "gradient descent would climb the loss",
        )
    if _close(got, want / 2):
        return failed(
            ex,
            "off by a constant factor: half the true gradient; the derivative of r² is 2r, "
            "so keep the 2",
        )
    n = np.array([len(c[2]) for c in cases], dtype=np.float64)[:, None]
    if _close(got, want * n) or _close(got, want * n / 2):
        return failed(
            ex,
            "off by a constant factor of n (the number of points): the loss is a mean, so "
            "its gradient is a mean too (sum, then divide by n)",
        )
    dw_no_x = np.array([2 * np.mean(c[0] * c[2] + c[1] - c[3]) for c in cases])
    if _close(got[:, 1], want[:, 1]) and _close(got[:, 0], dw_no_x):
        return failed(
            ex,
            "∂L/∂b is right, but ∂L/∂w is missing a derivative: the chain rule multiplies "
            "each residual by ∂ŷᵢ/∂w = xᵢ",
        )
    inputs = [f"w = {c[0]:g}, b = {c[1]:g} on data set {1 + (k >= 2)}" for k, c in enumerate(cases)]
    for i, name in ((0, "∂L/∂w"), (1, "∂L/∂b")):
        other = 1 - i
        if _close(got[:, other], want[:, other]):
            verdict = _explain(ex, got[:, i], want[:, i], name, inputs)
            return failed(ex, f"the other entry is right, but {verdict.message}")
    return _explain(ex, got, want, "your gradient", inputs)


# ---------------------------------------------------------------- ex-gd-threshold
THRESHOLD_HESSIANS = (
    np.array([[3.0, 2.0], [2.0, 6.0]]),
    np.array([[4.0, 0.0], [0.0, 1.0]]),
    np.array([[2.0, -1.0, 0.0], [-1.0, 2.0, -1.0], [0.0, -1.0, 2.0]]),
    np.array([[10.0, 3.0], [3.0, 1.5]]),
)


def check_stability_threshold(fn: Callable[[np.ndarray], Any]) -> Feedback:
    r"""``fn(A)`` should return the stability threshold :math:`2/\lambda_{\max}(A)` of gradient
    descent on a quadratic with symmetric positive-definite Hessian ``A``."""
    ex = "ex-gd-threshold"
    cases = tuple((A.copy(),) for A in THRESHOLD_HESSIANS)
    got = _answers(ex, fn, cases, ())
    if isinstance(got, Feedback):
        return got
    lam = [np.linalg.eigvalsh(A) for A in THRESHOLD_HESSIANS]
    lmax = np.array([v[-1] for v in lam])
    lmin = np.array([v[0] for v in lam])
    want = 2 / lmax
    if _close(got, want):
        return passed(ex, "2/λmax: the steepest direction sets the limit.")
    if _close(got, 2 / lmin):
        return failed(
            ex,
            "you used the smallest eigenvalue: the steepest direction (the largest "
            "eigenvalue) is the one that blows up first, so the threshold is 2/λmax",
        )
    if _close(got, 1 / lmax):
        return failed(
            ex,
            "off by a constant factor: 1/λmax is where the iterates start to oscillate; "
            "they diverge only above 2/λmax",
        )
    if _close(got, lmax / 2) or _close(got, 2 * lmax):
        return failed(ex, "upside down: the threshold is 2 divided by λmax, a small number")
    diag = np.array([2 / np.max(np.diag(A)) for A in THRESHOLD_HESSIANS])
    if _close(got, diag):
        return failed(
            ex,
            "you used the largest diagonal entry; the off-diagonal entries change the "
            "curvature too: take the largest eigenvalue (np.linalg.eigvalsh)",
        )
    inputs = [f"A = {np.round(A, 3).tolist()}" for A in THRESHOLD_HESSIANS]
    return _explain(ex, got, want, "your threshold", inputs)


# ---------------------------------------------------------------- ex-gd-1d-factor
def distance_after(lr: float, lam: float, x0: float, x_star: float, t: int) -> float:
    r""":math:`|x_t - x^*| = |1 - \eta\lambda|^t\, |x_0 - x^*|` for gradient descent on
    :math:`f(x) = \tfrac{\lambda}{2}(x - x^*)^2`."""
    return abs(1 - lr * lam) ** t * abs(x0 - x_star)


def check_distance_after(fn: Callable[[float, float, float, float, int], Any]) -> Feedback:
    r"""Check ``fn(lr, lam, x0, x_star, t)`` :math:`= |1 - \eta\lambda|^t |x_0 - x^*|`."""
    exercise = "ex-gd-1d-factor"
    cases = (
        (0.1, 4.0, -1.5, 1.0, 10),
        (0.4, 4.0, -1.5, 1.0, 3),  # a negative factor and an odd t: |.| matters
        (0.05, 2.0, 3.0, -1.0, 7),
    )
    got = _answers(exercise, fn, cases, ())
    if isinstance(got, Feedback):
        return got
    right = np.array([distance_after(*c) for c in cases])
    if _close(got, right):
        return passed(exercise, "the error shrinks by the same factor |1 - ηλ| at every step.")
    mistakes = {
        "the curvature is missing: each step multiplies the error by 1 - ηλ, not 1 - η": (
            lambda lr, lam, x0, xs, t: abs(1 - lr) ** t * abs(x0 - xs)
        ),
        "the ½ in f = (λ/2)(x - x*)² cancels against the 2 of the square: f'(x) = "
        "λ(x - x*), so the factor is 1 - ηλ, not 1 - ηλ/2": (
            lambda lr, lam, x0, xs, t: abs(1 - lr * lam / 2) ** t * abs(x0 - xs)
        ),
        "ηλ is the part of the error a step removes; the part that remains is 1 - ηλ": (
            lambda lr, lam, x0, xs, t: abs(lr * lam) ** t * abs(x0 - xs)
        ),
        "a distance is never negative: with a negative factor 1 - ηλ the error changes sign "
        "each step, so take the absolute value": (
            lambda lr, lam, x0, xs, t: (1 - lr * lam) ** t * abs(x0 - xs)
        ),
        "off by one step: x_t has been multiplied by the factor t times, starting from x_0": (
            lambda lr, lam, x0, xs, t: abs(1 - lr * lam) ** (t - 1) * abs(x0 - xs)
        ),
        "off by one step the other way: x_0 is the start, before any step": (
            lambda lr, lam, x0, xs, t: abs(1 - lr * lam) ** (t + 1) * abs(x0 - xs)
        ),
    }
    for message, wrong in mistakes.items():
        if _close(got, np.array([wrong(*c) for c in cases])):
            return failed(exercise, message)
    k = int(np.flatnonzero(~np.isclose(got, right, rtol=1e-6, atol=1e-9))[0])
    lr, lam, x0, xs, t = cases[k]
    return failed(
        exercise,
        f"for lr = {lr:g}, λ = {lam:g}, x0 = {x0:g}, x* = {xs:g} and t = {t} the distance is "
        f"|1 - {lr:g}·{lam:g}|^{t} · |{x0:g} - ({xs:g})| = {right[k]:.6g}; yours is {got[k]:.6g}",
    )


# ---------------------------------------------------------------- ex-gd-partials (w1, w2)
def check_gradient_w(fn: Callable[[float, float], Any]) -> Feedback:
    r"""``fn(w1, w2)`` should return :math:`\nabla f = (\partial f/\partial w_1,
    \partial f/\partial w_2)` for :math:`f(w_1, w_2) = w_1^2 w_2 + 3 w_2^2`, shape (2,).
    (The same function as :func:`check_gradient`, in the book's notation.)"""
    ex = "ex-gd-partials"
    got = _answers(ex, fn, GRADIENT_POINTS, (2,))
    if isinstance(got, Feedback):
        return got
    want = np.stack([grad_f_xy(*p) for p in GRADIENT_POINTS])
    if _close(got, want):
        return passed(ex, "both partial derivatives are right at every test point.")
    if _close(got, want[:, ::-1]):
        return failed(
            ex,
            "the two partial derivatives are swapped: the first entry should be ∂f/∂w₁ "
            "(hold w₂ fixed), the second ∂f/∂w₂ (hold w₁ fixed)",
        )
    names = ("∂f/∂w₁ (the first entry)", "∂f/∂w₂ (the second entry)")
    inputs = [f"(w₁, w₂) = ({a:g}, {b:g})" for a, b in GRADIENT_POINTS]
    for i in (0, 1):
        j = 1 - i
        if _close(got[:, j], want[:, j]) and not _close(got[:, i], want[:, i]):
            verdict = _explain(ex, got[:, i], want[:, i], names[i], inputs)
            return failed(ex, f"{names[j]} is right, but {verdict.message}")
    return _explain(ex, got, want, "your gradient", inputs)
