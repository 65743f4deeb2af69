r"""Array layers: ``forward(X)`` caches what the backward pass needs; ``backward(dY)``
returns ``dX`` and stores the parameter gradients.

Conventions (the same in every chapter): a batch is a matrix with **one row per
example**. A dense layer with ``n_in`` inputs and ``n_out`` units has

* ``W`` of shape ``(n_out, n_in)`` (row ``j`` holds unit ``j``'s weights) and
* ``b`` of shape ``(n_out,)`` (one bias per unit),

so for ``X`` of shape ``(n, n_in)``: :math:`Z = X W^\top + b`, shape ``(n, n_out)``.

The contract of every layer (:class:`Layer`):

* ``forward(X)`` returns ``Y`` and caches what backward needs, for the **latest** call;
* ``backward(dY, *, input_grad=True)`` takes :math:`\partial L/\partial Y` of that
  forward pass, fills the parameters' gradients and returns :math:`\partial L/\partial X`
  (or ``None`` with ``input_grad=False``, when nothing below needs it);
* ``predict(X)`` returns ``Y`` and leaves the caches alone (evaluation, e.g. on
  validation data between a forward and its backward);
* ``parameters()`` lists the trainable arrays with their gradients.
"""

from __future__ import annotations

import functools
import inspect
import math
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from bpkit._buffers import MIN_SIZE, Buffers
from bpkit.activations import _float_array, lookup_activation
from bpkit.errors import ShapeError

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


def float_dtype(dtype: np.dtype | type, who: str) -> np.dtype:
    """``dtype`` if it is a floating type; refuse an integer one in words."""
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(
            f"{who} needs a floating dtype (float32 or float64); got {dtype}. Weights of "
            "an integer type round every small initial value to 0, and no gradient step "
            "smaller than 1 could move them."
        )
    return dtype


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
    dtype = float_dtype(dtype, "init_weights")
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

    A subclass written as ``backward(self, dY)``, before ``input_grad`` was part of the
    contract, still works: it is adapted when the class is defined (it computes ``dX``
    every time, and ``input_grad=False`` drops it).

    ``training`` is the mode: ``True`` while fitting, ``False`` for predictions. Only a
    layer that computes differently in the two (``BatchNorm``) reads it.
    """

    training = True

    def train(self, mode: bool = True) -> Layer:
        """Switch to training mode (``mode=False``: evaluation mode); returns the layer.

        The mode passes on to the layers inside (:meth:`children`), so ``model.eval()``
        switches a whole network.
        """
        if not isinstance(mode, bool):
            raise TypeError(
                f"mode must be True (training) or False (evaluation); got {mode!r}. "
                "To fit a model, call bpkit.train(model, X, y, ...)"
            )
        self.training = mode
        for child in self.children():
            child.train(mode)
        return self

    def eval(self) -> Layer:
        """Switch to evaluation mode, for predictions: ``train(False)``."""
        return self.train(False)

    def forward(self, X: ArrayLike) -> Array:
        raise NotImplementedError

    def backward(self, dY: Array, *, input_grad: bool = True) -> Array | None:
        raise NotImplementedError

    def predict(self, X: ArrayLike) -> Array:
        """``Y`` for ``X`` without touching the caches a pending backward needs (layers
        with caches override this; the default runs ``forward``)."""
        return self.forward(X)

    def parameters(self) -> list[Parameter]:
        return []

    def children(self) -> list[Layer]:
        """The layers inside this one (a ``Sequential``'s, a ``Residual``'s inner)."""
        return []

    def buffers(self) -> list[Array]:
        """Arrays of state that training changes but that are not parameters (the running
        averages of ``BatchNorm``); a container returns its children's."""
        return [b for child in self.children() for b in child.buffers()]

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad.fill(0.0)

    def __call__(self, X: ArrayLike) -> Array:
        return self.forward(X)

    def _buffer(self, name: str, shape: tuple[int, ...], dtype: np.dtype) -> Array | None:
        """An array to write a large result into, reused from step to step while nothing
        outside the layer holds it (see ``bpkit._buffers``); ``None`` for a small one."""
        if math.prod(shape) < MIN_SIZE:
            return None  # numpy's out=None: a new array, as cheap as a reused one
        try:
            buffers = self._buffers
        except AttributeError:
            buffers = self._buffers = Buffers()
        return buffers.get(name, shape, dtype)

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        backward = cls.__dict__.get("backward")
        if backward is not None:
            params = inspect.signature(backward).parameters.values()
            if not any(p.name == "input_grad" or p.kind is p.VAR_KEYWORD for p in params):
                cls.backward = _with_input_grad(backward)


