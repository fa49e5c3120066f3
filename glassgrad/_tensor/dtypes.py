"""Data types under PyTorch's names: `glassgrad.float64`, `glassgrad.long`, `glassgrad.bool`, ...

They are numpy's dtype objects themselves, so `t.dtype == glassgrad.float64` holds and numpy's
`dtype=np.float64` is accepted wherever a glassgrad dtype is. The aliases PyTorch has (`float`,
`double`, `long`) are given by `glassgrad/__init__.py`, so this module does not shadow Python's
`float` and `bool`.
"""

from __future__ import annotations

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
