"""The Tensor engine's own elementwise operations, one registry entry each: copies and conversions
(`clone`, `astype`), selections (`clamp`, `masked_fill`, `where`, `maximum`, `minimum`), `add` and
`sub` with `alpha`, comparisons, `isnan`, the bitwise `& | ^ ~`, `//` and `%`. The comparisons',
`isnan`'s, bitwise and arithmetic ones' methods, operators, functions and numpy dispatch are made
from these entries (`glassgrad._tensor.tensor_methods`), as for `+` or `exp`.

Those without a derivative (comparisons, `isnan`, bitwise) give constants, as PyTorch's bool and
integer results; `//` records its node as PyTorch does and refuses its derivative, which PyTorch
does not implement either.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from glassgrad.autograd import data_of
from glassgrad.ops.helpers import fma, numpy_function, silent, zero_where
from glassgrad.ops.registry import LazyNumpy, Op, built_in
from glassgrad.ops.tensor_ops import cast

np = LazyNumpy(globals())  # numpy itself from the first array on


# Copies, conversions and selections, elementwise.
def _clone(x):
    return x.copy()


def _clone_rule(g, out, a):
    """A copy passes the gradient through."""
    return (g,)


CLONE = built_in(Op("clone", _clone_rule, on_arrays=_clone, reads="", method="clone", function=True,
                    backward="CloneBackward0"))


def _astype(dtype, x):
    return x.astype(dtype)


def _astype_rule(dtype, g, out, a):
    """Converting the dtype (between floating dtypes): the gradient is converted back."""
    return (cast(g, a.dtype),)


ASTYPE = built_in(Op("astype", _astype_rule, on_arrays=_astype, reads="", method="astype",
                     backward="ToCopyBackward0"))  # and `to`, `float`, ...


def _clamp(low, high, x):
    return np.minimum(np.maximum(x, low), high).astype(x.dtype, copy=False)


def _clamp_rule(low, high, g, out, a):
    """d clamp(x)/dx = 1 where low <= x <= high, exactly 0 elsewhere (as PyTorch)."""
    x = data_of(a)
    return (zero_where(~((x >= low) & (x <= high)), g),)


CLAMP = built_in(Op("clamp", _clamp_rule, on_arrays=_clamp, reads="{0}", method="clamp", aliases=("clip",),
                    function=True, inplace=True, backward="ClampBackward1"))


def _masked_fill(keep, value, x):
    return np.where(keep, x, value)


def _masked_fill_rule(keep, value, g, out, a):
    """The filled elements came from no input: exactly zero gradient there, g elsewhere."""
    return (zero_where(~keep, g),)


MASKED_FILL = built_in(Op("masked_fill", _masked_fill_rule, on_arrays=_masked_fill, reads="", method="masked_fill",
                          function=True, inplace=True, backward="MaskedFillBackward0"))


def _where(condition, x, y):
    return np.where(condition, x, y)


def _where_rule(condition, g, out, x, y):
    """where(c, x, y): g goes to x where c holds, to y elsewhere."""
    return zero_where(~condition, g), zero_where(condition, g)


WHERE = built_in(Op("where", _where_rule, on_arrays=_where, reads="", function=True, backward="WhereBackward0"))


def _maximum_rule(g, out, a, b):
    """max(a, b): g to the larger, shared half and half where they are equal (as PyTorch)."""
    ra, rb = data_of(a), data_of(b)
    tie = (ra == rb).astype(ra.dtype) * 0.5
    return zero_where(ra < rb, g) * (1.0 - tie), zero_where(rb < ra, g) * (1.0 - tie)


MAXIMUM = built_in(Op("maximum", _maximum_rule, on_arrays=numpy_function("maximum"), reads="{0} {1}",
                      kind="binary", method="maximum", function=True,
                      doc="The elementwise larger of two tensors (nan if either is); ties share the gradient.",
                      backward="MaximumBackward0"))
MINIMUM = built_in(Op("minimum", lambda g, out, a, b: _maximum_rule(g, out, -data_of(a), -data_of(b)),
                      on_arrays=numpy_function("minimum"), reads="{0} {1}", kind="binary", method="minimum",
                      function=True,
                      doc="The elementwise smaller of two tensors (nan if either is); ties share the gradient.",
                      backward="MinimumBackward0"))



def _scaled_sum(sign: int) -> Callable[..., Any]:
    """x + sign·alpha·y, rounded once on floating arrays: PyTorch's add and sub with `alpha` (a fused multiply-add)."""

    def forward(alpha, x, y):
        if x.dtype.kind != "f":
            return x + sign * int(alpha) * y  # integers: alpha is a whole number
        y = np.broadcast_to(y, np.broadcast_shapes(x.shape, y.shape))
        return fma(y, np.asarray(sign * alpha, x.dtype), x)

    return forward


ADD_SCALED = built_in(Op("+ {alpha}·", lambda alpha, g, out, a, b: (g, g * alpha), on_arrays=_scaled_sum(1),
                         formula="{0} + {alpha}·{1}", local=("1", "{alpha}"), precedence=1, reads="",
                         backward="AddBackward0"))  # `x.add(y, alpha=a)`
