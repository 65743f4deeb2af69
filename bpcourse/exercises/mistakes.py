r"""Checkers for the exercises of the appendix "Common mistakes in backprop tutorials".

The network is the one of :mod:`bpcourse.bugs`: a 3-2-1 sigmoid network with rows as
examples, ``W`` of shape ``(n_out, n_in)`` and the mean loss
:math:`L = \frac{1}{2n}\sum_{i}(Y_i - T_i)^2`. A checker gradient-checks the learner's
backward pass against central differences and, when it is wrong, first asks whether it is
exactly one of the classic bugs of :data:`bpcourse.bugs.BUGS`, so the message can name it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
from numpy.typing import NDArray

from bpcourse import bugs
from bpcourse.exercises.feedback import Feedback, call_answer, failed, not_attempted, passed
from bpkit.gradcheck import check_parameter, numerical_gradient

Array = NDArray[np.floating]
# The appendix states its loss as 1/(2n) sum (Y - T)^2, half of the book's loss
# (bpkit.mse, which bpcourse.bugs now uses), so its backward passes are half of bugs'.
# When the appendix moves to the book's convention this factor becomes 1.
APPENDIX_LOSS_SCALE = 0.5
# the fixes of the bugs, in the appendix's 1/(2n) convention
_APPENDIX_FIX = {
    "missing output derivative": "D2 = (Y - T) / n * Y * (1 - Y)",
    "sum vs mean": "dY = (Y - T) / n",
}
N_EXAMPLES = 5  # not 1, 2 or 4: a factor equal to the batch size is then unmistakable


def _problem_inputs() -> tuple[dict[str, Array], Array, Array]:
    rng = np.random.default_rng(11)
    params = bugs.init_params(3, 2, 1, rng=rng)
    params["b1"] += np.array([0.4, -0.3])
    params["b2"] += 0.2
    X = rng.uniform(-1.0, 1.0, (N_EXAMPLES, 3))
    T = rng.uniform(0.0, 1.0, (N_EXAMPLES, 1))
    return params, X, T


def _same(got: Mapping[str, Array], expected: Mapping[str, Array]) -> bool:
    return all(
        np.shape(got[k]) == np.shape(v) and np.allclose(got[k], v, rtol=1e-9, atol=1e-12)
        for k, v in expected.items()
    )


def check_fixed_backward(
    fn: Callable[[Mapping[str, Array], Array, Array], Mapping[str, Array]],
) -> Feedback:
    r"""Check ``fn(params, X, T)``, a backward pass of the sigmoid 3-2-1 network for the mean
    loss :math:`\frac{1}{2n}\sum (Y - T)^2`; it returns ``{"W1", "b1", "W2", "b2"}`` with the
    shapes ``(2, 3)``, ``(2,)``, ``(1, 2)``, ``(1,)``.
    """
    exercise = "ex-mistakes-fix"
    params, X, T = _problem_inputs()
    copies = {k: v.copy() for k, v in params.items()}
    try:
        with np.errstate(all="ignore"):
            ok, got = call_answer(fn, copies, X.copy(), T.copy())
    except Exception as exc:  # the learner's code raised: say so in words
        return failed(exercise, f"your backward raised {type(exc).__name__}: {exc}")
    if not ok:
        return not_attempted(exercise)
    if not isinstance(got, Mapping):
        return failed(exercise, f"return a dict with the keys {list(bugs.PARAM_SHAPES)}")
    missing = [k for k in bugs.PARAM_SHAPES if k not in got]
    if missing:
        return failed(exercise, f"the result has no gradient for {missing}")
    got = {k: np.asarray(got[k], dtype=np.float64) for k in bugs.PARAM_SHAPES}
    # Either convention is accepted, the book's loss (bpkit.mse) or the appendix's stated
    # half of it, as long as the learner's gradients are those of one of them.
    for bug in bugs.BUGS:
        if bug.hidden == "sigmoid" and bug.output == "sigmoid":
            grads = bug.backward(params, X, T)
            for scale in (1.0, APPENDIX_LOSS_SCALE):
                if _same(got, {k: scale * v for k, v in grads.items()}):
                    fix = bug.fix if scale == 1.0 else _APPENDIX_FIX.get(bug.name, bug.fix)
                    return failed(
                        exercise,
                        f"this is the classic bug '{bug.name}': {bug.mistake}. Fix: {fix}.",
                    )
    # the true gradient of the book's loss: central differences, one entry at a time
    numeric = {
        name: numerical_gradient(lambda _: bugs.loss(params, X, T), params[name])
        for name in bugs.PARAM_SHAPES
    }
    best = None
    for scale in (1.0, APPENDIX_LOSS_SCALE):
        checks = [check_parameter(k, got[k], scale * numeric[k]) for k in bugs.PARAM_SHAPES]
        if all(c.passed for c in checks):
            return passed(exercise, "every gradient agrees with central differences.")
        worst = max(c.error for c in checks)
        if best is None or worst < best[0]:
            best = (worst, checks)
    problems = [f"{c.name}: {c.problem}" for c in best[1] if not c.passed]
    return failed(exercise, "wrong gradients. " + "; ".join(problems))
