"""Exercise checkers. The engine is in :mod:`bpcourse.exercises.feedback`; each chapter's
checkers live in their own module (``from bpcourse.exercises import loss``), each exercise
a :class:`Check` at module level that the chapter's ``check_*`` function runs."""

from __future__ import annotations

import importlib
import pkgutil

from bpcourse.exercises.expect import expect_error
from bpcourse.exercises.feedback import (
    GRADIENT_HINTS,
    Check,
    Diagnosis,
    Feedback,
    Mistake,
    WrongForm,
    call_answer,
    check_function,
    close,
    compare_arrays,
    describe_difference,
    failed,
    not_attempted,
    passed,
)

__all__ = [
    "GRADIENT_HINTS",
    "Check",
    "Diagnosis",
    "Feedback",
    "Mistake",
    "WrongForm",
    "all_checks",
    "call_answer",
    "check_function",
    "close",
    "compare_arrays",
    "describe_difference",
    "expect_error",
    "failed",
    "not_attempted",
    "passed",
]

_NOT_CHAPTERS = {"feedback", "expect"}


def all_checks() -> dict[str, Check]:
    """Every module-level :class:`Check` of the chapter modules, by exercise label (the
    tests audit them all: no two answers alike on the cases, every mistake named). Two
    checks with one label are refused: the audit would see only one of them."""
    found: dict[str, Check] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name in _NOT_CHAPTERS or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for name, value in vars(module).items():
            if not isinstance(value, Check):
                continue
            if found.get(value.exercise, value) is not value:
                raise ValueError(
                    f"two checks for the exercise {value.exercise!r} ({info.name}.{name} and "
                    "another): give each exercise one Check"
                )
            found[value.exercise] = value
    return found
