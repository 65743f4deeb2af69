"""The examples in CONTRIBUTING.md's "Adding an activation / a loss / an optimizer" work as
written: executed in the module they belong to, they register, and the registry-driven
checks pass for them."""

from __future__ import annotations

import pathlib
import re

import numpy as np
import pytest

import bpkit
from bpkit import activations, losses, optim, relative_error

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _registries_restored():
    """Whatever an example registers is gone afterwards, even if the example fails."""
    registries = [activations.ACTIVATIONS, losses.LOSSES, optim.OPTIMIZERS]
    saved = [dict(r) for r in registries]
    yield
    for registry, before in zip(registries, saved, strict=True):
        registry.clear()
        registry.update(before)


def _blocks(section: str) -> list[str]:
    text = (ROOT / "CONTRIBUTING.md").read_text()
    body = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", body, re.S)


def test_adding_an_activation_as_written():
    (code,) = _blocks("Adding an activation")
    scope = dict(vars(activations))
    exec(code, scope)
    entry = activations.ACTIVATIONS["softsign"]
    z = np.linspace(-3, 3, 12)  # (not 0, where |z| bends: central differences lose h)
    np.testing.assert_allclose(entry.f(z), z / (1 + np.abs(z)))
    numeric = np.array(
        [bpkit.numerical_gradient(lambda a: entry.f(a)[0], np.array([v]))[0] for v in z]
    )
    np.testing.assert_allclose(entry.grad(z), numeric, rtol=1e-7)
    assert bpkit.gradcheck(
        bpkit.mlp([2, 3, 1], "softsign", rng=0), np.ones((2, 2)), np.zeros((2, 1))
    ).passed


def test_adding_a_loss_as_written():
    (code,) = _blocks("Adding a loss")
    scope = dict(vars(losses))
    exec(code, scope)
    entry = losses.LOSSES["mae"]
    rng = np.random.default_rng(0)
    pred, y = rng.standard_normal((4, 2)), rng.standard_normal((4, 2))
    numeric = bpkit.numerical_gradient(lambda p: entry.value(p, y), pred)
    assert relative_error(entry.grad(pred, y), numeric) < 1e-7


def test_adding_an_optimizer_as_written():
    library, test = _blocks("Adding an optimizer")
    scope = dict(vars(optim))
    exec(library, scope)
    reference: dict = {"TEXTBOOK": {}, "np": np}
    exec(test, reference)
    rule, settings = reference["TEXTBOOK"]["sign_sgd"]
    rng = np.random.default_rng(1)
    grads = [rng.standard_normal(3) for _ in range(4)]
    for kwargs in settings:
        p = bpkit.Parameter("p", np.zeros(3), np.zeros(3))
        opt = optim.OPTIMIZERS["sign_sgd"]([p], lr=0.1, **kwargs)
        for g, expected in zip(grads, rule(np.zeros(3), grads, 0.1, **kwargs), strict=True):
            p.grad[...] = g
            opt.step()
            np.testing.assert_allclose(p.value, expected, rtol=1e-12)
