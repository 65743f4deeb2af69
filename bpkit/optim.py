r"""Optimizers: each turns gradients into an update of the parameters, in place.

All share one interface: ``opt = SGD(model.parameters(), lr=0.1)``, then per step
``opt.zero_grad()`` (optional here, since bpkit layers overwrite their gradients),
the backward pass, and ``opt.step()``.

* SGD: :math:`\theta \leftarrow \theta - \eta\, g`
* Momentum: :math:`v \leftarrow \mu v + g`, :math:`\theta \leftarrow \theta - \eta v`;
  Nesterov uses the look-ahead gradient :math:`g + \mu v` in the update.
* Adam (Kingma and Ba, 2015): bias-corrected moving averages of :math:`g` and :math:`g^2`.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from bpkit.layers import Parameter


def _check_rate(name: str, value: float, upper: float | None = None) -> float:
    if not isinstance(value, int | float | np.floating) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number; got {value!r}")
    if value <= 0:
        raise ValueError(
            f"the {name} must be positive; got {value}. A zero rate never moves the "
            "parameters and a negative one climbs the loss instead of descending it."
        )
    if upper is not None and value >= upper:
        raise ValueError(f"{name} must be below {upper}; got {value}")
    return float(value)


class Optimizer:
    """Base class: holds the parameters and the learning rate ``lr``."""

    def __init__(self, params: Iterable[Parameter], lr: float) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError("the optimizer got no parameters to update")
        for p in self.params:
            if not isinstance(p, Parameter):
                raise TypeError(
                    "optimizers take model.parameters() (bpkit Parameter tuples); "
                    f"got {type(p).__name__}"
                )
        self.lr = _check_rate("learning rate", lr)

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad.fill(0.0)

    def step(self) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    r"""Plain gradient descent: :math:`\theta \leftarrow \theta - \eta\, \nabla_\theta L`."""

    def step(self) -> None:
        lr = self.lr
        for p in self.params:
            value = p.value
            value -= lr * p.grad  # in place: the layer sees the new weights


class Momentum(Optimizer):
    r"""Gradient descent with momentum (heavy ball), optionally Nesterov.

    :math:`v \leftarrow \mu v + g`; then :math:`\theta \leftarrow \theta - \eta v`
    (classical) or :math:`\theta \leftarrow \theta - \eta (g + \mu v)` (Nesterov).
    """

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float,
        momentum: float = 0.9,
        nesterov: bool = False,
    ) -> None:
        super().__init__(params, lr)
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1); got {momentum}")
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)
        self.velocity = [np.zeros_like(p.value) for p in self.params]

    def step(self) -> None:
        mu = self.momentum
        for p, v in zip(self.params, self.velocity, strict=True):
            v *= mu
            v += p.grad
            if self.nesterov:
                p.value[...] -= self.lr * (p.grad + mu * v)
            else:
                p.value[...] -= self.lr * v


class Adam(Optimizer):
    r"""Adam: :math:`m \leftarrow \beta_1 m + (1-\beta_1) g`,
    :math:`s \leftarrow \beta_2 s + (1-\beta_2) g^2`,
    :math:`\theta \leftarrow \theta - \eta\, \hat m / (\sqrt{\hat s} + \epsilon)` with
    :math:`\hat m = m / (1 - \beta_1^t)`, :math:`\hat s = s / (1 - \beta_2^t)`."""

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 1e-3,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
    ) -> None:
        super().__init__(params, lr)
        for name, beta in (("beta1", beta1), ("beta2", beta2)):
            if not 0 <= beta < 1:
                raise ValueError(f"{name} must be in [0, 1); got {beta}")
        self.beta1, self.beta2 = float(beta1), float(beta2)
        self.eps = _check_rate("eps", eps)
        self.t = 0
        self.m = [np.zeros_like(p.value) for p in self.params]
        self.s = [np.zeros_like(p.value) for p in self.params]

    def step(self) -> None:
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        c1, c2 = 1.0 - b1**self.t, 1.0 - b2**self.t  # bias corrections
        for p, m, s in zip(self.params, self.m, self.s, strict=True):
            m *= b1
            m += (1.0 - b1) * p.grad
            s *= b2
            s += (1.0 - b2) * p.grad * p.grad
            p.value[...] -= self.lr * (m / c1) / (np.sqrt(s / c2) + self.eps)
