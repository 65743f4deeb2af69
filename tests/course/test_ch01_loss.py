"""Chapter 1 (loss functions): the exercise checkers name the mistakes, the explorer moves,
and the notebook keeps the chapter conventions."""

from __future__ import annotations

import json
import pathlib
import re

import numpy as np
import pytest

import bpkit
from bpcourse.exercises import loss as ex
from bpcourse.explorers import loss as lx
from bpkit.activations import sigmoid

NOTEBOOK = pathlib.Path(__file__).resolve().parents[2] / "chapters" / "01_loss.ipynb"


def stub(*args):
    raise NotImplementedError


# ---------------------------------------------------------------- checkers
CHECKERS = [
    ex.check_mse_grad,
    ex.check_bce,
    ex.check_sigmoid_mse_logit_grad,
    ex.check_logsumexp,
]


@pytest.mark.parametrize("checker", CHECKERS)
def test_untouched_stub_is_not_attempted(checker):
    verdict = checker(stub)
    assert verdict.status == "not attempted"
    assert not verdict.attempted and not verdict.passed
    assert "not attempted" in str(verdict)
    # a function that returns None has been attempted: its `return` is missing (issue 14)
    nothing = checker(lambda *a: None)
    assert nothing.status == "failed" and "returned nothing" in nothing.message


def _mse_grad(p, y):
    return 2 * (p - y) / p.size


def _bce(p, y):
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


def _sig_mse(z, y):
    s = sigmoid(z)
    return 2 * (s - y) / z.size * s * (1 - s)


def _lse(z):
    m = z.max(axis=1, keepdims=True)
    return m[:, 0] + np.log(np.exp(z - m).sum(axis=1))


@pytest.mark.parametrize(
    ("checker", "answer"),
    [
        (ex.check_mse_grad, _mse_grad),
        (ex.check_bce, _bce),
        (ex.check_sigmoid_mse_logit_grad, _sig_mse),
        (ex.check_logsumexp, _lse),
    ],
)
def test_right_answer_passes(checker, answer):
    verdict = checker(answer)
    assert verdict.passed, str(verdict)
    verdict.raise_if_failed()


