r"""Checkers for chapter 3's "build your own Value": the learner writes the operations
``+``, ``*`` and ``tanh``, the topological order and ``backward`` as plain functions on a
small node class (data, grad, _parents, _op, _backward), one step at a time.

Each checker builds its own nodes with :class:`Node` (the same five attributes as the
chapter's ``MyValue``), runs the learner's function, and when the result is wrong tests it
against the classic mistakes, so that the message names the mistake:

* ``=`` instead of ``+=`` in a ``_backward`` (a node used twice keeps one path only);
* the gradient arriving from above (``out.grad``) left out of the chain rule;
* a product's local derivative taken as the node's own value (multiply *swaps*);
* tanh' written as tanh, or evaluated at the input instead of the output;
* ``out._backward = _backward()`` (the function called, not attached);
* a topological order that repeats shared nodes, puts a node before its parents (a
  breadth-first walk reversed does, on a graph where a node is reached along paths of
  different lengths), or is built by recursion (which a deep graph turns into a
  ``RecursionError``);
* a backward pass without the seed, in forward order, in reversed breadth-first order, or
  without any topological order (calling ``_backward`` recursively from the output).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from bpcourse.exercises.feedback import (
    RETURNED_NOTHING,
    Feedback,
    call_answer,
    failed,
    not_attempted,
    passed,
)
from bpkit.engine import Value

DEEP = 20_000  # nodes in the chain that a recursive walk cannot survive


class Node:
    """The chapter's ``MyValue``: a number that remembers how it was computed."""

    def __init__(self, data: float, parents: tuple[Node, ...] = (), op: str = "") -> None:
        self.data = float(data)
        self.grad = 0.0
        self._parents = parents
        self._op = op
        self._backward: Callable[[], None] = lambda: None
        self.label = ""

    def __repr__(self) -> str:
        return (
            f"Node({self.label or self._op or 'leaf'}: data={self.data:.4g}, grad={self.grad:.4g})"
        )


# ------------------------------------------------------------------ reference operations
def add(a: Node, b: Node) -> Node:
    out = Node(a.data + b.data, (a, b), "+")

    def _backward() -> None:
        a.grad += out.grad  # d(a + b)/da = 1: add distributes
        b.grad += out.grad

    out._backward = _backward
    return out


def mul(a: Node, b: Node) -> Node:
    out = Node(a.data * b.data, (a, b), "*")

    def _backward() -> None:
        a.grad += b.data * out.grad  # d(ab)/da = b: multiply swaps
        b.grad += a.data * out.grad

    out._backward = _backward
    return out


def tanh(a: Node) -> Node:
    t = math.tanh(a.data)
    out = Node(t, (a,), "tanh")

    def _backward() -> None:
        a.grad += (1 - t * t) * out.grad  # tanh' = 1 - tanh^2, from the output

    out._backward = _backward
    return out


def topological_order(root: Node) -> list[Node]:
    """Every node once, after all of its parents; an explicit stack, no recursion."""
    order, visited = [], {id(root)}
    stack = [(root, iter(root._parents))]
    while stack:
        node, parents = stack[-1]
        for p in parents:
            if id(p) not in visited:
                visited.add(id(p))
                stack.append((p, iter(p._parents)))
                break
        else:
            stack.pop()
            order.append(node)
    return order


def backward(root: Node) -> None:
    order = topological_order(root)
    root.grad = 1.0  # the seed, dL/dL = 1
    for node in reversed(order):
        node._backward()


# ------------------------------------------------------------------ test graphs
def _leaf(v: float, label: str) -> Node:
    n = Node(v)
    n.label = label
    return n


def shared_graph() -> tuple[Node, dict[str, Node]]:
    """f = w·x + x: the leaf x is used twice."""
    w, x = _leaf(-3.0, "w"), _leaf(2.0, "x")
    wx = mul(w, x)
    wx.label = "w·x"
    f = add(wx, x)
    f.label = "f"
    return f, {"w": w, "x": x, "w·x": wx, "f": f}


