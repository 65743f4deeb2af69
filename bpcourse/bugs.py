r"""A gallery of classic backpropagation bugs, reproduced on purpose so they can be caught.

**Every function named** ``backward_*`` **except** :func:`backward` **is deliberately wrong.**
Each one reproduces a mistake that is common in tutorials and first implementations; the
chapter "Forward and backward propagation" and the appendix "Common mistakes" run them
through :func:`bpkit.gradcheck.gradcheck`, which names the wrong parameters, and then
show the fix (:func:`backward`, the correct version). Never use a buggy one for training.

The network is the two-layer one of the chapter, in the bpkit convention (rows are
examples, ``W`` has shape ``(n_out, n_in)``)::

    X (n, n_in) -> Z1 = X W1^T + b1 (n, h) -> A1 = f(Z1) -> Z2 = A1 W2^T + b2 (n, k) -> Y_hat = g(Z2)

with the book's loss, :func:`bpkit.mse` with its default reduction: the mean over all
:math:`N = n k` entries, :math:`L = \frac{1}{N}\sum_{i,j} (\hat Y_{ij} - Y_{ij})^2` (for one
example and one output: :math:`(\hat y - y)^2`). ``Y`` is the target, ``Y_hat`` the
prediction. The correct backward pass is

.. math::

    \Delta_2 = \tfrac2N (\hat Y - Y) \odot \varphi'(Z_2),\quad
    dW_2 = \Delta_2^\top A_1,\quad db_2 = \textstyle\sum_i \Delta_{2,i},\\
    \Delta_1 = (\Delta_2 W_2) \odot f'(Z_1),\quad
    dW_1 = \Delta_1^\top X,\quad db_1 = \textstyle\sum_i \Delta_{1,i}.

Public, stable API (the appendix imports it): :func:`init_params`, :func:`forward`,
:func:`loss`, :func:`backward`, the five buggy ``backward_*`` functions, :class:`Bug`,
:data:`BUGS`, :func:`check`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from bpkit.activations import get_activation
from bpkit.gradcheck import GradcheckReport, gradcheck
from bpkit.layers import as_generator
from bpkit.losses import mse

Array = NDArray[np.floating]
Params = dict[str, Array]
"""``{"W1": (h, n_in), "b1": (h,), "W2": (k, h), "b2": (k,)}``, all float64."""

PARAM_SHAPES = {"W1": "(h, n_in)", "b1": "(h,)", "W2": "(k, h)", "b2": "(k,)"}


def init_params(
    n_in: int, n_hidden: int, n_out: int, rng: np.random.Generator | int | None = None
) -> Params:
    r"""Random float64 parameters, :math:`\mathcal N(0, 1/n_{in})` weights and zero biases."""
    gen = as_generator(rng, "init_params")
    return {
        "W1": gen.standard_normal((n_hidden, n_in)) / np.sqrt(n_in),
        "b1": np.zeros(n_hidden),
        "W2": gen.standard_normal((n_out, n_hidden)) / np.sqrt(n_hidden),
        "b2": np.zeros(n_out),
    }


def _check_inputs(params: Params, X: ArrayLike, Y: ArrayLike | None = None):
    missing = [k for k in PARAM_SHAPES if k not in params]
    if missing:
        raise ValueError(f"params is missing {missing}; it needs {PARAM_SHAPES}")
    X = np.asarray(X, dtype=np.float64)
    W1, W2 = params["W1"], params["W2"]
    if X.ndim != 2 or X.shape[1] != W1.shape[1]:
        raise ValueError(
            f"X must have shape (n, {W1.shape[1]}) to match W1 of shape {W1.shape}; got {X.shape}"
        )
    if W2.shape[1] != W1.shape[0]:
        raise ValueError(
            f"W2 has shape {W2.shape} but W1 has {W1.shape}: W2 needs {W1.shape[0]} columns, "
            "one per hidden unit"
        )
    if Y is not None:
        Y = np.asarray(Y, dtype=np.float64)
        if Y.shape != (X.shape[0], W2.shape[0]):
            raise ValueError(
                f"the targets Y must have shape {(X.shape[0], W2.shape[0])} (one row per "
                f"example); got {Y.shape}"
            )
    return X, Y


def forward(
    params: Params, X: ArrayLike, hidden: str = "sigmoid", output: str = "sigmoid"
) -> dict[str, Array]:
    r"""The forward pass; returns the cache ``{"X", "Z1", "A1", "Z2", "Y_hat"}``.

    :math:`Z_1 = X W_1^\top + b_1` (n, h), :math:`A_1 = f(Z_1)`,
    :math:`Z_2 = A_1 W_2^\top + b_2` (n, k), :math:`\hat Y = g(Z_2)`.
    """
    X, _ = _check_inputs(params, X)
    f, _ = get_activation(hidden)
    g, _ = get_activation(output)
    Z1 = X @ params["W1"].T + params["b1"]
    A1 = f(Z1)
    Z2 = A1 @ params["W2"].T + params["b2"]
    return {"X": X, "Z1": Z1, "A1": A1, "Z2": Z2, "Y_hat": g(Z2)}


def loss(
    params: Params, X: ArrayLike, Y: ArrayLike, hidden: str = "sigmoid", output: str = "sigmoid"
) -> float:
    r""":math:`L = \frac{1}{N}\sum_{i,j}(\hat Y_{ij} - Y_{ij})^2` over all ``N`` entries:
    ``bpkit.mse(Y_hat, Y)``, the loss ``train(..., loss="mse")`` minimises."""
    X, Y = _check_inputs(params, X, Y)
    return mse(forward(params, X, hidden, output)["Y_hat"], Y)


def backward(
    params: Params, X: ArrayLike, Y: ArrayLike, hidden: str = "sigmoid", output: str = "sigmoid"
) -> Params:
    r"""The **correct** backward pass (the fix for every bug below); returns ``{"W1", ...}``.

    Shapes: ``Delta2`` (n, k), ``dW2`` (k, h), ``Delta1`` (n, h), ``dW1`` (h, n_in).
    """
    X, Y = _check_inputs(params, X, Y)
    c = forward(params, X, hidden, output)
    _, f_grad = get_activation(hidden)
    _, g_grad = get_activation(output)
    Y_hat = c["Y_hat"]
    # dL/dY_hat for the mean over all N entries, (1/N) sum (Y_hat - Y)^2
    dY_hat = 2 * (Y_hat - Y) / Y_hat.size
    # output delta: dL/dZ2 = dL/dY_hat * φ'(Z2), the output activation's derivative included
    D2 = dY_hat * g_grad(c["Z2"])
    # dL/dW2 = Delta2^T A1, dL/db2 = column sums of Delta2
    dW2, db2 = D2.T @ c["A1"], D2.sum(axis=0)
    # hidden delta: dL/dZ1 = (Delta2 W2) * f'(Z1)
    D1 = (D2 @ params["W2"]) * f_grad(c["Z1"])
    # dL/dW1 = Delta1^T X, dL/db1 = column sums of Delta1
    dW1, db1 = D1.T @ X, D1.sum(axis=0)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


# ------------------------------------------------------------------------ the bugs
def backward_missing_output_derivative(
    params: Params, X: ArrayLike, Y: ArrayLike, hidden: str = "sigmoid", output: str = "sigmoid"
) -> Params:
    r"""BUG (deliberate): the output delta is :math:`\frac2N(\hat Y - Y)`; the factor
    :math:`\varphi'(Z_2)` is missing. (That shortcut is right only for a sigmoid output paired
    with cross-entropy, or a linear output with squared error, not for sigmoid + squared error.)
    Fix: ``Delta2 = 2 * (Y_hat - Y) / N * φ'(Z2)``."""
    X, Y = _check_inputs(params, X, Y)
    c = forward(params, X, hidden, output)
    _, f_grad = get_activation(hidden)
    D2 = 2 * (c["Y_hat"] - Y) / Y.size  # BUG: * φ'(Z2) left out
    D1 = (D2 @ params["W2"]) * f_grad(c["Z1"])
    return {"W1": D1.T @ X, "b1": D1.sum(axis=0), "W2": D2.T @ c["A1"], "b2": D2.sum(axis=0)}


