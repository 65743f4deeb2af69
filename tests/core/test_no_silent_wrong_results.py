"""No silent wrong results: each input bpkit cannot handle correctly is refused with a
sentence that names the real cause, and each one it can handle gives the right answer.
Grouped by category, with hypothesis drawing the inputs, beyond the cases once observed."""

from __future__ import annotations

import copy
import pickle
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import bpkit
from bpkit import (
    SGD,
    Activation,
    Adam,
    Dense,
    Momentum,
    NonFiniteError,
    Sequential,
    ShapeError,
    TrainingDiverged,
    Value,
)
from bpkit.clipping import clip_grad_norm, global_grad_norm
from bpkit.digits import load_digits, train_val_test_split
from bpkit.losses import log_softmax
from bpkit.metrics import accuracy, confusion_matrix
from bpkit.normalization import LayerNorm
from bpkit.optim import check_flag, check_fraction, check_learning_rate, check_positive
from bpkit.train import EarlyStopping

NOT_NUMBERS = [None, "0.1", 1j, [0.1], True]
finite = st.floats(-1e3, 1e3)


# ---------------------------------------------------------------- the Value engine
@given(x=st.floats(allow_nan=True, allow_infinity=True))
@settings(max_examples=60, deadline=None)
def test_a_value_is_a_finite_number_or_refused(x):
    if np.isfinite(x):
        assert Value(x).data == x
    else:
        with pytest.raises(ValueError, match="finite"):
            Value(x)


@pytest.mark.parametrize("bad", [None, "3", 1j, [1.0], np.array([1.0, 2.0])])
def test_a_value_refuses_what_is_not_a_real_number(bad):
    with pytest.raises(TypeError, match="real number|cannot combine"):
        Value(bad)
    with pytest.raises(TypeError):
        Value(1.0) + bad


@given(a=st.floats(-1e200, 1e200), b=st.floats(-1e200, 1e200), k=st.integers(-4, 4))
@settings(max_examples=100, deadline=None)
def test_no_operation_ever_makes_an_infinite_value(a, b, k):
    """An overflow is refused in words; it never becomes a Value holding inf."""
    ops = [
        lambda: Value(a) * Value(b),
        lambda: Value(a) + Value(b),
        lambda: Value(a) ** k,
        lambda: Value(a / 1e197).exp(),
    ]
    for op in ops:
        try:
            out = op()
        except OverflowError as exc:
            assert "too large" in str(exc) or "overflows" in str(exc)
        except (ZeroDivisionError, ValueError):
            pass  # 0 ** -k, and the like: refused for their own reason
        else:
            assert np.isfinite(out.data)


def test_the_observed_value_cases():
    with pytest.raises(OverflowError, match=r"exp\(1000\).*largest float"):
        Value(1000.0).exp()
    x = Value(0.0)
    y = x**0.5
    assert y.data == 0.0  # the value exists ...
    with pytest.raises(ZeroDivisionError, match="infinite"):
        y.backward()  # ... its derivative does not
    a, b = Value(2.0), Value(-3.0)
    c = a * b + a
    twin = copy.deepcopy(c)
    twin.backward()
    twin_a, twin_b = twin._parents[0]._parents
    assert (twin_a.grad, twin_b.grad) == (-2.0, 2.0)
    assert (a.grad, b.grad) == (0.0, 0.0)  # the original is untouched


def test_deepcopy_of_a_long_chain_and_refusal_of_a_custom_backward():
    x = Value(0.5)
    y = x
    for _ in range(20_000):
        y = y * 1.0
    twin = copy.deepcopy(y)  # no recursion
    twin.backward()
    assert twin.topological_order()[0].grad == 1.0 and x.grad == 0.0

    def sin(a):
        out = Value(np.sin(a.data), (a,), "sin")

        def _backward():
            a.grad += np.cos(a.data) * out.grad

        out._backward = _backward
        return out

    with pytest.raises(TypeError, match="your own function"):
        copy.deepcopy(sin(Value(1.0)) + 1)


