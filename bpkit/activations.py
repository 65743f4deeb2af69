r"""Activation functions :math:`f(z)` and their derivatives :math:`f'(z)`, in one registry.

Every ``*_grad`` derivative takes the **pre-activation** :math:`z` (the same argument as
the function), never the activation :math:`a = f(z)`. A common tutorial bug writes
``sigmoid_grad(x) = x * (1 - x)``, which is only right when ``x`` is already the
*output* :math:`\sigma(z)`; here :math:`\sigma'(z) = \sigma(z)\,(1 - \sigma(z))`.

For most activations :math:`f'(z)` can also be written with the output :math:`a` alone:
:math:`\sigma'(z) = a(1 - a)`, :math:`\tanh'(z) = 1 - a^2`, ReLU's is 1 where
:math:`a > 0`. Those forms are named ``*_grad_from_output`` so that nobody passes them
``z`` (or passes ``a`` to the functions above). Where no such form exists (SiLU,
:math:`z\sigma(z)`, takes the same value at two different ``z``), the layer
:class:`bpkit.Activation` uses ``f'(z)`` itself.

``ACTIVATIONS`` maps each name to an :class:`ActivationFunction`; :func:`register_activation`
adds one, and the test suite then gradient-checks it with no other file touched.

All functions accept any float array (or a Python float) and never overflow:
``sigmoid(-1000.0)`` is ``0.0`` with no warning. They take an optional ``out=`` array to
write into, as numpy's functions do (the layer reuses its arrays from step to step).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.floating]


def _float_array(z: ArrayLike) -> Array:
    if type(z) is np.ndarray and z.dtype.kind == "f":
        return z  # the common case, checked cheaply: already a float array
    z = np.asarray(z)
    if z.dtype.kind not in "biuf":
        raise TypeError(f"an activation takes real numbers; got an array of dtype {z.dtype}")
    return z if z.dtype.kind == "f" else z.astype(np.float64)


def _start(z: ArrayLike, out: Array | None) -> tuple[Array, Array]:
    """``z`` as a float array and the array to write the result into."""
    if type(z) is not np.ndarray or z.dtype.kind != "f":
        z = _float_array(z)
    return z, np.empty_like(z) if out is None else out


def _done(out: Array) -> Array:
    return out if out.ndim else out[()]  # a number in, a (numpy) number out


def sigmoid(z: ArrayLike, out: Array | None = None) -> Array:
    r"""Logistic sigmoid :math:`\sigma(z) = 1 / (1 + e^{-z})`, computed without overflow."""
    z, out = _start(z, out)
    # sigma(z) = exp(-log(1 + e^-z)); np.logaddexp(0, -z) = log(e^0 + e^-z) never forms a
    # large e^-z, so nothing overflows and a very negative z gives exp(-large) = 0.0.
    np.negative(z, out=out)
    np.logaddexp(0.0, out, out=out)
    np.negative(out, out=out)
    return _done(np.exp(out, out=out))


def sigmoid_grad(z: ArrayLike, out: Array | None = None) -> Array:
    r""":math:`\sigma'(z) = \sigma(z)\,(1 - \sigma(z))`; at most 1/4 (at z = 0).

    Computed as :math:`\sigma(z)\,\sigma(-z) = e / (1 + e)^2` with :math:`e = e^{-|z|}`
    (the derivative is symmetric in ``z``): one exponential, no overflow, accurate in
    both tails.
    """
    z, out = _start(z, out)
    e = np.exp(-np.abs(z))
    np.add(e, 1.0, out=out)
    np.square(out, out=out)
    return _done(np.divide(e, out, out=out))


def tanh(z: ArrayLike, out: Array | None = None) -> Array:
    r"""Hyperbolic tangent :math:`\tanh z`."""
    z, out = _start(z, out)
    return _done(np.tanh(z, out=out))


def tanh_grad(z: ArrayLike, out: Array | None = None) -> Array:
    r""":math:`\tanh'(z) = 1 - \tanh^2 z` (not :math:`\tanh z`); at most 1 (at z = 0)."""
    z, out = _start(z, out)
    np.tanh(z, out=out)
    np.square(out, out=out)
    return _done(np.subtract(1.0, out, out=out))


def relu(z: ArrayLike, out: Array | None = None) -> Array:
    r""":math:`\mathrm{relu}(z) = \max(0, z)`."""
    z, out = _start(z, out)
    return _done(np.maximum(z, 0.0, out=out))  # a Python 0.0 keeps z's float dtype


def relu_grad(z: ArrayLike, out: Array | None = None) -> Array:
    r""":math:`\mathrm{relu}'(z) = 1` for :math:`z > 0`, else 0 (0 chosen at the kink)."""
    z, out = _start(z, out)
    return _done(np.greater(z, 0.0, out=out))  # True/False written as 1.0/0.0


def _check_slope(slope: float) -> None:
    if not 0 <= slope < 1:
        raise ValueError(f"the leaky ReLU slope must lie in [0, 1); got {slope!r}")


def leaky_relu(z: ArrayLike, slope: float = 0.01, out: Array | None = None) -> Array:
    r""":math:`z` for :math:`z > 0`, else :math:`\text{slope}\cdot z`
    (:math:`= \max(z, \text{slope}\cdot z)` for a slope in [0, 1))."""
    _check_slope(slope)
    z, out = _start(z, out)
    np.multiply(z, slope, out=out)
    return _done(np.maximum(z, out, out=out))


def leaky_relu_grad(z: ArrayLike, slope: float = 0.01, out: Array | None = None) -> Array:
    r"""1 for :math:`z > 0`, else ``slope``."""
    _check_slope(slope)
    z, out = _start(z, out)
    np.greater(z, 0.0, out=out)  # 1 or 0
    np.multiply(out, 1.0 - slope, out=out)
    return _done(np.add(out, slope, out=out))  # 1 or slope


def identity(z: ArrayLike, out: Array | None = None) -> Array:
    r"""The identity :math:`f(z) = z`, for a linear (regression) output."""
    z, out = _start(z, out)
    np.copyto(out, z)
    return _done(out)


def identity_grad(z: ArrayLike, out: Array | None = None) -> Array:
    r""":math:`f'(z) = 1`."""
    z, out = _start(z, out)
    out.fill(1.0)
    return _done(out)


def silu(z: ArrayLike, out: Array | None = None) -> Array:
    r"""SiLU (swish), :math:`z\,\sigma(z)`: smooth, and not monotonic (its minimum is near
    :math:`z = -1.28`), so :math:`f'` cannot be read off the output."""
    z, out = _start(z, out)
    sigmoid(z, out=out)
    return _done(np.multiply(out, z, out=out))


def silu_grad(z: ArrayLike, out: Array | None = None) -> Array:
    r""":math:`\frac{d}{dz}\, z\sigma(z) = \sigma(z) + z\,\sigma(z)(1 - \sigma(z))`."""
    z, out = _start(z, out)
    s = sigmoid(z)
    np.subtract(1.0, s, out=out)
    out *= z
    out += 1.0
    return _done(np.multiply(out, s, out=out))  # sigma (1 + z (1 - sigma))


# f'(z) written with the output a = f(z): the same number, without recomputing f.
def sigmoid_grad_from_output(a: Array, out: Array | None = None) -> Array:
    r""":math:`\sigma'(z) = a\,(1 - a)` where ``a`` is the **output** :math:`\sigma(z)`."""
    a, out = _start(a, out)
    np.subtract(1.0, a, out=out)
    return _done(np.multiply(out, a, out=out))


def tanh_grad_from_output(a: Array, out: Array | None = None) -> Array:
    r""":math:`\tanh'(z) = 1 - a^2` where ``a`` is the **output** :math:`\tanh z`."""
    a, out = _start(a, out)
    np.square(a, out=out)
    return _done(np.subtract(1.0, out, out=out))


def relu_grad_from_output(a: Array, out: Array | None = None) -> Array:
    r""":math:`\mathrm{relu}'(z)`: 1 where the **output** ``a`` is positive (so :math:`z > 0`)."""
    a, out = _start(a, out)
    return _done(np.greater(a, 0.0, out=out))


def leaky_relu_grad_from_output(a: Array, slope: float = 0.01, out: Array | None = None) -> Array:
    r"""1 where the **output** ``a`` is positive, else ``slope`` (a positive slope keeps
    the sign of :math:`z`)."""
    return leaky_relu_grad(a, slope, out=out)  # the same test, a > 0 exactly when z > 0


def identity_grad_from_output(a: Array, out: Array | None = None) -> Array:
    r""":math:`f'(z) = 1`, one per entry of the output ``a``."""
    return identity_grad(a, out=out)


# ---------------------------------------------------------------- the registry
@dataclass(frozen=True)
class ActivationFunction:
    """One registered activation: ``f``, ``grad`` (:math:`f'(z)` from ``z``) and, when it
    exists, ``grad_from_output`` (:math:`f'(z)` from ``a = f(z)``). ``kink`` is where
    ``f`` is not differentiable (ReLU's 0), so that gradient checks stay away from it."""

    name: str
    f: Callable[..., Array]
    grad: Callable[..., Array]
    grad_from_output: Callable[..., Array] | None = None
    kink: float | None = None


ACTIVATIONS: dict[str, ActivationFunction] = {}


def register_activation(
    name: str,
    f: Callable[..., Array],
    grad: Callable[..., Array],
    grad_from_output: Callable[..., Array] | None = None,
    *,
    kink: float | None = None,
    replace: bool = False,
) -> ActivationFunction:
    """Add an activation under ``name``: ``Activation(name)``, ``mlp(..., activation=name)``
    and the tests (a gradient check of ``grad`` and ``grad_from_output``) pick it up.

    Each function takes an array and returns an array of the same shape; one that does not
    take numpy's ``out=`` argument is wrapped to accept it.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"an activation's name is a non-empty string; got {name!r}")
    if name in ACTIVATIONS and not replace:
        raise ValueError(f"an activation named {name!r} is registered already (replace=True)")
    fns = [
        _accepting_out(fn, name) if fn is not None else None for fn in (f, grad, grad_from_output)
    ]
    entry = ActivationFunction(name, fns[0], fns[1], fns[2], kink)
    ACTIVATIONS[name] = entry
    return entry


def _accepting_out(fn: Callable[..., Array], name: str) -> Callable[..., Array]:
    if not callable(fn):
        raise TypeError(f"activation {name!r}: {fn!r} is not a function")
    if "out" in inspect.signature(fn).parameters:
        return fn

    def with_out(z: ArrayLike, out: Array | None = None) -> Array:
        result = fn(z)
        if out is None:
            return result
        np.copyto(out, result)
        return out

    return with_out


register_activation("sigmoid", sigmoid, sigmoid_grad, sigmoid_grad_from_output)
register_activation("tanh", tanh, tanh_grad, tanh_grad_from_output)
register_activation("relu", relu, relu_grad, relu_grad_from_output, kink=0.0)
register_activation(
    "leaky_relu", leaky_relu, leaky_relu_grad, leaky_relu_grad_from_output, kink=0.0
)
register_activation("identity", identity, identity_grad, identity_grad_from_output)
register_activation("silu", silu, silu_grad)  # no from-output form: the layer uses f'(z)


def lookup_activation(name: str) -> ActivationFunction:
    """The registered :class:`ActivationFunction` called ``name``, e.g. ``"tanh"``."""
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        valid = ", ".join(repr(k) for k in ACTIVATIONS)
        raise ValueError(f"unknown activation {name!r}; choose one of {valid}") from None


def get_activation(name: str) -> tuple[Callable[..., Array], Callable[..., Array]]:
    """Return ``(f, f_grad)`` for an activation name such as ``"tanh"``."""
    entry = lookup_activation(name)
    return entry.f, entry.grad


def get_grad_from_output(name: str) -> Callable[..., Array]:
    """Return ``f'`` as a function of the output ``a = f(z)`` for an activation name."""
    entry = lookup_activation(name)  # validates the name, in words
    if entry.grad_from_output is None:
        raise ValueError(
            f"{name}'s derivative cannot be written from its output alone; use "
            f"get_activation({name!r})[1], which takes the pre-activation z"
        )
    return entry.grad_from_output
