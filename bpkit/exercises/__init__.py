"""Exercise checkers. The shared machinery is in :mod:`bpkit.exercises.feedback`; each
chapter's checkers live in their own module (``from bpkit.exercises import loss``)."""

from bpkit.exercises.feedback import (
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
