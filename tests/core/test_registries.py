"""Tests driven by the registries: every registered activation and loss is gradient-checked,
and every registered optimizer is checked against its textbook update rule, *because* it is
registered. Registering a new one adds it here with no edit (an optimizer also needs its
textbook rule written below: the test that lists them says so)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import bpkit
from bpkit import Parameter, numerical_gradient, relative_error
from bpkit.activations import ACTIVATIONS
from bpkit.losses import LOSSES, get_loss_and_grad
from bpkit.optim import OPTIMIZERS

ACTIVATION_NAMES = sorted(ACTIVATIONS)
LOSS_NAMES = sorted(LOSSES)
OPTIMIZER_NAMES = sorted(OPTIMIZERS)
values = arrays(np.float64, st.integers(1, 12), elements=st.floats(-6, 6))


def _central(f, z: np.ndarray) -> np.ndarray:
    """Elementwise derivative of an elementwise f by central differences."""
    return np.array([numerical_gradient(lambda a: float(f(a)[0]), np.array([v]))[0] for v in z])


# ---------------------------------------------------------------- activations
def test_the_registry_holds_the_built_in_activations():
    assert {"sigmoid", "tanh", "relu", "leaky_relu", "identity", "silu"} <= set(ACTIVATIONS)
    assert ACTIVATIONS["silu"].grad_from_output is None  # the fallback is exercised


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
@given(z=values)
@settings(max_examples=40, deadline=None)
def test_every_activation_derivative_matches_central_differences(name, z):
    entry = ACTIVATIONS[name]
    if entry.kink is not None:
        z = z[np.abs(z - entry.kink) > 1e-3]  # away from the kink
        if z.size == 0:
            return
    np.testing.assert_allclose(entry.grad(z), _central(entry.f, z), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", [n for n in ACTIVATION_NAMES if ACTIVATIONS[n].grad_from_output])
def test_every_derivative_from_the_output_is_the_derivative_at_the_pre_activation(name):
    """The layer reads f'(Z) off its output A = f(Z) where it can: the same number."""
    entry = ACTIVATIONS[name]
    z = np.concatenate([np.linspace(-8, 8, 1601), [-40.0, -1000.0, 30.0, 1000.0]])
    if entry.kink is not None:
        z = z[np.abs(z - entry.kink) > 1e-9]  # the value at a kink is a choice
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = entry.grad_from_output(entry.f(z))
    # Where f saturates towards 1, 1 - a loses digits: the error stays below one rounding
    # of a, far under anything a gradient check or a training step can see.
    np.testing.assert_allclose(got, entry.grad(z), rtol=1e-9, atol=4e-16)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_activation_writes_into_out_keeps_the_dtype_and_never_overflows(name, dtype):
    entry = ACTIVATIONS[name]
    z = np.array([-1e30, -1000.0, -3.0, -0.5, 0.5, 3.0, 1000.0, 1e30]).astype(dtype)
    fns = [entry.f, entry.grad] + ([entry.grad_from_output] if entry.grad_from_output else [])
    for fn in fns:
        x = entry.f(z) if fn is entry.grad_from_output else z
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            fresh = fn(x)
            out = np.full_like(x, np.nan)
            returned = fn(x, out=out)
        assert returned is out and fresh.dtype == dtype
        np.testing.assert_array_equal(out, fresh)
        assert np.all(np.isfinite(fresh))


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_every_activation_passes_gradcheck_inside_a_network(name):
    rng = np.random.default_rng(4)
    model = bpkit.mlp([3, 5, 2], name, rng=rng)
    X = rng.standard_normal((6, 3))
    kink = ACTIVATIONS[name].kink
    if kink is not None:  # keep the hidden pre-activations away from the kink
        X = X[np.min(np.abs(model[0].forward(X) - kink), axis=1) > 1e-3]
    report = bpkit.gradcheck(model, X, rng.standard_normal((len(X), 2)))
    assert report.passed, str(report)


def test_a_registered_activation_reaches_the_layers_and_mlp():
    def softsign(z):  # no out= argument: the registry adapts it
        return z / (1 + np.abs(z))

    def softsign_grad(z):
        return 1 / (1 + np.abs(z)) ** 2

    try:
        bpkit.register_activation("softsign_test", softsign, softsign_grad)
        model = bpkit.mlp([2, 4, 1], "softsign_test", rng=0)
        assert bpkit.gradcheck(model, np.ones((3, 2)), np.zeros((3, 1))).passed
        with pytest.raises(ValueError, match="registered already"):
            bpkit.register_activation("softsign_test", softsign, softsign_grad)
    finally:
        ACTIVATIONS.pop("softsign_test", None)


# ---------------------------------------------------------------- losses
def _prediction(kind: str, rng, shape) -> np.ndarray:
    if kind == "probability":
        return rng.uniform(0.05, 0.95, shape)
    return rng.standard_normal(shape)


