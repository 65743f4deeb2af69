"""The benchmark compares equal work: its plain-numpy step and bpkit's step update the
weights identically. (Timings are measured by ``make bench``, never asserted here.)"""

from __future__ import annotations

import importlib.util
import pathlib
import sys

import numpy as np
import pytest

import bpkit
from bpkit.losses import get_loss, get_loss_and_grad

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _bench_module():
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "bench" / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


bench = _bench_module()


def _setup(sizes, batch, hidden, output, loss, dtype, seed=0):
    rng = np.random.default_rng(seed)
    model = bpkit.mlp(sizes, hidden, output, rng=rng, dtype=dtype)
    # Non-zero biases, so a mistake in the bias update cannot hide behind zeros.
    for p in model.parameters():
        if p.name.endswith(".b"):
            p.value[...] = rng.standard_normal(p.value.shape)
    X = rng.standard_normal((batch, sizes[0])).astype(dtype)
    if loss == "mse":
        Y = rng.standard_normal((batch, sizes[-1])).astype(dtype)
    else:
        Y = rng.integers(0, sizes[-1], batch)
    return model, X, Y


@pytest.mark.parametrize("kind", ["plain", "preallocated"])
@pytest.mark.parametrize("arch", bench.ARCHS[:4], ids=lambda a: "-".join(map(str, a[0])))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_numpy_steps_and_bpkit_step_make_the_same_update(arch, dtype, kind):
    sizes, _, hidden, output, loss = arch
    n = 80  # 80 x 64 entries and more: bpkit reuses its arrays too
    model, X, Y = _setup(sizes, n, hidden, output, loss, dtype)
    dense = [layer for layer in model.layers if isinstance(layer, bpkit.Dense)]
    before = [d.W.copy() for d in dense]
    Ws, bs = [d.W.copy() for d in dense], [d.b.copy() for d in dense]
    lr = 0.5  # large, so that the update is far above rounding
    if kind == "plain":
        numpy_step = bench.make_plain_step(Ws, bs, hidden, output, loss, lr)
    else:
        numpy_step = bench.make_prealloc_step(Ws, bs, hidden, output, loss, lr, n)
    opt = bpkit.SGD(model.parameters(), lr=lr)
    rtol = 1e-10 if dtype == np.float64 else 2e-4
    for _ in range(3):  # several steps: the second one sees the first one's update
        numpy_loss = numpy_step(X, Y)
        bpkit_loss = bpkit.train_step(model, X, Y, loss, opt)
        np.testing.assert_allclose(bpkit_loss, numpy_loss, rtol=rtol)  # the same loss value
    for d, W, b, W0 in zip(dense, Ws, bs, before, strict=True):
        assert d.W.dtype == dtype and d.b.dtype == dtype
        assert not np.allclose(d.W, W0)  # the step moved the weights
        np.testing.assert_allclose(d.W, W, rtol=rtol, atol=rtol * 1e-2)
        np.testing.assert_allclose(d.b, b, rtol=rtol, atol=rtol * 1e-2)


@pytest.mark.parametrize("name", ["mse", "softmax_cross_entropy", "binary_cross_entropy"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_one_pass_loss_and_gradient_equal_the_two_functions(name, dtype):
    rng = np.random.default_rng(3)
    out = rng.standard_normal((6, 3)).astype(dtype)
    if name == "binary_cross_entropy":
        out = bpkit.sigmoid(out)
        targets = [(rng.random((6, 3)) > 0.5).astype(dtype)]
    elif name == "mse":
        targets = [rng.standard_normal((6, 3)).astype(dtype)]
    else:
        one_hot = np.eye(3, dtype=dtype)[rng.integers(0, 3, 6)]
        targets = [rng.integers(0, 3, 6), one_hot, rng.dirichlet(np.ones(3), 6).astype(dtype)]
    loss_fn, loss_grad = get_loss(name)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    for y in targets:
        value, grad = get_loss_and_grad(name)(out, y)
        np.testing.assert_allclose(value, loss_fn(out, y), rtol=rtol)
        np.testing.assert_allclose(grad, loss_grad(out, y), rtol=rtol, atol=rtol * 1e-3)
        assert grad.dtype == dtype


@pytest.mark.parametrize("name", ["mse", "softmax_cross_entropy"])
def test_one_pass_loss_reports_nan_and_bad_names_in_the_same_words(name):
    out = np.array([[np.nan, 1.0]])
    y = np.zeros((1, 2)) if name == "mse" else np.array([0])
    with pytest.raises(bpkit.NonFiniteError, match="1 NaN and 0 infinite"):
        get_loss_and_grad(name)(out, y)
    with pytest.raises(ValueError, match="unknown loss 'l2'"):
        get_loss_and_grad("l2")


def test_training_step_skips_only_the_unneeded_input_gradient():
    model, X, Y = _setup([3, 4, 2], 5, "tanh", "identity", "mse", np.float64)
    dY = get_loss_and_grad("mse")(model.forward(X), Y)[1]
    dX = model.backward(dY)
    grads = [p.grad.copy() for p in model.parameters()]
    assert dX.shape == X.shape
    assert model.backward(dY, input_grad=False) is None
    for g, p in zip(grads, model.parameters(), strict=True):
        np.testing.assert_allclose(p.grad, g, rtol=1e-14)