def test_an_operation_without_a_local_derivative_is_refused_in_backward():
    node = Value(1.0, (Value(2.0),), "sin")  # no _backward set, not in the table
    with pytest.raises(ValueError, match="'sin'.*set the new Value's _backward"):
        node.backward()


def test_a_gradient_that_overflows_is_refused():
    x = Value(1e-200)
    with pytest.raises(OverflowError, match="overflowed"):
        (x**-1.5 * 1e-100).backward()  # finite values, an infinite derivative


# ---------------------------------------------------------------- hyperparameters
@pytest.mark.parametrize(
    ("check", "good", "bad_values"),
    [
        (check_learning_rate, [np.int64(1), np.float32(0.5), 3, 1e-9], [0, -1, np.nan, np.inf]),
        (lambda v: check_positive("eps", v), [1e-8, np.float16(0.1)], [0.0, -1e-8, np.inf]),
        (lambda v: check_fraction("beta1", v), [0, 0.9, np.float32(0.5)], [1, -0.1, 1.5, np.nan]),
    ],
)
def test_one_check_per_kind_of_hyperparameter(check, good, bad_values):
    for value in good:
        assert check(value) == float(value)
    for value in bad_values:
        with pytest.raises(ValueError):
            check(value)
    for value in NOT_NUMBERS:
        with pytest.raises(TypeError, match="must be a number"):
            check(value)


@given(eps=st.one_of(st.floats(max_value=0.0), st.just(float("nan"))))
@settings(max_examples=30, deadline=None)
def test_an_error_names_the_hyperparameter_that_is_wrong(eps):
    params = [bpkit.Parameter("p", np.zeros(2), np.zeros(2))]
    with pytest.raises(ValueError, match=r"^eps must be a positive number") as info:
        Adam(params, lr=0.1, eps=eps)
    assert "learning rate" not in str(info.value)
    with pytest.raises(ValueError, match="beta2"):
        Adam(params, lr=0.1, beta2=1.0)
    with pytest.raises(ValueError, match="momentum"):
        Momentum(params, lr=0.1, momentum=-0.5)


@pytest.mark.parametrize("flag", ["no", "False", 0, 1, None])
def test_a_flag_is_true_or_false_only(flag):
    with pytest.raises(TypeError, match="nesterov must be True or False"):
        Momentum([bpkit.Parameter("p", np.zeros(2), np.zeros(2))], lr=0.1, nesterov=flag)
    assert check_flag("x", np.True_) is True


# ---------------------------------------------------------------- layers and models
@pytest.mark.parametrize("dtype", [int, np.int32, bool, np.uint8, complex, object])
def test_a_layer_of_a_non_float_type_is_refused(dtype):
    with pytest.raises(TypeError, match="floating dtype"):
        Dense(3, 2, rng=0, dtype=dtype)
    with pytest.raises(TypeError, match="floating dtype"):
        bpkit.mlp([3, 2], dtype=dtype, rng=0)


@pytest.mark.parametrize("X", [np.ones((2, 3), complex), np.full((2, 3), None), [["a"] * 3] * 2])
def test_inputs_that_are_not_real_numbers_are_refused(X):
    with pytest.raises(TypeError, match="real numbers"):
        Dense(3, 2, rng=0).forward(X)
    with pytest.raises(TypeError, match="real numbers"):
        Activation("tanh").forward(X)


def _shared(layer_kind: str) -> Sequential:
    shared = {
        "Activation": Activation("tanh"),
        "Dense": Dense(3, 3, rng=0),
        "LayerNorm": LayerNorm(3),
    }
    layer = shared[layer_kind]
    return Sequential(Dense(3, 3, rng=1), layer, Dense(3, 3, rng=2), Residual_of(layer))


def Residual_of(layer):
    from bpkit.residual import Residual

    return Residual(Sequential(layer))


