"""A tensor as something else, in PyTorch's words: a Python number (`item`, `float(t)`, `int(t)`),
a numpy array or lists (`numpy`, `tolist`), another dtype (`astype`, `to`, `float`, `long`, ...)
and its device (always the CPU).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np

from glassgrad._tensor import tensor as core  # the class and its node makers, read when called
from glassgrad._tensor.arguments import _is_dtype
from glassgrad._tensor.devices import CPU, not_available, target_dtype
from glassgrad._tensor.devices import device as device_type
from glassgrad._tensor.dtypes import FLOATING, NAMES, SUPPORTED
from glassgrad.ops.tensor_elementwise import ASTYPE

if TYPE_CHECKING:
    from glassgrad._tensor.tensor import Tensor


class Conversions:
    """`Tensor` as something else: a Python number, a numpy array, another dtype, a device."""

    __slots__ = ()

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """np.asarray(tensor) is its data (not the rows one by one)."""
        if dtype is not None and np.dtype(dtype) != self.dtype:
            return np.asarray(self._data.astype(dtype))
        return np.array(self._data) if copy else np.asarray(self._data)  # (a 0-d result holds a numpy number)

    def __bool__(self) -> bool:
        """The truth of a one-element tensor; more elements are ambiguous (as PyTorch and numpy)."""
        if self._data.size != 1:
            raise RuntimeError(f"bool() of a tensor with {self._data.size} elements is ambiguous; use .any() or .all()")
        return bool(self._data)

    def item(self) -> float | int | bool:
        """The value of a one-element tensor as a Python number (int for int64, bool for bool)."""
        if self._data.size != 1:
            raise ValueError(f"item: only a one-element tensor has an item, this one has shape {tuple(self.shape)}")
        return self._data.reshape(()).item()

    def numpy(self) -> np.ndarray:
        """The data array itself (not a copy; a 0-d result's number as a 0-d array)."""
        return np.asarray(self._data)

    def tolist(self) -> Any:
        """The numbers as (nested) Python lists; a 0-d tensor's as one number."""
        return self._data.tolist()

    def astype(self, dtype: Any) -> Tensor:
        """The same numbers as `dtype` (float32, float64, int64, int32, uint8 or bool). Between floating dtypes the
        gradient is converted back; an integer or boolean result is a constant, as in PyTorch."""
        if dtype is None or not _is_dtype(dtype, SUPPORTED):
            raise TypeError(f"astype({dtype!r}): expected {NAMES}")
        dtype = np.dtype(dtype)
        if dtype == self.dtype:
            return self
        if dtype in FLOATING and self.dtype in FLOATING:
            return core._apply(ASTYPE, (self,), dtype)
        return core._constant(ASTYPE.on_arrays(dtype, self._data))

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """PyTorch's `to`: `to('cpu')`, `to(dtype)`, `to('cpu', dtype)`, `to(other)` (its dtype). Self when
        nothing changes (unless `copy=True`); any device but the CPU is an error (glassgrad runs on the CPU)."""
        dtype = target_dtype(args, kwargs, "to")
        out = self if dtype is None else self.astype(dtype)
        return out.clone() if kwargs.get("copy") and out is self else out

    def cpu(self) -> Tensor:
        """Self: a glassgrad tensor is always on the CPU."""
        return self

    def cuda(self, device: Any = None, non_blocking: bool = False) -> NoReturn:
        """An error: glassgrad has no GPU (the message says what to write instead)."""
        raise not_available("cuda")

    def pin_memory(self, device: Any = None) -> NoReturn:
        """An error, as PyTorch's without a GPU: pinned memory is for copies to a GPU."""
        raise not_available("pin_memory")

    def is_pinned(self, device: Any = None) -> bool:
        """False: a glassgrad tensor's memory is never pinned."""
        return False

    @property
    def device(self) -> device_type:
        """Where the numbers are: always `device(type='cpu')`."""
        return CPU

    is_cuda = False

    def float(self) -> Tensor:
        """As float32 (PyTorch's `float`)."""
        return self.astype(np.float32)

    def double(self) -> Tensor:
        """As float64."""
        return self.astype(np.float64)

    def long(self) -> Tensor:
        """As int64 (truncating toward zero), a constant."""
        return self.astype(np.int64)

    def int(self) -> Tensor:
        """As int32 (truncating toward zero), a constant."""
        return self.astype(np.int32)

    def byte(self) -> Tensor:
        """As uint8, a constant."""
        return self.astype(np.uint8)

    def bool(self) -> Tensor:
        """As bool: True where nonzero."""
        return self.astype(np.bool_)

    # A one-element tensor is a number.
    def __float__(self) -> float:
        return float(self._number("float"))

    def __int__(self) -> int:
        return int(self._number("int"))

    def __index__(self) -> int:
        if self.dtype.kind not in "iu":
            raise TypeError(f"only integer tensors of a single element can be used as an index, got {self.dtype}")
        return int(self._number("index"))

    def __format__(self, spec: str) -> str:
        if self._data.size == 1 and self.ndim == 0:
            return format(self.item(), spec)
        if spec:
            raise TypeError(f"format spec {spec!r} needs a one-element (0-d) tensor, got shape {tuple(self.shape)}")
        return str(self)

    def _number(self, who: str) -> Any:
        if self._data.size != 1:
            raise TypeError(
                f"{who}(): only a one-element tensor can be converted to a Python number, got shape {tuple(self.shape)}"
            )
        return self._data.reshape(()).item()