def diamond_graph() -> tuple[Node, dict[str, Node]]:
    """f = t + t·w with t = tanh(x): t reaches f directly and through t·w, along paths of
    different lengths, so an order by distance from the output puts t·w after t's use."""
    x, w = _leaf(0.7, "x"), _leaf(-1.5, "w")
    t = tanh(x)
    t.label = "t"
    tw = mul(t, w)
    tw.label = "t·w"
    f = add(t, tw)
    f.label = "f"
    return f, {"x": x, "w": w, "t": t, "t·w": tw, "f": f}


def neuron_graph() -> tuple[Node, dict[str, Node]]:
    """L = (tanh(w x + b) - y)^2, written with +, * and tanh only."""
    w, x, b, y = _leaf(-0.5, "w"), _leaf(2.0, "x"), _leaf(0.3, "b"), _leaf(0.5, "y")
    minus_one = _leaf(-1.0, "-1")
    z = add(mul(w, x), b)
    y_hat = tanh(z)
    r = add(y_hat, mul(y, minus_one))
    L = mul(r, r)  # r used twice
    L.label = "L"
    return L, {"w": w, "x": x, "b": b, "y": y, "L": L}


def breadth_first_reversed(root: Node) -> list[Node]:
    """A plausible wrong order: breadth-first from the output, reversed. It lists every node
    once, and on a tree or on w·x + x every node comes after its parents; on the diamond
    graph t·w comes before its parent t."""
    order, seen, queue = [root], {id(root)}, [root]
    while queue:
        node = queue.pop(0)
        for p in node._parents:
            if id(p) not in seen:
                seen.add(id(p))
                order.append(p)
                queue.append(p)
    return order[::-1]


GRAPHS = (shared_graph, diamond_graph, neuron_graph)


def deep_chain(depth: int = DEEP) -> tuple[Node, Node]:
    """x + c + c + ... (depth additions): a graph too deep for a recursive walk."""
    x = _leaf(0.5, "x")
    c = _leaf(0.001, "c")
    node = x
    for _ in range(depth):
        node = add(node, c)
    return node, x


# ------------------------------------------------------------------ helpers
def _call(
    exercise: str, fn: Callable[..., Any], *args: Any, returns: bool = True
) -> tuple[Feedback | None, Any]:
    """Call the learner's ``fn``; a :class:`Feedback` if it is the stub or it raised.

    ``returns=False`` for a function that works by side effect (``backward``), where
    returning ``None`` is right and only ``NotImplementedError`` means "not attempted".
    """
    try:
        if returns:
            ok, result = call_answer(fn, *args)
        else:
            ok, result = True, fn(*args)
    except NotImplementedError:
        return not_attempted(exercise), None
    except RecursionError:
        return (
            failed(
                exercise,
                "RecursionError: your function calls itself once per node, and a graph "
                f"{DEEP:,} nodes deep is deeper than Python's recursion limit. Walk the graph "
                "with an explicit stack (a list you push to and pop from) instead",
            ),
            None,
        )
    except Exception as exc:  # the learner's code raised: say so in words
        return failed(exercise, f"your function raised {type(exc).__name__}: {exc}"), None
    if not ok:
        return not_attempted(exercise), None
    if returns and result is None:
        return failed(exercise, RETURNED_NOTHING, "returned-nothing"), None
    return None, result


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def _check_node(exercise: str, out: Any, operands: Iterable[Node], value: float) -> Feedback | None:
    operands = list(operands)
    if not hasattr(out, "data") or not hasattr(out, "_backward"):
        return failed(
            exercise,
            f"return a new MyValue (a node with data, grad, _parents, _op and _backward), "
            f"not {type(out).__name__}",
        )
    if any(out is a for a in operands):
        return failed(exercise, "you returned an operand: build a new node for the result")
    if not _close(out.data, value):
        return failed(
            exercise, f"the forward value is wrong: expected {value:.6g}, got {out.data:.6g}"
        )
    parents = list(getattr(out, "_parents", ()))
    if not all(any(p is a for p in parents) for a in operands):
        return failed(
            exercise,
            "the new node does not list its operands in _parents, so backward() could never "
            "reach them: pass (u, v) (or (u,)) as the parents",
        )
    return None


