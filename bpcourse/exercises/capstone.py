r"""Checkers for the exercises of the capstone chapter (a network from scratch).

Each ``check_*`` runs the learner's function on fixed inputs and returns a
:class:`~bpcourse.exercises.feedback.Feedback`. Before comparing with the right answer it
compares with the typical wrong answers, so that a failure names the mistake:

* ``check_output_delta``: :math:`\partial L/\partial Z = \frac1n(\mathrm{softmax}(Z) - Y)`
  for the mean softmax cross-entropy; typical slips are a missing :math:`1/n`, a flipped
  sign, forgetting to subtract :math:`Y`, logits in place of probabilities, and applying
  the softmax derivative a second time.
* ``check_accuracy``: the fraction of rows whose largest score is the true class; slips
  are the arg max over the wrong axis, a count or a percentage instead of a fraction,
  and the error rate.
* ``check_confusion_matrix``: ``C[i, j]`` counts true class ``i`` predicted as ``j``;
  slips are the transpose, normalised rows or totals, and fancy-index assignment that
  counts a repeated pair only once.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from bpcourse.exercises.feedback import (
    Feedback,
    Mistake,
    check_function,
)
from bpkit.losses import softmax, softmax_cross_entropy_grad
from bpkit.metrics import accuracy, confusion_matrix

Array = NDArray[np.float64]

__all__ = ["check_accuracy", "check_confusion_matrix", "check_output_delta"]


def _one_hot(y: NDArray, k: int) -> Array:
    Y = np.zeros((len(y), k))
    Y[np.arange(len(y)), y] = 1.0
    return Y


# ---------------------------------------------------------------- ex-capstone-delta
_DELTA_CASES = (
    (np.array([[2.0, -1.0, 0.5], [0.1, 0.2, -0.3]]), np.array([0, 2])),
    (
        np.array([[1.0, 0.0, -2.0, 0.5], [0.0, 3.0, 1.0, -1.0], [-0.5, 0.5, 0.0, 2.0]]),
        np.array([3, 1, 0]),
    ),
)

_DELTA_MISTAKES: tuple[Mistake, ...] = (
    (
        "missing the 1/n: the loss is the mean over the n examples of the batch, so its "
        "gradient is (softmax(Z) - Y) / n",
        lambda Z, y: softmax(Z) - _one_hot(y, Z.shape[1]),
    ),
    (
        "sign flipped: you computed (Y - softmax(Z)) / n; the loss falls as the true class's "
        "probability rises, so the gradient is (softmax(Z) - Y) / n",
        lambda Z, y: -(softmax(Z) - _one_hot(y, Z.shape[1])) / Z.shape[0],
    ),
    (
        "Y is not subtracted: softmax(Z) / n is only part of it; the one-hot targets Y come "
        "from the -log of the true class's probability",
        lambda Z, y: softmax(Z) / Z.shape[0],
    ),
    (
        "the logits Z are used where the probabilities softmax(Z) belong: the gradient is "
        "(softmax(Z) - Y) / n",
        lambda Z, y: (Z - _one_hot(y, Z.shape[1])) / Z.shape[0],
    ),
    (
        "the softmax derivative is applied twice: (softmax(Z) - Y) / n already contains the "
        "output activation's derivative, so multiplying by p(1 - p) again is wrong",
        lambda Z, y: (
            (softmax(Z) - _one_hot(y, Z.shape[1])) * softmax(Z) * (1 - softmax(Z)) / Z.shape[0]
        ),
    ),
)


def check_output_delta(fn: Callable[[Array, NDArray], Array]) -> Feedback:
    r"""Check ``fn(Z, y)``: the gradient of the mean softmax cross-entropy with respect to the
    logits ``Z`` ``(n, k)`` given integer labels ``y`` ``(n,)``; returns shape ``(n, k)``."""
    return check_function(
        "ex-capstone-delta",
        fn,
        softmax_cross_entropy_grad,
        _DELTA_CASES,
        "your output delta",
        mistakes=_DELTA_MISTAKES,
    )


# ---------------------------------------------------------------- ex-capstone-accuracy
_ACC_CASES = (
    # square scores (4 examples, 4 classes), so an arg max over the wrong axis has the right
    # shape and gives a different number; rows 0, 1, 2 are right
    (
        np.array(
            [
                [5.0, 0.0, 0.0, 1.0],
                [0.0, 0.1, 0.0, 0.3],
                [0.2, 0.0, 0.1, 0.0],
                [0.0, 2.0, 0.4, 0.0],
            ]
        ),
        np.array([0, 3, 0, 2]),
    ),
    # 5 examples, 3 classes: rows 0, 1, 3 are right
    (
        np.array(
            [[2.0, 0.1, 0.3], [0.0, 1.0, 0.2], [0.9, 0.1, 0.5], [0.1, 0.2, 3.0], [1.0, 2.0, 0.0]]
        ),
        np.array([0, 1, 2, 2, 0]),
    ),
)


def _acc(scores: Array, y: NDArray) -> float:
    return accuracy(scores, y)  # bpkit's order: (prediction, target)


_ACC_MISTAKES: tuple[Mistake, ...] = (
    (
        "the arg max runs over the wrong axis: axis 0 picks an example for each class; the "
        "predicted class of example i is the arg max of row i, np.argmax(scores, axis=1)",
        lambda S, y: np.mean(np.argmax(S, axis=0) == y),
    ),
    (
        "that is the number of correct predictions; accuracy is the fraction, divided by n",
        lambda S, y: np.sum(np.argmax(S, axis=1) == y),
    ),
    (
        "that is a percentage; return the fraction in [0, 1] (divide by 100)",
        lambda S, y: 100 * np.mean(np.argmax(S, axis=1) == y),
    ),
    (
        "that is the error rate (the fraction wrong); accuracy is the fraction right",
        lambda S, y: np.mean(np.argmax(S, axis=1) != y),
    ),
)


def check_accuracy(fn: Callable[[Array, NDArray], float]) -> Feedback:
    r"""Check ``fn(scores, y)``: the fraction of rows of ``scores`` ``(n, k)`` whose largest
    entry is at the true label ``y[i]``."""
    return check_function(
        "ex-capstone-accuracy", fn, _acc, _ACC_CASES, "your accuracy", mistakes=_ACC_MISTAKES
    )


# ---------------------------------------------------------------- ex-capstone-confusion
_CM_CASES = (
    # 3 classes; class 2 is never predicted, and (0 -> 1) happens twice
    (np.array([0, 0, 0, 1, 1, 2, 2, 2]), np.array([0, 1, 1, 1, 0, 2, 0, 1]), 3),
    # 4 classes, the last one absent from both arrays
    (np.array([1, 0, 2, 2, 1, 0]), np.array([1, 2, 2, 0, 1, 0]), 4),
)


def _cm(y_true: NDArray, y_pred: NDArray, k: int) -> NDArray:
    return confusion_matrix(y_pred, y_true, k)  # bpkit's order: (prediction, target)


def _cm_once(y_true: NDArray, y_pred: NDArray, k: int) -> Array:
    C = np.zeros((k, k))
    C[y_true, y_pred] += 1  # fancy indexing: a repeated pair is incremented once
    return C


_CM_MISTAKES: tuple[Mistake, ...] = (
    (
        "transposed: rows must be the true class and columns the predicted class, "
        "C[y_true[i], y_pred[i]] += 1",
        lambda t, p, k: _cm(t, p, k).T,
    ),
    (
        "a repeated (true, predicted) pair is counted only once: C[y_true, y_pred] += 1 with "
        "index arrays does not accumulate repeats; loop over the examples or use "
        "np.add.at(C, (y_true, y_pred), 1)",
        _cm_once,
    ),
    (
        "the counts are divided by n: the confusion matrix holds whole counts, one per example",
        lambda t, p, k: _cm(t, p, k) / len(t),
    ),
    (
        "each row is normalised to sum to 1: return the raw counts",
        lambda t, p, k: _cm(t, p, k) / np.maximum(_cm(t, p, k).sum(axis=1, keepdims=True), 1),
    ),
)


def check_confusion_matrix(fn: Callable[[NDArray, NDArray, int], NDArray]) -> Feedback:
    r"""Check ``fn(y_true, y_pred, k)``: the ``(k, k)`` counts ``C[i, j]`` of examples of true
    class ``i`` predicted as class ``j``."""
    return check_function(
        "ex-capstone-confusion",
        fn,
        _cm,
        _CM_CASES,
        "your confusion matrix",
        mistakes=_CM_MISTAKES,
    )
