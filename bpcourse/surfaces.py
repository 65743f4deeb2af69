r"""Two-dimensional test surfaces for watching optimizers move, with exact gradients.

A point is an array whose last axis has length 2, :math:`p = (x, y)`; every function
here is vectorised over the leading axes, so ``value`` also evaluates a whole grid for
a contour plot (shape ``(..., 2) -> (...)``) and ``grad`` returns shape ``(..., 2)``.

* :data:`ELONGATED_QUADRATIC`, :math:`f(x, y) = \tfrac12 (a x^2 + b y^2)`: a long, narrow
  valley whose curvatures ``a`` and ``b`` differ by the condition number ``b / a``.
* :data:`ROSENBROCK`, :math:`f(x, y) = (1 - x)^2 + 100 (y - x^2)^2` (Rosenbrock, 1960): a
  curved, flat-bottomed banana valley with its minimum at :math:`(1, 1)`.
* :data:`RECURRENT_CLIFF`, the loss of a recurrent network of one unit unrolled for 50
  steps, as a function of its two parameters :math:`(w, b)`: steep walls beside a valley
  floor, the geometry Pascanu, Mikolov and Bengio (2013) use to explain gradient clipping.

:func:`descend` runs any bpkit optimizer on a surface by wrapping the point in a
:class:`bpkit.Parameter`, exactly as the optimizer would see a layer's weights.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from bpkit.activations import sigmoid
from bpkit.layers import Parameter
from bpkit.optim import Optimizer

Array = NDArray[np.floating]


def _as_points(p: ArrayLike, who: str) -> Array:
    p = np.asarray(p, dtype=np.float64)
    if p.ndim == 0 or p.shape[-1] != 2:
        raise ValueError(
            f"{who} takes points (x, y) with a last axis of length 2, shape (..., 2); "
            f"got shape {p.shape}"
        )
    return p


@dataclass(frozen=True)
class Surface:
    """A named 2-D function with its gradient, minimum, a start point and a plotting box."""

    name: str
    f: Callable[[Array], Array]
    f_grad: Callable[[Array], Array]
    minimum: tuple[float, float]
    start: tuple[float, float]
    xlim: tuple[float, float]
    ylim: tuple[float, float]

    def value(self, p: ArrayLike) -> Array:
        r"""``f`` at the points ``p``: shape ``(..., 2) -> (...)``."""
        return self.f(_as_points(p, f"{self.name}.value"))

    def grad(self, p: ArrayLike) -> Array:
        r""":math:`\nabla f` at the points ``p``: shape ``(..., 2) -> (..., 2)``."""
        return self.f_grad(_as_points(p, f"{self.name}.grad"))

    def grid(self, n: int = 120) -> tuple[Array, Array, Array]:
        """``(X, Y, Z)`` on an ``n`` by ``n`` grid over the plotting box, for ``contour``."""
        xs = np.linspace(*self.xlim, n)
        ys = np.linspace(*self.ylim, n)
        X, Y = np.meshgrid(xs, ys)
        return X, Y, self.value(np.stack([X, Y], axis=-1))


# ---------------------------------------------------------------- elongated quadratic
QUAD_A, QUAD_B = 1.0, 20.0  # curvatures along x and y: condition number 20


def quadratic(p: Array, a: float = QUAD_A, b: float = QUAD_B) -> Array:
    r""":math:`f(x, y) = \tfrac12 (a x^2 + b y^2)`; minimum 0 at the origin."""
    x, y = p[..., 0], p[..., 1]
    return 0.5 * (a * x * x + b * y * y)


def quadratic_grad(p: Array, a: float = QUAD_A, b: float = QUAD_B) -> Array:
    r""":math:`\nabla f = (a x,\; b y)`."""
    return np.stack([a * p[..., 0], b * p[..., 1]], axis=-1)


# ---------------------------------------------------------------- Rosenbrock
def rosenbrock(p: Array) -> Array:
    r""":math:`f(x, y) = (1 - x)^2 + 100 (y - x^2)^2`; minimum 0 at :math:`(1, 1)`."""
    x, y = p[..., 0], p[..., 1]
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def rosenbrock_grad(p: Array) -> Array:
    r""":math:`\partial f/\partial x = -2(1 - x) - 400 x (y - x^2)`,
    :math:`\partial f/\partial y = 200 (y - x^2)`."""
    x, y = p[..., 0], p[..., 1]
    r = y - x * x  # the inner residual; d r/dx = -2x, d r/dy = 1
    return np.stack([-2 * (1 - x) - 400 * x * r, 200 * r], axis=-1)


ELONGATED_QUADRATIC = Surface(
    "elongated quadratic",
    quadratic,
    quadratic_grad,
    minimum=(0.0, 0.0),
    start=(-4.5, 1.5),
    xlim=(-5.0, 5.0),
    ylim=(-2.0, 2.0),
)
ROSENBROCK = Surface(
    "Rosenbrock",
    rosenbrock,
    rosenbrock_grad,
    minimum=(1.0, 1.0),
    start=(-1.2, 1.0),
    xlim=(-2.0, 2.0),
    ylim=(-1.0, 3.0),
)

# ---------------------------------------------------------------- a recurrent cliff
RNN_STEPS, RNN_X0, RNN_TARGET = 50, 0.5, 0.7


def one_unit_rnn(p: Array) -> Array:
    r""":math:`f(w, b) = (x_{50} - 0.7)^2` for :math:`x_t = w\,\sigma(x_{t-1}) + b`, :math:`x_0 = 0.5`.

    One recurrent unit applied 50 times: a 50-layer network whose layers share the weight
    :math:`w` and the bias :math:`b`. Minimum 0 along a curve of :math:`(w, b)`.
    """
    w, b = p[..., 0], p[..., 1]
    x = np.full(np.shape(w), RNN_X0)
    for _ in range(RNN_STEPS):
        x = w * sigmoid(x) + b
    return (x - RNN_TARGET) ** 2


def one_unit_rnn_grad(p: Array) -> Array:
    r"""Backpropagation through time: with :math:`\delta_t = \partial f/\partial x_t`,
    :math:`\delta_{50} = 2(x_{50} - 0.7)`, :math:`\delta_{t-1} = \delta_t\, w\, \sigma'(x_{t-1})`,
    :math:`\partial f/\partial w = \sum_t \delta_t\, \sigma(x_{t-1})`,
    :math:`\partial f/\partial b = \sum_t \delta_t`."""
    w, b = p[..., 0], p[..., 1]
    xs = [np.full(np.shape(w), RNN_X0)]
    for _ in range(RNN_STEPS):  # forward, keeping every state
        xs.append(w * sigmoid(xs[-1]) + b)
    delta = 2 * (xs[-1] - RNN_TARGET)  # df/dx_50
    dw, db = np.zeros(np.shape(w)), np.zeros(np.shape(w))
    for t in range(RNN_STEPS, 0, -1):
        s = sigmoid(xs[t - 1])
        dw += delta * s  # x_t = w s + b: dx_t/dw = s(x_{t-1}), the weight shared by every step
        db += delta  # dx_t/db = 1
        delta = delta * w * s * (1 - s)  # dx_t/dx_{t-1} = w sigma'(x_{t-1})
    return np.stack([dw, db], axis=-1)


RECURRENT_CLIFF = Surface(
    "one-unit recurrent network",
    one_unit_rnn,
    one_unit_rnn_grad,
    # x = 0.7 is a fixed point when b = 0.7 - w sigma(0.7); for w = 2 the map contracts to it
    minimum=(2.0, RNN_TARGET - 2.0 / (1.0 + np.exp(-RNN_TARGET))),
    start=(8.0, -1.0),
    xlim=(-2.0, 12.0),
    ylim=(-8.0, 4.0),
)
SURFACES = {
    "quadratic": ELONGATED_QUADRATIC,
    "rosenbrock": ROSENBROCK,
    "cliff": RECURRENT_CLIFF,
}


def get_surface(name: str) -> Surface:
    """A surface by its short name: ``"quadratic"``, ``"rosenbrock"`` or ``"cliff"``."""
    try:
        return SURFACES[name]
    except (KeyError, TypeError):
        valid = ", ".join(repr(k) for k in SURFACES)
        raise ValueError(f"unknown surface {name!r}; choose one of {valid}") from None


@dataclass
class Trajectory:
    """The points an optimizer visited, ``points`` shape ``(steps + 1, 2)``, and ``f`` there.

    ``diverged`` is true if the run left the finite numbers or went far outside the
    surface's plotting box (``bound`` times its size), at which point it stopped.
    """

    points: Array
    values: Array
    diverged: bool


def descend(
    surface: Surface,
    make_optimizer: Callable[[list[Parameter]], Optimizer],
    steps: int,
    start: ArrayLike | None = None,
    bound: float = 1e3,
) -> Trajectory:
    r"""Run an optimizer on ``surface`` for ``steps`` steps from ``start``.

    Each step writes :math:`g = \nabla f(\theta)` into the parameter's ``grad`` and calls
    ``optimizer.step()``; ``make_optimizer`` receives ``[Parameter("xy", theta, g)]``,
    e.g. ``lambda ps: bpkit.Momentum(ps, lr=0.01, momentum=0.9)``.
    """
    if not isinstance(steps, int | np.integer) or steps < 1:
        raise ValueError(f"steps must be a positive whole number; got {steps!r}")
    theta = _as_points(surface.start if start is None else start, "descend's start").copy()
    if theta.shape != (2,):
        raise ValueError(f"start must be one point of shape (2,); got shape {theta.shape}")
    grad = np.zeros(2)
    optimizer = make_optimizer([Parameter("xy", theta, grad)])
    size = max(np.ptp(surface.xlim), np.ptp(surface.ylim))
    points = [theta.copy()]
    diverged = False
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(int(steps)):
            grad[...] = surface.grad(theta)
            optimizer.step()
            if not np.all(np.isfinite(theta)) or np.max(np.abs(theta)) > bound * size:
                diverged = True
                break
            points.append(theta.copy())
    pts = np.array(points)
    return Trajectory(pts, surface.value(pts), diverged)
