"""Chapter 4: the reference backward pass, the bug gallery, the checkers and the explorers."""

import inspect
import itertools

import numpy as np
import pytest

import bpkit
from bpcourse import bugs
from bpcourse.exercises import backprop as ex
from bpcourse.explorers import backprop as bx
from bpkit import data
from bpkit.gradcheck import diagnose

X3, Y3 = data.three_samples()


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


def test_reference_backward_equals_sequential_with_the_books_mse():
    params = bx.chapter_params()
    model = bx.chapter_network(params)
    Y_hat = model.forward(X3)
    np.testing.assert_allclose(Y_hat, bugs.forward(params, X3)["Y_hat"], rtol=1e-12)
    model.backward(bpkit.mse_grad(Y_hat, Y3))
    grads = bugs.backward(params, X3, Y3)
    np.testing.assert_allclose(model[0].dW, grads["W1"], rtol=1e-12)
    np.testing.assert_allclose(model[0].db, grads["b1"], rtol=1e-12)
    np.testing.assert_allclose(model[2].dW, grads["W2"], rtol=1e-12)
    np.testing.assert_allclose(model[2].db, grads["b2"], rtol=1e-12)
    np.testing.assert_allclose(bugs.loss(params, X3, Y3), bpkit.mse(Y_hat, Y3), rtol=1e-12)


def test_one_example_loss_is_the_squared_error_with_no_half():
    params = bx.chapter_params()
    x, y = bx.chapter_example()
    y_hat = bugs.forward(params, x)["Y_hat"].item()
    np.testing.assert_allclose(bugs.loss(params, x, y), (y_hat - y.item()) ** 2, rtol=1e-12)


def test_loss_is_what_train_minimises_and_averages_over_every_entry():
    # two outputs: the mean divides by n * n_out, as bpkit.train(loss="mse") does
    rng = np.random.default_rng(4)
    params = bugs.init_params(3, 2, 2, rng=rng)
    X, Y = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    Y_hat = bugs.forward(params, X)["Y_hat"]
    expected = np.sum((Y_hat - Y) ** 2) / Y.size
    np.testing.assert_allclose(bugs.loss(params, X, Y), expected, rtol=1e-12)
    model = bx.chapter_network(params)
    value, _ = bpkit.losses.get_loss_and_grad("mse")(model.forward(X), Y)
    np.testing.assert_allclose(value, expected, rtol=1e-12)


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
    report = bugs.check(bug.backward, params, X3, Y3, bug.hidden, bug.output)
    wrong, words = EXPECTED[bug.name]
    assert {c.name for c in report.checks if not c.passed} == wrong
    for name, phrase in words.items():
        assert phrase in report[name].problem, report[name].problem
    # the fix passes on the same network
    assert bugs.check(bugs.backward, params, X3, Y3, bug.hidden, bug.output).passed
    # the parameters are not modified by the check
    for k, v in _gallery_params(bug).items():
        np.testing.assert_array_equal(params[k], v)


def test_missing_output_derivative_is_exactly_sigma_prime_per_example():
    # on one example the buggy gradient is the true one divided by sigma'(z_o)
    params = bx.chapter_params()
    x, y = bx.chapter_example()
    good = bugs.backward(params, x, y)
    bad = bugs.backward_missing_output_derivative(params, x, y)
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
    with pytest.raises(ValueError, match=r"Y must have shape \(3, 1\)"):
        bugs.backward(params, X3, np.ones(3))
    with pytest.raises(ValueError, match="missing"):
        bugs.forward({"W1": params["W1"]}, X3)
    with pytest.raises(ValueError, match="tanh"):
        bugs.backward_tanh_grad_as_tanh(params, X3, Y3, hidden="sigmoid")
    with pytest.raises(ValueError, match="choose one of"):
        bugs.backward(params, X3, Y3, hidden="softsign")
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
    # cold read 2 (bug 5): a factor 3 cannot come from a dropped 1/2, which gives 2
    assert "1/2" not in diagnose(3 * true, true)
    assert "1/2 in front of a squared error" in diagnose(2 * true, true)
    assert "the 2 from differentiating a square" in diagnose(true / 2, true)
    assert "differentiating a square" not in diagnose(true / 3, true)


