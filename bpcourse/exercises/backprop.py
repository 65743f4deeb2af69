r"""Checkers for the exercises of the chapter "Forward and backward propagation".

Conventions (as in the chapter): rows are examples, ``W`` has shape ``(n_out, n_in)``,
the loss is :math:`L = \frac{1}{2n}\sum (Y - T)^2` over the ``n`` examples, and every
activation is a sigmoid. Each ``check_*`` runs the learner's function on fixed inputs,
compares it first with the *typical wrong answers* (a missing derivative, the derivative
of the wrong argument, a dropped ``1/n``, a missing or extra transpose, a bias gradient
that is not summed) so a failure names the mistake, and reports "not attempted yet" while
the stub still raises ``NotImplementedError``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bpcourse import bugs
from bpcourse.exercises.feedback import (
    Feedback,
    call_answer,
    compare_arrays,
    failed,
    not_attempted,
    passed,
)
from bpkit.activations import sigmoid, sigmoid_grad
from bpkit.gradcheck import check_parameter, numerical_gradient

Array = NDArray[np.float64]
Mistake = tuple[str, Callable[..., Any]]

__all__ = [
    "check_backward",
    "check_hidden_delta",
    "check_layer_grads",
    "check_output_delta",
]

_SHAPE_HINT = (
    " With rows as examples: Delta2 is (n, k), W2 is (k, h), so Delta2 @ W2 is (n, h), "
    "the shape of Z1; no transpose is needed there."
)


def _close(a: Array, b: Array) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-6, atol=1e-9, equal_nan=True))


def _short(x: Any) -> str:
    return " ".join(np.array2string(np.asarray(x), precision=3, threshold=8).split())


def _run(exercise: str, fn: Callable[..., Any], args: tuple[Any, ...], what: str):
    """Call the learner's function on copies; return ``(feedback_or_None, result)``."""
    copies = tuple(np.array(a, copy=True) for a in args)  # the learner may write in place
    try:
        with np.errstate(all="ignore"):
            ok, got = call_answer(fn, *copies)
    except Exception as exc:  # the learner's code raised: say so in words
        hint = _SHAPE_HINT if isinstance(exc, ValueError) and "matmul" in str(exc) else ""
        return failed(exercise, f"{what} raised {type(exc).__name__}: {exc}.{hint}"), None
    if not ok:
        return not_attempted(exercise), None
    return None, got


def _check(
    exercise: str,
    fn: Callable[..., Any],
    reference: Callable[..., Any],
    cases: Sequence[tuple[Any, ...]],
    mistakes: Sequence[Mistake],
    what: str,
) -> Feedback:
    """Run ``fn`` on every case; name the first known mistake it matches, if any."""
    for args in cases:
        verdict, got = _run(exercise, fn, args, what)
        if verdict is not None:
            return verdict
        try:
            got_arr = np.asarray(got, dtype=np.float64)
        except (TypeError, ValueError):
            return failed(exercise, f"{what} should return an array, got {type(got).__name__}")
        expected = np.asarray(reference(*args), dtype=np.float64)
        if _close(got_arr, expected):
            continue
        shown = f"(for inputs of shapes {', '.join(str(np.shape(a)) for a in args)})"
        for description, wrong in mistakes:
            try:
                with np.errstate(all="ignore"):
                    candidate = np.asarray(wrong(*args), dtype=np.float64)
            except ValueError:  # this mistake cannot even run on these shapes
                continue
            if _close(got_arr, candidate):
                return failed(exercise, f"{description} {shown}")
        verdict = compare_arrays(exercise, got_arr, expected, f"{what}'s result")
        return failed(exercise, f"{verdict.message} {shown}")
    return passed(exercise)


def _cases(seed: int, shapes: Sequence[Sequence[tuple[int, ...]]]) -> list[tuple[Array, ...]]:
    rng = np.random.default_rng(seed)  # fixed inputs, the same on every run
    return [tuple(rng.standard_normal(s) for s in case) for case in shapes]


# ---------------------------------------------------------------- ex-bp-output-delta
def output_delta(Y: Array, T: Array, Z2: Array) -> Array:
    r"""Reference: :math:`\Delta_2 = \frac1n (Y - T)\odot\sigma'(Z_2)`, shape ``(n, k)``."""
    return (Y - T) / Y.shape[0] * sigmoid_grad(Z2)


def _output_delta_cases() -> list[tuple[Array, Array, Array]]:
    cases = []
    for n, k, seed in ((3, 1, 0), (5, 2, 1)):
        rng = np.random.default_rng(seed)
        Z2 = rng.standard_normal((n, k)) * 2
        T = (rng.random((n, k)) > 0.5).astype(np.float64)
        cases.append((sigmoid(Z2), T, Z2))
    return cases


