"""Activations and losses: values, particular derivatives, stability. (Every registered
activation and loss is gradient-checked by test_registries.py.)"""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import bpkit
from bpkit import numerical_gradient, relative_error
from bpkit.activations import get_activation, identity, identity_grad

SMOOTH = ["sigmoid", "tanh", "identity"]
values = arrays(np.float64, st.integers(1, 12), elements=st.floats(-6, 6))


# Every registered activation is gradient-checked, in both derivative forms, by
# tests/core/test_registries.py; here, what is particular to some of them.


def test_activation_layer_backward_uses_f_prime_of_its_own_forward():
    layer = bpkit.Activation("sigmoid")
    Z = np.array([[-3.0, 0.0, 2.0]])
    A = layer.forward(Z)
    dA = np.array([[1.0, -2.0, 0.5]])
    np.testing.assert_allclose(layer.backward(dA), dA * bpkit.sigmoid_grad(Z), rtol=1e-14)
    # the classic bug, sigma' applied to the output, gives other numbers
    assert not np.allclose(layer.backward(dA), dA * bpkit.sigmoid_grad(A))


def test_derivatives_take_the_pre_activation():
    z = np.array([-2.0, 0.0, 0.5, 3.0])
    s = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(bpkit.sigmoid_grad(z), s * (1 - s))
    # the classic bug: x(1-x) applied to z itself
    assert not np.allclose(bpkit.sigmoid_grad(z), z * (1 - z))
    np.testing.assert_allclose(bpkit.tanh_grad(z), 1 - np.tanh(z) ** 2)
    assert not np.allclose(bpkit.tanh_grad(z), np.tanh(z))
    assert bpkit.sigmoid_grad(0.0) == pytest.approx(0.25)
    assert np.max(bpkit.sigmoid_grad(np.linspace(-10, 10, 2001))) <= 0.25


def test_activations_are_stable_for_any_float():
    z = np.array([-1e308, -1000.0, -40.0, 0.0, 40.0, 1000.0, 1e308])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = bpkit.sigmoid(z)
        g = bpkit.sigmoid_grad(z)
        bpkit.tanh(z), bpkit.tanh_grad(z), bpkit.relu(z), bpkit.leaky_relu(z)
    assert bpkit.sigmoid(-1000.0) == 0.0
    assert bpkit.sigmoid(1000.0) == 1.0
    assert np.all((s >= 0) & (s <= 1)) and np.all(np.isfinite(g))
    assert bpkit.sigmoid(np.float32(-200.0)).dtype == np.float32


def test_relu_family_values():
    z = np.array([-2.0, 0.0, 3.0])
    np.testing.assert_allclose(bpkit.relu(z), [0, 0, 3])
    np.testing.assert_allclose(bpkit.relu_grad(z), [0, 0, 1])
    np.testing.assert_allclose(bpkit.leaky_relu(z, 0.1), [-0.2, 0, 3])
    np.testing.assert_allclose(bpkit.leaky_relu_grad(z, 0.1), [0.1, 0.1, 1])
    np.testing.assert_allclose(identity(z), z)
    np.testing.assert_allclose(identity_grad(z), 1)


def test_unknown_activation_lists_valid_names():
    with pytest.raises(ValueError, match="unknown activation 'sigmod'.*'sigmoid'.*'tanh'"):
        get_activation("sigmod")


# ---------------------------------------------------------------- losses
def _check_loss_grad(loss, grad, pred, target, tol=1e-7):
    pred = np.array(pred, dtype=np.float64)
    numeric = numerical_gradient(lambda p: loss(p, target), pred)
    assert relative_error(grad(pred, target), numeric) < tol


@pytest.mark.parametrize("reduction", ["mean", "sum", "half_mean", "half_sum"])
def test_mse_and_its_gradient(reduction):
    rng = np.random.default_rng(0)
    pred, y = rng.standard_normal((5, 2)), rng.standard_normal((5, 2))
    scale = {"mean": 1 / 10, "sum": 1, "half_mean": 1 / 20, "half_sum": 1 / 2}[reduction]
    np.testing.assert_allclose(bpkit.mse(pred, y, reduction), scale * np.sum((pred - y) ** 2))
    _check_loss_grad(
        lambda p, t: bpkit.mse(p, t, reduction),
        lambda p, t: bpkit.mse_grad(p, t, reduction),
        pred,
        y,
    )


def test_binary_cross_entropy_value_has_brackets_right():
    p, y = np.array([0.9, 0.2, 0.6]), np.array([1.0, 0.0, 1.0])
    expected = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    np.testing.assert_allclose(bpkit.binary_cross_entropy(p, y), expected)
    _check_loss_grad(bpkit.binary_cross_entropy, bpkit.binary_cross_entropy_grad, p, y)


