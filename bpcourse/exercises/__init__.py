"""Exercise checkers. The shared machinery is in :mod:`bpcourse.exercises.feedback`; each
chapter's checkers live in their own module (``from bpcourse.exercises import loss``)."""

from bpcourse.exercises.feedback import (
    Feedback,
    Mistake,
    call_answer,
    check_function,
    compare_arrays,
    failed,
    not_attempted,
    passed,
)

__all__ = [
    "Feedback",
    "Mistake",
    "call_answer",
    "check_function",
    "compare_arrays",
    "failed",
    "not_attempted",
    "passed",
]
