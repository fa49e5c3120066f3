"""The scalar autograd engine: a `Value` is one number that remembers how it was made.

Each operation computes its result and records its inputs (`_prev`), its name (`_op`) and its
derivative rule (`_rule`), both from the operation's description in `glassgrad.ops`. `backward()`
orders the graph so that every node comes after its inputs, seeds the root's gradient with 1 and
walks the order in reverse, letting each node's rule pass gradient to its inputs (the chain rule).

Unlike micrograd, a node holds no closure that refers back to itself, so no node sits in a
reference cycle and Python frees a graph as soon as the last reference to it goes. micrograd's way
still works, for typing along with the lecture: a closure assigned to `out._backward` is what
`backward()` calls at that node (see `_Closure`).

Where the rest is: `backward()` and its loop are in `glassgrad/autograd/backward.py`
(`topological_order`, `backpropagate`); each rule is in its description in `glassgrad/ops/`
(tanh's: `TANH`, `g * (1 - out * out)`); `Node`, the factory every result comes from, in
`glassgrad/autograd/node.py`.
"""

from __future__ import annotations

import numbers
import sys
from collections.abc import Callable
from functools import partial
from typing import Any

from glassgrad import ops
from glassgrad.autograd import Node, _changes, mode, slots
from glassgrad.autograd.origins import record
from glassgrad.ops import ATOM, POW, POW_K, WEIGHTED_SUM, Op

_DEFINE_AN_OP = (
    "define the operation with glassgrad.op, e.g.\n"
    "    @glassgrad.op(derivative=lambda g, out, x: (g * 3 * x * x,))\n"
    "    def cube(x):\n"
    "        return x ** 3"
)


def _is_numpy_bool(x: Any) -> bool:
    """Whether x is numpy's bool (not a numbers.Real); without numpy loaded, nothing is."""
    np = sys.modules.get("numpy")
    return np is not None and isinstance(x, np.bool_)


def _as_float(x: Any, what: str, expected: str = "a real number (int or float)") -> float:
    if type(x) is float:
        return x
    if (isinstance(x, numbers.Real) or _is_numpy_bool(x)) and not isinstance(x, Node):  # numpy's scalars too
        try:
            return float(x)
        except OverflowError:
            raise ValueError(f"{what}: {x!r:.40} does not fit a float64 (about ±1.8e308)") from None
    if isinstance(x, Value):
        raise TypeError(f"{what}: got a Value; use Value(v.data) for a new leaf holding its number, or v.detach()")
    raise TypeError(f"{what}: got {type(x).__name__} {x!r:.60}; expected {expected}")


def _number(v: Value) -> float:
    """v's data as a float, made one in place if code assigned it another number, as micrograd's does
    (`p.data = 0`, `Value(0)`'s int): any real number micrograd takes keeps working; anything else is
    refused here, naming it."""
    if type(v.data) is not float:
        v.data = _as_float(v.data, "Value.data (assigned)")
    return v.data


def _binary(op: Op, reflected: bool = False) -> Callable[[Value, Any], Value]:
    """The Value operator for `op`, a binary operation: `a op b`, or `b op a` when `reflected`
    (`2 * a` calls `a.__rmul__(2)`); a number on either side becomes a leaf Value."""
    forward, name, rule = op.on_floats, op.name, op.derivative

    def operator(self: Value, other: Any) -> Value:
        if type(other) is not Value:
            other = Value.constant(other, name)
        if reflected:
            self, other = other, self
        a, b = self.data, other.data
        if type(a) is not float or type(b) is not float:
            a, b = _number(self), _number(other)
        return _result(forward(a, b), self, other, name, rule)

    operator.__name__ = f"{op.word or name}"
    return operator


def _unary(op: Op, name: str) -> Callable[[Value], Value]:
    """The Value method `name` for `op`, an operation of one input."""
    forward, op_name, rule = op.on_floats, op.name, op.derivative

    def method(self: Value) -> Value:
        a = self.data
        return _result(forward(a if type(a) is float else _number(self)), self, None, op_name, rule)

    method.__name__, method.__doc__ = name, op.doc
    return method


