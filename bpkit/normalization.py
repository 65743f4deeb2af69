r"""Normalisation layers: rescale to mean 0 and std 1, then let the network scale and shift.

:class:`LayerNorm` (Ba, Kiros and Hinton, 2016) normalises each example (row) over its
features; :class:`BatchNorm` (Ioffe and Szegedy, 2015) normalises each feature (column)
over the batch, which is why it needs a training and an evaluation mode.

Layer normalisation, for one row :math:`x \in \mathbb R^d` of ``X`` (one example):

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
classic mistake. Nothing depends on the other rows of the batch, so training and
prediction compute the same function. Batch normalisation is the same computation on the
columns (:class:`BatchNorm` shows the derivation), with one catch: a prediction for one
example cannot depend on which other examples share its batch, so in evaluation mode it
uses averages of the statistics it saw in training.
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


class BatchNorm(Layer):
    r"""Batch normalisation (Ioffe and Szegedy, 2015): normalise each feature over the batch.

    Shapes: ``X``, ``Y``, ``dY``, ``dX`` are ``(n, d)``; ``gamma``, ``beta`` (Parameters,
    starting at 1 and 0), ``running_mean``, ``running_var`` (not trained) are ``(d,)``.

    **Training mode** (``layer.train()``, the default): for each column :math:`j`,

    .. math::

        \mu_j = \tfrac1n \textstyle\sum_i X_{ij}, \qquad
        \sigma_j^2 = \tfrac1n \textstyle\sum_i (X_{ij} - \mu_j)^2, \qquad
        \hat X = \frac{X - \mu}{\sqrt{\sigma^2 + \epsilon}}, \qquad
        Y = \gamma \odot \hat X + \beta,

    and the running averages move towards the batch's statistics, with ``momentum``
    :math:`m` (the weight on the past, as in :class:`~bpkit.optim.Momentum`):
    :math:`\mu_{\mathrm{run}} \leftarrow m\,\mu_{\mathrm{run}} + (1-m)\,\mu`,
    :math:`\sigma^2_{\mathrm{run}} \leftarrow m\,\sigma^2_{\mathrm{run}} + (1-m)\,\tfrac{n}{n-1}\sigma^2`
    (the unbiased variance, as in the paper).

    **Evaluation mode** (``layer.eval()``): :math:`Y = \gamma \odot (X - \mu_{\mathrm{run}})
    / \sqrt{\sigma^2_{\mathrm{run}} + \epsilon} + \beta`, an affine map of each row on its
    own: a prediction no longer depends on the rest of the batch, and one row is enough.

    **Backward, training mode.** One column, :math:`s = 1/\sqrt{\sigma^2+\epsilon}`,
    :math:`g = dY \odot \gamma` (that is :math:`\partial L/\partial\hat x`). Each
    :math:`x_i` reaches the loss three ways: directly through :math:`\hat x_i`, and through
    :math:`\mu` and :math:`\sigma^2`, which every :math:`x_k` shares:

    .. math::

        \frac{\partial L}{\partial \sigma^2} = -\tfrac12 s^2 \textstyle\sum_k g_k \hat x_k,
        \qquad
        \frac{\partial L}{\partial \mu} = -s \textstyle\sum_k g_k
        \quad (\text{the path through } \sigma^2 \text{ adds }
        \tfrac{\partial L}{\partial \sigma^2}\cdot\tfrac{-2}{n}\textstyle\sum_k (x_k - \mu) = 0),

        \frac{\partial L}{\partial x_i} = s\,g_i + \frac1n\frac{\partial L}{\partial \mu}
        + \frac{2(x_i - \mu)}{n}\frac{\partial L}{\partial \sigma^2}
        = \frac{s}{n}\Big(n\,g_i - \textstyle\sum_k g_k - \hat x_i \sum_k g_k \hat x_k\Big),

    :class:`LayerNorm`'s formula with the sums running down the columns.
    **Evaluation mode**: :math:`\mu_{\mathrm{run}}, \sigma^2_{\mathrm{run}}` are constants,
    so :math:`dX = g \odot s_{\mathrm{run}}`. Both modes:
    :math:`d\gamma = \sum_i dY_{i,:} \odot \hat X_{i,:}`, :math:`d\beta = \sum_i dY_{i,:}`.
    """

    def __init__(
        self,
        d: int,
        momentum: float = 0.9,
        eps: float = 1e-5,
        dtype: np.dtype | type = np.float64,
    ) -> None:
        if isinstance(d, bool) or not isinstance(d, int | np.integer) or d < 1:
            raise ValueError(f"BatchNorm needs the number of features d >= 1; got {d!r}")
        if not isinstance(momentum, int | float | np.floating) or not 0 <= momentum < 1:
            raise ValueError(
                f"momentum must be in [0, 1) (the weight the running averages keep on their "
                f"past); got {momentum!r}"
            )
        if not isinstance(eps, int | float | np.floating) or not 0 < eps < np.inf:
            raise ValueError(f"eps must be a positive finite number; got {eps!r}")
        self.d, self.momentum, self.eps = int(d), float(momentum), float(eps)
        self.gamma = np.ones(self.d, dtype=dtype)
        self.beta = np.zeros(self.d, dtype=dtype)
        self.dgamma = np.zeros_like(self.gamma)
        self.dbeta = np.zeros_like(self.beta)
        self.running_mean = np.zeros(self.d, dtype=dtype)  # what evaluation mode uses
        self.running_var = np.ones(self.d, dtype=dtype)
        self.Xhat: Array | None = None
        self.inv_std: Array | None = None
        self.cached_training: bool | None = None  # the mode of the last forward pass

    def forward(self, X: ArrayLike) -> Array:
        X = np.asarray(X, dtype=self.gamma.dtype)
        if X.ndim != 2 or X.shape[1] != self.d:
            raise ShapeError(
                f"BatchNorm({self.d}) expects X of shape (batch, {self.d}); got shape {X.shape}"
            )
        n = X.shape[0]
        if self.training:
            if n < 2:
                raise ValueError(
                    f"BatchNorm in training mode needs a batch of at least 2 rows (one row "
                    f"normalises every feature to 0); got {n}. For predictions, call "
                    "model.eval() first"
                )
            mu, var = X.mean(axis=0), X.var(axis=0)  # statistics of this batch, per column
            m = self.momentum
            self.running_mean[...] = m * self.running_mean + (1 - m) * mu
            self.running_var[...] = m * self.running_var + (1 - m) * var * n / (n - 1)
        else:
            mu, var = self.running_mean, self.running_var
        self.inv_std = 1.0 / np.sqrt(var + self.eps)  # cached: s, shape (d,)
        self.Xhat = (X - mu) * self.inv_std  # cached: x-hat, needed by every gradient
        self.cached_training = self.training
        return self.gamma * self.Xhat + self.beta

    def predict(self, X: ArrayLike) -> Array:
        """A prediction uses the evaluation form, whatever the mode: the running averages,
        one row at a time if need be; nothing is cached and the averages do not move."""
        X = np.asarray(X, dtype=self.gamma.dtype)
        if X.ndim != 2 or X.shape[1] != self.d:
            raise ShapeError(
                f"BatchNorm({self.d}) expects X of shape (batch, {self.d}); got shape {X.shape}"
            )
        inv_std = 1.0 / np.sqrt(self.running_var + self.eps)
        return self.gamma * ((X - self.running_mean) * inv_std) + self.beta

    def backward(self, dY: Array, *, input_grad: bool = True) -> Array | None:
        if self.Xhat is None or self.inv_std is None:
            raise RuntimeError("call forward before backward: BatchNorm has no cached x-hat")
        if dY.shape != self.Xhat.shape:
            raise _gradient_shape_error(repr(self), self.Xhat.shape, dY.shape)
        # dL/dgamma, dL/dbeta: y = gamma * x-hat + beta, summed over the batch
        self.dgamma[...] = np.sum(dY * self.Xhat, axis=0)
        self.dbeta[...] = np.sum(dY, axis=0)
        if not input_grad:
            return None
        # dL/dx-hat = dL/dy * gamma
        g = dY * self.gamma
        if not self.cached_training:
            # evaluation mode: x-hat = (x - mu_run) * s_run, a constant scale per column
            return g * self.inv_std
        # training mode: the direct path, minus the path through the batch mean, minus
        # the path through the batch variance (both depend on every row of the column)
        n = self.Xhat.shape[0]
        return (self.inv_std / n) * (
            n * g - g.sum(axis=0) - self.Xhat * np.sum(g * self.Xhat, axis=0)
        )

    def parameters(self) -> list[Parameter]:
        return [
            Parameter("gamma", self.gamma, self.dgamma),
            Parameter("beta", self.beta, self.dbeta),
        ]

    def buffers(self) -> list[Array]:
        return [self.running_mean, self.running_var]

    def __repr__(self) -> str:
        return f"BatchNorm({self.d})"
