"""The scalar autograd engine: a `Value` is one number that remembers how it was made.

Each operation computes its result and records its inputs (`_prev`), its name (`_op`) and its
derivative rule (`_rule`, from `DERIVATIVES` below). `backward()` orders the graph so that
every node comes after its inputs, seeds the root's gradient with 1 and walks the order in
reverse, letting each node's rule pass gradient to its inputs (the chain rule).

Unlike micrograd, a node holds no closure that refers back to itself, so no node sits in a
reference cycle and Python frees a graph as soon as the last reference to it goes.
"""

from __future__ import annotations

import numbers
from functools import partial
from typing import Any

from glassgrad import floatmath
from glassgrad.autograd import accumulate, backpropagate, check_forward, mode


def _as_float(x: Any, what: str, expected: str = "a real number (int or float)") -> float:
    if isinstance(x, numbers.Real):
        return float(x)
    if isinstance(x, Value):
        raise TypeError(f"{what}: got a Value; use Value(v.data) for a new leaf holding its number, or v.detach()")
    raise TypeError(f"{what}: got {type(x).__name__} {x!r}; expected {expected}")


def _operand(x: Any, op: str) -> Value:
    """The other side of an operator: a Value as it is, a number as a constant leaf."""
    if isinstance(x, Value):
        return x
    return Value(_as_float(x, f"unsupported operand for {op}", "a real number (int or float) or a Value"))


class Value:
    """A scalar with a gradient: `data` is its value, `grad` is d(root)/d(self) after `backward()`."""

    __slots__ = ("data", "grad", "label", "_op", "_prev", "_rule", "__weakref__")  # weakref: see detect_anomaly
    requires_grad = True

    def __init__(self, data: float, _children: tuple = (), _op: str = "", label: str = "") -> None:
        self.data = data if type(data) is float else _as_float(data, "Value(data)")
        self.grad = 0.0
        self.label = label
        self._op = _op
        self._prev = tuple(_children)
        self._rule = None
        if self._prev:  # a node made by hand, as micrograd's own operations make theirs
            if _op not in DERIVATIVES:
                raise ValueError(
                    f"Value(..., _op={_op!r}): no derivative rule for this operation (known: "
                    f"{', '.join(DERIVATIVES)}); add one to glassgrad.engine.DERIVATIVES to define a new operation"
                )
            self._rule = DERIVATIVES[_op]

    def __repr__(self) -> str:
        return f"Value(data={self.data}, grad={self.grad})"

    def __float__(self) -> float:
        return self.data

    # Arithmetic: each line computes the result; the derivative is in DERIVATIVES under its name.
    def __add__(self, other: Value | float) -> Value:
        other = _operand(other, "+")
        return _result(self.data + other.data, (self, other), "+")

    def __sub__(self, other: Value | float) -> Value:
        other = _operand(other, "-")
        return _result(self.data - other.data, (self, other), "-")

    def __mul__(self, other: Value | float) -> Value:
        other = _operand(other, "*")
        return _result(self.data * other.data, (self, other), "*")

    def __truediv__(self, other: Value | float) -> Value:
        other = _operand(other, "/")
        return _result(floatmath.div(self.data, other.data), (self, other), "/")

    def __pow__(self, other: Value | float) -> Value:
        if isinstance(other, Value):
            return _result(floatmath.power(self.data, other.data), (self, other), "**")
        k = _as_float(other, "unsupported exponent for **", "a real number (int or float) or a Value")
        out = _result(floatmath.power(self.data, k), (self,), f"**{floatmath.shortest(k)}")
        if out._prev:
            out._rule = partial(_power_by_constant_rule, k)
        return out

    def __neg__(self) -> Value:
        return _result(-self.data, (self,), "neg")

    def __radd__(self, other: float) -> Value:
        return _operand(other, "+") + self

    def __rsub__(self, other: float) -> Value:
        return _operand(other, "-") - self

    def __rmul__(self, other: float) -> Value:
        return _operand(other, "*") * self

    def __rtruediv__(self, other: float) -> Value:
        return _operand(other, "/") / self

    def __rpow__(self, other: float) -> Value:
        return _operand(other, "**") ** self

    def exp(self) -> Value:
        """e^x."""
        return _result(floatmath.exp(self.data), (self,), "exp")

    def log(self) -> Value:
        """ln x (natural logarithm)."""
        return _result(floatmath.log(self.data), (self,), "log")

    def tanh(self) -> Value:
        """tanh x = (e^2x - 1) / (e^2x + 1)."""
        return _result(floatmath.tanh(self.data), (self,), "tanh")

    def relu(self) -> Value:
        """max(x, 0)."""
        return _result(floatmath.relu(self.data), (self,), "relu")

    def sigmoid(self) -> Value:
        """1 / (1 + e^-x)."""
        return _result(floatmath.sigmoid(self.data), (self,), "sigmoid")

    def detach(self) -> Value:
        """The same number as a new leaf: gradients do not flow through it."""
        return Value(self.data)

    def backward(self, create_graph: bool = False) -> None:
        """Add d(self)/d(node) to `grad` of every node this Value depends on.

        Gradients accumulate, as in PyTorch and micrograd: zero them between steps. With
        `create_graph=True` each `grad` is itself a Value whose graph can be differentiated.
        """
        accumulate(backpropagate(self, self._seed(create_graph), create_graph))

    def _seed(self, create_graph: bool) -> Value | float:
        """d(self)/d(self) = 1, as a node when the gradient graph is recorded."""
        return Value(1.0) if create_graph else 1.0

    def _zero_grad(self, create_graph: bool) -> Value | float:
        return Value(0.0) if create_graph else 0.0

    def _backward(self) -> None:
        """Apply this node's rule once, as the lecture does by hand before `backward()` exists."""
        if self._rule is not None:
            shares = self._rule(self.grad, self.data, *[x.data for x in self._prev])
            for child, share in zip(self._prev, shares):
                child.grad += share


