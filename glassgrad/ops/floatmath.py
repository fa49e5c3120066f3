"""Float functions with IEEE 754 results where Python raises: what PyTorch float64 gives.

Python's `1.0 / 0.0`, `math.exp(1000)`, `math.log(0)` and `(-8.0) ** 0.5` raise or return a
complex number; PyTorch returns inf, inf, -inf and nan. The scalar engine uses these instead.
"""

from __future__ import annotations

import math

INF = math.inf
NAN = math.nan


def div(x: float, y: float) -> float:
    """x / y; a zero divisor gives ±inf, or nan for 0/0 and nan/0."""
    try:
        return x / y
    except ZeroDivisionError:
        if x == 0.0 or x != x:
            return NAN
        return math.copysign(INF, x) * math.copysign(1.0, y)


def _is_odd_integer(y: float) -> bool:
    return math.isfinite(y) and y == math.floor(y) and math.fmod(y, 2.0) != 0.0


def power(x: float, y: float) -> float:
    """x ** y as C's pow: 0 ** -1 is inf, (-8) ** 0.5 is nan, overflow is ±inf."""
    try:
        return math.pow(x, y)
    except OverflowError:
        return -INF if x < 0.0 and _is_odd_integer(y) else INF
    except ValueError:
        if x == 0.0:  # a zero base with a negative exponent
            return math.copysign(INF, x) if _is_odd_integer(y) else INF
        return NAN  # a negative base with a non-integer exponent


def exp(x: float) -> float:
    """e ** x; inf when it overflows."""
    try:
        return math.exp(x)
    except OverflowError:
        return INF


def log(x: float) -> float:
    """ln x; -inf at 0, nan below 0."""
    if x > 0.0:
        return math.log(x)
    if x == 0.0:
        return -INF
    return NAN  # negative, or nan


def tanh(x: float) -> float:
    """tanh x."""
    return math.tanh(x)


def sigmoid(x: float) -> float:
    """1 / (1 + e^-x), as PyTorch computes it: e^-x overflows to inf below about -709.8, giving 0
    (e^x / (1 + e^x) would give a subnormal there, where PyTorch and the Tensor engine give 0)."""
    return 1.0 / (1.0 + exp(-x))


def sqrt(x: float) -> float:
    """√x as C's sqrt: nan below 0, and √-0.0 is -0.0."""
    return math.sqrt(x) if x >= 0.0 or x != x else NAN


def relu(x: float) -> float:
    """max(x, 0) as PyTorch: nan stays nan and -0.0 stays -0.0."""
    return 0.0 if x < 0.0 else x


def shortest(x: float) -> str:
    """x as a label would show it: '2' for 2.0, otherwise Python's shortest repr ('0.5', 'inf', '1e+300':
    not the 301 digits of int(1e300))."""
    return str(int(x)) if x.is_integer() and abs(x) < 1e16 else repr(x)
