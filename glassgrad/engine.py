"""The scalar autograd engine: a `Value` is one number that remembers how it was made.

Each operation computes its result and records its inputs (`_prev`), its name (`_op`) and its
derivative rule (`_rule`), both from the operation's description in `glassgrad.ops`. `backward()`
orders the graph so that every node comes after its inputs, seeds the root's gradient with 1 and
walks the order in reverse, letting each node's rule pass gradient to its inputs (the chain rule).

Unlike micrograd, a node holds no closure that refers back to itself, so no node sits in a
reference cycle and Python frees a graph as soon as the last reference to it goes.
"""

from __future__ import annotations

import numbers
from functools import partial
from typing import Any

import numpy as np

from glassgrad import floatmath, ops
from glassgrad.autograd import Node
from glassgrad.ops import ADD, DIV, EXP, LOG, MUL, NEG, POW, POW_K, RELU, SIGMOID, SUB, TANH, Op

_new = object.__new__
_MICROGRAD_BACKWARD = (
    "a Value's derivative comes from its operation's description, not from a closure in `_backward`: "
    "define a new operation with glassgrad.op, e.g.\n"
    "    @glassgrad.op(derivative=lambda g, out, x: (g * 3 * x * x,))\n"
    "    def cube(x):\n"
    "        return x ** 3"
)


def _as_float(x: Any, what: str, expected: str = "a real number (int or float)") -> float:
    if type(x) is float:
        return x
    if isinstance(x, (numbers.Real, np.bool_)) and not isinstance(x, Node):  # numpy's scalars too
        try:
            return float(x)
        except OverflowError:
            raise ValueError(f"{what}: {x!r:.40} does not fit a float64 (about ±1.8e308)") from None
    if isinstance(x, Value):
        raise TypeError(f"{what}: got a Value; use Value(v.data) for a new leaf holding its number, or v.detach()")
    raise TypeError(f"{what}: got {type(x).__name__} {x!r:.60}; expected {expected}")


class Value(Node):
    """A scalar with a gradient: `data` is its value, `grad` is d(root)/d(self) after `backward()`."""

    __slots__ = ()
    holds_floats = True
    initial_grad = 0.0

    def __init__(self, data: float, _children: tuple = (), _op: str = "", label: str = "") -> None:
        self.data = _as_float(data, "Value(data)")
        self.grad = 0.0
        self.requires_grad = True
        self.label = label
        self._op = _op
        self._prev = tuple(_children)
        self._rule = None
        if self._prev:  # a node made by hand, as micrograd's own operations make theirs
            for child in self._prev:
                if not isinstance(child, Value):
                    raise TypeError(f"Value(..., _children): expected Values, got {type(child).__name__}")
            self._rule = ops.rule_of(_op)
            if self._rule is None:
                known = ", ".join(ops.OPS).replace("{k}", "k")
                raise ValueError(
                    f"Value(..., _op={_op!r}): no operation of that name (known: {known}); "
                    "define a new one with glassgrad.op"
                )

    @classmethod
    def constant(cls, x: Any, op: str) -> Value:
        """The other side of an operator: a Value as it is, a number as a new leaf."""
        if isinstance(x, Value):
            return x
        return cls(_as_float(x, f"unsupported operand for {op}", "a real number (int or float) or a Value"))

    @staticmethod
    def raw(data: Any, op: str) -> float:
        """An operation's result as a Value's data."""
        return _as_float(data, f"the result of {op}")

    def __repr__(self) -> str:
        return f"Value(data={self.data}, grad={self.grad})"

    def __float__(self) -> float:
        return self.data

    # Arithmetic: each computes its result with the operation's description in glassgrad.ops.
    def __add__(self, other: Value | float) -> Value:
        return _binary(ADD, self, other)

    def __sub__(self, other: Value | float) -> Value:
        return _binary(SUB, self, other)

    def __mul__(self, other: Value | float) -> Value:
        return _binary(MUL, self, other)

    def __truediv__(self, other: Value | float) -> Value:
        return _binary(DIV, self, other)

    def __pow__(self, other: Value | float) -> Value:
        if isinstance(other, Value):
            return _binary(POW, self, other)
        k = _as_float(other, "unsupported exponent for **", "a real number (int or float) or a Value")
        return _result(ops.power_by(self.data, k), (self,), f"**{floatmath.shortest(k)}",
                       partial(POW_K.derivative, k))

    def __radd__(self, other: float) -> Value:
        return _binary(ADD, Value.constant(other, "+"), self)

    def __rsub__(self, other: float) -> Value:
        return _binary(SUB, Value.constant(other, "-"), self)

    def __rmul__(self, other: float) -> Value:
        return _binary(MUL, Value.constant(other, "*"), self)

    def __rtruediv__(self, other: float) -> Value:
        return _binary(DIV, Value.constant(other, "/"), self)

    def __rpow__(self, other: float) -> Value:
        return _binary(POW, Value.constant(other, "**"), self)

    def __neg__(self) -> Value:
        return _unary(NEG, self)

    def exp(self) -> Value:
        """e^x."""
        return _unary(EXP, self)

    def log(self) -> Value:
        """ln x (natural logarithm)."""
        return _unary(LOG, self)

    def tanh(self) -> Value:
        """tanh x = (e^2x - 1) / (e^2x + 1)."""
        return _unary(TANH, self)

    def relu(self) -> Value:
        """max(x, 0)."""
        return _unary(RELU, self)

    def sigmoid(self) -> Value:
        """1 / (1 + e^-x)."""
        return _unary(SIGMOID, self)

    def _seed(self, gradient: Any, create_graph: bool, who: str) -> Value | float:
        if isinstance(gradient, Value):
            return gradient if create_graph else gradient.data
        g = 1.0 if gradient is None else _as_float(gradient, f"{who}(gradient)")
        return Value(g) if create_graph else g

    def _zeros(self) -> Value:
        return Value(0.0)

    @property
    def _backward(self) -> Any:
        """Apply this node's rule once, as the lecture does by hand before `backward()` exists."""
        return partial(_apply_rule_once, self)

    @_backward.setter
    def _backward(self, _: Any) -> None:
        raise AttributeError(_MICROGRAD_BACKWARD)