def _with_input_grad(backward):
    @functools.wraps(backward)
    def adapted(self, dY, *, input_grad: bool = True):
        dX = backward(self, dY)
        return dX if input_grad else None

    return adapted


def _parameter_attribute(name: str, doc: str) -> property:
    """A layer attribute holding a parameter array. Assigning to it copies the new values
    into that array, which the optimizer holds: ``layer.W = W_new`` then trains ``W_new``'s
    values instead of leaving the optimizer updating an array the layer dropped."""
    private = "_" + name

    def get(self) -> Array:
        return self.__dict__[private]

    def set(self, value: ArrayLike) -> None:
        current = self.__dict__.get(private)
        if current is None:
            self.__dict__[private] = value
            return
        value = np.asarray(value)
        if value.shape != current.shape:
            raise ShapeError(
                f"{name} has shape {current.shape}; cannot assign an array of shape "
                f"{value.shape} (the layer's size is fixed)"
            )
        np.copyto(current, value, casting="same_kind")

    return property(get, set, doc=doc)


def _input(X: ArrayLike, dtype: np.dtype, n_in: int, who: Layer) -> Array:
    """``X`` as a 2-D array of ``dtype`` with ``n_in`` columns and at least one row."""
    if type(X) is not np.ndarray or X.dtype != dtype:
        X = np.asarray(X)
        if X.dtype.kind not in "biuf":
            raise TypeError(f"{who!r} takes real numbers; got an array of dtype {X.dtype}")
        X = X.astype(dtype)
    if X.ndim != 2 or X.shape[1] != n_in:
        raise ShapeError(f"{who!r} expects X of shape (batch, {n_in}); got shape {X.shape}")
    if X.shape[0] == 0:
        raise ValueError("the batch is empty: X has no rows")
    return X


def _gradient_shape_error(who: str, expected: tuple, got: tuple) -> ShapeError:
    return ShapeError(
        f"{who}.backward expects a gradient of shape {expected}, the shape of the output "
        f"of the latest forward pass; got shape {got}. If a forward pass on other data "
        "(say, validation) ran after the one this gradient belongs to, backward would use "
        "its caches: evaluate with predict(X), which leaves them alone."
    )


