r"""Checkers for the exercises of Chapter 6 (vanishing and exploding gradients).

Each exercise is a :class:`~bpcourse.exercises.feedback.Check` (``GRAD_NORMS``, ``CLIP``,
``INIT``, ``LAYERNORM``, ``BATCHNORM``, ``STREAM``). The named mistakes: gradient norms in
the wrong order, squared or of the weights; clipping per array, by value, or upward; an
initialisation that returns a variance, a uniform bound, LeCun's or the fan-out's scale; a
LayerNorm backward that treats the mean and variance as constants, normalises over the
batch axis (batch norm's) or uses the unbiased variance (``ddof=1``); a BatchNorm forward
that normalises each row (layer norm's axes), ignores the mode either way, updates its
running averages when it should not (or not when it should), swaps their momentum, or
uses the wrong variance for them or for the normalisation; a residual stream's variance
without the identity path, with :math:`s` for :math:`s^2`, or growing by additions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from bpcourse.diagnostics import dense_layers, layer_grad_norms
from bpcourse.exercises.feedback import Check, Feedback, Mistake
from bpcourse.explorers.vanishing import deep_network, probe_batch
from bpkit.losses import mse_grad
from bpkit.normalization import BatchNorm, LayerNorm


# ---------------------------------------------------------------- per-layer gradient norms
def _norm_cases() -> list[tuple[Any]]:
    """Two small networks after one backward pass (sigmoid, and residual tanh)."""
    models = []
    X, y = probe_batch(seed=3)
    for depth, act, residual in ((5, "sigmoid", False), (4, "tanh", True)):
        model = deep_network(
            depth, act, 1.0, np.random.default_rng(depth), width=6, residual=residual
        )
        model.backward(mse_grad(model.forward(X), y))
        models.append((model,))
    return models


def _dense(model: Any) -> list[Any]:
    return dense_layers(model)


GRAD_NORMS = Check(
    "ex-vanish-grad-norms",
    lambda model: np.array(layer_grad_norms(model)),
    _norm_cases,
    (
        Mistake(
            "the order is reversed: entry 0 should be the layer nearest the input "
            "(the forward order), not the output layer the backward pass reaches first",
            lambda m: np.array(layer_grad_norms(m))[::-1],
            "reversed",
        ),
        Mistake(
            "these are squared norms: take the square root of the sum of squares",
            lambda m: np.array(layer_grad_norms(m)) ** 2,
            "squared",
        ),
        Mistake(
            "you included the bias gradient db: report the weight gradient dW only",
            lambda m: [np.sqrt(np.sum(d.dW**2) + np.sum(d.db**2)) for d in _dense(m)],
            "with-bias",
        ),
        Mistake(
            "these are the norms of the weights W, not of their gradients dW",
            lambda m: [np.linalg.norm(d.W) for d in _dense(m)],
            "weights-not-gradients",
        ),
        Mistake(
            "this is the sum of absolute values (L1); use the Frobenius (L2) norm",
            lambda m: [np.abs(d.dW).sum() for d in _dense(m)],
            "l1-norm",
        ),
        Mistake(
            "this is the root-mean-square entry (the norm divided by sqrt(size)); report "
            "the Frobenius norm itself, np.linalg.norm(dW)",
            lambda m: [np.sqrt(np.mean(d.dW**2)) for d in _dense(m)],
            "rms",
        ),
        Mistake(
            "you returned one norm per parameter array (weights and biases): report one "
            "norm per Dense layer, of its weight gradient dW (activation layers have no "
            "weights)",
            lambda m: [np.linalg.norm(p.grad) for p in m.parameters()],
            "per-parameter",
        ),
    ),
    "your list of norms",
    show=lambda model: f"a network of {len(_dense(model))} Dense layers",
    passed_message="one Frobenius norm per Dense layer, input side first.",
)


def check_layer_grad_norms(fn: Callable[[Any], Any]) -> Feedback:
    """``fn(model)`` should return ``[||dW_1||_F, ..., ||dW_L||_F]``, input side first."""
    return GRAD_NORMS.run(fn)


# ---------------------------------------------------------------- clipping by global norm
def _global_norm(grads: list[np.ndarray]) -> float:
    return float(np.sqrt(sum(np.sum(g * g) for g in grads)))


def clip_reference(grads: list[np.ndarray], max_norm: float) -> list[np.ndarray]:
    r"""Reference: :math:`g_j \min(1, c/\lVert g\rVert)` with one global norm."""
    factor = min(1.0, max_norm / _global_norm(grads))
    return [g * factor for g in grads]


def _clip_cases() -> list[tuple[list[np.ndarray], float]]:
    rng = np.random.default_rng(6)
    big = [
        3.0 * rng.standard_normal((3, 4)),
        0.5 * rng.standard_normal(3),
        rng.standard_normal((2, 3)),
    ]
    return [(big, 1.0), ([1e-3 * g for g in big], 1.0)]


def _show_clip(grads: list[np.ndarray], max_norm: float) -> str:
    total = _global_norm(grads)
    size = "large" if total > max_norm else "small"
    sign = ">" if total > max_norm else "<"
    return f"a {size} gradient (global norm {total:.3g} {sign} max_norm = {max_norm:g})"


CLIP = Check(
    "ex-vanish-clip",
    clip_reference,
    _clip_cases,
    (
        Mistake(
            "nothing was clipped: when the global norm exceeds max_norm, scale every array "
            "by max_norm / norm",
            lambda grads, c: [g.copy() for g in grads],
            "never-clips",
        ),
        Mistake(
            "each array was clipped by its own norm: global-norm clipping computes one norm "
            "over all gradients together and scales every array by the same factor",
            lambda grads, c: [g * min(1.0, c / np.linalg.norm(g)) for g in grads],
            "per-array",
        ),
        Mistake(
            "you clipped by value (np.clip(g, -max_norm, max_norm)), entry by entry: that "
            "changes the gradient's direction. Clipping by norm keeps the direction and "
            "scales every array by one factor, min(1, max_norm / norm)",
            lambda grads, c: [np.clip(g, -c, c) for g in grads],
            "by-value",
        ),
        Mistake(
            "you scaled a small gradient up: clipping only shrinks; leave a gradient "
            "shorter than max_norm unchanged",
            lambda grads, c: [g * c / _global_norm(grads) for g in grads],
            "always-rescales",
        ),
        Mistake(
            "the factor is upside down: multiply by max_norm / norm, not norm / max_norm",
            lambda grads, c: [g * _global_norm(grads) / c for g in grads],
            "upside-down",
        ),
        Mistake(
            "the norm is missing its square root: ||g|| = sqrt(sum of all squared entries)",
            lambda grads, c: [g * min(1.0, c / _global_norm(grads) ** 2) for g in grads],
            "norm-without-root",
        ),
        Mistake(
            "you added the arrays' norms: the global norm is sqrt(sum of ||g_j||²), the "
            "length of all gradients as one long vector",
            lambda grads, c: [
                g * min(1.0, c / sum(np.linalg.norm(h) for h in grads)) for g in grads
            ],
            "sum-of-norms",
        ),
    ),
    "your clipped gradients",
    noun="gradients",
    show=_show_clip,
    mutation="note",  # clipping in place is what bpkit.clip_grad_norm does
    passed_message="one global norm, one factor, and only ever shrinking.",
)


def check_clip(fn: Callable[[list[np.ndarray], float], Any]) -> Feedback:
    """``fn(grads, max_norm)`` should return the list of gradients clipped by global norm."""
    return CLIP.run(fn)


# ---------------------------------------------------------------- initialisation scale
def init_std(n_in: int, n_out: int, activation: str) -> float:
    """Reference: He's ``sqrt(2/n_in)`` for ReLU, Glorot's ``sqrt(2/(n_in + n_out))`` else."""
    if activation == "relu":
        return float(np.sqrt(2.0 / n_in))  # He
    return float(np.sqrt(2.0 / (n_in + n_out)))  # Glorot (Xavier)


def _init(relu: Callable[[int, int], float] | None = None, tanh=None) -> Callable[..., float]:
    """The right initialisation with the ReLU or the tanh rule replaced."""

    def std(n_in: int, n_out: int, activation: str) -> float:
        rule = relu if activation == "relu" else tanh
        return init_std(n_in, n_out, activation) if rule is None else rule(n_in, n_out)

    return std


def _he(a: int, b: int) -> float:
    return float(np.sqrt(2.0 / a))


def _xavier(a: int, b: int) -> float:
    return float(np.sqrt(2.0 / (a + b)))


def _lecun(a: int, b: int) -> float:
    return float(np.sqrt(1.0 / a))


INIT = Check(
    "ex-vanish-init",
    init_std,
    # no two rules agree on these sizes (64 and 32 made 2/sqrt(n_in) = sqrt(2/n_out))
    ((50, 20, "relu"), (30, 120, "relu"), (40, 90, "tanh"), (25, 60, "tanh")),
    (
        Mistake(
            "that is the variance; return its square root, the standard deviation",
            lambda a, b, act: init_std(a, b, act) ** 2,
            "variance",
        ),
        Mistake(
            "that is the Xavier value for ReLU; ReLU zeroes half its inputs, so use He, "
            "sqrt(2/n_in)",
            _init(relu=_xavier),
            "xavier-for-relu",
        ),
        Mistake(
            "that is the He value for tanh; tanh is near-linear at 0 and keeps both halves, "
            "so use Xavier, sqrt(2/(n_in + n_out))",
            _init(tanh=_he),
            "he-for-tanh",
        ),
        Mistake(
            "the factor 2 is missing for ReLU: ReLU halves the second moment, so "
            "Var(W) = 2/n_in (1/n_in is LeCun's rule, for activations that keep both halves)",
            _init(relu=_lecun),
            "he-missing-2",
        ),
        Mistake(
            "the factor 2 is missing for ReLU (Var(W) = 2/n_in), and for tanh 1/n_in is "
            "LeCun's rule; this exercise uses Xavier's 2/(n_in + n_out)",
            _init(relu=_lecun, tanh=_lecun),
            "lecun-for-both",
        ),
        Mistake(
            "for tanh you used LeCun's rule, sqrt(1/n_in), which looks only at the fan-in; "
            "this exercise uses Xavier's sqrt(2/(n_in + n_out)), which balances the forward "
            "and the backward pass",
            _init(tanh=_lecun),
            "lecun-for-tanh",
        ),
        Mistake(
            "He's forward rule divides by the fan-in n_in, not n_out",
            _init(relu=lambda a, b: float(np.sqrt(2.0 / b))),
            "he-fan-out",
        ),
        Mistake(
            "2/sqrt(n_in) is not He's scale: the variance is 2/n_in, so the standard "
            "deviation is sqrt(2/n_in) (the root covers the 2 too)",
            _init(relu=lambda a, b: float(2.0 / np.sqrt(a))),
            "two-over-root",
        ),
        Mistake(
            "sqrt(6/(n_in + n_out)) is the bound of Glorot's *uniform* initialisation, "
            "U(-r, r); its standard deviation is r/sqrt(3) = sqrt(2/(n_in + n_out))",
            _init(tanh=lambda a, b: float(np.sqrt(6.0 / (a + b)))),
            "glorot-uniform-bound",
        ),
        Mistake(
            "sqrt(6/n_in) is the bound of He's *uniform* initialisation, U(-r, r); its "
            "standard deviation is r/sqrt(3) = sqrt(2/n_in)",
            _init(relu=lambda a, b: float(np.sqrt(6.0 / a))),
            "he-uniform-bound",
        ),
        Mistake(
            "off by sqrt(2): Xavier's variance is 2/(n_in + n_out), the harmonic mean of "
            "1/n_in and 1/n_out",
            _init(tanh=lambda a, b: float(np.sqrt(1.0 / (a + b)))),
            "xavier-missing-2",
        ),
    ),
    "your standard deviation",
    show=lambda a, b, act: f"n_in = {a}, n_out = {b}, activation = {act!r}",
    passed_message="He for ReLU, Xavier for tanh.",
)


def check_init_std(fn: Callable[[int, int, str], Any]) -> Feedback:
    """``fn(n_in, n_out, activation)``: Xavier std for ``"tanh"``, He std for ``"relu"``."""
    return INIT.run(fn)


# ---------------------------------------------------------------- LayerNorm backward
def _ln_case(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    rng = np.random.default_rng(seed)
    X = rng.normal(1.0, 2.0, (4, 5))
    gamma = rng.uniform(0.5, 1.5, 5)
    dY = rng.standard_normal((4, 5))
    return X, gamma, dY, 1e-5


def layernorm_backward(X, gamma, dY, eps):
    """Reference: ``dX`` of :class:`bpkit.normalization.LayerNorm`."""
    layer = LayerNorm(X.shape[1], eps=eps)
    layer.gamma[...] = gamma
    layer.forward(X)
    return layer.backward(dY)


def norm_backward(X, gamma, dY, eps, *, axis=1, ddof=0, mean_path=True, var_path=True):
    r"""``dX`` of :math:`\gamma\hat x`, :math:`\hat x = (x - \mu)/\sqrt{v + \epsilon}`, with
    the mean and variance ``v`` (``ddof``) taken along ``axis``; the paths through
    :math:`\mu` and :math:`v` can be left out (the mistakes of the exercise)."""
    d = X.shape[axis] - ddof
    mu = X.mean(axis=axis, keepdims=True)
    s = 1.0 / np.sqrt(X.var(axis=axis, ddof=ddof, keepdims=True) + eps)
    xhat = (X - mu) * s
    g = dY * gamma
    dx = g
    if mean_path:  # through mu: every entry of the row moves the mean
        dx = dx - g.mean(axis=axis, keepdims=True)
    if var_path:  # through v: d v / d x_i = 2 (x_i - mu) / d
        dx = dx - xhat * np.sum(g * xhat, axis=axis, keepdims=True) / d
    return s * dx


def _sums_over_batch(X, gamma, dY, eps):
    s = 1.0 / np.sqrt(X.var(axis=1, keepdims=True) + eps)  # the row statistics are right,
    xhat = (X - X.mean(axis=1, keepdims=True)) * s
    g = dY * gamma  # but the two sums run down the columns
    d = X.shape[1]
    return (s / d) * (d * g - g.sum(0, keepdims=True) - xhat * np.sum(g * xhat, 0, keepdims=True))


LAYERNORM = Check(
    "ex-vanish-layernorm",
    layernorm_backward,
    lambda: [_ln_case(0), _ln_case(1)],
    (
        Mistake(
            "you treated the mean and the variance as constants: both depend on every "
            "entry of the row, so dX needs the two extra paths through mu and sigma",
            lambda X, gamma, dY, eps: norm_backward(
                X, gamma, dY, eps, mean_path=False, var_path=False
            ),
            "constants",
        ),
        Mistake(
            "the path through the variance is missing (the term with x_hat * sum(g * x_hat))",
            lambda X, gamma, dY, eps: norm_backward(X, gamma, dY, eps, var_path=False),
            "no-variance-path",
        ),
        Mistake(
            "the path through the mean is missing (the term with sum(g))",
            lambda X, gamma, dY, eps: norm_backward(X, gamma, dY, eps, mean_path=False),
            "no-mean-path",
        ),
        Mistake(
            "gamma is missing: the gradient reaching x_hat is dY * gamma",
            lambda X, gamma, dY, eps: norm_backward(X, np.ones_like(gamma), dY, eps),
            "no-gamma",
        ),
        Mistake(
            "the sums run over the batch (axis 0); LayerNorm normalises each row, so sum "
            "over axis 1",
            _sums_over_batch,
            "sums-over-batch",
        ),
        Mistake(
            "these are batch norm's axes: the mean and variance over the examples (axis 0). "
            "LayerNorm normalises each example over its features (axis 1)",
            lambda X, gamma, dY, eps: norm_backward(X, gamma, dY, eps, axis=0),
            "batchnorm-axes",
        ),
        Mistake(
            "you used the unbiased variance (ddof=1): LayerNorm divides by d, the number of "
            "features (np.var's default ddof=0), in the forward pass and in its derivative",
            lambda X, gamma, dY, eps: norm_backward(X, gamma, dY, eps, ddof=1),
            "ddof-1",
        ),
    ),
    "your dX",
    show=lambda X, gamma, dY, eps: f"X of shape {X.shape}",
    passed_message="all three paths: direct, through the mean, through the variance.",
)


def check_layernorm_backward(fn: Callable[..., Any]) -> Feedback:
    """``fn(X, gamma, dY, eps)`` should return ``dX`` for ``Y = gamma * (X - mu)/sqrt(var + eps) + beta``."""
    return LAYERNORM.run(fn)


# ---------------------------------------------------------------- batch normalisation
def reference_batchnorm(
    X: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    running_mean: np.ndarray,
    running_var: np.ndarray,
    training: bool,
    momentum: float,
    eps: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:class:`bpkit.BatchNorm`'s forward pass in the given mode: ``(Y, running_mean,
    running_var)`` after it (the averages move only in training mode)."""
    bn = BatchNorm(X.shape[1], momentum=momentum, eps=eps)
    bn.gamma[...], bn.beta[...] = gamma, beta
    bn.running_mean[...], bn.running_var[...] = running_mean, running_var
    bn.train(bool(training))
    Y = bn.forward(X)
    return Y, bn.running_mean.copy(), bn.running_var.copy()


