r"""Per-layer diagnostics for deep networks: where does the gradient vanish or explode?

* :func:`dense_layers`: the ``Dense`` layers of a model in forward order, looking inside
  ``Sequential`` and ``Residual`` blocks.
* :func:`layer_grad_norms`: :math:`\lVert \partial L/\partial W_\ell\rVert_F` for each of
  them, after a backward pass; layer 1 is nearest the input.
* :func:`layer_output_stds`: the standard deviation of each chosen layer's output on a
  batch, to watch the forward signal shrink or grow.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from bpkit.layers import Dense, Layer
from bpkit.losses import get_loss_and_grad
from bpkit.model import Sequential
from bpkit.residual import Residual


def dense_layers(model: Layer) -> list[Dense]:
    """Every ``Dense`` layer inside ``model``, in the order the forward pass meets them."""
    if isinstance(model, Dense):
        return [model]
    if isinstance(model, Sequential):
        return [d for layer in model.layers for d in dense_layers(layer)]
    if isinstance(model, Residual):
        return dense_layers(model.inner)
    return []


def layer_grad_norms(model: Layer) -> list[float]:
    r"""Frobenius norm :math:`\lVert dW_\ell\rVert_F` of each ``Dense`` layer's weight gradient.

    Call it after ``model.backward``; entry 0 is the layer nearest the input.
    """
    layers = dense_layers(model)
    if not layers:
        raise ValueError(f"{type(model).__name__} has no Dense layers to report on")
    return [float(np.linalg.norm(d.dW)) for d in layers]


def layer_output_stds(
    model: Sequential, X: ArrayLike, kinds: Sequence[type] = (Dense,)
) -> list[float]:
    r"""Forward ``X`` through ``model``'s layers; the std of each output of a layer in ``kinds``.

    With the default ``kinds=(Dense,)`` these are the pre-activations :math:`Z_\ell`.
    """
    if not isinstance(model, Sequential):
        raise TypeError(f"layer_output_stds walks a Sequential; got {type(model).__name__}")
    A = np.asarray(X)
    stds = []
    for layer in model.layers:
        A = layer.forward(A)
        if isinstance(layer, tuple(kinds)):
            stds.append(float(np.std(A)))
    if not stds:
        names = ", ".join(k.__name__ for k in kinds)
        raise ValueError(f"the model has no top-level layer of kind {names}")
    return stds


def layer_factor_norms(model: Sequential, X: ArrayLike, dout_fn) -> dict[str, np.ndarray]:
    r"""The two factors of every weight gradient, :math:`\partial L/\partial W^{(l)} = \Delta^{(l)\top} A^{(l-1)}`.

    Runs ``model.forward(X)``, then the backward pass layer by layer (as
    ``Sequential.backward`` does), starting from ``dout_fn(output)`` (e.g.
    ``lambda out: mse_grad(out, Y)``), and records, for each ``Dense`` layer (input side
    first), the Frobenius norms of its delta :math:`\Delta^{(l)}` (the gradient arriving at
    its output ``Z``), of its input :math:`A^{(l-1)}` and of its weight gradient. Since
    :math:`\lVert \Delta^\top A\rVert_F \le \lVert\Delta\rVert_F \lVert A\rVert_F`, the third
    is at most the product of the first two. Only a flat ``Sequential`` of layers is
    walked (no nested blocks).
    """
    if not isinstance(model, Sequential):
        raise TypeError(f"layer_factor_norms walks a Sequential; got {type(model).__name__}")
    nested = [
        type(layer).__name__ for layer in model.layers if isinstance(layer, Sequential | Residual)
    ]
    if nested:
        raise ValueError(f"layer_factor_norms walks a flat Sequential; this one nests {nested}")
    d = dout_fn(model.forward(X))
    delta, inputs, grads = [], [], []
    for layer in reversed(model.layers):
        if isinstance(layer, Dense):
            delta.append(float(np.linalg.norm(d)))  # Delta = dL/dZ arriving at this layer
            inputs.append(float(np.linalg.norm(layer.X)))  # A^(l-1), the layer's cached input
        d = layer.backward(d)  # fills dW, db; passes dL/d(input) down
        if isinstance(layer, Dense):
            grads.append(float(np.linalg.norm(layer.dW)))
    return {k: np.array(v[::-1]) for k, v in (("delta", delta), ("input", inputs), ("dW", grads))}


class Spread(NamedTuple):
    """A number measured over several random draws: the ``median`` (the typical value)
    and the smallest (``lo``) and largest (``hi``) draw. Unpacks like a tuple,
    ``median, lo, hi = spread``; a chapter quotes ``spread.median`` and the range."""

    median: np.ndarray
    lo: np.ndarray
    hi: np.ndarray


def median_and_range(values: ArrayLike, axis: int = 0) -> Spread:
    """The median of ``values`` along ``axis``, and the smallest and largest value.

    How the book reports a number measured over several random draws (seeds): the median
    as the typical value, the range to show how far one draw can be from it. Scalars come
    back as plain floats, so the prose can format them.
    """
    v = np.asarray(values, dtype=float)
    if v.size == 0 or v.shape[axis] == 0:
        raise ValueError("median_and_range needs at least one value")
    parts = (np.median(v, axis=axis), np.min(v, axis=axis), np.max(v, axis=axis))
    return Spread(*(float(x) if np.ndim(x) == 0 else x for x in parts))


# ---------------------------------------------------------------- curvature along training
def gradient_function(model: Layer, X: ArrayLike, Y: ArrayLike, loss: str = "mse"):
    r"""``theta -> dL/dtheta``: the model's gradient as a function of all its parameters.

    ``theta`` is one flat vector holding every parameter array of ``model.parameters()``
    in order (:func:`flat_parameters` gives the current one). Calling the function writes
    ``theta`` into the model, runs one forward and one backward pass on ``(X, Y)`` and
    returns the gradient, flattened the same way. Restore the model's parameters
    afterwards with :func:`set_flat_parameters` if it matters.
    """
    loss_and_grad = get_loss_and_grad(loss)
    params = model.parameters()
    X = np.asarray(X)

    def grad(theta: np.ndarray) -> np.ndarray:
        set_flat_parameters(model, theta)
        _, dout = loss_and_grad(model.forward(X), Y)
        model.backward(dout)
        return np.concatenate([p.grad.ravel() for p in params])

    return grad


def flat_parameters(model: Layer) -> np.ndarray:
    """Every parameter of ``model``, in ``model.parameters()`` order, as one new flat vector."""
    return np.concatenate([p.value.ravel() for p in model.parameters()])


def set_flat_parameters(model: Layer, theta: np.ndarray) -> None:
    """Write the flat vector ``theta`` back into the model's parameter arrays, in place."""
    params = model.parameters()
    sizes = [p.value.size for p in params]
    if np.size(theta) != sum(sizes):
        raise ValueError(
            f"theta has {np.size(theta)} entries but the model has {sum(sizes)} parameters"
        )
    for p, chunk in zip(params, np.split(np.asarray(theta), np.cumsum(sizes)[:-1]), strict=True):
        p.value[...] = chunk.reshape(p.value.shape)