class Dense(Layer):
    r"""Fully connected layer :math:`Z = X W^\top + b`.

    Shapes: ``X`` ``(n, n_in)``, ``W`` ``(n_out, n_in)``, ``b`` ``(n_out,)``,
    ``Z`` ``(n, n_out)``.

    Backward, given :math:`dZ = \partial L/\partial Z` of shape ``(n, n_out)``:

    * :math:`dW = dZ^\top X`, shape ``(n_out, n_in)``
    * :math:`db = \sum_i dZ_{i,:}`, shape ``(n_out,)``
    * :math:`dX = dZ\, W`, shape ``(n, n_in)``
    """

    W = _parameter_attribute("W", "weights, shape (n_out, n_in)")
    b = _parameter_attribute("b", "biases, shape (n_out,)")

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
            if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
                raise ValueError(f"{name} must be a positive whole number; got {n!r}")
        self.n_in, self.n_out = int(n_in), int(n_out)
        self.W = init_weights(self.n_in, self.n_out, init, rng, scale, float_dtype(dtype, "Dense"))
        self.b = np.zeros(self.n_out, dtype=self.W.dtype)
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)
        self.X: Array | None = None

    def forward(self, X: ArrayLike) -> Array:
        W = self.W
        X = _input(X, W.dtype, self.n_in, self)
        self.X = X  # cached: dW needs the layer's input
        Z = np.matmul(X, W.T, out=self._buffer("Z", (X.shape[0], self.n_out), W.dtype))
        Z += self.b  # b is added to every row (in place: no second (n, n_out) array)
        return Z

    def predict(self, X: ArrayLike) -> Array:
        return _input(X, self.W.dtype, self.n_in, self) @ self.W.T + self.b

    def backward(self, dZ: Array, *, input_grad: bool = True) -> Array | None:
        """Fill ``dW`` and ``db``; return ``dX`` (or ``None`` with ``input_grad=False``,
        which skips that matrix multiply when nothing below needs ``dX``)."""
        X = self.X
        if X is None:
            raise RuntimeError("call forward before backward: backward needs the cached input X")
        if type(dZ) is not np.ndarray:
            dZ = np.asarray(dZ)
        if dZ.shape != (X.shape[0], self.n_out):
            raise _gradient_shape_error(repr(self), (X.shape[0], self.n_out), dZ.shape)
        # dL/dW = dL/dZ . dZ/dW: each W[j, k] touches Z[:, j] through X[:, k]
        np.matmul(dZ.T, X, out=self.dW)  # dW = dZ^T X, written straight into dW
        # dL/db = sum over the batch of dL/dZ (b is added to every row)
        np.add.reduce(dZ, axis=0, out=self.db)
        if not input_grad:
            return None
        # dL/dX = dL/dZ . dZ/dX = dZ W, passed to the layer below
        return np.matmul(dZ, self.W, out=self._buffer("dX", X.shape, self.W.dtype))

    def parameters(self) -> list[Parameter]:
        return [Parameter("W", self.W, self.dW), Parameter("b", self.b, self.db)]

    def __repr__(self) -> str:
        return f"Dense({self.n_in}, {self.n_out})"


class Activation(Layer):
    r"""Elementwise activation :math:`A = f(Z)`; backward :math:`dZ = dA \odot f'(Z)`.

    ``f'(Z)`` is computed by the forward pass and kept for backward. Where it can be
    written with the output alone (:math:`\sigma'(Z) = A(1 - A)`,
    :math:`\tanh'(Z) = 1 - A^2`, :math:`\mathrm{relu}'(Z) = [A > 0]`) it is read off
    ``A``, as the chapters do by hand: no second exponential. Otherwise (SiLU) it is
    computed from ``Z``. Either way it is an array of its own, so a caller who edits the
    returned ``A`` in place does not change the gradient.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.fn = lookup_activation(name)
        self.fprime: Array | None = None  # f'(Z) of the latest forward pass

    def forward(self, Z: ArrayLike) -> Array:
        Z = _float_array(Z)
        fn = self.fn
        A = fn.f(Z, out=self._buffer("A", Z.shape, Z.dtype))
        self.fprime = None  # let go of the last pass's array, so that it can be reused
        out = self._buffer("f'", Z.shape, Z.dtype)
        if fn.grad_from_output is not None:
            self.fprime = fn.grad_from_output(A, out=out)  # f'(Z) read off A = f(Z)
        else:
            self.fprime = fn.grad(Z, out=out)
        return A

    def predict(self, Z: ArrayLike) -> Array:
        return self.fn.f(_float_array(Z))

    def backward(self, dA: Array, *, input_grad: bool = True) -> Array | None:
        fprime = self.fprime
        if fprime is None:
            raise RuntimeError("call forward before backward: backward needs f'(Z)")
        if type(dA) is not np.ndarray:
            dA = np.asarray(dA)
        if dA.shape != fprime.shape:
            raise _gradient_shape_error(repr(self), fprime.shape, dA.shape)
        if not input_grad:
            return None
        # dL/dZ = dL/dA * dA/dZ, elementwise: the activation derivative step
        return np.multiply(dA, fprime, out=self._buffer("dZ", dA.shape, dA.dtype))

    def __repr__(self) -> str:
        return f"Activation({self.name!r})"
