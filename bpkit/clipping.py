r"""Gradient clipping by global norm (Pascanu, Mikolov and Bengio, 2013).

With all gradients :math:`g_1, \dots, g_m` of a model seen as one long vector,

.. math:: \lVert g\rVert = \sqrt{\textstyle\sum_j \lVert g_j\rVert_F^2}, \qquad
          g_j \leftarrow g_j \cdot \min\!\Big(1, \frac{c}{\lVert g\rVert}\Big).

Clipping only ever **shrinks**: a gradient shorter than ``c`` is left exactly as it is.
It keeps the direction and caps the step length, which tames exploding gradients; it
cannot make a vanishing gradient larger.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from bpkit.errors import NonFiniteError
from bpkit.layers import Layer, Parameter
from bpkit.optim import check_positive


def _params(target: Layer | Iterable[Parameter]) -> list[Parameter]:
    params = list(target.parameters() if isinstance(target, Layer) else target)
    for p in params:
        if not isinstance(p, Parameter):
            raise TypeError(
                "clipping takes a bpkit model or model.parameters() (Parameter tuples); "
                f"got {type(p).__name__}"
            )
    return params


def _scaled_norm(params: list[Parameter]) -> tuple[float, float]:
    r"""``(m, r)`` with :math:`\lVert g\rVert = m\,r`: ``m`` the largest entry in absolute
    value, ``r`` the norm of :math:`g/m`. Squaring :math:`g/m` (every entry at most 1)
    cannot overflow, where squaring a large finite ``g`` would: :math:`(10^{200})^2`."""
    m = max((float(np.max(np.abs(p.grad))) for p in params if p.grad.size), default=0.0)
    if m == 0 or not np.isfinite(m):
        return m, 1.0
    r = math.sqrt(sum(float(np.sum(np.square(p.grad / m))) for p in params))
    return m, r


def global_grad_norm(target: Layer | Iterable[Parameter]) -> float:
    r""":math:`\sqrt{\sum_j \lVert g_j\rVert_F^2}` over every parameter's gradient (``inf``
    only if the norm itself is beyond the largest float, about 1.8e308)."""
    m, r = _scaled_norm(_params(target))
    return m * r


def clip_grad_norm(target: Layer | Iterable[Parameter], max_norm: float) -> float:
    r"""Scale every gradient in place by :math:`\min(1, c / \lVert g\rVert)`, ``c = max_norm``.

    ``target`` is a model or ``model.parameters()``. Returns the global norm **before**
    clipping, so a training loop can log how often and how hard it clipped.
    """
    max_norm = check_positive("max_norm", max_norm)
    params = _params(target)
    if not params:
        raise ValueError("there are no parameters to clip")
    m, r = _scaled_norm(params)
    if not np.isfinite(m):
        raise NonFiniteError(
            f"the gradients hold NaN or inf (largest entry {m}), and no rescaling can repair "
            "them. Clip earlier, or lower the learning rate."
        )
    if m * r > max_norm:  # m * r may be inf when the norm is beyond a float: still clip
        factor = (max_norm / m) / r  # c / ||g||, formed without ||g|| itself
        for p in params:
            p.grad[...] *= factor  # one factor for all: the direction is kept
    return m * r
