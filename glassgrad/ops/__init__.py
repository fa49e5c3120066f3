"""One registry of operations: each is one description of what it computes, its derivative, how it
is written and under which names it is reached.

An `Op` holds everything about one operation, read by both engines (`Value` computes with
`on_floats`, `Tensor` with `on_arrays`), by the backward pass (`derivative`), by the pictures
(`formula`, `local`, `precedence`, `word`) and by the surfaces made from it (`kind`, `method`,
`dunder`, `function`, `ufunc`, `inplace`): an elementwise operation's Value and Tensor methods,
its operator, its `glassgrad.<name>` function, its numpy dispatch and `explain`'s function list
all come from its one entry, so adding `sqrt` is one `register` call. Its derivative rule is a
vector-Jacobian product, `rule(g, out, *inputs)`, giving each input's share of the upstream
gradient `g`: the plain backward pass calls it with raw numbers (floats or numpy arrays),
`create_graph=True` with nodes, so one rule gives first and higher derivatives.

`OPS` is the one registry, by name; each name means one operation. The elementwise operations
below are shared by both engines; the Tensor engine's own (sums, matrix products, indexing) are
registered in `tensor_ops.py`. A user's operation is one `glassgrad.op` decorator (see `op`); it
cannot take a name of glassgrad's own.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache, partial
from typing import Any

from glassgrad.autograd import Node, data_of, slots, zeros_like
from glassgrad.ops import floatmath


class LazyNumpy:
    """Stands for numpy in a module's globals (`np = LazyNumpy(globals())`) until an attribute is
    first read, then puts numpy itself there: the module reads `np.x` as usual, at full speed after
    the first time, and numpy is imported only when an array is met (Values never need it)."""

    def __init__(self, namespace: dict) -> None:
        self._namespace = namespace

    def __getattr__(self, name: str) -> Any:
        import numpy

        self._namespace["np"] = numpy
        return getattr(numpy, name)


np = LazyNumpy(globals())

ATOM = 5  # the precedence of a name or a call: never needs parentheses


@dataclass(frozen=True, slots=True, eq=False)
class Op:
    """Everything about one operation.

    `name` is the `_op` of the nodes it makes; in a parameterised operation `{k}` stands for the
    parameter (`**{k}` makes nodes named `**2`), and `on_floats`, `on_arrays` and `derivative` take
    the parameters first. `derivative` is None for an operation without a gradient (a comparison:
    its result is a constant) and for a composite one (`on_arrays` None too: its method is made of
    other operations, whose nodes it makes). `formula` writes the result from its inputs `{0}`,
    `{1}` (or is a function of the list of input names); `local[k]` writes d(result)/d(input k),
    with `{out}` for the result.

    `reads[k]` names the numbers the derivative reads to give input k its share, written as in
    `local` (`"{1}"`: input 1's values; `"{out}"`: the result's; `""`: nothing but shapes); one
    string stands for every input. The in-place check asks it: a node refuses to backpropagate only
    when a tensor its derivative reads was changed in place after the node was made, as PyTorch.
    None (a user's operation, by default) means everything: all inputs and the result.

    The surfaces: `method` is the Tensor method of PyTorch's name that makes the operation (and
    `aliases` more names for it). For `kind` "unary" or "binary" (elementwise, no parameters) the
    methods are made from this description: the Tensor's, the Value's (when it has `on_floats`),
    the operator `dunder` (`"add"`: `__add__` and `__radd__`) and the numpy `ufunc` dispatched to it;
    otherwise the method is written by hand, checking its arguments as PyTorch does, and makes its
    nodes from this description. `function` makes `glassgrad.<method>(input, ...)` too, as
    `torch.<method>`; `inplace` the in-place method `<method>_`.

    `view`: the result may be a view of its (one) input, sharing its numbers (reshape, transpose,
    basic indexing), as PyTorch's views: an in-place change of the one changes the other, and the
    input's history is rebased on the change (see `Tensor._inplace`).

    `backward` is PyTorch's name for such a node, which a tensor's repr shows: `grad_fn=<AddBackward0>`.
    """

    name: str
    derivative: Callable[..., Sequence[Any]] | None = None
    on_floats: Callable[..., float] | None = None
    on_arrays: Callable[..., Any] | None = None
    formula: str | Callable[[list[str]], str] = ""
    local: tuple[str, ...] | Callable[[list[str], str, int], str] = ()
    precedence: int = ATOM
    word: str = ""
    reads: str | tuple[str, ...] | Callable[[int, int], str] | None = None
    kind: str = ""
    method: str = ""
    aliases: tuple[str, ...] = ()
    dunder: str = ""
    function: bool = False
    ufunc: str = ""
    inplace: bool = False
    view: bool = False
    doc: str = ""  # what the operation computes, in one line: the docstring of the methods made from it
    backward: str = ""  # PyTorch's name for the node (a tensor's `grad_fn=<...>`), e.g. AddBackward0

    def names(self) -> tuple[str, ...]:
        """Every name this operation is reached by: its nodes', its methods' and its operator's."""
        methods = (self.method, *self.aliases)
        inplace = tuple(f"{m}_" for m in methods if m) if self.inplace else ()
        dunder = (f"__{self.dunder}__", f"__r{self.dunder}__") if self.kind == "binary" else (f"__{self.dunder}__",)
        dunder = dunder if self.dunder else ()
        return tuple(n for n in (self.name, *methods, *inplace, *dunder) if n)

    def bound(self, *params: Any) -> tuple[str, Callable[..., Sequence[Any]]]:
        """The name of the nodes this operation makes with `params` (`**{k}` with 2: `**2`) and its
        rule with them bound: what both engines record."""
        return _bound(self, params)

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