WRONG_ANSWERS = [
    # (checker, wrong answer, words the message must contain)
    (ex.check_mse_grad, lambda p, y: 2 * (y - p) / p.size, ["wrong sign"]),
    (ex.check_mse_grad, lambda p, y: (p - y) / p.size, ["constant factor of 2"]),
    (ex.check_mse_grad, lambda p, y: 2 * (p - y), ["constant factor of n", "sum"]),
    (ex.check_mse_grad, lambda p, y: p - y, ["constant factor", "2", "1/n"]),
    (ex.check_mse_grad, lambda p, y: 2 * (p - y) / len(p), ["number of rows"]),
    (ex.check_mse_grad, lambda p, y: np.sum(2 * (p - y) / p.size), ["wrong shape"]),
    (ex.check_mse_grad, lambda p, y: ((p - y) ** 2) / p.size, ["not a sign flip"]),
    (ex.check_mse_grad, lambda p, y: (2 * (p - y) / p.size).T[..., None], ["shape"]),
    (
        ex.check_bce,
        lambda p, y: np.mean(-y * np.log(p) + (1 - y) * np.log(1 - p)),
        ["brackets"],
    ),
    (ex.check_bce, lambda p, y: -_bce(p, y), ["wrong sign", "negative"]),
    (ex.check_bce, lambda p, y: len(p) * _bce(p, y), ["constant factor of n", "summed"]),
    (ex.check_bce, lambda p, y: -np.mean(y * np.log(p)), ["(1 - y)", "missing"]),
    (ex.check_bce, lambda p, y: -np.mean((1 - y) * np.log(1 - p)), ["y·log p", "missing"]),
    (ex.check_bce, lambda p, y: _bce(1 - p, y), ["swapped"]),
    (
        ex.check_bce,
        lambda p, y: -(y * np.log(p) + (1 - y) * np.log(1 - p)),
        ["wrong shape", "one loss per example"],
    ),
    (
        ex.check_sigmoid_mse_logit_grad,
        lambda z, y: 2 * (sigmoid(z) - y) / z.size,
        ["missing derivative", "σ'(z)"],
    ),
    (
        ex.check_sigmoid_mse_logit_grad,
        lambda z, y: 2 * (sigmoid(z) - y) / z.size * z * (1 - z),
        ["z(1 - z) from the logit", "output p = σ(z), not z"],
    ),
    (
        ex.check_sigmoid_mse_logit_grad,
        lambda z, y: (sigmoid(z) - y) / z.size,
        ["cross-entropy"],
    ),
    (ex.check_sigmoid_mse_logit_grad, lambda z, y: -_sig_mse(z, y), ["wrong sign"]),
    (ex.check_sigmoid_mse_logit_grad, lambda z, y: _sig_mse(z, y) / 2, ["factor of 2"]),
    (ex.check_sigmoid_mse_logit_grad, lambda z, y: _sig_mse(z, y) * z.size, ["factor of n"]),
    (
        ex.check_sigmoid_mse_logit_grad,
        lambda z, y: 2 * (z - y) / z.size * sigmoid(z) * (1 - sigmoid(z)),
        ["z - y"],
    ),
    (ex.check_logsumexp, lambda z: np.log(np.exp(z).sum(axis=1)), ["overflow"]),
    (
        ex.check_logsumexp,
        lambda z: np.log(np.exp(z - z.max(axis=1, keepdims=True)).sum(axis=1)),
        ["add it back"],
    ),
    (
        ex.check_logsumexp,
        lambda z: z.max() + np.log(np.exp(z - z.max()).sum(axis=1)),
        ["each row's own maximum"],
    ),
    (ex.check_logsumexp, lambda z: _lse(z.T), ["wrong axis"]),
    (ex.check_logsumexp, lambda z: _lse(z)[:, None], ["wrong shape", "(n,)"]),
    (ex.check_logsumexp, lambda z: z.max(axis=1), ["only the row maximum"]),
    # cold read 1.6: shifting by the row's minimum or mean overflows on a row whose
    # spread passes 709.78 (the checker has one, [-1000, 0, 1000])
    (
        ex.check_logsumexp,
        lambda z: z.min(axis=1) + np.log(np.exp(z - z.min(axis=1, keepdims=True)).sum(axis=1)),
        ["below its maximum", "minimum"],
    ),
    (
        ex.check_logsumexp,
        lambda z: z.mean(axis=1) + np.log(np.exp(z - z.mean(axis=1, keepdims=True)).sum(axis=1)),
        ["below its maximum", "mean"],
    ),
    # cold read 1.7: the base-10 logarithm is named (it was "a constant factor 0.4343")
    (
        ex.check_bce,
        lambda p, y: -np.mean(y * np.log10(p) + (1 - y) * np.log10(1 - p)),
        ["base-10", "natural log"],
    ),
]


def _library_logsumexp(z):
    return bpkit.logsumexp(z, axis=1)


def test_logsumexp_checker_refuses_the_library_function():
    """The exercise says "do not call bpkit.logsumexp" (cold read 1.6: it passed)."""
    assert np.allclose(_library_logsumexp(np.array([[1.0, 2.0]])), np.log(np.e + np.e**2))
    verdict = ex.check_logsumexp(_library_logsumexp)
    assert verdict.status == "failed" and verdict.mistake == "library-logsumexp"
    assert "write log-sum-exp yourself" in verdict.message
    # a hand-written one still passes, whatever its helper is called
    ex.check_logsumexp(ex.row_logsumexp).raise_if_failed()


@pytest.mark.parametrize(("checker", "wrong", "words"), WRONG_ANSWERS)
def test_wrong_answer_is_named(checker, wrong, words):
    verdict = checker(wrong)
    assert verdict.status == "failed", str(verdict)
    with pytest.raises(AssertionError):
        verdict.raise_if_failed()
    message = verdict.message.lower()
    for word in words:
        assert word.lower() in message, f"{word!r} not in: {verdict.message}"


@pytest.mark.parametrize("checker", CHECKERS)
def test_learner_errors_and_non_numbers_are_reported_in_words(checker):
    def broken(*args):
        return args[0].reshape(-1, 7)  # raises ValueError on every case

    verdict = checker(broken)
    assert verdict.status == "failed"
    assert "raised ValueError" in verdict.message
    verdict = checker(lambda *args: "a string")
    assert verdict.status == "failed"
    assert "should return numbers" in verdict.message


