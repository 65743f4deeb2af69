r"""Checkers for the exercises of the chapter "Forward and backward propagation".

Conventions (as in the chapter): rows are examples, ``W`` has shape ``(n_out, n_in)``,
``Y`` is the target and ``Y_hat`` the prediction, and the loss is bpkit's ``mse``, the mean
over all :math:`N = n \cdot n_\text{out}` entries, :math:`L = \frac1N\sum (\hat Y - Y)^2`,
so :math:`\partial L/\partial \hat Y = \frac2N(\hat Y - Y)`. Each exercise is a
:class:`~bpcourse.exercises.feedback.Check` (``BY_HAND``, ``SHAPES``, ``OUTPUT_DELTA``,
``HIDDEN_DELTA``, ``LAYER_GRADS``, ``BACKWARD``, ``MACS``). The named mistakes: a missing
factor of the chain, tanh' written as tanh, taken at the pre-activation's ``1 - Z²`` or as
``tanh_grad`` of the activation, the sigmoid's derivative for tanh's, the number of rows
``n`` for the number of entries ``N``, a dropped 2, an extra ``1/n``, a missing or extra
transpose, a bias gradient that is not summed, and the counting rules of the cost
exercise. The whole backward pass is gradient-checked against central differences, and
its diagnosis is given once for all the parameters it fits.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bpcourse import bugs
from bpcourse.exercises.feedback import GRADIENT_HINTS, Check, Feedback, Mistake, WrongForm
from bpkit.activations import sigmoid_grad, tanh, tanh_grad
from bpkit.gradcheck import numerical_gradient

Array = NDArray[np.float64]

__all__ = [
    "check_backward_tanh_linear",
    "check_by_hand",
    "check_hidden_delta_tanh",
    "check_layer_gradients",
    "check_macs",
    "check_output_delta_tanh",
    "check_shapes",
]

_SHAPE_HINT = (
    "With rows as examples: Delta2 is (n, n_out), W2 is (n_out, n_hid), so Delta2 @ W2 is "
    "(n, n_hid), the shape of Z1; no transpose is needed there."
)


def _cases(seed: int, shapes: Sequence[Sequence[tuple[int, ...]]]) -> list[tuple[Array, ...]]:
    rng = np.random.default_rng(seed)  # fixed inputs, the same on every run
    return [tuple(rng.standard_normal(s) for s in case) for case in shapes]


def _show_shapes(*args: Array) -> str:
    return "inputs of shapes " + ", ".join(str(np.shape(a)) for a in args)


# ---------------------------------------------------------------- ex-bp-by-hand
def by_hand_grad(y_hat: float, y: float, a1: float, w: float, x2: float) -> float:
    r"""Reference: :math:`\partial L/\partial W^{(1)}_{12}` of the 3-2-1 network,
    :math:`2(\hat y - y)\,\hat y(1 - \hat y)\,W^{(2)}_{01}\,a^{(1)}_1(1 - a^{(1)}_1)\,x_2`
    (``w`` is :math:`W^{(2)}_{01}`)."""
    return 2 * (y_hat - y) * y_hat * (1 - y_hat) * w * a1 * (1 - a1) * x2


BY_HAND = Check(
    "ex-bp-by-hand",
    by_hand_grad,
    # ŷ(1 - ŷ) and a₁(1 - a₁) differ in every case, so the two sigmoid factors cannot
    # stand in for each other unnoticed
    ((0.474, 1.0, 0.8, -0.2, 1.0), (0.81, 0.0, 0.3, 0.7, -1.5), (0.2, 1.0, 0.9, 1.3, 2.0)),
    (
        Mistake(
            "the 2 from differentiating the square is missing: L = (ŷ - y)² gives ∂L/∂ŷ = 2(ŷ - y)",
            lambda yh, y, a, w, x: by_hand_grad(yh, y, a, w, x) / 2,
            "dropped-2",
        ),
        Mistake(
            "the output sigmoid's derivative ŷ(1 - ŷ) is missing",
            lambda yh, y, a, w, x: by_hand_grad(yh, y, a, w, x) / (yh * (1 - yh)),
            "missing-output-derivative",
        ),
        Mistake(
            "the hidden sigmoid's derivative a₁(1 - a₁) is missing",
            lambda yh, y, a, w, x: by_hand_grad(yh, y, a, w, x) / (a * (1 - a)),
            "missing-hidden-derivative",
        ),
        Mistake(
            "σ' written as σ: the hidden factor should be a₁(1 - a₁), not a₁",
            lambda yh, y, a, w, x: by_hand_grad(yh, y, a, w, x) / (1 - a),
            "sigmoid-for-its-derivative",
        ),
        Mistake(
            "the hidden factor is computed from ŷ: the hidden sigmoid's derivative is "
            "a₁(1 - a₁), from the hidden unit's own activation, not ŷ(1 - ŷ)",
            lambda yh, y, a, w, x: by_hand_grad(yh, y, a, w, x) / (a * (1 - a)) * yh * (1 - yh),
            "hidden-derivative-from-output",
        ),
        Mistake(
            "σ' written as σ at the output: the output factor should be ŷ(1 - ŷ), not ŷ",
            lambda yh, y, a, w, x: by_hand_grad(yh, y, a, w, x) / (1 - yh),
            "output-sigmoid-for-its-derivative",
        ),
        Mistake(
            "the weight W2[0,1] that carries the gradient back to a₁ is missing",
            lambda yh, y, a, w, x: by_hand_grad(yh, y, a, w, x) / w,
            "missing-weight",
        ),
        Mistake(
            "the input x₂ that the weight multiplies is missing (the last factor)",
            lambda yh, y, a, w, x: by_hand_grad(yh, y, a, w, x) / x,
            "missing-input",
        ),
        Mistake(
            "the sign is flipped: ∂L/∂ŷ is 2(ŷ - y), not 2(y - ŷ)",
            lambda *args: -by_hand_grad(*args),
            "wrong-sign",
        ),
    ),
    "your gradient",
)


def check_by_hand(fn: Callable[[float, float, float, float, float], float]) -> Feedback:
    r"""Check ``fn(y_hat, y, a1, w, x2)`` :math:`= \partial L/\partial W^{(1)}_{12}` for the
    3-2-1 sigmoid network with :math:`L = (\hat y - y)^2` (one example, one output)."""
    return BY_HAND.run(fn)


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


def shapes_4_5_3() -> dict[str, Array]:
    """Reference: the shapes of the 4-5-3 network on a batch of 8, each as an array."""
    return {name: np.array(shape, dtype=np.float64) for name, shape in SHAPES_4_5_3.items()}


def _run_shapes(fn: Callable[[], Mapping[str, Any]]) -> dict[str, Array] | None:
    """Call ``fn()`` and read each entry as a shape (a tuple of ints)."""
    got = fn()
    if got is None:
        return None
    if not isinstance(got, Mapping):
        raise WrongForm(
            f"return a dict with the keys {list(SHAPES_4_5_3)}; got {type(got).__name__}"
        )
    shapes = {}
    for name, shape in got.items():
        try:
            if isinstance(shape, str | bytes):
                raise TypeError
            shapes[name] = np.array([int(s) for s in shape], dtype=np.float64)
        except (TypeError, ValueError):
            raise WrongForm(
                f"{name}: give a shape as a tuple of ints, e.g. (2, 7), or (7,) for a vector"
            ) from None
    return shapes


def _shape_reason(name: str, got: Array, want: Array) -> str:
    """Why the shape ``got`` of ``name`` is wrong, in the chapter's words, without giving
    the right shape away."""
    right, shape = tuple(int(v) for v in want), tuple(int(v) for v in got)
    if len(right) == 2 and shape == right[::-1]:
        if name.startswith("d"):
            return f"{shape} is transposed: a gradient has the shape of its parameter"
        if name.startswith("W"):
            return f"{shape} is transposed: W has one row per unit, (n_out, n_in)"
        return f"{shape} is transposed: one row per example"
    if name.startswith(("b", "db")):
        return f"not {shape}: a bias and its gradient have one entry per unit, (n_units,)"
    if name.startswith(("W", "dW")):
        return f"not {shape}: W has one row per unit of its layer and one column per input"
    return f"not {shape}: one row per example, one column per unit of its layer"


SHAPES = Check(
    "ex-bp-shapes",
    shapes_4_5_3,
    ((),),
    (),
    "your shapes",
    noun="shapes",
    call=_run_shapes,
    show=lambda: "the 4-5-3 network on a batch of 8 examples",
    describe_part=_shape_reason,
    passed_message="every shape is right.",
)


def check_shapes(fn: Callable[[], Mapping[str, Any]]) -> Feedback:
    """Check ``fn()``: a dict of shapes for the 4-5-3 network with a batch of 8 examples."""
    return SHAPES.run(fn)


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


def _dL_dY_hat(Y_hat: Array, Y: Array) -> Array:
    return 2 * (Y_hat - Y) / Y_hat.size


OUTPUT_DELTA = Check(
    "ex-bp-output-delta",
    output_delta_tanh,
    _tanh_output_cases,
    (
        Mistake(
            "the output activation's derivative is missing: the loss reaches Z2 through "
            "tanh, so multiply by tanh'(Z2) = 1 - Ŷ²",
            lambda Yh, Y, Z: _dL_dY_hat(Yh, Y),
            "missing-output-derivative",
        ),
        Mistake(
            "tanh' written as tanh: the derivative of tanh(z) is 1 - tanh(z)², not tanh(z)",
            lambda Yh, Y, Z: _dL_dY_hat(Yh, Y) * Yh,
            "tanh-for-its-derivative",
        ),
        Mistake(
            "the derivative is taken at the wrong argument: 1 - Z2² is not tanh'(Z2); use "
            "1 - tanh(Z2)² = 1 - Ŷ²",
            lambda Yh, Y, Z: _dL_dY_hat(Yh, Y) * (1 - Z * Z),
            "tanh-derivative-of-preactivation",
        ),
        Mistake(
            "tanh_grad(Y_hat) takes the derivative at the activation: tanh_grad expects the "
            "pre-activation z (it computes 1 - tanh(z)²); pass Z2, or write 1 - Y_hat**2",
            lambda Yh, Y, Z: _dL_dY_hat(Yh, Y) * tanh_grad(Yh),
            "tanh-grad-of-activation",
        ),
        Mistake(
            "the square is missing: tanh'(Z2) = 1 - Ŷ², not 1 - Ŷ",
            lambda Yh, Y, Z: _dL_dY_hat(Yh, Y) * (1 - Yh),
            "tanh-derivative-unsquared",
        ),
        Mistake(
            "the sigmoid's derivative Ŷ(1 - Ŷ) belongs to a sigmoid output; this one is tanh",
            lambda Yh, Y, Z: _dL_dY_hat(Yh, Y) * Yh * (1 - Yh),
            "sigmoid-derivative-for-tanh",
        ),
        Mistake(
            "divided by the number of rows n instead of the number of entries N = n·n_out: "
            "bpkit's mse averages over every entry",
            lambda Yh, Y, Z: 2 * (Yh - Y) / len(Yh) * tanh_grad(Z),
            "rows-not-entries",
        ),
        Mistake(
            "the 2 from differentiating the square is missing (the book's loss has no ½)",
            lambda Yh, Y, Z: (Yh - Y) / Yh.size * tanh_grad(Z),
            "dropped-2",
        ),
        Mistake(
            "the 1/N of the mean is missing: this is the gradient of the sum",
            lambda Yh, Y, Z: 2 * (Yh - Y) * tanh_grad(Z),
            "sum-not-mean",
        ),
        Mistake(
            "wrong sign: ∂L/∂Ŷ is +2(Ŷ - Y)/N",
            lambda *args: -output_delta_tanh(*args),
            "wrong-sign",
        ),
    ),
    "your output delta",
    show=_show_shapes,
)


def check_output_delta_tanh(fn: Callable[[Array, Array, Array], Array]) -> Feedback:
    r"""Check ``fn(Y_hat, Y, Z2)`` :math:`= \frac2N(\hat Y - Y)\odot\tanh'(Z_2)`."""
    return OUTPUT_DELTA.run(fn)


# ---------------------------------------------------------------- ex-bp-hidden-delta (tanh)
def hidden_delta_tanh(delta2: Array, W2: Array, Z1: Array) -> Array:
    r"""Reference: :math:`\Delta^{(1)} = (\Delta^{(2)} W^{(2)})\odot(1 - \tanh^2 Z^{(1)})`."""
    return (delta2 @ W2) * tanh_grad(Z1)


HIDDEN_DELTA = Check(
    "ex-bp-hidden-delta",
    hidden_delta_tanh,
    # n_out != n_hid in the first case and a square W2 in the second, so that a transpose
    # mistake shows up either as a shape error or as wrong numbers
    _cases(5, [((4, 2), (2, 3), (4, 3)), ((3, 3), (3, 3), (3, 3))]),
    (
        Mistake(
            "the hidden activation's derivative is missing: multiply elementwise by "
            "tanh'(Z1) = 1 - tanh(Z1)²",
            lambda D, W, Z: D @ W,
            "missing-hidden-derivative",
        ),
        Mistake(
            "tanh' written as tanh: the derivative of tanh(z) is 1 - tanh(z)², not tanh(z)",
            lambda D, W, Z: (D @ W) * np.tanh(Z),
            "tanh-for-its-derivative",
        ),
        Mistake(
            "the derivative is taken at the wrong argument: 1 - Z1² is not tanh'(Z1)",
            lambda D, W, Z: (D @ W) * (1 - Z * Z),
            "tanh-derivative-of-preactivation",
        ),
        Mistake(
            "tanh_grad(tanh(Z1)) takes the derivative at the activation: tanh_grad expects "
            "Z1 itself",
            lambda D, W, Z: (D @ W) * tanh_grad(np.tanh(Z)),
            "tanh-grad-of-activation",
        ),
        Mistake(
            "the square is missing: tanh'(Z1) = 1 - tanh(Z1)², not 1 - tanh(Z1)",
            lambda D, W, Z: (D @ W) * (1 - np.tanh(Z)),
            "tanh-derivative-unsquared",
        ),
        Mistake(
            "A1(1 - A1) is the sigmoid's pattern; this hidden layer is tanh, whose derivative "
            "is 1 - A1² with A1 = tanh(Z1)",
            lambda D, W, Z: (D @ W) * np.tanh(Z) * (1 - np.tanh(Z)),
            "sigmoid-pattern-for-tanh",
        ),
        Mistake(
            "the sigmoid's derivative is used, but this hidden layer is tanh",
            lambda D, W, Z: (D @ W) * sigmoid_grad(Z),
            "sigmoid-derivative-for-tanh",
        ),
        Mistake(
            "transposed: you multiplied by W2.T; Delta2 @ W2 itself, (n, n_out) @ (n_out, n_hid) "
            "-> (n, n_hid), is the sum over the units of the layer above, and no transpose is "
            "needed there",
            lambda D, W, Z: (D @ W.T) * tanh_grad(Z),
            "extra-transpose",
        ),
        Mistake(
            "an extra 1/n: Delta2 already carries the 1/N of the mean loss, and the chain "
            "rule passes it on; do not divide again",
            lambda D, W, Z: hidden_delta_tanh(D, W, Z) / D.shape[0],
            "extra-1-over-n",
        ),
        Mistake(
            "wrong sign: nothing in this step changes the sign",
            lambda *args: -hidden_delta_tanh(*args),
            "wrong-sign",
        ),
    ),
    "your hidden delta",
    show=_show_shapes,
    on_error={ValueError: _SHAPE_HINT},
)


def check_hidden_delta_tanh(fn: Callable[[Array, Array, Array], Array]) -> Feedback:
    r"""Check ``fn(delta2, W2, Z1)`` :math:`= (\Delta_2 W_2)\odot\tanh'(Z_1)`; shapes
    ``delta2`` (n, n_out), ``W2`` (n_out, n_hid), ``Z1`` (n, n_hid)."""
    return HIDDEN_DELTA.run(fn)


# ---------------------------------------------------------------- ex-bp-layer-grads
def layer_grads(delta: Array, A_prev: Array) -> tuple[Array, Array]:
    r"""Reference: :math:`dW = \Delta^\top A_{prev}` (n_out, n_in) and
    :math:`db = \sum_i \Delta_i` (n_out,)."""
    return delta.T @ A_prev, delta.sum(axis=0)


LAYER_GRADS = Check(
    "ex-bp-layer-grads",
    layer_grads,
    # a rectangular and a square dW: the other order of the product is a shape error in
    # the first case and runs, wrongly, in the second
    _cases(3, [((5, 2), (5, 3)), ((4, 3), (4, 3))]),
    (
        Mistake(
            "dW is transposed: dW[j, m] = Σ_i Delta[i, j] A_prev[i, m], which is "
            "Delta.T @ A_prev, of shape (n_out, n_in), the shape of W. When W is square the "
            "other order runs too, and is wrong",
            lambda D, A: (A.T @ D, D.sum(axis=0)),
            "dW-transposed",
        ),
        Mistake(
            "dW is off by a constant factor of 1/n: the deltas already carry the 1/N of the "
            "mean loss; W is used by every example, so the chain rule sums over them, it "
            "does not average",
            lambda D, A: (D.T @ A / len(D), D.sum(axis=0)),
            "dW-averaged",
        ),
        Mistake(
            "db has one row per example: the bias is used by every example, so sum Delta "
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
            "db is off by a constant factor of 1/n: you averaged; the deltas already carry "
            "the 1/N of the mean loss, so sum",
            lambda D, A: (D.T @ A, D.mean(axis=0)),
            "db-averaged",
        ),
        Mistake(
            "dW and db are both off by 1/n: the deltas already carry the 1/N of the mean "
            "loss, so sum over the examples; do not average again",
            lambda D, A: (D.T @ A / len(D), D.mean(axis=0)),
            "both-averaged",
        ),
    ),
    "your function",
    parts=("dW", "db"),
    noun="gradients",
    show=lambda D, A: f"delta of shape {D.shape} and A_prev of shape {A.shape}",
)


def check_layer_gradients(fn: Callable[[Array, Array], tuple[Array, Array]]) -> Feedback:
    r"""Check ``fn(delta, A_prev) -> (dW, db)``, ``delta`` (n, n_out), ``A_prev``
    (n, n_in): :math:`dW_{jm} = \sum_i \Delta_{ij} A_{im}`, i.e. ``delta.T @ A_prev``
    (n_out, n_in), and :math:`db_j = \sum_i \Delta_{ij}` (n_out,)."""
    return LAYER_GRADS.run(fn)


# ---------------------------------------------------------------- ex-bp-full-backward
def _tanh_linear_backward(
    params: Mapping[str, Array],
    X: Array,
    Y: Array,
    hidden_grad: Callable[[Array], Array] = tanh_grad,
    output_grad: Callable[[Array], Array] | None = None,
    N: int | None = None,
    hidden_input: str = "Z1",
    w2_input: str = "A1",
) -> dict[str, Array]:
    """The tanh-hidden, linear-output backward pass; the keyword arguments build the
    typical wrong versions (a derivative where none belongs, the wrong one, 1/n)."""
    Z1 = X @ params["W1"].T + params["b1"]
    A1 = np.tanh(Z1)
    Y_hat = A1 @ params["W2"].T + params["b2"]  # linear output: Y_hat = Z2
    D2 = 2 * (Y_hat - Y) / (Y.size if N is None else N)  # dL/dZ2 = dL/dY_hat
    if output_grad is not None:
        D2 = D2 * output_grad(Y_hat)
    at = {"Z1": Z1, "A1": A1}
    D1 = (D2 @ params["W2"]) * hidden_grad(at[hidden_input])  # dL/dZ1 = (Delta2 W2) * f'(Z1)
    return {
        "W1": D1.T @ X,
        "b1": D1.sum(axis=0),
        "W2": D2.T @ at[w2_input],
        "b2": D2.sum(axis=0),
    }


def tanh_linear_gradients(params: Mapping[str, Array], X: Array, Y: Array) -> dict[str, Array]:
    """Reference: central differences of :func:`bpcourse.bugs.loss` (``hidden="tanh"``,
    ``output="identity"``) for every parameter."""
    params = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    return {
        name: numerical_gradient(
            lambda _: bugs.loss(params, X, Y, "tanh", "identity"), params[name]
        )
        for name in bugs.PARAM_SHAPES
    }


def _tanh_linear_case() -> tuple[dict[str, Array], Array, Array]:
    rng = np.random.default_rng(11)
    X = rng.standard_normal((4, 2))
    Y = rng.standard_normal((4, 2))
    params = bugs.init_params(2, 3, 2, rng=rng)
    params["b1"] += np.array([0.3, -0.2, 0.1])
    params["b2"] += np.array([0.1, -0.3])
    return params, X, Y


def _wrong_backward(**wrong: Any) -> Callable[..., dict[str, Array]]:
    return lambda params, X, Y: _tanh_linear_backward(params, X, Y, **wrong)


BACKWARD = Check(
    "ex-bp-full-backward",
    tanh_linear_gradients,
    lambda: [_tanh_linear_case()],
    (
        Mistake(
            "the output is linear, Ŷ = Z2, so its derivative is 1: Delta2 = 2(Ŷ - Y)/N with "
            "no tanh' factor",
            _wrong_backward(output_grad=tanh_grad),
            "output-derivative-on-linear-output",
        ),
        Mistake(
            "the output is linear, Ŷ = Z2, so its derivative is 1: Delta2 = 2(Ŷ - Y)/N with "
            "no 1 - Ŷ² factor (that is tanh's derivative)",
            _wrong_backward(output_grad=lambda Yh: 1 - Yh**2),
            "tanh-derivative-on-linear-output",
        ),
        Mistake(
            "the output is linear, Ŷ = Z2, so its derivative is 1: Delta2 = 2(Ŷ - Y)/N with "
            "no Ŷ(1 - Ŷ) factor (that is the sigmoid's derivative)",
            _wrong_backward(output_grad=lambda Yh: Yh * (1 - Yh)),
            "sigmoid-derivative-on-linear-output",
        ),
        Mistake(
            "the hidden activation's derivative is missing: Delta1 = (Delta2 @ W2) ⊙ tanh'(Z1), "
            "with tanh'(Z1) = 1 - A1²",
            _wrong_backward(hidden_grad=np.ones_like),
            "missing-hidden-derivative",
        ),
        Mistake(
            "tanh' is taken at the wrong argument: 1 - Z1² is not tanh'(Z1); it is "
            "1 - tanh(Z1)² = 1 - A1²",
            _wrong_backward(hidden_grad=lambda Z: 1 - Z**2),
            "tanh-derivative-of-preactivation",
        ),
        Mistake(
            "tanh_grad(A1) takes the derivative at the activation: tanh_grad expects the "
            "pre-activation Z1 (it computes 1 - tanh(Z1)²); pass Z1, or write 1 - A1**2",
            _wrong_backward(hidden_grad=tanh_grad, hidden_input="A1"),
            "tanh-grad-of-activation",
        ),
        Mistake(
            "dW2 uses Z1: the weight W2 multiplies the hidden activations A1 = tanh(Z1), so "
            "dW2 = Delta2.T @ A1",
            _wrong_backward(w2_input="Z1"),
            "dW2-from-preactivation",
        ),
        Mistake(
            "the hidden layer is tanh: its derivative is tanh'(Z1) = 1 - tanh(Z1)², not the "
            "sigmoid's",
            _wrong_backward(hidden_grad=sigmoid_grad),
            "sigmoid-derivative-for-tanh",
        ),
        Mistake(
            "tanh' written as tanh in the hidden layer: the derivative of tanh(z) is 1 - tanh(z)²",
            _wrong_backward(hidden_grad=np.tanh),
            "tanh-for-its-derivative",
        ),
        Mistake(
            "divided by the number of rows n instead of the number of entries N = n·n_out",
            lambda params, X, Y: _tanh_linear_backward(params, X, Y, N=len(X)),
            "rows-not-entries",
        ),
        Mistake(
            "the 1/N of the mean is missing: 2(Ŷ - Y) is the gradient of the sum; the book's "
            "loss is the mean over the N = n·n_out entries",
            lambda params, X, Y: _tanh_linear_backward(params, X, Y, N=1),
            "sum-not-mean",
        ),
    ),
    "your backward",
    noun="gradients",
    show=lambda params, X, Y: f"the chapter's 2-3-2 tanh-linear network on n = {len(X)} examples",
    hints=GRADIENT_HINTS,
    on_error={ValueError: _SHAPE_HINT},
    passed_message="every gradient agrees with central differences.",
)


def check_backward_tanh_linear(
    fn: Callable[[Mapping[str, Array], Array, Array], Mapping[str, Array]],
) -> Feedback:
    r"""Check ``fn(params, X, Y)``: the backward pass of a network with a **tanh** hidden
    layer and a **linear** output (:math:`\hat Y = Z^{(2)}`), two outputs, and the book's
    loss, gradient-checked parameter by parameter against central differences of
    :func:`bpcourse.bugs.loss` (``hidden="tanh"``, ``output="identity"``).

    ``params`` holds ``W1`` (3, 2), ``b1`` (3,), ``W2`` (2, 3), ``b2`` (2,); the result
    must be a dict with the same keys and shapes.
    """
    return BACKWARD.run(fn)


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


def _macs_with(**change: Callable[[dict[str, int], Sequence[int], int], int]) -> Callable:
    """:func:`macs` with some counts replaced: ``change[key](right, sizes, n)``."""

    def counts(sizes: Sequence[int], n: int) -> dict[str, int]:
        right = macs(sizes, n)
        return {k: change[k](right, sizes, n) if k in change else v for k, v in right.items()}

    return counts


def _parameters(sizes: Sequence[int]) -> int:
    return sum(a * b + b for a, b in itertools.pairwise(sizes))


MACS = Check(
    "ex-bp-cost",
    macs,
    (([3, 2, 1], 1), ([8, 16, 16, 1], 16), ([784, 128, 10], 32)),
    (
        Mistake(
            "the forward count leaves out the batch: every one of the n examples goes "
            "through every product, so multiply by n",
            _macs_with(forward=lambda r, s, n: r["forward"] // n),
            "forward-without-batch",
        ),
        Mistake(
            "the reverse count includes the first layer's ΔW: it gives ∂L/∂X, which no "
            "parameter needs, so backprop skips it",
            _macs_with(reverse=lambda r, s, n: 3 * r["forward"]),
            "first-layer-dx",
        ),
        Mistake(
            "the reverse count leaves out the forward pass: backprop needs the forward "
            "values first, so it costs a forward pass plus the backward products",
            _macs_with(reverse=lambda r, s, n: r["reverse"] - r["forward"]),
            "reverse-without-forward",
        ),
        Mistake(
            "P counts every parameter, the biases too: P = Σ (n_in·n_out + n_out); a bias "
            "is nudged like a weight",
            _macs_with(
                **{
                    "central differences": lambda r, s, n: (
                        2 * sum(a * b for a, b in itertools.pairwise(s)) * r["forward"]
                    )
                }
            ),
            "P-without-biases",
        ),
        Mistake(
            "a central difference takes two forward passes per parameter, 2P in all, not P",
            _macs_with(**{"central differences": lambda r, s, n: _parameters(s) * r["forward"]}),
            "one-pass-per-parameter",
        ),
        Mistake(
            "the central-difference count is the number of passes, 2P; each of them is a "
            "whole forward pass of F multiply-adds, so it is 2P·F",
            _macs_with(**{"central differences": lambda r, s, n: 2 * _parameters(s)}),
            "passes-not-multiply-adds",
        ),
    ),
    "your counts",
    noun="counts",
    show=lambda sizes, n: f"sizes {sizes} and a batch of {n}",
    rtol=0.0,  # counts are whole numbers: exact
    atol=0.0,
    hints={
        "close": "The chapter counts only the matrix products: bias additions and "
        "elementwise activations are a lower order and left out."
    },
    passed_message="these are the chapter's counts.",
)


def check_macs(fn: Callable[[Sequence[int], int], Mapping[str, int]]) -> Feedback:
    """Check ``fn(sizes, n)`` against :func:`macs` on a few networks."""
    return MACS.run(fn)
