r"""Checkers for the exercises of the chapter on parameter updates.

Each ``check_*`` runs the learner's function on a few cases, compares with bpkit's own
answer (the optimizers of :mod:`bpkit.optim`, the schedules of :mod:`bpkit.schedules`),
and when the answer is wrong, compares it with the usual mistakes so that the message
can name the one that was made.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from bpcourse.exercises.feedback import (
    Feedback,
    call_answer,
    compare_arrays,
    failed,
    not_attempted,
    passed,
)
from bpkit.layers import Parameter
from bpkit.optim import Adam, Momentum
from bpkit.schedules import StepDecay

Mistake = tuple[str, Any]


def _as_tuple(got: Any, n: int) -> tuple[np.ndarray, ...] | None:
    """The learner's result as ``n`` float arrays, or ``None`` if it has the wrong form."""
    if n == 1:
        got = (got,)
    if not isinstance(got, tuple | list) or len(got) != n:
        return None
    try:
        return tuple(np.asarray(g, dtype=np.float64) for g in got)
    except (TypeError, ValueError):
        return None


def _close(got: Sequence[np.ndarray], want: Sequence[Any]) -> bool:
    return all(
        np.shape(g) == np.shape(w) and np.allclose(g, w, rtol=1e-6, atol=1e-9)
        for g, w in zip(got, want, strict=True)
    )


def _judge(
    exercise: str,
    fn: Callable[..., Any],
    cases: Sequence[tuple[tuple[Any, ...], tuple[Any, ...], list[Mistake]]],
    names: Sequence[str],
) -> Feedback:
    """Run ``fn`` on each case ``(args, expected, mistakes)`` and explain the first failure."""
    for args, expected, mistakes in cases:
        copies = tuple(
            np.array(a, dtype=np.float64) if isinstance(a, np.ndarray) else a for a in args
        )
        try:
            ok, raw = call_answer(fn, *copies)
        except Exception as exc:  # the learner's code raised: say so in words
            return failed(exercise, f"your function raised {type(exc).__name__}: {exc}")
        if not ok:
            return not_attempted(exercise)
        got = _as_tuple(raw, len(names))
        if got is None:
            shape = " and ".join(names)
            return failed(
                exercise,
                f"return {shape}"
                + (" as a tuple" if len(names) > 1 else "")
                + f"; got {type(raw).__name__}",
            )
        if _close(got, expected):
            continue
        for message, wrong in mistakes:
            with np.errstate(all="ignore"):
                if _close(got, wrong):
                    return failed(exercise, message)
        for name, g, w in zip(names, got, expected, strict=True):
            verdict = compare_arrays(exercise, g, w, f"your {name}")
            if not verdict.passed:
                return verdict
    return passed(exercise)


# ---------------------------------------------------------------- momentum
def reference_momentum_step(
    theta: np.ndarray, v: np.ndarray, grad: np.ndarray, lr: float, mu: float, nesterov: bool
) -> tuple[np.ndarray, np.ndarray]:
    """One step of :class:`bpkit.Momentum` from the state ``(theta, v)``: the answer."""
    p = Parameter("theta", np.array(theta, dtype=np.float64), np.array(grad, dtype=np.float64))
    opt = Momentum([p], lr=lr, momentum=mu, nesterov=nesterov)
    opt.velocity[0][...] = v
    opt.step()
    return p.value, opt.velocity[0]


