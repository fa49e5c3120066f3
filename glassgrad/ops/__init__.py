"""One description per operation: what it computes, its derivative, and how it is written.

An `Op` holds everything about one operation, read by both engines (`Value` computes with
`on_floats`, `Tensor` with `on_arrays`), by the backward pass (`derivative`) and by the pictures
(`formula`, `local`, `precedence`, `word`). Its derivative rule is a vector-Jacobian product,
`rule(g, out, *inputs)`, giving each input's share of the upstream gradient `g`: the plain backward
pass calls it with raw numbers (floats or numpy arrays), `create_graph=True` with nodes, so one
rule gives first and higher derivatives. The elementwise operations below are shared by both
engines; the Tensor engine describes its own (sums, matrix products, indexing) in `tensor_ops.py`.

A new operation is one `glassgrad.op` decorator (see `op`), or one `Op` passed to `register`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, partial
from typing import Any

import numpy as np

from glassgrad.autograd import Node, data_of, zeros_like
from glassgrad.ops import floatmath

ATOM = 5  # the precedence of a name or a call: never needs parentheses


@dataclass(frozen=True, slots=True, eq=False)
class Op:
    """Everything about one operation.

    `name` is the `_op` of the nodes it makes; in a parameterised operation `{k}` stands for the
    parameter (`**{k}` makes nodes named `**2`), and `on_floats`, `on_arrays` and `derivative` take
    the parameters first. `formula` writes the result from its inputs `{0}`, `{1}` (or is a function
    of the list of input names); `local[k]` writes d(result)/d(input k), with `{out}` for the result.

    `reads[k]` names the numbers the derivative reads to give input k its share, written as in
    `local` (`"{1}"`: input 1's values; `"{out}"`: the result's; `""`: nothing but shapes); one
    string stands for every input. The in-place check asks it: a node refuses to backpropagate only
    when a tensor its derivative reads was changed in place after the node was made, as PyTorch.
    None (a user's operation, by default) means everything: all inputs and the result.

    `view`: the result may be a view of its (one) input, sharing its numbers (reshape, transpose,
    basic indexing), as PyTorch's views: an in-place change of the one changes the other, and the
    input's history is rebased on the change (see `Tensor._inplace`).

    `floating`: the result is floating whatever the inputs (true division, exp, log, ...): the Tensor
    engine converts integer and boolean inputs to the default dtype first, as PyTorch.
    """

    name: str
    derivative: Callable[..., Sequence[Any]]
    on_floats: Callable[..., float] | None = None
    on_arrays: Callable[..., Any] | None = None
    formula: str | Callable[[list[str]], str] = ""
    local: tuple[str, ...] | Callable[[list[str], str, int], str] = ()
    precedence: int = ATOM
    word: str = ""
    reads: str | tuple[str, ...] | Callable[[int, int], str] | None = None
    view: bool = False
    floating: bool = False

    def reads_for(self, k: int, n: int) -> frozenset:
        """What the share of input k (of n) is computed from: input positions, and "out" for the result."""
        if self.reads is None:
            return frozenset((*range(n), "out"))
        what = self.reads
        if not isinstance(what, str):
            what = what(k, n) if callable(what) else what[k]
        return _read_names(what)

    def write(self, args: list[str], params: Sequence[Any] = ()) -> str:
        """The result written from its inputs' names (or numbers) `args`."""
        if callable(self.formula):
            return self.formula(args)
        if not self.formula:
            return f"{self.name}({', '.join(args)})"
        return self.formula.format(*args, **self._named(params))

    def write_local(self, args: list[str], out: str, k: int, params: Sequence[Any] = ()) -> str:
        """d(result)/d(input k) in symbols ('' if the description has none)."""
        if callable(self.local):
            return self.local(args, out, k)
        if k >= len(self.local):
            return ""
        return self.local[k].format(*args, out=out, **self._named(params))

    def _named(self, params: Sequence[Any]) -> dict[str, str]:
        return {p: floatmath.shortest(v) for p, v in zip(_PARAMETER.findall(self.name), params)}


_PARAMETER = re.compile(r"\{(\w+)\}")


@cache
def _read_names(what: str) -> frozenset:
    return frozenset(name if name == "out" else int(name) for name in _PARAMETER.findall(what))
_NUMBER = r"(-?(?:\d+(?:\.\d*)?(?:e[-+]?\d+)?|inf|nan))"

OPS: dict[str, Op] = {}
_PATTERNS: list[tuple[re.Pattern, Op]] = []
_BUILT_IN: set[str] = set()  # filled once glassgrad's own operations are registered


def register(op: Op) -> Op:
    """Make `op` known by its name, so that nodes named after it can be made by hand and drawn.
    A name of glassgrad's own operations cannot be taken; a user's operation can be defined again."""
    known = describe(op.name)
    if op.name in _BUILT_IN or known is not None and known[0].name in _BUILT_IN:
        raise ValueError(f"{op.name!r} is the name of one of glassgrad's own operations; choose another name")
    if _PARAMETER.search(op.name):
        pattern = re.escape(op.name)
        for p in _PARAMETER.findall(op.name):
            pattern = pattern.replace(re.escape("{" + p + "}"), _NUMBER)
        _PATTERNS.append((re.compile(pattern), op))
    OPS[op.name] = op
    return op


def describe(name: str) -> tuple[Op, tuple[float, ...]] | None:
    """The description of the operation that names its nodes `name`, and its parameters; None if unknown."""
    op = OPS.get(name)
    if op is not None and not _PARAMETER.search(name):
        return op, ()
    for pattern, op in _PATTERNS:
        match = pattern.fullmatch(name)
        if match:
            return op, tuple(float(x) for x in match.groups())
    return None


def rule_of(name: str) -> Callable[..., Sequence[Any]] | None:
    """The derivative rule for nodes named `name`, with its parameters bound; None if unknown."""
    found = describe(name)
    if found is None:
        return None
    op, params = found
    return partial(op.derivative, *params) if params else op.derivative


# Helpers the rules are written with: each works on floats and arrays (plain backward) and on
# nodes (create_graph=True), so that a rule is written once.
def div(x: Any, y: Any) -> Any:
    """x / y, IEEE for floats (a zero divisor gives ±inf or nan, not an exception)."""
    return floatmath.div(x, y) if type(x) is float and type(y) is float else x / y


def power(x: Any, y: Any) -> Any:
    """x ** y, IEEE for floats."""
    return floatmath.power(x, y) if type(x) is float and type(y) is float else x**y


def power_by(x: Any, k: float) -> Any:
    """x ** k for a number k, as PyTorch computes `tensor ** k`: k = 0.5 is √x and k = -0.5 is 1/√x, so
    √-0.0 is -0.0 and √-inf is nan (C's pow gives 0.0 and inf); other exponents are C's pow."""
    root = k == 0.5 or k == -0.5
    if type(x) is float:
        if not root:
            return floatmath.power(x, k)
        return floatmath.sqrt(x) if k > 0 else floatmath.div(1.0, floatmath.sqrt(x))
    if isinstance(x, Node):
        return x**k
    with np.errstate(all="ignore"):
        return x**k if not root else np.sqrt(x) if k > 0 else 1.0 / np.sqrt(x)


def log(x: Any) -> Any:
    """ln x."""
    if type(x) is float:
        return floatmath.log(x)
    return x.log() if isinstance(x, Node) else np.log(x)


def zero_where(drop: Any, x: Any) -> Any:
    """x with exact zeros where `drop` is true, even where x is inf or nan: how a rule switches a
    gradient off (multiplying by a 0/1 mask would turn inf * 0 into nan)."""
    if isinstance(drop, (bool, np.bool_)):
        return zeros_like(x) if drop else x
    if not drop.any():
        return x
    if isinstance(x, Node):
        return x.masked_fill(drop, 0.0)
    if not isinstance(x, np.ndarray) or x.shape != drop.shape:
        x = np.array(np.broadcast_to(x, np.broadcast_shapes(np.shape(x), drop.shape)))
    # np.where(drop, 0, x) branches per element and is 6x slower than clearing the bits of the
    # dropped elements, which also keeps x's own values exactly (-0.0, nan)
    bits = x.view(np.dtype(f"i{x.itemsize}"))
    return (bits & (drop.astype(bits.dtype) - 1)).view(x.dtype)


def _quiet(f: Callable[..., Any]) -> Callable[..., Any]:
    """`f` on arrays, giving inf and nan as PyTorch does instead of numpy's warnings."""

    def quiet(*args: Any) -> Any:
        with np.errstate(all="ignore"):
            return f(*args)

    quiet.__name__ = getattr(f, "__name__", "quiet")
    return quiet


def _power_rule(g, out, a, b):
    """d(a^b)/da = b a^(b-1), zero where b is 0; d(a^b)/db = a^b ln a, zero where a is 0 and b >= 0.

    As in PyTorch, g multiplies the whole local derivative (g * (b a^(b-1)) overflows differently
    from (g b) a^(b-1)); d/da is exactly zero where b is 0 whatever g is, while the zero of d/db is a
    factor of g (so an infinite g gives nan there). Where an element is dropped, the exponent or
    the logarithm's argument is shifted so that the dropped value is finite."""
    rb, ra = data_of(b), data_of(a)
    b_zero = rb == 0
    off = (ra == 0) & (rb >= 0)
    da = zero_where(b_zero, g * (b * power(a, b - _numbers(rb != 0, rb))))
    db = g * zero_where(off, out * log(a + _numbers(off, ra)))
    return da, db


def _numbers(mask: Any, like: Any) -> Any:
    """A boolean mask as 1.0 and 0.0 in the dtype of `like` (a float, or an array), so that a rule keeps its
    input's dtype (numpy would make a float32 rule's `x + mask * 1.0` float64)."""
    return float(mask) if type(like) is float else mask.astype(like.dtype)


def _power_by_constant_rule(k: float, g, out, a):
    """d(a^k)/da = k a^(k-1), exactly zero where k is 0 whatever g is (as in PyTorch)."""
    return (zeros_like(g) if k == 0.0 else g * (k * power_by(a, k - 1.0)),)


def _relu(x: Any) -> Any:
    """max(x, 0) as PyTorch: nan stays nan, and -0.0 stays -0.0."""
    if type(x) is float:
        return floatmath.relu(x)
    out = zero_where(x < 0, x)
    return out.copy() if out is x else out  # a result of its own: changing x in place must not change it


def _sigmoid_array(x: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


# name, derivative rule, forward on floats and on arrays, then how the pictures write it
ADD = register(Op("+", lambda g, out, a, b: (g, g), float.__add__, _quiet(np.add),
                  formula="{0} + {1}", local=("1", "1"), precedence=1, word="add", reads=""))
SUB = register(Op("-", lambda g, out, a, b: (g, -g), float.__sub__, _quiet(np.subtract),
                  formula="{0} − {1}", local=("1", "−1"), precedence=1, word="sub", reads=""))
MUL = register(Op("*", lambda g, out, a, b: (g * b, g * a), float.__mul__, _quiet(np.multiply),
                  formula="{0} × {1}", local=("{1}", "{0}"), precedence=2, word="mul", reads=("{1}", "{0}")))
DIV = register(Op("/", lambda g, out, a, b: (div(g, b), -g * div(div(a, b), b)), floatmath.div, _quiet(np.divide),
                  formula="{0} / {1}", local=("1/{1}", "−{0}/{1}²"), precedence=2, word="div",
                  reads=("{1}", "{0} {1}"), floating=True))  # d/db = -g (a / b) / b, from the inputs, as PyTorch
POW = register(Op("**", _power_rule, floatmath.power, _quiet(np.power),
                  formula="{0} ** {1}", local=("{1}·{0}^({1} − 1)", "{out}·ln {0}"), precedence=4, word="pow",
                  reads=("{0} {1}", "{0} {1} {out}")))
POW_K = register(Op("**{k}", _power_by_constant_rule, lambda k, x: power_by(x, k), lambda k, x: power_by(x, k),
                    formula="{0} ** {k}", local=("{k}·{0}^({k} − 1)",), precedence=4, word="pow", reads="{0}"))
NEG = register(Op("neg", lambda g, out, a: (-g,), float.__neg__, np.negative,
                  formula="−{0}", local=("−1",), precedence=3, word="neg", reads=""))
EXP = register(Op("exp", lambda g, out, a: (g * out,), floatmath.exp, _quiet(np.exp),
                  formula="exp({0})", local=("{out}",), reads="{out}", floating=True))
LOG = register(Op("log", lambda g, out, a: (div(g, a),), floatmath.log, _quiet(np.log),
                  formula="log({0})", local=("1/{0}",), reads="{0}", floating=True))
TANH = register(Op("tanh", lambda g, out, a: (g * (1.0 - out * out),), floatmath.tanh, _quiet(np.tanh),
                   formula="tanh({0})", local=("1 − {out}²",), reads="{out}", floating=True))
RELU = register(Op("relu", lambda g, out, a: (zero_where(data_of(out) <= 0, g),), _relu, _relu,  # g where out > 0
                   formula="relu({0})", local=("1 if {out} > 0 else 0",), reads="{out}"))  # or is nan, as in PyTorch
SIGMOID = register(Op("sigmoid", lambda g, out, a: (g * (1.0 - out) * out,), floatmath.sigmoid, _sigmoid_array,
                      formula="sigmoid({0})", local=("{out}·(1 − {out})",), reads="{out}", floating=True))


def _cos(x: Any) -> Any:
    return x.cos() if isinstance(x, Node) else np.cos(x)


def _sin(x: Any) -> Any:
    return x.sin() if isinstance(x, Node) else np.sin(x)


# Elementwise operations only the Tensor engine has (no forward on floats): PyTorch's functions.
SQRT = register(Op("sqrt", lambda g, out, a: (div(g, 2.0 * out),), None, _quiet(np.sqrt),
                   formula="√{0}", local=("1/(2√{0})",), reads="{out}", floating=True))


def _sign(x: Any) -> Any:
    """sign x, and 0 at NaN (PyTorch's sgn): the slope of |x|, so a NaN gets no gradient."""
    return np.nan_to_num(np.sign(x), nan=0.0)


ABS = register(Op("abs", lambda g, out, a: (g * _sign(data_of(a)),), None, np.abs,
                  formula="|{0}|", local=("sign({0})",), reads="{0}"))
SIN = register(Op("sin", lambda g, out, a: (g * _cos(a),), None, _quiet(np.sin), formula="sin({0})",
                  local=("cos {0}",), reads="{0}", floating=True))
COS = register(Op("cos", lambda g, out, a: (-g * _sin(a),), None, _quiet(np.cos), formula="cos({0})",
                  local=("−sin {0}",), reads="{0}", floating=True))
LOG10 = register(Op("log10", lambda g, out, a: (div(g, a * math.log(10.0)),), None, _quiet(np.log10),
                    formula="log10({0})", local=("1/({0} ln 10)",), reads="{0}", floating=True))


def _erf(x: np.ndarray) -> np.ndarray:
    """The error function 2/√π ∫₀ˣ e^(-t²) dt, elementwise (scipy's, the one numpy lacks)."""
    from scipy.special import erf  # loaded on first use: scipy is heavy

    return erf(x)


def _gaussian(x: Any) -> Any:
    """e^(-x²), on arrays and nodes."""
    return (-(x * x)).exp() if isinstance(x, Node) else np.exp(-(x * x))


ERF = register(Op("erf", lambda g, out, a: (g * (2.0 / math.sqrt(math.pi)) * _gaussian(a),), None, _erf,
                  formula="erf({0})", local=("2/√π·e^(−{0}²)",), reads="{0}"))



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


def _linear_reads(k: int, n: int) -> str:
    half = n // 2  # w_k's share reads x_k, x_k's reads w_k, b's nothing
    return f"{{{k + half}}}" if k < half else f"{{{k - half}}}" if k < 2 * half else ""


# a neuron's weighted sum w.x + b as one node (the scalar engine's; inputs w_1..w_n, x_1..x_n, b)
LINEAR = register(Op("linear", _linear, _linear_forward, None, formula=_linear_formula, local=_linear_local,
                     precedence=1, word="linear", reads=_linear_reads))
_BUILT_IN.update(OPS)


def op(derivative: Callable[..., Sequence[Any]], name: str | None = None, formula: str = "",
       local: tuple[str, ...] = (), reads: str | tuple[str, ...] | None = None
       ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Turn `forward`, a function of raw numbers or arrays, into an operation of Values and Tensors.

        @glassgrad.op(derivative=lambda g, out, x: (g * 3 * x * x,))
        def cube(x):
            return x ** 3

    `derivative(g, out, *inputs)` returns each input's share of the upstream gradient `g` (the
    chain rule's local derivative times g). Written with arithmetic and the nodes' own methods it
    also runs on nodes, so `create_graph=True` differentiates it again. The nodes are named `name`
    (the function's name by default); `formula` and `local` say how the stepper writes them;
    `reads` what the derivative reads (see `Op`; by default everything, the safe answer for the
    in-place check).
    """

    def make(forward: Callable[..., Any]) -> Callable[..., Any]:
        op_name = name or forward.__name__
        description = register(Op(op_name, _counted(op_name, derivative), forward, forward, formula, local,
                                  reads=reads))

        def apply(*inputs: Any) -> Any:
            return call(description, *inputs)

        apply.__name__, apply.__qualname__, apply.__doc__ = forward.__name__, forward.__qualname__, forward.__doc__
        apply.op = description
        return apply

    return make


def _counted(name: str, derivative: Callable[..., Sequence[Any]]) -> Callable[..., Sequence[Any]]:
    """`derivative`, checked to give one share per input: a user's rule that returned too few would
    silently leave inputs without gradient."""

    def rule(g: Any, out: Any, *inputs: Any) -> Sequence[Any]:
        shares = derivative(g, out, *inputs)
        if not isinstance(shares, (tuple, list)) or len(shares) != len(inputs):
            got = f"{len(shares)} shares" if isinstance(shares, (tuple, list)) else type(shares).__name__
            raise TypeError(
                f"the derivative of {name!r} returned {got} for {len(inputs)} input(s); it must return a tuple "
                f"with one share per input, e.g. lambda g, out, x, y: (g * y, g * x)"
            )
        return shares

    rule.__doc__ = derivative.__doc__
    return rule


def call(op: Op, *inputs: Any, params: tuple = ()) -> Any:
    """`op` applied to `inputs`, a node of the engine of the first node among them (numbers and
    arrays become constants, Tensors of other shapes and dtypes are broadcast and converted as
    arithmetic does); the engine's own forward for its kind of data."""
    like = next((x for x in inputs if isinstance(x, Node)), None)
    if like is None:
        raise TypeError(f"{op.name}: expected at least one Value or Tensor among the inputs, got "
                        f"{', '.join(type(x).__name__ for x in inputs)}")
    engine = type(like)
    rule = partial(op.derivative, *params) if params else op.derivative
    nodes, rule = engine.aligned(tuple(engine.constant(x, op.name, like) for x in inputs), op.name, rule)
    forward = op.on_floats if engine.holds_floats else op.on_arrays
    data = forward(*params, *(x.data for x in nodes))
    return engine.result(engine.raw(data, op.name), nodes, op.name, rule)
