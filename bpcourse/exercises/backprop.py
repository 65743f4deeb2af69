r"""Checkers for the exercises of the chapter "Forward and backward propagation".

Conventions (as in the chapter): rows are examples, ``W`` has shape ``(n_out, n_in)``,
the loss is :math:`L = \frac{1}{2n}\sum (Y - T)^2` over the ``n`` examples, and every
activation is a sigmoid. Each exercise is a :class:`~bpcourse.exercises.feedback.Check`
(``OUTPUT_DELTA``, ``HIDDEN_DELTA``, ``LAYER_GRADS``, ``BACKWARD``). The named mistakes:
a missing derivative, σ' written as σ or as tanh's 1 - a², σ' of the wrong argument (the
pre-activation's z(1 - z), or ``sigmoid_grad`` of the activation), a dropped or an extra
``1/n``, ``Y.size`` for ``n``, a missing or extra transpose, a bias gradient that is not
summed. The whole backward pass is gradient-checked against central differences, and
its diagnosis is given once for all the parameters it fits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bpcourse import bugs
from bpcourse.exercises.feedback import (
    GRADIENT_HINTS,
    Check,
    Feedback,
    Mistake,
    call_answer,
    compare_arrays,
    failed,
    not_attempted,
    passed,
)
from bpkit.activations import sigmoid, sigmoid_grad
from bpkit.gradcheck import check_parameter, numerical_gradient

Array = NDArray[np.float64]

__all__ = [
    "check_backward",
    "check_hidden_delta",
    "check_layer_grads",
    "check_output_delta",
]

_SHAPE_HINT = (
    "With rows as examples: Delta2 is (n, k), W2 is (k, h), so Delta2 @ W2 is (n, h), "
    "the shape of Z1; no transpose is needed there."
)


def _cases(seed: int, shapes: Sequence[Sequence[tuple[int, ...]]]) -> list[tuple[Array, ...]]:
    rng = np.random.default_rng(seed)  # fixed inputs, the same on every run
    return [tuple(rng.standard_normal(s) for s in case) for case in shapes]


def _show_shapes(*args: Array) -> str:
    return "inputs of shapes " + ", ".join(str(np.shape(a)) for a in args)


# ---------------------------------------------------------------- ex-bp-output-delta
def output_delta(Y: Array, T: Array, Z2: Array) -> Array:
    r"""Reference: :math:`\Delta_2 = \frac1n (Y - T)\odot\sigma'(Z_2)`, shape ``(n, k)``."""
    return (Y - T) / Y.shape[0] * sigmoid_grad(Z2)


def _output_delta_cases() -> list[tuple[Array, Array, Array]]:
    cases = []
    for n, k, seed in ((3, 1, 0), (5, 2, 1)):  # k = 2: Y.size is not n
        rng = np.random.default_rng(seed)
        Z2 = rng.standard_normal((n, k)) * 2
        T = (rng.random((n, k)) > 0.5).astype(np.float64)
        cases.append((sigmoid(Z2), T, Z2))
    return cases


def _loss_grad(Y: Array, T: Array) -> Array:
    return (Y - T) / Y.shape[0]


OUTPUT_DELTA = Check(
    "ex-bp-output-delta",
    output_delta,
    _output_delta_cases,
    (
        Mistake(
            "missing derivative: this is (Y - T)/n without the output activation's "
            "derivative σ'(Z2) = Y(1 - Y); the loss reaches Z2 through the sigmoid",
            lambda Y, T, Z2: _loss_grad(Y, T),
            "missing-output-derivative",
        ),
        Mistake(
            "σ' evaluated at the wrong argument: you used Z2(1 - Z2); x(1 - x) is σ' only "
            "when x is already the activation Y = σ(Z2)",
            lambda Y, T, Z2: _loss_grad(Y, T) * Z2 * (1 - Z2),
            "sigmoid-derivative-of-preactivation",
        ),
        Mistake(
            "sigmoid_grad(Y) takes the derivative at the activation: sigmoid_grad expects "
            "the pre-activation z (it computes σ(z)(1 - σ(z))); pass Z2, or write Y * (1 - Y)",
            lambda Y, T, Z2: _loss_grad(Y, T) * sigmoid_grad(Y),
            "sigmoid-grad-of-activation",
        ),
        Mistake(
            "σ' written as σ: you multiplied by σ(Z2) = Y instead of its derivative "
            "σ'(Z2) = Y(1 - Y)",
            lambda Y, T, Z2: _loss_grad(Y, T) * Y,
            "sigmoid-for-its-derivative",
        ),
        Mistake(
            "1 - Y² is tanh's derivative written with tanh's output; the sigmoid's is "
            "σ'(Z2) = Y(1 - Y)",
            lambda Y, T, Z2: _loss_grad(Y, T) * (1 - Y**2),
            "tanh-derivative-for-sigmoid",
        ),
        Mistake(
            "wrong sign: you used (T - Y); the derivative of (1/2n)(Y - T)² with respect "
            "to Y is +(Y - T)/n",
            lambda Y, T, Z2: -output_delta(Y, T, Z2),
            "wrong-sign",
        ),
        Mistake(
            "off by a constant factor of n: the loss is a mean over the n examples, so the "
            "gradient carries a 1/n; yours is the gradient of the sum",
            lambda Y, T, Z2: (Y - T) * sigmoid_grad(Z2),
            "sum-not-mean",
        ),
        Mistake(
            "you divided by Y.size (n·k entries) instead of n, the number of examples: "
            "the loss (1/2n)Σ(Y - T)² averages over the rows (Y.shape[0])",
            lambda Y, T, Z2: (Y - T) / Y.size * sigmoid_grad(Z2),
            "divided-by-size",
        ),
        Mistake(
            "off by a factor 2: the ½ in L = (1/2n)Σ(Y - T)² cancels the 2 from the square, "
            "so the loss gradient is (Y - T)/n, not 2(Y - T)/n",
            lambda Y, T, Z2: 2 * output_delta(Y, T, Z2),
            "extra-2",
        ),
        Mistake(
            "missing derivative and the 1/n: (Y - T) alone is neither the mean's gradient "
            "nor multiplied by σ'(Z2)",
            lambda Y, T, Z2: Y - T,
            "residual-only",
        ),
    ),
    "your output delta",
    show=_show_shapes,
)


def check_output_delta(fn: Callable[[Array, Array, Array], Array]) -> Feedback:
    r"""Check ``fn(Y, T, Z2)`` :math:`= \frac1n (Y - T)\odot\sigma'(Z_2)` with ``Y = sigmoid(Z2)``."""
    return OUTPUT_DELTA.run(fn)


# ---------------------------------------------------------------- ex-bp-hidden-delta
def hidden_delta(D2: Array, W2: Array, Z1: Array) -> Array:
    r"""Reference: :math:`\Delta_1 = (\Delta_2 W_2)\odot\sigma'(Z_1)`, shape ``(n, h)``."""
    return (D2 @ W2) * sigmoid_grad(Z1)


HIDDEN_DELTA = Check(
    "ex-bp-hidden-delta",
    hidden_delta,
    # k != h in the first case and a square W2 in the second, so that a transpose
    # mistake shows up either as a shape error or as wrong numbers
    _cases(2, [((4, 1), (1, 2), (4, 2)), ((3, 3), (3, 3), (3, 3))]),
    (
        Mistake(
            "missing derivative: this is Delta2 @ W2 without the hidden activation's "
            "derivative σ'(Z1); multiply elementwise by sigmoid_grad(Z1)",
            lambda D2, W2, Z1: D2 @ W2,
            "missing-hidden-derivative",
        ),
        Mistake(
            "σ' evaluated at the wrong argument: you used Z1(1 - Z1); the sigmoid's "
            "derivative is A1(1 - A1) with A1 = σ(Z1), i.e. sigmoid_grad(Z1)",
            lambda D2, W2, Z1: (D2 @ W2) * Z1 * (1 - Z1),
            "sigmoid-derivative-of-preactivation",
        ),
        Mistake(
            "σ' taken at the activation: sigmoid_grad(sigmoid(Z1)) differentiates twice over; "
            "sigmoid_grad expects Z1 itself",
            lambda D2, W2, Z1: (D2 @ W2) * sigmoid_grad(sigmoid(Z1)),
            "sigmoid-grad-of-activation",
        ),
        Mistake(
            "transposed: you multiplied by W2ᵀ; with rows as examples Delta2 (n, k) is "
            "multiplied by W2 (k, h) itself. " + _SHAPE_HINT,
            lambda D2, W2, Z1: (D2 @ W2.T) * sigmoid_grad(Z1),
            "extra-transpose",
        ),
        Mistake(
            "σ' written as σ: you multiplied by sigmoid(Z1) instead of its derivative "
            "σ(Z1)(1 - σ(Z1))",
            lambda D2, W2, Z1: (D2 @ W2) * sigmoid(Z1),
            "sigmoid-for-its-derivative",
        ),
        Mistake(
            "1 - σ(Z1)² is tanh's derivative written with the activation; the sigmoid's is "
            "σ(Z1)(1 - σ(Z1))",
            lambda D2, W2, Z1: (D2 @ W2) * (1 - sigmoid(Z1) ** 2),
            "tanh-derivative-for-sigmoid",
        ),
        Mistake(
            "an extra 1/n: Delta2 already carries the 1/n of the mean loss, and the chain "
            "rule passes it on; do not divide again",
            lambda D2, W2, Z1: hidden_delta(D2, W2, Z1) / D2.shape[0],
            "extra-1-over-n",
        ),
        Mistake(
            "wrong sign: nothing in this step changes the sign",
            lambda D2, W2, Z1: -hidden_delta(D2, W2, Z1),
            "wrong-sign",
        ),
    ),
    "your hidden delta",
    show=_show_shapes,
    on_error={ValueError: _SHAPE_HINT},
)


def check_hidden_delta(fn: Callable[[Array, Array, Array], Array]) -> Feedback:
    r"""Check ``fn(D2, W2, Z1)`` :math:`= (\Delta_2 W_2)\odot\sigma'(Z_1)`.

    Shapes: ``D2`` (n, k), ``W2`` (k, h), ``Z1`` (n, h).
    """
    return HIDDEN_DELTA.run(fn)


# ---------------------------------------------------------------- ex-bp-layer-grads
def layer_grads(D: Array, A_prev: Array) -> tuple[Array, Array]:
    r"""Reference: :math:`dW = \Delta^\top A_{prev}` (k, h) and :math:`db = \sum_i \Delta_i` (k,)."""
    return D.T @ A_prev, D.sum(axis=0)


LAYER_GRADS = Check(
    "ex-bp-layer-grads",
    layer_grads,
    _cases(3, [((5, 2), (5, 3)), ((4, 3), (4, 3))]),
    (
        Mistake(
            "dW is transposed: it must have the shape of W, (n_out, n_in), which is "
            "Delta.T @ A_prev, not A_prev.T @ Delta",
            lambda D, A: (A.T @ D, D.sum(axis=0)),
            "dW-transposed",
        ),
        Mistake(
            "dW is off by a constant factor of 1/n: Delta already carries the 1/n of "
            "the mean loss; do not average again",
            lambda D, A: (D.T @ A / len(D), D.sum(axis=0)),
            "dW-averaged",
        ),
        Mistake(
            "db has one row per example: the bias is added to every example, so sum Delta "
            "over the examples (axis 0) to get one entry per unit",
            lambda D, A: (D.T @ A, D),
            "db-not-summed",
        ),
        Mistake(
            "db summed over the wrong axis: sum over the examples (axis 0), giving one "
            "entry per unit",
            lambda D, A: (D.T @ A, D.sum(axis=1)),
            "db-wrong-axis",
        ),
        Mistake(
            "db is off by a constant factor of 1/n: you averaged; Delta already carries "
            "the 1/n of the mean loss, so sum",
            lambda D, A: (D.T @ A, D.mean(axis=0)),
            "db-averaged",
        ),
        Mistake(
            "dW and db are both off by 1/n: Delta already carries the 1/n of the mean loss, "
            "so sum over the examples; do not average again",
            lambda D, A: (D.T @ A / len(D), D.mean(axis=0)),
            "both-averaged",
        ),
    ),
    "your function",
    parts=("dW", "db"),
    noun="gradients",
    show=lambda D, A: f"D of shape {D.shape} and A_prev of shape {A.shape}",
)


def check_layer_grads(fn: Callable[[Array, Array], tuple[Array, Array]]) -> Feedback:
    r"""Check ``fn(D, A_prev) -> (dW, db)`` with ``D`` (n, k), ``A_prev`` (n, h):
    ``dW = D.T @ A_prev`` of shape (k, h) (the shape of ``W``) and ``db = D.sum(axis=0)``
    of shape (k,)."""
    return LAYER_GRADS.run(fn)


# ---------------------------------------------------------------- ex-bp-full-backward
def numerical_gradients(params: Mapping[str, Array], X: Array, T: Array) -> dict[str, Array]:
    """Reference: central differences of :func:`bpcourse.bugs.loss` for every parameter."""
    params = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    return {
        name: numerical_gradient(lambda _: bugs.loss(params, X, T), params[name])
        for name in bugs.PARAM_SHAPES
    }


def _backward_case() -> tuple[dict[str, Array], Array, Array]:
    X = np.array([[0.0, 0.0, 1.0], [1.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
    T = np.array([[0.0], [1.0], [0.0]])
    params = bugs.init_params(3, 2, 1, rng=np.random.default_rng(7))
    params["b1"] += np.array([0.3, -0.2])
    params["b2"] += 0.1
    return params, X, T


BACKWARD_SHAPES = (
    "With rows as examples: X (n, 3), W1 (2, 3), Z1 = X @ W1.T + b1 (n, 2), W2 (1, 2), "
    "Y (n, 1); Delta2 @ W2 is (n, 2), and dW = Delta.T @ A_prev has the shape of W."
)

BACKWARD = Check(
    "ex-bp-full-backward",
    numerical_gradients,
    lambda: [_backward_case()],
    (),
    "your backward",
    noun="gradients",
    show=lambda params, X, T: f"the chapter's 3-2-1 network on n = {len(X)} examples",
    hints=GRADIENT_HINTS,
    on_error={ValueError: BACKWARD_SHAPES},
    passed_message="every gradient agrees with central differences.",
)


def check_backward(
    fn: Callable[[Mapping[str, Array], Array, Array], Mapping[str, Array]],
) -> Feedback:
    r"""Check ``fn(params, X, T)``: the whole backward pass of the sigmoid 3-2-1 network,
    gradient-checked parameter by parameter against central differences of
    :func:`bpcourse.bugs.loss`.

    ``params`` holds ``W1`` (2, 3), ``b1`` (2,), ``W2`` (1, 2), ``b2`` (1,); the result
    must be a dict with the same keys and shapes.
    """
    return BACKWARD.run(fn)


# ---------------------------------------------------------------- ex-bp-by-hand
def by_hand_grad(y_hat: float, y: float, a1: float, w2: float, x2: float) -> float:
    r"""Reference: :math:`\partial L/\partial W^{(1)}_{12}` of the 3-2-1 network,
    :math:`2(\hat y - y)\,\hat y(1 - \hat y)\,W^{(2)}_{01}\,a^{(1)}_1(1 - a^{(1)}_1)\,x_2`."""
    return 2 * (y_hat - y) * y_hat * (1 - y_hat) * w2 * a1 * (1 - a1) * x2


def check_by_hand(fn: Callable[[float, float, float, float, float], float]) -> Feedback:
    r"""Check ``fn(y_hat, y, a1, w2, x2)`` :math:`= \partial L/\partial W^{(1)}_{12}` for the
    3-2-1 sigmoid network with :math:`L = (\hat y - y)^2` (one example, one output)."""
    exercise = "ex-bp-by-hand"
    cases = [(0.474, 1.0, 0.525, -0.2, 1.0), (0.81, 0.0, 0.3, 0.7, -1.5), (0.2, 1.0, 0.9, 1.3, 2.0)]
    f = by_hand_grad
    mistakes: list[Mistake] = [
        (
            "the 2 from differentiating the square is missing: L = (ŷ - y)² gives ∂L/∂ŷ = 2(ŷ - y)",
            lambda yh, y, a, w, x: f(yh, y, a, w, x) / 2,
        ),
        (
            "the output sigmoid's derivative ŷ(1 - ŷ) is missing",
            lambda yh, y, a, w, x: f(yh, y, a, w, x) / (yh * (1 - yh)),
        ),
        (
            "the hidden sigmoid's derivative a₁(1 - a₁) is missing",
            lambda yh, y, a, w, x: f(yh, y, a, w, x) / (a * (1 - a)),
        ),
        (
            "σ' written as σ: the hidden factor should be a₁(1 - a₁), not a₁",
            lambda yh, y, a, w, x: f(yh, y, a, w, x) / (1 - a),
        ),
        (
            "the weight W2[0,1] that carries the gradient back to a₁ is missing",
            lambda yh, y, a, w, x: f(yh, y, a, w, x) / w,
        ),
        (
            "the input x₂ that the weight multiplies is missing (the last factor)",
            lambda yh, y, a, w, x: f(yh, y, a, w, x) / x,
        ),
        ("the sign is flipped: ∂L/∂ŷ is 2(ŷ - y), not 2(y - ŷ)", lambda *a: -f(*a)),
    ]
    return check_function(exercise, fn, f, cases, "your gradient", mistakes=mistakes)


# ---------------------------------------------------------------- ex-bp-shapes
SHAPES_4_5_3 = {
    "W1": (5, 4),
    "b1": (5,),
    "Z1": (8, 5),
    "W2": (3, 5),
    "Y_hat": (8, 3),
    "Delta2": (8, 3),
    "dW2": (3, 5),
    "Delta1": (8, 5),
    "dW1": (5, 4),
    "db1": (5,),
}


def check_shapes(fn: Callable[[], Mapping[str, Any]]) -> Feedback:
    """Check ``fn()``: a dict of shapes for the 4-5-3 network with a batch of 8 examples."""
    exercise = "ex-bp-shapes"
    try:
        ok, got = call_answer(fn)
    except Exception as exc:
        return failed(exercise, f"your function raised {type(exc).__name__}: {exc}")
    if not ok:
        return not_attempted(exercise)
    if not isinstance(got, Mapping):
        return failed(exercise, f"return a dict with the keys {list(SHAPES_4_5_3)}")
    missing = [k for k in SHAPES_4_5_3 if k not in got]
    if missing:
        return failed(exercise, f"the dict is missing {missing}")
    wrong = []
    for name, right in SHAPES_4_5_3.items():
        try:
            shape = tuple(int(s) for s in got[name])
        except (TypeError, ValueError):
            return failed(exercise, f"{name}: give a shape as a tuple of ints, e.g. (8, 5)")
        if shape == right:
            continue
        if shape == right[::-1] and len(right) == 2:
            why = "transposed"
            if name.startswith("d"):
                why += ": a gradient has the shape of its parameter"
            elif name.startswith("W"):
                why += ": W has one row per unit, (n_out, n_in)"
            else:
                why += ": one row per example"
        elif len(shape) != len(right):
            why = "a bias has one entry per unit" if name.startswith(("b", "db")) else "wrong rank"
        else:
            why = "wrong size"
        wrong.append(f"{name} is {right}, not {shape} ({why})")
    if wrong:
        return failed(exercise, "; ".join(wrong))
    return passed(exercise, "every shape is right.")


# ---------------------------------------------------------------- ex-bp-output-delta (tanh)
def output_delta_tanh(Y_hat: Array, Y: Array, Z2: Array) -> Array:
    r"""Reference: :math:`\Delta^{(2)} = \frac2N (\hat Y - Y)\odot(1 - \hat Y^2)` for a tanh
    output :math:`\hat Y = \tanh(Z^{(2)})` and the book's loss; ``N`` counts every entry."""
    return 2 * (Y_hat - Y) / Y_hat.size * tanh_grad(Z2)


