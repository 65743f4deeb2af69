"""The exceptions bpkit raises on purpose, so that code can catch a cause, not a message.

Both are subclasses of ``ValueError``: code written as ``except ValueError`` keeps working.

* :class:`ShapeError`: arrays whose shapes do not fit together; the message names both.
* :class:`NonFiniteError`: NaN or infinity where a finite number is needed; the message
  says where it was found and what usually puts it there.

Divergence during training is :class:`bpkit.train.TrainingDiverged` (a
``FloatingPointError``): the numbers were finite and training made them overflow.
"""

from __future__ import annotations

import numpy as np


class ShapeError(ValueError):
    """Arrays whose shapes do not fit together (the message gives both shapes)."""


class NonFiniteError(ValueError):
    """NaN or infinity in an array that must hold finite numbers."""


def count_non_finite(x: np.ndarray) -> str:
    """``"3 NaN and 1 infinite values"``: how many entries of ``x`` are not finite."""
    return f"{int(np.isnan(x).sum())} NaN and {int(np.isinf(x).sum())} infinite values"