def backward_sigmoid_grad_of_preactivation(
    params: Params, X: ArrayLike, Y: ArrayLike, hidden: str = "sigmoid", output: str = "sigmoid"
) -> Params:
    r"""BUG (deliberate): ``sigmoid_derivative(x) = x * (1 - x)`` is called with the
    pre-activation :math:`Z` instead of the activation :math:`A = \sigma(Z)`, in both
    layers. (:math:`x(1-x)` is :math:`\sigma'` only when ``x`` is already :math:`\sigma(z)`.)
    Fix: ``A * (1 - A)``, or ``sigmoid_grad(Z)``, which takes ``Z``. Needs sigmoid layers."""
    if hidden != "sigmoid" or output != "sigmoid":
        raise ValueError("this bug is about sigmoid layers: use hidden='sigmoid', output='sigmoid'")
    X, Y = _check_inputs(params, X, Y)
    c = forward(params, X, hidden, output)
    Z1, Z2 = c["Z1"], c["Z2"]
    D2 = 2 * (c["Y_hat"] - Y) / Y.size * (Z2 * (1 - Z2))  # BUG: should be Y_hat * (1 - Y_hat)
    D1 = (D2 @ params["W2"]) * (Z1 * (1 - Z1))  # BUG: should be A1 * (1 - A1)
    return {"W1": D1.T @ X, "b1": D1.sum(axis=0), "W2": D2.T @ c["A1"], "b2": D2.sum(axis=0)}


