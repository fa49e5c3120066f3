"""The elementwise operations both engines share, one description each: `+ - * / **`, `neg`,
`exp`, `log`, `tanh`, `relu`, `sigmoid`, `sqrt`, `abs`, `sin`, `cos`, `erf`, and the scalar
engine's weighted sum of a neuron. `Value`'s and `Tensor`'s operators, methods and functions
are made from these entries.
"""

from __future__ import annotations

import math
from typing import Any

from glassgrad.autograd import Node, data_of, zeros_like
from glassgrad.ops import floatmath
from glassgrad.ops.helpers import (
    _quiet,
    div,
    log,
    numpy_function,
    one_minus_square,
    power,
    power_by,
    silent,
    zero_where,
)
from glassgrad.ops.registry import LazyNumpy, Op, built_in

np = LazyNumpy(globals())  # numpy itself from the first array on


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


def _sigmoid_array(x: Any) -> Any:
    with silent():
        return 1.0 / (1.0 + np.exp(-x))


def _cos(x: Any) -> Any:
    return x.cos() if isinstance(x, Node) else np.cos(x)


def _sin(x: Any) -> Any:
    return x.sin() if isinstance(x, Node) else np.sin(x)


def _sign(x: Any) -> Any:
    """sign x, and 0 at NaN (PyTorch's sgn): the slope of |x|, so a NaN gets no gradient."""
    return np.nan_to_num(np.sign(x), nan=0.0)


def _erf(x: np.ndarray) -> np.ndarray:
    """The error function 2/√π ∫₀ˣ e^(-t²) dt, elementwise (scipy's, the one numpy lacks)."""
    from scipy.special import erf  # loaded on first use: scipy is heavy

    return erf(x)


def _gaussian(x: Any) -> Any:
    """e^(-x²), on arrays and nodes."""
    return (-(x * x)).exp() if isinstance(x, Node) else np.exp(-(x * x))


def _weighted_sum(g, out, *inputs):
    """d(w.x + b)/dw_i = x_i, d/dx_i = w_i, d/db = 1; inputs are (w_1..w_n, x_1..x_n, b)."""
    n = len(inputs) // 2
    return [g * x for x in inputs[n:-1]] + [g * w for w in inputs[:n]] + [g]


def _weighted_sum_forward(*inputs: float) -> float:
    n = len(inputs) // 2
    total = inputs[-1]
    for w, x in zip(inputs[:n], inputs[n:-1]):
        total += w * x
    return total


def _weighted_sum_formula(args: list[str]) -> str:
    n = len(args) // 2
    return " + ".join([*(f"{w}·{x}" for w, x in zip(args[:n], args[n:-1], strict=True)), args[-1]])


def _weighted_sum_local(args: list[str], out: str, k: int) -> str:
    n = len(args) // 2
    return args[n + k] if k < n else args[k - n] if k < 2 * n else "1"


def _weighted_sum_reads(k: int, n: int) -> str:
    half = n // 2  # w_k's share reads x_k, x_k's reads w_k, b's nothing
    return f"{{{k + half}}}" if k < half else f"{{{k - half}}}" if k < 2 * half else ""


# The elementwise operations: name, derivative rule, forward on floats (None: the Tensor engine's
# only) and on arrays, how the pictures write it, what the rule reads, then the surfaces.
_SCALAR = dict(kind="binary", function=True, inplace=True)
ADD = built_in(Op("+", lambda g, out, a, b: (g, g), float.__add__, _quiet("add"),
                  formula="{0} + {1}", local=("1", "1"), precedence=1, word="add", reads="",
                  method="add", dunder="add", ufunc="add", **_SCALAR, doc="x + y.", backward="AddBackward0"))
SUB = built_in(Op("-", lambda g, out, a, b: (g, -g), float.__sub__, _quiet("subtract"),
                  formula="{0} − {1}", local=("1", "−1"), precedence=1, word="sub", reads="",
                  method="sub", dunder="sub", ufunc="subtract", **_SCALAR, doc="x - y.", backward="SubBackward0"))