@lru_cache(maxsize=256)
def _bound(op: Op, params: tuple) -> tuple[str, Callable[..., Sequence[Any]]]:
    if not params:
        return op.name, op.derivative
    return op.name.format(**op._named(params)), partial(op.derivative, *params)


_NUMBER = r"(-?(?:\d+(?:\.\d*)?(?:e[-+]?\d+)?|inf|nan))"

OPS: dict[str, Op] = {}  # the registry: every operation by the name of its nodes
_PATTERNS: list[tuple[re.Pattern, Op]] = []
_BUILT_IN: set[str] = set()  # every name of glassgrad's own operations (nodes, methods, operators)


def register(op: Op, built_in: bool = False) -> Op:
    """Make `op` known by its names, so that its surfaces are made and nodes named after it can be
    made by hand and drawn. Each name means one operation: no name of glassgrad's own operations
    (its nodes', methods' or operators') can be taken again; a user's operation can be defined again."""
    taken = [name for name in op.names() if name in _BUILT_IN]
    known = describe(op.name)
    if not taken and known is not None and known[0].name in _BUILT_IN:
        taken = [op.name]
    if taken:
        raise ValueError(f"{taken[0]!r} is the name of one of glassgrad's own operations; choose another name")
    if built_in:
        _BUILT_IN.update(op.names())
    if _PARAMETER.search(op.name):
        pattern = re.escape(op.name)
        for p in _PARAMETER.findall(op.name):
            pattern = pattern.replace(re.escape("{" + p + "}"), _NUMBER)
        _PATTERNS.append((re.compile(pattern), op))
    OPS[op.name] = op
    return op


def built_in(op: Op) -> Op:
    """`register` for one of glassgrad's own operations."""
    return register(op, built_in=True)


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


def backward_name(name: str) -> str:
    """PyTorch's name for a node named `name` (its `grad_fn`, as a tensor's repr shows it): the
    description's `backward`, or the name and "Backward" for a user's operation."""
    known = describe(name)
    return known[0].backward if known is not None and known[0].backward else f"{name}Backward"


def rule_of(name: str) -> Callable[..., Sequence[Any]] | None:
    """The derivative rule for a Value's nodes named `name`, with its parameters bound; None if no
    operation of that name computes on floats."""
    found = describe(name)
    if found is None or found[0].on_floats is None:
        return None
    op, params = found
    return op.bound(*params)[1]


def on_floats() -> list[str]:
    """The names of the operations a Value's nodes can have (`{k}` for a parameter)."""
    return [name for name, op in OPS.items() if op.on_floats is not None]


def functions() -> dict[str, bool]:
    """glassgrad's functions of tensors (`glassgrad.exp`, ...: the entries that say `function`), each
    with whether it is the Tensor method of its name (False: a function of several tensors, `cat`)."""
    made = {}
    for op in OPS.values():
        if op.function:
            made.update(dict.fromkeys((op.method, *op.aliases), True) if op.method else {op.name: False})
    return made


def elementwise(kind: str) -> list[Op]:
    """The operations of `kind` ("unary" or "binary") whose methods are made from their description."""
    return [op for op in OPS.values() if op.kind == kind]


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
    √-0.0 is -0.0 and √-inf is nan (C's pow gives 0.0 and inf); on arrays k = 2, 3, -1 and -2 are x·x,
    x·x·x, 1/x and 1/(x·x), to the last bit PyTorch's (and five times faster than numpy's pow); other
    exponents are C's pow."""
    root = k == 0.5 or k == -0.5
    if type(x) is float:
        if not root:
            return floatmath.power(x, k)
        return floatmath.sqrt(x) if k > 0 else floatmath.div(1.0, floatmath.sqrt(x))
    if isinstance(x, Node):
        return x**k
    with silent():
        if k in (2.0, 3.0, -1.0, -2.0):  # PyTorch multiplies or divides for these (numpy calls pow)
            return (x * x if k == 2.0 else x * x * x) if k > 0 else 1.0 / (x if k == -1.0 else x * x)
        return x**k if not root else np.sqrt(x) if k > 0 else 1.0 / np.sqrt(x)


