"""The one exercise engine: every checker runs on it, and what it says is right.

Part 1 audits every registered ``Check`` (all chapters): the right answer passes, the stub
is not attempted, every named mistake fed back is named as itself, no two answers agree on
all the cases (so a message cannot name the wrong mistake), and the fallback for an
unanticipated answer speaks the exercise's own language. Part 2 tests the runner's rules
on small checks: a missing return, an input written in place, an exception matched by
type, a diagnosis shared by several parts said once, details on request, and what the
static page shows.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from bpcourse.exercises import (
    Check,
    Feedback,
    Mistake,
    WrongForm,
    all_checks,
    check_function,
    compare_arrays,
    expect_error,
)
from bpcourse.exercises import feedback as fbmod

ROOT = Path(__file__).resolve().parents[2]
CHECKS = all_checks()
GRADIENT_CHECKS = {"ex-bp-full-backward", "ex-mistakes-fix"}  # gradient checks by design


def stub(*args):
    raise NotImplementedError


# ------------------------------------------------------------------ part 1: every check
def test_every_chapter_module_registers_its_checks():
    assert len(CHECKS) >= 27
    prefixes = {label.split("-")[1] for label in CHECKS}
    assert prefixes >= {"loss", "gd", "chain", "bp", "upd", "vanish", "capstone", "mistakes"}


@pytest.mark.parametrize("label", sorted(CHECKS))
def test_reference_passes_and_stub_is_not_attempted(label):
    check = CHECKS[label]
    fb = check.run(stub)
    assert fb.status == "not attempted" and "not attempted yet" in str(fb)
    if check.call is None:
        assert check.run(check.reference).passed


@pytest.mark.parametrize("label", sorted(CHECKS))
def test_no_two_answers_agree_on_every_case(label):
    assert CHECKS[label].ambiguities() == []


# A harness check's mistakes are results, not learner functions: the chapter's own tests
# feed it learner functions (tests/course/test_ch03_chain_rule.py for the sin op).
PLAIN = sorted(label for label, check in CHECKS.items() if check.call is None)


@pytest.mark.parametrize("label", PLAIN)
def test_every_mistake_fed_back_is_named_as_itself(label):
    check = CHECKS[label]
    for mistake in check.named_mistakes():
        fb = check.run(mistake.answer)
        assert fb.mistake == mistake.key, (mistake.key, fb.message)
        assert fb.message == mistake.hint
        assert mistake.name, "give every mistake a stable name"


def _unanticipated(check: Check):
    """A wrong answer no mistake anticipates: the right answer, perturbed entry by entry."""

    def answer(*args):
        right = check.reference(*args)
        bend = lambda a: np.asarray(a, dtype=float) * 1.1 + 0.37  # noqa: E731
        if isinstance(right, dict):
            return {k: bend(v) for k, v in right.items()}
        if isinstance(right, tuple | list):
            return type(right)(bend(v) for v in right)
        return bend(right)

    return answer


GRADIENT_WORDS = re.compile(
    r"gradient check|chain.rule|activation derivative|analytic|numerical noise", re.I
)


@pytest.mark.parametrize("label", sorted(set(PLAIN) - GRADIENT_CHECKS))
def test_the_fallback_speaks_the_exercises_language(label):
    check = CHECKS[label]
    fb = check.run(_unanticipated(check))
    assert fb.status == "failed" and fb.mistake not in {m.key for m in check.named_mistakes()}
    assert not GRADIENT_WORDS.search(fb.message), fb.message
    assert "numerical noise" not in fb.message
    assert len(fb.message) < 400, fb.message
    assert fb.details  # the numbers are there on request


@pytest.mark.parametrize("label", sorted(CHECKS))
def test_a_function_that_returns_nothing_is_told_so(label):
    fb = CHECKS[label].run(lambda *args: None)
    assert fb.status == "failed" and fb.mistake == "returned-nothing"
    assert "returned nothing (a missing `return`?)" in fb.message


# ------------------------------------------------------------------ part 2: the runner
def test_check_function_keeps_its_old_signature_and_names_mistakes():
    fb = check_function(
        "ex",
        lambda x: 3 * x,
        lambda x: 2 * x,
        [(np.arange(3.0),)],
        "your answer",
        1e-6,
        1e-9,
        [("you tripled it", lambda x: 3 * x)],
    )
    assert (
        fb.status == "failed" and fb.message == "you tripled it" and fb.mistake == "you-tripled-it"
    )
    assert check_function("ex", lambda x: 2 * x, lambda x: 2 * x, [(np.ones(2),)]).passed


@pytest.mark.parametrize(
    ("answer", "words", "kind"),
    [
        (lambda x: -2 * x, "sign flipped", "sign"),
        (lambda x: 4 * x, "constant factor", "factor"),
        (lambda x: (2 * x).T, "wrong shape", "shape"),
        (lambda x: (2 * x).ravel(), "wrong shape", "shape"),
        (lambda x: np.full_like(x, np.nan), "NaN", "nonfinite"),
        (lambda x: 0 * x, "zero", "zero"),
        (lambda x: 2 * x * (1 + 1e-5), "close but not within the tolerance", "close"),
        (lambda x: "two x", "should return numbers", "wrong-form"),
    ],
)
def test_the_neutral_fallback_names_the_pattern(answer, words, kind):
    fb = check_function("ex", answer, lambda x: 2 * x, [(np.arange(6.0).reshape(2, 3) + 1,)])
    assert fb.status == "failed" and words in fb.message and fb.mistake == kind, fb.message
    with pytest.raises(AssertionError, match="ex"):
        fb.raise_if_failed()


def test_an_exception_in_the_learners_code_is_reported_not_raised():
    fb = check_function("ex", lambda x: x @ np.ones((5, 5)), lambda x: x, [(np.ones((2, 3)),)])
    assert fb.status == "failed" and "raised ValueError" in fb.message and fb.mistake == "raised"


def test_a_mistake_is_recognised_by_the_exception_type_it_raises():
    check = Check(
        "ex",
        lambda a, b: a @ b,
        [(np.ones((2, 3)), np.ones((3, 4))), (np.eye(3), np.arange(9.0).reshape(3, 3))],
        [Mistake("b is transposed", lambda a, b: a @ b.T, "b-transposed")],
        on_error={ValueError: "Check the shapes."},
    )
    # raises on the first case (typed: ValueError, as the mistake does), wrong on the second
    assert check.run(lambda a, b: a @ b.T).mistake == "b-transposed"
    other = check.run(lambda a, b: b @ a)  # raises too, but the mistake's numbers differ
    assert other.mistake == "raised" and other.message.endswith("Check the shapes.")


def test_writing_into_an_input_is_told_and_harmless():
    def in_place(x):
        x *= 2
        return x

    check = Check("ex", lambda x: 2 * x, [(np.arange(3.0),)])
    fb = check.run(in_place)
    assert fb.status == "failed" and fb.mistake == "mutates-input" and "`x`" in fb.message
    assert np.array_equal(check.case_list()[0][0], np.arange(3.0))  # the case is intact
    noted = Check("ex", lambda x: 2 * x, [(np.arange(3.0),)], mutation="note").run(in_place)
    assert noted.passed and "in place" in noted.message


def test_arguments_are_passed_by_name_when_the_names_match():
    check = Check("ex", lambda y_pred, y_true: y_pred - y_true, [(np.ones(2), np.zeros(2))])

    def swapped(y_true, y_pred):  # the learner wrote the other order, with the same names
        return y_pred - y_true

    assert check.run(swapped).passed
    assert not check.run(lambda t, p: p - t).passed  # other names: by position


def test_a_pattern_shared_by_several_parts_is_said_once():
    check = Check(
        "ex",
        lambda a: {"W": 2 * a, "b": a.sum(axis=0)},
        [(np.arange(6.0).reshape(3, 2) + 1,)],
        noun="gradients",
    )
    fb = check.run(lambda a: {"W": 6 * a, "b": 3 * a.sum(axis=0)})
    assert fb.message.count("3 times") == 1 and "wrong gradients for W and b." in fb.message
    one = check.run(lambda a: {"W": 2 * a, "b": -a.sum(axis=0)})
    assert "wrong gradients for b." in one.message and "(W is right.)" in one.message
    missing = check.run(lambda a: {"W": 2 * a})
    assert "no gradient for ['b']" in missing.message


def test_a_result_of_the_wrong_form_raises_wrongform_inside_the_engine():
    with pytest.raises(WrongForm, match=r"return two arrays \(dW and db\) as a tuple"):
        fbmod._conform(np.ones(2), [np.ones(2), np.ones(2)], ("dW", "db"))


def test_details_are_on_request_in_text_and_html():
    fb = check_function("ex", lambda x: 4 * x, lambda x: 2 * x, [(np.arange(3.0),)])
    assert "yours" in fb.details and "the right" in fb.details
    assert "yours" not in fb.message
    html = fb._repr_html_()
    assert 'role="status"' in html and "<details><summary>Details</summary>" in html
    assert Feedback("ex 1", "failed", "a <b>")._repr_html_().count("&lt;b&gt;") == 1


def test_the_static_page_shows_how_to_run_an_untouched_exercise():
    """The book ranks text/markdown first (nb_mime_priority_overrides), Lab and Colab
    text/html: the untouched check cell says where to run it only on the static page."""
    untouched = fbmod.not_attempted("ex-bp-output-delta")
    md = untouched._repr_markdown_()
    repo = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    assert repo.rstrip("/") == fbmod.REPOSITORY
    slug = fbmod.REPOSITORY.removeprefix("https://github.com/")
    assert f"mybinder.org/v2/gh/{slug}/main?urlpath=lab/tree/chapters/04_backprop.ipynb" in md
    assert f"colab.research.google.com/github/{slug}/blob/main/chapters/04_backprop.ipynb" in md
    assert "make lab" in md
    assert "not attempted yet" in untouched._repr_html_()  # what a live notebook shows
    assert Feedback("ex", "passed", "ok")._repr_markdown_() is None
    for label in CHECKS:  # every chapter's exercises link to an existing notebook
        link = re.search(r"chapters/(\w+)\.ipynb", fbmod.how_to_run(label)).group(1)
        assert (ROOT / "chapters" / f"{link}.ipynb").exists(), label
    config = (ROOT / "_config.yml").read_text()
    assert '["html", "text/markdown", -1]' in config


def test_compare_arrays_says_a_missing_return_and_a_pattern():
    assert compare_arrays("ex", None, [1.0]).mistake == "returned-nothing"
    assert "sign flipped" in compare_arrays("ex", [-1.0, -2.0], [1.0, 2.0]).message


def test_expect_error_shows_a_deliberate_error_and_fails_without_one(capsys):
    with expect_error(ValueError) as shown:
        int("not a number")
    assert isinstance(shown.error, ValueError) and "raised on purpose" in str(shown)
    assert "Expected error" in shown._repr_html_()
    # its code keeps the box's dark-on-light colours in a dark theme (axe: color-contrast)
    assert '<code style="color:inherit;background:transparent">' in shown._repr_html_()
    with pytest.raises(AssertionError, match="ran without an error"), expect_error(ValueError):
        int("3")
    with pytest.raises(KeyError), expect_error(ValueError):  # another error is not hidden
        {}["missing"]