# `need` (bound by the Tensor engine when an input is a constant) says which shares to compute at all
MUL = built_in(Op("*", lambda g, out, a, b, need=(True, True): (g * b if need[0] else None,
                                                                  g * a if need[1] else None),
                  float.__mul__, _quiet("multiply"),
                  formula="{0} × {1}", local=("{1}", "{0}"), precedence=2, word="mul", reads=("{1}", "{0}"),
                  method="mul", dunder="mul", ufunc="multiply", **_SCALAR, doc="x * y.", backward="MulBackward0"))
DIV = built_in(Op("/", lambda g, out, a, b, need=(True, True): (div(g, b) if need[0] else None,
                                                                  -g * div(div(a, b), b) if need[1] else None),
                  floatmath.div, _quiet("divide"),
                  formula="{0} / {1}", local=("1/{1}", "−{0}/{1}²"), precedence=2, word="div",  # as PyTorch: d/db
                  reads=("{1}", "{0} {1}"), method="div", dunder="truediv", ufunc="divide", **_SCALAR,  # from a, b
                  floating=True, doc="x / y (true division).", backward="DivBackward0"))
# x ** y of two nodes; x ** k for a number k is the operation below, so `pow` and `**` are written
# by hand (Value.__pow__, Tensor.__pow__) to pick one of the two
POW = built_in(Op("**", _power_rule, floatmath.power, _quiet("power"),
                  formula="{0} ** {1}", local=("{1}·{0}^({1} − 1)", "{out}·ln {0}"), precedence=4, word="pow",
                  reads=("{0} {1}", "{0} {1} {out}"), method="pow", dunder="pow", function=True, ufunc="power",
                  doc="x ** y.", backward="PowBackward1"))
POW_K = built_in(Op("**{k}", _power_by_constant_rule, lambda k, x: power_by(x, k), lambda k, x: power_by(x, k),
                    formula="{0} ** {k}", local=("{k}·{0}^({k} − 1)",), precedence=4, word="pow", reads="{0}",
                    backward="PowBackward0"))
NEG = built_in(Op("neg", lambda g, out, a: (-g,), float.__neg__, numpy_function("negative"),
                  formula="−{0}", local=("−1",), precedence=3, word="neg", reads="",
                  kind="unary", method="neg", dunder="neg", function=True, ufunc="negative", doc="-x.",
                  backward="NegBackward0"))
_UNARY = dict(kind="unary", function=True)
_FLOATING = dict(_UNARY, floating=True)  # of an integer or bool tensor, the default dtype
EXP = built_in(Op("exp", lambda g, out, a: (g * out,), floatmath.exp, _quiet("exp"),
                  formula="exp({0})", local=("{out}",), reads="{out}", method="exp", ufunc="exp", **_FLOATING,
                  doc="e^x.", backward="ExpBackward0"))
LOG = built_in(Op("log", lambda g, out, a: (div(g, a),), floatmath.log, _quiet("log"),
                  formula="log({0})", local=("1/{0}",), reads="{0}", method="log", ufunc="log", **_FLOATING,
                  doc="ln x (natural logarithm); -inf at 0, nan below.", backward="LogBackward0"))
# tanh's derivative on arrays as PyTorch's kernel rounds it (once); a node of its own under create_graph=True
# on a Tensor, so that a second-order pass computes the same numbers as the first
ONE_MINUS_SQUARE = built_in(Op("1 − x²", lambda g, out, a: (g * (-2.0 * a),), on_arrays=one_minus_square,
                               formula="1 − {0}²", local=("−2·{0}",), precedence=1, reads="{0}",
                               backward="TanhBackwardBackward0"))


def _tanh_rule(g: Any, out: Any, a: Any) -> tuple:
    if isinstance(out, Node) and not out.holds_floats:
        return (g * out.result(one_minus_square(out._data), out, None, ONE_MINUS_SQUARE.name,
                               ONE_MINUS_SQUARE.derivative),)
    return (g * one_minus_square(out),)  # floats and Values: micrograd's 1 - y * y