@pytest.mark.parametrize("kind", ["Activation", "Dense", "LayerNorm"])
def test_a_layer_object_used_twice_is_refused(kind):
    with pytest.raises(ValueError, match="used twice.*overwrite the first one's cache"):
        _shared(kind)
    act = Activation("relu")
    with pytest.raises(ValueError, match=r"positions 1 and 3"):
        Sequential(Dense(2, 2, rng=0), act, Dense(2, 2, rng=0), act)


def _trained_pair():
    model = bpkit.mlp([2, 4, 1], rng=0)
    return model, SGD(model.parameters(), lr=0.1)


@pytest.mark.parametrize(
    "how",
    ["another model", "pickled separately", "deep-copied separately", "layer replaced"],
)
def test_an_optimizer_holding_arrays_the_model_does_not_use_is_refused(how):
    model, opt = _trained_pair()
    X, y = np.ones((3, 2)), np.zeros((3, 1))
    if how == "another model":
        model = bpkit.mlp([2, 4, 1], rng=0)
    elif how == "pickled separately":
        model, opt = pickle.loads(pickle.dumps(model)), pickle.loads(pickle.dumps(opt))
    elif how == "deep-copied separately":
        model, opt = copy.deepcopy(model), copy.deepcopy(opt)
    else:
        model.layers[0] = Dense(2, 4, rng=5)
    with pytest.raises(ValueError, match="would not train the model"):
        bpkit.train_step(model, X, y, "mse", opt)
    with pytest.raises(ValueError, match="would not train the model"):
        bpkit.train(model, X, y, loss="mse", optimizer=opt, epochs=1)


def test_pickled_together_they_train_and_a_reassigned_weight_keeps_training():
    model, opt = _trained_pair()
    model, opt = pickle.loads(pickle.dumps((model, opt)))  # one pickle: one copy of each array
    X, y = np.ones((3, 2)), np.full((3, 1), 0.5)
    bpkit.train_step(model, X, y, "mse", opt)
    model[0].W = np.zeros((4, 2))  # a reassigned weight is copied into the optimizer's array
    assert model[0].W is opt.params[0].value
    before = model[0].W.copy()
    bpkit.train_step(model, X, y, "mse", opt)
    assert not np.array_equal(model[0].W, before)
    with pytest.raises(ShapeError, match=r"\(4, 2\).*\(3, 3\)"):
        model[0].W = np.zeros((3, 3))


def _grads(model, X, y):
    model.backward(bpkit.mse_grad(model.forward(X), y))
    return [p.grad.copy() for p in model.parameters()]


@given(seed=st.integers(0, 2**16), n_val=st.integers(1, 8))
@settings(max_examples=30, deadline=None)
def test_evaluation_between_forward_and_backward_is_right_or_refused(seed, n_val):
    rng = np.random.default_rng(seed)
    model = bpkit.mlp([3, 5, 2], "sigmoid", "sigmoid", rng=rng)
    X, y, X_val = rng.standard_normal((4, 3)), rng.random((4, 2)), rng.standard_normal((n_val, 3))
    expected = _grads(model, X, y)
    out = model.forward(X)
    model.predict(X_val)  # evaluation through predict: the caches stay
    model.backward(bpkit.mse_grad(out, y))
    for p, g in zip(model.parameters(), expected, strict=True):
        np.testing.assert_allclose(p.grad, g, rtol=1e-12)
    out = model.forward(X)
    model.forward(X_val)  # evaluation through forward: the caches are X_val's
    if n_val != 4:
        with pytest.raises(ShapeError, match="forward pass on other data"):
            model.backward(bpkit.mse_grad(out, y))


@given(scale=st.floats(-5, 5))
@settings(max_examples=20, deadline=None)
def test_an_in_place_edit_of_the_returned_output_does_not_change_the_gradient(scale):
    rng = np.random.default_rng(0)
    model = bpkit.mlp([3, 4, 2], "tanh", "sigmoid", rng=rng)
    X, y = rng.standard_normal((5, 3)), rng.random((5, 2))
    expected = _grads(model, X, y)
    out = model.forward(X)
    dY = bpkit.mse_grad(out, y)
    out *= scale  # the learner reuses the array for something else
    model.backward(dY)
    for p, g in zip(model.parameters(), expected, strict=True):
        np.testing.assert_allclose(p.grad, g, rtol=1e-12)


