r"""Scalar reverse-mode automatic differentiation: the ``Value`` node.

Each operation makes a new ``Value`` that records its operands (``_parents``) and the
operation (``_op``; a power ``v ** k`` also keeps its exponent, ``exponent``). One table,
``LOCAL_DERIVATIVES``, gives each operation's local derivatives
:math:`\partial\,out/\partial\,parent`. One step of the chain rule at a node
(``node._backward()``) multiplies each local derivative by the node's gradient
:math:`\partial L/\partial\,out` and *adds* the product to the parent's ``grad`` (``+=``,
so a node used twice collects the gradient from both paths). ``backward()`` visits the
nodes in reverse topological order, built with an explicit stack, so a chain of 100,000
operations needs no recursion.

A second ``backward()`` adds the same gradients again to every leaf (a ``Value`` you made
yourself), as PyTorch does: for ``c = a*b + a`` with ``a = 2, b = -3`` it takes
``a.grad`` from -2 to -4. The nodes in between are recomputed from zero on each pass, so
they hold the latest pass's gradients. Call ``zero_grad()`` first for a fresh pass.

What cannot be computed is refused in words: a result too large for a float (``exp`` of
1000), a derivative that is infinite (``x ** 0.5`` at 0), a gradient that overflows.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterator

Number = int | float


class Value:
    """A scalar that remembers how it was computed, so that it can be differentiated.

    >>> a, b = Value(2.0), Value(-3.0)
    >>> c = a * b + a
    >>> c.backward()
    >>> a.grad, b.grad
    (-2.0, 2.0)
    """

    __slots__ = ("_custom_backward", "_op", "_parents", "data", "exponent", "grad", "label")

    def __init__(
        self,
        data: Number,
        _parents: tuple[Value, ...] = (),
        _op: str = "",
        label: str = "",
    ) -> None:
        self.data = _finite_number(data, "Value(data)")
        self.grad = 0.0
        self._parents = tuple(_parents)
        self._op = _op
        self.exponent: float | None = None  # k, for a node made by v ** k
        self._custom_backward: Callable[[], None] | None = None
        self.label = label

    # ------------------------------------------------------------------ arithmetic
    def __add__(self, other: Value | Number) -> Value:
        other = _as_value(other)
        return _result(self.data + other.data, (self, other), "+")

    def __mul__(self, other: Value | Number) -> Value:
        other = _as_value(other)
        return _result(self.data * other.data, (self, other), "*")

    def __pow__(self, exponent: Number) -> Value:
        if isinstance(exponent, Value | bool) or not isinstance(exponent, numbers.Real):
            raise TypeError("Value ** x supports a plain number x only (e.g. v ** 2 or v ** -1)")
        k = exponent if isinstance(exponent, int) else float(exponent)
        if self.data < 0 and not float(k).is_integer():
            raise ValueError(
                f"{self.data!r} ** {k!r} is not a real number: a negative base needs "
                "a whole-number exponent"
            )
        if self.data == 0 and k < 0:
            raise ZeroDivisionError(f"0 ** {k!r} divides by zero")
        try:
            data = self.data**k
        except OverflowError:
            data = math.inf  # reported in words by _result
        out = _result(data, (self,), f"**{k:g}")
        out.exponent = k
        return out

    def exp(self) -> Value:
        if self.data > _MAX_EXP:
            raise OverflowError(
                f"exp({self.data:g}) is larger than the largest float (about 1.8e308): exp "
                f"overflows for inputs above {_MAX_EXP:.2f}"
            )
        return _result(math.exp(self.data), (self,), "exp")

    def log(self) -> Value:
        if self.data <= 0:
            raise ValueError(f"log is defined for positive numbers only; got {self.data!r}")
        return _result(math.log(self.data), (self,), "log")

    def tanh(self) -> Value:
        return _result(math.tanh(self.data), (self,), "tanh")

    def sigmoid(self) -> Value:
        return _result(_stable_sigmoid(self.data), (self,), "sigmoid")

    def relu(self) -> Value:
        return _result(self.data if self.data > 0 else 0.0, (self,), "relu")

    # Derived operations reuse the ones above, so their gradients come for free.
    def __neg__(self) -> Value:
        return self * -1

    def __sub__(self, other: Value | Number) -> Value:
        return self + (-_as_value(other))

    def __truediv__(self, other: Value | Number) -> Value:
        return self * _as_value(other) ** -1

    def __radd__(self, other: Number) -> Value:
        return self + other

    def __rmul__(self, other: Number) -> Value:
        return self * other

    def __rsub__(self, other: Number) -> Value:
        return _as_value(other) - self

    def __rtruediv__(self, other: Number) -> Value:
        return _as_value(other) / self

    # ------------------------------------------------------------------ backward
    @property
    def _backward(self) -> Callable[[], None]:
        """One step of the chain rule at this node: add ``local derivative * self.grad`` to
        each parent's ``grad``. As in micrograd, you may set your own function
        (``out._backward = fn``) for an operation the table does not know."""
        return self._custom_backward or self._chain_rule_step

    @_backward.setter
    def _backward(self, fn: Callable[[], None]) -> None:
        self._custom_backward = fn

    def _chain_rule_step(self) -> None:
        for parent, local in zip(self._parents, local_derivatives(self), strict=True):
            parent.grad += local * self.grad  # dL/dparent += dout/dparent * dL/dout

    def topological_order(self) -> list[Value]:
        """Every node this value depends on, each listed after all of its parents.

        Built with an explicit stack (depth-first, post-order), not recursion.
        """
        order: list[Value] = []
        visited: set[Value] = {self}  # a Value hashes by identity
        stack: list[tuple[Value, Iterator[Value]]] = [(self, iter(self._parents))]
        while stack:
            node, parents = stack[-1]
            for parent in parents:
                if parent not in visited:
                    visited.add(parent)
                    stack.append((parent, iter(parent._parents)))
                    break
            else:
                stack.pop()
                order.append(node)
        return order

    def backward(self) -> None:
        """Add d(self)/d(leaf) to the ``.grad`` of every leaf this value depends on, and set
        every node in between to d(self)/d(node).

        Leaves *accumulate* over calls (call :meth:`zero_grad` before a fresh pass).
        """
        order = self.topological_order()
        for node in order:
            if node._parents:
                node.grad = 0.0  # a node in between: this pass's gradient only
        self.grad += 1.0  # d(self)/d(self)
        for node in reversed(order):
            if not math.isfinite(node.grad):
                raise OverflowError(
                    f"the gradient reaching {_describe(node)} is {node.grad}: it overflowed "
                    "a float, so backward cannot pass on a meaningful number"
                )
            if node._custom_backward is not None:
                node._custom_backward()
            elif node._parents:
                node._chain_rule_step()

    def zero_grad(self) -> None:
        """Set ``.grad`` of this node and of every node it depends on to 0."""
        for node in self.topological_order():
            node.grad = 0.0

    def __deepcopy__(self, memo: dict) -> Value:
        """A copy of the whole expression, made node by node (no recursion), whose backward
        fills the copy's gradients. A node with your own ``_backward`` function cannot be
        copied: that function refers to the original nodes."""
        for node in self.topological_order():  # parents before children
            if id(node) in memo:
                continue
            if node._custom_backward is not None:
                raise TypeError(
                    f"cannot deep-copy {_describe(node)}: its _backward is your own "
                    "function, which would send the copy's gradients to the original "
                    "nodes. Build the expression again instead."
                )
            twin = Value(node.data, tuple(memo[id(p)] for p in node._parents), node._op)
            twin.grad, twin.exponent, twin.label = node.grad, node.exponent, node.label
            memo[id(node)] = twin
        return memo[id(self)]

    def __repr__(self) -> str:
        name = f"{self.label}: " if self.label else ""
        return f"Value({name}data={self.data:.6g}, grad={self.grad:.6g})"


# ---------------------------------------------------------------- local derivatives
def _power_rule(a: float, k: float) -> float:
    if a == 0 and k < 1:
        raise ZeroDivisionError(
            f"the derivative of a ** {k:g} at a = 0 is {k:g} * 0 ** {k - 1:g}, which is "
            "infinite: backward cannot pass a gradient through it"
        )
    try:
        return k * a ** (k - 1)  # d(a ** k)/da = k a^(k-1)
    except OverflowError:
        return math.inf  # beyond a float: refused in words when it reaches a parent


# d out / d parent for each operation, one number per operand; `out` is the node and
# `a` (and `b`) its operands.
LOCAL_DERIVATIVES: dict[str, Callable[..., tuple[float, ...]]] = {
    "+": lambda out, a, b: (1.0, 1.0),  # d(a + b)/da = d(a + b)/db = 1
    "*": lambda out, a, b: (b.data, a.data),  # d(ab)/da = b, d(ab)/db = a
    "**": lambda out, a: (_power_rule(a.data, out.exponent),),  # k a^(k-1)
    "exp": lambda out, a: (out.data,),  # exp(a): the output itself
    "log": lambda out, a: (1.0 / a.data,),  # 1/a
    "tanh": lambda out, a: (1.0 - out.data * out.data,),  # 1 - tanh(a)^2, not tanh(a)
    "sigmoid": lambda out, a: (out.data * (1.0 - out.data),),  # s (1 - s) at the output s
    "relu": lambda out, a: (1.0 if a.data > 0 else 0.0,),  # 1 where a > 0, 0 at the kink
}


def local_derivatives(node: Value) -> tuple[float, ...]:
    """``d node / d parent`` for each of ``node``'s operands (``()`` for a leaf)."""
    if not node._parents:
        return ()
    op = "**" if node.exponent is not None else node._op
    try:
        rule = LOCAL_DERIVATIVES[op]
    except KeyError:
        known = ", ".join(repr(k) for k in LOCAL_DERIVATIVES)
        raise ValueError(
            f"no local derivative known for the operation {op!r} (known: {known}); for an "
            "operation of your own, set the new Value's _backward"
        ) from None
    return rule(node, *node._parents)