def _not_a_function(exercise: str, out: Any) -> Feedback | None:
    """``out._backward = _backward()`` stores what the call returned (None), not the
    function: say so instead of crashing when the checker calls it."""
    if callable(getattr(out, "_backward", None)):
        return None
    return failed(
        exercise,
        f"out._backward is {type(out._backward).__name__}, not a function: attach the "
        "function itself, `out._backward = _backward` (no parentheses); `_backward()` "
        "runs it once, now, and stores what it returns",
        "backward-called-not-attached",
    )


def _run_backward(out: Any, upstream: float) -> None:
    out.grad = upstream
    out._backward()


# ------------------------------------------------------------------ step 1: add
def check_add(fn: Callable[[Any, Any], Any]) -> Feedback:
    """``fn(u, v)`` returns the node ``u + v`` with a ``_backward`` that adds ``out.grad``
    to both operands' ``grad``."""
    ex = "ex-value-add"
    a, b = Node(2.0), Node(-3.0)
    early, out = _call(ex, fn, a, b)
    if early:
        return early
    problem = _check_node(ex, out, (a, b), -1.0) or _not_a_function(ex, out)
    if problem:
        return problem
    a.grad = 0.25  # as if another path had already reached a
    g = 0.3  # the gradient arriving from above: not 1, not 0.5, so slips differ
    _run_backward(out, g)
    ga, gb = a.grad - 0.25, b.grad  # what each operand received
    if ga == 0 and gb == 0:
        return failed(
            ex,
            "out._backward does nothing: define a function _backward inside my_add and "
            "assign it with out._backward = _backward",
        )
    if _close(a.grad, g) and _close(gb, g):
        return failed(
            ex,
            "`u.grad = ...` overwrote the gradient that another path had already put there: "
            "accumulate with `u.grad += out.grad` (a node used twice sums both paths)",
        )
    named = {
        (1.0, 1.0): "the gradient arriving from above is not used: the chain rule multiplies "
        "the local derivative (1 for +) by out.grad, so each operand gets out.grad",
        (-3.0 * g, 2.0 * g): "that is the product's rule (each operand gets the other's "
        "value): the local derivative of + is 1, so each operand gets exactly out.grad",
    }
    for (wa, wb), message in named.items():
        if _close(ga, wa) and _close(gb, wb):
            return failed(ex, message)
    if not (_close(ga, g) and _close(gb, g)):
        return failed(
            ex,
            f"the local derivative of + is 1: each operand gets exactly out.grad ({g} here), "
            f"added to its grad; got u: +{ga:.4g}, v: +{gb:.4g}",
        )
    x = Node(1.5)  # x + x: the same node in both slots
    early, twice = _call(ex, fn, x, x)
    if early:
        return early
    _run_backward(twice, 1.0)
    if not _close(x.grad, 2.0):
        return failed(
            ex,
            f"for u + u, u.grad should be 2 (one path per operand), got {x.grad:.4g}: use "
            "+= for both operands",
        )
    return passed(ex, "well done: + distributes the gradient to both operands, and adds.")


# ------------------------------------------------------------------ step 2: mul
def check_mul(fn: Callable[[Any, Any], Any]) -> Feedback:
    """``fn(u, v)`` returns the node ``u * v``; its ``_backward`` adds ``v.data * out.grad``
    to ``u.grad`` and ``u.data * out.grad`` to ``v.grad``."""
    ex = "ex-value-mul"
    a, b = Node(2.0), Node(-3.0)
    early, out = _call(ex, fn, a, b)
    if early:
        return early
    problem = _check_node(ex, out, (a, b), -6.0) or _not_a_function(ex, out)
    if problem:
        return problem
    a.grad = 0.25
    _run_backward(out, 0.5)
    ga, gb = a.grad - 0.25, b.grad
    if ga == 0 and gb == 0:
        return failed(
            ex,
            "out._backward does nothing: define _backward inside my_mul and assign "
            "out._backward = _backward",
        )
    if _close(ga, 2.0 * 0.5) and _close(gb, -3.0 * 0.5):
        return failed(
            ex,
            "each operand got its own value as local derivative: ∂(uv)/∂u = v, the *other* "
            "operand (multiply swaps): u.grad += v.data * out.grad",
        )
    if _close(ga, -3.0) and _close(gb, 2.0):
        return failed(
            ex,
            "the gradient arriving from above is not used: multiply the local derivative by "
            "out.grad (the chain rule)",
        )
    if _close(a.grad, -1.5):
        return failed(
            ex,
            "`u.grad = ...` overwrote the gradient another path had already put there: "
            "accumulate with +=",
        )
    if not (_close(ga, -1.5) and _close(gb, 1.0)):
        return failed(
            ex,
            f"for u = 2, v = -3 and out.grad = 0.5, u should receive v·0.5 = -1.5 and v "
            f"should receive u·0.5 = 1; got {ga:.4g} and {gb:.4g}",
        )
    x = Node(1.5)
    early, sq = _call(ex, fn, x, x)
    if early:
        return early
    _run_backward(sq, 1.0)
    if not _close(x.grad, 3.0):
        return failed(
            ex,
            f"for u * u (u = 1.5), u.grad should be 2u = 3: one contribution per operand "
            f"slot, added; got {x.grad:.4g}",
        )
    return passed(ex, "well done: * swaps the operands' values into their gradients.")