def check_output_delta(fn: Callable[[Array, Array, Array], Array]) -> Feedback:
    r"""Check ``fn(Y, T, Z2)`` :math:`= \frac1n (Y - T)\odot\sigma'(Z_2)` with ``Y = sigmoid(Z2)``."""
    n_of = lambda Y: Y.shape[0]  # noqa: E731
    mistakes: list[Mistake] = [
        (
            "missing derivative: this is (Y - T)/n without the output activation's "
            "derivative σ'(Z2) = Y(1 - Y); the loss reaches Z2 through the sigmoid",
            lambda Y, T, Z2: (Y - T) / n_of(Y),
        ),
        (
            "σ' evaluated at the wrong argument: you used Z2(1 - Z2); x(1 - x) is σ' only "
            "when x is already the activation Y = σ(Z2)",
            lambda Y, T, Z2: (Y - T) / n_of(Y) * Z2 * (1 - Z2),
        ),
        (
            "wrong sign: you used (T - Y); the derivative of (1/2n)(Y - T)² with respect "
            "to Y is +(Y - T)/n",
            lambda Y, T, Z2: -output_delta(Y, T, Z2),
        ),
        (
            "off by a constant factor of n: the loss is a mean over the n examples, so the "
            "gradient carries a 1/n; yours is the gradient of the sum",
            lambda Y, T, Z2: (Y - T) * sigmoid_grad(Z2),
        ),
        (
            "missing derivative and the 1/n: (Y - T) alone is neither the mean's gradient "
            "nor multiplied by σ'(Z2)",
            lambda Y, T, Z2: Y - T,
        ),
    ]
    return _check(
        "ex-bp-output-delta",
        fn,
        output_delta,
        _output_delta_cases(),
        mistakes,
        "your output delta",
    )


# ---------------------------------------------------------------- ex-bp-hidden-delta
def hidden_delta(D2: Array, W2: Array, Z1: Array) -> Array:
    r"""Reference: :math:`\Delta_1 = (\Delta_2 W_2)\odot\sigma'(Z_1)`, shape ``(n, h)``."""
    return (D2 @ W2) * sigmoid_grad(Z1)


def check_hidden_delta(fn: Callable[[Array, Array, Array], Array]) -> Feedback:
    r"""Check ``fn(D2, W2, Z1)`` :math:`= (\Delta_2 W_2)\odot\sigma'(Z_1)`.

    Shapes: ``D2`` (n, k), ``W2`` (k, h), ``Z1`` (n, h). The cases use ``k != h`` and a
    square ``W2`` so that a transpose mistake shows up either as a shape error or as wrong
    numbers.
    """
    cases = _cases(2, [((4, 1), (1, 2), (4, 2)), ((3, 3), (3, 3), (3, 3))])
    mistakes: list[Mistake] = [
        (
            "missing derivative: this is Delta2 @ W2 without the hidden activation's "
            "derivative σ'(Z1); multiply elementwise by sigmoid_grad(Z1)",
            lambda D2, W2, Z1: D2 @ W2,
        ),
        (
            "σ' evaluated at the wrong argument: you used Z1(1 - Z1); the sigmoid's "
            "derivative is A1(1 - A1) with A1 = σ(Z1), i.e. sigmoid_grad(Z1)",
            lambda D2, W2, Z1: (D2 @ W2) * Z1 * (1 - Z1),
        ),
        (
            "transposed: you multiplied by W2ᵀ; with rows as examples Delta2 (n, k) is "
            "multiplied by W2 (k, h) itself",
            lambda D2, W2, Z1: (D2 @ W2.T) * sigmoid_grad(Z1),
        ),
        (
            "σ' written as σ: you multiplied by sigmoid(Z1) instead of its derivative "
            "σ(Z1)(1 - σ(Z1))",
            lambda D2, W2, Z1: (D2 @ W2) * sigmoid(Z1),
        ),
        (
            "wrong sign: nothing in this step changes the sign",
            lambda D2, W2, Z1: -hidden_delta(D2, W2, Z1),
        ),
    ]
    return _check("ex-bp-hidden-delta", fn, hidden_delta, cases, mistakes, "your hidden delta")


# ---------------------------------------------------------------- ex-bp-layer-grads
def layer_grads(D: Array, A_prev: Array) -> tuple[Array, Array]:
    r"""Reference: :math:`dW = \Delta^\top A_{prev}` (k, h) and :math:`db = \sum_i \Delta_i` (k,)."""
    return D.T @ A_prev, D.sum(axis=0)


