r"""Layer normalisation (Ba, Kiros and Hinton, 2016): rescale each example to mean 0, std 1.

For one row :math:`x \in \mathbb R^d` of ``X`` (one example):

.. math::

    \mu = \tfrac1d \sum_k x_k, \qquad
    \sigma^2 = \tfrac1d \sum_k (x_k - \mu)^2, \qquad
    \hat x = \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}}, \qquad
    y = \gamma \odot \hat x + \beta .

Backward, row by row, with :math:`g = dY \odot \gamma` and :math:`s = 1/\sqrt{\sigma^2+\epsilon}`:

.. math::

    dX = \frac{s}{d}\Big(d\,g - \textstyle\sum_k g_k - \hat x \sum_k g_k \hat x_k\Big),
    \qquad d\gamma = \sum_i dY_{i,:} \odot \hat X_{i,:}, \qquad d\beta = \sum_i dY_{i,:} .

The two sums are the paths through :math:`\mu` and :math:`\sigma`, which both depend on
every :math:`x_k`; forgetting them (treating :math:`\mu, \sigma` as constants) is the
classic mistake. Unlike batch normalisation, nothing depends on the other rows of the
batch, so training and prediction compute the same function.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from bpkit.errors import ShapeError
from bpkit.layers import Array, Layer, Parameter, _gradient_shape_error
from bpkit.optim import check_positive


class LayerNorm(Layer):
    r"""Normalise each row of ``X`` ``(n, d)`` to mean 0 and variance 1, then scale and shift.

    Parameters ``gamma`` (``(d,)``, starts at 1) and ``beta`` (``(d,)``, starts at 0).
    ``eps`` keeps the division finite for a constant row.
    """

    def __init__(self, d: int, eps: float = 1e-5, dtype: np.dtype | type = np.float64) -> None:
        if not isinstance(d, int | np.integer) or d < 2:
            raise ValueError(
                f"LayerNorm needs the number of features d >= 2 (a single feature normalises "
                f"to 0); got {d!r}"
            )
        self.d, self.eps = int(d), check_positive("eps", eps)
        self.gamma = np.ones(self.d, dtype=dtype)
        self.beta = np.zeros(self.d, dtype=dtype)
        self.dgamma = np.zeros_like(self.gamma)
        self.dbeta = np.zeros_like(self.beta)
        self.Xhat: Array | None = None
        self.inv_std: Array | None = None

    def _normalize(self, X: ArrayLike) -> tuple[Array, Array]:
        """``(x-hat, s)`` for ``X``: each row shifted to mean 0 and scaled to variance 1."""
        X = np.asarray(X, dtype=self.gamma.dtype)
        if X.ndim != 2 or X.shape[1] != self.d:
            raise ShapeError(
                f"LayerNorm({self.d}) expects X of shape (batch, {self.d}); got shape {X.shape}"
            )
        mu = X.mean(axis=1, keepdims=True)
        var = X.var(axis=1, keepdims=True)
        inv_std = 1.0 / np.sqrt(var + self.eps)  # s = 1/sqrt(var + eps)
        return (X - mu) * inv_std, inv_std

    def forward(self, X: ArrayLike) -> Array:
        self.Xhat, self.inv_std = self._normalize(X)  # cached: needed by every gradient
        return self.gamma * self.Xhat + self.beta

    def predict(self, X: ArrayLike) -> Array:
        return self.gamma * self._normalize(X)[0] + self.beta

    def backward(self, dY: Array, *, input_grad: bool = True) -> Array | None:
        if self.Xhat is None or self.inv_std is None:
            raise RuntimeError("call forward before backward: LayerNorm has no cached x-hat")
        dY = np.asarray(dY)
        if dY.shape != self.Xhat.shape:
            raise _gradient_shape_error(repr(self), self.Xhat.shape, dY.shape)
        # dL/dgamma, dL/dbeta: y = gamma * x-hat + beta, summed over the batch
        self.dgamma[...] = np.sum(dY * self.Xhat, axis=0)
        self.dbeta[...] = np.sum(dY, axis=0)
        if not input_grad:
            return None
        # dL/dx-hat = dL/dy * gamma
        g = dY * self.gamma
        # dL/dx: the direct path, minus the path through the mean, minus the path
        # through the variance (both depend on every feature of the row)
        d = self.d
        return (self.inv_std / d) * (
            d * g
            - g.sum(axis=1, keepdims=True)
            - self.Xhat * np.sum(g * self.Xhat, axis=1, keepdims=True)
        )

    def parameters(self) -> list[Parameter]:
        return [
            Parameter("gamma", self.gamma, self.dgamma),
            Parameter("beta", self.beta, self.dbeta),
        ]

    def __repr__(self) -> str:
        return f"LayerNorm({self.d})"
