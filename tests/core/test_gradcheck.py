"""gradcheck: it passes correct gradients, fails broken ones, and names the mistake."""

import dataclasses

import numpy as np
import pytest

import bpkit
from bpkit import diagnose, gradcheck, mlp, numerical_gradient, relative_error
from bpkit.layers import Dense


def test_central_difference_is_second_order_accurate():
    x = np.array([0.7])
    exact = np.cos(0.7)
    errors = [
        abs(numerical_gradient(lambda a: np.sin(a[0]), x, h)[0] - exact) for h in (1e-2, 1e-3)
    ]
    np.testing.assert_allclose(errors[0] / errors[1], 100, rtol=0.05)  # error ~ h^2
    np.testing.assert_allclose(x, [0.7])  # restored after perturbing


def test_numerical_gradient_refuses_float32_and_bad_steps():
    with pytest.raises(TypeError, match="float64"):
        numerical_gradient(lambda a: a.sum(), np.ones(3, dtype=np.float32))
    with pytest.raises(ValueError, match="positive"):
        numerical_gradient(lambda a: a.sum(), np.ones(3), h=0)


def test_relative_error_properties():
    a = np.array([1.0, 2.0])
    assert relative_error(a, a) == 0.0
    assert relative_error(np.zeros(2), np.zeros(2)) == 0.0
    np.testing.assert_allclose(relative_error(a, -a), 1.0)
    with pytest.raises(ValueError, match=r"\(2,\) and \(3,\)"):
        relative_error(a, np.ones(3))


@pytest.mark.parametrize(
    ("broken", "words"),
    [
        (lambda g: -g, "sign flipped"),
        (lambda g: g.T, "transpose"),
        (lambda g: 4 * g, "constant factor: the analytic gradient is 4 times"),
        (lambda g: 0 * g, "all zeros"),
        (lambda g: g.ravel(), "wrong shape"),
    ],
)
def test_diagnose_names_the_mistake(broken, words):
    rng = np.random.default_rng(3)
    true = rng.standard_normal((3, 3))
    assert diagnose(true, true) is None
    assert words in diagnose(broken(true), true)


def test_diagnose_spots_missing_activation_derivative():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((4, 3))
    upstream = rng.standard_normal((4, 3))
    true = upstream * bpkit.sigmoid_grad(z)
    message = diagnose(upstream, true)
    assert "missing activation derivative" in message and "1/4" in message


def test_gradcheck_reports_the_broken_parameter():
    class SignFlippedDense(Dense):
        def backward(self, dZ):
            dX = super().backward(dZ)
            self.dW *= -1  # the deliberate bug
            return dX

    rng = np.random.default_rng(0)
    model = bpkit.Sequential(
        SignFlippedDense(3, 2, rng=rng), bpkit.Activation("tanh"), Dense(2, 1, rng=rng)
    )
    report = gradcheck(model, rng.standard_normal((5, 3)), rng.standard_normal((5, 1)))
    assert not report.passed
    assert not report["0.W"].passed and "sign flipped" in report["0.W"].problem
    assert report["0.b"].passed and report["2.W"].passed
    assert "FAILED" in str(report) and "0.W" in str(report)
    with pytest.raises(AssertionError, match="sign flipped"):
        report.raise_if_failed()


def test_gradcheck_function_form_with_a_hand_written_gradient():
    rng = np.random.default_rng(1)
    params = {"w": rng.standard_normal(3)}
    x = rng.standard_normal(3)

    def f():
        return float(np.tanh(params["w"] @ x))

    good = {"w": (1 - np.tanh(params["w"] @ x) ** 2) * x}
    bad = {"w": np.tanh(params["w"] @ x) * x}  # tanh' written as tanh
    assert gradcheck(f, params, good).passed
    assert not gradcheck(f, params, bad).passed
    with pytest.raises(ValueError, match="no entry"):
        gradcheck(f, params, {})


def test_gradcheck_catches_a_broken_library_gradient(monkeypatch):
    """The suite fails if a gradient in bpkit is broken: break the tanh derivative the
    layer uses (f' from the output A = tanh Z) and look."""
    import bpkit.layers

    model = mlp([3, 4, 1], "tanh", rng=0)
    X, y = np.ones((2, 3)), np.zeros((2, 1))
    assert gradcheck(model, X, y).passed
    act = model[1]
    broken = dataclasses.replace(act.fn, grad_from_output=lambda a, out=None: a)
    monkeypatch.setattr(act, "fn", broken)  # tanh' written as tanh
    report = gradcheck(model, X, y)
    assert not report.passed and not report["0.W"].passed
    assert bpkit.layers is not None