# ---------------------------------------------------------------- losses
@given(
    z=arrays(np.float32, (3, 5), elements=st.floats(-50, 50, width=32)),
    shift=st.sampled_from([1e4, 1e6, 1e8, -1e8, 3e37]),
)
@settings(max_examples=40, deadline=None)
def test_log_softmax_keeps_small_differences_between_large_logits(z, shift):
    """log_softmax(z + c) = log_softmax(z): with float32 logits near 1e8 the differences
    between them are what is left, and they are kept."""
    shifted = (z.astype(np.float64) + shift).astype(np.float32)
    reference = log_softmax(shifted.astype(np.float64) - shift)  # the same differences
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = log_softmax(shifted)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, reference, rtol=1e-5, atol=1e-5)
    labels = np.arange(3)
    np.testing.assert_allclose(
        bpkit.softmax_cross_entropy(shifted, labels),
        -np.mean(reference[[0, 1, 2], labels]),
        rtol=1e-5,
        atol=1e-5,
    )


def test_the_observed_softmax_cases():
    z = np.full((1, 5), 1e8, dtype=np.float32)
    np.testing.assert_allclose(log_softmax(z), np.log(0.2), rtol=1e-6)
    np.testing.assert_allclose(bpkit.softmax_cross_entropy(z, np.array([0])), np.log(5), rtol=1e-6)
    with pytest.raises(ShapeError, match="softmax over 1 class is always 1"):
        bpkit.softmax_cross_entropy(np.ones((4, 1)), np.zeros(4, dtype=int))


@given(target=st.floats(allow_nan=False).filter(lambda t: not 0 <= t <= 1))
@settings(max_examples=30, deadline=None)
def test_a_binary_target_outside_0_and_1_is_refused(target):
    p, z, y = np.array([0.3, 0.8]), np.array([-1.0, 2.0]), np.array([1.0, target])
    for fn in (
        bpkit.binary_cross_entropy,
        bpkit.binary_cross_entropy_grad,
        bpkit.binary_cross_entropy_with_logits,
        bpkit.binary_cross_entropy_with_logits_grad,
    ):
        with pytest.raises(ValueError, match=r"y must hold probabilities in \[0, 1\]|NaN"):
            fn(z if "logits" in fn.__name__ else p, y)


@given(y=arrays(np.float64, (4, 3), elements=st.floats(0, 1)))
@settings(max_examples=30, deadline=None)
def test_soft_target_rows_must_sum_to_one(y):
    z = np.zeros((4, 3))
    if np.allclose(y.sum(axis=1), 1, atol=1e-9):
        bpkit.softmax_cross_entropy_grad(z, y)
    else:
        with pytest.raises(ValueError, match="sum to 1"):
            bpkit.softmax_cross_entropy_grad(z, y)


def test_nan_targets_are_blamed_on_the_data():
    with pytest.raises(NonFiniteError, match="y_true contains 1 NaN.*data"):
        bpkit.mse(np.zeros(2), np.array([np.nan, 0.0]))
    with pytest.raises(NonFiniteError, match="y_true contains 1 NaN.*data"):
        bpkit.losses.mse_and_grad(np.zeros(2), np.array([np.nan, 0.0]))


