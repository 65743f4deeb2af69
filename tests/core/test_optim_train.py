"""Optimizers follow their update equations exactly; training records, converges and
stops in words when the loss diverges."""

import numpy as np
import pytest

import bpkit
from bpkit import SGD, Adam, Momentum, Parameter, TrainingDiverged, mlp, train
from bpkit.data import three_samples, xor


def _param(value, grad):
    return Parameter("p", np.array(value, dtype=np.float64), np.array(grad, dtype=np.float64))


def test_sgd_step():
    p = _param([1.0, -2.0], [0.5, 0.5])
    SGD([p], lr=0.1).step()
    np.testing.assert_allclose(p.value, [0.95, -2.05])


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_matches_its_equations(nesterov):
    p = _param([1.0], [0.0])
    opt = Momentum([p], lr=0.1, momentum=0.9, nesterov=nesterov)
    theta, v = 1.0, 0.0
    for g in [1.0, 0.5, -2.0]:
        p.grad[...] = g
        opt.step()
        v = 0.9 * v + g
        theta -= 0.1 * ((g + 0.9 * v) if nesterov else v)
        np.testing.assert_allclose(p.value, [theta])


def test_adam_matches_its_equations_and_first_step_is_lr_sized():
    p = _param([0.0, 0.0], [0.0, 0.0])
    opt = Adam([p], lr=0.01)
    assert (opt.beta1, opt.beta2, opt.eps) == (0.9, 0.999, 1e-8)
    m = s = np.zeros(2)
    theta = np.zeros(2)
    for t, g in enumerate([np.array([3.0, -1e-3]), np.array([1.0, 2.0])], start=1):
        p.grad[...] = g
        opt.step()
        m = 0.9 * m + 0.1 * g
        s = 0.999 * s + 0.001 * g * g
        theta = theta - 0.01 * (m / (1 - 0.9**t)) / (np.sqrt(s / (1 - 0.999**t)) + 1e-8)
        np.testing.assert_allclose(p.value, theta)
        if t == 1:  # bias correction: the first step is lr in every coordinate
            np.testing.assert_allclose(np.abs(p.value), 0.01, rtol=1e-4)


@pytest.mark.parametrize("lr", [0, -0.1, float("nan")])
def test_bad_learning_rates_are_refused_in_words(lr):
    with pytest.raises(ValueError, match="learning rate|finite"):
        SGD([_param([1.0], [1.0])], lr=lr)


def test_optimizer_input_errors():
    with pytest.raises(ValueError, match="no parameters"):
        SGD([], lr=0.1)
    with pytest.raises(TypeError, match=r"model.parameters\(\)"):
        SGD([np.zeros(2)], lr=0.1)
    with pytest.raises(ValueError, match="momentum"):
        Momentum([_param([1.0], [1.0])], lr=0.1, momentum=1.5)


def test_train_learns_xor_and_records_history():
    X, y = xor()
    model = mlp([2, 8, 1], "tanh", rng=np.random.default_rng(0))
    history = train(
        model,
        X,
        y,
        loss="binary_cross_entropy_with_logits",
        optimizer=Adam(model.parameters(), lr=0.05),
        epochs=300,
    )
    assert len(history.loss) == 300
    assert history.final_loss < 0.05 < history.loss[0]
    predictions = bpkit.sigmoid(model.predict(X)) > 0.5
    np.testing.assert_array_equal(predictions, y.astype(bool))


def test_minibatch_training_is_deterministic_per_seed():
    X, y = three_samples()
    runs = []
    for _ in range(2):
        model = mlp([3, 2, 1], "sigmoid", "sigmoid", rng=1)
        h = train(
            model,
            X,
            y,
            loss="mse",
            optimizer=SGD(model.parameters(), lr=0.5),
            epochs=20,
            batch_size=1,
            rng=np.random.default_rng(5),
        )
        runs.append(h.step_loss)
    np.testing.assert_allclose(runs[0], runs[1], rtol=0, atol=0)
    assert len(runs[0]) == 60


def test_divergence_stops_with_a_message_about_the_learning_rate():
    X, y = three_samples()
    model = mlp([3, 4, 1], "tanh", rng=0)
    with pytest.raises(TrainingDiverged, match="learning rate 1e\\+06.*smaller"):
        train(model, X, 100 * y, loss="mse", optimizer=SGD(model.parameters(), lr=1e6), epochs=50)


def test_train_input_errors():
    X, y = three_samples()
    model = mlp([3, 2, 1], rng=0)
    opt = SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="3 rows but Y has 2"):
        train(model, X, y[:2], loss="mse", optimizer=opt, epochs=1)
    with pytest.raises(ValueError, match="empty"):
        train(model, X[:0], y[:0], loss="mse", optimizer=opt, epochs=1)
    with pytest.raises(ValueError, match="epochs"):
        train(model, X, y, loss="mse", optimizer=opt, epochs=0)
    with pytest.raises(TypeError, match="rng"):
        train(model, X, y, loss="mse", optimizer=opt, epochs=1, batch_size=1)
