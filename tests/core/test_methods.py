"""The methods a learner meets next: Adagrad -> RMSProp -> Adam, weight decay two ways
(L2 and AdamW), the warm-up plus cosine schedule, batch normalisation (training and
evaluation mode), and small initialisation of residual branches.

Every update rule is compared with the textbook rule written out again here, step by
step; every gradient with central differences."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import bpkit
from bpkit import (
    SGD,
    Activation,
    Adagrad,
    Adam,
    AdamW,
    BatchNorm,
    Dense,
    Momentum,
    Parameter,
    RMSProp,
    Scale,
    Sequential,
    WarmupCosine,
    gradcheck,
    residual_block,
    train,
)
from bpkit.normalization import LayerNorm
from bpkit.residual import Residual
from bpkit.schedules import schedule_callback

GRADIENTS = arrays(
    np.float64, st.tuples(st.integers(1, 6), st.just(3)), elements=st.floats(-50, 50)
)  # a sequence of up to 6 gradients of a 3-entry parameter
THETA0 = arrays(np.float64, 3, elements=st.floats(-5, 5))
LR = st.floats(1e-4, 0.5)
DECAY = st.floats(1e-4, 0.5)


def _param(value):
    value = np.array(value, dtype=np.float64)
    return Parameter("theta", value, np.zeros_like(value))


def _run(opt, p, gradients):
    """Feed the gradients one step at a time; return theta after each step."""
    thetas = []
    for g in gradients:
        p.grad[...] = g
        opt.step()
        thetas.append(p.value.copy())
    return np.array(thetas)


# ---------------------------------------------------------------- Adagrad -> RMSProp -> Adam


@given(theta0=THETA0, gradients=GRADIENTS, lr=LR)
@settings(max_examples=40, deadline=None)
def test_adagrad_matches_its_equations(theta0, gradients, lr):
    p = _param(theta0)
    got = _run(Adagrad([p], lr=lr), p, gradients)
    theta, total = theta0.copy(), np.zeros(3)
    for t, g in enumerate(gradients):
        total = total + g**2  # s_t = sum of every squared gradient so far
        theta = theta - lr * g / (np.sqrt(total) + 1e-8)
        np.testing.assert_allclose(got[t], theta, rtol=1e-12, atol=1e-12)


@given(theta0=THETA0, gradients=GRADIENTS, lr=LR, rho=st.floats(0, 0.999))
@settings(max_examples=40, deadline=None)
def test_rmsprop_matches_its_equations(theta0, gradients, lr, rho):
    p = _param(theta0)
    got = _run(RMSProp([p], lr=lr, rho=rho), p, gradients)
    theta, avg = theta0.copy(), np.zeros(3)
    for t, g in enumerate(gradients):
        avg = rho * avg + (1 - rho) * g**2
        theta = theta - lr * g / (np.sqrt(avg) + 1e-8)
        np.testing.assert_allclose(got[t], theta, rtol=1e-12, atol=1e-12)


@given(g=st.floats(1e-3, 1e3), sign=st.sampled_from([-1.0, 1.0]))
@settings(max_examples=30, deadline=None)
def test_constant_gradient_step_sizes_do_not_depend_on_the_gradients_size(g, sign):
    """Adagrad's t-th step is lr/sqrt(t); RMSProp's first is lr/sqrt(1 - rho) and then
    tends to lr; for any size of gradient (the point of dividing by sqrt(s)). Exactly:
    sqrt(s_t) is sqrt(t) |g| and sqrt(1 - rho^t) |g|, and eps is added to it."""
    lr, rho, steps, eps = 0.01, 0.9, 200, 1e-8
    gradients = np.full((steps, 1), sign * g)
    for opt_class, expected in [
        (Adagrad, lambda t: lr * g / (np.sqrt(t) * g + eps)),
        (RMSProp, lambda t: lr * g / (np.sqrt(1 - rho**t) * g + eps)),
    ]:
        p = _param([0.0])
        kwargs = {"rho": rho} if opt_class is RMSProp else {}
        thetas = _run(opt_class([p], lr=lr, **kwargs), p, gradients)
        step_sizes = -sign * np.diff(thetas[:, 0], prepend=0.0)
        t = np.arange(1, steps + 1)
        np.testing.assert_allclose(step_sizes, expected(t), rtol=1e-6)
    assert lr / np.sqrt(1 - rho) == pytest.approx(3.16e-2, rel=1e-3)  # RMSProp's first step


def test_adagrad_steps_only_shrink_but_rmsprop_steps_recover():
    """20 steps with gradient 100, then 150 with gradient 1: Adagrad's sum remembers the
    large gradients for good; RMSProp's moving average forgets them (0.9^150 * 100^2
    = 1.4e-3 is what is left of them in s)."""
    gradients = np.array([[100.0]] * 20 + [[1.0]] * 150)
    lr = 0.01
    last = {}
    for opt_class in (Adagrad, RMSProp):
        p = _param([0.0])
        thetas = _run(opt_class([p], lr=lr), p, gradients)
        last[opt_class.__name__] = thetas[-2, 0] - thetas[-1, 0]
    assert last["Adagrad"] == pytest.approx(lr / np.sqrt(20 * 100**2 + 150), rel=1e-6)
    assert last["Adagrad"] < 0.003 * lr
    assert last["RMSProp"] == pytest.approx(lr, rel=1e-3)


NORMAL_SIZED = st.one_of(st.just(0.0), st.floats(1e-3, 50), st.floats(-50, -1e-3))


@given(
    gradients=arrays(np.float64, (6, 3), elements=NORMAL_SIZED),
    rho=st.floats(0.5, 0.99),
)
@settings(max_examples=30, deadline=None)
def test_adam_without_momentum_is_rmsprop_with_its_average_bias_corrected(gradients, rho):
    """beta1 = 0: Adam's step is RMSProp's times sqrt(1 - rho^t), the bias correction."""
    tiny = 1e-300  # eps out of the way, so that the relation is exact
    p_adam, p_rms = _param(np.zeros(3)), _param(np.zeros(3))
    adam_steps = np.diff(
        _run(Adam([p_adam], lr=0.01, beta1=0.0, beta2=rho, eps=tiny), p_adam, gradients),
        axis=0,
        prepend=np.zeros((1, 3)),
    )
    rms_steps = np.diff(
        _run(RMSProp([p_rms], lr=0.01, rho=rho, eps=tiny), p_rms, gradients),
        axis=0,
        prepend=np.zeros((1, 3)),
    )
    t = np.arange(1, len(gradients) + 1)[:, None]
    # (steps are differences of thetas, so they carry the thetas' round-off)
    np.testing.assert_allclose(adam_steps, rms_steps * np.sqrt(1 - rho**t), rtol=1e-9, atol=0)


# ---------------------------------------------------------------- weight decay, two ways

OPTIMIZERS = {
    "SGD": lambda params, **kw: SGD(params, lr=0.05, **kw),
    "Momentum": lambda params, **kw: Momentum(params, lr=0.05, momentum=0.8, **kw),
    "Nesterov": lambda params, **kw: Momentum(params, lr=0.05, nesterov=True, **kw),
    "Adagrad": lambda params, **kw: Adagrad(params, lr=0.05, **kw),
    "RMSProp": lambda params, **kw: RMSProp(params, lr=0.01, **kw),
    "Adam": lambda params, **kw: Adam(params, lr=0.01, **kw),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_l2_gradient_is_the_gradient_of_the_penalised_loss(name):
    """gradcheck: optimizer.gradient(p) against central differences of
    L(theta) + lambda/2 |theta|^2, with L(theta) = 1/2 |A theta - b|^2."""
    rng = np.random.default_rng(0)
    A, b, lam = rng.standard_normal((5, 3)), rng.standard_normal(5), 0.3
    p = _param(rng.standard_normal(3))
    opt = OPTIMIZERS[name]([p], weight_decay=lam)
    p.grad[...] = A.T @ (A @ p.value - b)  # the loss gradient, without the penalty

    def penalised():
        return 0.5 * np.sum((A @ p.value - b) ** 2) + 0.5 * lam * np.sum(p.value**2)

    report = gradcheck(penalised, {"theta": p.value}, {"theta": opt.gradient(p)})
    assert report.max_error < 1e-7, str(report)
    # AdamW keeps the decay out of the gradient: its gradient is the loss gradient alone
    assert AdamW([p], weight_decay=lam).gradient(p) is p.grad


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@given(theta0=THETA0, gradients=GRADIENTS, lam=DECAY)
@settings(max_examples=15, deadline=None)
def test_weight_decay_is_the_optimizer_run_on_gradient_plus_lambda_theta(
    name, theta0, gradients, lam
):
    """weight_decay=lambda gives the same run as lambda=0 fed g + lambda*theta by hand."""
    p_decay, p_hand = _param(theta0), _param(theta0)
    got = _run(OPTIMIZERS[name]([p_decay], weight_decay=lam), p_decay, gradients)
    by_hand = OPTIMIZERS[name]([p_hand])
    for t, g in enumerate(gradients):
        p_hand.grad[...] = g + lam * p_hand.value
        by_hand.step()
        np.testing.assert_allclose(got[t], p_hand.value, rtol=1e-10, atol=1e-12)


@given(theta0=THETA0, gradients=GRADIENTS, lr=LR, lam=DECAY)
@settings(max_examples=40, deadline=None)
def test_for_sgd_l2_and_decoupled_weight_decay_are_the_same_update(theta0, gradients, lr, lam):
    p = _param(theta0)
    got = _run(SGD([p], lr=lr, weight_decay=lam), p, gradients)
    l2, decoupled = theta0.copy(), theta0.copy()
    for t, g in enumerate(gradients):
        l2 = l2 - lr * (g + lam * l2)  # L2: descend L + lambda/2 |theta|^2
        decoupled = (1 - lr * lam) * decoupled - lr * g  # shrink the weights, then step
        np.testing.assert_allclose(got[t], l2, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(got[t], decoupled, rtol=1e-10, atol=1e-12)


@given(theta0=THETA0, gradients=GRADIENTS, lr=st.floats(1e-4, 0.1), lam=DECAY)
@settings(max_examples=40, deadline=None)
def test_adamw_matches_its_equations(theta0, gradients, lr, lam):
    p = _param(theta0)
    opt = AdamW([p], lr=lr, weight_decay=lam)
    assert (opt.beta1, opt.beta2, opt.eps) == (0.9, 0.999, 1e-8)
    got = _run(opt, p, gradients)
    theta, m, s = theta0.copy(), np.zeros(3), np.zeros(3)
    for t, g in enumerate(gradients, start=1):
        m = 0.9 * m + 0.1 * g  # Adam's averages see the loss gradient only
        s = 0.999 * s + 0.001 * g**2
        adam_step = (m / (1 - 0.9**t)) / (np.sqrt(s / (1 - 0.999**t)) + 1e-8)
        theta = theta - lr * (adam_step + lam * theta)
        np.testing.assert_allclose(got[t - 1], theta, rtol=1e-10, atol=1e-12)


@given(lam=st.floats(1e-4, 1.0), theta=st.floats(0.1, 10))
@settings(max_examples=30, deadline=None)
def test_for_adam_l2_and_decoupled_weight_decay_differ(lam, theta):
    """With no loss gradient, the only force is the decay. AdamW shrinks the weight by
    lr*lambda*theta; Adam with L2 divides lambda*theta by its own size and moves it by lr,
    whatever lambda is: how strongly L2 decays a weight in Adam does not depend on lambda."""
    lr = 1e-3
    p_l2, p_w = _param([theta]), _param([theta])
    Adam([p_l2], lr=lr, weight_decay=lam).step()  # p.grad is 0: only the decay acts
    AdamW([p_w], lr=lr, weight_decay=lam).step()
    decay = lam * theta  # the only gradient Adam sees; its step is lr * x / (|x| + eps)
    assert theta - p_l2.value[0] == pytest.approx(lr * decay / (decay + 1e-8), rel=1e-9)
    assert theta - p_l2.value[0] == pytest.approx(lr, rel=1e-3)  # eps <= 1e-3 * lam * theta
    assert theta - p_w.value[0] == pytest.approx(lr * lam * theta, rel=1e-9)


def test_adam_l2_decays_weights_with_large_gradients_less_than_adamw_does():
    """Two weights, equal in size; one gets large loss gradients, one small ones. AdamW
    decays both by the same amount; L2 in Adam decays the one with large gradients
    about 100 times less (lambda*theta is divided by sqrt(s), about |g|)."""
    lr, lam, theta0, steps = 1e-3, 0.1, 1.0, 50
    rng = np.random.default_rng(0)
    noise = rng.choice([-1.0, 1.0], size=(steps, 2)) * np.array([100.0, 1.0])
    decay = {}
    for opt_class in (Adam, AdamW):
        p, free = _param([theta0, theta0]), _param([theta0, theta0])
        _run(opt_class([p], lr=lr, weight_decay=lam), p, noise)
        _run(opt_class([free], lr=lr, weight_decay=0.0), free, noise)
        decay[opt_class.__name__] = free.value - p.value  # what the decay took away
    np.testing.assert_allclose(decay["AdamW"], decay["AdamW"][1], rtol=0.02)
    ratio = decay["Adam"][1] / decay["Adam"][0]
    assert 30 < ratio < 300, ratio


def test_weight_decay_and_new_optimizer_arguments_are_checked_in_words():
    p = _param([1.0])
    for bad in (-0.1, float("nan")):
        with pytest.raises(ValueError, match=r"weight_decay must be a finite number >= 0"):
            SGD([p], lr=0.1, weight_decay=bad)
    with pytest.raises(TypeError, match="weight_decay must be a number"):
        SGD([p], lr=0.1, weight_decay="0.1")
    with pytest.raises(ValueError, match=r"rho must be in \[0, 1\)"):
        RMSProp([p], rho=1.0)
    with pytest.raises(ValueError, match="eps must be a positive number"):
        Adagrad([p], eps=0.0)
    opt = AdamW([p], lr=0.5, weight_decay=2.0)
    with pytest.raises(ValueError, match="lr \\* weight_decay must be below 1"):
        opt.step()


def test_defaults():
    p = _param([1.0])
    assert (Adagrad([p]).lr, Adagrad([p]).eps) == (0.01, 1e-8)
    assert (RMSProp([p]).lr, RMSProp([p]).rho, RMSProp([p]).eps) == (1e-3, 0.9, 1e-8)
    assert AdamW([p]).weight_decay == 0.01
    for opt in (SGD([p], lr=0.1), Momentum([p], lr=0.1), Adam([p]), RMSProp([p])):
        assert opt.weight_decay == 0.0


# ---------------------------------------------------------------- warm-up plus cosine


def _textbook_warmup_cosine(lr0, w, T, rho, t):
    """Written independently: a linspace for the warm-up, cos^2 for the decay
    (1/2 (1 + cos x) = cos^2(x/2))."""
    lr_min = rho * lr0
    if t <= w:
        return np.linspace(lr0 / (w + 1), lr0, w + 1)[t]
    if t >= T:
        return lr_min
    return lr_min + (lr0 - lr_min) * math.cos(math.pi / 2 * (t - w) / (T - w)) ** 2


@given(
    lr0=st.floats(1e-4, 10),
    warmup=st.integers(0, 10),
    length=st.integers(1, 40),
    rho=st.floats(1e-4, 0.9),
)
@settings(max_examples=60, deadline=None)
def test_warmup_cosine_matches_the_textbook_rule_and_has_its_shape(lr0, warmup, length, rho):
    total = warmup + length
    schedule = WarmupCosine(lr0, warmup=warmup, total=total, min_factor=rho)
    lrs = np.array([schedule(t) for t in range(total + 5)])
    expected = [_textbook_warmup_cosine(lr0, warmup, total, rho, t) for t in range(total + 5)]
    np.testing.assert_allclose(lrs, expected, rtol=1e-12)
    assert np.all(np.diff(lrs[: warmup + 1]) > 0)  # rises during the warm-up,
    assert lrs[warmup] == pytest.approx(lr0, rel=1e-15)  # peaks at lr0 at epoch `warmup`,
    assert np.all(np.diff(lrs[warmup:]) <= 1e-15 * lr0)  # never rises again,
    assert lrs[total] == pytest.approx(rho * lr0, rel=1e-12)  # ends at min_factor * lr0
    assert np.all(lrs[total:] == lrs[total]) and np.all(lrs > 0)


def test_warmup_cosine_drives_training_through_schedule_callback():
    """Epoch t of bpkit.train runs with schedule(t), as with the other schedules."""
    X, y = bpkit.data.xor()
    model = bpkit.mlp([2, 4, 1], "tanh", rng=0)
    opt = Adam(model.parameters(), lr=1.0)
    schedule = WarmupCosine(0.05, warmup=3, total=10)
    apply_schedule = schedule_callback(schedule, opt)
    used = []

    def callback(epoch, history):
        used.append(opt.lr)  # the rate this epoch ran with
        apply_schedule(epoch, history)

    train(model, X, y, loss="mse", optimizer=opt, epochs=12, callback=callback)
    assert used == [schedule(t) for t in range(12)]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lr0": 0.0, "warmup": 1, "total": 5}, "lr0 must be a positive"),
        ({"lr0": 1.0, "warmup": -1, "total": 5}, "warmup must be a whole number of epochs >= 0"),
        ({"lr0": 1.0, "warmup": 2, "total": 2.5}, "total must be a whole number of epochs >= 1"),
        ({"lr0": 1.0, "warmup": 5, "total": 5}, "total must be larger than warmup"),
        ({"lr0": 1.0, "warmup": 1, "total": 5, "min_factor": 0.0}, "min_factor must be a"),
        ({"lr0": 1.0, "warmup": 1, "total": 5, "min_factor": 1.0}, "min_factor must lie"),
    ],
)
def test_warmup_cosine_arguments_are_checked_in_words(kwargs, message):
    with pytest.raises(ValueError, match=message):
        WarmupCosine(**kwargs)


# ---------------------------------------------------------------- batch normalisation


def _random_batchnorm(rng, d):
    bn = BatchNorm(d)
    bn.gamma[...] = rng.uniform(0.5, 2.0, d) * rng.choice([-1.0, 1.0], d)
    bn.beta[...] = rng.standard_normal(d)
    return bn


def _strict(report, floor=1e-3):
    """Every gradient larger than `floor` agrees to a relative error below 1e-7."""
    assert report.passed, str(report)
    for check in report.checks:
        if np.linalg.norm(check.numeric) > floor:
            assert check.error < 1e-7, str(report)


@given(n=st.integers(2, 8), d=st.integers(1, 5), seed=st.integers(0, 2**16))
@settings(max_examples=40, deadline=None)
def test_batchnorm_training_mode_passes_gradcheck(n, d, seed):
    rng = np.random.default_rng(seed)
    bn = _random_batchnorm(rng, d)
    X = 3.0 * rng.standard_normal((n, d)) + rng.standard_normal(d)
    _strict(gradcheck(bn, X, rng.standard_normal((n, d))))


def test_batchnorm_inside_a_network_passes_gradcheck_in_both_modes():
    rng = np.random.default_rng(1)
    model = Sequential(Dense(3, 5, rng=rng), BatchNorm(5), Activation("tanh"), Dense(5, 2, rng=rng))
    X, y = rng.standard_normal((8, 3)), rng.standard_normal((8, 2))
    report = gradcheck(model, X, y)
    _strict(report)
    # The bias in front of a BatchNorm gets no gradient: the batch mean removes it.
    np.testing.assert_allclose(report["0.b"].analytic, 0.0, atol=1e-14)
    model.eval()
    _strict(gradcheck(model, X, y))


@given(
    X=arrays(
        np.float64, st.tuples(st.integers(2, 8), st.integers(1, 5)), elements=st.floats(-10, 10)
    ),
)
@settings(max_examples=40, deadline=None)
def test_batchnorm_training_forward_matches_the_textbook_column_by_column(X):
    rng = np.random.default_rng(0)
    n, d = X.shape
    bn = _random_batchnorm(rng, d)
    Y = bn.forward(X)
    for j in range(d):
        column = X[:, j]
        mu = sum(column) / n
        var = sum((x - mu) ** 2 for x in column) / n
        expected = bn.gamma[j] * (column - mu) / math.sqrt(var + bn.eps) + bn.beta[j]
        np.testing.assert_allclose(Y[:, j], expected, rtol=1e-9, atol=1e-9)


@given(
    X=arrays(
        np.float64, st.tuples(st.integers(2, 6), st.integers(2, 6)), elements=st.floats(-10, 10)
    ),
    seed=st.integers(0, 2**16),
)
@settings(max_examples=40, deadline=None)
def test_batchnorm_is_layernorm_of_the_transposed_batch(X, seed):
    """Training-mode BatchNorm normalises columns as LayerNorm normalises rows: forward
    and backward agree with LayerNorm applied to X transposed (gamma = 1, beta = 0)."""
    n, d = X.shape
    dY = np.random.default_rng(seed).standard_normal((n, d))
    bn, ln = BatchNorm(d), LayerNorm(n)
    np.testing.assert_allclose(bn.forward(X), ln.forward(X.T).T, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(bn.backward(dY), ln.backward(dY.T).T, rtol=1e-9, atol=1e-9)


def test_batchnorm_running_averages_follow_their_equations():
    rng = np.random.default_rng(2)
    bn = BatchNorm(3, momentum=0.8)
    mean, var = np.zeros(3), np.ones(3)
    for n in (4, 7, 2, 10):
        X = rng.standard_normal((n, 3)) * [1.0, 5.0, 0.1] + [0.0, -3.0, 2.0]
        bn.forward(X)
        mean = 0.8 * mean + 0.2 * X.mean(axis=0)
        var = 0.8 * var + 0.2 * X.var(axis=0, ddof=1)  # the unbiased variance
        np.testing.assert_allclose(bn.running_mean, mean, rtol=1e-12)
        np.testing.assert_allclose(bn.running_var, var, rtol=1e-12)
    frozen = bn.running_mean.copy(), bn.running_var.copy()
    bn.eval().forward(rng.standard_normal((5, 3)))  # evaluation does not update them
    np.testing.assert_array_equal(bn.running_mean, frozen[0])
    np.testing.assert_array_equal(bn.running_var, frozen[1])


@given(seed=st.integers(0, 2**16), a=st.floats(-3, 3))
@settings(max_examples=30, deadline=None)
def test_batchnorm_evaluation_mode_is_an_affine_map_of_each_row_alone(seed, a):
    rng = np.random.default_rng(seed)
    bn = _random_batchnorm(rng, 4)
    for _ in range(3):  # some training batches, to move the running averages
        bn.forward(2.0 * rng.standard_normal((6, 4)) + 1.0)
    X1, X2 = rng.standard_normal((5, 4)), rng.standard_normal((5, 4))
    train_out = bn.forward(X1)
    bn.eval()
    Y1 = bn.forward(X1)
    expected = bn.gamma * (X1 - bn.running_mean) / np.sqrt(bn.running_var + bn.eps) + bn.beta
    np.testing.assert_allclose(Y1, expected, rtol=1e-12)
    np.testing.assert_allclose(bn.forward(X1[2:3]), Y1[2:3], rtol=1e-12)  # one row is enough
    mix = bn.forward(a * X1 + (1 - a) * X2)  # affine: mixtures map to mixtures
    np.testing.assert_allclose(mix, a * Y1 + (1 - a) * bn.forward(X2), rtol=1e-9, atol=1e-9)
    assert not np.allclose(Y1, train_out)  # the two modes compute different functions


def test_in_training_mode_a_row_depends_on_the_rest_of_the_batch():
    rng = np.random.default_rng(3)
    bn = BatchNorm(2)
    X = rng.standard_normal((4, 2))
    first = bn.forward(X)[0].copy()
    X[3] += 10.0  # change another example
    assert not np.allclose(bn.forward(X)[0], first)
    bn.eval()
    first = bn.forward(X)[0].copy()
    X[3] += 10.0
    np.testing.assert_array_equal(bn.forward(X)[0], first)


def test_train_and_eval_switch_every_layer_of_a_model():
    rng = np.random.default_rng(4)
    inner_bn, outer_bn = BatchNorm(3), BatchNorm(3)
    model = Sequential(
        Dense(2, 3, rng=rng), outer_bn, Residual(Sequential(inner_bn, Activation("tanh")))
    )
    assert model.training and inner_bn.training and outer_bn.training
    assert model.eval() is model
    assert not any(layer.training for layer in (model, model[1], model[2], inner_bn, outer_bn))
    assert not model[0].training  # every layer records the mode, even one that ignores it
    model.train()
    assert inner_bn.training and outer_bn.training
    with pytest.raises(TypeError, match=r"mode must be True \(training\) or False"):
        model.train(np.zeros((2, 2)))


def test_batchnorm_backward_follows_the_mode_of_the_forward_pass():
    rng = np.random.default_rng(5)
    bn = _random_batchnorm(rng, 3)
    X, dY = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    bn.forward(X)
    train_dX = bn.backward(dY)
    bn.eval()  # switched after the forward pass: backward still matches that pass
    np.testing.assert_array_equal(bn.backward(dY), train_dX)
    bn.forward(X)
    s_run = 1.0 / np.sqrt(bn.running_var + bn.eps)
    np.testing.assert_allclose(bn.backward(dY), dY * bn.gamma * s_run, rtol=1e-12)
    assert bn.backward(dY, input_grad=False) is None
    np.testing.assert_allclose(bn.dbeta, dY.sum(axis=0))


def test_a_network_with_batchnorm_trains_in_mini_batches_and_predicts_in_evaluation_mode():
    """Two moons, 30 epochs of Adam on batches of 20, five seeds: in evaluation mode (the
    running averages) the network classifies as well as with the full data's own
    statistics (measured: 92.5-94.5% both ways, at most 0.5 points apart)."""
    X, y = bpkit.data.two_moons(200, rng=0)
    for seed in range(5):
        rng = np.random.default_rng(seed)
        model = Sequential(
            Dense(2, 16, rng=rng), BatchNorm(16), Activation("relu"), Dense(16, 1, rng=rng)
        )
        opt = Adam(model.parameters(), lr=0.01)
        loss = "binary_cross_entropy_with_logits"
        train(model, X, y, loss=loss, optimizer=opt, epochs=30, batch_size=20, rng=rng)
        batch_statistics = np.mean((model.forward(X) > 0) == (y > 0.5))
        accuracy = np.mean((model.eval().forward(X) > 0) == (y > 0.5))
        assert accuracy >= 0.88 and abs(accuracy - batch_statistics) <= 0.03, seed
        one_at_a_time = [model.forward(X[i : i + 1])[0, 0] for i in range(5)]
        np.testing.assert_allclose(one_at_a_time, model.forward(X)[:5, 0], rtol=1e-12)


def test_batchnorm_input_errors_name_the_cause():
    bn = BatchNorm(3)
    with pytest.raises(ValueError, match="at least 2 rows.*model.eval"):
        bn.forward(np.zeros((1, 3)))
    with pytest.raises(ValueError, match=r"expects X of shape \(batch, 3\); got shape \(4, 2\)"):
        bn.forward(np.zeros((4, 2)))
    with pytest.raises(RuntimeError, match="call forward before backward"):
        bn.backward(np.zeros((4, 3)))
    bn.forward(np.ones((4, 3)) + np.arange(4)[:, None])
    with pytest.raises(
        ValueError, match=r"expects a gradient of shape \(4, 3\).*got shape \(3, 3\)"
    ):
        bn.backward(np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\)"):
        BatchNorm(3, momentum=1.0)
    with pytest.raises(ValueError, match="d >= 1"):
        BatchNorm(0)
    bn.eval().forward(np.zeros((1, 3)))  # one row is fine for a prediction


# ---------------------------------------------------------------- residual branches


@given(seed=st.integers(0, 2**16), alpha=st.floats(-2, 2))
@settings(max_examples=30, deadline=None)
def test_scale_and_gated_residual_blocks_pass_gradcheck(seed, alpha):
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    _strict(gradcheck(Scale(alpha), X, y))
    block = residual_block(3, 4, "tanh", rng=rng, last_scale=0.3, alpha=alpha)
    _strict(gradcheck(block, X, y))


def test_rezero_gate_computes_x_plus_alpha_f_of_x_and_learns_alpha_first():
    rng = np.random.default_rng(6)
    X = rng.standard_normal((5, 4))
    block = residual_block(4, 6, "relu", rng=7, alpha=0.5)
    W1, b1, W2, b2 = (p.value for p in block.parameters()[:4])
    F = np.maximum(X @ W1.T + b1, 0.0) @ W2.T + b2  # the branch, written out
    np.testing.assert_allclose(block.forward(X), X + 0.5 * F, rtol=1e-12)
    rezero = residual_block(4, 6, "relu", rng=7, alpha=0.0)
    Y = rezero.forward(X)
    np.testing.assert_array_equal(Y, X)  # starts as the identity
    dY = rng.standard_normal(Y.shape)
    np.testing.assert_array_equal(rezero.backward(dY), dY)
    grads = {p.name: p.grad for p in rezero.parameters()}
    assert np.all(grads["0.W"] == 0) and np.all(grads["2.W"] == 0)  # alpha = 0 blocks them
    assert grads["3.alpha"][0] == pytest.approx(np.sum(dY * F))  # but alpha learns


def test_zero_initialised_branch_starts_as_the_identity_and_still_learns():
    rng = np.random.default_rng(8)
    block = residual_block(4, 8, "sigmoid", rng=rng, last_scale=0.0)
    X = rng.standard_normal((6, 4))
    np.testing.assert_array_equal(block.forward(X), X)
    dY = rng.standard_normal((6, 4))
    np.testing.assert_array_equal(block.backward(dY), dY)  # dX = dY exactly
    last = block.inner[2]
    assert np.linalg.norm(last.dW) > 0.1  # dW2 = dY^T A1 is not zero
    SGD(block.parameters(), lr=0.1).step()
    assert not np.allclose(block.forward(X), X)


@given(seed=st.integers(0, 2**16), s=st.floats(0, 3))
@settings(max_examples=30, deadline=None)
def test_last_scale_scales_the_branch_exactly(seed, s):
    """Same seed, last_scale s: Y - X is s times the branch of the usual initialisation."""
    X = np.random.default_rng(seed + 1).standard_normal((5, 3))
    usual = residual_block(3, 5, "relu", rng=seed).forward(X) - X
    scaled = residual_block(3, 5, "relu", rng=seed, last_scale=s).forward(X) - X
    np.testing.assert_allclose(scaled, s * usual, rtol=1e-12, atol=1e-12)


def test_small_branches_keep_the_streams_variance_bounded_with_depth():
    """16 ReLU blocks (He init, width 64): each multiplies the variance by about
    1 + 2 s^2, so s = 1 explodes (3^16 = 4.3e7) and s = 1/sqrt(16) stays below e^2.
    Medians over 10 seeds of Var(output) / Var(input)."""
    L, d = 16, 64

    def median_growth(s):
        ratios = []
        for seed in range(10):
            rng = np.random.default_rng(seed)
            model = Sequential(
                *[residual_block(d, activation="relu", rng=rng, last_scale=s) for _ in range(L)]
            )
            X = rng.standard_normal((256, d))
            ratios.append(model.forward(X).var() / X.var())
        return float(np.median(ratios))

    for s in (1.0, L**-0.5):
        predicted = (1 + 2 * s**2) ** L
        growth = median_growth(s)
        assert predicted / 2 < growth < 2 * predicted, (s, growth, predicted)
    assert growth < np.e**2  # s = 1/sqrt(L): (1 + 2/L)^L < e^2
    assert median_growth(0.0) == 1.0


def test_residual_block_arguments_are_checked_in_words():
    with pytest.raises(ValueError, match=r"last_scale must be a finite number >= 0"):
        residual_block(3, rng=0, last_scale=-0.1)
    with pytest.raises(ValueError, match="alpha must be a finite number"):
        residual_block(3, rng=0, alpha=float("nan"))
    with pytest.raises(TypeError, match="rng=np.random.default_rng"):
        residual_block(3)
    with pytest.raises(ValueError, match="d must be a positive whole number"):
        residual_block(0, rng=0)
    with pytest.raises(ValueError, match="hidden must be a positive whole number"):
        residual_block(3, 0, rng=0)
    with pytest.raises(ValueError, match="unknown activation"):
        residual_block(3, activation="swish", rng=0)


# ---------------------------------------------------------------- modes during training
def _bn_net(seed: int):
    rng = np.random.default_rng(seed)
    bn = bpkit.BatchNorm(4)
    model = bpkit.Sequential(
        bpkit.Dense(2, 4, rng=rng), bn, bpkit.Activation("tanh"), bpkit.Dense(4, 1, rng=rng)
    )
    X = rng.standard_normal((32, 2)) * 3.0 + 1.0
    y = (X[:, :1] > 1.0).astype(float)
    return model, bn, X, y


def test_train_fits_in_training_mode_even_after_a_callback_left_the_model_in_eval():
    """A callback that measures in evaluation mode and forgets to switch back must not make
    the remaining epochs train on running averages (they would stop moving)."""
    model, bn, X, y = _bn_net(0)

    def careless(epoch, history):
        model.eval()  # ... and never model.train()

    before = bn.running_mean.copy()
    opt = bpkit.SGD(model.parameters(), lr=0.1)
    bpkit.train(model, X, y, loss="mse", optimizer=opt, epochs=3, callback=careless)
    # every epoch updated the running averages, so every epoch ran in training mode
    assert not np.allclose(bn.running_mean, before)
    moved = bn.running_mean.copy()
    bpkit.train(model, X, y, loss="mse", optimizer=opt, epochs=1)
    assert not np.allclose(bn.running_mean, moved)


def test_predict_uses_the_running_averages_and_changes_nothing():
    model, _bn, X, _ = _bn_net(1)
    model.forward(X)  # training mode: moves the running averages
    state = [b.copy() for b in model.buffers()]
    one_row = model.predict(X[:1])
    assert one_row.shape == (1, 1)  # a batch of one is fine in evaluation form
    np.testing.assert_allclose(model.predict(X)[:1], one_row, rtol=1e-12)
    for kept, now in zip(state, model.buffers(), strict=True):
        np.testing.assert_array_equal(kept, now)
    assert model.training  # predicting does not switch the mode


def test_early_stopping_restores_the_running_averages_with_the_weights():
    model, bn, X, y = _bn_net(2)
    from bpkit.train import EarlyStopping

    stop = EarlyStopping(model, monitor="val", patience=2)
    kept = {}

    def record(epoch, history):
        # a validation loss that is best at epoch 1, then worse
        history.metrics.setdefault("val", []).append([3.0, 1.0, 2.0, 2.5, 2.7][epoch])
        if epoch == 1:
            kept["mean"] = bn.running_mean.copy()
            kept["W"] = model[0].W.copy()
        return stop(epoch, history)

    opt = bpkit.SGD(model.parameters(), lr=0.1)
    bpkit.train(model, X, y, loss="mse", optimizer=opt, epochs=5, callback=record)
    assert stop.best_epoch == 1 and not np.allclose(bn.running_mean, kept["mean"])
    stop.restore_best()
    np.testing.assert_array_equal(bn.running_mean, kept["mean"])
    np.testing.assert_array_equal(model[0].W, kept["W"])
