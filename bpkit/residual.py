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

from bpkit.errors import ShapeError
from bpkit.layers import Array, Layer, Parameter, _gradient_shape_error


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

    def _add(self, X: Array, F: Array) -> Array:
        if F.shape != X.shape:
            raise ShapeError(
                f"Residual needs an inner layer that keeps the shape: X has shape {X.shape} "
                f"but {self.inner!r} returned shape {F.shape}; X + F(X) is undefined"
            )
        return X + F

    def forward(self, X: ArrayLike) -> Array:
        X = np.asarray(X)
        Y = self._add(X, self.inner.forward(X))
        self.shape = X.shape
        return Y

    def predict(self, X: ArrayLike) -> Array:
        X = np.asarray(X)
        return self._add(X, self.inner.predict(X))

    def backward(self, dY: Array, *, input_grad: bool = True) -> Array | None:
        if self.shape is None:
            raise RuntimeError("call forward before backward: Residual has no cached input")
        dY = np.asarray(dY)
        if dY.shape != self.shape:
            raise _gradient_shape_error("Residual", self.shape, dY.shape)
        dF = self.inner.backward(dY, input_grad=input_grad)  # fills the inner parameters
        if not input_grad:
            return None
        # dL/dX = dL/dY . dY/dX with dY/dX = I + dF/dX: the skip path plus the inner path
        return dY + dF

    def parameters(self) -> list[Parameter]:
        return self.inner.parameters()

    def children(self) -> list[Layer]:
        return [self.inner]

    def __repr__(self) -> str:
        return f"Residual({self.inner!r})"
