r"""Checkers for the exercises of the chapter on parameter updates.

Each exercise is a :class:`~bpcourse.exercises.feedback.Check` (``MOMENTUM``, ``RMSPROP``,
``ADAM``, ``ADAMW``, ``STEP_DECAY``, ``WARMUP_COSINE``, ``UPDATE_RATIO``) whose right answer
is bpkit's own (the optimizers of :mod:`bpkit.optim`, the schedules of
:mod:`bpkit.schedules`). The named mistakes: the velocity in its moving-average form or with
the wrong sign, Nesterov's step confused with the classical one, RMSProp's average written
as Adagrad's sum or with its weights swapped, Adam without (or with half) its bias
correction, its step counter starting at 0, swapped betas, bias-corrected moments returned
as the state, AdamW's decay put into the gradient (L2) or not scaled by the learning rate,
step decay one period early, a warm-up that starts at 0 or a cosine that ends at 0 or
measures its progress from epoch 0, an update ratio against the updated weights or in the
spectral norm.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from bpcourse.exercises.feedback import Check, Feedback, Mistake
from bpkit.layers import Parameter
from bpkit.optim import Adam, AdamW, Momentum, RMSProp
from bpkit.schedules import StepDecay, WarmupCosine


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


def _momentum(velocity: Callable[..., np.ndarray], step: str = "flag") -> Callable[..., Any]:
    """A momentum step built from a velocity rule and a step rule ("flag": as asked,
    "classical" or "nesterov" whatever the flag)."""

    def answer(theta, v, grad, lr, mu, nesterov):
        v_new = velocity(v, grad, mu, lr)
        kind = ("nesterov" if nesterov else "classical") if step == "flag" else step
        if kind == "classical":
            return theta - lr * v_new, v_new
        return theta - lr * (grad + mu * v_new), v_new

    return answer


def _accumulate(v, g, mu, lr):
    return mu * v + g


_THETA = np.array([1.0, -2.0, 0.5])
_V = np.array([0.3, -0.1, 0.2])
_GRAD = np.array([0.5, 1.5, -1.0])

MOMENTUM = Check(
    "ex-upd-momentum",
    reference_momentum_step,
    tuple((_THETA, _V, _GRAD, 0.1, 0.9, nesterov) for nesterov in (False, True)),
    (
        Mistake(
            "your update has the wrong sign: theta must move against the velocity, "
            "theta - lr * (...), to go downhill",
            lambda th, v, g, lr, mu, n: (
                2 * th - reference_momentum_step(th, v, g, lr, mu, n)[0],
                reference_momentum_step(th, v, g, lr, mu, n)[1],
            ),
            "update-wrong-sign",
        ),
        Mistake(
            "your velocity has the wrong sign: v_new = mu * v + grad accumulates the "
            "gradient; with mu * v - grad and theta - lr * v_new the step goes uphill",
            _momentum(lambda v, g, mu, lr: mu * v - g),
            "velocity-wrong-sign",
        ),
        Mistake(
            "your theta ignores the velocity: that is plain SGD, theta - lr * grad",
            lambda th, v, g, lr, mu, n: (th - lr * g, mu * v + g),
            "plain-sgd",
        ),
        Mistake(
            "your velocity forgets the past: v_new should be mu * v + grad, not grad alone",
            lambda th, v, g, lr, mu, n: (th - lr * g, g),
            "velocity-forgets",
        ),
        Mistake(
            "you used the other common convention, v <- mu*v - lr*grad; in bpkit "
            "(and this exercise) v accumulates gradients, v <- mu*v + grad, and "
            "theta <- theta - lr*v",
            lambda th, v, g, lr, mu, n: (th + (mu * v - lr * g), mu * v - lr * g),
            "other-convention",
        ),
        Mistake(
            "your velocity is an exponential moving average, mu * v + (1 - mu) * grad "
            "(Adam's first moment); heavy-ball momentum adds the whole gradient: "
            "v_new = mu * v + grad",
            _momentum(lambda v, g, mu, lr: mu * v + (1 - mu) * g),
            "ema-velocity",
        ),
        Mistake(
            "your step uses the old velocity: update v first, v_new = mu * v + grad, then "
            "step with it, theta - lr * v_new",
            lambda th, v, g, lr, mu, n: (th - lr * v, mu * v + g),
            "step-with-old-velocity",
        ),
        Mistake(
            "with nesterov=True the step is theta - lr * (grad + mu * v_new); yours "
            "is the classical step theta - lr * v_new",
            _momentum(_accumulate, "classical"),
            "ignores-nesterov",
        ),
        Mistake(
            "with nesterov=False the step is the classical theta - lr * v_new; yours "
            "is the Nesterov step",
            _momentum(_accumulate, "nesterov"),
            "always-nesterov",
        ),
    ),
    "your step",
    parts=("theta_new", "v_new"),
    show=lambda th, v, g, lr, mu, nesterov: f"lr = {lr}, mu = {mu}, nesterov = {nesterov}",
)


def check_momentum_step(fn: Callable[..., Any]) -> Feedback:
    r"""``fn(theta, v, grad, lr, mu, nesterov) -> (theta_new, v_new)`` with
    :math:`v \leftarrow \mu v + g` and :math:`\theta \leftarrow \theta - \eta v` (classical)
    or :math:`\theta \leftarrow \theta - \eta (g + \mu v)` (Nesterov)."""
    return MOMENTUM.run(fn)


# ---------------------------------------------------------------- RMSProp
def reference_rmsprop_step(
    theta: np.ndarray, s: np.ndarray, grad: np.ndarray, lr: float, rho: float, eps: float
) -> tuple[np.ndarray, np.ndarray]:
    """One step of :class:`bpkit.RMSProp` from the state ``(theta, s)``: the answer."""
    p = Parameter("theta", np.array(theta, dtype=np.float64), np.array(grad, dtype=np.float64))
    opt = RMSProp([p], lr=lr, rho=rho, eps=eps)
    opt.s[0][...] = s
    opt.step()
    return p.value, opt.s[0]


def _rmsprop(
    average: Callable[..., np.ndarray],
    root: bool = True,
    eps_inside: bool = False,
    old_s: bool = False,
) -> Callable[..., Any]:
    """An RMSProp step with one slip in the average of g², the root, eps, or which s it uses."""

    def answer(theta, s, g, lr, rho, eps):
        s_new = average(s, g, rho)
        used = s if old_s else s_new
        if not root:
            denom = used + eps
        elif eps_inside:
            denom = np.sqrt(used + eps)
        else:
            denom = np.sqrt(used) + eps
        return theta - lr * g / denom, s_new

    return answer


def _ema(s, g, rho):
    return rho * s + (1 - rho) * g * g


_RMS_THETA = np.array([0.5, -1.0, 2.0])
_RMS_S = np.array([0.04, 2.0, 1e-4])
_RMS_GRAD = np.array([0.3, -2.5, 1e-3])

RMSPROP = Check(
    "ex-upd-rmsprop",
    reference_rmsprop_step,
    (
        (_RMS_THETA, _RMS_S, _RMS_GRAD, 0.01, 0.9, 1e-8),
        (_RMS_THETA, np.zeros(3), _RMS_GRAD, 0.1, 0.8, 1e-8),  # the first step: s = 0
    ),
    (
        Mistake(
            "that is Adagrad: s + grad**2 is a running sum, which only grows; RMSProp keeps a "
            "moving average, s_new = rho * s + (1 - rho) * grad**2, so old gradients fade",
            _rmsprop(lambda s, g, rho: s + g * g),
            "adagrad-sum",
        ),
        Mistake(
            "rho and 1 - rho are swapped: rho (0.9) is the weight on the old average, "
            "s_new = rho * s + (1 - rho) * grad**2",
            _rmsprop(lambda s, g, rho: (1 - rho) * s + rho * g * g),
            "swapped-weights",
        ),
        Mistake(
            "s must average the squared gradient, grad**2 (elementwise), not the gradient",
            _rmsprop(lambda s, g, rho: rho * s + (1 - rho) * g),
            "s-of-gradient",
        ),
        Mistake(
            "the (1 - rho) is missing: s_new = rho * s + (1 - rho) * grad**2, a weighted "
            "average whose weights add up to 1",
            _rmsprop(lambda s, g, rho: rho * s + g * g),
            "no-one-minus-rho",
        ),
        Mistake(
            "the square root is missing: the step divides by sqrt(s_new) + eps, the "
            "root-mean-square gradient, not by s_new",
            _rmsprop(_ema, root=False),
            "no-square-root",
        ),
        Mistake(
            "eps is inside the square root: the step divides by sqrt(s_new) + eps, as bpkit "
            "writes it",
            _rmsprop(_ema, eps_inside=True),
            "eps-inside-root",
        ),
        Mistake(
            "the step uses the old s: update the average first, then divide by "
            "sqrt(s_new) + eps (on the first step, s = 0 would divide by eps alone)",
            _rmsprop(_ema, old_s=True),
            "old-s",
        ),
        Mistake(
            "your update has the wrong sign: theta moves against the gradient, "
            "theta - lr * grad / (sqrt(s_new) + eps)",
            lambda th, s, g, lr, rho, eps: (
                2 * th - reference_rmsprop_step(th, s, g, lr, rho, eps)[0],
                reference_rmsprop_step(th, s, g, lr, rho, eps)[1],
            ),
            "update-wrong-sign",
        ),
    ),
    "your step",
    parts=("theta_new", "s_new"),
    show=lambda th, s, g, lr, rho, eps: (
        f"lr = {lr}, rho = {rho}" + (" (the first step, s = 0)" if not np.any(s) else "")
    ),
)


def check_rmsprop_step(fn: Callable[..., Any]) -> Feedback:
    r"""``fn(theta, s, grad, lr, rho, eps) -> (theta_new, s_new)``, one step of
    :class:`bpkit.RMSProp`: :math:`s \leftarrow \rho s + (1-\rho) g^2`,
    :math:`\theta \leftarrow \theta - \eta g / (\sqrt s + \epsilon)`."""
    return RMSPROP.run(fn)


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


def _adam(
    *,
    correct_m: Callable[[float, int], float] = lambda b, t: 1 - b**t,
    correct_s: Callable[[float, int], float] = lambda b, t: 1 - b**t,
    swap_betas: bool = False,
    square: bool = True,
    root: bool = True,
    eps_inside: bool = False,
    return_corrected: bool = False,
) -> Callable[..., tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """An Adam step with one slip: the bias corrections (divisors), the betas, g² or g,
    the square root, eps inside the root, or the corrected moments returned as state."""

    def answer(theta, m, s, grad, t, lr, b1, b2, eps):
        if swap_betas:
            b1, b2 = b2, b1
        m_new = b1 * m + (1 - b1) * grad
        s_new = b2 * s + (1 - b2) * (grad**2 if square else grad)
        m_hat = m_new / correct_m(b1, t)  # a Python float: 0.0 divides to inf, as numpy
        s_hat = s_new / correct_s(b2, t)
        if not root:
            denom = s_hat + eps
        elif eps_inside:
            denom = np.sqrt(s_hat + eps)
        else:
            denom = np.sqrt(np.abs(s_hat)) + eps
        theta_new = theta - lr * m_hat / denom
        return (theta_new, m_hat, s_hat) if return_corrected else (theta_new, m_new, s_new)

    return answer


def _python_t_from_zero(theta, m, s, grad, t, lr, b1, b2, eps):
    # a learner's Python float division: 1 / (1 - b1 ** 0) raises ZeroDivisionError
    m_new = b1 * m + (1 - b1) * grad
    s_new = b2 * s + (1 - b2) * grad**2
    m_hat = m_new * (1 / (1 - b1 ** (t - 1)))
    s_hat = s_new * (1 / (1 - b2 ** (t - 1)))
    return theta - lr * m_hat / (np.sqrt(s_hat) + eps), m_new, s_new


_ADAM_THETA = np.array([0.5, -1.0, 2.0])
_ADAM_GRAD = np.array([0.2, -3.0, 1e-5])  # a tiny entry: eps matters there
_NO_CORRECTION = {"correct_m": lambda b, t: 1.0, "correct_s": lambda b, t: 1.0}
_T_FROM_ZERO_HINT = (
    "your step counter starts at 0: t counts steps from 1, so the first step divides by "
    "1 - beta1**1; with t - 1 the first step divides by 1 - beta**0 = 0"
)

ADAM = Check(
    "ex-upd-adam",
    reference_adam_step,
    (
        (_ADAM_THETA, np.zeros(3), np.zeros(3), _ADAM_GRAD, 1, 0.01, 0.9, 0.999, 1e-8),
        (
            _ADAM_THETA,
            np.array([0.05, -0.4, 0.0]),
            np.array([1e-3, 2e-2, 1e-6]),
            _ADAM_GRAD,
            3,
            0.01,
            0.9,
            0.999,
            1e-8,
        ),
    ),
    (
        Mistake(
            "the bias correction is missing: divide m by (1 - beta1**t) and s by "
            "(1 - beta2**t) before the step; without it the early steps are the wrong size",
            _adam(**_NO_CORRECTION),
            "no-bias-correction",
        ),
        Mistake(
            "only m is bias-corrected: s needs its own correction, s / (1 - beta2**t); "
            "without it s_hat is far too small early on and the first steps are too large",
            _adam(correct_s=lambda b, t: 1.0),
            "only-m-corrected",
        ),
        Mistake(
            "only s is bias-corrected: m needs its own correction, m / (1 - beta1**t)",
            _adam(correct_m=lambda b, t: 1.0),
            "only-s-corrected",
        ),
        Mistake(
            "the square root is missing: the step divides by sqrt(s_hat) + eps, the "
            "root-mean-square of the gradient, not by s_hat",
            _adam(root=False),
            "no-square-root",
        ),
        Mistake(
            "the step count is off by one: t counts from 1 (the first step uses "
            "1 - beta1**1), so use t as given",
            _adam(correct_m=lambda b, t: 1 - b ** (t + 1), correct_s=lambda b, t: 1 - b ** (t + 1)),
            "t-plus-one",
        ),
        Mistake(
            _T_FROM_ZERO_HINT,
            _adam(correct_m=lambda b, t: 1 - b ** (t - 1), correct_s=lambda b, t: 1 - b ** (t - 1)),
            "t-from-zero",
        ),
        Mistake(_T_FROM_ZERO_HINT, _python_t_from_zero, "t-from-zero"),
        Mistake(
            "beta1 and beta2 are swapped: beta1 (0.9) averages the gradient into m, "
            "beta2 (0.999) averages its square into s",
            _adam(swap_betas=True),
            "swapped-betas",
        ),
        Mistake(
            "you returned the bias-corrected moments m_hat and s_hat as the new state: keep "
            "the raw averages m and s (the correction is recomputed from them at each step)",
            _adam(return_corrected=True),
            "returned-corrected-moments",
        ),
        Mistake(
            "eps is inside the square root: the step divides by sqrt(s_hat) + eps, as bpkit "
            "and the Adam paper write it",
            _adam(eps_inside=True),
            "eps-inside-root",
        ),
        Mistake(
            "your update has the wrong sign: theta must move against m_hat, "
            "theta - lr * m_hat / (sqrt(s_hat) + eps)",
            lambda *a: (2 * a[0] - reference_adam_step(*a)[0], *reference_adam_step(*a)[1:]),
            "update-wrong-sign",
        ),
        Mistake(
            "s must average the squared gradient, grad**2 (elementwise), not the gradient",
            _adam(square=False),
            "s-of-gradient",
        ),
    ),
    "your step",
    parts=("theta_new", "m_new", "s_new"),
    show=lambda th, m, s, g, t, lr, b1, b2, eps: f"step t = {t}",
)


def check_adam_step(fn: Callable[..., Any]) -> Feedback:
    r"""``fn(theta, m, s, grad, t, lr, beta1, beta2, eps) -> (theta_new, m_new, s_new)``,
    one Adam step number ``t`` (counting from 1), exactly as :class:`bpkit.Adam`."""
    return ADAM.run(fn)


# ---------------------------------------------------------------- AdamW
def reference_adamw_step(
    theta: np.ndarray,
    m: np.ndarray,
    s: np.ndarray,
    grad: np.ndarray,
    t: int,
    lr: float,
    weight_decay: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Step number ``t`` of :class:`bpkit.AdamW` (default betas and eps): the answer."""
    p = Parameter("theta", np.array(theta, dtype=np.float64), np.array(grad, dtype=np.float64))
    opt = AdamW([p], lr=lr, weight_decay=weight_decay)
    opt.m[0][...], opt.s[0][...], opt.t = m, s, t - 1
    opt.step()
    return p.value, opt.m[0], opt.s[0]


