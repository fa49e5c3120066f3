"""What a Tensor is made from and combined with: data turned into an array of a supported dtype
(`_as_array`), numbers, integers, axes and sizes checked (`_real`, `_bound`, `_integer`, `_axes`,
`_sizes`), and the broadcast shape of several inputs (`_broadcast_shape`), with the errors PyTorch gives.
"""

from __future__ import annotations

import numbers
import operator
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from glassgrad._tensor import tensor as core  # the class, read when called
from glassgrad._tensor.dtypes import FLOATING, NAMES, SUPPORTED
from glassgrad.autograd import data_of

if TYPE_CHECKING:
    from glassgrad._tensor.tensor import Tensor


_ACCEPTED = "real numbers (bool, int or float) as a number, nested lists, a numpy array or a Tensor"


def _is_dtype(dtype: Any, allowed: Any) -> bool:
    """Whether `dtype` names one of the `allowed` dtypes (anything numpy does not know as a dtype is not)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numpy's deprecated aliases ('a') warn
        try:
            return np.dtype(dtype) in allowed
        except (TypeError, ValueError):
            return False


def _as_array(data: Any, dtype: Any = None, floating: Any = np.float64) -> np.ndarray:
    """A fresh array of `data`: float32/float64 arrays kept, other real numbers made `floating`, unless
    `dtype` asks for one of the supported dtypes."""
    if isinstance(data, core.Tensor):
        data = data._data
    if dtype is not None and not _is_dtype(dtype, SUPPORTED):
        raise TypeError(f"Tensor(dtype={dtype!r}): expected {NAMES}")
    try:
        array = np.asarray(data)
    except (TypeError, ValueError, OverflowError) as error:
        raise TypeError(f"Tensor(data): got {type(data).__name__} ({error}); expected {_ACCEPTED}") from None
    if array.dtype.kind == "O" and all(isinstance(x, (numbers.Real, np.bool_)) for x in array.flat):
        try:  # numbers numpy keeps as Python objects: an integer too big for int64, mixed with others
            array = array.astype(np.float64)
        except OverflowError:
            raise ValueError(
                f"Tensor(data): an integer in {data!r:.60} does not fit a float64 (about ±1.8e308)"
            ) from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"Tensor(data): got {type(data).__name__} of dtype {array.dtype}; expected {_ACCEPTED}")
    if dtype is None:
        dtype = array.dtype if array.dtype in FLOATING and _numpy_floats(data) else floating
    return np.array(array, dtype=dtype)


def _numpy_floats(data: Any) -> bool:
    """True for numbers that come with a numpy float dtype of their own (an array, a numpy float)."""
    return isinstance(data, (np.ndarray, np.floating, core.Tensor))


def _real(x: Any, what: str) -> float:
    """A real number as a float; ValueError if it does not fit one, TypeError if it is no number."""
    if not isinstance(x, (numbers.Real, np.bool_)):
        raise TypeError(f"{what}: got {type(x).__name__}; expected a real number")
    try:
        return float(x)
    except OverflowError:
        raise ValueError(f"{what}: {x!r:.40} does not fit a float64 (about ±1.8e308)") from None


def _bound(x: Any, which: str) -> Any:
    """A bound of clamp: an integer (or bool) as it is, another number as a float, a Tensor or an array as
    its numbers."""
    if isinstance(x, (bool, np.bool_)) or isinstance(x, numbers.Integral) and -(2**63) <= int(x) < 2**63:
        return x
    if isinstance(x, numbers.Real):
        return _real(x, f"clamp: {which}")
    array = np.asarray(data_of(x))
    if array.dtype.kind not in "biuf":
        raise TypeError(f"clamp: {which}: got {type(x).__name__} of dtype {array.dtype}; expected a real number "
                        "or a real tensor")
    return array


def _integer(n: Any, what: str) -> int:
    """An int from a Python or numpy integer (not a bool or a float)."""
    if type(n) is int:  # the common case, without the abstract-class checks below
        return n
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (numbers.Integral, np.integer)):
        raise TypeError(f"{what} must be an integer, got {type(n).__name__} {n!r}")
    return operator.index(n)


def _axes(axis: Any, ndim: int, who: str, reduction: bool = False) -> tuple[int, ...] | None:
    """`axis` (None, an int or a sequence of ints) as a tuple of axes in [0, ndim); negative axes count
    from the end, as in PyTorch, and anything out of range is an IndexError naming the range."""
    if axis is None:
        return None
    if type(axis) is int and -ndim <= axis < ndim:  # the common case, one axis in range
        return (axis % ndim,)
    many = isinstance(axis, (tuple, list))
    if many and not axis and reduction:  # PyTorch reduces over every axis, numpy over none: say which is meant
        raise ValueError(f"{who}: an empty tuple of axes is ambiguous; use axis=None for all axes")
    result = []
    span = max(ndim, 1)
    for a in axis if many else (axis,):
        if type(a) is not int:
            a = _integer(a, f"{who}: an axis")
        if not -span <= a < span:
            raise IndexError(
                f"{who}: axis {a} is out of range for a tensor with {ndim} dimensions "
                f"(expected an axis in [{-span}, {span - 1}])"
            )
        result.append(a % ndim if ndim else 0)
    if len(set(result)) != len(result):
        raise ValueError(f"{who}: axis {axis} repeats an axis")
    return tuple(result) if ndim else ()  # a 0-d tensor takes axis 0 or -1 and reduces over nothing


def _axis(axis: Any, ndim: int, who: str) -> int | None:
    """One axis (softmax, log_softmax, dim= of max, ...) in [0, ndim), as `_axes`; None for a 0-d tensor,
    which takes axis 0 or -1 as PyTorch does (its only element)."""
    if axis is None or isinstance(axis, (tuple, list)):
        raise TypeError(f"{who}: axis must be one integer, got {axis!r}")
    axes = _axes(axis, ndim, who)
    return axes[0] if axes else None


def _sizes(shape: tuple, who: str) -> tuple[int, ...]:
    """A shape given as sizes or as one sequence of sizes: ints (Python or numpy), as a tuple."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(_integer(n, f"{who}: a size") for n in shape)


def _is_number(x: Tensor) -> bool:
    """A 0-d constant: numpy broadcasts it against anything, and it needs no gradient."""
    return x.ndim == 0 and not x.requires_grad


def _broadcast(x: Tensor, shape: tuple[int, ...]) -> Tensor:
    return x if x.shape == shape else x.broadcast_to(shape)


def _broadcast_shape(shapes: list[tuple[int, ...]], op: str) -> tuple[int, ...]:
    """The shape numpy broadcasting gives `shapes` (ValueError naming them if it gives none)."""
    ndim = max(len(s) for s in shapes)
    result = []
    for axis in range(-ndim, 0):
        n = 1
        for s in shapes:
            m = s[axis] if len(s) >= -axis else 1
            if m != 1 and m != n:
                if n != 1:
                    named = " and ".join(str(tuple(s)) for s in shapes)
                    raise ValueError(f"{op}: shapes {named} do not match (cannot broadcast)")
                n = m
        result.append(n)
    return tuple(result)
