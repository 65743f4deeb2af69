r"""Scalar reverse-mode automatic differentiation: the ``Value`` node.

Each operation builds its output ``Value`` and a ``_backward`` closure that applies one
step of the chain rule: it takes the output's gradient :math:`\partial L/\partial out`,
multiplies it by the local derivative :math:`\partial out/\partial parent`, and *adds*
the product to the parent's ``grad`` (``+=``, so a node used twice collects the gradient
from both paths). ``backward()`` visits the nodes in reverse topological order, built
with an explicit stack, so a chain of 100,000 operations needs no recursion.
"""

from __future__ import annotations

import math
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

    __slots__ = ("_backward", "_op", "_parents", "data", "grad", "label")

    def __init__(
        self,
        data: Number,
        _parents: tuple[Value, ...] = (),
        _op: str = "",
        label: str = "",
    ) -> None:
        if isinstance(data, Value):
            raise TypeError("Value(data) takes a number, not another Value")
        self.data = float(data)
        self.grad = 0.0
        self._parents = _parents
        self._op = _op
        self._backward: Callable[[], None] = _no_backward
        self.label = label

    # ------------------------------------------------------------------ arithmetic
    def __add__(self, other: Value | Number) -> Value:
        if not isinstance(other, Value):  # checked here: most operands already are
            other = _as_value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward() -> None:
            # d(a + b)/da = 1 and d(a + b)/db = 1
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other: Value | Number) -> Value:
        if not isinstance(other, Value):
            other = _as_value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward() -> None:
            # d(a * b)/da = b and d(a * b)/db = a
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, exponent: Number) -> Value:
        if isinstance(exponent, Value) or not isinstance(exponent, int | float):
            raise TypeError("Value ** x supports a plain number x only (e.g. v ** 2 or v ** -1)")
        if self.data < 0 and not float(exponent).is_integer():
            raise ValueError(
                f"{self.data!r} ** {exponent!r} is not a real number: a negative base needs "
                "a whole-number exponent"
            )
        if self.data == 0 and exponent < 0:
            raise ZeroDivisionError(f"0 ** {exponent!r} divides by zero")
        out = Value(self.data**exponent, (self,), f"**{exponent:g}")

        def _backward() -> None:
            # d(a ** k)/da = k * a ** (k - 1)
            self.grad += exponent * self.data ** (exponent - 1) * out.grad

        out._backward = _backward
        return out

    def exp(self) -> Value:
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward() -> None:
            # d exp(a)/da = exp(a)
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def log(self) -> Value:
        if self.data <= 0:
            raise ValueError(f"log is defined for positive numbers only; got {self.data!r}")
        out = Value(math.log(self.data), (self,), "log")

        def _backward() -> None:
            # d log(a)/da = 1 / a
            self.grad += out.grad / self.data

        out._backward = _backward
        return out

    def tanh(self) -> Value:
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward() -> None:
            # d tanh(a)/da = 1 - tanh(a)^2  (not tanh(a) itself)
            self.grad += (1.0 - t * t) * out.grad

        out._backward = _backward
        return out

    def sigmoid(self) -> Value:
        s = _stable_sigmoid(self.data)
        out = Value(s, (self,), "sigmoid")

        def _backward() -> None:
            # d sigma(a)/da = sigma(a) * (1 - sigma(a)), evaluated at the *output* s
            self.grad += s * (1.0 - s) * out.grad

        out._backward = _backward
        return out

    def relu(self) -> Value:
        out = Value(self.data if self.data > 0 else 0.0, (self,), "relu")

        def _backward() -> None:
            # d relu(a)/da = 1 where a > 0, else 0 (we take 0 at the kink)
            self.grad += (1.0 if self.data > 0 else 0.0) * out.grad

        out._backward = _backward
        return out

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
        """Fill ``.grad`` of every node with d(self)/d(node).

        Gradients *accumulate*: call :meth:`zero_grad` before a second backward pass.
        """
        order = self.topological_order()
        self.grad = 1.0  # d(self)/d(self)
        for node in reversed(order):
            node._backward()

    def zero_grad(self) -> None:
        """Set ``.grad`` of this node and of every node it depends on to 0."""
        for node in self.topological_order():
            node.grad = 0.0

    def __repr__(self) -> str:
        name = f"{self.label}: " if self.label else ""
        return f"Value({name}data={self.data:.6g}, grad={self.grad:.6g})"


def _no_backward() -> None:
    """A leaf has no parents to pass a gradient to."""


def _as_value(x: Value | Number) -> Value:
    if isinstance(x, Value):
        return x
    if isinstance(x, int | float):
        return Value(x)
    raise TypeError(f"cannot combine a Value with {type(x).__name__}; use a number or a Value")


def _stable_sigmoid(x: float) -> float:
    # Never exponentiate a large positive number: exp(-|x|) is at most 1.
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)