# ------------------------------------------------------------------ exercise checkers
CHECKERS = [
    ex.check_by_hand,
    ex.check_shapes,
    ex.check_output_delta_tanh,
    ex.check_hidden_delta_tanh,
    ex.check_layer_gradients,
    ex.check_backward_tanh_linear,
    ex.check_macs,
]


@pytest.mark.parametrize("checker", CHECKERS, ids=lambda c: c.__name__)
def test_untouched_stub_is_not_attempted(checker):
    feedback = checker(stub)
    assert feedback.status == "not attempted" and "not attempted yet" in feedback.message


def test_reference_answers_pass():
    ex.check_by_hand(ex.by_hand_grad).raise_if_failed()
    ex.check_shapes(lambda: dict(ex.SHAPES_4_5_3)).raise_if_failed()
    ex.check_output_delta_tanh(ex.output_delta_tanh).raise_if_failed()
    ex.check_hidden_delta_tanh(ex.hidden_delta_tanh).raise_if_failed()
    ex.check_layer_gradients(ex.layer_grads).raise_if_failed()
    ex.check_backward_tanh_linear(
        lambda p, X, Y: bugs.backward(p, X, Y, "tanh", "identity")
    ).raise_if_failed()
    ex.check_macs(ex.macs).raise_if_failed()


def test_by_hand_reference_is_the_backprop_gradient_of_the_chapter():
    params = bx.chapter_params()
    x, y = bx.chapter_example()
    c = bugs.forward(params, x)
    value = ex.by_hand_grad(c["Y_hat"].item(), y.item(), c["A1"][0, 1], params["W2"][0, 1], x[0, 2])
    np.testing.assert_allclose(value, bugs.backward(params, x, y)["W1"][1, 2], rtol=1e-12)


def _by_hand(yh, y, a, w, x):
    return ex.by_hand_grad(yh, y, a, w, x)


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda yh, y, a, w, x: _by_hand(yh, y, a, w, x) / 2, "the 2 from differentiating"),
        (lambda yh, y, a, w, x: 2 * (yh - y) * w * a * (1 - a) * x, "output sigmoid"),
        (lambda yh, y, a, w, x: 2 * (yh - y) * yh * (1 - yh) * w * x, "hidden sigmoid"),
        (lambda yh, y, a, w, x: 2 * (yh - y) * yh * (1 - yh) * w * a * x, "σ' written as σ"),
        (lambda yh, y, a, w, x: 2 * (y - yh) * yh * (1 - yh) * w * a * (1 - a) * x, "sign"),
        (lambda yh, y, a, w, x: 2 * (yh - y) * yh * (1 - yh) * a * (1 - a) * x, "W2[0,1]"),
        # cold read 4.10: the hidden factor from ŷ, and σ for σ' at the output
        (
            lambda yh, y, a, w, x: 2 * (yh - y) * yh * (1 - yh) * w * yh * (1 - yh) * x,
            "computed from ŷ",
        ),
        (lambda yh, y, a, w, x: 2 * (yh - y) * yh * w * a * (1 - a) * x, "at the output"),
    ],
)
def test_by_hand_checker_names_the_missing_factor(answer, words):
    feedback = ex.check_by_hand(answer)
    assert feedback.status == "failed" and words in feedback.message, feedback.message


def test_shapes_checker_names_each_wrong_shape():
    shapes = dict(ex.SHAPES_4_5_3)
    shapes["dW1"], shapes["b1"], shapes["Z1"] = (4, 5), (1, 5), (5, 8)
    message = ex.check_shapes(lambda: shapes).message
    assert message.startswith("wrong shapes for b1, Z1 and dW1.")
    assert "dW1: (4, 5) is transposed: a gradient has the shape of its parameter" in message
    assert "b1: not (1, 5)" in message and "one entry per unit" in message
    assert "Z1: (5, 8) is transposed: one row per example" in message
    assert "(W1, W2, Y_hat, Delta2, dW2, Delta1 and db1 are right.)" in message
    # the right shapes are not given away (cold read 4.8): (1, 1) everywhere learns none
    # of them, and the example of a shape is none of the answers
    ones = ex.check_shapes(lambda: dict.fromkeys(ex.SHAPES_4_5_3, (1, 1)))
    assert ones.status == "failed"
    for right in set(ex.SHAPES_4_5_3.values()):
        assert str(right) not in ones.message, right
    hint = ex.check_shapes(lambda: {**ex.SHAPES_4_5_3, "W2": "3x5"}).message
    assert not any(str(right) in hint for right in ex.SHAPES_4_5_3.values())
    assert "missing" in ex.check_shapes(lambda: {"W1": (5, 4)}).message
    assert "tuple of ints" in ex.check_shapes(lambda: {**ex.SHAPES_4_5_3, "W2": "3x5"}).message