class Value(Node):
    """A scalar with a gradient: `data` is its value, `grad` is d(root)/d(self) after `backward()`."""

    __slots__ = ()
    data = Node._data  # the node's slot itself, under micrograd's name: a float, read and set directly
    holds_floats = True
    initial_grad = 0.0

    def __init__(self, data: float, _children: tuple = (), _op: str = "", label: str = "") -> None:
        self.data = _as_float(data, "Value(data)")
        self.grad = 0.0
        self.label = label
        self._op = _op
        self._prev = tuple(_children)
        self._rule = None
        self.requires_grad = True
        if self._prev:  # a node made by hand, as micrograd's own operations make theirs
            for child in self._prev:
                if not isinstance(child, Value):
                    raise TypeError(f"Value(..., _children): expected Values, got {type(child).__name__}")
            self._rule = ops.rule_of(_op) or partial(_no_derivative, _op)  # until a `_backward` is set
        if _changes[0] and mode.anomaly is not None:  # leaves too, while recording where nodes are made
            record(mode.anomaly, self)

    @classmethod
    def constant(cls, x: Any, op: str, like: Value | None = None) -> Value:
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

    # The operators (+ - * /, unary -) and the functions (exp, log, tanh, relu, sigmoid) are made from
    # their descriptions in the registry (glassgrad.ops), below the class; `**` picks x ** y or x ** k.
    __rpow__ = _binary(POW, reflected=True)

    def __pow__(self, other: Value | float) -> Value:
        if isinstance(other, Value):
            return _power(self, other)
        k = _as_float(other, "unsupported exponent for **", "a real number (int or float) or a Value")
        name, rule = POW_K.bound(k)
        return _result(POW_K.on_floats(k, _number(self)), self, None, name, rule)

    def _seed(self, gradient: Any, create_graph: bool, who: str) -> Value | float:
        if isinstance(gradient, Value):
            return gradient if create_graph else gradient.data
        g = 1.0 if gradient is None else _as_float(gradient, f"{who}(gradient)")
        return Value(g) if create_graph else g

    def _zeros(self) -> Value:
        return Value(0.0)

    @property
    def _backward(self) -> Callable[[], None]:
        """Apply this node's rule once, as the lecture does by hand before `backward()` exists; or the
        closure set here, micrograd's way."""
        rule = self._rule
        return rule.closure if type(rule) is _Closure else partial(_apply_rule_once, self)

    @_backward.setter
    def _backward(self, closure: Callable[[], None]) -> None:
        if not callable(closure):
            raise TypeError(f"_backward: expected a function of no arguments, got {type(closure).__name__}")
        if self._prev:  # a leaf has no inputs to pass gradient to: micrograd's `lambda: None` is all it gets
            self._rule = _Closure(self, closure)


class _Closure:
    """A derivative rule that runs a micrograd-style `_backward` closure, so `backward()` calls it.

    The closure reads `out.grad` and adds to its inputs' `.grad`, as in the lecture. The rule runs it
    with `out.grad` set to the gradient this pass brings and reads back what it added to each input,
    so the engine sums shares as for any rule: `glassgrad.grad`, the stepper and gradient checks see
    it too. micrograd's price stays with this node (the closure refers to `out`: a reference cycle)
    and it computes with floats, so it has no second derivative; glassgrad.op has neither limit.
    """

    __slots__ = ("node", "closure")

    def __init__(self, node: Value, closure: Callable[[], None]) -> None:
        self.node, self.closure = node, closure

    def __call__(self, g: Any, out: Any, *inputs: Any) -> tuple:
        if isinstance(out, Node):
            raise TypeError(
                f"the {self.node._op!r} node's derivative is a `_backward` closure, which computes with floats: "
                "it cannot be differentiated again (create_graph=True); " + _DEFINE_AN_OP
            )
        node, children = self.node, self.node._prev
        unique = list(dict.fromkeys(children))  # `a + a`: the closure adds to a twice
        before = [x.grad for x in unique]
        kept, node.grad = node.grad, g
        try:
            self.closure()
            added = {x: x.grad - was for x, was in zip(unique, before)}
        finally:
            node.grad = kept
            for x, was in zip(unique, before):
                x.grad = was
        return tuple(added.pop(x, 0.0) for x in children)  # all of an input's share at its first place


def _no_derivative(op: str, *_: Any) -> None:
    known = ", ".join(ops.on_floats()).replace("{k}", "k")
    raise ValueError(
        f"Value(..., _op={op!r}): no operation of that name (known: {known}) and no `_backward` closure set "
        "on the node; set one, micrograd's way, or " + _DEFINE_AN_OP
    )


def _apply_rule_once(node: Value) -> None:
    if node._rule is not None:
        shares = node._rule(node.grad, node.data, *[x.data for x in node._prev])
        for child, share in zip(node._prev, shares):
            child.grad += share


_result = Value.result
_power = _binary(POW)
for _op in ops.OPS.values():  # the elementwise operations with a forward on floats: Value's operators and methods
    if _op.on_floats is None or not _op.kind:
        continue
    if _op.kind == "binary":
        setattr(Value, f"__{_op.dunder}__", _binary(_op))
        setattr(Value, f"__r{_op.dunder}__", _binary(_op, reflected=True))
        continue
    if _op.dunder:
        setattr(Value, f"__{_op.dunder}__", _unary(_op, f"__{_op.dunder}__"))
    if _op.precedence == ATOM:  # written as a call, exp(x): a method
        setattr(Value, _op.method, _unary(_op, _op.method))


def linear(w: list[Value], x: list[Value | float], b: Value) -> Value:
    """w . x + b as one node (a `weighted_sum`): a neuron's weighted sum, with 1 node instead of 2n."""
    if len(w) != len(x):
        raise ValueError(f"linear: {len(w)} weights but {len(x)} inputs")
    inputs = (*(v if type(v) is Value else Value.constant(v, "linear") for v in w),
              *(Value.constant(xi, "linear") for xi in x), b if type(b) is Value else Value.constant(b, "linear"))
    forward, name, rule = WEIGHTED_SUM.on_floats, WEIGHTED_SUM.name, WEIGHTED_SUM.derivative
    data = [d if type(d := v.data) is float else _number(v) for v in inputs]  # (a call only where needed)
    return _result(forward(*data), *slots(inputs), name, rule)
