r"""Gradient checking: compare an analytic gradient with central differences.

Central difference for each entry :math:`\theta_i`:

.. math:: \frac{\partial L}{\partial \theta_i} \approx
          \frac{L(\theta + h e_i) - L(\theta - h e_i)}{2h}

with error :math:`O(h^2)`. Agreement is measured by the relative error
:math:`\lVert a - n\rVert / (\lVert a\rVert + \lVert n\rVert)`; in float64 with
``h = 1e-6`` a correct gradient of a smooth function scores below about 1e-7.
When a check fails, :func:`diagnose` says what the mistake looks like.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from bpkit.layers import Layer
from bpkit.losses import get_loss

Array = NDArray[np.floating]
DEFAULT_TOL = 1e-7
DEFAULT_ATOL = 1e-9


def numerical_gradient(f: Callable[[Array], float], x: Array, h: float = 1e-6) -> Array:
    """Central-difference gradient of the scalar ``f(x)`` with respect to the array ``x``.

    ``x`` is perturbed **in place**, one entry at a time, and restored afterwards, so ``f``
    may read ``x`` through a model that holds it (e.g. a layer's ``W``). ``x`` must be a
    float64 array: float32 round-off swamps the difference.
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        got = x.dtype if isinstance(x, np.ndarray) else type(x).__name__
        raise TypeError(f"numerical_gradient needs a float64 numpy array (got {got})")
    if h <= 0:
        raise ValueError(f"the step h must be positive; got {h}")
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    if not np.shares_memory(flat, x):
        raise ValueError("x must be contiguous so that it can be perturbed in place")
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        f_plus = float(f(x))
        flat[i] = old - h
        f_minus = float(f(x))
        flat[i] = old
        gflat[i] = (f_plus - f_minus) / (2 * h)
    return grad


def relative_error(a: ArrayLike, b: ArrayLike) -> float:
    r""":math:`\lVert a - b\rVert / (\lVert a\rVert + \lVert b\rVert)`, 0 when both are 0."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"cannot compare gradients of shapes {a.shape} and {b.shape}")
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denom == 0 else float(np.linalg.norm(a - b) / denom)


def diagnose(
    analytic: ArrayLike, numeric: ArrayLike, tol: float = DEFAULT_TOL, atol: float = DEFAULT_ATOL
) -> str | None:
    """``None`` if the gradients agree; otherwise a sentence on what the mistake looks like.

    They agree when the relative error is below ``tol``, or when every entry differs by at
    most ``atol`` (central differences cannot resolve finer than about 1e-10, so a tiny
    gradient can have a large *relative* error from round-off alone).
    """
    a, n = np.asarray(analytic, dtype=np.float64), np.asarray(numeric, dtype=np.float64)
    close = 1e-4  # how near a "looks like" explanation must come
    if a.shape != n.shape:
        if a.T.shape == n.shape and relative_error(a.T, n) < close:
            return f"transposed: the gradient has shape {a.shape} but should be {n.shape}"
        return f"wrong shape: the gradient has shape {a.shape} but the parameter has {n.shape}"
    if not np.all(np.isfinite(a)):
        return "the analytic gradient contains NaN or inf"
    error = relative_error(a, n)
    if error < tol or np.max(np.abs(a - n), initial=0.0) <= atol:
        return None
    if error < close:
        return (
            f"close but not within tolerance (relative error {error:.1e}): numerical noise "
            "(a tiny gradient, float32, or a point near a kink such as relu's), not a formula mistake"
        )
    if np.allclose(n, 0, atol=1e-12) and not np.allclose(a, 0, atol=1e-12):
        return "the true gradient is zero here but the analytic one is not"
    if np.allclose(a, 0, atol=1e-12):
        return "the analytic gradient is all zeros: a step of the chain rule is missing"
    if relative_error(-a, n) < close:
        return "sign flipped: the analytic gradient is the negative of the true one"
    if a.ndim == 2 and a.shape[0] == a.shape[1] and relative_error(a.T, n) < close:
        return "transposed: the analytic gradient is the transpose of the true one"
    c = float(np.vdot(a, n) / np.vdot(a, a))
    if relative_error(c * a, n) < close:
        factor = 1.0 / c
        hint = ""
        if abs(factor - round(factor)) < 1e-6 and round(factor) > 1:
            # only the explanations that give this factor: the 1/2 gives exactly 2
            hint = (
                " (a whole number: e.g. the loss averages over the batch but the gradient "
                "sums"
                + (
                    ", or the 1/2 in front of a squared error was dropped)"
                    if round(factor) == 2
                    else ")"
                )
            )
        elif abs(c - round(c)) < 1e-6 and round(c) > 1:
            hint = " (e.g. the gradient averages where the loss sums" + (
                ", or the 2 from differentiating a square was dropped)" if round(c) == 2 else ")"
            )
        elif 0 < c < 1:  # too large, by a factor that no reduction explains
            hint = (
                " (not a whole number: a missing activation derivative f'(z) looks like this "
                "when f'(z) is about the same everywhere, e.g. sigmoid' is about 1/4 near z = 0)"
            )
        if a.size == 1:  # any two single numbers differ by "a constant factor"
            hint += (
                "; with a single entry this cannot be told apart from a missing or wrong "
                "derivative factor: look at the other parameters' diagnoses"
            )
        return f"off by a constant factor: the analytic gradient is {factor:.4g} times the true one{hint}"
    mask = np.abs(a) > 1e-12 * np.max(np.abs(a))
    ratio = n[mask] / a[mask]
    if np.all(ratio > 0) and np.all(ratio <= 1 + 1e-6):
        which = (
            "sigmoid' is at most 1/4"
            if np.all(ratio <= 0.25 + 1e-6)
            else "tanh' and sigmoid' are at most 1"
        )
        return (
            "too large by a different factor in each entry, always in the right direction: "
            f"this is what a missing activation derivative f'(z) looks like ({which})"
        )
    return (
        "wrong in a way that is not a sign flip, a transpose or a constant factor: check each "
        "chain-rule step, e.g. an activation derivative evaluated at the wrong argument"
    )


@dataclass
class ParamCheck:
    """The comparison for one parameter."""

    name: str
    analytic: Array
    numeric: Array
    error: float
    problem: str | None

    @property
    def passed(self) -> bool:
        return self.problem is None


@dataclass
class GradcheckReport:
    """One :class:`ParamCheck` per parameter; ``passed`` if every one agrees."""

    checks: list[ParamCheck] = field(default_factory=list)
    tol: float = DEFAULT_TOL

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def max_error(self) -> float:
        return max((c.error for c in self.checks), default=0.0)

    def __getitem__(self, name: str) -> ParamCheck:
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(f"no parameter named {name!r}; have {[c.name for c in self.checks]}")

    def raise_if_failed(self) -> GradcheckReport:
        if not self.passed:
            raise AssertionError(str(self))
        return self

    def __str__(self) -> str:
        head = "gradient check passed" if self.passed else "gradient check FAILED"
        lines = [f"{head} (relative error tolerance {self.tol:.0e})"]
        for c in self.checks:
            verdict = "ok" if c.passed else f"WRONG: {c.problem}"
            lines.append(f"  {c.name:<12} relative error {c.error:.2e}  {verdict}")
        return "\n".join(lines)

    def _repr_pretty_(self, p, cycle) -> None:  # IPython shows the plain-text table
        p.text(str(self))


def check_parameter(
    name: str, analytic: ArrayLike, numeric: ArrayLike, tol: float = DEFAULT_TOL
) -> ParamCheck:
    a, n = np.asarray(analytic, dtype=np.float64), np.asarray(numeric, dtype=np.float64)
    problem = diagnose(a, n, tol)
    error = relative_error(a, n) if a.shape == n.shape else float("inf")
    return ParamCheck(name, a, n, error, problem)


def gradcheck(
    target: Layer | Callable[[], float],
    X: ArrayLike | Mapping[str, Array],
    y: ArrayLike | Mapping[str, ArrayLike] | None = None,
    *,
    loss: str = "mse",
    tol: float = DEFAULT_TOL,
    h: float = 1e-6,
) -> GradcheckReport:
    """Check analytic gradients against central differences, one parameter at a time.

    Two forms:

    * ``gradcheck(model, X, y, loss="mse")`` for a bpkit layer or ``Sequential`` (use a
      float64 model): runs forward, the loss, ``backward``, then compares every
      parameter's gradient and ``dX``.
    * ``gradcheck(f, params, grads)`` for your own code: ``f()`` returns the loss computed
      from the float64 arrays in the dict ``params``; ``grads`` holds your analytic
      gradient for each of them, under the same names.
    """
    if isinstance(target, Layer):
        return _check_layer(target, X, y, loss, tol, h)
    if callable(target):
        if not isinstance(X, Mapping) or not isinstance(y, Mapping):
            raise TypeError("gradcheck(f, params, grads) takes two dicts of arrays, keyed by name")
        missing = set(X) - set(y)
        if missing:
            raise ValueError(f"grads has no entry for {sorted(missing)}")
        report = GradcheckReport(tol=tol)
        for name, value in X.items():
            numeric = numerical_gradient(lambda _: target(), value, h)
            report.checks.append(check_parameter(name, y[name], numeric, tol))
        return report
    raise TypeError("gradcheck takes a bpkit layer or model, or a loss function f()")


def _check_layer(model: Layer, X, y, loss: str, tol: float, h: float) -> GradcheckReport:
    loss_fn, loss_grad = get_loss(loss)
    X = np.array(X, dtype=np.float64)
    for p in model.parameters():
        if p.value.dtype != np.float64:
            raise TypeError(f"gradcheck needs a float64 model; {p.name} is {p.value.dtype}")
    out = model.forward(X)
    dX = model.backward(loss_grad(out, y))
    report = GradcheckReport(tol=tol)
    for p in model.parameters():
        analytic = p.grad.copy()
        numeric = numerical_gradient(lambda _: loss_fn(model.forward(X), y), p.value, h)
        report.checks.append(check_parameter(p.name, analytic, numeric, tol))
    numeric_dX = numerical_gradient(lambda x: loss_fn(model.forward(x), y), X, h)
    report.checks.append(check_parameter("dX", dX, numeric_dX, tol))
    model.forward(X)  # leave the caches as the caller's forward pass left them
    return report
