r"""The 8x8 handwritten digits: a small real dataset shipped with bpkit (no download).

1,797 grey-scale images of the digits 0 to 9, each 8x8 pixels with integer intensities
0..16: the test part of the UCI "Optical Recognition of Handwritten Digits" data set
(Alpaydin and Kaynak, 1998; CC BY 4.0), as redistributed by scikit-learn. Source and
licence: ``bpkit/data/DIGITS_LICENSE.txt``.

Shapes, one row per example (the convention of every bpkit layer):

* ``X``: ``(1797, 64)`` floats in :math:`[0, 1]` (pixel / 16), row-major 8x8 images;
* ``y``: ``(1797,)`` integer labels in ``0..9``.
"""

from __future__ import annotations

import numbers
from importlib import resources
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from bpkit.errors import ShapeError
from bpkit.layers import Array, as_generator, float_dtype

IMAGE_SHAPE = (8, 8)
N_CLASSES = 10
MAX_PIXEL = 16


def load_digits_raw() -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    """The stored arrays as they are: pixels ``(1797, 64)`` uint8 in 0..16, labels ``(1797,)``."""
    with resources.files("bpkit").joinpath("data", "digits.npz").open("rb") as fh:
        with np.load(fh) as data:
            pixels = data["pixels"].copy()
            labels = data["labels"].astype(np.int64)
    return pixels, labels


def load_digits(dtype: np.dtype | type = np.float64) -> tuple[Array, NDArray[np.int64]]:
    r"""``X`` of shape ``(1797, 64)`` with :math:`x = \text{pixel}/16 \in [0, 1]`, and labels ``y``.

    Scaling the inputs to :math:`[0, 1]` keeps the first layer's pre-activations
    :math:`Z = XW^\top + b` of order one under Xavier or He initialisation.
    """
    dtype = float_dtype(dtype, "load_digits")  # an integer type would round x to 0 or 1
    pixels, labels = load_digits_raw()
    return (pixels / MAX_PIXEL).astype(dtype), labels


def as_images(X: ArrayLike) -> Array:
    """Rows of 64 pixels back to 8x8 images: shape ``(n, 64)`` (or ``(64,)``) to ``(n, 8, 8)``."""
    X = np.asarray(X)
    if X.shape[-1:] != (64,) or X.ndim > 2:
        raise ValueError(
            f"as_images expects rows of 64 pixels, shape (n, 64) or (64,); got shape {X.shape}"
        )
    return X.reshape(-1, *IMAGE_SHAPE)


class Split(NamedTuple):
    """Three disjoint parts of a dataset."""

    X_train: Array
    y_train: NDArray
    X_val: Array
    y_val: NDArray
    X_test: Array
    y_test: NDArray


def train_val_test_split(
    X: ArrayLike,
    y: ArrayLike,
    *,
    val: float = 0.2,
    test: float = 0.2,
    rng: np.random.Generator | int | None = None,
) -> Split:
    """Split ``(X, y)`` into training, validation and test parts, stratified by class.

    Each class is shuffled with ``rng`` and cut in the proportions
    ``1 - val - test : val : test`` (rounded per class), so every part has nearly the
    same class frequencies as the whole. Within each part the rows are shuffled too.

    * training: what the gradient steps see;
    * validation: what we look at to choose settings (epochs, size, learning rate);
    * test: looked at once, at the end, to report how well the final model does.
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0 or y.ndim != 1 or X.shape[0] != y.shape[0]:
        raise ShapeError(
            f"X must have one row per label: got X of shape {X.shape} and y of shape {y.shape} "
            "(y must be 1-D, one integer label per row of X)"
        )
    for name, frac in (("val", val), ("test", test)):
        if isinstance(frac, bool) or not isinstance(frac, numbers.Real) or not 0 < frac < 1:
            raise ValueError(f"{name} must be a fraction strictly between 0 and 1; got {frac!r}")
    if val + test >= 1:
        raise ValueError(
            f"val + test must leave something to train on; got val={val} + test={test} >= 1"
        )
    gen = as_generator(rng, "train_val_test_split")
    parts: tuple[list[NDArray], list[NDArray], list[NDArray]] = ([], [], [])
    for label in np.unique(y):
        idx = gen.permutation(np.flatnonzero(y == label))
        n_val, n_test = round(val * len(idx)), round(test * len(idx))
        if len(idx) - n_val - n_test < 1:
            raise ValueError(f"class {label!r} has too few examples ({len(idx)}) to split")
        parts[0].append(idx[n_val + n_test :])
        parts[1].append(idx[:n_val])
        parts[2].append(idx[n_val : n_val + n_test])
    train_idx, val_idx, test_idx = (gen.permutation(np.concatenate(p)) for p in parts)
    largest = int(np.unique(y, return_counts=True)[1].max())
    for part, arg, idx in (
        ("validation", f"val={val}", val_idx),
        ("test", f"test={test}", test_idx),
    ):
        if idx.size == 0:
            raise ValueError(
                f"the {part} part would be empty: {arg} of each class (at most {largest} "
                "examples) rounds to 0. Give more data or a larger fraction."
            )
    return Split(X[train_idx], y[train_idx], X[val_idx], y[val_idx], X[test_idx], y[test_idx])
