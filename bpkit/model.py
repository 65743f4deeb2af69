r"""``Sequential``: layers applied in order, gradients passed back in reverse order.

The data path a reader follows::

    X -> Dense.forward -> Activation.forward -> ... -> loss
    loss_grad -> ... -> Activation.backward -> Dense.backward   (fills dW, db)
    optimizer.step()                                              (updates W, b)

``backward`` belongs to the latest ``forward``. Evaluation (``predict``) runs the forward
computation without caching anything, so it may run between a training forward pass and
its backward pass; a gradient whose shape does not match the latest forward pass is
refused.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from bpkit.layers import (
    Activation,
    Array,
    Dense,
    Layer,
    Parameter,
    _gradient_shape_error,
    as_generator,
)


class Sequential(Layer):
    """A chain of layers: ``forward`` left to right, ``backward`` right to left.

    Each layer object may appear once: a layer caches the input of its latest forward
    pass for backward, so a second use would overwrite the first one's cache.
    """

    def __init__(self, *layers: Layer) -> None:
        if len(layers) == 1 and isinstance(layers[0], list | tuple):
            layers = tuple(layers[0])
        for layer in layers:
            if not isinstance(layer, Layer):
                raise TypeError(f"Sequential takes bpkit layers; got {type(layer).__name__}")
        self.layers: list[Layer] = list(layers)
        _refuse_shared_layers(self)
        self.out_shape: tuple[int, ...] | None = None  # of the latest forward pass

    def forward(self, X: ArrayLike) -> Array:
        A = X
        for layer in self.layers:
            A = layer.forward(A)
        self.out_shape = A.shape if type(A) is np.ndarray else np.shape(A)
        return A

    def backward(self, dY: Array, *, input_grad: bool = True) -> Array | None:
        """Given dL/dY for the output of the latest forward pass, fill every parameter's
        gradient; return dL/dX.

        ``input_grad=False`` (the training step's choice) skips dL/dX: no update needs the
        gradient with respect to the data, and for a first ``Dense`` layer it is the
        largest matrix multiply. Then ``None`` is returned.
        """
        if self.out_shape is None:
            raise RuntimeError("call forward before backward: backward needs its caches")
        shape = dY.shape if type(dY) is np.ndarray else np.shape(dY)
        if shape != self.out_shape:
            raise _gradient_shape_error("Sequential", self.out_shape, shape)
        if not self.layers:
            return dY if input_grad else None
        grad = dY
        for layer in reversed(self.layers[1:]):
            grad = layer.backward(grad)
        return self.layers[0].backward(grad, input_grad=input_grad)

    def predict(self, X: ArrayLike) -> Array:
        """The network's output for ``X``: a forward pass that keeps no caches, so it may
        run between a training forward pass and its backward pass. A layer that computes
        differently while training (``BatchNorm``) predicts with its evaluation form."""
        A = X
        for layer in self.layers:
            A = layer.predict(A)
        return A

    def parameters(self) -> list[Parameter]:
        return [
            Parameter(f"{i}.{p.name}", p.value, p.grad)
            for i, layer in enumerate(self.layers)
            for p in layer.parameters()
        ]

    def children(self) -> list[Layer]:
        return list(self.layers)

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, i: int) -> Layer:
        return self.layers[i]

    def __repr__(self) -> str:
        inner = ",\n  ".join(repr(layer) for layer in self.layers)
        return f"Sequential(\n  {inner}\n)"


def _refuse_shared_layers(model: Layer) -> None:
    """Refuse a layer object that appears twice anywhere inside ``model``, in words."""
    seen: dict[int, str] = {}
    stack = [(model, "")]
    while stack:
        layer, where = stack.pop()
        for i, child in enumerate(layer.children()):
            path = f"{where}{i}"
            if id(child) in seen:
                raise ValueError(
                    f"the same {child!r} object is used twice in this model (positions "
                    f"{seen[id(child)]} and {path}). A layer keeps the input of its latest "
                    "forward pass for backward, so its second use would overwrite the "
                    "first one's cache and the gradients would be wrong (and its weights "
                    "would be listed twice). Make a separate layer for each position."
                )
            seen[id(child)] = path
            stack.append((child, path + "."))


def mlp(
    sizes: Sequence[int],
    activation: str = "tanh",
    output_activation: str = "identity",
    init: str | None = None,
    rng: np.random.Generator | int | None = None,
    scale: float | None = None,
    dtype: np.dtype | type = np.float64,
) -> Sequential:
    """A multilayer perceptron, e.g. ``mlp([3, 2, 1], "sigmoid", "sigmoid", rng=0)``.

    ``init`` defaults to ``"he"`` for ReLU-family hidden layers and ``"xavier"`` otherwise.
    ``output_activation="identity"`` leaves the output as raw scores (logits) or a
    regression value; pair logits with a ``*_with_logits`` or softmax loss.
    """
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(f"sizes needs at least an input and an output size; got {sizes}")
    if init is None:
        init = "he" if activation in ("relu", "leaky_relu") else "xavier"
    gen = as_generator(rng, "mlp") if init != "zero" else None
    layers: list[Layer] = []
    for k, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        layers.append(Dense(n_in, n_out, init=init, rng=gen, scale=scale, dtype=dtype))
        last = k == len(sizes) - 2
        name = output_activation if last else activation
        if name != "identity":
            layers.append(Activation(name))
    return Sequential(*layers)
