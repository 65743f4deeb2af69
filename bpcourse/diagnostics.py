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
