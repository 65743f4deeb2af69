r"""Residual (skip) connections: a block that adds its input to its output.

``Residual(inner)`` computes

.. math:: Y = X + F(X)

where ``F`` is any bpkit layer (often a small ``Sequential``) that keeps the shape:
``X`` and ``F(X)`` are both ``(n, d)``. Its Jacobian is :math:`I + \partial F/\partial X`,
so the backward pass is

.. math:: dX = dY + F.\mathrm{backward}(dY):

the identity path hands the upstream gradient to the layer below unchanged, however
small ``F``'s own Jacobian is (He et al., 2016).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from bpkit.layers import Array, Layer, Parameter


class Residual(Layer):
    r"""Skip connection around ``inner``: :math:`Y = X + F(X)`, :math:`dX = dY + dF^\top dY`.

    Shapes: ``X``, ``F(X)``, ``Y``, ``dY`` and ``dX`` are all ``(n, d)``.
    ``parameters()`` are the inner layer's, so optimizers and gradcheck see them.
    """

    def __init__(self, inner: Layer) -> None:
        if not isinstance(inner, Layer):
            raise TypeError(f"Residual wraps a bpkit layer; got {type(inner).__name__}")
        self.inner = inner
        self.shape: tuple[int, ...] | None = None

    def forward(self, X: ArrayLike) -> Array:
        X = np.asarray(X)
        F = self.inner.forward(X)
        if F.shape != X.shape:
            raise ValueError(
                f"Residual needs an inner layer that keeps the shape: X has shape {X.shape} "
                f"but {self.inner!r} returned shape {F.shape}; X + F(X) is undefined"
            )
        self.shape = X.shape
        return X + F

    def backward(self, dY: Array) -> Array:
        if self.shape is None:
            raise RuntimeError("call forward before backward: Residual has no cached input")
        if dY.shape != self.shape:
            raise ValueError(
                f"Residual.backward expects dY of shape {self.shape} (the shape of Y); "
                f"got shape {dY.shape}"
            )
        # dL/dX = dL/dY . dY/dX with dY/dX = I + dF/dX: the skip path plus the inner path
        return dY + self.inner.backward(dY)

    def train(self, mode: bool = True) -> Residual:
        """Switch this block and ``inner`` to training mode (``False``: evaluation mode)."""
        super().train(mode)
        self.inner.train(mode)
        return self

    def parameters(self) -> list[Parameter]:
        return self.inner.parameters()

    def __repr__(self) -> str:
        return f"Residual({self.inner!r})"