def _adam_direction(m, s, g, t, b1=0.9, b2=0.999, eps=1e-8):
    """Adam's averages after one more gradient, and its step direction m_hat/(sqrt(s_hat)+eps)."""
    m_new = b1 * m + (1 - b1) * g
    s_new = b2 * s + (1 - b2) * g * g
    return m_new, s_new, (m_new / (1 - b1**t)) / (np.sqrt(s_new / (1 - b2**t)) + eps)


def _adamw(decay: Callable[..., np.ndarray]) -> Callable[..., Any]:
    """Adam's step from the loss gradient, plus a decay term ``decay(theta, lr, lam)``."""

    def answer(theta, m, s, g, t, lr, lam):
        m_new, s_new, direction = _adam_direction(m, s, g, t)
        return theta - lr * direction - decay(theta, lr, lam), m_new, s_new

    return answer


def _adam_l2(theta, m, s, g, t, lr, lam):
    m_new, s_new, direction = _adam_direction(m, s, g + lam * theta, t)
    return theta - lr * direction, m_new, s_new


def _decay_on_gradient(theta, m, s, g, t, lr, lam):
    m_new, s_new, direction = _adam_direction(m, s, g, t)
    return theta - lr * (direction + lam * g), m_new, s_new


def _adamw_uncorrected(theta, m, s, g, t, lr, lam):
    m_new = 0.9 * m + 0.1 * g
    s_new = 0.999 * s + 0.001 * g * g
    return theta - lr * m_new / (np.sqrt(s_new) + 1e-8) - lr * lam * theta, m_new, s_new


