r"""Checkers for Chapter 3, the chain rule.

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

from bpcourse.exercises.feedback import (
    Check,
    Feedback,
    Mistake,
    WrongForm,
    call_answer,
    failed,
    not_attempted,
    passed,
)
from bpkit.engine import Value

Fn = Callable[..., object]

# --------------------------------------------------------------- the three-layer chain
THREE_LAYER_CASES: tuple[tuple[float, float, float, float, float], ...] = (
    # (w1, w2, w3, x, t)
    (0.8, -1.3, 0.7, 1.5, 0.25),
    (-0.4, 0.9, 1.6, -2.0, -0.5),
    (1.2, 0.5, -0.8, 0.7, 1.0),
)


def three_layer_forward(w1: float, w2: float, w3: float, x: float, t: float) -> dict:
    r""":math:`y_1 = \tanh(w_1 x)`, :math:`y_2 = \tanh(w_2 y_1)`, :math:`y_3 = w_3 y_2`,
    :math:`L = \tfrac12 (y_3 - t)^2`."""
    y1 = math.tanh(w1 * x)
    y2 = math.tanh(w2 * y1)
    y3 = w3 * y2
    return {"y1": y1, "y2": y2, "y3": y3, "L": 0.5 * (y3 - t) ** 2}


def three_layer_factors(w1: float, w2: float, w3: float, x: float, t: float) -> dict:
    r"""The four factors of :math:`\frac{\partial L}{\partial w_1} =
    \frac{\partial L}{\partial y_3}\frac{\partial y_3}{\partial y_2}
    \frac{\partial y_2}{\partial y_1}\frac{\partial y_1}{\partial w_1}`."""
    f = three_layer_forward(w1, w2, w3, x, t)
    return {
        "dL/dy3": f["y3"] - t,  # derivative of 1/2 (y3 - t)^2
        "dy3/dy2": w3,  # y3 = w3 * y2
        "dy2/dy1": (1.0 - f["y2"] ** 2) * w2,  # tanh'(w2 y1) = 1 - y2^2, times d(w2 y1)/dy1
        "dy1/dw1": (1.0 - f["y1"] ** 2) * x,  # tanh'(w1 x) = 1 - y1^2, times d(w1 x)/dw1
    }


def three_layer_grad_w1(w1: float, w2: float, w3: float, x: float, t: float) -> float:
    """The reference dL/dw1: the product of the four factors."""
    return math.prod(three_layer_factors(w1, w2, w3, x, t).values())


# What a learner may write for the local derivative of each tanh layer: the right one,
# nothing (missing), tanh itself, or 1 - z² of the pre-activation z.
_TANH_SLIPS = {
    "right": None,
    "missing": "the derivative of the {nth} tanh, 1 - {y}², is missing from {d}",
    "tanh": "tanh' is written as tanh in {d}: the derivative of tanh(z) is 1 - tanh(z)², "
    "not tanh(z)",
    "preact": "tanh' is evaluated at the wrong argument in {d}: 1 - z² of the pre-activation "
    "z = {z}; it is 1 - tanh(z)² = 1 - {y}²",
}


def _tanh_factor(slip: str, y: float, z: float) -> float:
    return {"right": 1.0 - y * y, "missing": 1.0, "tanh": y, "preact": 1.0 - z * z}[slip]


def _chain_variant(slip1: str, slip2: str) -> Fn:
    def grad(w1, w2, w3, x, t):
        f = three_layer_forward(w1, w2, w3, x, t)
        d1 = _tanh_factor(slip1, f["y1"], w1 * x) * x
        d2 = _tanh_factor(slip2, f["y2"], w2 * f["y1"]) * w2
        return (f["y3"] - t) * w3 * d2 * d1

    return grad


def _three_layer_mistakes() -> list[Mistake]:
    mistakes = []
    for slip1, slip2 in product(_TANH_SLIPS, repeat=2):
        if slip1 == slip2 == "right":
            continue
        parts = []
        if slip1 == slip2:
            if slip1 == "missing":
                parts.append(
                    "both tanh derivatives are missing: each layer contributes f'(z) as well "
                    "as its weight"
                )
            else:
                text = _TANH_SLIPS[slip1].format(d="both layers", z="w·input", y="tanh(z)")
                parts.append(text)
        else:
            for slip, nth, y, d, z in (
                (slip1, "first", "y1", "dy1/dw1", "w1·x"),
                (slip2, "second", "y2", "dy2/dy1", "w2·y1"),
            ):
                if slip != "right":
                    parts.append(_TANH_SLIPS[slip].format(nth=nth, y=y, d=d, z=z))
        mistakes.append(Mistake("; ".join(parts), _chain_variant(slip1, slip2), f"{slip1}-{slip2}"))
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
        def fn(w1, w2, w3, x, t):
            f = three_layer_forward(w1, w2, w3, x, t)
            k = three_layer_factors(w1, w2, w3, x, t)
            for name, new in change.items():
                k[name.replace("_", "/")] = new(f, {"w1": w1, "w2": w2, "w3": w3, "x": x, "t": t})
            return math.prod(k.values())

        return fn

    return [
        *mistakes,
        Mistake(
            "the factor x is missing from dy1/dw1 = (1 - y1²)·x (inner derivative of w1·x)",
            variant(dy1_dw1=lambda f, p: 1.0 - f["y1"] ** 2),
            "missing-x",
        ),
        Mistake(
            "the factor w2 is missing from dy2/dy1 = (1 - y2²)·w2 (inner derivative of w2·y1)",
            variant(dy2_dy1=lambda f, p: 1.0 - f["y2"] ** 2),
            "missing-w2",
        ),
        Mistake(
            "the factor dy3/dy2 = w3 is missing",
            variant(dy3_dy2=lambda f, p: 1.0),
            "missing-w3",
        ),
        Mistake(
            "the sign is flipped: dL/dy3 is y3 - t, not t - y3",
            variant(dL_dy3=lambda f, p: p["t"] - f["y3"]),
            "wrong-sign",
        ),
        Mistake(
            "off by a factor 2: with the ½ in L = ½(y3 - t)², dL/dy3 is y3 - t, not 2(y3 - t)",
            variant(dL_dy3=lambda f, p: 2 * (f["y3"] - p["t"])),
            "extra-2",
        ),
    ]


THREE_LAYER = Check(
    "ex-chain-three-layer",
    three_layer_grad_w1,
    THREE_LAYER_CASES,
    tuple(_three_layer_mistakes()),
    "your gradient",
)


def check_three_layer_grad(fn: Fn) -> Feedback:
    r"""``fn(w1, w2, w3, x, t)`` should return :math:`\partial L/\partial w_1` for the chain
    :math:`y_1 = \tanh(w_1 x)`, :math:`y_2 = \tanh(w_2 y_1)`, :math:`y_3 = w_3 y_2`,
    :math:`L = \tfrac12 (y_3 - t)^2`."""
    return THREE_LAYER.run(fn)


# --------------------------------------------------------------- a node used twice
SHARED_CASES: tuple[tuple[float, float], ...] = ((0.6, 1.5), (-1.1, 0.4), (0.3, -2.5))


def shared_loss(w: float, x: float) -> float:
    r""":math:`L = a \tanh(a)` with :math:`a = w x`: the node ``a`` is used twice."""
    a = w * x
    return a * math.tanh(a)


def shared_grad_w(w: float, x: float) -> float:
    r""":math:`\partial L/\partial w = \big(\tanh a + a (1 - \tanh^2 a)\big)\, x`: two paths."""
    a = w * x
    th = math.tanh(a)
    direct = th  # path a -> L through the first operand of the product
    via_tanh = a * (1.0 - th * th)  # path a -> tanh(a) -> L
    return (direct + via_tanh) * x  # both paths, then da/dw = x


def _th(w: float, x: float) -> float:
    return math.tanh(w * x)


SHARED = Check(
    "ex-chain-shared",
    shared_grad_w,
    SHARED_CASES,
    (
        Mistake(
            "only the direct path a → L is counted: the path through tanh(a) is missing; "
            "a node used twice sums the gradients of both paths",
            lambda w, x: _th(w, x) * x,
            "only-direct-path",
        ),
        Mistake(
            "only the path through tanh(a) is counted: the direct path a → L (the first factor "
            "of a·tanh(a)) is missing; a node used twice sums both paths",
            lambda w, x: w * x * (1 - _th(w, x) ** 2) * x,
            "only-tanh-path",
        ),
        Mistake(
            "the two paths are multiplied: a node used twice gets the sum of the gradients "
            "along its paths, tanh(a) + a·(1 - tanh²a), not their product",
            lambda w, x: _th(w, x) * (w * x * (1 - _th(w, x) ** 2)) * x,
            "paths-multiplied",
        ),
        Mistake(
            "tanh' is written as tanh on the path through tanh(a): its local derivative is "
            "1 - tanh(a)², not tanh(a)",
            lambda w, x: (_th(w, x) + w * x * _th(w, x)) * x,
            "tanh-for-its-derivative",
        ),
        Mistake(
            "tanh' is missing its square: the derivative of tanh(a) is 1 - tanh(a)², "
            "not 1 - tanh(a)",
            lambda w, x: (_th(w, x) + w * x * (1 - _th(w, x))) * x,
            "tanh-derivative-unsquared",
        ),
        Mistake(
            "the last step is missing: this is dL/da; multiply by da/dw = x",
            lambda w, x: _th(w, x) + w * x * (1 - _th(w, x) ** 2),
            "missing-last-step",
        ),
    ),
    "your gradient",
)


def check_shared_grad(fn: Fn) -> Feedback:
    r"""``fn(w, x)`` should return :math:`\partial L/\partial w` for
    :math:`L = a\tanh(a)`, :math:`a = w x`."""
    return SHARED.run(fn)


# --------------------------------------------------------------- a new Value operation
def _run_sin(fn: Callable[[Value], Value], a0: float) -> tuple[float, float] | None:
    """Build ``a``, call ``fn(a)``, backpropagate ``L = 3 sin(a) + a``; return
    ``(sin(a).data, a.grad)``. ``a`` is used twice, so ``=`` instead of ``+=`` loses a
    path, and the factor 3 reaches ``sin`` through ``out.grad``."""
    a = Value(a0, label="a")
    s = fn(a)
    if s is None:
        return None
    if not isinstance(s, Value):
        raise WrongForm(f"your function should return a Value, got {type(s).__name__}")
    if s is a:
        raise WrongForm("your function returned its input: build a new Value for sin(a)")
    if not any(p is a for p in s._parents):
        raise WrongForm(
            "the new Value does not list `a` among its parents (`_parents=(a,)`), so "
            "backward() never reaches `a`"
        )
    loss = s * 3.0 + a
    loss.backward()
    return s.data, a.grad


def _sin_answer(grad: Callable[[float], float]) -> Callable[[float], tuple[float, float]]:
    return lambda a0: (math.sin(a0), grad(a0))


SIN_OP = Check(
    "ex-chain-sin",
    _sin_answer(lambda a0: 3.0 * math.cos(a0) + 1.0),
    ((0.7,), (-1.9,), (2.4,)),
    (
        Mistake(
            "only the direct path reached `a`: did you set `out._backward = _backward`?",
            _sin_answer(lambda a0: 1.0),
            "backward-not-attached",
        ),
        Mistake(
            "`a.grad = ...` overwrites the gradient that arrived along the other path: "
            "accumulate with `a.grad += ...`",
            _sin_answer(lambda a0: 3.0 * math.cos(a0)),
            "assign-not-accumulate",
        ),
        Mistake(
            "the gradient arriving from above is not used: multiply the local derivative by "
            "`out.grad` (chain rule)",
            _sin_answer(lambda a0: math.cos(a0) + 1.0),
            "out-grad-unused",
        ),
        Mistake(
            "the local derivative should be cos(a), not sin(a)",
            _sin_answer(lambda a0: 3.0 * math.sin(a0) + 1.0),
            "sin-for-cos",
        ),
        Mistake(
            "the sign is flipped: d sin(a)/da = +cos(a)",
            _sin_answer(lambda a0: -3.0 * math.cos(a0) + 1.0),
            "wrong-sign",
        ),
        Mistake(
            "the local derivative is evaluated at the output: it is cos(a), not cos(sin(a))",
            _sin_answer(lambda a0: 3.0 * math.cos(math.sin(a0)) + 1.0),
            "derivative-at-output",
        ),
    ),
    "your sin",
    parts=("the forward value sin(a)", "a.grad (for L = 3·sin(a) + a)"),
    call=_run_sin,
    show=lambda a0: f"a = {a0:g}",
    rtol=1e-9,
    atol=1e-12,
    passed_message="well done: sin's gradient agrees with 3·cos(a) + 1 through both paths.",
)


def check_sin_op(fn: Callable[[Value], Value]) -> Feedback:
    r"""``fn(a)`` should return a new ``Value`` holding :math:`\sin a` whose ``_backward``
    adds :math:`\cos(a) \cdot` ``out.grad`` to ``a.grad``.

    Checked on :math:`L = 3 \sin(a) + a`, where ``a`` is used twice (so ``=`` instead of
    ``+=`` loses a path) and the factor 3 reaches ``sin`` through ``out.grad``.
    """
    return SIN_OP.run(fn)


# =====================================================================================
# Checkers for the chapter as rewritten for issue 12, in the book's notation: the target
# is y, the prediction y_hat, layers are superscripts, and the loss is the book's squared
# error with no 1/2, L = (y_hat - y)^2.
# =====================================================================================
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


def _chain_mistakes() -> dict[str, Fn]:
    def variant(**change: Callable[[dict, dict], float]) -> Fn:
        def fn(w1, w2, w3, x, y):
            f = chain_forward(w1, w2, w3, x, y)
            k = chain_factors(w1, w2, w3, x, y)
            for name, new in change.items():
                k[name] = new(f, {"w1": w1, "w2": w2, "w3": w3, "x": x, "y": y})
            return float(np.prod(list(k.values())))

        return fn

    return {
        "the derivative of the first tanh, 1 - (a⁽¹⁾)², is missing from da⁽¹⁾/dw⁽¹⁾": variant(
            **{"da1/dw1": lambda f, p: p["x"]}
        ),
        "the derivative of the second tanh, 1 - (a⁽²⁾)², is missing from da⁽²⁾/da⁽¹⁾": variant(
            **{"da2/da1": lambda f, p: p["w2"]}
        ),
        "both tanh derivatives are missing: each layer contributes its activation's "
        "derivative as well as its weight": variant(
            **{"da1/dw1": lambda f, p: p["x"], "da2/da1": lambda f, p: p["w2"]}
        ),
        "tanh' is written as tanh: the derivative of tanh(z) is 1 - tanh(z)², not tanh(z)": (
            variant(
                **{
                    "da1/dw1": lambda f, p: f["a1"] * p["x"],
                    "da2/da1": lambda f, p: f["a2"] * p["w2"],
                }
            )
        ),
        "the factor x is missing from da⁽¹⁾/dw⁽¹⁾ = (1 - (a⁽¹⁾)²)·x, the inner derivative "
        "of w⁽¹⁾x": variant(**{"da1/dw1": lambda f, p: 1.0 - f["a1"] ** 2}),
        "the factor w⁽²⁾ is missing from da⁽²⁾/da⁽¹⁾ = (1 - (a⁽²⁾)²)·w⁽²⁾, the inner "
        "derivative of w⁽²⁾a⁽¹⁾": variant(**{"da2/da1": lambda f, p: 1.0 - f["a2"] ** 2}),
        "the factor dŷ/da⁽²⁾ = w⁽³⁾ is missing": variant(**{"dy_hat/da2": lambda f, p: 1.0}),
        "the sign is flipped: dL/dŷ is 2(ŷ - y), not 2(y - ŷ)": variant(
            **{"dL/dy_hat": lambda f, p: 2 * (p["y"] - f["y_hat"])}
        ),
        "off by a factor 2: L = (ŷ - y)² has no ½ in front, so dL/dŷ = 2(ŷ - y)": variant(
            **{"dL/dy_hat": lambda f, p: f["y_hat"] - p["y"]}
        ),
    }


def check_chain_grad(fn: Fn) -> Feedback:
    r"""``fn(w1, w2, w3, x, y)`` should return :math:`\partial L/\partial w^{(1)}` for the
    chain :math:`a^{(1)} = \tanh(w^{(1)} x)`, :math:`a^{(2)} = \tanh(w^{(2)} a^{(1)})`,
    :math:`\hat y = w^{(3)} a^{(2)}`, :math:`L = (\hat y - y)^2`."""
    return _check_scalar("ex-chain-three-layer", fn, chain_grad_w1, _chain_mistakes(), CHAIN_CASES)


def _shared_z_mistakes() -> dict[str, Fn]:
    def th(w, x):
        return math.tanh(w * x)

    return {
        "only the direct path z → L is counted: the path through tanh(z) is missing; "
        "a node used twice sums the gradients of both paths": lambda w, x: th(w, x) * x,
        "only the path through tanh(z) is counted: the direct path z → L (the first factor "
        "of z·tanh(z)) is missing; a node used twice sums both paths": lambda w, x: (
            w * x * (1 - th(w, x) ** 2) * x
        ),
        "tanh' is written as tanh on the path through tanh(z): its local derivative is "
        "1 - tanh(z)², not tanh(z)": lambda w, x: (th(w, x) + w * x * th(w, x)) * x,
        "the last step is missing: this is dL/dz; multiply by dz/dw = x": lambda w, x: (
            th(w, x) + w * x * (1 - th(w, x) ** 2)
        ),
    }


def check_shared_grad_z(fn: Fn) -> Feedback:
    r"""``fn(w, x)`` should return :math:`\partial L/\partial w` for
    :math:`L = z\tanh(z)`, :math:`z = w x` (the same numbers as :func:`shared_grad_w`)."""
    return _check_scalar("ex-chain-shared", fn, shared_grad_w, _shared_z_mistakes(), SHARED_CASES)


def check_value_sin(fn: Callable[[Value], Value]) -> Feedback:
    r"""The same check as :func:`check_sin_op`, in chapter 3's notation for operands
    (``u``). ``fn(u)`` should return a new ``Value`` holding :math:`\sin u` whose ``_backward``
    adds :math:`\cos(u) \cdot` ``out.grad`` to ``u.grad``.

    Checked on :math:`L = 3 \sin(u) + u`, where ``u`` is used twice (so ``=`` instead of
    ``+=`` loses a path) and the factor 3 reaches ``sin`` through ``out.grad``.
    """
    ex = "ex-chain-sin"
    for a0 in (0.7, -1.9, 2.4):
        a = Value(a0, label="u")
        try:
            ok, s = call_answer(fn, a)
        except Exception as exc:
            return failed(ex, f"your function raised {type(exc).__name__}: {exc}")
        if not ok:
            return not_attempted(ex)
        if not isinstance(s, Value):
            return failed(ex, f"your function should return a Value, got {type(s).__name__}")
        if s is a:
            return failed(ex, "your function returned its input: build a new Value for sin(u)")
        if not math.isclose(s.data, math.sin(a0), rel_tol=1e-9, abs_tol=1e-12):
            return failed(
                ex, f"the forward value is wrong: sin({a0}) = {math.sin(a0):.6g}, got {s.data:.6g}"
            )
        if not any(p is a for p in s._parents):
            return failed(
                ex,
                "the new Value does not list `u` among its parents (`_parents=(u,)`), so "
                "backward() never reaches `u`",
            )
        loss = s * 3.0 + a
        try:
            loss.backward()
        except Exception as exc:
            return failed(ex, f"backward() raised {type(exc).__name__}: {exc}")
        right = 3.0 * math.cos(a0) + 1.0
        g = a.grad
        if math.isclose(g, right, rel_tol=1e-9, abs_tol=1e-12):
            continue
        wrong = {
            "only the direct path reached `u`: did you set `out._backward = _backward`?": 1.0,
            "`u.grad = ...` overwrites the gradient that arrived along the other path: "
            "accumulate with `u.grad += ...`": 3.0 * math.cos(a0),
            "the gradient arriving from above is not used: multiply the local derivative by "
            "`out.grad` (chain rule)": math.cos(a0) + 1.0,
            "the local derivative should be cos(u), not sin(u)": 3.0 * math.sin(a0) + 1.0,
            "the sign is flipped: d sin(u)/du = +cos(u)": -3.0 * math.cos(a0) + 1.0,
            "the local derivative is evaluated at the output: it is cos(u), not cos(sin(u))": (
                3.0 * math.cos(math.sin(a0)) + 1.0
            ),
        }
        for message, value in wrong.items():
            if math.isclose(g, value, rel_tol=1e-9, abs_tol=1e-12):
                return failed(
                    ex, f"{message} (for u = {a0}: u.grad = {g:.6g}, expected {right:.6g})"
                )
        return failed(
            ex,
            f"for L = 3·sin(u) + u with u = {a0}, u.grad should be 3·cos(u) + 1 = {right:.6g}, "
            f"got {g:.6g}",
        )
    return passed(ex, "well done: sin's gradient agrees with 3·cos(u) + 1 through both paths.")
