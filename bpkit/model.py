r"""``Sequential``: layers applied in order, gradients passed back in reverse order.

The data path a reader follows::

    X -> Dense.forward -> Activation.forward -> ... -> loss
    loss_grad -> ... -> Activation.backward -> Dense.backward   (fills dW, db)
    optimizer.step()                                              (updates W, b)

Evaluation (prediction) uses the forward pass only; backpropagation is for training.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from bpkit.layers import Activation, Array, Dense, Layer, Parameter, as_generator


class Sequential(Layer):
    """A chain of layers: ``forward`` left to right, ``backward`` right to left."""

    def __init__(self, *layers: Layer) -> None:
        if len(layers) == 1 and isinstance(layers[0], list | tuple):
            layers = tuple(layers[0])
        for layer in layers:
            if not isinstance(layer, Layer):
                raise TypeError(f"Sequential takes bpkit layers; got {type(layer).__name__}")
        self.layers: list[Layer] = list(layers)

    def forward(self, X: ArrayLike) -> Array:
        A = X
        for layer in self.layers:
            A = layer.forward(A)
        return A

    def backward(self, dY: Array, input_grad: bool = True) -> Array | None:
        """Given dL/dY for the output, fill every parameter's gradient; return dL/dX.

        ``input_grad=False`` (the training step's choice) skips dL/dX when the first layer
        is a :class:`Dense`: no update needs the gradient with respect to the data, and it
        is the first layer's largest matrix multiply. Then ``None`` is returned.
        """
        if not self.layers:
            return dY
        first, *rest = self.layers
        grad = dY
        for layer in reversed(rest):
            grad = layer.backward(grad)
        # Only Dense's own backward knows input_grad (a subclass may override backward).
        if not input_grad and type(first).backward is Dense.backward:
            return first.backward(grad, input_grad=False)
        return first.backward(grad)

    def train(self, mode: bool = True) -> Sequential:
        """Switch every layer to training mode (``mode=False``: evaluation mode)."""
        super().train(mode)
        for layer in self.layers:
            layer.train(mode)
        return self

    def predict(self, X: ArrayLike) -> Array:
        """The network's output for ``X``: a forward pass, nothing else.

        It does not switch the mode: with ``BatchNorm`` layers, call ``model.eval()`` first.
        """
        return self.forward(X)

    def parameters(self) -> list[Parameter]:
        return [
            Parameter(f"{i}.{p.name}", p.value, p.grad)
            for i, layer in enumerate(self.layers)
            for p in layer.parameters()
        ]

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, i: int) -> Layer:
        return self.layers[i]

    def __repr__(self) -> str:
        inner = ",\n  ".join(repr(layer) for layer in self.layers)
        return f"Sequential(\n  {inner}\n)"


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