tg = bpkit.tanh_grad


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda Yh, Y, Z: 2 * (Yh - Y) / Yh.size, "derivative is missing"),
        (lambda Yh, Y, Z: 2 * (Yh - Y) / Yh.size * Yh, "tanh' written as tanh"),
        (lambda Yh, Y, Z: 2 * (Yh - Y) / Yh.size * (1 - Z**2), "wrong argument"),
        (lambda Yh, Y, Z: 2 * (Yh - Y) / Yh.size * Yh * (1 - Yh), "sigmoid output"),
        (lambda Yh, Y, Z: 2 * (Yh - Y) / len(Yh) * tg(Z), "number of rows n"),
        (lambda Yh, Y, Z: (Yh - Y) / Yh.size * tg(Z), "the 2 from"),
        (lambda Yh, Y, Z: 2 * (Yh - Y) * tg(Z), "1/N of the mean"),
        (lambda Yh, Y, Z: 2 * (Y - Yh) / Yh.size * tg(Z), "wrong sign"),
        (lambda Yh, Y, Z: (2 * (Yh - Y) / Yh.size * tg(Z)).T, "wrong shape"),
        (lambda Yh, Y, Z: 2 * (Yh - Y) / Yh.size * (1 - Yh), "the square is missing"),
        (lambda Yh, Y, Z: 2 * (Yh - Y) / Yh.size * tg(Yh), "at the activation"),
    ],
)
def test_output_delta_checker_names_the_mistake(answer, words):
    feedback = ex.check_output_delta_tanh(answer)
    assert feedback.status == "failed" and words in feedback.message, feedback.message


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda D, W, Z: D @ W, "derivative is missing"),
        (lambda D, W, Z: (D @ W) * np.tanh(Z), "tanh' written as tanh"),
        (lambda D, W, Z: (D @ W) * (1 - Z**2), "wrong argument"),
        (lambda D, W, Z: (D @ W) * bpkit.sigmoid_grad(Z), "sigmoid's derivative"),
        (lambda D, W, Z: (D @ W.T) * tg(Z), "no transpose is needed"),
        (lambda D, W, Z: -(D @ W) * tg(Z), "wrong sign"),
        (lambda D, W, Z: (D @ W) * tg(Z) * 2, "constant factor"),
        (lambda D, W, Z: (D @ W) * (1 - np.tanh(Z)), "the square is missing"),
        (lambda D, W, Z: (D @ W) * np.tanh(Z) * (1 - np.tanh(Z)), "sigmoid's pattern"),
    ],
)
def test_hidden_delta_checker_names_the_mistake(answer, words):
    feedback = ex.check_hidden_delta_tanh(answer)
    assert feedback.status == "failed" and words in feedback.message, feedback.message


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda D, A: (A.T @ D, D.sum(axis=0)), "dW is transposed"),
        (lambda D, A: (D.T @ A / len(D), D.sum(axis=0)), "the chain rule sums"),
        (lambda D, A: (D.T @ A, D), "sum Delta over the examples"),
        (lambda D, A: (D.T @ A, D.sum(axis=1)), "wrong axis"),
        (lambda D, A: (D.T @ A, D.mean(axis=0)), "you averaged"),
        (lambda D, A: D.T @ A, "return two arrays"),
        (lambda D, A: (-(D.T @ A), D.sum(axis=0)), "sign flipped"),
    ],
)
def test_layer_grads_checker_names_the_mistake(answer, words):
    feedback = ex.check_layer_gradients(answer)
    assert feedback.status == "failed" and words in feedback.message, feedback.message


def test_layer_grads_messages_use_the_chapters_index_letters():
    """j for a unit of the layer, m for a unit of the layer below (cold read 4.11)."""
    feedback = ex.check_layer_gradients(lambda D, A: (A.T @ D, D.sum(axis=0)))
    assert "dW[j, m] = Σ_i Delta[i, j] A_prev[i, m]" in feedback.message
    assert "[i, k]" not in feedback.message


