r"""Checkers for the exercises of the capstone chapter (a network from scratch).

Each exercise is a :class:`~bpcourse.exercises.feedback.Check`:

* ``DELTA``: :math:`\partial L/\partial Z = \frac1n(\mathrm{softmax}(Z) - Y)` for the mean
  softmax cross-entropy; named slips are a missing :math:`1/n` (or :math:`1/(nk)`), a
  flipped sign, forgetting to subtract :math:`Y`, logits in place of probabilities, and
  applying the softmax derivative a second time.
* ``ACCURACY``: the fraction of rows whose largest score is the true class; slips are the
  arg max over the wrong axis or over the whole array, ``max`` for ``argmax``, a count, a
  percentage, integer division, and the error rate.
* ``CONFUSION``: ``C[i, j]`` counts true class ``i`` predicted as ``j``, called as
  ``fn(y_pred, y_true, k)`` (prediction first, as every bpkit metric; a function whose
  parameters are named ``y_true`` and ``y_pred`` is called by name, in any order); slips
  are the transpose, normalised rows or totals, and fancy-index assignment that counts a
  repeated pair only once.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from bpcourse.exercises.feedback import Check, Feedback, Mistake

Array = NDArray[np.float64]

__all__ = ["check_accuracy", "check_confusion_matrix", "check_output_delta"]


def _one_hot(y: NDArray, k: int) -> Array:
    Y = np.zeros((len(y), k))
    Y[np.arange(len(y)), y] = 1.0
    return Y


def _softmax(Z: Array) -> Array:
    e = np.exp(Z - Z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# ---------------------------------------------------------------- ex-capstone-delta
def output_delta(logits: Array, y: NDArray) -> Array:
    r"""Reference: :math:`\frac1n(\mathrm{softmax}(Z) - Y)` with one-hot ``Y``, shape ``(n, k)``."""
    return (_softmax(logits) - _one_hot(y, logits.shape[1])) / logits.shape[0]


DELTA = Check(
    "ex-capstone-delta",
    output_delta,
    (
        (np.array([[2.0, -1.0, 0.5], [0.1, 0.2, -0.3]]), np.array([0, 2])),
        (
            np.array([[1.0, 0.0, -2.0, 0.5], [0.0, 3.0, 1.0, -1.0], [-0.5, 0.5, 0.0, 2.0]]),
            np.array([3, 1, 0]),
        ),
    ),
    (
        Mistake(
            "missing the 1/n: the loss is the mean over the n examples of the batch, so its "
            "gradient is (softmax(Z) - Y) / n",
            lambda Z, y: _softmax(Z) - _one_hot(y, Z.shape[1]),
            "missing-1-over-n",
        ),
        Mistake(
            "you divided by Z.size = n·k: the loss averages over the n examples only (each "
            "example's cross-entropy already sums over its k classes), so divide by n",
            lambda Z, y: (_softmax(Z) - _one_hot(y, Z.shape[1])) / Z.size,
            "divided-by-size",
        ),
        Mistake(
            "sign flipped: you computed (Y - softmax(Z)) / n; the loss falls as the true class's "
            "probability rises, so the gradient is (softmax(Z) - Y) / n",
            lambda Z, y: -output_delta(Z, y),
            "wrong-sign",
        ),
        Mistake(
            "Y is not subtracted: softmax(Z) / n is only part of it; the one-hot targets Y come "
            "from the -log of the true class's probability",
            lambda Z, y: _softmax(Z) / Z.shape[0],
            "y-not-subtracted",
        ),
        Mistake(
            "the logits Z are used where the probabilities softmax(Z) belong: the gradient is "
            "(softmax(Z) - Y) / n",
            lambda Z, y: (Z - _one_hot(y, Z.shape[1])) / Z.shape[0],
            "logits-for-probabilities",
        ),
        Mistake(
            "the softmax derivative is applied twice: (softmax(Z) - Y) / n already contains the "
            "output activation's derivative, so multiplying by p(1 - p) again is wrong",
            lambda Z, y: output_delta(Z, y) * _softmax(Z) * (1 - _softmax(Z)),
            "softmax-derivative-twice",
        ),
    ),
    "your output delta",
    show=lambda Z, y: f"logits of shape {Z.shape}",
)


def check_output_delta(fn: Callable[[Array, NDArray], Array]) -> Feedback:
    r"""Check ``fn(Z, y)``: the gradient of the mean softmax cross-entropy with respect to the
    logits ``Z`` ``(n, k)`` given integer labels ``y`` ``(n,)``; returns shape ``(n, k)``."""
    return DELTA.run(fn)


# ---------------------------------------------------------------- ex-capstone-accuracy
def accuracy(scores: Array, y: NDArray) -> float:
    """Reference: the fraction of rows of ``scores`` whose arg max is the label."""
    return float(np.mean(np.argmax(scores, axis=1) == y))


_ACC_CASES = (
    # square scores (4 examples, 4 classes), so an arg max over the wrong axis has the right
    # shape and gives a different number; rows 0, 1, 2 are right. No row's largest score
    # equals its label, so np.max for np.argmax gives 0
    (
        np.array(
            [
                [5.0, 0.0, 0.0, 1.0],
                [0.0, 0.1, 0.0, 0.3],
                [0.2, 0.0, 0.1, 0.0],
                [0.0, 2.5, 0.4, 0.0],
            ]
        ),
        np.array([0, 3, 0, 2]),
    ),
    # 5 examples, 3 classes: rows 0, 1, 3 are right; row 1's largest score is 1.0 = its label
    (
        np.array(
            [[2.0, 0.1, 0.3], [0.0, 1.0, 0.2], [0.9, 0.1, 0.5], [0.1, 0.2, 3.0], [1.5, 2.0, 0.0]]
        ),
        np.array([0, 1, 2, 2, 0]),
    ),
    # every row right: integer division gives 1 here, 0 above
    (np.array([[0.1, 0.9], [0.7, 0.3], [0.2, 0.6]]), np.array([1, 0, 1])),
)


def _right(S: Array, y: NDArray) -> NDArray:
    return np.argmax(S, axis=1) == y


ACCURACY = Check(
    "ex-capstone-accuracy",
    accuracy,
    _ACC_CASES,
    (
        Mistake(
            "the arg max runs over the wrong axis: axis 0 picks an example for each class; the "
            "predicted class of example i is the arg max of row i, np.argmax(scores, axis=1)",
            lambda S, y: np.mean(np.argmax(S, axis=0) == y),
            "wrong-axis",
        ),
        Mistake(
            "np.argmax(scores) without an axis is one index into the flattened array; the "
            "predicted class of each example is np.argmax(scores, axis=1)",
            lambda S, y: np.mean(np.argmax(S) == y),
            "argmax-no-axis",
        ),
        Mistake(
            "np.max gives the largest score, not where it is: compare np.argmax(scores, axis=1) "
            "with the labels",
            lambda S, y: np.mean(np.max(S, axis=1) == y),
            "max-for-argmax",
        ),
        Mistake(
            "that is the number of correct predictions; accuracy is the fraction, divided by n",
            lambda S, y: np.sum(_right(S, y)),
            "count",
        ),
        Mistake(
            "integer division: correct // n is 0 unless every prediction is right; divide with "
            "/ (or take np.mean of the boolean array)",
            lambda S, y: np.sum(_right(S, y)) // len(y),
            "integer-division",
        ),
        Mistake(
            "that is a percentage; return the fraction in [0, 1] (divide by 100)",
            lambda S, y: 100 * np.mean(_right(S, y)),
            "percentage",
        ),
        Mistake(
            "that is the error rate (the fraction wrong); accuracy is the fraction right",
            lambda S, y: np.mean(~_right(S, y)),
            "error-rate",
        ),
    ),
    "your accuracy",
    show=lambda S, y: f"scores of shape {S.shape}",
)


def check_accuracy(fn: Callable[[Array, NDArray], float]) -> Feedback:
    r"""Check ``fn(scores, y)``: the fraction of rows of ``scores`` ``(n, k)`` whose largest
    entry is at the true label ``y[i]``."""
    return ACCURACY.run(fn)


# ---------------------------------------------------------------- ex-capstone-confusion
def confusion_matrix(y_pred: NDArray, y_true: NDArray, k: int) -> Array:
    """Reference: ``C[i, j]``, the number of examples of true class ``i`` predicted as ``j``."""
    C = np.zeros((k, k))
    np.add.at(C, (y_true, y_pred), 1)  # one count per (truth, prediction) pair
    return C


def _cm_once(y_pred: NDArray, y_true: NDArray, k: int) -> Array:
    C = np.zeros((k, k))
    C[y_true, y_pred] += 1  # fancy indexing: a repeated pair is incremented once
    return C


CONFUSION = Check(
    "ex-capstone-confusion",
    confusion_matrix,
    (
        # 3 classes; class 2 is never predicted, and (0 -> 1) happens twice
        (np.array([0, 1, 1, 1, 0, 2, 0, 1]), np.array([0, 0, 0, 1, 1, 2, 2, 2]), 3),
        # 4 classes, the last one absent from both arrays
        (np.array([1, 2, 2, 0, 1, 0]), np.array([1, 0, 2, 2, 1, 0]), 4),
    ),
    (
        Mistake(
            "transposed: rows must be the true class and columns the predicted class, "
            "C[y_true[i], y_pred[i]] += 1 (the checker passes y_pred first, as bpkit's "
            "metrics do; with parameters named y_true and y_pred, either order works)",
            lambda p, t, k: confusion_matrix(p, t, k).T,
            "transposed",
        ),
        Mistake(
            "a repeated (true, predicted) pair is counted only once: C[y_true, y_pred] += 1 with "
            "index arrays does not accumulate repeats; loop over the examples or use "
            "np.add.at(C, (y_true, y_pred), 1)",
            _cm_once,
            "counted-once",
        ),
        Mistake(
            "the counts are divided by n: the confusion matrix holds whole counts, one per example",
            lambda p, t, k: confusion_matrix(p, t, k) / len(t),
            "divided-by-n",
        ),
        Mistake(
            "each row is normalised to sum to 1: return the raw counts",
            lambda p, t, k: (
                confusion_matrix(p, t, k)
                / np.maximum(confusion_matrix(p, t, k).sum(axis=1, keepdims=True), 1)
            ),
            "rows-normalised",
        ),
    ),
    "your confusion matrix",
    show=lambda p, t, k: f"{len(t)} examples of {k} classes",
)


def check_confusion_matrix(fn: Callable[[NDArray, NDArray, int], NDArray]) -> Feedback:
    r"""Check ``fn(y_pred, y_true, k)``: the ``(k, k)`` counts ``C[i, j]`` of examples of true
    class ``i`` predicted as class ``j`` (a function with parameters named ``y_true`` and
    ``y_pred`` is called by name, so either order works)."""
    return CONFUSION.run(fn)