def _tanh_output_cases() -> list[tuple[Array, Array, Array]]:
    cases = []
    for n, k, seed in ((3, 2, 0), (5, 3, 1)):  # k > 1: dividing by n or by N differ
        rng = np.random.default_rng(seed)
        Z2 = rng.standard_normal((n, k))
        cases.append((tanh(Z2), rng.uniform(-1, 1, (n, k)), Z2))
    return cases


def check_output_delta_tanh(fn: Callable[[Array, Array, Array], Array]) -> Feedback:
    r"""Check ``fn(Y_hat, Y, Z2)`` :math:`= \frac2N(\hat Y - Y)\odot\tanh'(Z_2)`."""
    N = lambda A: A.size  # noqa: E731
    mistakes: list[Mistake] = [
        (
            "the output activation's derivative is missing: the loss reaches Z2 through "
            "tanh, so multiply by tanh'(Z2) = 1 - Ŷ²",
            lambda Yh, Y, Z: 2 * (Yh - Y) / N(Yh),
        ),
        (
            "tanh' written as tanh: the derivative of tanh(z) is 1 - tanh(z)², not tanh(z)",
            lambda Yh, Y, Z: 2 * (Yh - Y) / N(Yh) * Yh,
        ),
        (
            "the derivative is taken at the wrong argument: 1 - Z2² is not tanh'(Z2); use "
            "1 - tanh(Z2)² = 1 - Ŷ²",
            lambda Yh, Y, Z: 2 * (Yh - Y) / N(Yh) * (1 - Z * Z),
        ),
        (
            "the sigmoid's derivative Ŷ(1 - Ŷ) belongs to a sigmoid output; this one is tanh",
            lambda Yh, Y, Z: 2 * (Yh - Y) / N(Yh) * Yh * (1 - Yh),
        ),
        (
            "divided by the number of rows n instead of the number of entries N = n·n_out: "
            "bpkit's mse averages over every entry",
            lambda Yh, Y, Z: 2 * (Yh - Y) / len(Yh) * tanh_grad(Z),
        ),
        (
            "the 2 from differentiating the square is missing (the book's loss has no ½)",
            lambda Yh, Y, Z: (Yh - Y) / N(Yh) * tanh_grad(Z),
        ),
        (
            "the 1/N of the mean is missing: this is the gradient of the sum",
            lambda Yh, Y, Z: 2 * (Yh - Y) * tanh_grad(Z),
        ),
        ("wrong sign: ∂L/∂Ŷ is +2(Ŷ - Y)/N", lambda *a: -output_delta_tanh(*a)),
    ]
    return _check(
        "ex-bp-output-delta",
        fn,
        output_delta_tanh,
        _tanh_output_cases(),
        mistakes,
        "your output delta",
    )