def _targets(kind: str, rng, shape) -> list:
    """Valid targets of each form the kind allows."""
    if kind == "real":
        return [rng.standard_normal(shape)]
    if kind == "probability":
        return [rng.integers(0, 2, shape).astype(np.float64), rng.uniform(0, 1, shape)]
    n, k = shape
    labels = rng.integers(0, k, n)
    return [labels, np.eye(k)[labels], rng.dirichlet(np.ones(k), n)]


@pytest.mark.parametrize("name", LOSS_NAMES)
@given(seed=st.integers(0, 2**16), n=st.integers(1, 5), k=st.integers(2, 4))
@settings(max_examples=25, deadline=None)
def test_every_loss_gradient_matches_central_differences(name, seed, n, k):
    entry = LOSSES[name]
    rng = np.random.default_rng(seed)
    pred = _prediction(entry.prediction, rng, (n, k))
    for target in _targets(entry.target, rng, (n, k)):
        numeric = numerical_gradient(lambda p, t=target: entry.value(p, t), pred)
        analytic = entry.grad(pred, target)
        assert analytic.shape == pred.shape
        assert relative_error(analytic, numeric) < 1e-7, (name, target)
        value, grad = get_loss_and_grad(name)(pred.copy(), target)  # one pass, same numbers
        np.testing.assert_allclose(value, entry.value(pred, target), rtol=1e-12)
        np.testing.assert_allclose(grad, analytic, rtol=1e-12, atol=1e-15)


def _bad_inputs(entry, rng) -> dict:
    """Inputs each loss must refuse (or all accept alike): by what they get wrong."""
    pred = _prediction(entry.prediction, rng, (3, 2))
    target = _targets(entry.target, rng, (3, 2))[0]
    nan_pred = pred.copy()
    nan_pred[1, 0] = np.nan
    cases = {
        "NaN in the prediction": (nan_pred, target),
        "infinite prediction": (np.where(pred > -10, np.inf, pred), target),
        "empty batch": (pred[:0], target[:0]),
        "complex prediction": (pred.astype(complex), target),
        "None as prediction": (None, target),
        "text as target": (pred, np.full(target.shape, "a")),
        "a prediction of another shape": (pred[:2], target),
        "a 1-D prediction": (pred[:, 0], target),
    }
    if entry.target != "class":
        nan_target = target.copy()
        nan_target[0, 1] = np.nan
        cases["NaN in the target"] = (pred, nan_target)
    if entry.target in ("probability", "class"):
        cases["a target of 2"] = (pred, np.where(target.astype(float) > -1, 2.0, 0.0))
        cases["a negative target"] = (pred, -np.ones(pred.shape))
    if entry.prediction == "probability":
        cases["a probability above 1"] = (pred + 1.0, target)
    if entry.target == "class":
        cases["a single class"] = (pred[:, :1], np.zeros(3, dtype=int))
        cases["a label out of range"] = (pred, np.array([0, 1, 2]))
        cases["rows that do not sum to 1"] = (pred, np.ones((3, 2)))
    return cases


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_every_loss_gradient_refuses_exactly_what_its_loss_refuses(name):
    """A gradient that accepts what its loss refuses returns numbers for an input whose
    loss is meaningless: the silent wrong result the refusal exists to prevent."""
    entry = LOSSES[name]
    functions = {"value": entry.value, "grad": entry.grad, "one pass": get_loss_and_grad(name)}
    for case, (pred, target) in _bad_inputs(entry, np.random.default_rng(0)).items():
        outcomes = {}
        for label, fn in functions.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # numpy's own warnings on the way to our error
                try:
                    fn(pred, target)
                    outcomes[label] = None
                except (ValueError, TypeError) as exc:
                    outcomes[label] = type(exc)
        assert outcomes["value"] is not None, f"{name} accepts {case}"
        assert len(set(outcomes.values())) == 1, (name, case, outcomes)


def test_a_registered_loss_reaches_train_and_gradcheck():
    def mae(y_pred, y_true):
        return float(np.mean(np.abs(np.asarray(y_pred) - y_true)))

    def mae_grad(y_pred, y_true):
        return np.sign(np.asarray(y_pred) - y_true) / np.size(y_pred)

    try:
        bpkit.register_loss("mae_test", mae, mae_grad)
        model = bpkit.mlp([2, 3, 1], rng=0)
        X, y = np.ones((4, 2)), np.full((4, 1), 5.0)
        assert bpkit.gradcheck(model, X, y, loss="mae_test").passed
        opt = bpkit.SGD(model.parameters(), lr=0.1)
        history = bpkit.train(model, X, y, loss="mae_test", optimizer=opt, epochs=5)
        assert history.loss[-1] < history.loss[0]
        with pytest.raises(ValueError, match="target must be one of"):
            bpkit.register_loss("x", mae, mae_grad, target="ordinal")
    finally:
        LOSSES.pop("mae_test", None)


