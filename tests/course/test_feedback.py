"""Exercise feedback: not attempted, passed, and failures that name the mistake."""

import numpy as np
import pytest

from bpcourse.exercises import Feedback, check_function, compare_arrays


def stub(x):
    raise NotImplementedError


def test_untouched_stub_is_not_attempted_and_does_not_fail():
    fb = check_function("ex", stub, np.square, [(np.arange(3.0),)])
    assert fb.status == "not attempted" and not fb.attempted and not fb.passed
    assert "not attempted yet" in str(fb)
    assert compare_arrays("ex", None, [1.0]).status == "not attempted"


def test_correct_answer_passes():
    fb = check_function("ex", lambda x: x * x, np.square, [(np.arange(3.0),), (np.ones((2, 2)),)])
    assert fb.passed
    assert fb.raise_if_failed() is fb


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda x: -2 * x, "sign flipped"),
        (lambda x: 4 * x, "constant factor"),
        (lambda x: (2 * x).T, "wrong shape"),
        (lambda x: (2 * x).ravel(), "wrong shape"),
        (lambda x: np.full_like(x, np.nan), "NaN"),
        (lambda x: "two x", "should return numbers"),
    ],
)
def test_wrong_answers_are_named(answer, words):
    fb = check_function("ex", answer, lambda x: 2 * x, [(np.arange(6.0).reshape(2, 3) + 1,)])
    assert fb.status == "failed"
    assert words in fb.message
    with pytest.raises(AssertionError, match="ex"):
        fb.raise_if_failed()


def test_an_exception_in_the_learners_code_is_reported_not_raised():
    def broken(x):
        return x @ np.ones((5, 5))

    fb = check_function("ex", broken, lambda x: x, [(np.ones((2, 3)),)])
    assert fb.status == "failed" and "ValueError" in fb.message


def test_feedback_renders_as_html_with_a_status_role():
    html = (
        Feedback("ex 1", "failed", "a <b> tag").__class__("ex 1", "failed", "a <b>")._repr_html_()
    )
    assert 'role="status"' in html and "&lt;b&gt;" in html
