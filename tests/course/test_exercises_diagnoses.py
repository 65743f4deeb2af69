"""Every diagnosis issue 14 lists, fed as a learner would write it, gets its named mistake.

Each wrong answer below is written independently of the checker's own ``Mistake``
functions (the way a learner would type it), and the test asserts the name the checker
gives it. Two families: diagnoses that used to be wrong ("tanh written for tanh' called a
missing derivative") and mistakes that were never named ("clipping by value").
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from bpcourse.exercises import (
    backprop,
    capstone,
    chain_rule,
    gradient_descent,
    loss,
    mistakes,
    updates,
)
from bpcourse.exercises import vanishing as vanish

sigmoid = lambda z: 1.0 / (1.0 + np.exp(-z))  # noqa: E731


def sigmoid_grad(z):
    s = sigmoid(z)
    return s * (1 - s)


# ------------------------------------------------------------------ chapter 1
def loss_one_minus_p_squared(z, y):  # tanh's derivative formula used for the sigmoid
    p = sigmoid(z)
    return 2 * (p - y) / z.size * (1 - p**2)


def loss_sigma_for_sigma_prime(z, y):
    p = sigmoid(z)
    return 2 * (p - y) / z.size * p


# ------------------------------------------------------------------ chapter 2
def central_precedence(f, x, h):
    return (f(x + h) - f(x - h)) / 2 * h  # / 2 * h: multiplies by h


# ------------------------------------------------------------------ chapter 3
def three_layer(d1, d2):
    """dL/dw1 with the local derivative of each tanh layer given as a function of (a, z)."""

    def grad(w1, w2, w3, x, y):
        z1 = w1 * x
        a1 = math.tanh(z1)
        z2 = w2 * a1
        a2 = math.tanh(z2)
        y_hat = w3 * a2
        return 2 * (y_hat - y) * w3 * d2(a2, z2) * w2 * d1(a1, z1) * x

    return grad


right_tanh = lambda a, z: 1 - a * a  # noqa: E731
tanh_itself = lambda a, z: a  # noqa: E731


def shared_paths_multiplied(w, x):
    z = w * x
    th = math.tanh(z)
    return th * (z * (1 - th**2)) * x  # the two paths multiplied, not added


# ------------------------------------------------------------------ chapter 4
def distance_forgot_minimiser(lr, lam, x0, x_star, t):  # |x_0|, not |x_0 - x*|
    return abs(1 - lr * lam) ** t * abs(x0)


def tanh_grad(z):
    return 1 - np.tanh(z) ** 2


def output_delta_tanh_grad_of_y_hat(Y_hat, Y, Z2):
    return 2 * (Y_hat - Y) / Y.size * tanh_grad(Y_hat)  # the activation where z is expected


def output_delta_over_rows(Y_hat, Y, Z2):
    return 2 * (Y_hat - Y) / len(Y) * tanh_grad(Z2)


def output_delta_sigmoid_formula(Y_hat, Y, Z2):
    return 2 * (Y_hat - Y) / Y.size * Y_hat * (1 - Y_hat)  # sigma' written with the output


def hidden_delta_extra_1_over_n(delta2, W2, Z1):
    return (delta2 @ W2) * tanh_grad(Z1) / delta2.shape[0]


def hidden_delta_sigmoid_grad(delta2, W2, Z1):
    return (delta2 @ W2) * sigmoid_grad(Z1)


def hidden_delta_transposed(delta2, W2, Z1):
    return (delta2 @ W2.T) * tanh_grad(Z1)  # a shape error on one case, wrong numbers on one


# ------------------------------------------------------------------ appendix 1 (sigmoid)
def backward_sigmoid_grad_of_activations(params, X, Y):
    A1 = sigmoid(X @ params["W1"].T + params["b1"])
    Y_hat = sigmoid(A1 @ params["W2"].T + params["b2"])
    D2 = 2 * (Y_hat - Y) / Y.size * sigmoid_grad(Y_hat)  # sigmoid_grad wants Z2
    D1 = (D2 @ params["W2"]) * sigmoid_grad(A1)  # ... and Z1
    return {"W1": D1.T @ X, "b1": D1.sum(axis=0), "W2": D2.T @ A1, "b2": D2.sum(axis=0)}


# ------------------------------------------------------------------ chapter 5
def step_decay_one_period_early(epoch, lr0, factor, every):
    return lr0 * factor ** (epoch // every + 1)


def momentum_ema(theta, v, grad, lr, mu, nesterov):
    v = mu * v + (1 - mu) * grad
    step = grad + mu * v if nesterov else v
    return theta - lr * step, v


def momentum_velocity_wrong_sign(theta, v, grad, lr, mu, nesterov):
    v = mu * v - grad
    step = -grad + mu * v if nesterov else v
    return theta - lr * step, v


def _adam(theta, m, s, grad, t, lr, b1, b2, eps, *, tm=None, ts=None, state="raw"):
    m = b1 * m + (1 - b1) * grad
    s = b2 * s + (1 - b2) * grad**2
    m_hat = m / (1 - b1 ** (t if tm is None else tm))
    s_hat = s / (1 - b2 ** (t if ts is None else ts)) if ts != "none" else s
    theta = theta - lr * m_hat / (np.sqrt(s_hat) + eps)
    return (theta, m_hat, s_hat) if state == "corrected" else (theta, m, s)


def adam_corrected_state(theta, m, s, grad, t, lr, b1, b2, eps):
    return _adam(theta, m, s, grad, t, lr, b1, b2, eps, state="corrected")


def adam_only_m_corrected(theta, m, s, grad, t, lr, b1, b2, eps):
    return _adam(theta, m, s, grad, t, lr, b1, b2, eps, ts="none")


def adam_counter_from_zero_numpy(theta, m, s, grad, t, lr, b1, b2, eps):
    with np.errstate(all="ignore"):
        return _adam(
            theta, m, s, grad, t, lr, np.float64(b1), np.float64(b2), eps, tm=t - 1, ts=t - 1
        )


def adam_counter_from_zero_python(theta, m, s, grad, t, lr, b1, b2, eps):
    step = t - 1  # "the first step is step 0"
    m = b1 * m + (1 - b1) * grad
    s = b2 * s + (1 - b2) * grad**2
    m_hat = m * (1 / (1 - b1**step))  # ZeroDivisionError on the first step
    s_hat = s * (1 / (1 - b2**step))
    return theta - lr * m_hat / (np.sqrt(s_hat) + eps), m, s


def adam_swapped_betas(theta, m, s, grad, t, lr, b1, b2, eps):
    return _adam(theta, m, s, grad, t, lr, b2, b1, eps)


def ratio_after_update(value, grad, lr):
    return np.linalg.norm(lr * grad) / np.linalg.norm(value - lr * grad)


def ratio_spectral(value, grad, lr):
    return np.linalg.norm(lr * grad, ord=2) / np.linalg.norm(value, ord=2)


# ------------------------------------------------------------------ chapter 6
def clip_by_value(grads, max_norm):
    return [np.clip(g, -max_norm, max_norm) for g in grads]


def init_glorot_uniform_bound(n_in, n_out, activation):
    if activation == "relu":
        return math.sqrt(2 / n_in)
    return math.sqrt(6 / (n_in + n_out))


def init_lecun_for_tanh(n_in, n_out, activation):
    return math.sqrt((2 if activation == "relu" else 1) / n_in)


def init_two_over_root(n_in, n_out, activation):
    if activation == "relu":
        return 2 / math.sqrt(n_in)  # not sqrt(2/n_out), whatever the sizes
    return math.sqrt(2 / (n_in + n_out))


def _layernorm(X, gamma, dY, eps, axis, ddof):
    n = X.shape[axis]
    mu = X.mean(axis=axis, keepdims=True)
    var = X.var(axis=axis, ddof=ddof, keepdims=True)
    xhat = (X - mu) / np.sqrt(var + eps)
    g = dY * gamma
    # the derivative of the chosen forward pass, by the same derivation as the chapter's
    dxhat_sum = g.sum(axis=axis, keepdims=True)
    dvar_term = xhat * (g * xhat).sum(axis=axis, keepdims=True) * n / (n - ddof)
    return (n * g - dxhat_sum - dvar_term) / (n * np.sqrt(var + eps))


def layernorm_batch_axes(X, gamma, dY, eps):
    return _layernorm(X, gamma, dY, eps, axis=0, ddof=0)


def layernorm_ddof_1(X, gamma, dY, eps):
    return _layernorm(X, gamma, dY, eps, axis=1, ddof=1)


# ------------------------------------------------------------------ chapter 7
def accuracy_integer_division(scores, y):
    return int(np.sum(np.argmax(scores, axis=1) == y)) // len(y)


def accuracy_max_for_argmax(scores, y):
    return np.mean(np.max(scores, axis=1) == y)


DIAGNOSES = [
    # ---- "diagnoses that are right (each was observed)"
    (
        chain_rule.check_chain_grad,
        three_layer(tanh_itself, right_tanh),
        "tanh-for-its-derivative-layer-1",
    ),
    (
        chain_rule.check_chain_grad,
        three_layer(right_tanh, tanh_itself),
        "tanh-for-its-derivative-layer-2",
    ),
    (loss.check_sigmoid_mse_logit_grad, loss_one_minus_p_squared, "tanh-derivative-for-sigmoid"),
    (loss.check_sigmoid_mse_logit_grad, loss_sigma_for_sigma_prime, "sigmoid-for-its-derivative"),
    # chapter 4's exercises use tanh layers: the tanh counterparts of the issue's sigmoid
    # diagnoses (appendix 1's sigmoid network names the sigmoid_grad(activation) one)
    (
        backprop.check_output_delta_tanh,
        output_delta_sigmoid_formula,
        "sigmoid-derivative-for-tanh",
    ),
    (
        backprop.check_hidden_delta_tanh,
        hidden_delta_sigmoid_grad,
        "sigmoid-derivative-for-tanh",
    ),
    (chain_rule.check_shared_grad_z, shared_paths_multiplied, "paths-multiplied"),
    (
        backprop.check_output_delta_tanh,
        output_delta_tanh_grad_of_y_hat,
        "tanh-grad-of-activation",
    ),
    (
        mistakes.check_hand_backward,
        backward_sigmoid_grad_of_activations,
        "sigma-at-activation",
    ),
    (backprop.check_hidden_delta_tanh, hidden_delta_extra_1_over_n, "extra-1-over-n"),
    (backprop.check_output_delta_tanh, output_delta_over_rows, "rows-not-entries"),
    (gradient_descent.check_central_difference, central_precedence, "precedence-2-h"),
    (updates.check_step_decay, step_decay_one_period_early, "one-period-early"),
    (updates.check_momentum_step, momentum_ema, "ema-velocity"),
    (updates.check_momentum_step, momentum_velocity_wrong_sign, "velocity-wrong-sign"),
    (updates.check_adam_step, adam_corrected_state, "returned-corrected-moments"),
    (updates.check_update_ratio, ratio_after_update, "after-update"),
    (updates.check_update_ratio, ratio_spectral, "spectral-norm"),
    (capstone.check_accuracy, accuracy_integer_division, "integer-division"),
    (capstone.check_accuracy, accuracy_max_for_argmax, "max-for-argmax"),
    # ---- "never named"
    (vanish.check_clip, clip_by_value, "by-value"),
    (updates.check_adam_step, adam_counter_from_zero_numpy, "t-from-zero"),
    (updates.check_adam_step, adam_counter_from_zero_python, "t-from-zero"),
    (updates.check_adam_step, adam_only_m_corrected, "only-m-corrected"),
    (updates.check_adam_step, adam_swapped_betas, "swapped-betas"),
    (vanish.check_init_std, init_glorot_uniform_bound, "glorot-uniform-bound"),
    (vanish.check_init_std, init_lecun_for_tanh, "lecun-for-tanh"),
    (vanish.check_layernorm_backward, layernorm_batch_axes, "batchnorm-axes"),
    (vanish.check_layernorm_backward, layernorm_ddof_1, "ddof-1"),
    # ---- test inputs that tell plausible mistakes apart
    (vanish.check_init_std, init_two_over_root, "two-over-root"),  # not "fan-out"
    (backprop.check_hidden_delta_tanh, hidden_delta_transposed, "extra-transpose"),  # by type
    # cold read 2: told "off by one step the other way" when |x0| = |1 - ηλ| |x0 - x*|
    (gradient_descent.check_distance_after, distance_forgot_minimiser, "forgot-minimiser"),
]


@pytest.mark.parametrize(
    ("check", "answer", "name"), DIAGNOSES, ids=[f"{c.__name__}-{n}" for c, _, n in DIAGNOSES]
)
def test_the_issues_mistake_is_named(check, answer, name):
    fb = check(answer)
    assert fb.status == "failed", str(fb)
    assert fb.mistake == name, f"named {fb.mistake!r}: {fb.message}"
    assert len(fb.message) < 400, fb.message  # a few lines; the numbers are in .details


def test_layernorm_mistakes_are_the_right_backward_of_the_wrong_forward():
    """The two wrong LayerNorm answers above are real derivatives (of batch norm's axes and
    of the ddof=1 forward pass), checked against central differences."""
    from bpkit.gradcheck import numerical_gradient

    X, gamma, dY, eps = vanish._ln_case(0)
    for axis, ddof, answer in ((0, 0, layernorm_batch_axes), (1, 1, layernorm_ddof_1)):

        def loss_of(x, axis=axis, ddof=ddof):
            mu = x.mean(axis=axis, keepdims=True)
            xhat = (x - mu) / np.sqrt(x.var(axis=axis, ddof=ddof, keepdims=True) + eps)
            return float(np.sum(dY * gamma * xhat))

        numeric = numerical_gradient(loss_of, X.copy())
        np.testing.assert_allclose(answer(X, gamma, dY, eps), numeric, rtol=1e-6, atol=1e-8)