def _decay_after(theta, m, s, g, t, lr, lam):
    m_new, s_new, direction = _adam_direction(m, s, g, t)
    stepped = theta - lr * direction
    return stepped - lr * lam * stepped, m_new, s_new


_W_THETA = np.array([2.0, -1.5, 0.4])
_W_GRAD = np.array([0.3, -2.0, 1e-3])

ADAMW = Check(
    "ex-upd-adamw",
    reference_adamw_step,
    (
        (_W_THETA, np.zeros(3), np.zeros(3), _W_GRAD, 1, 0.01, 0.1),
        # chosen so that every named slip gives its own first entry, each at least 4 %
        # from the others and from the answer (the self-check sc-upd-adamw asks for it)
        (
            np.array([1.0, -1.5, 0.4]),
            np.array([0.3, -0.3, 0.0]),
            np.array([0.01, 0.5, 1e-6]),
            _W_GRAD,
            2,
            0.2,
            1.0,
        ),
    ),
    (
        Mistake(
            "that is L2 in the loss, Adam(weight_decay=...): you added weight_decay * theta to "
            "the gradient, so the decay went into m and s and was divided by sqrt(s_hat). "
            "AdamW keeps it out: theta - lr * (m_hat / (sqrt(s_hat) + eps) + weight_decay * theta)",
            _adam_l2,
            "l2-in-gradient",
        ),
        Mistake(
            "the decay is not scaled by the learning rate: AdamW removes lr * weight_decay * "
            "theta per step, not weight_decay * theta",
            _adamw(lambda th, lr, lam: lam * th),
            "decay-without-lr",
        ),
        Mistake(
            "the decay is missing: that is plain Adam; AdamW also subtracts "
            "lr * weight_decay * theta",
            _adamw(lambda th, lr, lam: 0 * th),
            "no-decay",
        ),
        Mistake(
            "the decay has the wrong sign: it must shrink theta toward 0, "
            "- lr * weight_decay * theta",
            _adamw(lambda th, lr, lam: -lr * lam * th),
            "decay-wrong-sign",
        ),
        Mistake(
            "the decay is applied to the gradient: AdamW shrinks the weights themselves, "
            "theta - lr * (m_hat / (sqrt(s_hat) + eps) + weight_decay * theta), "
            "not weight_decay * grad",
            _decay_on_gradient,
            "decay-on-gradient",
        ),
        Mistake(
            "the bias correction is missing: divide m by (1 - beta1**t) and s by "
            "(1 - beta2**t) before Adam's step, as in Adam; AdamW only adds the decay",
            _adamw_uncorrected,
            "no-bias-correction",
        ),
        Mistake(
            "the decay is computed from the weights after Adam's step; it uses the weights "
            "the step starts from, theta (as bpkit.AdamW and the paper write it)",
            _decay_after,
            "decay-after-step",
        ),
    ),
    "your step",
    parts=("theta_new", "m_new", "s_new"),
    show=lambda th, m, s, g, t, lr, lam: f"step t = {t}, lr = {lr}, weight_decay = {lam}",
)