SUB_SCALED = built_in(Op("− {alpha}·", lambda alpha, g, out, a, b: (g, g * -alpha), on_arrays=_scaled_sum(-1),
                         formula="{0} − {alpha}·{1}", local=("1", "−{alpha}"), precedence=1, reads="",
                         backward="SubBackward0"))  # `x.sub(y, alpha=a)`

# Comparisons: elementwise, without a gradient (their results are constants, bool), as PyTorch's.
_COMPARE = dict(kind="compare", function=True)
EQ = built_in(Op("==", on_arrays=numpy_function("equal"), method="eq", dunder="eq", ufunc="equal", **_COMPARE,
                 doc="x == y."))
NE = built_in(Op("!=", on_arrays=numpy_function("not_equal"), method="ne", dunder="ne", ufunc="not_equal", **_COMPARE,
                 doc="x != y."))
LT = built_in(Op("<", on_arrays=numpy_function("less"), method="lt", dunder="lt", ufunc="less", **_COMPARE,
                 doc="x < y."))
LE = built_in(Op("<=", on_arrays=numpy_function("less_equal"), method="le", dunder="le", ufunc="less_equal", **_COMPARE,
                 doc="x <= y."))
GT = built_in(Op(">", on_arrays=numpy_function("greater"), method="gt", dunder="gt", ufunc="greater", **_COMPARE,
                 doc="x > y."))
GE = built_in(Op(">=", on_arrays=numpy_function("greater_equal"), method="ge", dunder="ge", ufunc="greater_equal",
                 **_COMPARE, doc="x >= y."))


def _isnan(x: Any) -> Any:
    return np.isnan(x) if x.dtype.kind == "f" else np.zeros(x.shape, dtype=bool)


ISNAN = built_in(Op("isnan", on_arrays=_isnan, kind="unary", method="isnan", function=True, ufunc="isnan",
                    doc="Where x is nan, as a bool Tensor."))


def _integers_only(name: str, symbol: str) -> Callable[..., Any]:
    """numpy's `name` on integer or boolean arrays; a TypeError naming the dtype for any other, as PyTorch refuses."""

    def forward(*xs: Any) -> Any:
        for x in xs:
            kind = np.asarray(x).dtype
            if kind.kind not in "biu":
                raise TypeError(f"{symbol}: bitwise operations take integer or bool tensors, got {kind}")
        return getattr(np, name)(*xs)

    return forward


_BITWISE = dict(kind="binary", function=True)
AND = built_in(Op("&", on_arrays=_integers_only("bitwise_and", "&"), method="bitwise_and", dunder="and",
                  ufunc="bitwise_and", **_BITWISE, doc="x & y: and of bools, bitwise of integers."))
OR = built_in(Op("|", on_arrays=_integers_only("bitwise_or", "|"), method="bitwise_or", dunder="or",
                 ufunc="bitwise_or", **_BITWISE, doc="x | y: or of bools, bitwise of integers."))
XOR = built_in(Op("^", on_arrays=_integers_only("bitwise_xor", "^"), method="bitwise_xor", dunder="xor",
                  ufunc="bitwise_xor", **_BITWISE, doc="x ^ y: exclusive or of bools, bitwise of integers."))
NOT = built_in(Op("~", on_arrays=_integers_only("invert", "~"), kind="unary", method="bitwise_not", dunder="invert",
                  function=True, ufunc="invert", doc="~x: not of bools, bitwise not of integers."))


def _whole_divisor(name: str, symbol: str) -> Callable[..., Any]:
    """numpy's `name` with a ZeroDivisionError for an integer divided by 0 (PyTorch's error; numpy's is 0 and
    a warning)."""

    def forward(a: Any, b: Any) -> Any:
        if a.dtype.kind in "biu" and np.asarray(b).dtype.kind in "biu" and not np.all(b):
            raise ZeroDivisionError(f"{symbol}: integer division by zero")
        with silent():  # float x // 0 and x % 0 give inf and nan silently, as in PyTorch
            return getattr(np, name)(a, b)

    return forward


def _floor_divide_rule(g, out, a, b):
    """PyTorch has no derivative of floor division: the node is recorded, its backward pass refused."""
    raise RuntimeError("the derivative for '//' (floor_divide) is not implemented, as in PyTorch; "
                       "a // b is piecewise constant: compute it on .detach()ed tensors")


FLOOR_DIVIDE = built_in(Op("//", _floor_divide_rule, on_arrays=_whole_divisor("floor_divide", "//"),
                           formula="{0} // {1}", precedence=2, word="floordiv", reads="", kind="binary",
                           method="floor_divide", dunder="floordiv", function=True, ufunc="floor_divide",
                           doc="floor(x / y), elementwise.", backward="NotImplemented"))


def _remainder_rule(g, out, a, b):
    """x % y = x - y floor(x / y): d/dx = 1, d/dy = -floor(x / y) (a constant: floor is piecewise flat)."""
    with silent():
        steps = np.floor(np.divide(data_of(a), data_of(b)))
    return g, -g * steps


REMAINDER = built_in(Op("%", _remainder_rule, on_arrays=_whole_divisor("remainder", "%"), formula="{0} % {1}",
                        local=("1", "−floor({0}/{1})"), precedence=2, word="mod", reads="{0} {1}", kind="binary",
                        method="remainder", dunder="mod", function=True, ufunc="remainder",
                        doc="x - y floor(x / y): Python's %, with the sign of y, as PyTorch's remainder.",
                        backward="RemainderBackward0"))