TANH = built_in(Op("tanh", _tanh_rule, floatmath.tanh, _quiet("tanh"),
                   formula="tanh({0})", local=("1 − {out}²",), reads="{out}", method="tanh", ufunc="tanh", **_FLOATING,
                   doc="tanh x = (e^2x - 1) / (e^2x + 1).", backward="TanhBackward0"))
RELU = built_in(Op("relu", lambda g, out, a: (zero_where(data_of(out) <= 0, g),), _relu, _relu,  # g where out > 0
                   formula="relu({0})", local=("1 if {out} > 0 else 0",), reads="{out}",  # or is nan, as PyTorch
                   method="relu", **_UNARY, doc="max(x, 0) as PyTorch: nan stays nan and -0.0 stays -0.0.",
                   backward="ReluBackward0"))
SIGMOID = built_in(Op("sigmoid", lambda g, out, a: (g * (1.0 - out) * out,), floatmath.sigmoid, _sigmoid_array,
                      formula="sigmoid({0})", local=("{out}·(1 − {out})",), reads="{out}", method="sigmoid",
                      **_FLOATING, doc="1 / (1 + e^-x).", backward="SigmoidBackward0"))
SQRT = built_in(Op("sqrt", lambda g, out, a: (div(g, 2.0 * out),), None, _quiet("sqrt"),
                   formula="√{0}", local=("1/(2√{0})",), reads="{out}", method="sqrt", ufunc="sqrt", **_FLOATING,
                   doc="√x.", backward="SqrtBackward0"))
ABS = built_in(Op("abs", lambda g, out, a: (g * _sign(data_of(a)),), None, numpy_function("abs"),
                  formula="|{0}|", local=("sign({0})",), reads="{0}", method="abs", aliases=("absolute",),
                  dunder="abs", ufunc="absolute", **_UNARY, doc="|x|; its derivative at 0 is 0, as PyTorch's.",
                  backward="AbsBackward0"))
SIN = built_in(Op("sin", lambda g, out, a: (g * _cos(a),), None, _quiet("sin"), formula="sin({0})",
                  local=("cos {0}",), reads="{0}", method="sin", ufunc="sin", **_FLOATING, doc="sin x.",
                  backward="SinBackward0"))
COS = built_in(Op("cos", lambda g, out, a: (-g * _sin(a),), None, _quiet("cos"), formula="cos({0})",
                  local=("−sin {0}",), reads="{0}", method="cos", ufunc="cos", **_FLOATING, doc="cos x.",
                  backward="CosBackward0"))
LOG10 = built_in(Op("log10", lambda g, out, a: (div(g, a * math.log(10.0)),), None, _quiet("log10"),
                    formula="log10({0})", local=("1/({0} ln 10)",), reads="{0}", method="log10", ufunc="log10",
                    **_FLOATING, doc="log10 x = ln x / ln 10.", backward="Log10Backward0"))
ERF = built_in(Op("erf", lambda g, out, a: (g * (2.0 / math.sqrt(math.pi)) * _gaussian(a),), None, _erf,
                  formula="erf({0})", local=("2/√π·e^(−{0}²)",), reads="{0}", method="erf", **_FLOATING,
                  doc="erf x = 2/√π ∫₀ˣ e^(-t²) dt; the normal distribution function is (1 + erf(x/√2)) / 2.",
                  backward="ErfBackward0"))
# a neuron's weighted sum w.x + b as one node (the scalar engine's `engine.linear`; inputs w_1..w_n,
# x_1..x_n, b); the Tensor engine's layer x W^T + b is `linear` (tensor_ops)
WEIGHTED_SUM = built_in(Op("weighted_sum", _weighted_sum, _weighted_sum_forward, None, formula=_weighted_sum_formula,
                           local=_weighted_sum_local, precedence=1, word="wsum", reads=_weighted_sum_reads))

