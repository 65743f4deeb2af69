r"""Classification metrics: accuracy and the confusion matrix.

Both take their arguments in the order **(prediction, target)**, as every loss does:
``y_pred`` is either predicted labels of shape ``(n,)`` or class scores of shape
``(n, k)`` (logits or probabilities), whose largest entry per row is the predicted class,
:math:`\hat y_i = \arg\max_j s_{ij}`; ``y_true`` holds the true labels, shape ``(n,)``.
Predictions come from the forward pass alone; no gradient is involved.

(Float scores given second, ``accuracy(y_true, scores)``, the order of earlier versions,
are still understood: true labels are never 2-D floats, so the arrays tell the two apart.)
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from bpkit.errors import NonFiniteError, ShapeError, count_non_finite


def predicted_labels(y_pred: ArrayLike, n: int | None = None) -> NDArray[np.int64]:
    r"""Labels from labels ``(n,)`` or from scores ``(n, k)`` via :math:`\arg\max_j s_{ij}`."""
    y_pred = np.asarray(y_pred)
    if y_pred.dtype.kind not in "biuf":
        raise TypeError(f"predictions must be real numbers; got an array of dtype {y_pred.dtype}")
    if y_pred.ndim == 2:
        if not np.all(np.isfinite(y_pred)):
            raise NonFiniteError(
                f"the scores contain {count_non_finite(y_pred)}: the largest score of a row "
                "with NaN is meaningless (did training diverge?)"
            )
        if y_pred.shape[1] < 2:
            raise ShapeError(
                f"scores of shape {y_pred.shape} have one column; give (n, k) scores with "
                "k >= 2 classes, or the predicted labels as shape (n,)"
            )
        labels = np.argmax(y_pred, axis=1)  # one class per row (example)
    elif y_pred.ndim == 1:
        if not np.issubdtype(y_pred.dtype, np.integer):
            if not np.all(np.equal(np.mod(y_pred, 1), 0)):
                raise ValueError(
                    "predicted labels of shape (n,) must be whole numbers; for scores or "
                    "probabilities give shape (n, k)"
                )
        labels = y_pred.astype(np.int64)
    else:
        raise ValueError(
            f"predictions must be labels of shape (n,) or scores of shape (n, k); "
            f"got shape {y_pred.shape}"
        )
    if n is not None and labels.shape[0] != n:
        raise ShapeError(
            f"y_true has {n} labels but the predictions have {labels.shape[0]} rows; "
            "one prediction per example"
        )
    return labels


def _true_labels(y_true: ArrayLike) -> NDArray[np.int64]:
    y_true = np.asarray(y_true)
    if y_true.ndim != 1 or y_true.size == 0:
        raise ValueError(
            f"y_true must be a non-empty 1-D array of integer labels; got shape {y_true.shape}"
        )
    if not np.issubdtype(y_true.dtype, np.integer):
        raise ValueError(f"y_true must hold integer class labels; got dtype {y_true.dtype}")
    return y_true.astype(np.int64)


def _in_order(y_pred: ArrayLike, y_true: ArrayLike) -> tuple[NDArray, NDArray]:
    """``(y_pred, y_true)``, swapping a call in the earlier (labels, scores) order."""
    y_pred, y_true = np.asarray(y_pred), np.asarray(y_true)
    if y_true.ndim == 2 and y_true.dtype.kind == "f" and y_pred.ndim == 1:  # scores second
        return y_true, y_pred
    return y_pred, y_true


def accuracy(y_pred: ArrayLike, y_true: ArrayLike) -> float:
    r"""Fraction of correct predictions, :math:`\frac1n \sum_i [\hat y_i = y_i]`, in :math:`[0, 1]`."""
    y_pred, y_true = _in_order(y_pred, y_true)
    y_true = _true_labels(y_true)
    labels = predicted_labels(y_pred, len(y_true))
    return float(np.mean(labels == y_true))


def confusion_matrix(
    y_pred: ArrayLike, y_true: ArrayLike, n_classes: int | None = None
) -> NDArray[np.int64]:
    r"""Counts ``C`` of shape ``(k, k)``: ``C[i, j]`` is the number of examples of true class
    ``i`` predicted as class ``j`` (rows: truth, columns: prediction).

    The diagonal holds the correct predictions, so :math:`\mathrm{tr}(C)/n` is the accuracy
    and row ``i`` sums to the number of examples of class ``i``. ``n_classes`` defaults to
    the number of score columns, else to one more than the largest label seen.
    """
    y_pred, y_true = _in_order(y_pred, y_true)
    y_true = _true_labels(y_true)
    labels = predicted_labels(y_pred, len(y_true))
    if n_classes is None:
        y_pred = np.asarray(y_pred)
        n_classes = (
            y_pred.shape[1] if y_pred.ndim == 2 else int(max(y_true.max(), labels.max())) + 1
        )
    if isinstance(n_classes, bool) or not isinstance(n_classes, int | np.integer) or n_classes < 1:
        raise ValueError(f"n_classes must be a positive whole number; got {n_classes!r}")
    for name, lab in (("y_true", y_true), ("predicted", labels)):
        if lab.min() < 0 or lab.max() >= n_classes:
            raise ValueError(
                f"{name} labels must lie in 0..{n_classes - 1} for {n_classes} classes; "
                f"found {int(lab.min())}..{int(lab.max())}"
            )
    C = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(C, (y_true, labels), 1)  # one count per (truth, prediction) pair
    return C