def check_momentum_step(fn: Callable[..., Any]) -> Feedback:
    r"""``fn(theta, v, grad, lr, mu, nesterov) -> (theta_new, v_new)`` with
    :math:`v \leftarrow \mu v + g` and :math:`\theta \leftarrow \theta - \eta v` (classical)
    or :math:`\theta \leftarrow \theta - \eta (g + \mu v)` (Nesterov)."""
    ex = "ex-upd-momentum"
    theta = np.array([1.0, -2.0, 0.5])
    v = np.array([0.3, -0.1, 0.2])
    grad = np.array([0.5, 1.5, -1.0])
    cases = []
    for nesterov in (False, True):
        lr, mu = 0.1, 0.9
        th_ok, v_ok = reference_momentum_step(theta, v, grad, lr, mu, nesterov)
        mistakes: list[Mistake] = [
            (
                "your update has the wrong sign: theta must move against the velocity, "
                "theta - lr * (...), to go downhill",
                (2 * theta - th_ok, v_ok),
            ),
            (
                "your theta ignores the velocity: that is plain SGD, theta - lr * grad",
                (theta - lr * grad, v_ok),
            ),
            (
                "your velocity forgets the past: v_new should be mu * v + grad, not grad alone",
                (theta - lr * grad, grad),
            ),
            (
                "you used the other common convention, v <- mu*v - lr*grad; in bpkit "
                "(and this exercise) v accumulates gradients, v <- mu*v + grad, and "
                "theta <- theta - lr*v",
                (theta + (mu * v - lr * grad), mu * v - lr * grad),
            ),
        ]
        if nesterov:
            mistakes += [
                (
                    "with nesterov=True the step is theta - lr * (grad + mu * v_new); yours "
                    "is the classical step theta - lr * v_new",
                    (theta - lr * v_ok, v_ok),
                ),
            ]
        else:
            mistakes.append(
                (
                    "with nesterov=False the step is the classical theta - lr * v_new; yours "
                    "is the Nesterov step",
                    (theta - lr * (grad + mu * v_ok), v_ok),
                )
            )
        cases.append(((theta, v, grad, lr, mu, nesterov), (th_ok, v_ok), mistakes))
    return _judge(ex, fn, cases, ("theta_new", "v_new"))


