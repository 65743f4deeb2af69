"""Chapter 4: the reference backward pass, the bug gallery, the checkers and the explorer."""

import inspect

import numpy as np
import pytest

import bpkit
from bpcourse import bugs
from bpcourse.exercises import backprop as ex
from bpcourse.explorers import backprop as bx
from bpkit import data
from bpkit.gradcheck import diagnose

X3, T3 = data.three_samples()


def stub(*args):
    raise NotImplementedError


# ------------------------------------------------------------------ bpcourse.bugs
@pytest.mark.parametrize(
    ("hidden", "output"), [("sigmoid", "sigmoid"), ("tanh", "sigmoid"), ("tanh", "identity")]
)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reference_backward_passes_gradcheck(hidden, output, seed):
    rng = np.random.default_rng(seed)
    params = bugs.init_params(4, 3, 2, rng=rng)
    params["b1"] += rng.standard_normal(3)
    X, T = rng.standard_normal((5, 4)), rng.standard_normal((5, 2))
    report = bugs.check(bugs.backward, params, X, T, hidden, output)
    assert report.passed and report.max_error < 1e-7, report


def test_reference_backward_equals_sequential_with_half_mean_loss():
    params = bx.chapter_params()
    model = bx.chapter_network(params)
    Y = model.forward(X3)
    np.testing.assert_allclose(Y, bugs.forward(params, X3)["Y"], rtol=1e-12)
    model.backward(bpkit.mse_grad(Y, T3, reduction="half_mean"))
    grads = bugs.backward(params, X3, T3)
    np.testing.assert_allclose(model[0].dW, grads["W1"], rtol=1e-12)
    np.testing.assert_allclose(model[0].db, grads["b1"], rtol=1e-12)
    np.testing.assert_allclose(model[2].dW, grads["W2"], rtol=1e-12)
    np.testing.assert_allclose(model[2].db, grads["b2"], rtol=1e-12)
    np.testing.assert_allclose(
        bugs.loss(params, X3, T3), bpkit.mse(Y, T3, reduction="half_mean"), rtol=1e-12
    )


def test_one_example_loss_is_half_squared_error():
    params = bx.chapter_params()
    x, t = bx.chapter_example()
    y = bugs.forward(params, x)["Y"].item()
    np.testing.assert_allclose(bugs.loss(params, x, t), 0.5 * (y - t.item()) ** 2, rtol=1e-12)


# which parameters each bug breaks, and words its diagnosis must contain
EXPECTED = {
    "missing output derivative": (
        {"W1", "b1", "W2", "b2"},
        {"W1": "missing activation derivative"},
    ),
    "x(1 - x) of the pre-activation": ({"W1", "b1", "W2", "b2"}, {}),
    "tanh' written as tanh": ({"W1", "b1"}, {}),
    "missing transpose": ({"W1"}, {"W1": "transpose"}),
    "sum vs mean": ({"W1", "b1", "W2", "b2"}, {k: "3 times" for k in ("W1", "b1", "W2", "b2")}),
}


def _gallery_params(bug):
    if bug.n_hidden == 2:
        return bx.chapter_params()
    return bugs.init_params(3, bug.n_hidden, 1, rng=np.random.default_rng(0))


@pytest.mark.parametrize("bug", bugs.BUGS, ids=lambda b: b.name)
def test_gradcheck_catches_each_bug_and_names_the_parameters(bug):
    params = _gallery_params(bug)
    report = bugs.check(bug.backward, params, X3, T3, bug.hidden, bug.output)
    wrong, words = EXPECTED[bug.name]
    assert {c.name for c in report.checks if not c.passed} == wrong
    for name, phrase in words.items():
        assert phrase in report[name].problem, report[name].problem
    # the fix passes on the same network
    assert bugs.check(bugs.backward, params, X3, T3, bug.hidden, bug.output).passed
    # the parameters are not modified by the check
    for k, v in _gallery_params(bug).items():
        np.testing.assert_array_equal(params[k], v)


