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

``OPTIMIZERS`` maps a name to each class (:func:`register_optimizer`); the tests check
every registered optimizer against its textbook update rule. The hyperparameter checks
(:func:`check_learning_rate`, :func:`check_positive`, :func:`check_fraction`,
:func:`check_flag`) are the ones every part of the course uses; each error names the
hyperparameter that is wrong.
"""

from __future__ import annotations

import math
import numbers
import weakref
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from bpkit.layers import Layer, Parameter


# ---------------------------------------------------------------- hyperparameter checks
def _real(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number; got {type(value).__name__} {value!r}")
    return float(value)


def check_positive(name: str, value: Any) -> float:
    """``value`` as a float if it is a finite real number above 0 (numpy scalars too);
    otherwise a ``TypeError`` (not a number) or ``ValueError`` naming ``name``."""
    x = _real(name, value)
    if not (math.isfinite(x) and x > 0):
        raise ValueError(f"{name} must be a positive number; got {value!r}")
    return x


def check_learning_rate(lr: Any, name: str = "the learning rate") -> float:
    """The learning rate :math:`\\eta > 0` as a float, or an error that says why not."""
    x = _real(name, lr)
    if not (math.isfinite(x) and x > 0):
        raise ValueError(
            f"{name} must be a positive number; got {lr!r}. Gradient descent steps against "
            "the gradient by lr times its length: a zero rate never moves the parameters "
            "and a negative one climbs the loss instead of descending it."
        )
    return x


def check_fraction(name: str, value: Any) -> float:
    """``value`` in :math:`[0, 1)` as a float (a momentum, a decay rate such as beta1)."""
    x = _real(name, value)
    if not 0 <= x < 1:
        raise ValueError(f"{name} must be in [0, 1); got {value!r}")
    return x


def check_flag(name: str, value: Any) -> bool:
    """``True`` or ``False`` (numpy's too); anything else, even a string, is refused."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    raise TypeError(f"{name} must be True or False; got {type(value).__name__} {value!r}")


def check_nonnegative(name: str, value: Any) -> float:
    """``value`` as a float if it is a finite real number >= 0 (a weight decay)."""
    x = _real(name, value)
    if not (math.isfinite(x) and x >= 0):
        raise ValueError(f"{name} must be a finite number >= 0 (0 turns it off); got {value!r}")
    return x


def _check_rate(name: str, value: Any, upper: float | None = None) -> float:
    """The former private check, kept for code written against it."""
    x = check_learning_rate(value) if name == "learning rate" else check_positive(name, value)
    if upper is not None and x >= upper:
        raise ValueError(f"{name} must be below {upper}; got {value!r}")
    return x


# ---------------------------------------------------------------- the optimizers
class Optimizer:
    r"""Base class: holds the parameters, the learning rate ``lr`` (checked when set) and
    ``weight_decay``.

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
        if len({id(p.value) for p in self.params}) < len(self.params):
            raise ValueError(
                "the same array is listed twice in the parameters: it would be updated twice"
            )
        self.lr = lr
        self.weight_decay = check_nonnegative("weight_decay", weight_decay)
        self._checked: weakref.ref | None = None  # the model check_model last accepted

    def gradient(self, p: Parameter) -> np.ndarray:
        r"""The gradient the update uses: :math:`g + \lambda\theta` (just :math:`g` when
        :math:`\lambda = 0`).

        :math:`\lambda\theta` is the derivative of the penalty
        :math:`\tfrac\lambda2\lVert\theta\rVert^2` added to the loss.
        """
        if self.weight_decay == 0.0:
            return p.grad
        return p.grad + self.weight_decay * p.value

    @property
    def lr(self) -> float:
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = check_learning_rate(value)

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad.fill(0.0)

    def step(self) -> None:
        raise NotImplementedError

    def check_model(self, model: Layer) -> None:
        """Refuse, in words, to train ``model`` with this optimizer unless it holds exactly
        ``model``'s parameter arrays. Otherwise the steps would update arrays the model
        does not use, and nothing would train. Checked fully once per model (the training
        step calls this every step); a weight assigned later (``layer.W = ...``) is copied
        into the same array, so it stays checked."""
        if self._checked is not None and self._checked() is model:
            return
        mine = {(id(p.value), id(p.grad)) for p in self.params}
        theirs = {(id(p.value), id(p.grad)) for p in model.parameters()}
        if mine != theirs:
            raise ValueError(
                f"this optimizer holds {len(mine - theirs)} of its {len(mine)} parameter "
                "arrays apart from the model's, so its steps would not train the model. It "
                "was built on another model, or on a copy (a model and an optimizer pickled "
                "or deep-copied separately are two copies), or the model's layers changed "
                "since. Build it on this model: e.g. SGD(model.parameters(), lr=...)."
            )
        self._checked = weakref.ref(model)

    def _state(self, p: Parameter) -> np.ndarray:
        """A zero array for per-parameter state (velocity, moments): the parameter's shape,
        at least float32, so that float16 weights do not overflow their squared gradients."""
        return np.zeros(p.value.shape, np.promote_types(p.value.dtype, np.float32))

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_checked"] = None  # a weak reference is not copied: check again
        return state


OPTIMIZERS: dict[str, type[Optimizer]] = {}


def register_optimizer(name: str) -> Callable[[type[Optimizer]], type[Optimizer]]:
    """Class decorator: ``@register_optimizer("sgd")`` adds the class to ``OPTIMIZERS``."""

    def add(cls: type[Optimizer]) -> type[Optimizer]:
        if not (isinstance(cls, type) and issubclass(cls, Optimizer)):
            raise TypeError(f"register_optimizer takes an Optimizer subclass; got {cls!r}")
        if name in OPTIMIZERS and OPTIMIZERS[name] is not cls:
            raise ValueError(f"an optimizer named {name!r} is registered already")
        OPTIMIZERS[name] = cls
        return cls

    return add


@register_optimizer("sgd")
class SGD(Optimizer):
    r"""Plain gradient descent: :math:`\theta \leftarrow \theta - \eta\, \nabla_\theta L`.

    With ``weight_decay`` :math:`\lambda`:
    :math:`\theta \leftarrow \theta - \eta g - \eta\lambda\theta`, which is both L2
    regularisation and decoupled weight decay (they differ only for adaptive methods).
    """

    def __init__(
        self, params: Iterable[Parameter], lr: float, *, weight_decay: float = 0.0
    ) -> None:
        super().__init__(params, lr, weight_decay=weight_decay)
        self.scaled = [np.empty_like(p.grad) for p in self.params]  # room for lr * g

    def step(self) -> None:
        lr = self.lr
        for p, scaled in zip(self.params, self.scaled, strict=True):
            np.multiply(self.gradient(p), lr, out=scaled)  # lr * g, into an array kept for it
            value = p.value
            value -= scaled  # in place: the layer sees the new weights


@register_optimizer("momentum")
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
        *,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr, weight_decay=weight_decay)
        self.momentum = check_fraction("momentum", momentum)
        self.nesterov = check_flag("nesterov", nesterov)
        self.velocity = [self._state(p) for p in self.params]

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


@register_optimizer("adagrad")
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
        self.eps = check_positive("eps", eps)
        self.s = [self._state(p) for p in self.params]

    def step(self) -> None:
        for p, s in zip(self.params, self.s, strict=True):
            g = self.gradient(p).astype(s.dtype, copy=False)
            s += g * g  # the running sum of squared gradients
            p.value[...] -= self.lr * g / (np.sqrt(s) + self.eps)


@register_optimizer("rmsprop")
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
        self.rho = check_fraction("rho", rho)
        self.eps = check_positive("eps", eps)
        self.s = [self._state(p) for p in self.params]

    def step(self) -> None:
        rho = self.rho
        for p, s in zip(self.params, self.s, strict=True):
            g = self.gradient(p).astype(s.dtype, copy=False)
            s *= rho
            s += (1.0 - rho) * g * g  # moving average of squared gradients
            p.value[...] -= self.lr * g / (np.sqrt(s) + self.eps)


@register_optimizer("adam")
class Adam(Optimizer):
    r"""Adam (Kingma and Ba, 2015): RMSProp plus momentum, both averages bias-corrected.

    :math:`m \leftarrow \beta_1 m + (1-\beta_1) g`,
    :math:`s \leftarrow \beta_2 s + (1-\beta_2) g^2`,
    :math:`\theta \leftarrow \theta - \eta\, \hat m / (\sqrt{\hat s} + \epsilon)` with
    :math:`\hat m = m / (1 - \beta_1^t)`, :math:`\hat s = s / (1 - \beta_2^t)`.

    With ``weight_decay`` :math:`\lambda` (L2), :math:`g = \nabla L + \lambda\theta` enters
    both averages, so the decay is divided by :math:`\sqrt{\hat s}` like the rest of the
    gradient: weights with large gradients are decayed less. :class:`AdamW` avoids that.

    ``m`` and ``s`` are kept in at least float32: in float16, :math:`g^2` overflows for
    :math:`|g| > 256` and the default :math:`\epsilon = 10^{-8}` rounds to 0.
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
        self.beta1 = check_fraction("beta1", beta1)
        self.beta2 = check_fraction("beta2", beta2)
        self.eps = check_positive("eps", eps)
        self.t = 0
        self.m = [self._state(p) for p in self.params]
        self.s = [self._state(p) for p in self.params]

    def step(self) -> None:
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        c1, c2 = 1.0 - b1**self.t, 1.0 - b2**self.t  # bias corrections
        for p, m, s in zip(self.params, self.m, self.s, strict=True):
            g = self.gradient(p).astype(m.dtype, copy=False)
            m *= b1
            m += (1.0 - b1) * g
            s *= b2
            s += (1.0 - b2) * g * g
            p.value[...] -= self.lr * (m / c1) / (np.sqrt(s / c2) + self.eps)


@register_optimizer("adamw")
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
