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

import numpy as np
from numpy.typing import NDArray

from bpcourse import bugs
from bpcourse.exercises.feedback import GRADIENT_HINTS, Check, Feedback, Mistake
from bpkit.activations import sigmoid, sigmoid_grad
from bpkit.gradcheck import numerical_gradient

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
