r"""Gradient clipping by global norm (Pascanu, Mikolov and Bengio, 2013).

With all gradients :math:`g_1, \dots, g_m` of a model seen as one long vector,

.. math:: \lVert g\rVert = \sqrt{\textstyle\sum_j \lVert g_j\rVert_F^2}, \qquad
          g_j \leftarrow g_j \cdot \min\!\Big(1, \frac{c}{\lVert g\rVert}\Big).

Clipping only ever **shrinks**: a gradient shorter than ``c`` is left exactly as it is.
It keeps the direction and caps the step length, which tames exploding gradients; it
cannot make a vanishing gradient larger.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from bpkit.layers import Layer, Parameter


def _params(target: Layer | Iterable[Parameter]) -> list[Parameter]:
    params = list(target.parameters() if isinstance(target, Layer) else target)
    for p in params:
        if not isinstance(p, Parameter):
            raise TypeError(
                "clipping takes a bpkit model or model.parameters() (Parameter tuples); "
                f"got {type(p).__name__}"
            )
    return params


def global_grad_norm(target: Layer | Iterable[Parameter]) -> float:
    r""":math:`\sqrt{\sum_j \lVert g_j\rVert_F^2}` over every parameter's gradient."""
    return float(np.sqrt(sum(float(np.sum(p.grad * p.grad)) for p in _params(target))))


def clip_grad_norm(target: Layer | Iterable[Parameter], max_norm: float) -> float:
    r"""Scale every gradient in place by :math:`\min(1, c / \lVert g\rVert)`, ``c = max_norm``.

    ``target`` is a model or ``model.parameters()``. Returns the global norm **before**
    clipping, so a training loop can log how often and how hard it clipped.
    """
    if not isinstance(max_norm, int | float | np.floating) or not np.isfinite(max_norm):
        raise ValueError(f"max_norm must be a finite number; got {max_norm!r}")
    if max_norm <= 0:
        raise ValueError(f"max_norm must be positive; got {max_norm}")
    params = _params(target)
    if not params:
        raise ValueError("there are no parameters to clip")
    norm = global_grad_norm(params)
    if not np.isfinite(norm):
        raise ValueError(
            f"the gradient norm is {norm}: the gradients already hold NaN or inf, and no "
            "rescaling can repair them. Clip earlier, or lower the learning rate."
        )
    if norm > max_norm:
        factor = max_norm / norm
        for p in params:
            p.grad[...] *= factor  # one factor for all: the direction is kept
    return norm
