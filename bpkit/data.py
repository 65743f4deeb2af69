"""Small datasets used in the book. Every random draw takes an explicit ``rng``."""

from __future__ import annotations

import numpy as np

from bpkit.layers import Array, as_generator


def xor() -> tuple[Array, Array]:
    """The four XOR points: ``X`` shape (4, 2), ``y`` shape (4, 1)."""
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    y = np.array([[0], [1], [1], [0]], dtype=np.float64)
    return X, y


def three_samples() -> tuple[Array, Array]:
    """The three-sample dataset of many tutorials: ``X`` (3, 3) -> ``y`` (3, 1)."""
    X = np.array([[0, 0, 1], [1, 1, 1], [1, 0, 0]], dtype=np.float64)
    y = np.array([[0], [1], [0]], dtype=np.float64)
    return X, y


def line_points() -> tuple[Array, Array]:
    """Five points for fitting a line: x = 1..5, y = 1.2, 2.4, 3.6, 4.8, 5.0."""
    x = np.arange(1.0, 6.0)
    y = np.array([1.2, 2.4, 3.6, 4.8, 5.0])
    return x, y


def two_moons(
    n: int, noise: float = 0.1, rng: np.random.Generator | int | None = None
) -> tuple[Array, Array]:
    """Two interleaving half circles: ``X`` (n, 2), labels ``y`` (n, 1) in {0, 1}."""
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 2:
        raise ValueError(f"two_moons needs a whole number n >= 2 of points; got {n!r}")
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise is a standard deviation: finite and >= 0; got {noise!r}")
    gen = as_generator(rng, "two_moons")
    n0 = n // 2
    t0 = gen.uniform(0, np.pi, n0)
    t1 = gen.uniform(0, np.pi, n - n0)
    X = np.concatenate(
        [
            np.stack([np.cos(t0), np.sin(t0)], axis=1),
            np.stack([1 - np.cos(t1), 0.5 - np.sin(t1)], axis=1),
        ]
    )
    X += noise * gen.standard_normal(X.shape)
    y = np.concatenate([np.zeros(n0), np.ones(n - n0)])[:, None]
    order = gen.permutation(n)
    return X[order], y[order]
