"""Feedback for exercises: a checker says what is wrong in words, not just "wrong".

Every checker returns a :class:`Feedback` with one of three states:

* ``"not attempted"``: the stub still raises ``NotImplementedError`` (or returns
  ``None``), so the notebook runs top to bottom before the learner has written anything;
* ``"passed"``;
* ``"failed"``, with a message that names the mistake (wrong sign, wrong shape,
  off by a constant factor, missing derivative, ...).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from bpkit.gradcheck import diagnose

Status = Literal["not attempted", "passed", "failed"]
NOT_ATTEMPTED = "not attempted yet: replace the `raise NotImplementedError` with your answer"


@dataclass(frozen=True)
class Feedback:
    """The verdict of a checker."""

    exercise: str
    status: Status
    message: str

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def attempted(self) -> bool:
        return self.status != "not attempted"

    def raise_if_failed(self) -> Feedback:
        """Raise ``AssertionError`` unless passed (solution cells and tests use this)."""
        if not self.passed:
            raise AssertionError(str(self))
        return self

    def __str__(self) -> str:
        if self.status == "not attempted":  # the message says so already
            return f"[{self.exercise}] … {self.message}"
        mark = {"passed": "✔ passed", "failed": "✘ not yet"}[self.status]
        return f"[{self.exercise}] {mark}: {self.message}"

    def _repr_pretty_(self, p, cycle) -> None:
        p.text(str(self))

    def _repr_html_(self) -> str:
        # Dark text on pale backgrounds: readable and above WCAG AA contrast.
        colours = {"passed": "#e6f4ea", "failed": "#fdecea", "not attempted": "#eef1f5"}
        return (
            f'<div role="status" style="background:{colours[self.status]};color:#1a1a1a;'
            'padding:0.5em 0.8em;border-radius:4px;font-family:sans-serif">'
            f"{html.escape(str(self))}</div>"
        )


def passed(exercise: str, message: str = "well done.") -> Feedback:
    return Feedback(exercise, "passed", message)


def failed(exercise: str, message: str) -> Feedback:
    return Feedback(exercise, "failed", message)


def not_attempted(exercise: str) -> Feedback:
    return Feedback(exercise, "not attempted", NOT_ATTEMPTED)


def call_answer(fn: Callable[..., Any], *args: Any) -> tuple[bool, Any]:
    """Call the learner's function; ``(False, None)`` if it is still the stub."""
    try:
        result = fn(*args)
    except NotImplementedError:
        return False, None
    return (result is not None), result


def compare_arrays(
    exercise: str,
    got: Any,
    expected: Any,
    what: str = "your answer",
    rtol: float = 1e-6,
    atol: float = 1e-9,
) -> Feedback:
    """Compare a learner's numbers with the right ones and say how they differ."""
    if got is None:
        return not_attempted(exercise)
    expected = np.asarray(expected, dtype=np.float64)
    try:
        got = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return failed(exercise, f"{what} should be numbers, got {type(got).__name__}")
    if got.shape != expected.shape:
        if got.size == expected.size and got.T.shape == expected.shape:
            hint = " (it looks transposed)" if np.allclose(got.T, expected, rtol, atol) else ""
            return failed(
                exercise,
                f"wrong shape: {what} has shape {got.shape}, expected {expected.shape}{hint}",
            )
        return failed(
            exercise, f"wrong shape: {what} has shape {got.shape}, expected {expected.shape}"
        )
    if not np.all(np.isfinite(got)):
        return failed(exercise, f"{what} contains NaN or inf")
    if np.allclose(got, expected, rtol=rtol, atol=atol):
        return passed(exercise)
    problem = diagnose(got, expected, tol=0.0)
    return failed(
        exercise, f"{what} is {problem}" if problem else f"{what} differs from the answer"
    )


Mistake = tuple[str, Callable[..., Any]]


def check_function(
    exercise: str,
    fn: Callable[..., Any],
    reference: Callable[..., Any],
    cases: Iterable[Sequence[Any]],
    what: str = "your answer",
    rtol: float = 1e-6,
    atol: float = 1e-9,
    mistakes: Sequence[Mistake] = (),
) -> Feedback:
    """Run ``fn`` and ``reference`` on each argument tuple in ``cases`` and compare.

    ``mistakes`` lists ``(description, wrong_fn)`` pairs: the typical wrong versions of
    the answer. When ``fn`` disagrees with ``reference``, the first mistake whose output it
    reproduces is named; otherwise :func:`compare_arrays` says how the numbers differ.
    The learner's function gets copies of the inputs, so writing into them is harmless.
    """
    for args in cases:
        copies = tuple(np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args)
        try:
            with np.errstate(all="ignore"):  # the verdict reports overflow, not a warning
                ok, got = call_answer(fn, *copies)
        except Exception as exc:  # the learner's code raised: report it in words
            return failed(exercise, f"{what} raised {type(exc).__name__}: {exc}")
        if not ok:
            return not_attempted(exercise)
        try:
            got = np.asarray(got, dtype=np.float64)
        except (TypeError, ValueError):
            return failed(exercise, f"{what} should return numbers, got {type(got).__name__}")
        verdict = compare_arrays(exercise, got, reference(*args), what, rtol, atol)
        if verdict.passed:
            continue
        shown = ", ".join(_short(a) for a in args)
        for description, wrong in mistakes:
            try:
                with np.errstate(all="ignore"):
                    candidate = np.asarray(wrong(*args), dtype=np.float64)
            except ValueError:  # this mistake cannot even run on these inputs
                continue
            if candidate.shape == got.shape and np.allclose(
                got, candidate, rtol=rtol, atol=atol, equal_nan=True
            ):
                return failed(exercise, f"{description} (for the input {shown})")
        return failed(exercise, f"{verdict.message} (for the input {shown})")
    return passed(exercise)


def _short(x: Any) -> str:
    text = (
        np.array2string(np.asarray(x), precision=3, threshold=8) if not np.isscalar(x) else repr(x)
    )
    return " ".join(text.split())
