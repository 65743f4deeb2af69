r"""Array layers: ``forward(X)`` caches what the backward pass needs; ``backward(dY)``
returns ``dX`` and stores the parameter gradients.

Conventions (the same in every chapter): a batch is a matrix with **one row per
example**. A dense layer with ``n_in`` inputs and ``n_out`` units has

* ``W`` of shape ``(n_out, n_in)`` (row ``j`` holds unit ``j``'s weights) and
* ``b`` of shape ``(n_out,)`` (one bias per unit),

so for ``X`` of shape ``(n, n_in)``: :math:`Z = X W^\top + b`, shape ``(n, n_out)``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from bpkit.activations import get_activation, get_grad_from_output

Array = NDArray[np.floating]
INITS = ("zero", "normal", "xavier", "he")


class Parameter(NamedTuple):
    """A trainable array and the array its gradient is written into (same shape).

    Optimizers update ``value`` in place, so the layer sees the new weights.
    """

    name: str
    value: Array
    grad: Array


def as_generator(rng: np.random.Generator | int | None, who: str) -> np.random.Generator:
    """Accept a ``numpy.random.Generator`` or an int seed; refuse a hidden global RNG."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, int | np.integer) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(
        f"{who} draws random numbers, so it needs rng=np.random.default_rng(seed) "
        "(or an int seed); every random draw in bpkit is explicit so runs repeat exactly"
    )


def init_weights(
    n_in: int,
    n_out: int,
    init: str,
    rng: np.random.Generator | int | None = None,
    scale: float | None = None,
    dtype: np.dtype | type = np.float64,
) -> Array:
    r"""A ``(n_out, n_in)`` weight matrix.

    * ``"zero"``: all zeros (every unit stays identical: a lesson, not a choice).
    * ``"normal"``: :math:`\mathcal N(0, s^2)` with ``s = scale`` (default 0.01).
    * ``"xavier"`` (Glorot and Bengio, 2010): :math:`\mathrm{Var} = 2/(n_{in} + n_{out})`.
    * ``"he"`` (He et al., 2015), for ReLU: :math:`\mathrm{Var} = 2/n_{in}`.

    ``scale`` multiplies the standard deviation of the ``xavier`` and ``he`` schemes.
    """
    if init == "zero":
        return np.zeros((n_out, n_in), dtype=dtype)
    std = {
        "normal": 0.01,
        "xavier": np.sqrt(2.0 / (n_in + n_out)),
        "he": np.sqrt(2.0 / n_in),
    }.get(init)
    if std is None:
        valid = ", ".join(repr(i) for i in INITS)
        raise ValueError(f"unknown init {init!r}; choose one of {valid}")
    if scale is not None:
        std = scale if init == "normal" else std * scale
    gen = as_generator(rng, f"Dense(init={init!r})")
    return (std * gen.standard_normal((n_out, n_in))).astype(dtype)


class Layer:
    """Base class: a layer maps ``X`` to ``Y`` and gradients ``dY`` back to ``dX``.

    ``training`` is the mode: ``True`` while fitting, ``False`` for predictions. Only a
    layer that computes differently in the two (``BatchNorm``) reads it.
    """

    training = True

    def train(self, mode: bool = True) -> Layer:
        """Switch to training mode (``mode=False``: evaluation mode); returns the layer.

        Containers (``Sequential``, ``Residual``) pass the mode on to the layers inside.
        """
        if not isinstance(mode, bool):
            raise TypeError(
                f"mode must be True (training) or False (evaluation); got {mode!r}. "
                "To fit a model, call bpkit.train(model, X, y, ...)"
            )
        self.training = mode
        return self

    def eval(self) -> Layer:
        """Switch to evaluation mode, for predictions: ``train(False)``."""
        return self.train(False)

    def forward(self, X: ArrayLike) -> Array:
        raise NotImplementedError

    def backward(self, dY: Array) -> Array:
        raise NotImplementedError

    def parameters(self) -> list[Parameter]:
        return []

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad.fill(0.0)

    def __call__(self, X: ArrayLike) -> Array:
        return self.forward(X)