def hessian_vector_product(
    grad_fn, theta: np.ndarray, v: np.ndarray, h: float = 1e-4
) -> np.ndarray:
    r""":math:`H v \approx \big(\nabla L(\theta + h v) - \nabla L(\theta - h v)\big) / 2h`.

    A central difference of the gradient along ``v``: the derivative of the gradient in
    the direction ``v``, which is :math:`Hv`, with an error of order :math:`h^2`. Two
    gradient evaluations, and the Hessian itself is never formed.
    """
    return (grad_fn(theta + h * v) - grad_fn(theta - h * v)) / (2 * h)


def hessian_by_differences(grad_fn, theta: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """The whole Hessian, one column per parameter (:func:`hessian_vector_product` with each
    unit vector), symmetrised. ``2P`` gradient evaluations for ``P`` parameters: for small
    models, to check :func:`top_hessian_eigenvalue`."""
    P = np.size(theta)
    H = np.empty((P, P))
    for j in range(P):
        e = np.zeros(P)
        e[j] = 1.0
        H[:, j] = hessian_vector_product(grad_fn, theta, e, h)
    return (H + H.T) / 2


def top_hessian_eigenvalue(
    grad_fn,
    theta: np.ndarray,
    v: np.ndarray | None = None,
    iters: int = 20,
    h: float = 1e-4,
    rng: np.random.Generator | None = None,
) -> tuple[float, np.ndarray]:
    r"""The Hessian eigenvalue of largest size at ``theta``, by power iteration.

    Repeats :math:`v \leftarrow Hv / \lVert Hv\rVert` (each :math:`Hv` from
    :func:`hessian_vector_product`) ``iters`` times and returns the Rayleigh quotient
    :math:`\lambda = v^\top H v` and the unit vector ``v``. Start from a previous ``v`` to
    follow the eigenvalue along training with a few iterations; otherwise from a random
    direction drawn with ``rng``. The eigenvalue found is the one of largest absolute
    value: near a minimum that is :math:`\lambda_\text{max}`.
    """
    if v is None:
        gen = rng if rng is not None else np.random.default_rng(0)
        v = gen.standard_normal(np.size(theta))
    v = v / np.linalg.norm(v)
    lam = 0.0
    for _ in range(iters):
        Hv = hessian_vector_product(grad_fn, theta, v, h)
        lam = float(v @ Hv)  # Rayleigh quotient of the current direction
        norm = np.linalg.norm(Hv)
        if norm == 0 or not np.isfinite(norm):
            break
        v = Hv / norm
    return lam, v