# ---------------------------------------------------------------- ex-bp-hidden-delta (tanh)
def hidden_delta_tanh(D2: Array, W2: Array, Z1: Array) -> Array:
    r"""Reference: :math:`\Delta^{(1)} = (\Delta^{(2)} W^{(2)})\odot(1 - \tanh^2 Z^{(1)})`."""
    return (D2 @ W2) * tanh_grad(Z1)


def check_hidden_delta_tanh(fn: Callable[[Array, Array, Array], Array]) -> Feedback:
    r"""Check ``fn(D2, W2, Z1)`` :math:`= (\Delta_2 W_2)\odot\tanh'(Z_1)`; shapes ``D2``
    (n, k), ``W2`` (k, h), ``Z1`` (n, h)."""
    cases = _cases(5, [((4, 2), (2, 3), (4, 3)), ((3, 3), (3, 3), (3, 3))])
    mistakes: list[Mistake] = [
        (
            "the hidden activation's derivative is missing: multiply elementwise by "
            "tanh'(Z1) = 1 - tanh(Z1)²",
            lambda D, W, Z: D @ W,
        ),
        (
            "tanh' written as tanh: the derivative of tanh(z) is 1 - tanh(z)², not tanh(z)",
            lambda D, W, Z: (D @ W) * np.tanh(Z),
        ),
        (
            "the derivative is taken at the wrong argument: 1 - Z1² is not tanh'(Z1)",
            lambda D, W, Z: (D @ W) * (1 - Z * Z),
        ),
        (
            "the sigmoid's derivative is used, but this hidden layer is tanh",
            lambda D, W, Z: (D @ W) * sigmoid_grad(Z),
        ),
        (
            "transposed: with one row per example, Delta2 (n, k) is multiplied by W2 (k, h) "
            "itself, which is the sum over the units k of the layer above",
            lambda D, W, Z: (D @ W.T) * tanh_grad(Z),
        ),
        ("wrong sign: nothing in this step changes the sign", lambda *a: -hidden_delta_tanh(*a)),
    ]
    return _check("ex-bp-hidden-delta", fn, hidden_delta_tanh, cases, mistakes, "your hidden delta")


