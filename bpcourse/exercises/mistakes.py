r"""Checkers for the exercises of the appendix "Common mistakes in backprop tutorials".

The network is the one of :mod:`bpcourse.bugs`: a 3-2-1 sigmoid network with rows as
examples, ``W`` of shape ``(n_out, n_in)`` and the mean loss
:math:`L = \frac{1}{2n}\sum_{i}(Y_i - T_i)^2`. ``FIX`` gradient-checks the learner's
backward pass against central differences; its named mistakes are the classic bugs of
:data:`bpcourse.bugs.BUGS`, so a message can name the bug.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import numpy as np
from numpy.typing import NDArray

from bpcourse import bugs
from bpcourse.exercises.backprop import numerical_gradients
from bpcourse.exercises.feedback import GRADIENT_HINTS, Check, Feedback, Mistake

Array = NDArray[np.floating]
N_EXAMPLES = 5  # not 1, 2 or 4: a factor equal to the batch size is then unmistakable


def _problem_inputs() -> tuple[dict[str, Array], Array, Array]:
    rng = np.random.default_rng(11)
    params = bugs.init_params(3, 2, 1, rng=rng)
    params["b1"] += np.array([0.4, -0.3])
    params["b2"] += 0.2
    X = rng.uniform(-1.0, 1.0, (N_EXAMPLES, 3))
    T = rng.uniform(0.0, 1.0, (N_EXAMPLES, 1))
    return params, X, T


def _bug_mistake(bug: bugs.Bug) -> Mistake:
    return Mistake(
        f"this is the classic bug '{bug.name}': {bug.mistake}. Fix: {bug.fix}.",
        lambda params, X, T: bug.backward(params, X, T),
        "bug-" + "-".join(re.findall(r"[a-z0-9]+", bug.name.lower())),
    )


FIX = Check(
    "ex-mistakes-fix",
    numerical_gradients,
    lambda: [_problem_inputs()],
    tuple(
        _bug_mistake(bug)
        for bug in bugs.BUGS
        if bug.hidden == "sigmoid" and bug.output == "sigmoid"
    ),
    "your backward",
    noun="gradients",
    show=lambda params, X, T: f"the 3-2-1 sigmoid network on n = {len(X)} examples",
    hints=GRADIENT_HINTS,
    passed_message="every gradient agrees with central differences.",
)


def check_fixed_backward(
    fn: Callable[[Mapping[str, Array], Array, Array], Mapping[str, Array]],
) -> Feedback:
    r"""Check ``fn(params, X, T)``, a backward pass of the sigmoid 3-2-1 network for the mean
    loss :math:`\frac{1}{2n}\sum (Y - T)^2`; it returns ``{"W1", "b1", "W2", "b2"}`` with the
    shapes ``(2, 3)``, ``(2,)``, ``(1, 2)``, ``(1,)``.
    """
    return FIX.run(fn)