def linear(w: list[Value], x: list[Value | float], b: Value) -> Value:
    """w . x + b as one node: a neuron's weighted sum, with 1 node instead of 2n."""
    if len(w) != len(x):
        raise ValueError(f"linear: {len(w)} weights but {len(x)} inputs")
    x = [_operand(xi, "linear") for xi in x]
    total = b.data
    for wi, xi in zip(w, x):
        total += wi.data * xi.data
    return _result(total, (*w, *x, b), "linear")


def _result(data: float, inputs: tuple, op: str) -> Value:
    """A new node for `op` applied to `inputs`; under `no_grad` a parentless leaf."""
    out = _new(Value)
    out.data = data
    out.grad = 0.0
    out.label = ""
    out._op = op
    if mode.grad_enabled:
        out._prev = inputs
        out._rule = DERIVATIVES.get(op)
    else:
        out._prev = ()
        out._rule = None
    if mode.anomaly is not None:
        check_forward(out, inputs)
    return out


_new = object.__new__


# The derivative rules run on floats in a plain backward pass and on Values with
# `create_graph=True`; these three give IEEE results for floats and record nodes for Values.
def div(x: Value | float, y: Value | float) -> Value | float:
    """x / y for floats or Values."""
    return floatmath.div(x, y) if type(x) is float and type(y) is float else x / y


def power(x: Value | float, y: Value | float) -> Value | float:
    """x ** y for floats or Values."""
    return floatmath.power(x, y) if type(x) is float and type(y) is float else x**y


def log(x: Value | float) -> Value | float:
    """ln x for a float or a Value."""
    return floatmath.log(x) if type(x) is float else x.log()


def _zero(g: Value | float) -> Value | float:
    return 0.0 if type(g) is float else Value(0.0)


def _power_rule(g, out, a, b):
    """d(a^b)/da = b a^(b-1), zero where b is 0; d(a^b)/db = a^b ln a, zero where a is 0 and b >= 0.

    As in PyTorch, g multiplies the whole local derivative (g * (b a^(b-1)) overflows differently from
    (g b) a^(b-1)), and the zero of d/db is a factor of g, so an infinite g still gives nan there."""
    da = _zero(g) if float(b) == 0.0 else g * (b * power(a, b - 1.0))
    db = g * (0.0 if float(a) == 0.0 and float(b) >= 0.0 else out * log(a))
    return da, db


def _power_by_constant_rule(k: float, g, out, a):
    """d(a^k)/da = k a^(k-1), zero where k is 0 (as in PyTorch)."""
    return (_zero(g) if k == 0.0 else g * (k * power(a, k - 1.0)),)


def _linear_rule(g, out, *inputs):
    """d(w.x + b)/dw_i = x_i, d/dx_i = w_i, d/db = 1; inputs are (w_1..w_n, x_1..x_n, b)."""
    n = len(inputs) // 2
    return [g * x for x in inputs[n:-1]] + [g * w for w in inputs[:n]] + [g]


# op -> the derivative rule: given the upstream gradient g, the result `out` and the inputs,
# it returns each input's share of g (the chain rule's local derivative times g).
DERIVATIVES = {
    "+": lambda g, out, a, b: (g, g),
    "-": lambda g, out, a, b: (g, -g),
    "*": lambda g, out, a, b: (g * b, g * a),
    "/": lambda g, out, a, b: (div(g, b), -g * div(out, b)),
    "**": _power_rule,
    "neg": lambda g, out, a: (-g,),
    "exp": lambda g, out, a: (g * out,),
    "log": lambda g, out, a: (div(g, a),),
    "tanh": lambda g, out, a: (g * (1.0 - out * out),),
    "sigmoid": lambda g, out, a: (g * (1.0 - out) * out,),
    "relu": lambda g, out, a: (_zero(g) if float(out) <= 0.0 else g,),  # g where out > 0 or nan, as in PyTorch
    "linear": _linear_rule,
}
