r"""Activation functions :math:`f(z)` and their derivatives :math:`f'(z)`.

Every ``*_grad`` derivative takes the **pre-activation** :math:`z` (the same argument as
the function), never the activation :math:`a = f(z)`. A common tutorial bug writes
``sigmoid_grad(x) = x * (1 - x)``, which is only right when ``x`` is already the
*output* :math:`\sigma(z)`; here :math:`\sigma'(z) = \sigma(z)\,(1 - \sigma(z))`.

The layer :class:`bpkit.Activation` already holds the output :math:`a = f(z)` after its
forward pass, and for every activation here :math:`f'(z)` can be written with :math:`a`
alone: :math:`\sigma'(z) = a(1 - a)`, :math:`\tanh'(z) = 1 - a^2`, ReLU's is 1 where
:math:`a > 0`. :func:`get_grad_from_output` returns those forms, named ``*_from_output``
so that nobody passes them ``z`` (or passes ``a`` to the functions above).

All functions accept any float array (or a Python float) and never overflow:
``sigmoid(-1000.0)`` is ``0.0`` with no warning.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.floating]


def _float_array(z: ArrayLike) -> Array:
    if type(z) is np.ndarray and z.dtype.kind == "f":
        return z  # the common case, checked cheaply: already a float array
    z = np.asarray(z)
    return z if np.issubdtype(z.dtype, np.floating) else z.astype(np.float64)


def sigmoid(z: ArrayLike) -> Array:
    r"""Logistic sigmoid :math:`\sigma(z) = 1 / (1 + e^{-z})`, computed without overflow."""
    z = _float_array(z)
    # sigma(z) = 1 / (1 + e^-z) = exp(-log(1 + e^-z)); np.logaddexp(0, -z) computes
    # log(e^0 + e^-z) without ever forming a large e^-z, so nothing overflows, and a very
    # negative z gives exp(-large) = 0.0 with no warning.
    return np.exp(-np.logaddexp(0.0, -z))


def sigmoid_grad(z: ArrayLike) -> Array:
    r""":math:`\sigma'(z) = \sigma(z)\,(1 - \sigma(z))`; at most 1/4 (at z = 0).

    Computed as :math:`\sigma(z)\,\sigma(-z) = e / (1 + e)^2` with :math:`e = e^{-|z|}`
    (the derivative is symmetric in ``z``): one exponential, no overflow, accurate in
    both tails.
    """
    z = _float_array(z)
    e = np.exp(-np.abs(z))
    d = 1.0 + e
    return e / (d * d)


def tanh(z: ArrayLike) -> Array:
    r"""Hyperbolic tangent :math:`\tanh z`."""
    return np.tanh(_float_array(z))


def tanh_grad(z: ArrayLike) -> Array:
    r""":math:`\tanh'(z) = 1 - \tanh^2 z` (not :math:`\tanh z`); at most 1 (at z = 0)."""
    t = np.tanh(_float_array(z))
    return 1.0 - t * t


def relu(z: ArrayLike) -> Array:
    r""":math:`\mathrm{relu}(z) = \max(0, z)`."""
    return np.maximum(_float_array(z), 0.0)  # a Python 0.0 keeps z's float dtype


def relu_grad(z: ArrayLike) -> Array:
    r""":math:`\mathrm{relu}'(z) = 1` for :math:`z > 0`, else 0 (0 chosen at the kink)."""
    z = _float_array(z)
    return (z > 0).astype(z.dtype)


def leaky_relu(z: ArrayLike, slope: float = 0.01) -> Array:
    r""":math:`z` for :math:`z > 0`, else :math:`\text{slope}\cdot z`."""
    z = _float_array(z)
    return np.where(z > 0, z, slope * z).astype(z.dtype, copy=False)


def leaky_relu_grad(z: ArrayLike, slope: float = 0.01) -> Array:
    r"""1 for :math:`z > 0`, else ``slope``."""
    z = _float_array(z)
    return np.where(z > 0, 1.0, slope).astype(z.dtype, copy=False)


def identity(z: ArrayLike) -> Array:
    r"""The identity :math:`f(z) = z`, for a linear (regression) output."""
    return _float_array(z)


def identity_grad(z: ArrayLike) -> Array:
    r""":math:`f'(z) = 1`."""
    return np.ones_like(_float_array(z))


# f'(z) written with the output a = f(z): the same number, without recomputing f.
def sigmoid_grad_from_output(a: Array) -> Array:
    r""":math:`\sigma'(z) = a\,(1 - a)` where ``a`` is the **output** :math:`\sigma(z)`."""
    return a * (1.0 - a)


def tanh_grad_from_output(a: Array) -> Array:
    r""":math:`\tanh'(z) = 1 - a^2` where ``a`` is the **output** :math:`\tanh z`."""
    return 1.0 - a * a


def relu_grad_from_output(a: Array) -> Array:
    r""":math:`\mathrm{relu}'(z)`: 1 where the **output** ``a`` is positive (so :math:`z > 0`)."""
    return (a > 0).astype(a.dtype)


def leaky_relu_grad_from_output(a: Array, slope: float = 0.01) -> Array:
    r"""1 where the **output** ``a`` is positive, else ``slope`` (a positive slope keeps
    the sign of :math:`z`)."""
    return np.where(a > 0, 1.0, slope).astype(a.dtype, copy=False)


def identity_grad_from_output(a: Array) -> Array:
    r""":math:`f'(z) = 1`, one per entry of the output ``a``."""
    return np.ones_like(a)


ACTIVATIONS: dict[str, tuple[Callable[..., Array], Callable[..., Array]]] = {
    "sigmoid": (sigmoid, sigmoid_grad),
    "tanh": (tanh, tanh_grad),
    "relu": (relu, relu_grad),
    "leaky_relu": (leaky_relu, leaky_relu_grad),
    "identity": (identity, identity_grad),
}


GRADS_FROM_OUTPUT: dict[str, Callable[..., Array]] = {
    "sigmoid": sigmoid_grad_from_output,
    "tanh": tanh_grad_from_output,
    "relu": relu_grad_from_output,
    "leaky_relu": leaky_relu_grad_from_output,
    "identity": identity_grad_from_output,
}


def get_activation(name: str) -> tuple[Callable[..., Array], Callable[..., Array]]:
    """Return ``(f, f_grad)`` for an activation name such as ``"tanh"``."""
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        valid = ", ".join(repr(k) for k in ACTIVATIONS)
        raise ValueError(f"unknown activation {name!r}; choose one of {valid}") from None


def get_grad_from_output(name: str) -> Callable[..., Array]:
    """Return ``f'`` as a function of the output ``a = f(z)`` for an activation name."""
    get_activation(name)  # validates the name, in words
    return GRADS_FROM_OUTPUT[name]