# ---------------------------------------------------------------- ex-bp-layer-grads
def check_layer_gradients(fn: Callable[[Array, Array], tuple[Array, Array]]) -> Feedback:
    r"""Check ``fn(D, A_prev) -> (dW, db)``, ``D`` (n, k), ``A_prev`` (n, h):
    :math:`dW_{jk} = \sum_i \Delta_{ij} A_{ik}`, i.e. ``D.T @ A_prev`` (k, h), and
    :math:`db_j = \sum_i \Delta_{ij}` (k,)."""
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
                    f"dW is transposed: dW[j, k] = Σ_i Delta[i, j] A_prev[i, k], which is "
                    f"Delta.T @ A_prev of shape {ref_dW.shape}, the shape of W (n_out, n_in). "
                    f"When W is square the other order runs too, and is wrong {shown}",
                )
            if _close(dW, ref_dW / n):
                return failed(
                    exercise,
                    f"dW is off by a constant factor of 1/n: the deltas already carry the 1/N "
                    f"of the mean loss; W is used by every example, so the chain rule sums "
                    f"over them, it does not average {shown}",
                )
            return failed(exercise, compare_arrays(exercise, dW, ref_dW, "dW").message + shown)
        if not _close(db, ref_db):
            if db.shape == D.shape:
                return failed(
                    exercise,
                    f"db has shape {db.shape}, one row per example: the bias is used by every "
                    f"example, so sum Delta over the examples (axis 0) to get shape "
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
                    f"db is off by a constant factor of 1/n: you averaged; the deltas already "
                    f"carry the 1/N of the mean loss, so sum {shown}",
                )
            return failed(exercise, compare_arrays(exercise, db, ref_db, "db").message + shown)
    return passed(exercise)


