"""Dense, Activation and Sequential: shapes, initialisation, and the backward pass against
float64 central differences on random architectures (hypothesis)."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import bpkit
from bpkit import Activation, Dense, Sequential, gradcheck, mlp

SMOOTH = ["sigmoid", "tanh"]
LOSSES = ["mse", "binary_cross_entropy_with_logits", "softmax_cross_entropy"]


def _targets(loss, rng, n, k):
    if loss == "softmax_cross_entropy":
        return rng.integers(0, k, n)
    if loss == "binary_cross_entropy_with_logits":
        return rng.integers(0, 2, (n, k)).astype(np.float64)
    return rng.standard_normal((n, k))


@given(
    sizes=st.lists(st.integers(1, 5), min_size=2, max_size=4),
    activation=st.sampled_from(SMOOTH),
    loss=st.sampled_from(LOSSES),
    batch=st.integers(1, 6),
    seed=st.integers(0, 2**16),
)
@settings(max_examples=60, deadline=None)
def test_random_smooth_networks_pass_gradcheck(sizes, activation, loss, batch, seed):
    if loss == "softmax_cross_entropy":
        sizes = [*sizes[:-1], max(2, sizes[-1])]  # a softmax needs two classes or more
    rng = np.random.default_rng(seed)
    model = mlp(sizes, activation, rng=rng)
    X = rng.standard_normal((batch, sizes[0]))
    y = _targets(loss, rng, batch, sizes[-1])
    report = gradcheck(model, X, y, loss=loss)
    assert report.passed, str(report)
    # Central differences with h = 1e-6 carry a round-off error of about eps * |L| / h,
    # i.e. 1e-10 * |L| per entry. Where a gradient is large enough for that floor to sit
    # below 1e-7 of it, the strict bound must hold; smaller ones must still pass above.
    loss_value = abs(bpkit.get_loss(loss)[0](model.forward(X), y))
    for check in report.checks:
        if np.linalg.norm(check.numeric) > 0.02 * max(1.0, loss_value):
            assert check.error < 1e-7, str(report)


@given(
    sizes=st.lists(st.integers(1, 5), min_size=2, max_size=4),
    activation=st.sampled_from(["relu", "leaky_relu"]),
    batch=st.integers(1, 6),
    seed=st.integers(0, 2**16),
)
@settings(max_examples=40, deadline=None)
def test_random_relu_networks_pass_gradcheck_away_from_kinks(sizes, activation, batch, seed):
    rng = np.random.default_rng(seed)
    model = mlp(sizes, activation, rng=rng)
    X = rng.standard_normal((batch, sizes[0]))
    # Away from kinks: no pre-activation within 1e-4 of zero.
    A = X
    for layer in model.layers:
        if isinstance(layer, Activation):
            assume(np.min(np.abs(A)) > 1e-4)  # A is the pre-activation Z here
        A = layer.forward(A)
    y = rng.standard_normal((batch, sizes[-1]))
    report = gradcheck(model, X, y, loss="mse", tol=1e-4)
    assert report.passed, str(report)


def test_dense_shapes_and_formulas():
    rng = np.random.default_rng(0)
    layer = Dense(3, 2, rng=rng)
    assert layer.W.shape == (2, 3) and layer.b.shape == (2,)
    X = rng.standard_normal((4, 3))
    Z = layer.forward(X)
    np.testing.assert_allclose(Z, X @ layer.W.T + layer.b)
    dZ = rng.standard_normal((4, 2))
    dX = layer.backward(dZ)
    np.testing.assert_allclose(layer.dW, dZ.T @ X)
    np.testing.assert_allclose(layer.db, dZ.sum(axis=0))
    np.testing.assert_allclose(dX, dZ @ layer.W)
    names = [p.name for p in layer.parameters()]
    assert names == ["W", "b"]


@pytest.mark.parametrize(
    ("init", "expected_std"),
    [("xavier", np.sqrt(2 / (400 + 300))), ("he", np.sqrt(2 / 400)), ("normal", 0.01)],
)
def test_initialisation_variances(init, expected_std):
    W = Dense(400, 300, init=init, rng=np.random.default_rng(0)).W
    np.testing.assert_allclose(W.std(), expected_std, rtol=0.02)
    np.testing.assert_allclose(W.mean(), 0, atol=expected_std * 0.02)


def test_zero_init_and_scale():
    assert np.all(Dense(3, 2, init="zero").W == 0)
    W = Dense(200, 200, init="normal", scale=2.0, rng=0).W
    np.testing.assert_allclose(W.std(), 2.0, rtol=0.03)


def test_initialisation_is_deterministic_per_seed():
    a = mlp([3, 4, 1], rng=np.random.default_rng(7))
    b = mlp([3, 4, 1], rng=np.random.default_rng(7))
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        np.testing.assert_array_equal(p.value, q.value)


def test_random_init_without_rng_is_refused_in_words():
    with pytest.raises(TypeError, match="rng=np.random.default_rng"):
        Dense(3, 2)


def test_sequential_chains_and_names_parameters():
    model = mlp([3, 2, 1], "sigmoid", "sigmoid", rng=0)
    assert [type(layer).__name__ for layer in model.layers] == [
        "Dense",
        "Activation",
        "Dense",
        "Activation",
    ]
    assert [p.name for p in model.parameters()] == ["0.W", "0.b", "2.W", "2.b"]
    X = np.ones((2, 3))
    manual = bpkit.sigmoid(bpkit.sigmoid(X @ model[0].W.T + model[0].b) @ model[2].W.T + model[2].b)
    np.testing.assert_allclose(model.forward(X), manual)
    np.testing.assert_allclose(model.predict(X), manual)
    model.zero_grad()
    assert all(np.all(p.grad == 0) for p in model.parameters())


def test_parameters_share_memory_with_layers():
    model = mlp([2, 3, 1], rng=0)
    p = model.parameters()[0]
    p.value[0, 0] = 42.0
    assert model[0].W[0, 0] == 42.0


def test_shape_errors_name_both_shapes():
    layer = Dense(3, 2, rng=0)
    with pytest.raises(ValueError, match=r"\(batch, 3\).*\(4, 5\)"):
        layer.forward(np.zeros((4, 5)))
    layer.forward(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"\(4, 2\).*\(4, 3\)"):
        layer.backward(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="empty"):
        layer.forward(np.zeros((0, 3)))
    with pytest.raises(RuntimeError, match="forward before backward"):
        Dense(3, 2, rng=0).backward(np.zeros((1, 2)))
    with pytest.raises(ValueError, match="unknown init 'glorot'.*'xavier'"):
        Dense(3, 2, init="glorot", rng=0)
    with pytest.raises(ValueError, match="unknown activation"):
        Activation("softplus")
    with pytest.raises(ValueError, match="positive whole number"):
        Dense(0, 2, rng=0)
    with pytest.raises(TypeError, match="bpkit layers"):
        Sequential(Dense(2, 2, rng=0), "relu")


def test_float32_models_stay_float32():
    model = mlp([4, 8, 2], "tanh", dtype=np.float32, rng=0)
    X = np.ones((3, 4), dtype=np.float32)
    out = model.forward(X)
    assert out.dtype == np.float32
    model.backward(np.ones_like(out))
    assert all(p.grad.dtype == np.float32 for p in model.parameters())
    with pytest.raises(TypeError, match="float64"):
        gradcheck(model, X, np.zeros((3, 2)))
