r"""Per-layer diagnostics for deep networks: where does the gradient vanish or explode?

* :func:`dense_layers`: the ``Dense`` layers of a model in forward order, looking inside
  ``Sequential`` and ``Residual`` blocks.
* :func:`layer_grad_norms`: :math:`\lVert \partial L/\partial W_\ell\rVert_F` for each of
  them, after a backward pass; layer 1 is nearest the input.
* :func:`layer_output_stds`: the standard deviation of each chosen layer's output on a
  batch, to watch the forward signal shrink or grow.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from bpkit.layers import Dense, Layer
from bpkit.model import Sequential
from bpkit.residual import Residual


def dense_layers(model: Layer) -> list[Dense]:
    """Every ``Dense`` layer inside ``model``, in the order the forward pass meets them."""
    if isinstance(model, Dense):
        return [model]
    if isinstance(model, Sequential):
        return [d for layer in model.layers for d in dense_layers(layer)]
    if isinstance(model, Residual):
        return dense_layers(model.inner)
    return []


def layer_grad_norms(model: Layer) -> list[float]:
    r"""Frobenius norm :math:`\lVert dW_\ell\rVert_F` of each ``Dense`` layer's weight gradient.

    Call it after ``model.backward``; entry 0 is the layer nearest the input.
    """
    layers = dense_layers(model)
    if not layers:
        raise ValueError(f"{type(model).__name__} has no Dense layers to report on")
    return [float(np.linalg.norm(d.dW)) for d in layers]


def layer_output_stds(
    model: Sequential, X: ArrayLike, kinds: Sequence[type] = (Dense,)
) -> list[float]:
    r"""Forward ``X`` through ``model``'s layers; the std of each output of a layer in ``kinds``.

    With the default ``kinds=(Dense,)`` these are the pre-activations :math:`Z_\ell`.
    """
    if not isinstance(model, Sequential):
        raise TypeError(f"layer_output_stds walks a Sequential; got {type(model).__name__}")
    A = np.asarray(X)
    stds = []
    for layer in model.layers:
        A = layer.forward(A)
        if isinstance(layer, tuple(kinds)):
            stds.append(float(np.std(A)))
    if not stds:
        names = ", ".join(k.__name__ for k in kinds)
        raise ValueError(f"the model has no top-level layer of kind {names}")
    return stds


def layer_factor_norms(model: Sequential, X: ArrayLike, dout_fn) -> dict[str, np.ndarray]:
    r"""The two factors of every weight gradient, :math:`\partial L/\partial W^{(l)} = \Delta^{(l)\top} A^{(l-1)}`.

    Runs ``model.forward(X)``, then the backward pass layer by layer (as
    ``Sequential.backward`` does), starting from ``dout_fn(output)`` (e.g.
    ``lambda out: mse_grad(out, Y)``), and records, for each ``Dense`` layer (input side
    first), the Frobenius norms of its delta :math:`\Delta^{(l)}` (the gradient arriving at
    its output ``Z``), of its input :math:`A^{(l-1)}` and of its weight gradient. Since
    :math:`\lVert \Delta^\top A\rVert_F \le \lVert\Delta\rVert_F \lVert A\rVert_F`, the third
    is at most the product of the first two. Only a flat ``Sequential`` of layers is
    walked (no nested blocks).
    """
    if not isinstance(model, Sequential):
        raise TypeError(f"layer_factor_norms walks a Sequential; got {type(model).__name__}")
    nested = [
        type(layer).__name__ for layer in model.layers if isinstance(layer, Sequential | Residual)
    ]
    if nested:
        raise ValueError(f"layer_factor_norms walks a flat Sequential; this one nests {nested}")
    d = dout_fn(model.forward(X))
    delta, inputs, grads = [], [], []
    for layer in reversed(model.layers):
        if isinstance(layer, Dense):
            delta.append(float(np.linalg.norm(d)))  # Delta = dL/dZ arriving at this layer
            inputs.append(float(np.linalg.norm(layer.X)))  # A^(l-1), the layer's cached input
        d = layer.backward(d)  # fills dW, db; passes dL/d(input) down
        if isinstance(layer, Dense):
            grads.append(float(np.linalg.norm(layer.dW)))
    return {k: np.array(v[::-1]) for k, v in (("delta", delta), ("input", inputs), ("dW", grads))}


def median_and_range(values: ArrayLike, axis: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The median of ``values`` along ``axis``, and the smallest and largest value.

    How the book reports a number measured over several random draws (seeds): the median
    as the typical value, the range to show how far one draw can be from it.
    """
    v = np.asarray(values, dtype=float)
    if v.size == 0 or v.shape[axis] == 0:
        raise ValueError("median_and_range needs at least one value")
    return np.median(v, axis=axis), np.min(v, axis=axis), np.max(v, axis=axis)