# ---------------------------------------------------------------- ex-bp-full-backward
def _tanh_linear_backward(
    params: Mapping[str, Array],
    X: Array,
    Y: Array,
    hidden_grad: Callable[[Array], Array] = tanh_grad,
    output_grad: Callable[[Array], Array] | None = None,
    N: int | None = None,
) -> dict[str, Array]:
    """The tanh-hidden, linear-output backward pass; the keyword arguments build the
    typical wrong versions (a derivative where none belongs, the wrong one, 1/n)."""
    Z1 = X @ params["W1"].T + params["b1"]
    A1 = np.tanh(Z1)
    Y_hat = A1 @ params["W2"].T + params["b2"]  # linear output: Y_hat = Z2
    D2 = 2 * (Y_hat - Y) / (Y.size if N is None else N)
    if output_grad is not None:
        D2 = D2 * output_grad(Y_hat)
    D1 = (D2 @ params["W2"]) * hidden_grad(Z1)
    return {"W1": D1.T @ X, "b1": D1.sum(axis=0), "W2": D2.T @ A1, "b2": D2.sum(axis=0)}


def check_backward_tanh_linear(
    fn: Callable[[Mapping[str, Array], Array, Array], Mapping[str, Array]],
) -> Feedback:
    r"""Check ``fn(params, X, Y)``: the backward pass of a network with a **tanh** hidden
    layer and a **linear** output (:math:`\hat Y = Z^{(2)}`), two outputs, and the book's
    loss, gradient-checked parameter by parameter against central differences of
    :func:`bpcourse.bugs.loss` (``hidden="tanh"``, ``output="identity"``).

    ``params`` holds ``W1`` (3, 2), ``b1`` (3,), ``W2`` (2, 3), ``b2`` (2,).
    """
    exercise = "ex-bp-full-backward"
    rng = np.random.default_rng(11)
    X = rng.standard_normal((4, 2))
    Y = rng.standard_normal((4, 2))
    params = bugs.init_params(2, 3, 2, rng=rng)
    params["b1"] += np.array([0.3, -0.2, 0.1])
    params["b2"] += np.array([0.1, -0.3])
    copies = {k: v.copy() for k, v in params.items()}
    try:
        with np.errstate(all="ignore"):
            ok, got = call_answer(fn, copies, X.copy(), Y.copy())
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
    right = _tanh_linear_backward(params, X, Y)
    hints = {
        "the output is linear, Ŷ = Z2, so its derivative is 1: Delta2 = 2(Ŷ - Y)/N with no "
        "tanh' or σ' factor": _tanh_linear_backward(params, X, Y, output_grad=tanh_grad),
        "the hidden layer is tanh: its derivative is tanh'(Z1) = 1 - tanh(Z1)², not the "
        "sigmoid's": _tanh_linear_backward(params, X, Y, hidden_grad=sigmoid_grad),
        "tanh' written as tanh in the hidden layer: the derivative of tanh(z) is "
        "1 - tanh(z)²": _tanh_linear_backward(params, X, Y, hidden_grad=np.tanh),
        "divided by the number of rows n instead of the number of entries N = n·n_out": (
            _tanh_linear_backward(params, X, Y, N=X.shape[0])
        ),
    }
    problems = []
    for name in bugs.PARAM_SHAPES:
        numeric = numerical_gradient(
            lambda _: bugs.loss(params, X, Y, "tanh", "identity"), params[name]
        )
        c = check_parameter(name, np.asarray(got[name], dtype=np.float64), numeric)
        if not c.passed:
            problems.append(f"{name}: {c.problem}")
    if problems:
        wrong = ", ".join(p.split(":")[0] for p in problems)
        for hint, grads in hints.items():
            if all(
                _close(np.asarray(got[k], dtype=np.float64), grads[k])
                for k in bugs.PARAM_SHAPES
                if not _close(grads[k], right[k])
            ):
                return failed(exercise, f"wrong gradients for {wrong}: {hint}")
        return failed(exercise, f"wrong gradients for {wrong}. " + "; ".join(problems))
    return passed(exercise, "every gradient agrees with central differences.")


