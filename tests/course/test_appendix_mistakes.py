"""The appendices: the mistakes gallery (its shape and the facts it relies on), the FAQ,
the glossary and "where to go next".

The notebook itself is executed by nbval (``pytest chapters/a1_mistakes.ipynb``); here we
check what its prose claims, independently of its cells, so that a change in bpkit that
breaks a claim fails a test with a readable message.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bpkit
from bpcourse import bugs
from bpcourse.diagnostics import layer_grad_norms
from bpkit.clipping import clip_grad_norm, global_grad_norm

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = ROOT / "chapters"
NOTEBOOK = CHAPTERS / "a1_mistakes.ipynb"
CJK = re.compile(r"[\u4e00-\u9fff]")
REF = re.compile(r"\{ref\}`([^`<]+?)`")


def _page_text(path: Path) -> str:
    if path.suffix == ".ipynb":
        nb = nbformat.read(path, as_version=4)
        return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    return path.read_text(encoding="utf-8")


def _labels() -> set[str]:
    labels = set()
    for path in CHAPTERS.iterdir():
        if path.suffix in (".md", ".ipynb"):
            labels |= set(re.findall(r"^\(([\w-]+)\)=", _page_text(path), flags=re.M))
    return labels


@pytest.fixture(scope="module")
def notebook():
    return nbformat.read(NOTEBOOK, as_version=4)


@pytest.fixture(scope="module")
def net_data():
    X, T = bpkit.data.three_samples()
    return bugs.init_params(3, 2, 1, rng=np.random.default_rng(0)), X, T


# ------------------------------------------------------------------ notebook shape


def test_sixteen_numbered_mistakes_each_demonstrated_by_an_asserting_cell(notebook):
    cells = notebook.cells
    starts = {}
    for i, cell in enumerate(cells):
        if cell.cell_type == "markdown":
            for m in re.finditer(r"^## (\d+)\. ", cell.source, flags=re.M):
                starts[int(m.group(1))] = i
    assert sorted(starts) == list(range(1, 17)), f"sections found: {sorted(starts)}"
    bounds = [*sorted(starts.values()), len(cells)]
    for k in range(1, 17):
        section = cells[starts[k] + 1 : bounds[k]]
        code = "\n".join(c.source for c in section if c.cell_type == "code")
        assert re.search(r"\bassert\b|assert_allclose", code), (
            f"mistake {k} is described but no executed cell asserts anything"
        )
    md = "\n".join(c.source for c in cells if c.cell_type == "markdown")
    last_heading = re.findall(r"^## .+$", md, flags=re.M)[-1]
    assert last_heading == "## Summary"
    # the summary table has one row per mistake
    table_rows = re.findall(r"^\| (\d+) \|", md.split("## Summary")[-1], flags=re.M)
    assert [int(r) for r in table_rows] == list(range(1, 17))


def test_the_deliberate_error_is_expected_by_name_and_no_cell_may_raise(notebook):
    """The UnboundLocalError of mistake 3 is shown through ``expect_error`` (the cell fails
    if it does not happen); no cell is tagged to let an exception through."""
    tagged = [c.source for c in notebook.cells if "raises-exception" in c.metadata.get("tags", [])]
    assert tagged == []
    expecting = [c.source for c in notebook.cells if "with expect_error(" in c.source]
    assert len(expecting) == 1
    assert "with expect_error(UnboundLocalError):" in expecting[0]
    assert "train_buggy(" in expecting[0]


# ------------------------------------------------------------------ the facts behind the prose
@pytest.mark.parametrize("bug", bugs.BUGS, ids=lambda b: b.name)
def test_every_reproduced_bug_is_caught_and_its_fix_passes(bug):
    X, T = bpkit.data.three_samples()
    params = bugs.init_params(3, bug.n_hidden, 1, rng=np.random.default_rng(0))
    assert not bugs.check(bug.backward, params, X, T, bug.hidden, bug.output).passed
    assert bugs.check(bugs.backward, params, X, T, bug.hidden, bug.output).passed


def test_missing_output_derivative_is_diagnosed_as_such(net_data):
    params, X, T = net_data
    report = bugs.check(bugs.backward_missing_output_derivative, params, X, T)
    assert "missing activation derivative" in report["W1"].problem


def test_x_times_one_minus_x_is_sigmoid_grad_only_of_the_output():
    z = np.linspace(-4, 4, 17)
    s = bpkit.sigmoid(z)
    np.testing.assert_allclose(s * (1 - s), bpkit.sigmoid_grad(z), rtol=1e-12)
    assert np.any(z * (1 - z) < 0) and np.all(bpkit.sigmoid_grad(z) > 0)


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=2, max_value=64), st.integers(min_value=0, max_value=2**32 - 1))
def test_sum_instead_of_mean_is_off_by_exactly_the_batch_size(n, seed):
    rng = np.random.default_rng(seed)
    params = bugs.init_params(3, 2, 1, rng=rng)
    X, T = rng.standard_normal((n, 3)), rng.uniform(0, 1, (n, 1))
    true = bugs.backward(params, X, T)
    buggy = bugs.backward_sum_instead_of_mean(params, X, T)
    for name in true:
        np.testing.assert_allclose(buggy[name], n * true[name], rtol=1e-12, atol=1e-300)


def test_wrong_weight_shape_error_names_both_shapes(net_data):
    params, X, _ = net_data
    wrong = dict(params, W2=np.zeros((2, 1)))
    with pytest.raises(ValueError, match=r"\(2, 1\).*\(2, 3\)"):
        bugs.forward(wrong, X)


W = np.zeros(3)  # a module-level weight array, as in the tutorials of mistake 5


def _step_like_the_tutorial(grad):
    W -= grad  # noqa: F823, F841 (the mistake under test: the assignment makes W local)


def test_assigning_a_global_inside_a_function_raises_unbound_local_error():
    with pytest.raises(UnboundLocalError):
        _step_like_the_tutorial(np.ones(3))
    np.testing.assert_allclose(W, 0.0)  # and the global is untouched


@settings(max_examples=50, deadline=None)
@given(st.floats(min_value=-700.0, max_value=700.0))
def test_float64_sigmoid_is_never_exactly_zero_for_moderate_z(z):
    assert bpkit.sigmoid(z) > 0.0


def test_sigmoid_reaches_exactly_zero_only_far_out_but_one_much_sooner():
    assert bpkit.sigmoid(-745.0) > 0.0 and bpkit.sigmoid(-746.0) == 0.0
    assert bpkit.sigmoid(30.0) < 1.0 and bpkit.sigmoid(40.0) == 1.0


def test_a_real_loss_curve_does_not_halve_exactly_every_100_epochs():
    X, T = bpkit.data.xor()
    net = bpkit.mlp([2, 4, 1], "tanh", "sigmoid", rng=np.random.default_rng(2))
    history = bpkit.train(
        net, X, T, loss="mse", optimizer=bpkit.SGD(net.parameters(), lr=1.0), epochs=1000
    )
    logged = np.array(history.loss[::100])
    ratios = logged[:-1] / logged[1:]
    assert np.all(ratios > 1.0)  # it does decrease ...
    assert np.max(np.abs(ratios - 2.0)) > 0.5  # ... but not by a constant factor of 2


def test_sigmoid_output_cannot_beat_the_clipped_target_bound():
    rng = np.random.default_rng(4)
    x = np.linspace(-1, 1, 40)[:, None]
    y = 3 * x + 0.5 + 0.2 * rng.standard_normal(x.shape)
    bound = float(np.mean((y - np.clip(y, 0, 1)) ** 2))
    net = bpkit.mlp([1, 8, 1], "tanh", "sigmoid", rng=np.random.default_rng(1))
    history = bpkit.train(
        net, x, y, loss="mse", optimizer=bpkit.Adam(net.parameters(), lr=0.05), epochs=200
    )
    assert history.final_loss >= bound
    pred = net.predict(x)
    assert np.all((pred > 0) & (pred < 1))


def test_prediction_runs_no_backward_pass():
    class Counting(bpkit.Layer):
        def __init__(self, inner):
            self.inner, self.backward_calls = inner, 0

        def forward(self, X):
            return self.inner.forward(X)

        def backward(self, dY):
            self.backward_calls += 1
            return self.inner.backward(dY)

        def parameters(self):
            return self.inner.parameters()

    counted = Counting(bpkit.mlp([2, 3, 1], "tanh", "sigmoid", rng=np.random.default_rng(0)))
    model = bpkit.Sequential(counted)
    model.zero_grad()
    model.predict(np.ones((4, 2)))
    assert counted.backward_calls == 0
    assert all(np.all(p.grad == 0) for p in model.parameters())


@settings(max_examples=20, deadline=None)
@given(st.floats(min_value=1.01, max_value=1e6), st.floats(min_value=1e-6, max_value=0.99))
def test_clipping_never_grows_a_gradient_nor_changes_layer_ratios(above, below):
    model = bpkit.mlp([4, 8, 8, 1], "sigmoid", "identity", rng=np.random.default_rng(3))
    X = np.random.default_rng(5).standard_normal((16, 4))
    model.backward(bpkit.mse_grad(model.forward(X), np.ones((16, 1))))
    norm = global_grad_norm(model)
    before = np.array(layer_grad_norms(model))
    clip_grad_norm(model, max_norm=above * norm)  # threshold above the norm: untouched
    np.testing.assert_allclose(layer_grad_norms(model), before, rtol=0, atol=0)
    clip_grad_norm(model, max_norm=below * norm)  # below: one common factor for all
    after = np.array(layer_grad_norms(model))
    np.testing.assert_allclose(after, before * below, rtol=1e-9)
    assert np.all(after <= before)


# ------------------------------------------------------------------ FAQ, glossary, next
@pytest.mark.parametrize(
    "page", ["a1_mistakes.ipynb", "a2_faq.md", "a3_glossary.md", "a4_references.md", "a5_next.md"]
)
def test_appendix_pages_have_their_label_and_valid_links(page):
    text = _page_text(CHAPTERS / page)
    stem = {"a1": "mistakes", "a2": "faq", "a3": "glossary", "a4": "references", "a5": "next"}
    assert text.startswith(f"(appendix-{stem[page[:2]]})=\n# ")
    unknown = set(REF.findall(text)) - _labels()
    assert not unknown, f"{page} links to labels that no page defines: {sorted(unknown)}"


def test_faq_answers_the_required_questions_each_with_a_link():
    text = _page_text(CHAPTERS / "a2_faq.md")
    sections = re.split(r"^## ", text, flags=re.M)[1:]
    titles = [s.splitlines()[0].lower() for s in sections]
    for topic in (
        "matter",
        "weakness",
        "learning rate",
        "loss",
        "non-linear",
        "regularise",
        "sgd and adam variants of backpropagation",
        "adam or sgd with momentum",
        "nan",
        "adamw",
    ):
        assert any(topic in t for t in titles), f"no FAQ question about {topic!r}: {titles}"
    for section in sections:
        assert REF.search(section), f"FAQ answer without a chapter link: {section.splitlines()[0]}"


def _glossary_entries() -> dict[str, str]:
    text = _page_text(CHAPTERS / "a3_glossary.md")
    body = text.split("```{glossary}", 1)[1].rsplit("```", 1)[0]
    entries = {}
    for block in body.strip().split("\n\n"):
        lines = block.splitlines()
        if lines[0].startswith(":"):  # the directive's options
            lines = lines[1:]
        if lines:
            entries[lines[0].strip()] = " ".join(line.strip() for line in lines[1:])
    return entries


def test_glossary_has_40_to_100_terms_each_with_chinese_term_and_chapter():
    entries = _glossary_entries()
    assert 40 <= len(entries) <= 100, len(entries)
    labels = _labels()
    for term, definition in entries.items():
        assert definition, f"{term} has no definition"
        chinese = definition.split("中文：", 1)
        assert len(chinese) == 2 and CJK.search(chinese[1]), f"{term} has no Chinese term"
        refs = REF.findall(definition)
        assert refs and set(refs) <= labels, f"{term}: chapter link {refs}"


@pytest.mark.parametrize(
    ("term", "chinese"),
    [
        ("Backpropagation", "反向传播"),
        ("Loss function", "损失函数"),
        ("Gradient", "梯度"),
        ("Chain rule", "链式法则"),
        ("Learning rate", "学习率"),
        ("Vanishing gradient", "梯度消失"),
        ("Exploding gradient", "梯度爆炸"),
        ("Gradient descent", "梯度下降"),
        ("Activation function", "激活函数"),
        ("Overfitting", "过拟合"),
    ],
)
def test_glossary_uses_the_standard_chinese_terms(term, chinese):
    assert chinese in _glossary_entries()[term].split("中文：", 1)[1]


@pytest.mark.parametrize(
    ("term", "used_as"),
    [
        ("Accuracy", "accuracy"),
        ("Batch size", "batch size"),
        ("Bias correction", "bias correction"),
        ("Condition number", "condition number"),
        ("Hessian", "Hessian"),
        ("Leaky ReLU", "leaky"),
        ("Local derivative", "local derivative"),
        ("One-hot encoding", "one-hot"),
        ("Round-off error", "round-off"),
        ("Truncation error", "truncation"),
        ("Update-to-parameter ratio", "update-to-parameter ratio"),
    ],
)
def test_glossary_defines_the_terms_the_chapters_use(term, used_as):
    chapters = "\n".join(_page_text(p) for p in sorted(CHAPTERS.glob("0*.ipynb")))
    assert used_as.lower() in chapters.lower(), f"no chapter uses {used_as!r} any more"
    assert term in _glossary_entries(), f"the chapters use {used_as!r}; the glossary lacks it"


def test_next_page_code_is_illustrative_valid_python_with_current_apis():
    text = _page_text(CHAPTERS / "a5_next.md")
    assert "not executed" in text
    assert "{code-cell}" not in text  # nothing on this page runs at build time
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) == 3
    for block in blocks:
        ast.parse(block)  # at least syntactically right
    joined = "\n".join(blocks)
    for api in ("loss.backward()", "tf.GradientTape()", "jax.grad(", "optimizer.zero_grad()"):
        assert api in joined, api


# ------------------------------------------------------------------ mistakes 11 to 16 (issue 13)
def test_a_column_minus_a_flat_target_broadcasts_and_bpkit_refuses_it():
    y_hat, y = np.zeros((4, 1)), np.arange(4.0)
    assert (y_hat - y).shape == (4, 4)  # numpy: no error, the wrong shape
    with pytest.raises(ValueError, match=r"\(4, 1\).*\(4,\)"):
        bpkit.mse(y_hat, y)
    with pytest.raises(ValueError, match=r"\(4, 1\).*\(4,\)"):
        bpkit.mse_grad(y_hat, y)


@settings(max_examples=30, deadline=None)
@given(st.integers(min_value=2, max_value=40), st.integers(min_value=0, max_value=2**32 - 1))
def test_the_broadcast_loss_is_minimised_by_predicting_the_mean_target(n, seed):
    rng = np.random.default_rng(seed)
    y = rng.standard_normal(n)
    y_hat = rng.standard_normal((n, 1))
    broadcast = np.mean((y_hat - y) ** 2)
    # B = spread of the predictions around mean(y) + spread of the targets (exercise)
    np.testing.assert_allclose(
        broadcast, np.mean((y_hat[:, 0] - y.mean()) ** 2) + np.var(y), rtol=1e-10
    )
    assert np.mean((np.full((n, 1), y.mean()) - y) ** 2) <= broadcast + 1e-12


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_missing_output_derivative_is_four_times_too_large_per_example(seed):
    rng = np.random.default_rng(seed)
    params = bugs.init_params(3, 2, 1, rng=rng)
    X, Y = rng.standard_normal((1, 3)), rng.uniform(0, 1, (1, 1))
    ratio = (
        bugs.backward_missing_output_derivative(params, X, Y)["W1"]
        / bugs.backward(params, X, Y)["W1"]
    )
    assert np.all(ratio >= 4 - 1e-9)  # one example: too large, never the other way


def test_missing_output_derivative_can_flip_the_sign_on_a_batch():
    rng = np.random.default_rng(8)
    params = bugs.init_params(3, 2, 1, rng=np.random.default_rng(0))
    flipped = 0
    for _ in range(200):
        X, Y = rng.standard_normal((3, 3)), rng.uniform(0, 1, (3, 1))
        ratio = (
            bugs.backward_missing_output_derivative(params, X, Y)["W1"]
            / bugs.backward(params, X, Y)["W1"]
        )
        flipped += bool(np.any(ratio < 0))
    assert flipped > 0


def test_hand_backward_is_bpkits_gradient_of_the_books_loss():
    from bpcourse.exercises import mistakes as ex

    params, X, Y = ex.slip_problem()
    net = bpkit.Sequential(
        bpkit.Dense(3, 2, rng=0), bpkit.Activation("sigmoid"),
        bpkit.Dense(2, 1, rng=0), bpkit.Activation("sigmoid"),
    )  # fmt: skip
    for layer, name in ((net[0], "1"), (net[2], "2")):
        layer.W[...], layer.b[...] = params["W" + name], params["b" + name]
    net.backward(bpkit.mse_grad(net.forward(X), Y))
    grads = ex.hand_backward(params, X, Y)
    np.testing.assert_allclose(grads["W1"], net[0].dW, rtol=1e-12, atol=1e-16)
    np.testing.assert_allclose(grads["b2"], net[2].db, rtol=1e-12, atol=1e-16)
    assert ex.check_hand_backward(ex.hand_backward).passed


def _slip_ids():
    from bpcourse.exercises import mistakes as ex

    return [name for name, _, _ in ex.SLIPS]


@pytest.mark.parametrize("index", range(7), ids=_slip_ids())
def test_check_hand_backward_names_every_slip(index):
    from bpcourse.exercises import mistakes as ex

    name, hint, wrong = ex.SLIPS[index]
    verdict = ex.check_hand_backward(wrong)
    assert not verdict.passed and name in verdict.message and hint in verdict.message
    # every slip is wrong by the gradient check too (not just different from our answer)
    params, X, Y = ex.slip_problem()
    grads = wrong(params, X, Y)
    assert any(
        bpkit.relative_error(grads[k], v) > 1e-7 for k, v in ex.hand_backward(params, X, Y).items()
    )


def test_check_hand_backward_other_answers():
    from bpcourse.exercises import mistakes as ex

    def stub(params, X, Y):
        raise NotImplementedError

    assert not ex.check_hand_backward(stub).attempted
    flipped = ex.check_hand_backward(
        lambda p, X, Y: {k: -v for k, v in ex.hand_backward(p, X, Y).items()}
    )
    assert not flipped.passed and "sign flipped" in flipped.message
    assert "no gradient for" in ex.check_hand_backward(lambda p, X, Y: {"W1": p["W1"]}).message
    assert "raised ZeroDivisionError" in ex.check_hand_backward(lambda p, X, Y: 1 / 0).message

    def tutorial_backward(params, X, Y):  # the exercise's code: the sum's gradient
        A1 = bpkit.sigmoid(X @ params["W1"].T + params["b1"])
        Y_hat = bpkit.sigmoid(A1 @ params["W2"].T + params["b2"])
        D2 = 2 * (Y_hat - Y) * Y_hat * (1 - Y_hat)
        D1 = (D2 @ params["W2"]) * A1 * (1 - A1)
        return {"W1": D1.T @ X, "b1": D1.sum(axis=0), "W2": D2.T @ A1, "b2": D2.sum(axis=0)}

    verdict = ex.check_hand_backward(tutorial_backward)
    assert "gradient of the sum" in verdict.message and verdict.mistake == "sum-not-mean"


def test_a_misplaced_bracket_makes_the_cross_entropy_negative():
    p, y = np.array([0.9, 0.6, 0.8, 0.5]), np.array([1.0, 0.0, 1.0, 0.0])
    misplaced = -np.mean(y * np.log(p)) + np.mean((1 - y) * np.log(1 - p))
    right = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    np.testing.assert_allclose(right, bpkit.binary_cross_entropy(p, y))
    assert misplaced < 0 <= right


def test_updating_a_layer_during_the_backward_pass_breaks_the_layers_below():
    from bpcourse.exercises import mistakes as ex

    params, X, Y = ex.slip_problem()
    right = ex.hand_backward(params, X, Y)
    errors = []
    for lr in (0.01, 1.0):
        p = {k: v.copy() for k, v in params.items()}
        A1 = bpkit.sigmoid(X @ p["W1"].T + p["b1"])
        Y_hat = bpkit.sigmoid(A1 @ p["W2"].T + p["b2"])
        D2 = 2 * (Y_hat - Y) / Y.size * Y_hat * (1 - Y_hat)
        p["W2"] -= lr * (D2.T @ A1)  # the update comes too early ...
        D1 = (D2 @ p["W2"]) * A1 * (1 - A1)  # ... and the next delta uses it
        errors.append(bpkit.relative_error(D1.T @ X, right["W1"]))
    assert 1e-7 < errors[0] < errors[1]


@pytest.mark.parametrize(
    ("term", "words"),
    [
        ("Neuron", "神经元"),
        ("Input layer", "输入层"),
        ("Output layer", "输出层"),
        ("Epoch", "迭代周期"),
        ("Gain", "增益"),
        ("Velocity", "速度"),
        ("Frobenius norm", "范数"),
        ("Forward pass", "前向传播"),
        ("Backward pass", "反向传播"),
        ("Normalisation layer", "批量规范化"),
        ("Normalisation layer", "层规范化"),
        ("Inference", "推理"),
    ],
)
def test_glossary_has_the_terms_and_chinese_variants_readers_meet(term, words):
    assert words in _glossary_entries()[term]


def test_glossary_keeps_evaluation_and_inference_apart():
    entries = _glossary_entries()
    assert "推理" not in entries["Evaluation"] and "评估" in entries["Evaluation"]
    assert "labels" in entries["Inference"] and "labelled" in entries["Evaluation"]


def test_where_to_go_next_names_the_books_and_courses():
    text = _page_text(CHAPTERS / "a5_next.md")
    for item in (
        "https://d2l.ai",
        "https://zh.d2l.ai",
        "Understanding Deep Learning",
        "cs231n.github.io",
        "distill.pub",
        "神经网络与深度学习",
    ):
        assert item in text, item