# ---------------------------------------------------------------- helpers
_MAX_EXP = math.log(1.7976931348623157e308)  # about 709.78: exp of more overflows


def _finite_number(x: object, what: str) -> float:
    if type(x) is float or type(x) is int:  # the common case, checked first
        value = float(x)
    elif isinstance(x, Value):
        raise TypeError(f"{what} takes a number, not another Value")
    elif isinstance(x, numbers.Real):
        value = float(x)
    else:
        raise TypeError(f"{what} takes a real number; got {type(x).__name__} {x!r}")
    if not math.isfinite(value):
        raise ValueError(f"{what} needs a finite number; got {value}")
    return value


def _result(data: float, parents: tuple[Value, ...], op: str) -> Value:
    if not math.isfinite(data):
        operands = ", ".join(f"{p.data:g}" for p in parents)
        raise OverflowError(
            f"{op} of {operands} gives {data}: the result is too large for a float "
            "(about 1.8e308), so it cannot be a Value"
        )
    return Value(data, parents, op)


def _describe(node: Value) -> str:
    return repr(node.label) if node.label else f"the node {node._op or 'leaf'} = {node.data:g}"


def _as_value(x: Value | Number) -> Value:
    if isinstance(x, Value):
        return x
    if isinstance(x, numbers.Real):
        return Value(x)
    raise TypeError(f"cannot combine a Value with {type(x).__name__}; use a number or a Value")


def _stable_sigmoid(x: float) -> float:
    # Never exponentiate a large positive number: exp(-|x|) is at most 1.
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)
