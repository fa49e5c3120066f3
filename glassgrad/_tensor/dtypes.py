"""Data types under PyTorch's names: `glassgrad.float64`, `glassgrad.long`, `glassgrad.bool`, ...

They are numpy's dtype objects themselves, so `t.dtype == glassgrad.float64` holds and numpy's
`dtype=np.float64` is accepted wherever a glassgrad dtype is. The aliases PyTorch has (`float`,
`double`, `long`) are given by `glassgrad/__init__.py`, so this module does not shadow Python's
`float` and `bool`.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int64 = np.dtype(np.int64)
bool_ = np.dtype(np.bool_)

SUPPORTED = (float32, float64, int64, bool_)
FLOATING = (float32, float64)
_NAMES = "glassgrad.float32, float64, int64 or bool"

_default = [float64]  # glassgrad's default floating dtype (PyTorch's is float32)


def to_dtype(dtype: Any, where: str) -> np.dtype:
    """`dtype` as one of the supported numpy dtypes; Python's float, int and bool as PyTorch reads them."""
    python = {float: float64, int: int64, bool: bool_}
    if isinstance(dtype, type) and dtype in python:
        return python[dtype]
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        resolved = None
    if dtype is None or resolved is None or resolved not in SUPPORTED:  # np.dtype == None is float64 == None
        raise TypeError(f"{where}: dtype={dtype!r} is not supported; expected {_NAMES}")
    return resolved


def get_default_dtype() -> np.dtype:
    """The dtype of floating tensors made from Python numbers: float64 unless `set_default_dtype` changed it."""
    return _default[0]


def set_default_dtype(dtype: Any) -> None:
    """Make `dtype` (float32 or float64) the dtype of new floating tensors, as `torch.set_default_dtype`."""
    resolved = to_dtype(dtype, "set_default_dtype")
    if resolved not in FLOATING:
        raise TypeError(f"set_default_dtype: only floating dtypes can be the default, got {resolved}")
    _default[0] = resolved


def promote_types(a: np.dtype, b: np.dtype) -> np.dtype:
    """The dtype of an operation of two tensors of dtypes a and b, as PyTorch: bool < int64 < float32 <
    float64, and a floating dtype wins over an integer one whatever its size (numpy gives int64 and
    float32 float64; PyTorch float32)."""
    if a == b:
        return a
    if a.kind == "f" and b.kind == "f":
        return float64
    if a.kind == "f" or b.kind == "f":
        return a if a.kind == "f" else b
    return int64


def result_type(*operands: Any) -> np.dtype:
    """The dtype PyTorch gives an operation of `operands`: tensors (anything with `dtype` and `ndim`) and
    Python numbers. Tensors with dimensions decide, unless a 0-d tensor or a number is of a higher
    category (bool < integer < floating): then the 0-d tensors of that category decide, else the
    numbers, a float being the default dtype (so float32 * 2.5 and float32 + a 0-d float64 tensor stay
    float32, and int64 * 2.5 is the default dtype)."""
    dimensioned = zero_dim = number = None
    for x in operands:
        if isinstance(x, (bool, np.bool_)):
            number = _promote(number, bool_)
        elif isinstance(x, numbers.Integral):
            number = _promote(number, int64)
        elif isinstance(x, numbers.Real):
            number = _promote(number, get_default_dtype())
        elif x.ndim:
            dimensioned = _promote(dimensioned, x.dtype)
        else:
            zero_dim = _promote(zero_dim, x.dtype)
    return _combine(dimensioned, _combine(zero_dim, number))


def _promote(a: np.dtype | None, b: np.dtype) -> np.dtype:
    return b if a is None else promote_types(a, b)


def _combine(higher: np.dtype | None, lower: np.dtype | None) -> np.dtype | None:
    """`higher`'s dtype (a group of operands that takes precedence), unless `lower`'s is of a higher category."""
    if higher is None or lower is None:
        return lower if higher is None else higher
    if higher.kind == "f":
        return higher
    return promote_types(higher, lower) if higher.kind == "b" or lower.kind == "f" else higher
