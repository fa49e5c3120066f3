"""Helpers the derivative rules are written with, each working on floats and arrays (the plain
backward pass) and on nodes (create_graph=True), so that a rule is written once; and `silent`, the
one place that sets numpy's error state (inf and nan as results, as PyTorch, not warnings).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from glassgrad.autograd import Node, zeros_like
from glassgrad.ops import floatmath
from glassgrad.ops.registry import LazyNumpy

np = LazyNumpy(globals())  # numpy itself from the first array on


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


def fma(a: Any, b: Any, c: Any) -> Any:
    """a * b + c rounded once on float32 and float64 arrays: the fused multiply-add that PyTorch's CPU
    kernels compute where their compiler fuses a product with a sum (tanh's derivative, the random
    numbers' transformations). On floats (the scalar engine keeps micrograd's arithmetic) and on
    nodes (create_graph=True) a * b + c."""
    if type(a) is float or isinstance(a, Node):
        return a * b + c
    dtype = getattr(a, "dtype", None)
    if dtype == np.float32:
        return _fma32(a, b, c)
    return _fma64(a, b, c) if dtype == np.float64 else a * b + c


def one_minus_square(x: Any) -> Any:
    """1 - x² rounded once on float32 and float64 arrays, as PyTorch's CPU kernel computes tanh's
    derivative (its compiler fuses the product into the difference); on floats (micrograd's
    arithmetic) and nodes 1 - x * x. |x| <= 1 here: float32's x² is exact in float64, and so is
    1 - x² for |x| >= 1/8, float64's is made exact by Dekker's two-product and a two-sum."""
    if type(x) is float or isinstance(x, Node):
        return 1.0 - x * x
    dtype = getattr(x, "dtype", None)
    if dtype == np.float32:
        wide = np.array(x, np.float64)  # one float64 buffer, worked in place
        np.multiply(wide, wide, out=wide)
        np.subtract(1.0, wide, out=wide)
        out = wide.astype(np.float32)
        bits = wide.view(np.uint64)
        np.bitwise_and(bits, np.uint64(0x1FFFFFFF), out=bits)
        halfway = bits == np.uint64(0x10000000)
        if halfway.any():  # (rare) the float64 difference was rounded to a float32 tie: redo those exactly
            out[halfway] = _fma32(-x[halfway], x[halfway], 1.0)
        return out
    if dtype != np.float64:
        return 1.0 - x * x
    square = x * x
    high, low = _split(x)
    error = high * high  # x² = square + (high² - square + 2 high low + low²), exactly
    error -= square
    low_square = low * low
    low *= high
    low *= 2.0
    error += low
    error += low_square
    rounded = np.subtract(1.0, square)
    rest = np.subtract(1.0, rounded)  # 1 - square = rounded + ((1 - rounded) - square), exactly
    rest -= square
    rest -= error
    rest += rounded
    return rest


def _fma32(a: Any, b: Any, c: Any) -> Any:
    """float32 a * b + c rounded once. a * b of two float32 is exact in float64; the sum is rounded
    to float64 and then to float32, which is the single rounding except when the float64 sum lands
    exactly halfway between two float32 numbers: those (rare) ones are rounded by the sign of the
    float64 sum's error."""
    f32, f64 = np.float32, np.float64
    s = np.array(a, f64)
    s *= np.asarray(b, f64)
    p = s.copy()
    c = np.asarray(c, f64)
    s += c
    r = s.astype(f32)
    low = s.view(np.uint64) & np.uint64(0x1FFFFFFF)
    halfway = low == np.uint64(0x10000000)
    if halfway.any():
        cb = np.broadcast_to(c, s.shape)
        ps, cs, ss = p[halfway], cb[halfway], s[halfway]
        back = ss - ps
        error = (ps - (ss - back)) + (cs - back)  # p + c == s + error exactly (two-sum)
        nearest = r[halfway].astype(f64)
        other = 2 * ss - nearest  # the float32 on the other side of the halfway point
        r[halfway] = np.where(np.sign(error) == np.sign(other - nearest), other, nearest).astype(f32)
    return r


def _split(a: Any) -> tuple[Any, Any]:
    high = a * 134217729.0  # 2**27 + 1: Veltkamp's split into two 26-bit halves
    high = high - (high - a)
    return high, a - high


def _fma64(a: Any, b: Any, c: Any) -> Any:
    """float64 a * b + c as a fused multiply-add: the product's and the sum's rounding errors are
    computed exactly (Dekker's two-product, Knuth's two-sum) and added back before the one rounding."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    product_error = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    s = p + c
    back = s - p
    sum_error = (p - (s - back)) + (c - back)
    return s + (sum_error + product_error)


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
