r"""Checkers for Chapter 3, the chain rule, in the book's notation: the target is ``y``, the
prediction ``y_hat``, layers are superscripts, and the loss is the squared error with no
½, :math:`L = (\hat y - y)^2`.

Each exercise is a :class:`~bpcourse.exercises.feedback.Check` (``THREE_LAYER``,
``SHARED``, ``SIN_OP``); each ``check_*`` runs it on the learner's function. The named
mistakes are the classic ones: a missing factor of the chain, tanh' written as tanh or
evaluated at the pre-activation (in one layer or both), one path of the graph forgotten,
two paths multiplied instead of added, ``=`` instead of ``+=``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import product

import numpy as np

from bpcourse.exercises.feedback import Check, Feedback, Mistake, WrongForm
from bpkit.engine import LOCAL_DERIVATIVES, Value

Fn = Callable[..., object]

# --------------------------------------------------------------- the three-layer chain
CHAIN_CASES: tuple[tuple[float, float, float, float, float], ...] = (
    # (w1, w2, w3, x, y)
    (0.8, -1.3, 0.7, 1.5, 0.25),
    (-0.4, 0.9, 1.6, -2.0, -0.5),
    (1.2, 0.5, -0.8, 0.7, 1.0),
)


def chain_forward(w1: float, w2: float, w3: float, x: float, y: float) -> dict:
    r""":math:`a^{(1)} = \tanh(w^{(1)} x)`, :math:`a^{(2)} = \tanh(w^{(2)} a^{(1)})`,
    :math:`\hat y = w^{(3)} a^{(2)}`, :math:`L = (\hat y - y)^2`."""
    a1 = math.tanh(w1 * x)
    a2 = math.tanh(w2 * a1)
    y_hat = w3 * a2
    return {"a1": a1, "a2": a2, "y_hat": y_hat, "L": (y_hat - y) ** 2}


def chain_factors(w1: float, w2: float, w3: float, x: float, y: float) -> dict:
    r"""The four factors of :math:`\partial L/\partial w^{(1)}`, one per link of the chain."""
    f = chain_forward(w1, w2, w3, x, y)
    return {
        "dL/dy_hat": 2 * (f["y_hat"] - y),  # derivative of (y_hat - y)^2
        "dy_hat/da2": w3,  # y_hat = w3 * a2
        "da2/da1": (1.0 - f["a2"] ** 2) * w2,  # tanh'(w2 a1) = 1 - a2^2, times w2
        "da1/dw1": (1.0 - f["a1"] ** 2) * x,  # tanh'(w1 x) = 1 - a1^2, times x
    }


def chain_grad_w1(w1: float, w2: float, w3: float, x: float, y: float) -> float:
    """The reference dL/dw1: the product of the four factors."""
    return float(np.prod(list(chain_factors(w1, w2, w3, x, y).values())))


# What a learner may write for the local derivative of each tanh layer: the right one,
# nothing (missing), tanh itself, or 1 - z² of the pre-activation z.
_TANH_SLIPS = {
    "right": None,
    "missing": "the derivative of the {nth}, 1 - {a}², is missing from {d}",
    "tanh": "tanh' is written as tanh in {d}: the derivative of tanh(z) is 1 - tanh(z)², "
    "not tanh(z)",
    "preact": "tanh' is evaluated at the wrong argument in {d}: 1 - z² of the pre-activation "
    "z = {z}; it is 1 - tanh(z)² = 1 - {a}²",
    "unsquared": "the square is missing in {d}: tanh' is 1 - {a}², not 1 - {a}",
    "sigmoid": "{d} uses the sigmoid's pattern {a}(1 - {a}); tanh's derivative is 1 - {a}²",
}
_BOTH_LAYERS = {
    "missing": "both tanh derivatives are missing: each layer contributes its activation's "
    "derivative as well as its weight",
    "tanh": "tanh' is written as tanh: the derivative of tanh(z) is 1 - tanh(z)², not tanh(z)",
    "preact": "tanh' is evaluated at the wrong argument in both layers: 1 - z² of the "
    "pre-activation z; it is 1 - tanh(z)²",
    "unsquared": "the square is missing in both tanh derivatives: tanh' is 1 - a², not 1 - a",
    "sigmoid": "both layers use the sigmoid's pattern a(1 - a); tanh's derivative is 1 - a²",
}


def _tanh_factor(slip: str, a: float, z: float) -> float:
    return {
        "right": 1.0 - a * a,
        "missing": 1.0,
        "tanh": a,
        "preact": 1.0 - z * z,
        "unsquared": 1.0 - a,
        "sigmoid": a * (1.0 - a),
    }[slip]


def _chain_variant(slip1: str, slip2: str) -> Fn:
    def grad(w1, w2, w3, x, y):
        f = chain_forward(w1, w2, w3, x, y)
        d1 = _tanh_factor(slip1, f["a1"], w1 * x) * x
        d2 = _tanh_factor(slip2, f["a2"], w2 * f["a1"]) * w2
        return 2 * (f["y_hat"] - y) * w3 * d2 * d1

    return grad


#: The two tanh layers of the three-layer chain: what a slip's hint fills in (the ordinal
#: with its noun, so that it is a message of its own for the translations).
_LAYERS = (
    ("first tanh", "(a⁽¹⁾)", "da⁽¹⁾/dw⁽¹⁾", "w⁽¹⁾x"),
    ("second tanh", "(a⁽²⁾)", "da⁽²⁾/da⁽¹⁾", "w⁽²⁾a⁽¹⁾"),
)


def _three_layer_mistakes() -> list[Mistake]:
    mistakes = []
    for slip1, slip2 in product(_TANH_SLIPS, repeat=2):
        if slip1 == slip2 == "right":
            continue
        if slip1 == slip2:
            text = _BOTH_LAYERS[slip1]
        else:
            text = "; ".join(
                _TANH_SLIPS[slip].format(nth=nth, a=a, d=d, z=z)
                for slip, (nth, a, d, z) in zip((slip1, slip2), _LAYERS, strict=True)
                if slip != "right"
            )
        mistakes.append(Mistake(text, _chain_variant(slip1, slip2), f"{slip1}-{slip2}"))
    names = {
        "missing-right": "first-tanh-derivative-missing",
        "right-missing": "second-tanh-derivative-missing",
        "missing-missing": "both-tanh-derivatives-missing",
        "tanh-tanh": "tanh-for-its-derivative",
        "tanh-right": "tanh-for-its-derivative-layer-1",
        "right-tanh": "tanh-for-its-derivative-layer-2",
        "preact-preact": "tanh-derivative-of-preactivation",
    }
    mistakes = [m._replace(name=names.get(m.name, m.name)) for m in mistakes]

    def variant(**change: Callable[[dict, dict], float]) -> Fn:
        def fn(w1, w2, w3, x, y):
            f = chain_forward(w1, w2, w3, x, y)
            k = chain_factors(w1, w2, w3, x, y)
            for name, new in change.items():
                k[name] = new(f, {"w1": w1, "w2": w2, "w3": w3, "x": x, "y": y})
            return float(np.prod(list(k.values())))

        return fn

    return [
        *mistakes,
        Mistake(
            "the factor x is missing from da⁽¹⁾/dw⁽¹⁾ = (1 - (a⁽¹⁾)²)·x, the inner derivative "
            "of w⁽¹⁾x",
            variant(**{"da1/dw1": lambda f, p: 1.0 - f["a1"] ** 2}),
            "missing-x",
        ),
        Mistake(
            "the factor w⁽²⁾ is missing from da⁽²⁾/da⁽¹⁾ = (1 - (a⁽²⁾)²)·w⁽²⁾, the inner "
            "derivative of w⁽²⁾a⁽¹⁾",
            variant(**{"da2/da1": lambda f, p: 1.0 - f["a2"] ** 2}),
            "missing-w2",
        ),
        Mistake(
            "the factor dŷ/da⁽²⁾ = w⁽³⁾ is missing",
            variant(**{"dy_hat/da2": lambda f, p: 1.0}),
            "missing-w3",
        ),
        Mistake(
            "the first factor, ∂L/∂ŷ = 2(ŷ - y), is missing: the chain starts at the loss",
            variant(**{"dL/dy_hat": lambda f, p: 1.0}),
            "missing-loss-factor",
        ),
        Mistake(
            "da⁽¹⁾/dw⁽¹⁾ has w⁽¹⁾ where x belongs: the derivative of w⁽¹⁾x with respect to "
            "w⁽¹⁾ is x",
            variant(**{"da1/dw1": lambda f, p: (1.0 - f["a1"] ** 2) * p["w1"]}),
            "w1-for-x",
        ),
        Mistake(
            "da⁽²⁾/da⁽¹⁾ has a⁽¹⁾ where w⁽²⁾ belongs: the derivative of w⁽²⁾a⁽¹⁾ with "
            "respect to a⁽¹⁾ is w⁽²⁾ (a⁽¹⁾ is its derivative with respect to w⁽²⁾)",
            variant(**{"da2/da1": lambda f, p: (1.0 - f["a2"] ** 2) * f["a1"]}),
            "a1-for-w2",
        ),
        Mistake(
            "this is ∂L/∂w⁽³⁾ = 2(ŷ - y)·a⁽²⁾; the exercise asks for ∂L/∂w⁽¹⁾, the whole "
            "chain back to the first weight",
            lambda w1, w2, w3, x, y: (
                2
                * (chain_forward(w1, w2, w3, x, y)["y_hat"] - y)
                * chain_forward(w1, w2, w3, x, y)["a2"]
            ),
            "gradient-of-w3",
        ),
        Mistake(
            "the sign is flipped: dL/dŷ is 2(ŷ - y), not 2(y - ŷ)",
            variant(**{"dL/dy_hat": lambda f, p: 2 * (p["y"] - f["y_hat"])}),
            "wrong-sign",
        ),
        Mistake(
            "off by a factor 2: L = (ŷ - y)² has no ½ in front, so dL/dŷ = 2(ŷ - y)",
            variant(**{"dL/dy_hat": lambda f, p: f["y_hat"] - p["y"]}),
            "dropped-2",
        ),
    ]


THREE_LAYER = Check(
    "ex-chain-three-layer",
    chain_grad_w1,
    CHAIN_CASES,
    tuple(_three_layer_mistakes()),
    "your gradient",
)


def check_chain_grad(fn: Fn) -> Feedback:
    r"""``fn(w1, w2, w3, x, y)`` should return :math:`\partial L/\partial w^{(1)}` for the
    chain :math:`a^{(1)} = \tanh(w^{(1)} x)`, :math:`a^{(2)} = \tanh(w^{(2)} a^{(1)})`,
    :math:`\hat y = w^{(3)} a^{(2)}`, :math:`L = (\hat y - y)^2`."""
    return THREE_LAYER.run(fn)


# --------------------------------------------------------------- a node used twice
SHARED_CASES: tuple[tuple[float, float], ...] = ((0.6, 1.5), (-1.1, 0.4), (0.3, -2.5))


def shared_loss(w: float, x: float) -> float:
    r""":math:`L = z \tanh(z)` with :math:`z = w x`: the node ``z`` is used twice."""
    z = w * x
    return z * math.tanh(z)


def shared_grad_w(w: float, x: float) -> float:
    r""":math:`\partial L/\partial w = \big(\tanh z + z (1 - \tanh^2 z)\big)\, x`: two paths."""
    z = w * x
    th = math.tanh(z)
    direct = th  # path z -> L through the first operand of the product
    via_tanh = z * (1.0 - th * th)  # path z -> tanh(z) -> L
    return (direct + via_tanh) * x  # both paths, then dz/dw = x


def _th(w: float, x: float) -> float:
    return math.tanh(w * x)


SHARED = Check(
    "ex-chain-shared",
    shared_grad_w,
    SHARED_CASES,
    (
        Mistake(
            "only the direct path z → L is counted: the path through tanh(z) is missing; "
            "a node used twice sums the gradients of both paths",
            lambda w, x: _th(w, x) * x,
            "only-direct-path",
        ),
        Mistake(
            "only the path through tanh(z) is counted: the direct path z → L (the first factor "
            "of z·tanh(z)) is missing; a node used twice sums both paths",
            lambda w, x: w * x * (1 - _th(w, x) ** 2) * x,
            "only-tanh-path",
        ),
        Mistake(
            "the two paths are multiplied: a node used twice gets the sum of the gradients "
            "along its paths, tanh(z) + z·(1 - tanh²z), not their product",
            lambda w, x: _th(w, x) * (w * x * (1 - _th(w, x) ** 2)) * x,
            "paths-multiplied",
        ),
        Mistake(
            "tanh' is written as tanh on the path through tanh(z): its local derivative is "
            "1 - tanh(z)², not tanh(z)",
            lambda w, x: (_th(w, x) + w * x * _th(w, x)) * x,
            "tanh-for-its-derivative",
        ),
        Mistake(
            "tanh' is missing its square: the derivative of tanh(z) is 1 - tanh(z)², "
            "not 1 - tanh(z)",
            lambda w, x: (_th(w, x) + w * x * (1 - _th(w, x))) * x,
            "tanh-derivative-unsquared",
        ),
        Mistake(
            "the last step is missing: this is dL/dz; multiply by dz/dw = x",
            lambda w, x: _th(w, x) + w * x * (1 - _th(w, x) ** 2),
            "missing-last-step",
        ),
    ),
    "your gradient",
)


def check_shared_grad_z(fn: Fn) -> Feedback:
    r"""``fn(w, x)`` should return :math:`\partial L/\partial w` for
    :math:`L = z\tanh(z)`, :math:`z = w x` (see :func:`shared_grad_w`)."""
    return SHARED.run(fn)


# --------------------------------------------------------------- a new Value operation
def _run_sin(fn: Callable[[Value], Value], u0: float) -> tuple[float, float] | None:
    """Build ``u``, call ``fn(u)``, backpropagate ``L = 3 sin(u) + u``; return
    ``(sin(u).data, u.grad)``. ``u`` is used twice, so ``=`` instead of ``+=`` loses a
    path, and the factor 3 reaches ``sin`` through ``out.grad``."""
    u = Value(u0, label="u")
    s = fn(u)
    if s is None:
        return None
    if not isinstance(s, Value):
        raise WrongForm(f"your function should return a Value, got {type(s).__name__}")
    if s is u:
        raise WrongForm("your function returned its input: build a new Value for sin(u)")
    if not any(p is u for p in s._parents):
        raise WrongForm(
            "the new Value does not list `u` among its parents (`_parents=(u,)`), so "
            "backward() never reaches `u`"
        )
    loss = s * 3.0 + u
    try:
        loss.backward()
    except ValueError:
        if s._op in LOCAL_DERIVATIVES:  # the table knows the op: the error is the learner's
            raise
        raise WrongForm(
            "the new Value has no `_backward` of its own, so backward() does not know how to "
            "pass the gradient through sin. Attach the function itself, "
            "`out._backward = _backward`, without parentheses: `out._backward = _backward()` "
            "runs it once, now, and stores what it returns (None)"
        ) from None
    return s.data, u.grad


def _sin_answer(grad: Callable[[float], float]) -> Callable[[float], tuple[float, float]]:
    return lambda u0: (math.sin(u0), grad(u0))


SIN_OP = Check(
    "ex-chain-sin",
    _sin_answer(lambda u0: 3.0 * math.cos(u0) + 1.0),
    ((0.7,), (-1.9,), (2.4,)),
    (
        Mistake(
            "only the direct path reached `u`: did you set `out._backward = _backward`?",
            _sin_answer(lambda u0: 1.0),
            "backward-not-attached",
        ),
        Mistake(
            "`u.grad = ...` overwrites the gradient that arrived along the other path: "
            "accumulate with `u.grad += ...`",
            _sin_answer(lambda u0: 3.0 * math.cos(u0)),
            "assign-not-accumulate",
        ),
        Mistake(
            "the gradient arriving from above is not used: multiply the local derivative by "
            "`out.grad` (chain rule)",
            _sin_answer(lambda u0: math.cos(u0) + 1.0),
            "out-grad-unused",
        ),
        Mistake(
            "the local derivative should be cos(u), not sin(u)",
            _sin_answer(lambda u0: 3.0 * math.sin(u0) + 1.0),
            "sin-for-cos",
        ),
        Mistake(
            "the sign is flipped: d sin(u)/du = +cos(u)",
            _sin_answer(lambda u0: -3.0 * math.cos(u0) + 1.0),
            "wrong-sign",
        ),
        Mistake(
            "the local derivative is evaluated at the output: it is cos(u), not cos(sin(u))",
            _sin_answer(lambda u0: 3.0 * math.cos(math.sin(u0)) + 1.0),
            "derivative-at-output",
        ),
    ),
    "your sin",
    parts=("the forward value sin(u)", "u.grad (for L = 3·sin(u) + u)"),
    call=_run_sin,
    show=lambda u0: f"u = {u0:g}",
    rtol=1e-9,
    atol=1e-12,
    passed_message="well done: sin's gradient agrees with 3·cos(u) + 1 through both paths.",
)


def check_value_sin(fn: Callable[[Value], Value]) -> Feedback:
    r"""``fn(u)`` should return a new ``Value`` holding :math:`\sin u` whose ``_backward``
    adds :math:`\cos(u) \cdot` ``out.grad`` to ``u.grad``.

    Checked on :math:`L = 3 \sin(u) + u`, where ``u`` is used twice (so ``=`` instead of
    ``+=`` loses a path) and the factor 3 reaches ``sin`` through ``out.grad``.
    """
    return SIN_OP.run(fn)
