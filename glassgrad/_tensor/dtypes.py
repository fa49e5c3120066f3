"""Data types under PyTorch's names: `glassgrad.float32`, `glassgrad.int32`, `glassgrad.long`, `glassgrad.bool`, ...

Each is a `glassgrad.dtype` that reads as PyTorch's does (`repr(glassgrad.float32)` is
`glassgrad.float32`) and stands for one numpy dtype: it equals it (`t.dtype == np.float32`), hashes
as it, and numpy takes it wherever a dtype goes (`np.zeros(3, glassgrad.float32)`, through its
`dtype` attribute), so numpy's `dtype=np.float64` is accepted wherever a glassgrad dtype is too.
The default floating dtype is float32, PyTorch's; the aliases PyTorch has (`float`, `double`,
`long`, `int`) are given by `glassgrad/__init__.py`, so this module does not shadow Python's names.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class dtype:  # noqa: N801 - PyTorch's name
    """A tensor's element type, as `torch.dtype`: `glassgrad.float32`, `glassgrad.int64`, ..."""

    __slots__ = ("dtype", "_name")

    def __init__(self, numpy_dtype: Any, name: str) -> None:
        self.dtype = np.dtype(numpy_dtype)  # the numpy dtype; numpy reads this attribute
        self._name = name

    @property
    def is_floating_point(self) -> bool:
        """True for float32 and float64."""
        return self.dtype.kind == "f"

    @property
    def is_signed(self) -> bool:
        """True unless the type is unsigned (uint8, bool)."""
        return self.dtype.kind in "fi"

    @property
    def itemsize(self) -> int:
        """Bytes per element."""
        return self.dtype.itemsize

    def __getattr__(self, name: str) -> Any:
        """numpy's attributes (`kind`, `name`, `char`, ...) for code that treats it as numpy's dtype."""
        if name.startswith("_") or name == "dtype":  # not yet set (a copy being made)
            raise AttributeError(name)
        return getattr(self.dtype, name)

    def __repr__(self) -> str:
        return f"glassgrad.{self._name}"

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, dtype):
            return self.dtype == other.dtype
        if other is None:  # np.dtype(None) is float64
            return False
        try:
            return self.dtype == np.dtype(other)
        except (TypeError, ValueError):
            return NotImplemented

    def __hash__(self) -> int:
        return hash(self.dtype)


float32 = dtype(np.float32, "float32")
float64 = dtype(np.float64, "float64")
int64 = dtype(np.int64, "int64")
int32 = dtype(np.int32, "int32")
uint8 = dtype(np.uint8, "uint8")
bool_ = dtype(np.bool_, "bool")

SUPPORTED = (float32, float64, int64, int32, uint8, bool_)
FLOATING = (float32, float64)
NAMES = "glassgrad.float32, float64, int64, int32, uint8 or bool"  # for error messages
_BY_NUMPY = {d.dtype: d for d in SUPPORTED}

_default = [float32]  # the default floating dtype, PyTorch's


def public(numpy_dtype: np.dtype) -> dtype | np.dtype:
    """The glassgrad dtype of an array's numpy dtype (numpy's own for a type glassgrad does not name)."""
    return _BY_NUMPY.get(numpy_dtype, numpy_dtype)


def to_dtype(dtype: Any, where: str) -> np.dtype:
    """`dtype` as one of the supported numpy dtypes; Python's float, int and bool as PyTorch reads them."""
    python = {float: float64, int: int64, bool: bool_}
    if isinstance(dtype, type) and dtype in python:
        return python[dtype].dtype
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        resolved = None
    if dtype is None or resolved is None or resolved not in _BY_NUMPY:  # np.dtype(None) is float64
        raise TypeError(f"{where}: dtype={dtype!r} is not supported; expected {NAMES}")
    return resolved


def get_default_dtype() -> dtype:
    """The dtype of floating tensors made from Python numbers: float32 unless `set_default_dtype` changed it."""
    return _default[0]


def set_default_dtype(dtype: Any) -> None:
    """Make `dtype` (float32 or float64) the dtype of new floating tensors, as `torch.set_default_dtype`."""
    resolved = to_dtype(dtype, "set_default_dtype")
    if resolved not in FLOATING:
        raise TypeError(f"set_default_dtype: only floating dtypes can be the default, got {public(resolved)}")
    _default[0] = public(resolved)


def check_requires_grad(dtype: Any, requires_grad: bool, where: str) -> None:
    """RuntimeError, as PyTorch's, if a tensor of `dtype` is to require a gradient but is not floating:
    the one check every constructor and `requires_grad_` make."""
    if requires_grad and dtype not in FLOATING:
        raise RuntimeError(
            f"{where}: only floating tensors can require gradients, got dtype {np.dtype(dtype).name}; "
            "pass dtype=glassgrad.float32 or float64 (or call .float())"
        )