# ---------------------------------------------------------------- clipping and optimizers
@given(
    g=arrays(np.float64, (3, 4), elements=st.floats(-1, 1)),
    exponent=st.integers(-300, 300),
    max_norm=st.floats(1e-3, 1e3),
)
@settings(max_examples=60, deadline=None)
def test_clipping_is_right_for_any_finite_gradient(g, exponent, max_norm):
    """The norm of 1e200-sized entries overflows a naive sum of squares; clipping still
    returns the right norm and a gradient of length max_norm in the same direction."""
    scale = 10.0**exponent
    p = bpkit.Parameter("p", np.zeros((3, 4)), g * scale)
    norm = np.linalg.norm(g)
    if norm == 0:
        return
    np.testing.assert_allclose(global_grad_norm([p]), norm * scale, rtol=1e-12)
    np.testing.assert_allclose(clip_grad_norm([p], max_norm), norm * scale, rtol=1e-12)
    if norm * scale > max_norm:
        np.testing.assert_allclose(np.linalg.norm(p.grad), max_norm, rtol=1e-9)
        np.testing.assert_allclose(p.grad, g * (max_norm / norm), rtol=1e-9, atol=1e-300)


def test_clipping_still_refuses_nan():
    p = bpkit.Parameter("p", np.zeros(2), np.array([np.nan, 1.0]))
    with pytest.raises(NonFiniteError, match="NaN or inf"):
        clip_grad_norm([p], 1.0)


@given(g=st.floats(-6e4, 6e4), steps=st.integers(1, 20))
@settings(max_examples=40, deadline=None)
def test_float16_adam_stays_finite_and_follows_the_rule(g, steps):
    p16 = bpkit.Parameter("p", np.zeros(3, np.float16), np.zeros(3, np.float16))
    p64 = bpkit.Parameter("p", np.zeros(3), np.zeros(3))
    opt16, opt64 = Adam([p16], lr=0.01), Adam([p64], lr=0.01)
    for _ in range(steps):
        p16.grad[...] = g
        p64.grad[...] = np.float16(g)
        opt16.step()
        opt64.step()
    assert np.all(np.isfinite(p16.value)) and p16.value.dtype == np.float16
    np.testing.assert_allclose(p16.value, p64.value, rtol=1e-2, atol=2e-3)