@given(z=arrays(np.float64, st.integers(1, 8), elements=st.floats(-30, 30)))
@settings(max_examples=40, deadline=None)
def test_bce_with_logits_equals_probability_form_and_gradient_is_p_minus_y(z):
    y = (np.arange(z.size) % 2).astype(np.float64)
    p = bpkit.sigmoid(z)
    # Where p is within 1e-6 of 0 or 1, 1 - p loses digits to rounding and the probability
    # form is inaccurate (the reason the logits form exists), so compare away from there;
    # -log(1 - p) is accurate only to about eps in absolute terms, hence the atol too.
    if np.all((p > 1e-6) & (p < 1 - 1e-6)):
        np.testing.assert_allclose(
            bpkit.binary_cross_entropy_with_logits(z, y),
            bpkit.binary_cross_entropy(p, y),
            rtol=1e-6,
            atol=1e-12,
        )
    np.testing.assert_allclose(bpkit.binary_cross_entropy_with_logits_grad(z, y), (p - y) / z.size)


def test_bce_with_logits_gradient_and_extremes():
    z, y = np.array([-2.0, 0.3, 4.0]), np.array([0.0, 1.0, 1.0])
    _check_loss_grad(
        bpkit.binary_cross_entropy_with_logits, bpkit.binary_cross_entropy_with_logits_grad, z, y
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        big = bpkit.binary_cross_entropy_with_logits(np.array([1000.0]), np.array([0.0]))
    np.testing.assert_allclose(big, 1000.0)


def test_softmax_cross_entropy_labels_and_one_hot_agree():
    rng = np.random.default_rng(1)
    z = rng.standard_normal((4, 3))
    labels = np.array([0, 2, 1, 2])
    onehot = np.eye(3)[labels]
    expected = -np.mean(np.log(np.exp(z[np.arange(4), labels]) / np.exp(z).sum(axis=1)))
    np.testing.assert_allclose(bpkit.softmax_cross_entropy(z, labels), expected)
    np.testing.assert_allclose(bpkit.softmax_cross_entropy(z, onehot), expected)
    _check_loss_grad(
        lambda a, t: bpkit.softmax_cross_entropy(a, t),
        bpkit.softmax_cross_entropy_grad,
        z,
        labels,
    )


def test_softmax_and_logsumexp_never_overflow():
    z = np.array([[1000.0, 1000.0, -1000.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(bpkit.softmax(z), [[0.5, 0.5, 0.0]])
        np.testing.assert_allclose(bpkit.logsumexp(z), [1000.0 + np.log(2)])
        loss = bpkit.softmax_cross_entropy(z, np.array([2]))
    np.testing.assert_allclose(loss, 2000.0 + np.log(2))


def test_losses_refuse_bad_input_in_words():
    with pytest.raises(ValueError, match=r"shape \(3,\).*shape \(2,\)"):
        bpkit.mse(np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match="NaN"):
        bpkit.mse(np.array([np.nan, 1.0]), np.zeros(2))
    with pytest.raises(ValueError, match="infinite"):
        bpkit.softmax_cross_entropy(np.array([[np.inf, 0.0]]), np.array([0]))
    with pytest.raises(ValueError, match="empty"):
        bpkit.mse(np.zeros(0), np.zeros(0))
    with pytest.raises(ValueError, match="empty"):
        bpkit.softmax_cross_entropy_grad(np.zeros((0, 3)), np.zeros(0, dtype=int))
    with pytest.raises(ValueError, match="unknown reduction"):
        bpkit.mse(np.zeros(2), np.zeros(2), "avg")
    with pytest.raises(ValueError, match="probabilities"):
        bpkit.binary_cross_entropy(np.array([1.5]), np.array([1.0]))
    with pytest.raises(ValueError, match="labels must lie in 0..2"):
        bpkit.softmax_cross_entropy(np.zeros((1, 3)), np.array([3]))
    with pytest.raises(ValueError, match="unknown loss 'l2'"):
        bpkit.get_loss("l2")


@pytest.mark.parametrize("shape", [(1, 1), (5, 1), (7, 2), (64, 10), (9, 33), (3, 200)])
def test_row_max_equals_numpy_max_over_each_row(shape):
    """The training loss shifts logits by each row's max, taken column by column for speed."""
    from bpkit.losses import _row_max

    z = np.random.default_rng(1).standard_normal(shape)
    z[0, -1] = np.inf
    got = _row_max(z)
    np.testing.assert_array_equal(got, z.max(axis=1, keepdims=True))
    assert got.shape == (shape[0], 1)
    z[-1, 0] = np.nan
    assert np.isnan(_row_max(z)[-1, 0])
