"""Arrays a layer reuses from one training step to the next (plumbing, for speed).

A training step computes arrays of the same shapes every time. Allocated afresh each
step, the large ones (above glibc's mmap threshold, 128 KiB and up) are handed back to
the operating system when freed and faulted in again on the next step: 224 page faults
and about a fifth of the step's time at 64-128-128-10 with a batch of 512. So a layer
keeps the arrays it made and writes into one again once nothing else refers to it: an
array a caller keeps (``out = model.forward(X)``, or a view of it) is never written to
again; the layer makes another. Small arrays (where allocation is cheap and faults no
pages) are not kept at all.
"""

from __future__ import annotations

import sys

import numpy as np

MIN_SIZE = 4096  # entries: below this, numpy's own allocation is as fast as reuse
_MAX_KEPT = 3  # arrays per name and shape: two alternating, and one spare
_MAX_KEYS = 32  # names x shapes per layer; past that the layer starts afresh


class Buffers:
    """The arrays one layer may write into, by (name, shape, dtype)."""

    __slots__ = ("_kept",)

    def __init__(self) -> None:
        self._kept: dict[tuple, list[np.ndarray]] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray | None:
        """An array of ``shape`` and ``dtype`` that nothing outside this layer holds, or
        ``None`` for a small one (numpy's ``out=None``: a new array)."""
        if _size(shape) < MIN_SIZE or _refcount is None:
            return None
        key = (name, shape, dtype)
        kept = self._kept.get(key)
        if kept is None:
            if len(self._kept) >= _MAX_KEYS:
                self._kept.clear()
            # kept[0] is never handed out: its reference count, read in the same loop as
            # the others, is what "held by no one else" reads as on this interpreter.
            kept = self._kept[key] = [np.empty(0, dtype)]
        free = -1
        for array in kept:
            count = _refcount(array)
            if free < 0:
                free = count
            elif count == free:
                return array
        array = np.empty(shape, dtype)
        if len(kept) <= _MAX_KEPT:
            kept.append(array)
        return array

    def __reduce__(self) -> tuple:
        return Buffers, ()  # a copy (pickle, deepcopy) starts with no arrays of its own


def _size(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


_refcount = getattr(sys, "getrefcount", None)  # CPython; elsewhere nothing is reused