# ---------------------------------------------------------------- training
@pytest.mark.parametrize("where", ["X", "Y"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_in_the_data_is_blamed_on_the_data_not_the_learning_rate(where, bad):
    X, y = bpkit.data.xor()
    (X if where == "X" else y)[2, 0] = bad
    model = bpkit.mlp([2, 3, 1], rng=0)
    opt = SGD(model.parameters(), lr=0.1)
    # train checks the data before it starts; train_step (no scan of the data, for speed)
    # by the step whose loss shows it, at the latest the step after (tanh(inf) is finite)
    for run in (
        lambda: bpkit.train(model, X, y, loss="mse", optimizer=opt, epochs=2),
        lambda: [bpkit.train_step(model, X, y, "mse", opt) for _ in range(2)],
    ):
        with pytest.raises(NonFiniteError, match=f"training data {where} contains") as info:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # numpy's warning on the way, e.g. inf * 0
                run()
        assert "learning rate" not in str(info.value)


def test_nan_weights_before_training_are_named():
    model = bpkit.mlp([2, 3, 1], rng=0)
    model[0].W[0, 0] = np.nan
    with pytest.raises(NonFiniteError, match=r"parameter 0\.W holds 1 NaN.*before training"):
        bpkit.train(
            model,
            *bpkit.data.xor(),
            loss="mse",
            optimizer=SGD(model.parameters(), lr=0.1),
            epochs=1,
        )


@pytest.mark.parametrize("answer", [1, "stop", [0], {"stop": True}, 0.5])
def test_a_callback_stops_training_only_by_returning_true(answer):
    model = bpkit.mlp([2, 3, 1], rng=0)
    opt = SGD(model.parameters(), lr=0.1)
    X, y = bpkit.data.xor()
    with pytest.raises(TypeError, match="return True to stop training"):
        bpkit.train(model, X, y, loss="mse", optimizer=opt, epochs=3, callback=lambda e, h: answer)
    for goes_on in (None, False, np.False_):
        h = bpkit.train(
            model, X, y, loss="mse", optimizer=opt, epochs=3, callback=lambda e, h, g=goes_on: g
        )
        assert len(h.loss) == 3
    h = bpkit.train(
        model, X, y, loss="mse", optimizer=opt, epochs=3, callback=lambda e, h: np.True_
    )
    assert len(h.loss) == 1


def test_an_early_stopping_callback_starts_afresh_in_a_new_run():
    model = bpkit.mlp([2, 3, 1], rng=0)
    opt = SGD(model.parameters(), lr=0.1)
    X, y = bpkit.data.xor()
    stop = EarlyStopping(model, monitor="val", patience=2)
    val = iter([1.0, 0.5, 0.6, 0.7, 0.9, 0.95, 0.97, 0.99])  # run 1: 4 values, run 2: 3

    def callback(epoch, history):
        history.metrics.setdefault("val", []).append(next(val))
        return stop(epoch, history)

    first = bpkit.train(model, X, y, loss="mse", optimizer=opt, epochs=5, callback=callback)
    assert len(first.loss) == 4 and stop.best_value == 0.5
    # A second run: 0.9 is worse than the first run's best, but the first run is over.
    second = bpkit.train(model, X, y, loss="mse", optimizer=opt, epochs=4, callback=callback)
    assert stop.best_value == 0.9 and stop.best_epoch == 0 and len(second.loss) == 3


def test_the_progress_bar_is_closed_when_training_diverges(capsys):
    X, y = bpkit.data.three_samples()
    model = bpkit.mlp([3, 4, 1], "tanh", rng=0)
    with pytest.raises(TrainingDiverged):
        bpkit.train(
            model,
            X,
            100 * y,
            loss="mse",
            optimizer=SGD(model.parameters(), lr=1e6),
            epochs=50,
            progress="text",
        )
    out = capsys.readouterr().out
    assert out.endswith("\n") and "training" in out  # the bar's final line was written


# ---------------------------------------------------------------- metrics and data
@given(
    scores=arrays(np.float64, (6, 3), elements=finite),
    labels=arrays(np.int64, 6, elements=st.integers(0, 2)),
)
@settings(max_examples=30, deadline=None)
def test_metrics_take_prediction_then_target_and_understand_the_old_order(scores, labels):
    assert accuracy(scores, labels) == accuracy(labels, scores)  # old order: scores second
    np.testing.assert_array_equal(
        confusion_matrix(scores, labels), confusion_matrix(labels, scores)
    )
    C = confusion_matrix(scores.argmax(axis=1), labels, 3)
    np.testing.assert_array_equal(C.sum(axis=1), np.bincount(labels, minlength=3))  # rows: truth


def test_metrics_refuse_nan_scores_and_complex_predictions():
    with pytest.raises(NonFiniteError, match="NaN"):
        accuracy(np.array([[np.nan, 1.0], [0.0, 1.0]]), np.array([0, 1]))
    with pytest.raises(TypeError, match="real numbers"):
        accuracy(np.array([0, 1], complex), np.array([0, 1]))


@pytest.mark.parametrize("dtype", [np.uint8, np.int64, int, bool])
def test_digits_refuse_an_integer_pixel_type(dtype):
    with pytest.raises(TypeError, match="floating dtype"):
        load_digits(dtype)


@given(n_per_class=st.integers(2, 12), val=st.floats(0.01, 0.4), test=st.floats(0.01, 0.4))
@settings(max_examples=50, deadline=None)
def test_a_split_never_leaves_a_part_empty(n_per_class, val, test):
    y = np.repeat(np.arange(3), n_per_class)
    X = np.arange(len(y))[:, None].astype(float)
    try:
        s = train_val_test_split(X, y, val=val, test=test, rng=0)
    except ValueError as exc:
        assert "would be empty" in str(exc) or "too few examples" in str(exc)
    else:
        assert len(s.y_train) and len(s.y_val) and len(s.y_test)
        assert len(s.y_train) + len(s.y_val) + len(s.y_test) == len(y)