def check_adamw_step(fn: Callable[..., Any]) -> Feedback:
    r"""``fn(theta, m, s, grad, t, lr, weight_decay) -> (theta_new, m_new, s_new)``, one
    step of :class:`bpkit.AdamW` with the default ``beta1=0.9``, ``beta2=0.999``,
    ``eps=1e-8``: Adam's step from the loss gradient alone, plus the decay
    :math:`\eta\omega\theta` (:math:`\omega` the decay strength)."""
    return ADAMW.run(fn)


# ---------------------------------------------------------------- step decay
def step_decay(epoch: int, lr0: float, factor: float, every: int) -> float:
    r"""Reference: :math:`\eta_t = \eta_0 \nu^{\lfloor t/k \rfloor}`, as
    :class:`bpkit.schedules.StepDecay`."""
    return float(StepDecay(lr0, factor, every)(epoch))


STEP_DECAY = Check(
    "ex-upd-step-decay",
    step_decay,
    tuple((epoch, 0.5, 0.3, 4) for epoch in (0, 6, 3, 7, 9, 12)),  # this order tells them apart
    (
        Mistake(
            "off by one: epoch 0 is the first epoch and runs at lr0; the first drop "
            "happens at epoch `every`, so use epoch // every, not (epoch + 1) // every",
            lambda e, lr0, f, k: lr0 * f ** ((e + 1) // k),
            "epoch-plus-one",
        ),
        Mistake(
            "one period early: every rate is one factor too small (epoch 0 already runs at "
            "lr0 * factor); the exponent is epoch // every, which is 0 in the first period",
            lambda e, lr0, f, k: lr0 * f ** (e // k + 1),
            "one-period-early",
        ),
        Mistake(
            "one period late: epoch 0 runs at lr0 / factor, above lr0; the exponent is "
            "epoch // every, not epoch // every - 1",
            lambda e, lr0, f, k: lr0 * f ** (e // k - 1),
            "one-period-late",
        ),
        Mistake(
            "this decays a little every epoch (factor ** (epoch / every)): that is "
            "exponential decay. Step decay holds the rate constant for `every` epochs: "
            "use the whole-number division epoch // every",
            lambda e, lr0, f, k: lr0 * f ** (e / k),
            "exponential-decay",
        ),
        Mistake(
            "the decay multiplies: lr0 * factor ** (epoch // every), not "
            "lr0 * factor * (epoch // every)",
            lambda e, lr0, f, k: lr0 * f * (e // k),
            "multiplied-not-powered",
        ),
        Mistake(
            "round(epoch / every) drops the rate half-way through a stage; step decay "
            "uses floor division, epoch // every",
            lambda e, lr0, f, k: lr0 * f ** round(e / k),
            "rounded",
        ),
        Mistake(
            "ceil(epoch / every) drops the rate one epoch into each stage; step decay "
            "uses floor division, epoch // every",
            lambda e, lr0, f, k: lr0 * f ** int(np.ceil(e / k)),
            "ceiling",
        ),
    ),
    "your learning rate",
    show=lambda e, lr0, f, k: f"epoch {e} (lr0 = {lr0}, factor = {f}, every = {k})",
)


def check_step_decay(fn: Callable[..., Any]) -> Feedback:
    r"""``fn(epoch, lr0, factor, every) -> lr`` with
    :math:`\eta_t = \eta_0 \nu^{\lfloor t/k \rfloor}`, as :class:`bpkit.schedules.StepDecay`."""
    return STEP_DECAY.run(fn)


# ---------------------------------------------------------------- warm-up plus cosine
def warmup_cosine(epoch: int, lr0: float, warmup: int, total: int, min_factor: float) -> float:
    """Reference: :class:`bpkit.schedules.WarmupCosine` at ``epoch``."""
    return float(WarmupCosine(lr0, warmup, total, min_factor)(epoch))


def _cosine(e, lr0, w, T, mf, *, start=None, floor=True, clamp=True, half=True, span=None):
    """A warm-up + cosine schedule with one slip (the cosine's start, its floor, the clamp
    after ``total``, the 1/2 (1 + cos) shape, the length it spreads over)."""
    lr_min = mf * lr0 if floor else 0.0
    if e <= w:
        return lr0 * (e + 1) / (w + 1)
    if clamp and e >= T:
        return lr_min
    progress = (e - (w if start is None else start)) / ((T - w) if span is None else span)
    if half:
        return lr_min + 0.5 * (lr0 - lr_min) * (1 + np.cos(np.pi * progress))
    return lr_min + (lr0 - lr_min) * np.cos(np.pi * progress)


WARMUP_COSINE = Check(
    "ex-upd-warmup-cosine",
    warmup_cosine,
    # warm-up of 3 epochs, total 11, floor 0.1: epochs in the warm-up, at the peak, on the
    # way down, at the end and after it (a shuffled order, so that no slip hides)
    tuple((e, 0.8, 3, 11, 0.1) for e in (0, 2, 3, 5, 9, 11, 14, 1)),
    (
        Mistake(
            "the warm-up starts at 0: epoch 0 must already train, at lr0 / (warmup + 1); "
            "the warm-up rises in equal steps, lr0 * (epoch + 1) / (warmup + 1)",
            lambda e, lr0, w, T, mf: lr0 * e / w if e <= w else _cosine(e, lr0, w, T, mf),
            "warmup-from-zero",
        ),
        Mistake(
            "the warm-up starts at 0: epoch 0 must already train, at lr0 / (warmup + 1); "
            "the warm-up rises in equal steps, lr0 * (epoch + 1) / (warmup + 1)",
            lambda e, lr0, w, T, mf: lr0 * e / (w + 1) if e <= w else _cosine(e, lr0, w, T, mf),
            "warmup-from-zero",
        ),
        Mistake(
            "the warm-up reaches the peak one epoch early: it climbs in warmup + 1 equal "
            "steps, lr0 * (epoch + 1) / (warmup + 1), and reaches lr0 at epoch `warmup`",
            lambda e, lr0, w, T, mf: lr0 * (e + 1) / w if e < w else _cosine(e, lr0, w, T, mf),
            "warmup-peak-early",
        ),
        Mistake(
            "the floor is a fraction of the peak, not min_factor itself: the cosine ends "
            "at lr_min = min_factor * lr0",
            lambda e, lr0, w, T, mf: _cosine(e, lr0, w, T, mf / lr0),
            "min-factor-as-rate",
        ),
        Mistake(
            "the cosine ends at 0: it falls to lr_min = min_factor * lr0, "
            "lr_min + (lr0 - lr_min) * (1 + cos(pi * progress)) / 2",
            lambda e, lr0, w, T, mf: _cosine(e, lr0, w, T, mf, floor=False),
            "cosine-to-zero",
        ),
        Mistake(
            "the cosine's progress is counted from epoch 0; it starts at the peak, so "
            "progress = (epoch - warmup) / (total - warmup)",
            lambda e, lr0, w, T, mf: _cosine(e, lr0, w, T, mf, start=0, span=T),
            "progress-from-zero",
        ),
        Mistake(
            "the cosine spreads over `total` epochs instead of the total - warmup after "
            "the peak: progress = (epoch - warmup) / (total - warmup)",
            lambda e, lr0, w, T, mf: _cosine(e, lr0, w, T, mf, span=T),
            "wrong-span",
        ),
        Mistake(
            "after `total` epochs the rate stays at lr_min; a cosine left running climbs "
            "back up (clamp the epochs from `total` on)",
            lambda e, lr0, w, T, mf: _cosine(e, lr0, w, T, mf, clamp=False),
            "no-clamp",
        ),
        Mistake(
            "the cosine needs the half-wave shape (1 + cos(pi * progress)) / 2, which goes "
            "from 1 to 0; cos(pi * progress) alone goes from 1 to -1, below lr_min",
            lambda e, lr0, w, T, mf: _cosine(e, lr0, w, T, mf, half=False),
            "no-half-wave",
        ),
    ),
    "your learning rate",
    show=lambda e, lr0, w, T, mf: (
        f"epoch {e} (lr0 = {lr0}, warmup = {w}, total = {T}, min_factor = {mf})"
    ),
)


def check_warmup_cosine(fn: Callable[..., Any]) -> Feedback:
    r"""``fn(epoch, lr0, warmup, total, min_factor) -> lr``, as
    :class:`bpkit.schedules.WarmupCosine`."""
    return WARMUP_COSINE.run(fn)


# ---------------------------------------------------------------- update ratio
def reference_update_ratio(value: np.ndarray, grad: np.ndarray, lr: float) -> float:
    r""":math:`\lVert \eta\, g \rVert / \lVert \theta \rVert` (Frobenius norms)."""
    return float(lr * np.linalg.norm(grad) / np.linalg.norm(value))


_rng = np.random.default_rng(5)
_W = _rng.standard_normal((4, 3))
_DW = 0.3 * _rng.standard_normal((4, 3))
_norm = np.linalg.norm

UPDATE_RATIO = Check(
    "ex-upd-ratio",
    reference_update_ratio,
    tuple((_W, _DW, lr) for lr in (0.01, 0.5)),
    (
        Mistake(
            "the learning rate is missing: the update is lr * grad, so the ratio is "
            "lr * ||grad|| / ||value||",
            lambda W, g, lr: _norm(g) / _norm(W),
            "lr-missing",
        ),
        Mistake(
            "the ratio is upside down: update size over parameter size",
            lambda W, g, lr: _norm(W) / (lr * _norm(g)),
            "upside-down",
        ),
        Mistake(
            "use the norms themselves, not their squares: "
            "np.linalg.norm(lr * grad) / np.linalg.norm(value)",
            lambda W, g, lr: np.sum((lr * g) ** 2) / np.sum(W**2),
            "squared-norms",
        ),
        Mistake(
            "the norm is over all entries (np.linalg.norm of the whole array), not the "
            "largest entry",
            lambda W, g, lr: lr * np.max(np.abs(g)) / np.max(np.abs(W)),
            "max-entry",
        ),
        Mistake(
            "you divided by the norm of the updated weights, value - lr * grad: the ratio "
            "compares the step with the weights it is applied to, before the update",
            lambda W, g, lr: lr * _norm(g) / _norm(W - lr * g),
            "after-update",
        ),
        Mistake(
            "np.linalg.norm(A, 2) of a matrix is its spectral norm (largest singular value); "
            "the ratio uses the Frobenius norm, np.linalg.norm(A), over all entries",
            lambda W, g, lr: lr * _norm(g, 2) / _norm(W, 2),
            "spectral-norm",
        ),
    ),
    "your ratio",
    show=lambda W, g, lr: f"a {W.shape[0]}×{W.shape[1]} weight matrix with lr = {lr}",
)


def check_update_ratio(fn: Callable[..., Any]) -> Feedback:
    r"""``fn(value, grad, lr) -> float``: :math:`\lVert \eta g\rVert / \lVert\theta\rVert`."""
    return UPDATE_RATIO.run(fn)
