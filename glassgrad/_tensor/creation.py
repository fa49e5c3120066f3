"""Making tensors as PyTorch does: `tensor`, `zeros`, `ones`, `full`, `arange`, `linspace`, `empty`, `*_like`.

A size is given as numbers or as one tuple (`zeros(3, 4)` or `zeros((3, 4))`). Without `dtype=`,
Python integers give int64, booleans bool and floats the default dtype (`get_default_dtype()`,
float64 in glassgrad); a numpy array or a Tensor keeps its dtype.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from glassgrad._tensor.devices import on_cpu
from glassgrad._tensor.dtypes import FLOATING, check_requires_grad, get_default_dtype, int64, to_dtype
from glassgrad._tensor.tensor import Tensor, _constant


def size_of(args: tuple, where: str) -> tuple[int, ...]:
    """The shape that `args` (numbers, or one tuple/list/torch-like Size) spell; ValueError if none."""
    if len(args) == 1 and type(args[0]) is not int and not isinstance(args[0], numbers.Integral):
        args = tuple(args[0]) if isinstance(args[0], (tuple, list)) else args
    for n in args:
        if type(n) is not int or n < 0:  # (the common case costs no abstract-class check)
            break
    else:
        return tuple(args)
    if not all(isinstance(n, numbers.Integral) and not isinstance(n, bool) and n >= 0 for n in args):
        raise ValueError(f"{where}: a size is non-negative integers, e.g. (3, 4); got {args!r}")
    return tuple(int(n) for n in args)


def wrap(array: np.ndarray, requires_grad: bool = False, where: str = "tensor") -> Tensor:
    """A leaf Tensor holding `array` itself (no copy); only a floating one may require a gradient."""
    check_requires_grad(array.dtype, requires_grad, where)
    out = _constant(array)
    out.requires_grad = bool(requires_grad)
    return out


def _inferred_dtype(array: np.ndarray, data: Any) -> np.dtype:
    if array.dtype.kind == "b":
        return array.dtype
    if array.dtype.kind in "iu":
        return int64
    if array.dtype.kind == "f":
        from_numpy = isinstance(data, (np.ndarray, Tensor, np.floating))
        return array.dtype if from_numpy and array.dtype in FLOATING else get_default_dtype()
    raise TypeError(
        f"tensor: got {type(data).__name__} of dtype {array.dtype}; expected numbers, nested lists of numbers, "
        "a numpy array or a Tensor"
    )


def tensor(data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A new leaf Tensor with a copy of `data` (a number, nested lists, a numpy array or a Tensor)."""
    on_cpu(device, "tensor")
    try:
        array = np.array(data._data if isinstance(data, Tensor) else data)
    except (TypeError, ValueError) as error:
        raise TypeError(f"tensor: cannot make a tensor of {type(data).__name__} ({error})") from None
    target = _inferred_dtype(array, data) if dtype is None else to_dtype(dtype, "tensor")
    return wrap(array.astype(target, copy=False), requires_grad)


def _filled(where: str, size: tuple, value: Any, dtype: Any, requires_grad: bool, device: Any = None) -> Tensor:
    on_cpu(device, where)
    shape = size_of(size, where)
    if dtype is None:
        dtype = get_default_dtype() if not isinstance(value, numbers.Integral) else np.array(value).dtype
        dtype = int64 if np.dtype(dtype).kind in "iu" else dtype
    return wrap(np.full(shape, value, dtype=to_dtype(dtype, where)), requires_grad, where)


def zeros(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros of `size` (floating unless `dtype` says otherwise)."""
    return _filled("zeros", size, 0.0, dtype, requires_grad, device)


def ones(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones of `size`."""
    return _filled("ones", size, 1.0, dtype, requires_grad, device)


def empty(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of `size` whose values are not set (glassgrad fills it with zeros)."""
    return _filled("empty", size, 0.0, dtype, requires_grad, device)


def full(size: Any, fill_value: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of `size` filled with `fill_value`; its dtype follows the value (int64, bool or floating)."""
    return _filled("full", (size,), fill_value, dtype, requires_grad, device)


def _like(where: str, other: Tensor, value: Any, dtype: Any, requires_grad: bool, device: Any) -> Tensor:
    if not isinstance(other, Tensor):
        raise TypeError(f"{where}: expected a Tensor, got {type(other).__name__}")
    return _filled(where, other.shape, value, other.dtype if dtype is None else dtype, requires_grad, device)


def zeros_like(input: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros of `input`'s shape and dtype."""
    return _like("zeros_like", input, 0, dtype, requires_grad, device)


def ones_like(input: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones of `input`'s shape and dtype."""
    return _like("ones_like", input, 1, dtype, requires_grad, device)


def empty_like(input: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of `input`'s shape and dtype, values not set (zeros)."""
    return _like("empty_like", input, 0, dtype, requires_grad, device)


def full_like(
    input: Tensor, fill_value: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """`fill_value` in `input`'s shape and dtype."""
    return _like("full_like", input, fill_value, dtype, requires_grad, device)


def arange(
    start: float,
    end: float | None = None,
    step: float = 1,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """start, start + step, ... up to but excluding `end` (`arange(n)` is 0 .. n-1); int64 when all are integers."""
    on_cpu(device, "arange")
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    integral = all(isinstance(v, numbers.Integral) for v in (start, end, step))
    target = (int64 if integral else get_default_dtype()) if dtype is None else to_dtype(dtype, "arange")
    return wrap(np.arange(start, end, step).astype(target), requires_grad, "arange")


def linspace(
    start: float, end: float, steps: int, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """`steps` evenly spaced numbers from `start` to `end`, both included."""
    on_cpu(device, "linspace")
    if not isinstance(steps, numbers.Integral) or steps < 0:
        raise ValueError(f"linspace: steps must be a non-negative integer, got {steps!r}")
    target = get_default_dtype() if dtype is None else to_dtype(dtype, "linspace")
    return wrap(np.linspace(start, end, steps).astype(target), requires_grad, "linspace")


def eye(
    n: int, m: int | None = None, *, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """The n x m identity matrix (m = n by default): ones on the diagonal, zeros elsewhere."""
    on_cpu(device, "eye")
    rows, columns = size_of((n,) if m is None else (n, m), "eye") * (2 if m is None else 1)
    target = get_default_dtype() if dtype is None else to_dtype(dtype, "eye")
    return wrap(np.eye(rows, columns, dtype=target), requires_grad, "eye")


def from_numpy(array: np.ndarray) -> Tensor:
    """A Tensor sharing `array`'s numbers (no copy: changing one changes the other), of its dtype."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy array, got {type(array).__name__}")
    to_dtype(array.dtype, "from_numpy")
    return wrap(array)