# ------------------------------------------------------------------ step 3: tanh
def check_tanh(fn: Callable[[Any], Any]) -> Feedback:
    """``fn(u)`` returns the node ``tanh(u)``; its ``_backward`` adds
    ``(1 - out.data**2) * out.grad`` to ``u.grad``."""
    ex = "ex-value-tanh"
    a0 = 0.8
    a = Node(a0)
    early, out = _call(ex, fn, a)
    if early:
        return early
    t = math.tanh(a0)
    problem = _check_node(ex, out, (a,), t) or _not_a_function(ex, out)
    if problem:
        return problem
    a.grad = 0.25
    _run_backward(out, 0.5)
    g = a.grad - 0.25
    right = (1 - t * t) * 0.5
    if _close(g, right):
        x = Node(-0.4)
        _, twice = _call(ex, fn, x)
        _run_backward(twice, 1.0)
        _run_backward(twice, 1.0)  # the same node reached twice: += keeps both
        if _close(x.grad, 1 - math.tanh(-0.4) ** 2):
            return failed(ex, "`u.grad = ...` overwrites earlier paths: accumulate with +=")
        return passed(ex, "well done: tanh' = 1 - tanh², computed from the output.")
    wrong = {
        "tanh' written as tanh: the local derivative is 1 - tanh(u)², not tanh(u)": t * 0.5,
        "the derivative is taken at the input: 1 - u² is not tanh'(u); use the output, "
        "1 - out.data²": (1 - a0 * a0) * 0.5,
        "the gradient arriving from above is not used: multiply by out.grad": 1 - t * t,
        "the sign is flipped: tanh' = 1 - tanh² is positive": -right,
        "the square is missing: tanh' = 1 - tanh(u)², not 1 - tanh(u)": (1 - t) * 0.5,
        "tanh(1 - tanh) is the sigmoid's pattern σ(1 - σ); tanh's derivative is 1 - tanh²": (
            t * (1 - t) * 0.5
        ),
        "the square is in the wrong place: (1 - tanh(u))² is not 1 - tanh(u)²; square the "
        "output first, then subtract it from 1": (1 - t) ** 2 * 0.5,
    }
    for message, value in wrong.items():
        if _close(g, value):
            return failed(ex, message)
    if _close(a.grad, right):
        return failed(ex, "`u.grad = ...` overwrote the earlier gradient: accumulate with +=")
    if g == 0:
        return failed(ex, "out._backward does nothing: assign out._backward = _backward")
    return failed(ex, f"with out.grad = 0.5 at u = {a0}, u should receive {right:.6g}, got {g:.6g}")