def test_checker_is_not_fooled_by_writing_into_the_inputs():
    def sneaky(p, y):
        p -= y  # overwrites the caller's array
        return 2 * p / p.size

    # the learner's in-place edit of its (copied) input must not corrupt the reference,
    # and the learner is told that the function writes into its input (issue 14)
    told = ex.check_mse_grad(sneaky)
    assert told.mistake == "mutates-input" and "`y_pred`" in told.message
    assert ex.check_mse_grad(_mse_grad).passed


def test_reference_gradient_of_the_sigmoid_mse_exercise_is_right():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(6, 2))
    y = rng.integers(0, 2, size=(6, 2)).astype(float)
    report = bpkit.gradcheck(
        lambda: bpkit.mse(sigmoid(z), y),
        {"z": z},
        {"z": ex.sigmoid_mse_logit_grad(z, y)},
    )
    assert report.passed, str(report)


# ---------------------------------------------------------------- explorer
def test_explorer_functions_match_finite_differences():
    z = np.linspace(-7.0, 7.0, 29)
    for y in (0.0, 1.0):
        for loss_fn, grad_fn in (
            (lx.cross_entropy_of_logit, lx.cross_entropy_logit_grad),
            (lx.squared_error_of_logit, lx.squared_error_logit_grad),
        ):
            numeric = bpkit.numerical_gradient(lambda zz, f=loss_fn, t=y: f(zz, t).sum(), z.copy())
            assert bpkit.relative_error(grad_fn(z, y), numeric) < 1e-7
        # the stable logits form equals the probability form where the latter is safe
        p = sigmoid(z)
        naive = -(y * np.log(p) + (1 - y) * np.log(1 - p))
        np.testing.assert_allclose(lx.cross_entropy_of_logit(z, y), naive, rtol=1e-10)
        np.testing.assert_allclose(lx.cross_entropy_logit_grad(z, y), p - y, atol=1e-15)


