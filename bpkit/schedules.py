r"""Learning-rate schedules: the learning rate as a function of the epoch number.

A schedule is a callable ``schedule(epoch) -> lr`` with ``epoch = 0, 1, 2, ...`` (the
epoch about to run). Two classic ones:

* :class:`StepDecay`: :math:`\eta_t = \eta_0\, \gamma^{\lfloor t / k \rfloor}`, the rate
  multiplied by ``factor`` :math:`\gamma` every ``every`` :math:`k` epochs;
* :class:`ExponentialDecay`: :math:`\eta_t = \eta_0\, \gamma^{t}`, a little smaller
  every epoch (equivalently :math:`\eta_0 e^{-\lambda t}` with :math:`\lambda = -\ln\gamma`).

And the one many modern networks train with, :class:`WarmupCosine`: a linear warm-up to
:math:`\eta_0`, then half a cosine wave down to :math:`\eta_{\min}`.

:func:`schedule_callback` plugs a schedule into :func:`bpkit.train`: after each epoch it
sets ``optimizer.lr`` to the rate for the next one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from bpkit.optim import Optimizer, check_learning_rate, check_positive


def _positive(name: str, value: Any) -> float:
    return check_positive(name, value)  # the one check every hyperparameter goes through


def _factor(name: str, value: Any) -> float:
    value = _positive(name, value)
    if value >= 1:
        raise ValueError(
            f"{name} must lie strictly between 0 and 1 so that the rate decays; got {value}"
        )
    return value


def _epoch(epoch: Any) -> int:
    if isinstance(epoch, bool) or not isinstance(epoch, int | np.integer) or epoch < 0:
        raise ValueError(f"epoch must be a whole number 0, 1, 2, ...; got {epoch!r}")
    return int(epoch)


@dataclass(frozen=True)
class StepDecay:
    r"""Step decay :math:`\eta_t = \eta_0\, \gamma^{\lfloor t / k \rfloor}`.

    ``lr0`` :math:`\eta_0 > 0`, ``factor`` :math:`\gamma \in (0, 1)`, ``every``
    :math:`k \ge 1` epochs. Epochs ``0 .. k-1`` use :math:`\eta_0`, epochs ``k .. 2k-1``
    use :math:`\gamma\eta_0`, and so on.
    """

    lr0: float
    factor: float = 0.5
    every: int = 10

    def __post_init__(self) -> None:
        _positive("lr0", self.lr0)
        _factor("factor", self.factor)
        every = self.every
        if isinstance(every, bool) or not isinstance(every, int | np.integer) or every < 1:
            raise ValueError(f"every must be a whole number of epochs >= 1; got {self.every!r}")

    def __call__(self, epoch: int) -> float:
        return float(self.lr0 * self.factor ** (_epoch(epoch) // self.every))


@dataclass(frozen=True)
class ExponentialDecay:
    r"""Exponential decay :math:`\eta_t = \eta_0\, \gamma^{t}`.

    ``lr0`` :math:`\eta_0 > 0`, ``factor`` :math:`\gamma \in (0, 1)`: the rate shrinks by
    the same factor every epoch and halves every :math:`\ln 2 / (-\ln \gamma)` epochs.
    """

    lr0: float
    factor: float = 0.95

    def __post_init__(self) -> None:
        _positive("lr0", self.lr0)
        _factor("factor", self.factor)

    def __call__(self, epoch: int) -> float:
        return float(self.lr0 * self.factor ** _epoch(epoch))


@dataclass(frozen=True)
class WarmupCosine:
    r"""Linear warm-up for ``warmup`` :math:`w` epochs, then cosine decay until ``total`` :math:`T`.

    .. math::

        \eta_t = \begin{cases}
            \eta_0\, \dfrac{t + 1}{w + 1} & 0 \le t \le w \\[1ex]
            \eta_{\min} + \tfrac12 (\eta_0 - \eta_{\min})
            \big(1 + \cos\big(\pi\, \tfrac{t - w}{T - w}\big)\big) & w \le t \le T \\[1ex]
            \eta_{\min} & t \ge T
        \end{cases}

    with :math:`\eta_{\min} = \rho\,\eta_0` (``min_factor`` :math:`\rho \in (0, 1)`).
    The rate climbs in equal steps to its peak :math:`\eta_0` at epoch :math:`w` (both
    pieces agree there), falls slowly, then fast, then slowly again, and reaches
    :math:`\eta_{\min}` at epoch :math:`T`. Warm-up (Goyal et al., 2017) keeps the first
    steps small while the weights are far from anything sensible and Adam's averages rest
    on a few gradients; the cosine (Loshchilov and Hutter, 2017) stays near :math:`\eta_0`
    for a while, then lands gently at :math:`\eta_{\min}`. ``warmup=0`` is the cosine
    alone.
    :math:`\eta_{\min}` is positive because a zero rate never moves the parameters
    (and :func:`schedule_callback` refuses one).
    """

    lr0: float
    warmup: int
    total: int
    min_factor: float = 0.01

    def __post_init__(self) -> None:
        _positive("lr0", self.lr0)
        _factor("min_factor", self.min_factor)
        for name, value, low in (("warmup", self.warmup, 0), ("total", self.total, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be a whole number of epochs >= {low}; got {value!r}")
        if self.total <= self.warmup:
            raise ValueError(
                f"total must be larger than warmup (the cosine runs from epoch warmup to "
                f"epoch total); got warmup={self.warmup}, total={self.total}"
            )

    def __call__(self, epoch: int) -> float:
        t, w, T = _epoch(epoch), self.warmup, self.total
        lr_min = self.min_factor * self.lr0
        if t <= w:  # warm-up: equal steps up to lr0 at epoch w
            return float(self.lr0 * (t + 1) / (w + 1))
        if t >= T:
            return float(lr_min)
        progress = (t - w) / (T - w)  # 0 at the peak, 1 at the end
        return float(lr_min + 0.5 * (self.lr0 - lr_min) * (1.0 + np.cos(np.pi * progress)))


def schedule_callback(
    schedule: Callable[[int], float], optimizer: Optimizer
) -> Callable[[int, Any], None]:
    """A :func:`bpkit.train` callback that applies ``schedule`` to ``optimizer``.

    It sets ``optimizer.lr = schedule(0)`` now and ``schedule(epoch + 1)`` after each
    finished ``epoch``, so epoch ``t`` always runs with ``schedule(t)``.
    """
    if not callable(schedule):
        raise TypeError(f"schedule must be callable as schedule(epoch); got {schedule!r}")
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be a bpkit Optimizer; got {type(optimizer).__name__}")
    optimizer.lr = check_learning_rate(schedule(0), "schedule(0)")

    def callback(epoch: int, history: Any) -> None:
        optimizer.lr = check_learning_rate(schedule(epoch + 1), f"schedule({epoch + 1})")

    return callback