class Dense(Layer):
    r"""Fully connected layer :math:`Z = X W^\top + b`.

    Shapes: ``X`` ``(n, n_in)``, ``W`` ``(n_out, n_in)``, ``b`` ``(n_out,)``,
    ``Z`` ``(n, n_out)``.

    Backward, given :math:`dZ = \partial L/\partial Z` of shape ``(n, n_out)``:

    * :math:`dW = dZ^\top X`, shape ``(n_out, n_in)``
    * :math:`db = \sum_i dZ_{i,:}`, shape ``(n_out,)``
    * :math:`dX = dZ\, W`, shape ``(n, n_in)``
    """

    def __init__(
        self,
        n_in: int,
        n_out: int,
        init: str = "xavier",
        rng: np.random.Generator | int | None = None,
        scale: float | None = None,
        dtype: np.dtype | type = np.float64,
    ) -> None:
        for name, n in (("n_in", n_in), ("n_out", n_out)):
            if not isinstance(n, int | np.integer) or n < 1:
                raise ValueError(f"{name} must be a positive whole number; got {n!r}")
        self.n_in, self.n_out = int(n_in), int(n_out)
        self.W = init_weights(self.n_in, self.n_out, init, rng, scale, dtype)
        self.b = np.zeros(self.n_out, dtype=self.W.dtype)
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)
        self.X: Array | None = None

    def forward(self, X: ArrayLike) -> Array:
        if type(X) is not np.ndarray or X.dtype != self.W.dtype:
            X = np.asarray(X, dtype=self.W.dtype)
        if X.ndim != 2 or X.shape[1] != self.n_in:
            raise ValueError(
                f"Dense({self.n_in} -> {self.n_out}) expects X of shape (batch, {self.n_in}); "
                f"got shape {X.shape}"
            )
        if X.shape[0] == 0:
            raise ValueError("the batch is empty: X has no rows")
        self.X = X  # cached: dW needs the layer's input
        Z = X @ self.W.T
        Z += self.b  # b is added to every row (in place: no second (n, n_out) array)
        return Z

    def backward(self, dZ: Array, input_grad: bool = True) -> Array | None:
        """Fill ``dW`` and ``db``; return ``dX`` (or ``None`` with ``input_grad=False``,
        which skips that matrix multiply when nothing below needs ``dX``)."""
        if self.X is None:
            raise RuntimeError("call forward before backward: backward needs the cached input X")
        expected = (self.X.shape[0], self.n_out)
        if dZ.shape != expected:
            raise ValueError(
                f"Dense({self.n_in} -> {self.n_out}).backward expects dZ of shape {expected} "
                f"(the shape of Z); got shape {dZ.shape}"
            )
        # dL/dW = dL/dZ . dZ/dW: each W[j, k] touches Z[:, j] through X[:, k]
        np.matmul(dZ.T, self.X, out=self.dW)  # dW = dZ^T X, written straight into dW
        # dL/db = sum over the batch of dL/dZ (b is added to every row)
        np.add.reduce(dZ, axis=0, out=self.db)
        if not input_grad:
            return None
        # dL/dX = dL/dZ . dZ/dX = dZ W, passed to the layer below
        return dZ @ self.W

    def parameters(self) -> list[Parameter]:
        return [Parameter("W", self.W, self.dW), Parameter("b", self.b, self.db)]

    def __repr__(self) -> str:
        return f"Dense({self.n_in}, {self.n_out})"


class Activation(Layer):
    r"""Elementwise activation :math:`A = f(Z)`; backward :math:`dZ = dA \odot f'(Z)`.

    ``f'`` is the derivative at the pre-activation ``Z``. For every built-in activation it
    can be written with the output alone (:math:`\sigma'(Z) = A(1 - A)`,
    :math:`\tanh'(Z) = 1 - A^2`, :math:`\mathrm{relu}'(Z) = [A > 0]`), so the layer caches
    ``A`` and reads ``f'(Z)`` off it, as the chapters do by hand: the same number with no
    second exponential. Do not modify the array ``forward`` returns in place: it is the cache.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.f, self.f_grad = get_activation(name)
        self.f_grad_from_output = get_grad_from_output(name)
        self.Z: Array | None = None
        self.A: Array | None = None

    def forward(self, Z: ArrayLike) -> Array:
        self.Z = Z if type(Z) is np.ndarray else np.asarray(Z)
        self.A = self.f(self.Z)
        return self.A

    def backward(self, dA: Array) -> Array:
        if self.A is None:
            raise RuntimeError("call forward before backward: backward needs the cached A")
        if dA.shape != self.A.shape:
            raise ValueError(
                f"Activation({self.name!r}).backward expects dA of shape {self.A.shape}; "
                f"got shape {dA.shape}"
            )
        # dL/dZ = dL/dA * dA/dZ, elementwise: the activation derivative step, with
        # f'(Z) written in terms of the cached output A = f(Z)
        return dA * self.f_grad_from_output(self.A)

    def __repr__(self) -> str:
        return f"Activation({self.name!r})"
