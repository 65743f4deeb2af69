r"""Classification metrics: accuracy and the confusion matrix.

Both take the true labels ``y_true`` of shape ``(n,)`` and either predicted labels of
shape ``(n,)`` or class scores of shape ``(n, k)`` (logits or probabilities), whose
largest entry per row is the predicted class: :math:`\hat y_i = \arg\max_j s_{ij}`.
Predictions come from the forward pass alone; no gradient is involved.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def predicted_labels(y_pred: ArrayLike, n: int | None = None) -> NDArray[np.int64]:
    r"""Labels from labels ``(n,)`` or from scores ``(n, k)`` via :math:`\arg\max_j s_{ij}`."""
    y_pred = np.asarray(y_pred)
    if y_pred.ndim == 2:
        if y_pred.shape[1] < 2:
            raise ValueError(
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
        raise ValueError(
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


def accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    r"""Fraction of correct predictions, :math:`\frac1n \sum_i [\hat y_i = y_i]`, in :math:`[0, 1]`."""
    y_true = _true_labels(y_true)
    labels = predicted_labels(y_pred, len(y_true))
    return float(np.mean(labels == y_true))


def confusion_matrix(
    y_true: ArrayLike, y_pred: ArrayLike, n_classes: int | None = None
) -> NDArray[np.int64]:
    r"""Counts ``C`` of shape ``(k, k)``: ``C[i, j]`` is the number of examples of true class
    ``i`` predicted as class ``j`` (rows: truth, columns: prediction).

    The diagonal holds the correct predictions, so :math:`\mathrm{tr}(C)/n` is the accuracy
    and row ``i`` sums to the number of examples of class ``i``. ``n_classes`` defaults to
    the number of score columns, else to one more than the largest label seen.
    """
    y_true = _true_labels(y_true)
    labels = predicted_labels(y_pred, len(y_true))
    if n_classes is None:
        y_pred = np.asarray(y_pred)
        n_classes = (
            y_pred.shape[1] if y_pred.ndim == 2 else int(max(y_true.max(), labels.max())) + 1
        )
    if not isinstance(n_classes, int | np.integer) or n_classes < 1:
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
