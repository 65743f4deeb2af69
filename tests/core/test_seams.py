"""The seams between bpkit's parts: the layer contract ``backward(dY, *, input_grad=True)``,
``predict`` that keeps the caches, typed exceptions, the Value engine's one table of
local derivatives, and the arrays a training step reuses without aliasing what a caller
keeps."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bpkit
from bpkit import Activation, Dense, Layer, NonFiniteError, Sequential, ShapeError, Value
from bpkit.engine import LOCAL_DERIVATIVES, local_derivatives
from bpkit.normalization import LayerNorm
from bpkit.residual import Residual


def _layers(rng) -> dict[str, Layer]:
    """One of each bpkit layer, each mapping (5, 4) to (5, 4)."""
    return {
        "Dense": Dense(4, 4, rng=rng),
        "Activation": Activation("tanh"),
        "LayerNorm": LayerNorm(4),
        "Residual": Residual(Sequential(Dense(4, 4, rng=rng), Activation("relu"))),
        "Sequential": Sequential(Dense(4, 4, rng=rng), Activation("sigmoid"), LayerNorm(4)),
    }


@pytest.mark.parametrize("name", list(_layers(np.random.default_rng(0))))
def test_every_layer_keeps_the_contract(name):
    """backward(dY, input_grad=False) returns None and fills the same parameter gradients;
    predict gives forward's output and leaves the caches alone."""
    rng = np.random.default_rng(1)
    layer = _layers(rng)[name]
    X, X_other = rng.standard_normal((5, 4)), rng.standard_normal((5, 4))
    dY = rng.standard_normal((5, 4))
    Y = layer.forward(X).copy()
    dX = layer.backward(dY)
    grads = [p.grad.copy() for p in layer.parameters()]
    assert dX.shape == X.shape
    assert layer.backward(dY, input_grad=False) is None
    for p, g in zip(layer.parameters(), grads, strict=True):
        np.testing.assert_array_equal(p.grad, g)
    np.testing.assert_allclose(layer.predict(X), Y, rtol=1e-12)
    layer.predict(X_other)  # evaluation between a forward pass and its backward pass
    np.testing.assert_allclose(layer.backward(dY), dX, rtol=1e-12)


def test_a_layer_written_before_the_contract_still_trains():
    class Doubler(Layer):  # backward(self, dY): no input_grad
        def forward(self, X):
            return 2 * np.asarray(X)

        def backward(self, dY):
            return 2 * dY

    model = Sequential(Doubler(), Dense(3, 1, rng=0))
    X, y = np.ones((4, 3)), np.zeros((4, 1))
    assert bpkit.gradcheck(model, X, y).passed
    assert Doubler().backward(np.ones(2), input_grad=False) is None
    opt = bpkit.SGD(model.parameters(), lr=0.01)
    losses = [bpkit.train_step(model, X, y, "mse", opt) for _ in range(5)]
    assert losses[-1] < losses[0]  # the first layer is asked for no dX, and copes


def test_train_step_asks_for_no_input_gradient_through_the_contract():
    class Recording(Layer):
        def __init__(self, inner):
            self.inner, self.flags = inner, []

        def forward(self, X):
            return self.inner.forward(X)

        def backward(self, dY, *, input_grad=True):
            self.flags.append(input_grad)
            return self.inner.backward(dY, input_grad=input_grad)

        def parameters(self):
            return self.inner.parameters()

    model = Recording(bpkit.mlp([2, 3, 1], rng=0))
    bpkit.train_step(
        model, np.ones((4, 2)), np.zeros((4, 1)), "mse", bpkit.SGD(model.parameters(), lr=0.1)
    )
    assert model.flags == [False]