# ------------------------------------------------------------------ step 4: the order
def check_topological_order(fn: Callable[[Any], Any]) -> Feedback:
    """``fn(root)`` returns every node of the graph once, each after all of its parents
    (the root last), without recursion."""
    ex = "ex-value-topo"
    for build in GRAPHS:
        root, _ = build()
        early, got = _call(ex, fn, root)
        if early:
            return early
        try:
            got = list(got)
        except TypeError:
            return failed(ex, f"return a list of nodes, not {type(got).__name__}")
        everything = topological_order(root)
        ids = [id(n) for n in got]
        if len(set(ids)) < len(ids):
            return failed(
                ex,
                "a node appears more than once: a node used twice (x in w·x + x) is reached "
                "along two paths; keep a set of visited nodes and add each node once",
            )
        missing = [n for n in everything if id(n) not in set(ids)]
        if missing:
            return failed(
                ex, f"{len(missing)} of the {len(everything)} nodes are missing from your order"
            )
        if len(got) != len(everything):
            return failed(ex, "your list holds objects that are not nodes of this graph")
        position = {id(n): i for i, n in enumerate(got)}
        if [id(n) for n in breadth_first_reversed(root)] == ids and build is diamond_graph:
            return failed(
                ex,
                "on f = t + t·w (t = tanh(x)) your order puts t·w before t, which it is "
                "computed from: a breadth-first walk from the output, reversed, orders nodes "
                "by their distance from the output, and t is both one and two steps away. "
                "Walk depth-first and append a node only after all of its parents",
                "breadth-first-reversed",
            )
        if got[0] is root:
            return failed(
                ex,
                "the output comes first: return the nodes with every node after its parents "
                "(the output last); backward() walks the list in reverse",
            )
        for n in got:
            for p in n._parents:
                if position[id(p)] > position[id(n)]:
                    return failed(
                        ex,
                        f"{p!r} comes after {n!r}, which is computed from it: every node must "
                        "come after all of its parents",
                    )
    top, _ = deep_chain()
    early, got = _call(ex, fn, top)
    if early:
        return early
    if len(list(got)) != DEEP + 2:
        return failed(ex, f"on a chain of {DEEP + 2:,} nodes your order has {len(list(got)):,}")
    return passed(ex, f"well done, and without recursion (a chain of {DEEP + 2:,} nodes works).")


# ------------------------------------------------------------------ step 5: backward
def _forward_order(root: Node) -> None:
    order = topological_order(root)
    root.grad = 1.0
    for node in order:
        node._backward()


def _recursive_from_root(root: Node) -> None:
    root.grad = 1.0
    stack = [root]  # the recursion of a naive version, without Python's depth limit
    while stack:
        node = stack.pop()
        node._backward()
        stack.extend(reversed(node._parents))


def _breadth_first_backward(root: Node) -> None:
    root.grad = 1.0
    for node in reversed(breadth_first_reversed(root)):
        node._backward()


def _unseeded(root: Node) -> None:
    for node in reversed(topological_order(root)):
        node._backward()


def check_backward(fn: Callable[[Any], Any]) -> Feedback:
    """``fn(root)`` fills every node's ``grad`` with d(root)/d(node): seed the root with 1,
    then call ``_backward`` of every node in reverse topological order."""
    ex = "ex-value-backward"
    for build in GRAPHS:
        root, named = build()
        early, _ = _call(ex, fn, root, returns=False)
        if early:
            return early
        got = {k: n.grad for k, n in named.items()}
        ref_root, ref_named = build()
        backward(ref_root)
        right = {k: n.grad for k, n in ref_named.items()}
        if all(_close(got[k], right[k]) for k in right):
            continue
        variants = {
            "the seed is missing: set root.grad = 1 (dL/dL) before the loop, or every "
            "_backward multiplies by 0": _unseeded,
            "the nodes ran in forward order: a node may only pass its gradient on once it is "
            "complete, after every node that uses it has run; loop over the topological "
            "order reversed": _forward_order,
            "no topological order: calling _backward from the output down each path runs a "
            "shared node before all of its gradient has arrived, and again for every path; "
            "sort the nodes topologically and call each _backward once, in reverse": (
                _recursive_from_root
            ),
            "your order runs a node before every node that uses it has run: on f = t + t·w "
            "(t = tanh(x)), t passed its gradient on before t·w had added its share (a "
            "breadth-first order reversed does this); use a topological order, every node "
            "after its parents, walked in reverse": _breadth_first_backward,
        }
        for message, variant in variants.items():
            v_root, v_named = build()
            variant(v_root)
            if all(_close(got[k], v_named[k].grad) for k in right):
                return failed(ex, message)
        shown = ", ".join(f"{k}.grad = {got[k]:.4g} (expected {right[k]:.4g})" for k in right)
        return failed(ex, f"wrong gradients: {shown}")
    top, x = deep_chain()
    early, _ = _call(ex, fn, top, returns=False)
    if early:
        return early
    if not _close(x.grad, 1.0):
        return failed(ex, f"on a deep chain of additions x.grad should be 1, got {x.grad:.4g}")
    return passed(ex, "well done: the seed, then every _backward once, in reverse order.")