# ---------------------------------------------------------------- ex-bp-cost
def macs(sizes: Sequence[int], n: int) -> dict[str, int]:
    r"""Multiply-adds of one gradient of a dense network with layer sizes ``sizes`` on a
    batch of ``n``, by the chapter's counting rules (bias additions and elementwise
    activations are not counted: they are a lower order).

    * ``"forward"``: :math:`n \sum_l n_\text{in} n_\text{out}` (the products
      :math:`A W^\top`);
    * ``"reverse"``: one forward pass, then per layer :math:`\Delta^\top A` (always) and
      :math:`\Delta W` (not for the first layer: nobody needs :math:`\partial L/\partial X`);
    * ``"central differences"``: two forward passes per parameter, :math:`2P` in all.
    """
    pairs = list(itertools.pairwise(sizes))
    forward = n * sum(a * b for a, b in pairs)
    backward = n * sum(a * b for a, b in pairs) + n * sum(a * b for a, b in pairs[1:])
    P = sum(a * b + b for a, b in pairs)
    return {
        "forward": forward,
        "reverse": forward + backward,
        "central differences": 2 * P * forward,
    }


def check_macs(fn: Callable[[Sequence[int], int], Mapping[str, int]]) -> Feedback:
    """Check ``fn(sizes, n)`` against :func:`macs` on a few networks."""
    exercise = "ex-bp-cost"
    for sizes, n in (([3, 2, 1], 1), ([8, 16, 16, 1], 16), ([784, 128, 10], 32)):
        try:
            ok, got = call_answer(fn, list(sizes), n)
        except Exception as exc:
            return failed(exercise, f"your function raised {type(exc).__name__}: {exc}")
        if not ok:
            return not_attempted(exercise)
        right = macs(sizes, n)
        if not isinstance(got, Mapping) or set(right) - set(got):
            return failed(exercise, f"return a dict with the keys {list(right)}")
        shown = f"(for sizes {sizes} and a batch of {n})"
        pairs = list(itertools.pairwise(sizes))
        P = sum(a * b + b for a, b in pairs)
        F = right["forward"]
        for key, value in right.items():
            g = got[key]
            if g == value:
                continue
            if key == "forward" and g * n == value:
                why = "the batch: every one of the n examples goes through every product"
            elif key == "reverse" and g == F + n * sum(a * b for a, b in pairs) * 2:
                why = (
                    "the first layer's ΔW: it gives ∂L/∂X, which no parameter needs, so "
                    "backprop skips it"
                )
            elif key == "reverse" and g == value - F:
                why = "the forward pass: backprop needs the forward values first"
            elif key == "central differences" and g == P * F:
                why = "a central difference takes two forward passes per parameter, 2P in all"
            elif key == "central differences" and g == 2 * P:
                why = "each of the 2P passes is a whole forward pass of F multiply-adds"
            else:
                why = None
            message = f"{key} should be {value:,}, got {g:,}"
            return failed(
                exercise, f"{message}: remember {why} {shown}" if why else f"{message} {shown}"
            )
    return passed(exercise, "these are the chapter's counts.")