def test_explorer_losses_are_finite_for_extreme_logits():
    z = np.array([-1000.0, 1000.0])
    np.testing.assert_allclose(lx.cross_entropy_of_logit(z, 1.0), [1000.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(lx.cross_entropy_of_logit(z, 0.0), [0.0, 1000.0], atol=1e-12)


def test_squared_error_saturates_where_cross_entropy_does_not():
    data = lx.compute_logit_losses(z=-6.0, y=1.0)
    assert abs(data["ce_grad_at"]) > 0.99
    assert abs(data["se_grad_at"]) < 0.01
    assert data["ce_grad_at"] < 0 and data["se_grad_at"] < 0  # both push z up
    # at z = 0 with y = 1 both gradients are finite and cross-entropy's is 2x squared error's
    data0 = lx.compute_logit_losses(z=0.0, y=1.0)
    np.testing.assert_allclose(data0["ce_grad_at"], -0.5)
    np.testing.assert_allclose(data0["se_grad_at"], -0.25)


def test_explorer_rejects_a_target_that_is_not_a_label():
    with pytest.raises(ValueError, match="0 or 1"):
        lx.compute_logit_losses(z=0.0, y=0.5)


def test_explorer_sliders_move_the_result():
    explorer = lx.logit_loss_explorer()
    n_frames = np.prod([len(s.values) for s in explorer.sliders.values()])
    assert n_frames <= 60
    w = explorer.widget()
    z_slider, y_slider = w.children[0], w.children[1]
    assert w.result["z"] == -4.0 and w.result["y"] == 1.0  # the defaults
    before = w.result["ce_at"]

    z_slider.value = 4.0
    assert w.result["z"] == 4.0
    assert w.result["ce_at"] < before  # a confident right answer costs less
    np.testing.assert_allclose(w.result["ce_grad_at"], sigmoid(4.0) - 1.0)

    y_slider.value = 0.0
    assert w.result["y"] == 0.0
    np.testing.assert_allclose(w.result["ce_grad_at"], sigmoid(4.0))
    np.testing.assert_allclose(w.result["se_at"], sigmoid(4.0) ** 2)
    # the alt text follows the sliders and states the numbers shown
    text = explorer.describe_fn(w.result, {})
    assert "y = 0" in text and "z = 4" in text and f"{w.result['ce_at']:.3g}" in text


# ---------------------------------------------------------------- the notebook
@pytest.fixture(scope="module")
def notebook():
    return json.loads(NOTEBOOK.read_text(encoding="utf-8"))


def _source(cell):
    return "".join(cell["source"])


def test_notebook_exercises_have_solutions_and_checks(notebook):
    text = "\n".join(_source(c) for c in notebook["cells"])
    labels = [line.split(":label:")[1].strip() for line in text.splitlines() if ":label:" in line]
    assert len(labels) >= 5 and len(set(labels)) == len(labels)
    for label in labels:
        assert f"{{solution}} {label}" in text or f"{{solution-start}} {label}" in text, label
    assert text.count("{solution-start}") == text.count("{solution-end}")
    for checker in ("check_mse_grad", "check_bce", "check_sigmoid_mse_logit_grad"):
        assert re.search(rf"ex\.{checker}\(\s*my_", text)  # the learner's check cell
        solution_check = re.search(
            rf"ex\.{checker}\(\s*solution_\w+\s*\)\s*\.raise_if_failed", text
        )
        assert solution_check, f"the solution of {checker} must run it with raise_if_failed()"


def test_notebook_figures_have_alt_text(notebook):
    for cell in notebook["cells"]:
        src = _source(cell)
        if cell["cell_type"] == "code" and "new_figure(" in src:
            alt = cell["metadata"]["mystnb"]["image"]["alt"]
            assert len(alt) > 40, src[:60]
            assert "title=" in src or "suptitle(" in src
            assert "xlabel=" in src and "ylabel=" in src


def _glued_names(code: str) -> tuple[set[str], set[str]]:
    """Names glued by the code cells: exact names, and prefixes of f-string names."""
    exact = set(re.findall(r"glue(?:_number)?\(\s*\"(\w+)\"", code))
    prefixes = set(re.findall(r"glue(?:_number)?\(\s*f\"(\w*)\{", code))
    return exact, prefixes


# ---------------------------------------------------------------- issue 12 additions
def test_equivalent_learning_rate_checker():
    assert ex.check_equivalent_lr(stub).status == "not attempted"
    ex.check_equivalent_lr(lambda lr, n: lr * n).raise_if_failed()
    for wrong, words in [
        (lambda lr, n: lr / n, "the wrong way round"),
        (lambda lr, n: lr, "unchanged"),
        (lambda lr, n: lr * n / 2, "factor 2"),
        (lambda lr, n: lr * n * 3, "must the rates"),
    ]:
        verdict = ex.check_equivalent_lr(wrong)
        assert verdict.status == "failed" and words in verdict.message, verdict.message


def test_equivalent_rate_reproduces_the_sum_steps_for_one_output():
    rng = np.random.default_rng(0)
    y_hat, y = rng.normal(size=(64, 1)), rng.normal(size=(64, 1))
    lr_sum = 0.001
    np.testing.assert_allclose(
        ex.equivalent_mean_lr(lr_sum, 64) * bpkit.mse_grad(y_hat, y),
        lr_sum * bpkit.mse_grad(y_hat, y, reduction="sum"),
    )


@pytest.mark.parametrize(("z", "y"), [(-6.0, 0.0), (6.0, 1.0), (-4.0, 0.0)])
def test_explorer_caption_claims_no_ratio_when_the_model_is_confidently_right(z, y):
    data = lx.compute_logit_losses(z=z, y=y)
    text = lx.describe_logit_losses(data, {})
    assert "times larger" not in text and "both gradients are small" in text
    # small numbers keep their digits: never a bare 0.000
    assert "0.000 " not in text and f"{data['se_grad_at']:.3g}" in text


def test_explorer_caption_states_the_ratio_when_the_model_is_wrong():
    data = lx.compute_logit_losses(z=-6.0, y=1.0)
    ratio = abs(data["ce_grad_at"] / data["se_grad_at"])
    assert f"{ratio:.3g} times larger" in lx.describe_logit_losses(data, {})