def test_typed_exceptions_are_value_errors_and_name_both_shapes():
    with pytest.raises(ShapeError, match=r"\(batch, 3\).*\(4, 5\)"):
        Dense(3, 2, rng=0).forward(np.zeros((4, 5)))
    with pytest.raises(ShapeError, match=r"\(3,\).*\(2,\)"):
        bpkit.mse(np.zeros(3), np.zeros(2))
    with pytest.raises(NonFiniteError, match="1 NaN"):
        bpkit.mse(np.array([np.nan, 1.0]), np.zeros(2))
    assert issubclass(ShapeError, ValueError) and issubclass(NonFiniteError, ValueError)


# ---------------------------------------------------------------- the Value engine
def test_one_table_of_local_derivatives_drives_backward_and_the_graph():
    from bpcourse.graph import local_derivatives as graph_local

    a, b = Value(0.7), Value(-1.3)
    nodes = [a + b, a * b, a**3, a.exp(), a.log(), a.tanh(), a.sigmoid(), a.relu()]
    assert {"**" if n.exponent is not None else n._op for n in nodes} == set(LOCAL_DERIVATIVES)
    for node in nodes:
        assert graph_local(node) == list(local_derivatives(node))


@given(k=st.floats(-3, 3).filter(lambda k: abs(k) > 1e-3), x=st.floats(0.1, 5))
@settings(max_examples=50, deadline=None)
def test_the_exponent_is_stored_on_the_node_not_parsed_from_its_label(k, x):
    from bpcourse.graph import local_derivatives as graph_local

    node = Value(x) ** k
    assert node.exponent == k
    (local,) = graph_local(node)
    assert local == k * x ** (k - 1)  # exactly: no rounding through the label "**0.1235"


def test_a_second_backward_adds_the_same_gradients_to_the_leaves():
    a, b = Value(2.0), Value(-3.0)
    c = a * b + a
    c.backward()
    assert (a.grad, b.grad) == (-2.0, 2.0)
    c.backward()
    assert (a.grad, b.grad) == (-4.0, 4.0)  # accumulation, as PyTorch does (not -7)
    inner = c._parents[0]
    assert inner.grad == 1.0  # a node in between holds the latest pass's gradient
    c.zero_grad()
    c.backward()
    assert (a.grad, b.grad) == (-2.0, 2.0)


# ---------------------------------------------------------------- reused arrays
@given(n=st.integers(70, 300), reps=st.integers(2, 4))
@settings(max_examples=10, deadline=None)
def test_what_a_caller_keeps_is_never_overwritten_by_a_later_step(n, reps):
    """The step reuses its large arrays, but never one a caller still holds."""
    rng = np.random.default_rng(n)
    model = bpkit.mlp([8, 64, 64, 3], "relu", rng=rng)
    opt = bpkit.SGD(model.parameters(), lr=0.01)
    X, y = rng.standard_normal((n, 8)), rng.integers(0, 3, n)
    kept, copies = [], []
    for _ in range(reps):
        out = model.forward(X)  # a learner keeps the output ...
        hidden = model[1].forward(model[0].forward(X))  # ... and a layer's
        view = out[:, 0]  # ... and a view of one
        kept += [out, hidden, view]
        copies += [out.copy(), hidden.copy(), view.copy()]
        bpkit.train_step(model, X, y, "softmax_cross_entropy", opt)
    for k, c in zip(kept, copies, strict=True):
        np.testing.assert_array_equal(k, c)


def test_a_training_step_reuses_its_large_arrays_once_warm():
    rng = np.random.default_rng(0)
    model = bpkit.mlp([64, 128, 10], "relu", rng=rng)
    opt = bpkit.SGD(model.parameters(), lr=0.01)
    X, y = rng.standard_normal((512, 64)), rng.integers(0, 10, 512)
    for _ in range(3):
        bpkit.train_step(model, X, y, "softmax_cross_entropy", opt)
    ids = [id(a) for layer in model.layers for kept in layer._buffers._kept.values() for a in kept]
    for _ in range(3):
        bpkit.train_step(model, X, y, "softmax_cross_entropy", opt)
    after = [
        id(a) for layer in model.layers for kept in layer._buffers._kept.values() for a in kept
    ]
    assert after == ids and len(ids) > 3