def log(x: Any) -> Any:
    """ln x."""
    if type(x) is float:
        return floatmath.log(x)
    return x.log() if isinstance(x, Node) else np.log(x)


def zero_where(drop: Any, x: Any) -> Any:
    """x with exact zeros where `drop` is true, even where x is inf or nan: how a rule switches a
    gradient off (multiplying by a 0/1 mask would turn inf * 0 into nan)."""
    if type(drop) is bool or isinstance(drop, np.bool_):  # (a float's comparison: no numpy needed)
        return zeros_like(x) if drop else x
    if not drop.any():
        return x
    if isinstance(x, Node):
        return x.masked_fill(drop, 0.0)
    if not isinstance(x, np.ndarray) or x.shape != drop.shape and np.broadcast_shapes(x.shape, drop.shape) != x.shape:
        x = np.array(np.broadcast_to(x, np.broadcast_shapes(np.shape(x), drop.shape)))  # (a smaller drop broadcasts)
    # np.where(drop, 0, x) branches per element and is 6x slower than clearing the bits of the
    # dropped elements, which also keeps x's own values exactly (-0.0, nan)
    bits = x.view(np.dtype(f"i{x.itemsize}"))
    return (bits & (drop.astype(bits.dtype) - 1)).view(x.dtype)


_SILENT: list = []  # once numpy is met: (its context variable of error modes, the silent modes), or None


def _silent_modes() -> tuple | None:
    """numpy 2 keeps its floating-point error modes in a context variable; set directly, it costs a
    third of `np.errstate`, which an operation of small tensors would pay every time."""
    if not _SILENT:
        try:
            from numpy._core._ufunc_config import _extobj_contextvar, _make_extobj

            _SILENT.append((_extobj_contextvar, _make_extobj(all="ignore")))
        except ImportError:  # pragma: no cover - another numpy's internals
            _SILENT.append(None)
    return _SILENT[0]


class silent:
    """`with silent():` numpy gives inf and nan without warnings, as PyTorch does: `np.errstate(all="ignore")`.
    The one place that sets numpy's error state: forwards on arrays and every backward pass of Tensors run in it."""

    __slots__ = ("_token", "_modes")

    def __enter__(self) -> None:
        self._modes = modes = _silent_modes()
        if modes is None:  # pragma: no cover
            self._token = np.errstate(all="ignore")
            self._token.__enter__()
        else:
            self._token = modes[0].set(modes[1])

    def __exit__(self, *exc: object) -> None:
        if self._modes is None:  # pragma: no cover
            self._token.__exit__(*exc)
        else:
            self._modes[0].reset(self._token)


def _quiet(name: str) -> Callable[..., Any]:
    """numpy's function `name` as an operation's forward on arrays, giving inf and nan as PyTorch
    does instead of numpy's warnings; looked up when called, so describing it needs no numpy."""

    def quiet(*args: Any) -> Any:
        modes = _SILENT[0] if _SILENT else _silent_modes()
        if modes is None:  # pragma: no cover
            with silent():
                return getattr(np, name)(*args)
        token = modes[0].set(modes[1])  # `silent()`, written out: it runs for every elementwise operation
        try:
            return getattr(np, name)(*args)
        finally:
            modes[0].reset(token)

    quiet.__name__ = name
    return quiet


def numpy_function(name: str) -> Callable[..., Any]:
    """numpy's function `name`, looked up when called (an operation's forward that cannot warn)."""

    def forward(*args: Any, **kwargs: Any) -> Any:
        return getattr(np, name)(*args, **kwargs)

    forward.__name__ = name
    return forward


def _power_rule(g, out, a, b):
    """d(a^b)/da = b a^(b-1), zero where b is 0; d(a^b)/db = a^b ln a, zero where a is 0 and b >= 0.

    As in PyTorch, g multiplies the whole local derivative (g * (b a^(b-1)) overflows differently
    from (g b) a^(b-1)); d/da is exactly zero where b is 0 whatever g is, while the zero of d/db is a
    factor of g (so an infinite g gives nan there). Where an element is dropped, the exponent or
    the logarithm's argument is shifted so that the dropped value is finite."""
    rb, ra = data_of(b), data_of(a)
    b_zero = rb == 0
    off = (ra == 0) & (rb >= 0)
    da = zero_where(b_zero, g * (b * power(a, b - (1.0 - b_zero))))
    db = g * zero_where(off, out * log(a + off * 1.0))
    return da, db


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
                  doc="x / y (true division).", backward="DivBackward0"))
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
EXP = built_in(Op("exp", lambda g, out, a: (g * out,), floatmath.exp, _quiet("exp"),
                  formula="exp({0})", local=("{out}",), reads="{out}", method="exp", ufunc="exp", **_UNARY, doc="e^x.",
                  backward="ExpBackward0"))