def _apply_rule_once(node: Value) -> None:
    if node._rule is not None:
        shares = node._rule(node.grad, node.data, *[x.data for x in node._prev])
        for child, share in zip(node._prev, shares):
            child.grad += share


_result = Value.result


def _binary(op: Op, a: Value, b: Any) -> Value:
    if type(b) is not Value:
        b = Value.constant(b, op.name)
    return _result(op.on_floats(a.data, b.data), (a, b), op.name, op.derivative)


def _unary(op: Op, a: Value) -> Value:
    return _result(op.on_floats(a.data), (a,), op.name, op.derivative)


def _linear(g, out, *inputs):
    """d(w.x + b)/dw_i = x_i, d/dx_i = w_i, d/db = 1; inputs are (w_1..w_n, x_1..x_n, b)."""
    n = len(inputs) // 2
    return [g * x for x in inputs[n:-1]] + [g * w for w in inputs[:n]] + [g]


def _linear_forward(*inputs: float) -> float:
    n = len(inputs) // 2
    total = inputs[-1]
    for w, x in zip(inputs[:n], inputs[n:-1]):
        total += w * x
    return total


def _linear_formula(args: list[str]) -> str:
    n = len(args) // 2
    return " + ".join([*(f"{w}·{x}" for w, x in zip(args[:n], args[n:-1], strict=True)), args[-1]])


def _linear_local(args: list[str], out: str, k: int) -> str:
    n = len(args) // 2
    return args[n + k] if k < n else args[k - n] if k < 2 * n else "1"


LINEAR = ops.register(Op("linear", _linear, _linear_forward, None, _linear_formula, _linear_local, 1, "linear"))


def linear(w: list[Value], x: list[Value | float], b: Value) -> Value:
    """w . x + b as one node: a neuron's weighted sum, with 1 node instead of 2n."""
    if len(w) != len(x):
        raise ValueError(f"linear: {len(w)} weights but {len(x)} inputs")
    inputs = (*(v if type(v) is Value else Value.constant(v, "linear") for v in w),
              *(Value.constant(xi, "linear") for xi in x), b if type(b) is Value else Value.constant(b, "linear"))
    return _result(_linear_forward(*[v.data for v in inputs]), inputs, "linear", _linear)