def _bn(
    *,
    axis: int = 0,
    stats: str = "mode",
    ddof: int = 0,
    run_ddof: int = 1,
    update: str = "training",
    swap: bool = False,
    eps_outside: bool = False,
    affine: bool = True,
) -> Callable[..., tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """A BatchNorm forward with one slip: the axis of the statistics, which statistics
    normalise ("mode", "batch" always, "running" always), the variances' ``ddof``, when
    the running averages move, their momentum swapped, eps outside the root, no gamma and
    beta."""

    def answer(X, gamma, beta, rm, rv, training, m, eps):
        use_batch = training if stats == "mode" else stats == "batch"
        if use_batch:
            mu = X.mean(axis=axis, keepdims=True)
            var = X.var(axis=axis, keepdims=True, ddof=ddof)
        else:
            mu, var = rm, rv
        Xhat = (X - mu) / (np.sqrt(var) + eps if eps_outside else np.sqrt(var + eps))
        Y = gamma * Xhat + beta if affine else Xhat
        moves = {"training": training, "always": True, "never": False}[update]
        if moves:
            n = X.shape[0]
            batch_var = X.var(axis=0) * (n / (n - 1) if run_ddof else 1.0)
            keep = (1 - m) if swap else m
            rm = keep * rm + (1 - keep) * X.mean(axis=0)
            rv = keep * rv + (1 - keep) * batch_var
        return Y, rm, rv

    return answer


_bn_rng = np.random.default_rng(8)
_BN_X = 2.0 * _bn_rng.standard_normal((5, 3)) + np.array([1.0, -2.0, 0.5])
_BN_GAMMA, _BN_BETA = np.array([1.5, 0.5, -1.0]), np.array([0.1, -0.3, 0.7])
_BN_RM, _BN_RV = np.array([0.8, -1.5, 0.2]), np.array([3.0, 5.0, 1.5])

BATCHNORM = Check(
    "ex-vanish-batchnorm",
    reference_batchnorm,
    (
        (_BN_X, _BN_GAMMA, _BN_BETA, _BN_RM, _BN_RV, True, 0.9, 1e-5),
        (_BN_X, _BN_GAMMA, _BN_BETA, _BN_RM, _BN_RV, False, 0.9, 1e-5),
        (_BN_X[:4], _BN_GAMMA, _BN_BETA, _BN_RM, _BN_RV, True, 0.7, 1e-3),
    ),
    (
        Mistake(
            "the statistics run over each row (axis=1): that is layer normalisation. Batch "
            "normalisation takes each feature's mean and variance over the batch, axis=0",
            _bn(axis=1),
            "layernorm-axes",
        ),
        Mistake(
            "in evaluation mode (training=False) normalise with the running averages, not "
            "with this batch's statistics: a prediction must not depend on the rest of the batch",
            _bn(stats="batch"),
            "eval-uses-batch",
        ),
        Mistake(
            "in training mode normalise with this batch's own mean and variance; the running "
            "averages are for evaluation mode",
            _bn(stats="running"),
            "train-uses-running",
        ),
        Mistake(
            "the running averages move in training mode only; in evaluation mode they stay "
            "as they were",
            _bn(update="always"),
            "eval-updates-running",
        ),
        Mistake(
            "in training mode the running averages move toward this batch's statistics: "
            "m * running + (1 - m) * batch",
            _bn(update="never"),
            "no-running-update",
        ),
        Mistake(
            "momentum m is the weight on the past (as in bpkit and Ioffe and Szegedy's "
            "formula): running <- m * running + (1 - m) * batch, not the other way round",
            _bn(swap=True),
            "momentum-swapped",
        ),
        Mistake(
            "the running variance uses the unbiased batch variance, n/(n-1) times np.var "
            "(ddof=1), as bpkit and the paper do; you used the biased one",
            _bn(run_ddof=0),
            "biased-running-var",
        ),
        Mistake(
            "the normalisation uses the biased variance (np.var, ddof=0) of the batch; "
            "ddof=1 belongs only to the running variance",
            _bn(ddof=1),
            "unbiased-normalise",
        ),
        Mistake(
            "eps belongs inside the square root: (X - mu) / sqrt(var + eps)",
            _bn(eps_outside=True),
            "eps-outside-root",
        ),
        Mistake(
            "gamma and beta are missing: Y = gamma * X_hat + beta",
            _bn(affine=False),
            "no-scale-shift",
        ),
    ),
    "your forward pass",
    parts=("Y", "running_mean", "running_var"),
    mutation="note",  # a layer updates its running averages in place: fine if returned
    show=lambda X, g, b, rm, rv, training, m, eps: (
        f"a batch of {X.shape[0]} rows in "
        f"{'training' if training else 'evaluation'} mode (momentum {m})"
    ),
)


def check_batchnorm_forward(fn: Callable[..., Any]) -> Feedback:
    r"""``fn(X, gamma, beta, running_mean, running_var, training, momentum, eps) -> (Y,
    running_mean_new, running_var_new)``: :class:`bpkit.BatchNorm`'s forward pass in
    training (``training=True``) or evaluation mode."""
    return BATCHNORM.run(fn)


# ---------------------------------------------------------------- residual stream variance
def stream_variances(v0: float, c: float, s: float, L: int) -> np.ndarray:
    r"""The stream's variance after blocks :math:`1, \dots, L` of
    :math:`x_k = x_{k-1} + F_k(x_{k-1})` when each branch, its last layer scaled by
    :math:`s`, adds :math:`c\,s^2` times the variance it receives:
    :math:`v_k = v_0 (1 + c s^2)^k`."""
    return v0 * (1.0 + c * s * s) ** np.arange(1, int(L) + 1)


STREAM = Check(
    "ex-vanish-stream",
    stream_variances,
    ((1.0, 2.0, 1.0, 4), (0.5, 2.0, 0.3, 6), (2.0, 1.5, 0.7, 3)),
    (
        Mistake(
            "the identity path is missing: x_k = x_{k-1} + F(x_{k-1}) keeps the variance "
            "v_{k-1} and adds c s^2 v_{k-1}, so the factor per block is 1 + c s^2, not c s^2",
            lambda v0, c, s, L: v0 * (c * s * s) ** np.arange(1, L + 1),
            "no-identity",
        ),
        Mistake(
            "scaling a layer's output by s scales its variance by s^2: the factor per block "
            "is 1 + c s^2",
            lambda v0, c, s, L: v0 * (1 + c * s) ** np.arange(1, L + 1),
            "s-not-squared",
        ),
        Mistake(
            "each block multiplies the variance it receives, so the factors compound: "
            "v_k = v0 (1 + c s^2)^k, not v0 (1 + k c s^2)",
            lambda v0, c, s, L: v0 * (1 + c * s * s * np.arange(1, L + 1)),
            "added-not-multiplied",
        ),
        Mistake(
            "the branch's variance is scaled by s^2: without it the factor is 1 + c, the "
            "unscaled branch",
            lambda v0, c, s, L: v0 * (1 + c) ** np.arange(1, L + 1),
            "s-ignored",
        ),
        Mistake(
            "the list starts after the first block: v_1, ..., v_L (L values), not v_0, ..., v_L",
            lambda v0, c, s, L: v0 * (1 + c * s * s) ** np.arange(0, L + 1),
            "includes-v0",
        ),
    ),
    "your variances",
    show=lambda v0, c, s, L: f"v0 = {v0}, c = {c}, s = {s}, L = {L}",
)


def check_stream_variances(fn: Callable[..., Any]) -> Feedback:
    r"""``fn(v0, c, s, L) -> [v_1, ..., v_L]``: the residual stream's variance after each of
    ``L`` blocks whose branches add :math:`c s^2` times the variance they receive."""
    return STREAM.run(fn)