def backward_tanh_grad_as_tanh(
    params: Params, X: ArrayLike, Y: ArrayLike, hidden: str = "tanh", output: str = "sigmoid"
) -> Params:
    r"""BUG (deliberate): the derivative of a tanh hidden layer is written as
    :math:`\tanh(z)` instead of :math:`1 - \tanh^2(z)`. Fix: ``1 - np.tanh(Z1) ** 2``.
    Needs ``hidden="tanh"``; the output layer is handled correctly."""
    if hidden != "tanh":
        raise ValueError("this bug is about a tanh hidden layer: use hidden='tanh'")
    X, Y = _check_inputs(params, X, Y)
    c = forward(params, X, hidden, output)
    _, g_grad = get_activation(output)
    D2 = 2 * (c["Y_hat"] - Y) / Y.size * g_grad(c["Z2"])
    D1 = (D2 @ params["W2"]) * np.tanh(c["Z1"])  # BUG: tanh' is 1 - tanh^2, not tanh
    return {"W1": D1.T @ X, "b1": D1.sum(axis=0), "W2": D2.T @ c["A1"], "b2": D2.sum(axis=0)}


def backward_missing_transpose(
    params: Params, X: ArrayLike, Y: ArrayLike, hidden: str = "sigmoid", output: str = "sigmoid"
) -> Params:
    r"""BUG (deliberate): the first layer's weight gradient is computed as
    :math:`X^\top \Delta_1` (shape ``(n_in, h)``), the habit of the column convention,
    instead of :math:`\Delta_1^\top X` (shape ``(h, n_in)``, the shape of ``W1``).
    When ``n_in == h`` the shapes agree and nothing but a gradient check notices.
    Fix: ``dW1 = Delta1.T @ X``."""
    grads = backward(params, X, Y, hidden, output)
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    c = forward(params, X, hidden, output)
    _, f_grad = get_activation(hidden)
    _, g_grad = get_activation(output)
    D2 = 2 * (c["Y_hat"] - Y) / Y.size * g_grad(c["Z2"])
    D1 = (D2 @ params["W2"]) * f_grad(c["Z1"])
    grads["W1"] = X.T @ D1  # BUG: the transpose of Delta1^T X
    return grads


def backward_sum_instead_of_mean(
    params: Params, X: ArrayLike, Y: ArrayLike, hidden: str = "sigmoid", output: str = "sigmoid"
) -> Params:
    r"""BUG (deliberate): the loss is a mean over the ``N`` entries, :math:`\frac1N\sum`, but
    the gradient starts from :math:`2(\hat Y - Y)` as if the loss were the sum
    :math:`\sum`, so every gradient is ``N`` times too large (``N = n`` with one output).
    Fix: ``dY_hat = 2 * (Y_hat - Y) / N`` (or make the loss a sum as well)."""
    grads = backward(params, X, Y, hidden, output)
    N = np.asarray(Y).size
    return {k: N * v for k, v in grads.items()}  # BUG: the 1/N of the mean is missing


@dataclass(frozen=True)
class Bug:
    """One entry of the gallery: a buggy backward pass and the network it runs on."""

    name: str
    backward: Callable[..., Params]  # the buggy function, same signature as :func:`backward`
    mistake: str
    fix: str
    hidden: str = "sigmoid"
    output: str = "sigmoid"
    n_hidden: int = 2


BUGS: tuple[Bug, ...] = (
    Bug(
        "missing output derivative",
        backward_missing_output_derivative,
        "the output delta is 2(Y_hat - Y)/N without the output activation's derivative φ'(Z2)",
        "Delta2 = 2 * (Y_hat - Y) / N * φ'(Z2)",
    ),
    Bug(
        "x(1 - x) of the pre-activation",
        backward_sigmoid_grad_of_preactivation,
        "sigmoid' computed as Z(1 - Z) from the pre-activation instead of A(1 - A)",
        "A * (1 - A) with A = sigmoid(Z), or sigmoid_grad(Z)",
    ),
    Bug(
        "tanh' written as tanh",
        backward_tanh_grad_as_tanh,
        "the tanh hidden layer's derivative written as tanh(Z1)",
        "1 - tanh(Z1)**2",
        hidden="tanh",
    ),
    Bug(
        "missing transpose",
        backward_missing_transpose,
        "dW1 computed as X^T Delta1 instead of Delta1^T X",
        "dW1 = Delta1.T @ X, the shape of W1",
        n_hidden=3,
    ),
    Bug(
        "sum vs mean",
        backward_sum_instead_of_mean,
        "the loss averages over the batch but the gradient sums",
        "dY_hat = 2 * (Y_hat - Y) / N",
    ),
)
"""The five classic bugs, in the order the chapter shows them."""


def check(
    backward_fn: Callable[..., Params],
    params: Params,
    X: ArrayLike,
    Y: ArrayLike,
    hidden: str = "sigmoid",
    output: str = "sigmoid",
    tol: float = 1e-7,
) -> GradcheckReport:
    """Gradient-check ``backward_fn`` (same signature as :func:`backward`) on ``(X, Y)``.

    The parameters are copied, so ``params`` is left untouched.
    """
    p = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    X = np.asarray(X, dtype=np.float64)
    grads = backward_fn(p, X, Y, hidden, output)
    return gradcheck(lambda: loss(p, X, Y, hidden, output), p, grads, tol=tol)