# ---------------------------------------------------------------- Adam
def reference_adam_step(
    theta: np.ndarray,
    m: np.ndarray,
    s: np.ndarray,
    grad: np.ndarray,
    t: int,
    lr: float,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Step number ``t`` (1, 2, ...) of :class:`bpkit.Adam` from ``(theta, m, s)``: the answer."""
    p = Parameter("theta", np.array(theta, dtype=np.float64), np.array(grad, dtype=np.float64))
    opt = Adam([p], lr=lr, beta1=beta1, beta2=beta2, eps=eps)
    opt.m[0][...], opt.s[0][...], opt.t = m, s, t - 1
    opt.step()
    return p.value, opt.m[0], opt.s[0]


def check_adam_step(fn: Callable[..., Any]) -> Feedback:
    r"""``fn(theta, m, s, grad, t, lr, beta1, beta2, eps) -> (theta_new, m_new, s_new)``,
    one Adam step number ``t`` (counting from 1), exactly as :class:`bpkit.Adam`."""
    ex = "ex-upd-adam"
    theta = np.array([0.5, -1.0, 2.0])
    grad = np.array([0.2, -3.0, 0.01])
    cases = []
    for t, m, s in (
        (1, np.zeros(3), np.zeros(3)),
        (3, np.array([0.05, -0.4, 0.0]), np.array([1e-3, 2e-2, 1e-6])),
    ):
        lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
        args = (theta, m, s, grad, t, lr, b1, b2, eps)
        th_ok, m_ok, s_ok = reference_adam_step(*args)
        m_raw = b1 * m + (1 - b1) * grad
        s_raw = b2 * s + (1 - b2) * grad**2
        mistakes: list[Mistake] = [
            (
                "the bias correction is missing: divide m by (1 - beta1**t) and s by "
                "(1 - beta2**t) before the step; without it the early steps are the wrong size",
                (theta - lr * m_raw / (np.sqrt(s_raw) + eps), m_raw, s_raw),
            ),
            (
                "the square root is missing: the step divides by sqrt(s_hat) + eps, the "
                "root-mean-square of the gradient, not by s_hat",
                (theta - lr * (m_raw / (1 - b1**t)) / (s_raw / (1 - b2**t) + eps), m_raw, s_raw),
            ),
            (
                "the step count is off by one: t counts from 1 (the first step uses "
                "1 - beta1**1), so use t as given",
                (
                    theta
                    - lr
                    * (m_raw / (1 - b1 ** (t + 1)))
                    / (np.sqrt(s_raw / (1 - b2 ** (t + 1))) + eps),
                    m_raw,
                    s_raw,
                ),
            ),
            (
                "your update has the wrong sign: theta must move against m_hat, "
                "theta - lr * m_hat / (sqrt(s_hat) + eps)",
                (2 * theta - th_ok, m_ok, s_ok),
            ),
            (
                "s must average the squared gradient, grad**2 (elementwise), not the gradient",
                (
                    theta
                    - lr
                    * (m_raw / (1 - b1**t))
                    / (np.sqrt(np.abs((b2 * s + (1 - b2) * grad) / (1 - b2**t))) + eps),
                    m_raw,
                    b2 * s + (1 - b2) * grad,
                ),
            ),
        ]
        cases.append((args, (th_ok, m_ok, s_ok), mistakes))
    return _judge(ex, fn, cases, ("theta_new", "m_new", "s_new"))


# ---------------------------------------------------------------- step decay
def check_step_decay(fn: Callable[..., Any]) -> Feedback:
    r"""``fn(epoch, lr0, factor, every) -> lr`` with
    :math:`\eta_t = \eta_0 \gamma^{\lfloor t/k \rfloor}`, as :class:`bpkit.schedules.StepDecay`."""
    ex = "ex-upd-step-decay"
    lr0, factor, every = 0.5, 0.3, 4
    ref = StepDecay(lr0, factor, every)
    cases = []
    for epoch in (0, 6, 3, 7, 9, 12):  # this order tells the mistakes apart
        mistakes: list[Mistake] = [
            (
                "off by one: epoch 0 is the first epoch and runs at lr0; the first drop "
                "happens at epoch `every`, so use epoch // every, not (epoch + 1) // every",
                (lr0 * factor ** ((epoch + 1) // every),),
            ),
            (
                "this decays a little every epoch (factor ** (epoch / every)): that is "
                "exponential decay. Step decay holds the rate constant for `every` epochs: "
                "use the whole-number division epoch // every",
                (lr0 * factor ** (epoch / every),),
            ),
            (
                "the decay multiplies: lr0 * factor ** (epoch // every), not "
                "lr0 * factor * (epoch // every)",
                (lr0 * factor * (epoch // every),),
            ),
            (
                "round(epoch / every) drops the rate half-way through a stage; step decay "
                "uses floor division, epoch // every",
                (lr0 * factor ** round(epoch / every),),
            ),
        ]
        cases.append(((epoch, lr0, factor, every), (ref(epoch),), mistakes))
    return _judge(ex, fn, cases, ("learning rate",))


# ---------------------------------------------------------------- update ratio
def reference_update_ratio(value: np.ndarray, grad: np.ndarray, lr: float) -> float:
    r""":math:`\lVert \eta\, g \rVert / \lVert \theta \rVert` (Frobenius norms)."""
    return float(lr * np.linalg.norm(grad) / np.linalg.norm(value))


def check_update_ratio(fn: Callable[..., Any]) -> Feedback:
    r"""``fn(value, grad, lr) -> float``: :math:`\lVert \eta g\rVert / \lVert\theta\rVert`."""
    ex = "ex-upd-ratio"
    rng = np.random.default_rng(5)
    W = rng.standard_normal((4, 3))
    dW = 0.3 * rng.standard_normal((4, 3))
    cases = []
    for lr in (0.01, 0.5):
        r = reference_update_ratio(W, dW, lr)
        nW, ndW = np.linalg.norm(W), np.linalg.norm(dW)
        mistakes: list[Mistake] = [
            (
                "the learning rate is missing: the update is lr * grad, so the ratio is "
                "lr * ||grad|| / ||value||",
                (ndW / nW,),
            ),
            ("the ratio is upside down: update size over parameter size", (nW / (lr * ndW),)),
            (
                "use the norms themselves, not their squares: "
                "np.linalg.norm(lr * grad) / np.linalg.norm(value)",
                ((lr * ndW) ** 2 / nW**2,),
            ),
            (
                "the norm is over all entries (np.linalg.norm of the whole array), not the "
                "largest entry",
                (lr * np.max(np.abs(dW)) / np.max(np.abs(W)),),
            ),
        ]
        cases.append(((W, dW, lr), (r,), mistakes))
    return _judge(ex, fn, cases, ("ratio",))
