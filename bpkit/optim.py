r"""Optimizers: each turns gradients into an update of the parameters, in place.

All share one interface: ``opt = SGD(model.parameters(), lr=0.1)``, then per step
``opt.zero_grad()`` (optional here, since bpkit layers overwrite their gradients),
the backward pass, and ``opt.step()``.

* SGD: :math:`\theta \leftarrow \theta - \eta\, g`
* Momentum: :math:`v \leftarrow \mu v + g`, :math:`\theta \leftarrow \theta - \eta v`;
  Nesterov uses the look-ahead gradient :math:`g + \mu v` in the update.
* Adagrad, RMSProp, Adam: one line of thought. Each coordinate gets its own step size,
  :math:`\eta / \sqrt{s}`, where :math:`s` measures how large that coordinate's gradients
  have been. Adagrad (Duchi, Hazan and Singer, 2011) lets :math:`s` be the *sum* of all past
  :math:`g^2`, so the steps only ever shrink; RMSProp (Tieleman and Hinton, 2012) makes
  :math:`s` a *moving average*, so it forgets old gradients; Adam (Kingma and Ba, 2015)
  adds a moving average of :math:`g` itself (momentum) and corrects both averages for
  starting at zero.
* Weight decay, two ways. ``weight_decay=`` :math:`\lambda` on any optimizer is L2
  regularisation: the loss gains :math:`\tfrac\lambda2\lVert\theta\rVert^2`, so the
  gradient gains :math:`\lambda\theta` *before* the optimizer sees it. :class:`AdamW`
  (Loshchilov and Hutter, 2019) decouples it: the decay :math:`\eta\lambda\theta` is
  added to Adam's step, outside the moving averages. For SGD the two are the same update;
  for Adam they are not, because Adam divides :math:`\lambda\theta` by :math:`\sqrt{\hat s}`.
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


def _check_decay(value: float) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float | np.integer | np.floating)
        or not np.isfinite(value)
        or value < 0
    ):
        raise ValueError(
            f"weight_decay must be a finite number >= 0 (0 turns it off); got {value!r}"
        )
    return float(value)


class Optimizer:
    r"""Base class: holds the parameters, the learning rate ``lr`` and ``weight_decay``.

    ``weight_decay`` :math:`\lambda \ge 0` is L2 regularisation: the loss the optimizer
    descends is :math:`L + \tfrac\lambda2 \lVert\theta\rVert^2`, whose gradient is
    :meth:`gradient`, :math:`g + \lambda\theta`.
    """

    def __init__(
        self, params: Iterable[Parameter], lr: float, *, weight_decay: float = 0.0
    ) -> None:
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
        self.weight_decay = _check_decay(weight_decay)

    def gradient(self, p: Parameter) -> np.ndarray:
        r"""The gradient the update uses: :math:`g + \lambda\theta` (just :math:`g` when
        :math:`\lambda = 0`).

        :math:`\lambda\theta` is the derivative of the penalty
        :math:`\tfrac\lambda2\lVert\theta\rVert^2` added to the loss.
        """
        if self.weight_decay == 0.0:
            return p.grad
        return p.grad + self.weight_decay * p.value

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad.fill(0.0)

    def step(self) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    r"""Plain gradient descent: :math:`\theta \leftarrow \theta - \eta\, \nabla_\theta L`.

    With ``weight_decay`` :math:`\lambda`:
    :math:`\theta \leftarrow \theta - \eta g - \eta\lambda\theta`, which is both L2
    regularisation and decoupled weight decay (they differ only for adaptive methods).
    """

    def step(self) -> None:
        lr = self.lr
        for p in self.params:
            value = p.value
            value -= lr * self.gradient(p)  # in place: the layer sees the new weights


class Momentum(Optimizer):
    r"""Gradient descent with momentum (heavy ball), optionally Nesterov.

    :math:`v \leftarrow \mu v + g`; then :math:`\theta \leftarrow \theta - \eta v`
    (classical) or :math:`\theta \leftarrow \theta - \eta (g + \mu v)` (Nesterov).
    With ``weight_decay`` :math:`\lambda`, :math:`g` is :math:`\nabla L + \lambda\theta`.
    """

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float,
        momentum: float = 0.9,
        nesterov: bool = False,
        *,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr, weight_decay=weight_decay)
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1); got {momentum}")
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)
        self.velocity = [np.zeros_like(p.value) for p in self.params]

    def step(self) -> None:
        mu = self.momentum
        for p, v in zip(self.params, self.velocity, strict=True):
            g = self.gradient(p)
            v *= mu
            v += g
            if self.nesterov:
                p.value[...] -= self.lr * (g + mu * v)
            else:
                p.value[...] -= self.lr * v


def _check_eps(value: float) -> float:
    if not isinstance(value, int | float | np.floating) or not np.isfinite(value) or value <= 0:
        raise ValueError(
            f"eps must be a positive finite number (it keeps g / (sqrt(s) + eps) finite "
            f"where s = 0); got {value!r}"
        )
    return float(value)


def _check_average(name: str, value: float) -> float:
    if not isinstance(value, int | float | np.floating) or not 0 <= value < 1:
        raise ValueError(
            f"{name} must be in [0, 1) (the weight a moving average keeps on its past); "
            f"got {value!r}"
        )
    return float(value)


class Adagrad(Optimizer):
    r"""Adagrad (Duchi, Hazan and Singer, 2011): a step size per coordinate.

    .. math::

        s \leftarrow s + g^2, \qquad \theta \leftarrow \theta - \eta\, g / (\sqrt{s} + \epsilon)

    elementwise, with :math:`s` starting at 0. A coordinate whose gradients have been
    large takes small steps and vice versa. But :math:`s` only grows, so the steps only
    shrink: with a constant gradient the step at step :math:`t` is :math:`\eta/\sqrt t`,
    and after a stretch of large gradients the steps stay small for good. RMSProp fixes
    that by averaging instead of summing.
    """

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 0.01,
        eps: float = 1e-8,
        *,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr, weight_decay=weight_decay)
        self.eps = _check_eps(eps)
        self.s = [np.zeros_like(p.value) for p in self.params]

    def step(self) -> None:
        for p, s in zip(self.params, self.s, strict=True):
            g = self.gradient(p)
            s += g * g  # the running sum of squared gradients
            p.value[...] -= self.lr * g / (np.sqrt(s) + self.eps)


class RMSProp(Optimizer):
    r"""RMSProp (Tieleman and Hinton, 2012): Adagrad with a moving average instead of a sum.

    .. math::

        s \leftarrow \rho\, s + (1 - \rho)\, g^2, \qquad
        \theta \leftarrow \theta - \eta\, g / (\sqrt{s} + \epsilon)

    elementwise, with :math:`s` starting at 0 and ``rho`` :math:`\rho \in [0, 1)`.
    :math:`s` weights the last :math:`1/(1-\rho)` or so squared gradients, so the step
    size recovers after large gradients; with a constant gradient the step tends to
    :math:`\eta` (in every coordinate, whatever the gradient's size). The first steps are
    too large, :math:`1/\sqrt{1-\rho}` times (3.2 for :math:`\rho = 0.9`), because
    :math:`s` starts at 0: Adam adds momentum and corrects that bias.
    """

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 1e-3,
        rho: float = 0.9,
        eps: float = 1e-8,
        *,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr, weight_decay=weight_decay)
        self.rho = _check_average("rho", rho)
        self.eps = _check_eps(eps)
        self.s = [np.zeros_like(p.value) for p in self.params]

    def step(self) -> None:
        rho = self.rho
        for p, s in zip(self.params, self.s, strict=True):
            g = self.gradient(p)
            s *= rho
            s += (1.0 - rho) * g * g  # moving average of squared gradients
            p.value[...] -= self.lr * g / (np.sqrt(s) + self.eps)


class Adam(Optimizer):
    r"""Adam (Kingma and Ba, 2015): RMSProp plus momentum, both averages bias-corrected.

    :math:`m \leftarrow \beta_1 m + (1-\beta_1) g`,
    :math:`s \leftarrow \beta_2 s + (1-\beta_2) g^2`,
    :math:`\theta \leftarrow \theta - \eta\, \hat m / (\sqrt{\hat s} + \epsilon)` with
    :math:`\hat m = m / (1 - \beta_1^t)`, :math:`\hat s = s / (1 - \beta_2^t)`.

    With ``weight_decay`` :math:`\lambda` (L2), :math:`g = \nabla L + \lambda\theta` enters
    both averages, so the decay is divided by :math:`\sqrt{\hat s}` like the rest of the
    gradient: weights with large gradients are decayed less. :class:`AdamW` avoids that.
    """

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 1e-3,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        *,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr, weight_decay=weight_decay)
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
            g = self.gradient(p)
            m *= b1
            m += (1.0 - b1) * g
            s *= b2
            s += (1.0 - b2) * g * g
            p.value[...] -= self.lr * (m / c1) / (np.sqrt(s / c2) + self.eps)


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov and Hutter, 2019).

    .. math::

        \theta \leftarrow \theta - \eta\,\big(\hat m / (\sqrt{\hat s} + \epsilon)
        + \lambda\theta\big)

    where :math:`\hat m, \hat s` are Adam's averages of the *loss* gradient alone: the
    decay :math:`\lambda\theta` never enters them, so the decay shrinks every weight by
    the same factor :math:`1 - \eta\lambda` per step, whatever its gradients. (With L2 in the loss,
    ``Adam(weight_decay=...)``, the decay would be divided by :math:`\sqrt{\hat s}`.)

    ``weight_decay`` :math:`\lambda` (default 0.01) multiplies the learning rate, as in
    PyTorch's ``AdamW``; the paper writes :math:`\eta_t(\alpha\,\hat m/(\ldots) +
    \lambda\theta)` with a schedule multiplier :math:`\eta_t` and step size :math:`\alpha`,
    so its :math:`\lambda` is ours times :math:`\alpha`.
    """

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 1e-3,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        *,
        weight_decay: float = 0.01,
    ) -> None:
        super().__init__(params, lr, beta1, beta2, eps, weight_decay=weight_decay)

    def gradient(self, p: Parameter) -> np.ndarray:
        """The loss gradient alone: decoupling means the decay stays out of Adam's averages."""
        return p.grad

    def step(self) -> None:
        shrink = 1.0 - self.lr * self.weight_decay
        if shrink <= 0:
            raise ValueError(
                f"lr * weight_decay must be below 1 (the fraction of each weight removed per "
                f"step); got lr={self.lr:g}, weight_decay={self.weight_decay:g}"
            )
        for p in self.params:
            p.value[...] *= shrink  # the decay: theta <- theta - lr * lambda * theta
        super().step()  # Adam's step, from the loss gradient (it does not depend on theta)
