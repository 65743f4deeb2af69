r"""Residual (skip) connections: a block that adds its input to its output.

``Residual(inner)`` computes

.. math:: Y = X + F(X)

where ``F`` is any bpkit layer (often a small ``Sequential``) that keeps the shape:
``X`` and ``F(X)`` are both ``(n, d)``. Its Jacobian is :math:`I + \partial F/\partial X`,
so the backward pass is

.. math:: dX = dY + F.\mathrm{backward}(dY):

the identity path hands the upstream gradient to the layer below unchanged, however
small ``F``'s own Jacobian is (He et al., 2016).

The skip path does not keep the *forward* signal's size. If ``F(X)`` is uncorrelated with
``X`` (true on average over random weights) and adds :math:`c` times ``X``'s variance,
each block multiplies the stream's variance by :math:`1 + c`: exponential growth with
depth. Hence small initialisation of the residual branches, :func:`residual_block`:
scale the branch's last layer by :math:`s`, so the factor is :math:`1 + c s^2`; with
:math:`s^2 \propto 1/L` for :math:`L` blocks the total stays bounded
(:math:`(1 + c/L)^L < e^c`), and :math:`s = 0` makes every block start as the identity.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from bpkit.errors import ShapeError
from bpkit.layers import (
    Activation,
    Array,
    Dense,
    Layer,
    Parameter,
    _gradient_shape_error,
    as_generator,
)
from bpkit.model import Sequential


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


class Scale(Layer):
    r"""Multiply by one learnable number: :math:`Y = \alpha X`.

    Backward: :math:`d\alpha = \sum_{i,j} dY_{ij} X_{ij}` (every entry of ``Y`` depends on
    :math:`\alpha`) and :math:`dX = \alpha\, dY`. ``alpha`` is stored as a ``(1,)`` array.
    At the end of a residual branch with ``alpha=0`` it is ReZero (Bachlechner et al.,
    2020): :math:`Y = X + \alpha F(X)` starts as the identity and learns how much of
    :math:`F` to let in, first through :math:`d\alpha`.
    """

    def __init__(self, alpha: float = 0.0, dtype: np.dtype | type = np.float64) -> None:
        if not isinstance(alpha, int | float | np.floating) or not np.isfinite(alpha):
            raise ValueError(f"alpha must be a finite number; got {alpha!r}")
        self.alpha = np.array([alpha], dtype=dtype)
        self.dalpha = np.zeros_like(self.alpha)
        self.X: Array | None = None

    def forward(self, X: ArrayLike) -> Array:
        self.X = np.asarray(X, dtype=self.alpha.dtype)  # cached: d-alpha needs X
        return self.alpha[0] * self.X

    def predict(self, X: ArrayLike) -> Array:
        return self.alpha[0] * np.asarray(X, dtype=self.alpha.dtype)

    def backward(self, dY: Array, *, input_grad: bool = True) -> Array | None:
        if self.X is None:
            raise RuntimeError("call forward before backward: Scale has no cached input")
        if dY.shape != self.X.shape:
            raise _gradient_shape_error("Scale", self.X.shape, dY.shape)
        # dL/d-alpha = sum over every entry of dL/dY * dY/d-alpha, and dY/d-alpha = X
        self.dalpha[0] = np.vdot(dY, self.X)
        # dL/dX = dL/dY * alpha
        return self.alpha[0] * dY if input_grad else None

    def parameters(self) -> list[Parameter]:
        return [Parameter("alpha", self.alpha, self.dalpha)]

    def __repr__(self) -> str:
        return f"Scale({self.alpha[0]:g})"


def residual_block(
    d: int,
    hidden: int | None = None,
    activation: str = "relu",
    *,
    rng: np.random.Generator | int | None = None,
    init: str | None = None,
    last_scale: float = 1.0,
    alpha: float | None = None,
) -> Residual:
    r"""A residual block :math:`Y = X + F(X)` whose branch :math:`F` is Dense, activation, Dense.

    :math:`F(X) = f(X W_1^\top + b_1) W_2^\top + b_2`: ``d`` features in and out, ``hidden``
    units (default ``d``) in between. ``init`` is as in :func:`bpkit.mlp` (default ``"he"``
    for ReLU, ``"xavier"`` otherwise). Two ways to start the branch small:

    * ``last_scale`` :math:`s \ge 0` multiplies :math:`W_2` after initialisation, so
      :math:`F` is :math:`s` times what it would be. ``0`` is zero-initialising the last
      layer of each branch (as Fixup, Zhang, Dauphin and Ma, 2019, does; Goyal et al.,
      2017, zero the last BatchNorm's :math:`\gamma` instead): every block starts as the
      identity, yet :math:`dW_2 = dY^\top A_1` is not zero, so the branch starts learning
      at once. :math:`s = 1/\sqrt L` for :math:`L` blocks keeps the stream's variance
      bounded (module docstring).
    * ``alpha``: append :class:`Scale` ``(alpha)``, a learnable gate, to the branch:
      :math:`Y = X + \alpha F(X)`; ``alpha=0.0`` is ReZero.
    """
    if isinstance(d, bool) or not isinstance(d, int | np.integer) or d < 1:
        raise ValueError(f"d must be a positive whole number of features; got {d!r}")
    hidden = d if hidden is None else hidden
    if isinstance(hidden, bool) or not isinstance(hidden, int | np.integer) or hidden < 1:
        raise ValueError(f"hidden must be a positive whole number of units; got {hidden!r}")
    if not isinstance(last_scale, int | float | np.floating) or not 0 <= last_scale < np.inf:
        raise ValueError(
            f"last_scale must be a finite number >= 0 (0: each block starts as the identity; "
            f"1: the usual initialisation); got {last_scale!r}"
        )
    if init is None:
        init = "he" if activation in ("relu", "leaky_relu") else "xavier"
    gen = as_generator(rng, "residual_block") if init != "zero" else None
    first = Dense(d, hidden, init=init, rng=gen)
    last = Dense(hidden, d, init=init, rng=gen)
    last.W *= last_scale  # in place: the Parameter keeps pointing at W
    branch: list[Layer] = [first, Activation(activation), last]
    if alpha is not None:
        branch.append(Scale(alpha, dtype=last.W.dtype))
    return Residual(Sequential(*branch))
