r"""Checkers for the exercises of Chapter 6 (vanishing and exploding gradients).

Each ``check_*`` takes the learner's function, runs it on fixed cases, and returns a
:class:`~bpcourse.exercises.feedback.Feedback` that names the mistake in words: gradient
norms in the wrong order or squared, clipping per array instead of globally, an
initialisation that returns a variance instead of a standard deviation, a LayerNorm
backward that treats the mean and variance as constants, and so on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from bpcourse.diagnostics import dense_layers, layer_grad_norms
from bpcourse.exercises.feedback import (
    Feedback,
    call_answer,
    compare_arrays,
    failed,
    not_attempted,
    passed,
)
from bpcourse.explorers.vanishing import deep_network, probe_batch
from bpkit.losses import mse_grad
from bpkit.normalization import LayerNorm


def _close(a: Any, b: Any, rtol: float = 1e-6) -> bool:
    try:
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=1e-12))


def _run(exercise: str, fn: Callable[..., Any], *args: Any) -> tuple[Feedback | None, Any]:
    """Call the answer; a Feedback if it is the stub or raised, else ``(None, result)``."""
    try:
        ok, got = call_answer(fn, *args)
    except Exception as exc:  # the learner's code raised: say so in words
        return failed(exercise, f"your function raised {type(exc).__name__}: {exc}"), None
    if not ok:
        return not_attempted(exercise), None
    return None, got


# ---------------------------------------------------------------- per-layer gradient norms
def _norm_cases() -> list[Any]:
    """Two small networks after one backward pass (sigmoid, and residual tanh)."""
    models = []
    X, y = probe_batch(seed=3)
    for depth, act, residual in ((5, "sigmoid", False), (4, "tanh", True)):
        model = deep_network(
            depth, act, 1.0, np.random.default_rng(depth), width=6, residual=residual
        )
        model.backward(mse_grad(model.forward(X), y))
        models.append(model)
    return models


def check_layer_grad_norms(fn: Callable[[Any], Any]) -> Feedback:
    """``fn(model)`` should return ``[||dW_1||_F, ..., ||dW_L||_F]``, input side first."""
    ex = "ex-vanish-grad-norms"
    for model in _norm_cases():
        verdict, got = _run(ex, fn, model)
        if verdict is not None:
            return verdict
        expected = np.array(layer_grad_norms(model))
        try:
            got = np.asarray(got, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            return failed(
                ex, f"return a list of numbers (one per Dense layer); got {type(got).__name__}"
            )
        layers = dense_layers(model)
        if got.size != expected.size:
            return failed(
                ex,
                f"the model has {expected.size} Dense layers but you returned {got.size} numbers: "
                "report one norm per Dense layer (activation layers have no weights)",
            )
        if _close(got, expected):
            continue
        if _close(got, expected[::-1]):
            return failed(
                ex,
                "the order is reversed: entry 0 should be the layer nearest the input "
                "(the forward order), not the output layer the backward pass reaches first",
            )
        if _close(got, expected**2):
            return failed(ex, "these are squared norms: take the square root of the sum of squares")
        with_bias = np.array([np.sqrt(np.sum(d.dW**2) + np.sum(d.db**2)) for d in layers])
        if _close(got, with_bias):
            return failed(
                ex, "you included the bias gradient db: report the weight gradient dW only"
            )
        if _close(got, [np.linalg.norm(d.W) for d in layers]):
            return failed(ex, "these are the norms of the weights W, not of their gradients dW")
        if _close(got, [np.abs(d.dW).sum() for d in layers]):
            return failed(
                ex, "this is the sum of absolute values (L1); use the Frobenius (L2) norm"
            )
        return compare_arrays(ex, got, expected, "your list of norms")
    return passed(ex, "one Frobenius norm per Dense layer, input side first.")


# ---------------------------------------------------------------- clipping by global norm
def _clip_reference(grads: list[np.ndarray], max_norm: float) -> list[np.ndarray]:
    total = np.sqrt(sum(np.sum(g * g) for g in grads))
    factor = min(1.0, max_norm / total)
    return [g * factor for g in grads]


def check_clip(fn: Callable[[list[np.ndarray], float], Any]) -> Feedback:
    """``fn(grads, max_norm)`` should return the list of gradients clipped by global norm."""
    ex = "ex-vanish-clip"
    rng = np.random.default_rng(6)
    big = [
        3.0 * rng.standard_normal((3, 4)),
        0.5 * rng.standard_normal(3),
        rng.standard_normal((2, 3)),
    ]
    small = [1e-3 * g for g in big]
    for grads, max_norm, label in (
        (big, 1.0, "a large gradient"),
        (small, 1.0, "a small gradient"),
    ):
        verdict, got = _run(ex, fn, [g.copy() for g in grads], max_norm)
        if verdict is not None:
            return verdict
        if not isinstance(got, list | tuple) or len(got) != len(grads):
            return failed(
                ex, f"return a list of {len(grads)} arrays, one per gradient, in the same order"
            )
        expected = _clip_reference(grads, max_norm)
        if all(_close(g, e) for g, e in zip(got, expected, strict=True)):
            continue
        total = np.sqrt(sum(np.sum(g * g) for g in grads))
        if all(_close(g, e) for g, e in zip(got, grads, strict=True)):
            return failed(
                ex, f"for {label} (global norm {total:.3g} > {max_norm}) nothing was clipped"
            )
        per_array = [g * min(1.0, max_norm / np.linalg.norm(g)) for g in grads]
        if all(_close(g, e) for g, e in zip(got, per_array, strict=True)):
            return failed(
                ex,
                "each array was clipped by its own norm: global-norm clipping computes one norm "
                "over all gradients together and scales every array by the same factor",
            )
        rescaled = [g * max_norm / total for g in grads]
        if all(_close(g, e) for g, e in zip(got, rescaled, strict=True)):
            return failed(
                ex,
                f"for {label} (global norm {total:.3g} < {max_norm}) you scaled the gradient up: "
                "clipping only shrinks; leave a gradient shorter than max_norm unchanged",
            )
        inverted = [g * total / max_norm for g in grads]
        if all(_close(g, e) for g, e in zip(got, inverted, strict=True)):
            return failed(
                ex, "the factor is upside down: multiply by max_norm / norm, not norm / max_norm"
            )
        return failed(
            ex,
            f"for {label} the clipped gradients differ from g * min(1, max_norm / ||g||) "
            "with ||g|| the norm of all arrays together",
        )
    return passed(ex, "one global norm, one factor, and only ever shrinking.")


# ---------------------------------------------------------------- initialisation scale
def _init_std(n_in: int, n_out: int, activation: str) -> float:
    if activation == "relu":
        return float(np.sqrt(2.0 / n_in))  # He
    return float(np.sqrt(2.0 / (n_in + n_out)))  # Glorot (Xavier)


def check_init_std(fn: Callable[[int, int, str], Any]) -> Feedback:
    """``fn(n_in, n_out, activation)``: Xavier std for ``"tanh"``, He std for ``"relu"``."""
    ex = "ex-vanish-init"
    for n_in, n_out, act in (
        (64, 32, "relu"),
        (100, 100, "relu"),
        (64, 32, "tanh"),
        (50, 150, "tanh"),
    ):
        verdict, got = _run(ex, fn, n_in, n_out, act)
        if verdict is not None:
            return verdict
        try:
            got = float(got)
        except (TypeError, ValueError):
            return failed(
                ex, f"return one number, the standard deviation; got {type(got).__name__}"
            )
        expected = _init_std(n_in, n_out, act)
        case = f"(n_in={n_in}, n_out={n_out}, {act!r})"
        if np.isclose(got, expected, rtol=1e-6):
            continue
        if np.isclose(got, expected**2, rtol=1e-6):
            return failed(
                ex, f"{case}: that is the variance; return its square root, the standard deviation"
            )
        if act == "relu" and np.isclose(got, np.sqrt(2.0 / (n_in + n_out)), rtol=1e-6):
            return failed(
                ex,
                f"{case}: that is the Xavier value; ReLU zeroes half its inputs, so use He, 2/n_in",
            )
        if act == "relu" and np.isclose(got, np.sqrt(1.0 / n_in), rtol=1e-6):
            return failed(
                ex,
                f"{case}: the factor 2 is missing: ReLU halves the second moment, so Var(W) = 2/n_in",
            )
        if act == "relu" and np.isclose(got, np.sqrt(2.0 / n_out), rtol=1e-6):
            return failed(ex, f"{case}: He's forward rule divides by the fan-in n_in, not n_out")
        if act == "tanh" and np.isclose(got, np.sqrt(2.0 / n_in), rtol=1e-6):
            return failed(
                ex,
                f"{case}: that is the He value; tanh is near-linear at 0, so use Xavier, 2/(n_in + n_out)",
            )
        if act == "tanh" and np.isclose(got, np.sqrt(1.0 / (n_in + n_out)), rtol=1e-6):
            return failed(
                ex,
                f"{case}: off by sqrt(2): Xavier's variance is 2/(n_in + n_out), the harmonic mean of 1/n_in and 1/n_out",
            )
        return failed(ex, f"{case}: got {got:.4g}, expected {expected:.4g}")
    return passed(ex, "He for ReLU, Xavier for tanh.")


# ---------------------------------------------------------------- LayerNorm backward
def _ln_case(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    rng = np.random.default_rng(seed)
    X = rng.normal(1.0, 2.0, (4, 5))
    gamma = rng.uniform(0.5, 1.5, 5)
    dY = rng.standard_normal((4, 5))
    return X, gamma, dY, 1e-5


def _ln_reference(X, gamma, dY, eps):
    layer = LayerNorm(X.shape[1], eps=eps)
    layer.gamma[...] = gamma
    layer.forward(X)
    return layer.backward(dY)


def check_layernorm_backward(fn: Callable[..., Any]) -> Feedback:
    """``fn(X, gamma, dY, eps)`` should return ``dX`` for ``Y = gamma * (X - mu)/sqrt(var + eps) + beta``."""
    ex = "ex-vanish-layernorm"
    for seed in (0, 1):
        X, gamma, dY, eps = _ln_case(seed)
        verdict, got = _run(ex, fn, X.copy(), gamma.copy(), dY.copy(), eps)
        if verdict is not None:
            return verdict
        expected = _ln_reference(X, gamma, dY, eps)
        if _close(got, expected):
            continue
        s = 1.0 / np.sqrt(X.var(axis=1, keepdims=True) + eps)
        xhat = (X - X.mean(axis=1, keepdims=True)) * s
        g = dY * gamma
        d = X.shape[1]
        if _close(got, g * s):
            return failed(
                ex,
                "you treated the mean and the variance as constants: both depend on every "
                "entry of the row, so dX needs the two extra paths through mu and sigma",
            )
        if _close(got, s * (g - g.mean(axis=1, keepdims=True))):
            return failed(
                ex,
                "the path through the variance is missing (the term with x_hat * sum(g * x_hat))",
            )
        if _close(got, s * (g - xhat * np.mean(g * xhat, axis=1, keepdims=True))):
            return failed(ex, "the path through the mean is missing (the term with sum(g))")
        if _close(got, _ln_reference(X, np.ones_like(gamma), dY, eps)):
            return failed(ex, "gamma is missing: the gradient reaching x_hat is dY * gamma")
        if _close(
            got,
            (s / d) * (d * g - g.sum(0, keepdims=True) - xhat * np.sum(g * xhat, 0, keepdims=True)),
        ):
            return failed(
                ex,
                "the sums run over the batch (axis 0); LayerNorm normalises each row, so sum over axis 1",
            )
        return compare_arrays(ex, got, expected, "your dX")
    return passed(ex, "all three paths: direct, through the mean, through the variance.")