def _tanh_linear(**wrong):
    return lambda p, X, Y: ex._tanh_linear_backward(p, X, Y, **wrong)


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (_tanh_linear(output_grad=bpkit.tanh_grad), "the output is linear"),
        (_tanh_linear(hidden_grad=bpkit.sigmoid_grad), "not the sigmoid's"),
        (_tanh_linear(hidden_grad=np.tanh), "tanh' written as tanh"),
        (_tanh_linear(N=4), "number of rows n"),
        (lambda p, X, Y: bugs.backward(p, X, Y, "tanh", "sigmoid"), "wrong gradients for"),
        (_tanh_linear(output_grad=lambda Yh: Yh * (1 - Yh)), "no Ŷ(1 - Ŷ) factor"),
        # cold read 4.9 and 4.10: these got a generic message or a wrong diagnosis
        (_tanh_linear(N=1), "gradient of the sum"),
        (_tanh_linear(output_grad=lambda Yh: 1 - Yh**2), "no 1 - Ŷ² factor"),
        (_tanh_linear(hidden_grad=np.ones_like), "hidden activation's derivative is missing"),
        (_tanh_linear(hidden_grad=lambda Z: 1 - Z**2), "1 - Z1² is not tanh'(Z1)"),
        (_tanh_linear(hidden_grad=bpkit.tanh_grad, hidden_input="A1"), "tanh_grad(A1)"),
        (_tanh_linear(w2_input="Z1"), "dW2 uses Z1"),
    ],
)
def test_full_backward_checker_names_the_mistake(answer, words):
    feedback = ex.check_backward_tanh_linear(answer)
    assert feedback.status == "failed" and words in feedback.message, feedback.message
    assert len(feedback.message) < 300  # a few lines, said once (cold read 4.9)


def test_full_backward_checker_does_not_call_a_wrong_input_a_missing_derivative():
    """dW2 = Delta2.T @ Z1 is too large entry by entry, like a missing derivative; it is
    named for what it is (cold read 4.10)."""
    feedback = ex.check_backward_tanh_linear(_tanh_linear(w2_input="Z1"))
    assert "missing activation derivative" not in feedback.message


def test_full_backward_checker_names_only_the_wrong_parameter():
    def half_right(p, X, Y):
        g = bugs.backward(p, X, Y, "tanh", "identity")
        g["b2"] = -g["b2"]
        return g

    feedback = ex.check_backward_tanh_linear(half_right)
    assert "wrong gradients for b2." in feedback.message and "sign flipped" in feedback.message
    missing = ex.check_backward_tanh_linear(lambda p, X, Y: {"W1": p["W1"]})
    assert "missing" in missing.message


