r"""Checkers for the exercises of the appendix "Common mistakes in backprop tutorials".

The network is the appendix's 3-2-1 sigmoid network with rows as examples, ``W`` of shape
``(n_out, n_in)`` and the book's loss, bpkit's ``mse``,
:math:`L = \frac1N\sum(\hat Y - Y)^2` over all ``N`` entries. ``HAND`` checks the
learner's backward pass against the right gradients; its named mistakes are the slips of
:data:`SLIPS` (hand-derivation slips a gradient check should name), so a message can say
which slip it is.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

import numpy as np
from numpy.typing import NDArray

from bpcourse.exercises.feedback import GRADIENT_HINTS, Check, Feedback, Mistake

Array = NDArray[np.floating]


# ---------------------------------------------------------------- slips a gradient check should name
# The 3-2-1 sigmoid network of the appendix with the book's loss, bpkit.mse (the mean over
# all N entries, no 1/2), independent of bpcourse.bugs: Z1 = X W1^T + b1, A1 = sigma(Z1),
# Z2 = A1 W2^T + b2, Y_hat = sigma(Z2), L = mean((Y_hat - Y)^2).
def slip_problem() -> tuple[dict[str, Array], Array, Array]:
    """The parameters and batch the slips are checked on: ``W1`` (2, 3), ``b1`` (2,),
    ``W2`` (1, 2), ``b2`` (1,), ``X`` (5, 3), ``Y`` (5, 1). Biases are non-zero and the
    batch has 5 rows, so that a missing factor ``n`` or a missing ``2`` is unmistakable."""
    rng = np.random.default_rng(21)
    params = {
        "W1": rng.normal(0.0, 1.0, (2, 3)),
        "b1": rng.normal(0.0, 0.5, 2),
        "W2": rng.normal(0.0, 1.0, (1, 2)),
        "b2": rng.normal(0.0, 0.5, 1),
    }
    return params, rng.uniform(-1.0, 1.0, (5, 3)), rng.uniform(0.0, 1.0, (5, 1))


def _forward(params: Mapping[str, Array], X: Array) -> tuple[Array, Array, Array, Array]:
    from bpkit.activations import sigmoid

    Z1 = X @ params["W1"].T + params["b1"]
    A1 = sigmoid(Z1)
    Z2 = A1 @ params["W2"].T + params["b2"]
    return Z1, A1, Z2, sigmoid(Z2)


def _grads(D2: Array, D1: Array, A1: Array, X: Array) -> dict[str, Array]:
    return {"W1": D1.T @ X, "b1": D1.sum(axis=0), "W2": D2.T @ A1, "b2": D2.sum(axis=0)}


def hand_backward(params: Mapping[str, Array], X: Array, Y: Array) -> dict[str, Array]:
    r"""The correct backward pass for :math:`L = \frac1N\sum(\hat Y - Y)^2`:
    :math:`\Delta^{(2)} = \frac2N(\hat Y - Y)\odot\sigma'(Z^{(2)})`,
    :math:`\Delta^{(1)} = (\Delta^{(2)} W^{(2)})\odot\sigma'(Z^{(1)})`, with
    :math:`\sigma'(Z) = A(1 - A)`."""
    _, A1, _, Y_hat = _forward(params, X)
    D2 = 2 * (Y_hat - Y) / Y.size * Y_hat * (1 - Y_hat)  # dL/dZ2
    D1 = (D2 @ params["W2"]) * A1 * (1 - A1)  # dL/dZ1
    return _grads(D2, D1, A1, X)


def _slip_sigma_at_activation(params, X, Y):
    from bpkit.activations import sigmoid_grad

    _, A1, _, Y_hat = _forward(params, X)
    D2 = 2 * (Y_hat - Y) / Y.size * sigmoid_grad(Y_hat)  # sigmoid_grad takes Z, not A
    D1 = (D2 @ params["W2"]) * sigmoid_grad(A1)
    return _grads(D2, D1, A1, X)


def _slip_hidden_delta_summed(params, X, Y):
    _, A1, _, Y_hat = _forward(params, X)
    D2 = 2 * (Y_hat - Y) / Y.size * Y_hat * (1 - Y_hat)
    D1 = np.sum(D2 * params["W2"]) * A1 * (1 - A1)  # one number for every example and unit
    return _grads(D2, D1, A1, X)


def _slip_layer_off_by_one(params, X, Y):
    _, A1, _, Y_hat = _forward(params, X)
    D2 = 2 * (Y_hat - Y) / Y.size * Y_hat * (1 - Y_hat)
    D1 = (D2 @ params["W2"]) * Y_hat * (1 - Y_hat)  # sigma' of layer 2, broadcast to (n, 2)
    return _grads(D2, D1, A1, X)


def _slip_missing_output_derivative(params, X, Y):
    _, A1, _, Y_hat = _forward(params, X)
    D2 = 2 * (Y_hat - Y) / Y.size
    D1 = (D2 @ params["W2"]) * A1 * (1 - A1)
    return _grads(D2, D1, A1, X)


def _slip_pre_activation(params, X, Y):
    Z1, A1, Z2, Y_hat = _forward(params, X)
    D2 = 2 * (Y_hat - Y) / Y.size * Z2 * (1 - Z2)
    D1 = (D2 @ params["W2"]) * Z1 * (1 - Z1)
    return _grads(D2, D1, A1, X)


def _slip_sum_not_mean(params, X, Y):
    return {k: Y.size * v for k, v in hand_backward(params, X, Y).items()}


def _slip_missing_two(params, X, Y):
    return {k: v / 2 for k, v in hand_backward(params, X, Y).items()}


SLIPS: tuple[tuple[str, str, Callable[..., dict[str, Array]]], ...] = (
    (
        "sigma' evaluated at the activation instead of the pre-activation",
        "bpkit.sigmoid_grad(z) takes the pre-activation z; given the activation "
        "a = sigma(z) it computes sigma'(sigma(z)). Pass Z, or write A * (1 - A)",
        _slip_sigma_at_activation,
    ),
    (
        "the hidden delta summed to a single number",
        "D2 @ W2 has one row per example and one column per hidden unit, shape (n, 2); "
        "summing it mixes every example and every unit into one number",
        _slip_hidden_delta_summed,
    ),
    (
        "a layer index off by one: the hidden delta multiplied by sigma' of the output layer",
        "the hidden delta needs sigma'(Z1) of its own layer; sigma'(Z2) of the layer "
        "above has shape (n, 1) and broadcasts silently to (n, 2)",
        _slip_layer_off_by_one,
    ),
    (
        "the output activation's derivative left out",
        "Delta2 = dL/dY_hat * sigma'(Z2): the factor Y_hat * (1 - Y_hat) is missing",
        _slip_missing_output_derivative,
    ),
    (
        "x(1 - x) applied to the pre-activation",
        "sigma'(Z) = A(1 - A) with the activation A; Z(1 - Z) is not a derivative of anything here",
        _slip_pre_activation,
    ),
    (
        "the gradient of the sum, for a loss that is a mean",
        "every gradient is N times too large: divide dL/dY_hat by N = Y.size",
        _slip_sum_not_mean,
    ),
    (
        "the factor 2 of the square is missing",
        "d(r^2)/dr = 2r: without the 2 the gradient is that of half the loss",
        _slip_missing_two,
    ),
)
"""Slips in a hand-written backward pass: ``(name, hint, wrong backward)``."""


def _slip_mistake(name: str, hint: str, wrong: Callable[..., dict[str, Array]]) -> Mistake:
    return Mistake(
        f"this is the slip '{name}': {hint}.",
        wrong,
        wrong.__name__.removeprefix("_slip_").replace("_", "-"),  # e.g. "sum-not-mean"
    )


HAND = Check(
    "ex-mistakes-fix",
    hand_backward,
    lambda: [slip_problem()],
    tuple(_slip_mistake(*slip) for slip in SLIPS),
    "your backward",
    noun="gradients",
    show=lambda params, X, Y: f"the 3-2-1 sigmoid network on n = {len(X)} examples",
    hints=GRADIENT_HINTS,
    passed_message="every gradient is right.",
)


def check_hand_backward(
    fn: Callable[[Mapping[str, Array], Array, Array], Mapping[str, Array]],
    exercise: str = HAND.exercise,
) -> Feedback:
    r"""Check ``fn(params, X, Y)``, a backward pass of the 3-2-1 sigmoid network for the
    book's loss :math:`L = \frac1N\sum(\hat Y - Y)^2`, returning
    ``{"W1", "b1", "W2", "b2"}``. A wrong answer that is one of :data:`SLIPS` is named,
    with a hint; any other is compared with the right gradients parameter by parameter."""
    check = HAND if exercise == HAND.exercise else dataclasses.replace(HAND, exercise=exercise)
    return check.run(fn)