# ---------------------------------------------------------------- optimizers
# ``weight_decay`` is L2 in the loss: the rule sees g + lambda * theta (AdamW excepted).
def _sgd(theta, grads, lr, weight_decay=0.0):
    for g in grads:
        theta = theta - lr * (g + weight_decay * theta)
        yield theta


def _momentum(theta, grads, lr, momentum=0.9, nesterov=False, weight_decay=0.0):
    v = np.zeros_like(theta)
    for g in grads:
        g = g + weight_decay * theta
        v = momentum * v + g
        theta = theta - lr * ((g + momentum * v) if nesterov else v)
        yield theta


def _adagrad(theta, grads, lr, eps=1e-8, weight_decay=0.0):
    s = np.zeros_like(theta)
    for g in grads:
        g = g + weight_decay * theta
        s = s + g * g
        theta = theta - lr * g / (np.sqrt(s) + eps)
        yield theta


def _rmsprop(theta, grads, lr, rho=0.9, eps=1e-8, weight_decay=0.0):
    s = np.zeros_like(theta)
    for g in grads:
        g = g + weight_decay * theta
        s = rho * s + (1 - rho) * g * g
        theta = theta - lr * g / (np.sqrt(s) + eps)
        yield theta


def _adam(theta, grads, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, decoupled=0.0):
    m = s = np.zeros_like(theta)
    for t, g in enumerate(grads, start=1):
        g = g + weight_decay * theta
        m = beta1 * m + (1 - beta1) * g
        s = beta2 * s + (1 - beta2) * g * g
        m_hat, s_hat = m / (1 - beta1**t), s / (1 - beta2**t)
        theta = theta - lr * (m_hat / (np.sqrt(s_hat) + eps) + decoupled * theta)
        yield theta


def _adamw(theta, grads, lr, weight_decay=0.01, **kwargs):
    # Loshchilov and Hutter: the decay stays out of Adam's averages
    yield from _adam(theta, grads, lr, decoupled=weight_decay, **kwargs)


# The textbook rule of each registered optimizer, written independently of bpkit, with
# the keyword settings to try it at. A newly registered optimizer needs an entry here.
TEXTBOOK = {
    "sgd": (_sgd, [{}, {"weight_decay": 0.1}]),
    "momentum": (
        _momentum,
        [{}, {"momentum": 0.5, "nesterov": True}, {"nesterov": True, "weight_decay": 0.05}],
    ),
    "adagrad": (_adagrad, [{}, {"eps": 1e-3, "weight_decay": 0.1}]),
    "rmsprop": (_rmsprop, [{}, {"rho": 0.5, "eps": 1e-3, "weight_decay": 0.1}]),
    "adam": (_adam, [{}, {"beta1": 0.5, "beta2": 0.9, "eps": 1e-3}, {"weight_decay": 0.1}]),
    "adamw": (_adamw, [{}, {"weight_decay": 0.3, "beta1": 0.5}]),
}


def test_every_registered_optimizer_has_a_textbook_rule_here():
    missing = sorted(set(OPTIMIZERS) - set(TEXTBOOK))
    assert not missing, f"write the textbook update rule of {missing} in TEXTBOOK"


@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
@given(seed=st.integers(0, 2**16), lr=st.floats(1e-4, 1.0), steps=st.integers(1, 6))
@settings(max_examples=25, deadline=None)
def test_every_optimizer_follows_its_textbook_rule(name, seed, lr, steps):
    rule, settings_list = TEXTBOOK[name]
    rng = np.random.default_rng(seed)
    for kwargs in settings_list:
        theta0 = rng.standard_normal((3, 2))
        grads = [rng.standard_normal((3, 2)) * 10.0 ** rng.integers(-3, 3) for _ in range(steps)]
        p = Parameter("p", theta0.copy(), np.zeros_like(theta0))
        opt = OPTIMIZERS[name]([p], lr=lr, **kwargs)
        for g, expected in zip(grads, rule(theta0.copy(), grads, lr, **kwargs), strict=True):
            p.grad[...] = g
            opt.step()
            np.testing.assert_allclose(p.value, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
def test_every_optimizer_checks_its_learning_rate_in_one_way(name):
    def make(lr):
        return OPTIMIZERS[name]([Parameter("p", np.zeros(2), np.zeros(2))], lr=lr)

    for lr in (np.int64(1), np.float32(0.5), 0.1, 3):  # numpy numbers are numbers
        assert make(lr).lr == float(lr)
    for lr in (0, -0.1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="learning rate must be a positive number"):
            make(lr)
    for lr in ("0.1", None, True, 1j):
        with pytest.raises(TypeError, match="learning rate must be a number"):
            make(lr)
    opt = make(0.1)
    with pytest.raises(ValueError, match="learning rate"):
        opt.lr = -1.0  # checked when set later too (schedules set it every epoch)