def test_macs_rules_and_checker():
    counts = ex.macs([3, 2, 1], 1)
    # forward 3*2 + 2*1; backward: dW for both layers, dA for the second only; P = 11
    assert counts == {"forward": 8, "reverse": 8 + 8 + 2, "central differences": 2 * 11 * 8}

    def no_batch(sizes, n):
        return {k: v // n if k == "forward" else v for k, v in ex.macs(sizes, n).items()}

    def first_layer_dx(sizes, n):
        right = ex.macs(sizes, n)
        return {**right, "reverse": right["forward"] * 3}

    def no_biases(sizes, n):
        right = ex.macs(sizes, n)
        weights = sum(a * b for a, b in itertools.pairwise(sizes))
        return {**right, "central differences": 2 * weights * right["forward"]}

    def one_pass_per_param(sizes, n):
        right = ex.macs(sizes, n)
        return {**right, "central differences": right["central differences"] // 2}

    for answer, words in [
        (no_batch, "the batch"),
        (first_layer_dx, "which no parameter needs"),
        (one_pass_per_param, "two forward passes per parameter"),
        (no_biases, "the biases too"),
        (lambda s, n: [1, 2, 3], "return a dict"),
    ]:
        feedback = ex.check_macs(answer)
        assert feedback.status == "failed" and words in feedback.message, feedback.message


def test_checker_reports_a_crash_in_words():
    feedback = ex.check_hidden_delta_tanh(lambda D, W, Z: W @ D)
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
    x, y = bx.chapter_example()
    grads = bugs.backward(params, x, y)
    d = bx.compute_slope("W2[0,1]", 0.0)
    np.testing.assert_allclose(d["grad"], grads["W2"][0, 1], rtol=1e-12)
    np.testing.assert_allclose(d["loss"], bugs.loss(params, x, y), rtol=1e-12)
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


# ------------------------------------------------------------------ the network explorer
@pytest.mark.parametrize("network", bx.NETWORKS)
def test_network_trace_is_the_reference_backward_pass(network):
    trace = bx.network_trace(network)
    params = bx.chapter_params(network)
    x, y = bx.chapter_example(network)
    grads = bugs.backward(params, x, y)
    for name in ("W1", "b1", "W2", "b2"):
        np.testing.assert_allclose(trace["d" + name], grads[name], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(trace["loss"], bugs.loss(params, x, y), rtol=1e-12)
    # the hidden gradient is the sum over the output units of delta_k W_kj ...
    np.testing.assert_allclose(trace["terms"].sum(axis=0), trace["dL_da1"], rtol=1e-15)
    # ... which the matrix product computes
    np.testing.assert_allclose(trace["delta2"] @ params["W2"], trace["dL_da1"], rtol=1e-15)


def test_two_output_network_keeps_the_hidden_layer_and_has_two_paths():
    one, two = bx.chapter_params("3-2-1"), bx.chapter_params("3-2-2")
    np.testing.assert_array_equal(one["W1"], two["W1"])
    np.testing.assert_array_equal(one["W2"], two["W2"][:1])
    assert bx.network_trace("3-2-2")["terms"].shape == (2, 2)
    with pytest.raises(ValueError, match="choose one of"):
        bx.chapter_params("3-3-3")


def test_network_explorer_steps_and_networks_move_from_python():
    explorer = bx.network_explorer()
    assert explorer.n_frames() == len(bx.STEPS) * len(bx.NETWORKS) <= 64
    w = explorer.widget()
    assert w.result["step"] == 0 and w.result["trace"]["network"] == "3-2-1"
    w.children[0].value = 4
    w.children[1].value = "3-2-2"
    moved = w.result
    assert moved["step"] == 4 and moved["trace"]["network"] == "3-2-2"
    text = bx.describe_network_step(moved, {})
    t = moved["trace"]
    # the caption shows the two paths' terms and their sum
    assert "2 paths" in text and "+" in text and bx._num(t["dL_da1"][0]) in text
    assert "one path" in bx.describe_network_step(explorer.compute(step=4), {})


@pytest.mark.parametrize("step", range(len(bx.STEPS)))
def test_every_step_has_its_own_caption_and_draws(step):
    data = bx.compute_network_step(step, "3-2-2")
    text = bx.describe_network_step(data, {})
    assert text.startswith(f"Step {step}") and len(text) > 60
    from bpcourse.plotting import add_axes, new_figure

    fig = new_figure(8, 4)
    ax = add_axes(fig)
    bx.draw_network(ax, data["trace"], step)
    labels = [t.get_text() for t in ax.texts]
    # every edge is labelled with its weight; gradients appear once computed
    assert sum(s.startswith("w ") for s in labels) == 6 + 4
    has_grad = sum("\ng " in s for s in labels)
    assert has_grad == (4 if step >= 3 else 0) + (6 if step >= 6 else 0)


def test_network_step_rejects_bad_input():
    with pytest.raises(ValueError, match="between 0 and 6"):
        bx.compute_network_step(7)
    with pytest.raises(ValueError, match="choose one of"):
        bx.compute_network_step(0, "2-2-2")


def test_a_transposed_gradient_is_named_as_the_learners_array():
    # cold read 2: "W1 has shape (2, 3)" read as if the parameter W1 were (2, 3)
    def transposed_dW1(params, X, Y):
        grads = dict(ex._tanh_linear_backward(params, X, Y))
        grads["W1"] = grads["W1"].T.copy()
        return grads

    verdict = ex.check_backward_tanh_linear(transposed_dW1)
    assert verdict.status == "failed"
    assert "your gradient for W1 has shape" in verdict.message, verdict.message
    assert "transposed" in verdict.message