def check_layer_grads(fn: Callable[[Array, Array], tuple[Array, Array]]) -> Feedback:
    r"""Check ``fn(D, A_prev) -> (dW, db)`` with ``D`` (n, k), ``A_prev`` (n, h):
    ``dW = D.T @ A_prev`` of shape (k, h) (the shape of ``W``) and ``db = D.sum(axis=0)``
    of shape (k,)."""
    exercise = "ex-bp-layer-grads"
    for D, A in _cases(3, [((5, 2), (5, 3)), ((4, 3), (4, 3))]):
        verdict, got = _run(exercise, fn, (D, A), "your function")
        if verdict is not None:
            return verdict
        if not isinstance(got, tuple | list) or len(got) != 2:
            return failed(exercise, "return two arrays, (dW, db)")
        dW, db = (np.asarray(g, dtype=np.float64) for g in got)
        shown = f"(for D of shape {D.shape} and A_prev of shape {A.shape})"
        ref_dW, ref_db = layer_grads(D, A)
        n = D.shape[0]
        if not _close(dW, ref_dW):
            if _close(dW, A.T @ D) or _close(dW, ref_dW.T):
                return failed(
                    exercise,
                    f"dW is transposed: it must have the shape of W, (n_out, n_in) = "
                    f"{ref_dW.shape}, which is Delta.T @ A_prev, not A_prev.T @ Delta {shown}",
                )
            if _close(dW, ref_dW / n):
                return failed(
                    exercise,
                    f"dW is off by a constant factor of 1/n: Delta already carries the 1/n of "
                    f"the mean loss; do not average again {shown}",
                )
            return failed(exercise, compare_arrays(exercise, dW, ref_dW, "dW").message + shown)
        if not _close(db, ref_db):
            if db.shape == D.shape:
                return failed(
                    exercise,
                    f"db has shape {db.shape}, one row per example: the bias is added to "
                    f"every example, so sum Delta over the examples (axis 0) to get shape "
                    f"{ref_db.shape} {shown}",
                )
            if db.shape == (n,) and _close(db, D.sum(axis=1)):
                return failed(
                    exercise,
                    f"db summed over the wrong axis: sum over the examples (axis 0), "
                    f"giving one entry per unit, shape {ref_db.shape} {shown}",
                )
            if _close(db, ref_db / n):
                return failed(
                    exercise,
                    f"db is off by a constant factor of 1/n: you averaged; Delta already "
                    f"carries the 1/n of the mean loss, so sum {shown}",
                )
            return failed(exercise, compare_arrays(exercise, db, ref_db, "db").message + shown)
    return passed(exercise)


# ---------------------------------------------------------------- ex-bp-full-backward
def check_backward(
    fn: Callable[[Mapping[str, Array], Array, Array], Mapping[str, Array]],
) -> Feedback:
    r"""Check ``fn(params, X, T)``: the whole backward pass of the sigmoid 3-2-1 network
    gradient-checked parameter by parameter against central
    differences of :func:`bpcourse.bugs.loss`.

    ``params`` holds ``W1`` (2, 3), ``b1`` (2,), ``W2`` (1, 2), ``b2`` (1,); the result
    must be a dict with the same keys and shapes.
    """
    exercise = "ex-bp-full-backward"
    X = np.array([[0.0, 0.0, 1.0], [1.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
    T = np.array([[0.0], [1.0], [0.0]])
    params = bugs.init_params(3, 2, 1, rng=np.random.default_rng(7))
    params["b1"] += np.array([0.3, -0.2])
    params["b2"] += 0.1
    copies = {k: v.copy() for k, v in params.items()}
    try:
        with np.errstate(all="ignore"):
            ok, got = call_answer(fn, copies, X.copy(), T.copy())
    except Exception as exc:
        hint = _SHAPE_HINT if isinstance(exc, ValueError) and "matmul" in str(exc) else ""
        return failed(exercise, f"your backward raised {type(exc).__name__}: {exc}.{hint}")
    if not ok:
        return not_attempted(exercise)
    if not isinstance(got, Mapping):
        return failed(exercise, f"return a dict with keys {list(bugs.PARAM_SHAPES)}")
    missing = [k for k in bugs.PARAM_SHAPES if k not in got]
    if missing:
        return failed(exercise, f"the result is missing the gradients for {missing}")
    problems = []
    for name in bugs.PARAM_SHAPES:
        # the true gradient: central differences of the loss, one entry at a time
        numeric = numerical_gradient(lambda _: bugs.loss(params, X, T), params[name])
        c = check_parameter(name, np.asarray(got[name], dtype=np.float64), numeric)
        if not c.passed:
            problems.append(f"{name}: {c.problem}")
    if problems:
        wrong = ", ".join(p.split(":")[0] for p in problems)
        return failed(exercise, f"wrong gradients for {wrong}. " + "; ".join(problems))
    return passed(exercise, "every gradient agrees with central differences.")