def test_missing_output_derivative_is_exactly_sigma_prime_per_example():
    # on one example the buggy gradient is the true one divided by sigma'(z_o)
    params = bx.chapter_params()
    x, t = bx.chapter_example()
    good = bugs.backward(params, x, t)
    bad = bugs.backward_missing_output_derivative(params, x, t)
    s = bpkit.sigmoid_grad(bugs.forward(params, x)["Z2"]).item()
    for k in good:
        np.testing.assert_allclose(bad[k] * s, good[k], rtol=1e-12)


def test_bug_gallery_is_documented_and_marked():
    assert [b.name for b in bugs.BUGS] == list(EXPECTED)
    for bug in bugs.BUGS:
        doc = inspect.getdoc(bug.backward)
        assert doc.startswith("BUG (deliberate)") and "Fix:" in doc
        assert "# BUG" in inspect.getsource(bug.backward)
    assert "BUG" not in inspect.getdoc(bugs.backward)


def test_bugs_give_clear_errors():
    params = bx.chapter_params()
    with pytest.raises(ValueError, match=r"X must have shape \(n, 3\)"):
        bugs.forward(params, np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"T must have shape \(3, 1\)"):
        bugs.backward(params, X3, np.ones(3))
    with pytest.raises(ValueError, match="missing"):
        bugs.forward({"W1": params["W1"]}, X3)
    with pytest.raises(ValueError, match="tanh"):
        bugs.backward_tanh_grad_as_tanh(params, X3, T3, hidden="sigmoid")
    with pytest.raises(ValueError, match="choose one of"):
        bugs.backward(params, X3, T3, hidden="softsign")
    with pytest.raises(TypeError, match="rng"):
        bugs.init_params(3, 2, 1)


# ------------------------------------------------------------------ diagnose additions
def test_diagnose_single_entry_warns_it_cannot_tell_the_cause():
    message = diagnose(np.array([4.2]), np.array([1.0]))
    assert "constant factor" in message and "single entry" in message


def test_diagnose_non_integer_factor_suggests_missing_derivative():
    rng = np.random.default_rng(0)
    true = rng.standard_normal((3, 4))
    message = diagnose(true / 0.2401, true)
    assert "4.165 times" in message and "missing activation derivative" in message
    assert "single entry" not in message
    # a whole-number factor keeps its own hint
    assert "a whole number" in diagnose(3 * true, true)


# ------------------------------------------------------------------ exercise checkers
@pytest.mark.parametrize(
    "checker",
    [ex.check_output_delta, ex.check_hidden_delta, ex.check_layer_grads, ex.check_backward],
)
def test_untouched_stub_is_not_attempted(checker):
    feedback = checker(stub)
    assert feedback.status == "not attempted" and "not attempted yet" in feedback.message


def test_reference_answers_pass():
    ex.check_output_delta(ex.output_delta).raise_if_failed()
    ex.check_hidden_delta(ex.hidden_delta).raise_if_failed()
    ex.check_layer_grads(ex.layer_grads).raise_if_failed()
    ex.check_backward(lambda p, X, T: bugs.backward(p, X, T)).raise_if_failed()


sg = bpkit.sigmoid_grad


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda Y, T, Z: (Y - T) / len(Y), "missing derivative"),
        (lambda Y, T, Z: (Y - T) / len(Y) * Z * (1 - Z), "wrong argument"),
        (lambda Y, T, Z: (T - Y) / len(Y) * sg(Z), "wrong sign"),
        (lambda Y, T, Z: (Y - T) * sg(Z), "constant factor of n"),
        (lambda Y, T, Z: ((Y - T) / len(Y) * sg(Z)).T, "wrong shape"),
        (lambda Y, T, Z: (Y - T) / len(Y) * bpkit.sigmoid(Z), "σ' written as σ"),  # issue 14
    ],
)
def test_output_delta_checker_names_the_mistake(answer, words):
    feedback = ex.check_output_delta(answer)
    assert feedback.status == "failed" and words in feedback.message, feedback.message


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda D, W, Z: D @ W, "missing derivative"),
        (lambda D, W, Z: (D @ W) * Z * (1 - Z), "wrong argument"),
        (lambda D, W, Z: (D @ W.T) * sg(Z), "no transpose is needed"),
        (lambda D, W, Z: (D @ W) * bpkit.sigmoid(Z), "σ' written as σ"),
        (lambda D, W, Z: -(D @ W) * sg(Z), "wrong sign"),
        (lambda D, W, Z: (D @ W) * sg(Z) * 2, "constant factor"),
    ],
)
def test_hidden_delta_checker_names_the_mistake(answer, words):
    feedback = ex.check_hidden_delta(answer)
    assert feedback.status == "failed" and words in feedback.message, feedback.message


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda D, A: (A.T @ D, D.sum(axis=0)), "dW is transposed"),
        (lambda D, A: (D.T @ A / len(D), D.sum(axis=0)), "1/n"),
        (lambda D, A: (D.T @ A, D), "sum Delta over the examples"),
        (lambda D, A: (D.T @ A, D.sum(axis=1)), "wrong axis"),
        (lambda D, A: (D.T @ A, D.mean(axis=0)), "you averaged"),
        (lambda D, A: D.T @ A, "return two arrays"),
        (lambda D, A: (-(D.T @ A), D.sum(axis=0)), "sign flipped"),
    ],
)
def test_layer_grads_checker_names_the_mistake(answer, words):
    feedback = ex.check_layer_grads(answer)
    assert feedback.status == "failed" and words in feedback.message, feedback.message