# ------------------------------------------------------------------ your engine vs bpkit
def neuron_with(
    add_fn: Callable, mul_fn: Callable, tanh_fn: Callable, make: Callable[[float], Any]
) -> tuple[Any, dict[str, Any]]:
    """The chapter's neuron L = (tanh(w·x + b) - y)², built with the given operations."""
    w, x, b, y, minus_one = (make(v) for v in (-0.5, 2.0, 0.3, 0.5, -1.0))
    z = add_fn(mul_fn(w, x), b)
    r = add_fn(tanh_fn(z), mul_fn(y, minus_one))
    return mul_fn(r, r), {"w": w, "x": x, "b": b, "y": y}


def fork_with(
    add_fn: Callable, mul_fn: Callable, tanh_fn: Callable, make: Callable[[float], Any]
) -> tuple[Any, dict[str, Any]]:
    """f = (t + t·w)·t with t = tanh(x), built with the given operations: t is used three
    times, at three distances from f, and the product at the top runs before the sum, so
    an order by distance or a ``=`` in any step gives a wrong x.grad."""
    x, w = make(0.7), make(-1.5)
    t = tanh_fn(x)
    return mul_fn(add_fn(t, mul_fn(t, w)), t), {"x": x, "w": w}


def _first_failing_piece(
    my_add: Callable, my_mul: Callable, my_tanh: Callable, my_backward: Callable
) -> str:
    """Where an engine that disagrees with ``bpkit.Value`` goes wrong: the first of the four
    pieces that fails its own exercise's check, as a sentence to append ("" if all pass)."""
    pieces = (
        ("my_add", check_add, my_add),
        ("my_mul", check_mul, my_mul),
        ("my_tanh", check_tanh, my_tanh),
        ("my_backward", check_backward, my_backward),
    )
    for name, check, fn in pieces:
        fb = check(fn)
        if fb.status != "passed":
            return (
                f". Start with {name}: it has not passed its own check ({fb.exercise}): "
                f"{fb.message}"
            )
    return ""


def check_engine(
    my_add: Callable, my_mul: Callable, my_tanh: Callable, my_backward: Callable
) -> Feedback:
    """Your four functions against ``bpkit.Value``: the same loss and the same gradient for
    every leaf, on the chapter's neuron and on f = (t + t·w)·t, t = tanh(x) (a node reached
    along paths of different lengths)."""
    ex = "ex-value-backward"
    results = []
    for build, name in ((neuron_with, "the neuron"), (fork_with, "f = (t + t·w)·t")):
        early, built = _call(ex, lambda build=build: build(my_add, my_mul, my_tanh, Node))
        if early:
            return early
        L, leaves = built
        early, _ = _call(ex, my_backward, L, returns=False)
        if early:
            return early
        ref_L, ref = build(
            lambda a, b: a + b, lambda a, b: a * b, lambda a: a.tanh(), lambda v: Value(v)
        )
        ref_L.backward()
        if not _close(L.data, ref_L.data):
            return failed(
                ex,
                f"on {name} your output is {L.data:.6g}, bpkit.Value's is {ref_L.data:.6g}"
                + _first_failing_piece(my_add, my_mul, my_tanh, my_backward),
            )
        diffs = [k for k in ref if not _close(leaves[k].grad, ref[k].grad)]
        if diffs:
            shown = ", ".join(f"{k}: {leaves[k].grad:.6g} vs {ref[k].grad:.6g}" for k in diffs)
            return failed(
                ex,
                f"on {name} your gradients differ from bpkit.Value's for {shown}"
                + _first_failing_piece(my_add, my_mul, my_tanh, my_backward),
            )
        results.append((ref_L, ref))
    ref_L, ref = results[0]
    shown = ", ".join(f"dL/d{k} = {ref[k].grad:.6g}" for k in ref)
    return passed(ex, f"your engine agrees with bpkit.Value: L = {ref_L.data:.6g}, {shown}.")
