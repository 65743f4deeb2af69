r"""Plain gradient descent on a function, and the stability threshold of a quadratic.

One step moves against the gradient, scaled by the learning rate :math:`\eta > 0`:

.. math:: x_{t+1} = x_t - \eta \, \nabla f(x_t)

On a quadratic bowl :math:`f(x) = \tfrac12 (x - x^*)^\top H (x - x^*)` with a symmetric
positive-definite Hessian :math:`H`, the error obeys :math:`x_{t+1} - x^* = (I - \eta H)
(x_t - x^*)`: along the eigenvector with eigenvalue :math:`\lambda_i` it is multiplied by
:math:`1 - \eta\lambda_i` at every step. Every factor has magnitude below 1, so the run
converges, exactly when :math:`\eta < 2 / \lambda_{\max}` (the stability threshold).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from bpkit.optim import check_learning_rate

Array = NDArray[np.floating]


@dataclass(frozen=True)
class Trajectory:
    r"""The iterates of one gradient-descent run.

    ``points`` has shape ``(k + 1, *x0.shape)``: the start and every iterate computed
    (``k`` is ``steps``, or fewer if the run diverged and was stopped). ``values`` holds
    ``f`` at each point when ``f`` was given, else ``None``.
    """

    points: Array
    values: Array | None
    lr: float
    diverged: bool
    message: str

    @property
    def final(self) -> Array:
        """The last iterate."""
        return self.points[-1]

    @property
    def steps_taken(self) -> int:
        return len(self.points) - 1


def gradient_descent(
    grad_fn: Callable[[Array], ArrayLike],
    x0: ArrayLike,
    lr: float,
    steps: int,
    *,
    f: Callable[[Array], float] | None = None,
    blowup: float = 1e8,
) -> Trajectory:
    r"""Run :math:`x_{k+1} = x_k - \eta\,\nabla f(x_k)` for ``steps`` steps from ``x0``.

    ``grad_fn(x)`` returns the gradient, with the shape of ``x``. ``lr`` is :math:`\eta`.
    ``f``, if given, is evaluated at every iterate (``Trajectory.values``).

    The run stops early, with ``diverged=True`` and a message in words, as soon as an
    iterate is NaN or infinite or lies more than ``blowup`` times farther from ``x0``
    than the scale of the start (``max(1, |x0|)``): the steps overshoot and grow.
    """
    lr = check_learning_rate(lr)
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 0:
        raise ValueError(f"steps must be a whole number >= 0; got {steps!r}")
    x = np.array(x0, dtype=np.float64)
    scale = max(1.0, float(np.linalg.norm(x)))
    points = [x.copy()]
    values = [float(f(x))] if f is not None else None
    diverged, message = False, f"ran {steps} steps with learning rate {lr:g}"
    for k in range(int(steps)):
        g = np.asarray(grad_fn(x), dtype=np.float64)
        if g.shape != x.shape:
            raise ValueError(
                f"grad_fn returned shape {g.shape}, but the point has shape {x.shape}: "
                "the gradient has one entry per coordinate"
            )
        with np.errstate(over="ignore", invalid="ignore"):
            x = x - lr * g  # the descent step: move against the gradient
            far = float(np.linalg.norm(x - points[0]))
        points.append(x.copy())
        if values is not None:
            with np.errstate(over="ignore", invalid="ignore"):
                values.append(float(f(x)))
        if not np.all(np.isfinite(x)) or far > blowup * scale:
            diverged = True
            message = (
                f"diverged: after {k + 1} steps with learning rate {lr:g} the iterates had "
                "grown without bound (each step overshot the minimum by more than the "
                "last); try a smaller learning rate"
            )
            break
    return Trajectory(
        points=np.array(points),
        values=None if values is None else np.array(values),
        lr=lr,
        diverged=diverged,
        message=message,
    )


def stability_threshold(hessian: ArrayLike) -> float:
    r"""The largest stable learning rate on a quadratic, :math:`2 / \lambda_{\max}(H)`.

    ``hessian`` is the symmetric positive-definite :math:`H` of shape ``(d, d)`` (a
    number for ``d = 1``). Gradient descent converges for :math:`0 < \eta < 2/\lambda_{\max}`
    and diverges for :math:`\eta > 2/\lambda_{\max}`.
    """
    H = np.atleast_2d(np.asarray(hessian, dtype=np.float64))
    if H.ndim != 2 or H.shape[0] != H.shape[1]:
        raise ValueError(f"the Hessian must be a square matrix; got shape {H.shape}")
    if not np.allclose(H, H.T, rtol=1e-10, atol=1e-12):
        raise ValueError("the Hessian must be symmetric (H == H.T): a Hessian always is")
    lam = np.linalg.eigvalsh(H)
    if lam[0] <= 0:
        raise ValueError(
            f"the Hessian must be positive definite (all eigenvalues > 0); its smallest "
            f"eigenvalue is {lam[0]:.4g}, so the function has no single minimum to descend to"
        )
    return float(2.0 / lam[-1])


def contraction_factors(hessian: ArrayLike, lr: float) -> Array:
    r"""The per-step factors :math:`1 - \eta\lambda_i`, one per Hessian eigenvalue (ascending).

    The error along eigenvector :math:`i` is multiplied by this factor at every step: a
    negative factor flips sign each step (oscillation); magnitude above 1 grows (divergence).
    """
    lr = check_learning_rate(lr)
    stability_threshold(hessian)  # validates the Hessian, with an error in words
    lam = np.linalg.eigvalsh(np.atleast_2d(np.asarray(hessian, dtype=np.float64)))
    return 1.0 - lr * lam
