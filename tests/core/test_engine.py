"""bpkit.Value: every operation's gradient against central differences, accumulation on
reuse, a non-recursive backward pass, and repeatability after zero_grad."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpkit import Value, numerical_gradient

finite = st.floats(min_value=-3, max_value=3, allow_nan=False)
positive = st.floats(min_value=0.1, max_value=5, allow_nan=False)

UNARY = {
    "neg": (lambda v: -v, lambda x: -x),
    "exp": (lambda v: v.exp(), math.exp),
    "tanh": (lambda v: v.tanh(), math.tanh),
    "sigmoid": (lambda v: v.sigmoid(), lambda x: 1 / (1 + math.exp(-x))),
    "square": (lambda v: v**2, lambda x: x**2),
    "cube": (lambda v: v**3, lambda x: x**3),
    "add_const": (lambda v: 2.5 + v, lambda x: 2.5 + x),
    "rsub_const": (lambda v: 1.0 - v, lambda x: 1.0 - x),
    "mul_const": (lambda v: v * -1.5, lambda x: -1.5 * x),
}


def grad_of(build, x: float) -> float:
    v = Value(x)
    out = build(v)
    out.backward()
    return v.grad


def central(f, x: float) -> float:
    arr = np.array([x])
    return float(numerical_gradient(lambda a: f(a[0]), arr)[0])


@pytest.mark.parametrize("name", sorted(UNARY))
@given(x=finite)
@settings(max_examples=30, deadline=None)
def test_unary_gradients_match_central_differences(name, x):
    build, plain = UNARY[name]
    analytic = grad_of(build, x)
    np.testing.assert_allclose(analytic, central(plain, x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(build(Value(x)).data, plain(x), rtol=1e-12)


@given(x=positive)
@settings(max_examples=30, deadline=None)
def test_log_reciprocal_and_negative_power(x):
    for build, plain in [
        (lambda v: v.log(), math.log),
        (lambda v: 1 / v, lambda a: 1 / a),
        (lambda v: v**-0.5, lambda a: a**-0.5),
    ]:
        np.testing.assert_allclose(grad_of(build, x), central(plain, x), rtol=1e-6)


@given(a=finite, b=finite)
@settings(max_examples=50, deadline=None)
def test_binary_operations(a, b):
    for build, da, db in [
        (lambda p, q: p + q, 1.0, 1.0),
        (lambda p, q: p - q, 1.0, -1.0),
        (lambda p, q: p * q, b, a),
    ]:
        p, q = Value(a), Value(b)
        build(p, q).backward()
        np.testing.assert_allclose([p.grad, q.grad], [da, db], rtol=1e-12, atol=1e-12)


def test_division_gradients():
    p, q = Value(3.0), Value(-2.0)
    (p / q).backward()
    np.testing.assert_allclose([p.grad, q.grad], [1 / -2.0, -3.0 / 4.0])


def test_relu_gradient_is_step():
    for x, expected in [(2.0, 1.0), (-2.0, 0.0)]:
        assert grad_of(lambda v: v.relu(), x) == pytest.approx(expected)
    assert Value(-3.0).relu().data == 0.0


def test_reused_node_accumulates_from_every_path():
    a = Value(3.0)
    b = a * a + a  # d/da = 2a + 1
    b.backward()
    assert a.grad == pytest.approx(7.0)
    x = Value(0.5)
    y = x.tanh()
    z = y * y + y.sigmoid()  # y used twice, x through y
    z.backward()
    f = lambda t: math.tanh(t) ** 2 + 1 / (1 + math.exp(-math.tanh(t)))  # noqa: E731
    np.testing.assert_allclose(x.grad, central(f, 0.5), rtol=1e-7)


def test_backward_twice_after_zero_grad_gives_same_gradients():
    a, b = Value(1.3), Value(-0.7)
    out = (a * b).tanh() + (a**2).exp() * b
    out.backward()
    first = (a.grad, b.grad)
    out.zero_grad()
    assert (a.grad, b.grad) == (0.0, 0.0)
    out.backward()
    np.testing.assert_allclose((a.grad, b.grad), first, rtol=0, atol=0)


def test_gradients_accumulate_without_zero_grad():
    a = Value(2.0)
    out = a * 3
    out.backward()
    out.backward()
    assert a.grad == pytest.approx(6.0)


def test_chain_of_100000_operations_needs_no_recursion():
    x = Value(0.3)
    y = x
    for _ in range(100_000):
        y = y + 0.0 * y  # two nodes per step, d/dy = 1
    y.backward()
    assert x.grad == pytest.approx(1.0)
    assert len(y.topological_order()) > 200_000


def test_topological_order_lists_parents_first():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    d = c + a
    order = d.topological_order()
    pos = {id(n): i for i, n in enumerate(order)}
    for node in order:
        for parent in node._parents:
            assert pos[id(parent)] < pos[id(node)]
    assert order[-1] is d


def test_sigmoid_of_extreme_inputs_does_not_overflow():
    assert Value(-1000.0).sigmoid().data == 0.0
    assert Value(1000.0).sigmoid().data == 1.0


def test_bad_operands_are_refused_in_words():
    with pytest.raises(TypeError, match="plain number"):
        Value(2.0) ** Value(2.0)
    with pytest.raises(TypeError, match="cannot combine"):
        Value(1.0) + "x"
    with pytest.raises(ValueError, match="positive"):
        Value(-1.0).log()
    with pytest.raises(TypeError):
        Value(Value(1.0))
    with pytest.raises(ValueError, match="not a real number"):
        Value(-2.0) ** 0.5
    with pytest.raises(ZeroDivisionError):
        Value(0.0) ** -1