@pytest.mark.parametrize(
    ("bug", "words"),
    [
        (bugs.backward_missing_output_derivative, "missing activation derivative"),
        (bugs.backward_sum_instead_of_mean, "3 times"),
        (bugs.backward_missing_transpose, "transposed"),
    ],
)
def test_full_backward_checker_reports_gallery_bugs(bug, words):
    feedback = ex.check_backward(lambda p, X, T: bug(p, X, T))
    assert feedback.status == "failed" and "W1" in feedback.message
    assert words in feedback.message, feedback.message


def test_full_backward_checker_names_only_the_wrong_parameter():
    def half_right(p, X, T):
        g = bugs.backward(p, X, T)
        g["b2"] = -g["b2"]
        return g

    feedback = ex.check_backward(half_right)
    assert "wrong gradients for b2." in feedback.message and "sign flipped" in feedback.message
    assert "missing" in ex.check_backward(lambda p, X, T: {"W1": p["W1"]}).message


def test_checker_reports_a_crash_in_words():
    feedback = ex.check_hidden_delta(lambda D, W, Z: W @ D)
    assert feedback.status == "failed" and "raised ValueError" in feedback.message


# ------------------------------------------------------------------ explorer
def test_slope_is_the_backprop_gradient_everywhere():
    for param in bx.SLICES:
        for offset in (-3.0, 0.0, 2.0):
            d = bx.compute_slope(param, offset)
            np.testing.assert_allclose(d["grad"], d["numeric"], rtol=1e-6, atol=1e-10)
            np.testing.assert_allclose(d["theta"], d["start"] + offset)


def test_slope_at_chapter_values_matches_reference_backward():
    params = bx.chapter_params()
    x, t = bx.chapter_example()
    grads = bugs.backward(params, x, t)
    d = bx.compute_slope("W2[0,1]", 0.0)
    np.testing.assert_allclose(d["grad"], grads["W2"][0, 1], rtol=1e-12)
    np.testing.assert_allclose(d["loss"], bugs.loss(params, x, t), rtol=1e-12)
    with pytest.raises(ValueError, match="choose one of"):
        bx.compute_slope("W9[0,0]", 0.0)


def test_explorer_sliders_move_from_python():
    explorer = bx.slope_explorer()
    w = explorer.widget()
    first = w.result
    assert first["param"] == "W2[0,1]" and first["theta"] == pytest.approx(-0.2)
    w.children[0].value = "W1[0,0]"
    w.children[1].value = 2.0
    moved = w.result
    assert moved["param"] == "W1[0,0]"
    np.testing.assert_allclose(moved["theta"], 0.2 + 2.0)
    np.testing.assert_allclose(moved["grad"], moved["numeric"], rtol=1e-6)
    assert moved["loss"] != pytest.approx(first["loss"])
    text = bx.describe_slope(moved, {})
    assert "W1[0,0]" in text and f"{moved['grad']:.5f}" in text


# ------------------------------------------------------------------ the notebook's shape