LOG = built_in(Op("log", lambda g, out, a: (div(g, a),), floatmath.log, _quiet("log"),
                  formula="log({0})", local=("1/{0}",), reads="{0}", method="log", ufunc="log", **_UNARY,
                  doc="ln x (natural logarithm); -inf at 0, nan below.", backward="LogBackward0"))
TANH = built_in(Op("tanh", lambda g, out, a: (g * (1.0 - out * out),), floatmath.tanh, _quiet("tanh"),
                   formula="tanh({0})", local=("1 − {out}²",), reads="{out}", method="tanh", ufunc="tanh", **_UNARY,
                   doc="tanh x = (e^2x - 1) / (e^2x + 1).", backward="TanhBackward0"))
RELU = built_in(Op("relu", lambda g, out, a: (zero_where(data_of(out) <= 0, g),), _relu, _relu,  # g where out > 0
                   formula="relu({0})", local=("1 if {out} > 0 else 0",), reads="{out}",  # or is nan, as PyTorch
                   method="relu", **_UNARY, doc="max(x, 0) as PyTorch: nan stays nan and -0.0 stays -0.0.",
                   backward="ReluBackward0"))
SIGMOID = built_in(Op("sigmoid", lambda g, out, a: (g * (1.0 - out) * out,), floatmath.sigmoid, _sigmoid_array,
                      formula="sigmoid({0})", local=("{out}·(1 − {out})",), reads="{out}", method="sigmoid",
                      **_UNARY, doc="1 / (1 + e^-x).", backward="SigmoidBackward0"))
SQRT = built_in(Op("sqrt", lambda g, out, a: (div(g, 2.0 * out),), None, _quiet("sqrt"),
                   formula="√{0}", local=("1/(2√{0})",), reads="{out}", method="sqrt", ufunc="sqrt", **_UNARY,
                   doc="√x.", backward="SqrtBackward0"))
ABS = built_in(Op("abs", lambda g, out, a: (g * _sign(data_of(a)),), None, numpy_function("abs"),
                  formula="|{0}|", local=("sign({0})",), reads="{0}", method="abs", aliases=("absolute",),
                  dunder="abs", ufunc="absolute", **_UNARY, doc="|x|; its derivative at 0 is 0, as PyTorch's.",
                  backward="AbsBackward0"))
SIN = built_in(Op("sin", lambda g, out, a: (g * _cos(a),), None, _quiet("sin"), formula="sin({0})",
                  local=("cos {0}",), reads="{0}", method="sin", ufunc="sin", **_UNARY, doc="sin x.",
                  backward="SinBackward0"))
COS = built_in(Op("cos", lambda g, out, a: (-g * _sin(a),), None, _quiet("cos"), formula="cos({0})",
                  local=("−sin {0}",), reads="{0}", method="cos", ufunc="cos", **_UNARY, doc="cos x.",
                  backward="CosBackward0"))
LOG10 = built_in(Op("log10", lambda g, out, a: (div(g, a * math.log(10.0)),), None, _quiet("log10"),
                    formula="log10({0})", local=("1/({0} ln 10)",), reads="{0}", method="log10", ufunc="log10",
                    **_UNARY, doc="log10 x = ln x / ln 10.", backward="Log10Backward0"))
ERF = built_in(Op("erf", lambda g, out, a: (g * (2.0 / math.sqrt(math.pi)) * _gaussian(a),), None, _erf,
                  formula="erf({0})", local=("2/√π·e^(−{0}²)",), reads="{0}", method="erf", **_UNARY,
                  doc="erf x = 2/√π ∫₀ˣ e^(-t²) dt; the normal distribution function is (1 + erf(x/√2)) / 2.",
                  backward="ErfBackward0"))
# a neuron's weighted sum w.x + b as one node (the scalar engine's `engine.linear`; inputs w_1..w_n,
# x_1..x_n, b); the Tensor engine's layer x W^T + b is `linear` (tensor_ops)
WEIGHTED_SUM = built_in(Op("weighted_sum", _weighted_sum, _weighted_sum_forward, None, formula=_weighted_sum_formula,
                           local=_weighted_sum_local, precedence=1, word="wsum", reads=_weighted_sum_reads))


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
    name, rule = op.bound(*params)
    nodes, rule = engine.aligned(tuple(engine.constant(x, name, like) for x in inputs), name, rule)
    forward = op.on_floats if engine.holds_floats else op.on_arrays
    data = forward(*params, *(x.data for x in nodes))
    return engine.result(engine.raw(data, name), *slots(nodes), name, rule)


from glassgrad.ops import tensor_ops  # noqa: E402, F401  (the Tensor's own operations join the registry)
