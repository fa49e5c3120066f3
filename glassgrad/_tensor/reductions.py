"""Reductions over axes, as PyTorch's (`dim=`, `keepdim=`, or numpy's `axis=`, `keepdims=`): `sum`,
`mean`, `var`, `std`, `max`, `min`, `argmax`, `argmin`, `all`, `any`, and `softmax`/`log_softmax`
along an axis, each one node from its description in `glassgrad.ops.tensor_ops`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from glassgrad._tensor import tensor as core  # the class and its node makers, read when called
from glassgrad._tensor.arguments import _axes, _axis, _real
from glassgrad.ops.tensor_ops import LOG_SOFTMAX, MAX, MAX_DIM, MEAN, SOFTMAX, STD, SUM, VAR

if TYPE_CHECKING:
    from glassgrad._tensor.tensor import Tensor


class MaxMin(NamedTuple):
    """What `max(dim)` and `min(dim)` return, as PyTorch: the values and their indices (int64)."""

    values: Tensor
    indices: Tensor


class TopK(NamedTuple):
    """What `topk` returns: the k values and their indices (int64)."""

    values: Tensor
    indices: Tensor


def _reduction(dim: Any, keepdim: bool, axis: Any, keepdims: bool | None, ndim: int, who: str):
    """The axes (a tuple, or None for all) and keepdims of a reduction given PyTorch's or numpy's keywords."""
    if dim is not None and axis is not None:
        raise TypeError(f"{who}: give dim= (PyTorch) or axis= (numpy), not both")
    axes = _axes(axis if axis is not None else dim, ndim, who, reduction=True)
    return axes, bool(keepdim if keepdims is None else keepdims)


class Reductions:
    """`Tensor`'s reductions: PyTorch's dim=/keepdim= or numpy's axis=/keepdims=."""

    __slots__ = ()

    def all(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """Whether every element (along `dim`) is nonzero, as a bool Tensor."""
        return core._constant(np.asarray(self._data.all(axis=_axes(dim, self.ndim, "all"), keepdims=keepdim)))

    def any(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """Whether some element (along `dim`) is nonzero, as a bool Tensor."""
        return core._constant(np.asarray(self._data.any(axis=_axes(dim, self.ndim, "any"), keepdims=keepdim)))

    def sum(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: bool | None = None) -> Tensor:
        """The sum over `dim` (all axes when None)."""
        axis, keepdims = _reduction(dim, keepdim, axis, keepdims, self.ndim, "sum")
        x = self if self._data.dtype.kind == "f" else self.astype(np.int64)  # integers, bools: as int64 (PyTorch)
        return core._apply(SUM, (x,), axis, keepdims)

    def mean(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: bool | None = None) -> Tensor:
        """The sum over `dim` divided by the number of elements summed."""
        core._floating_only(self, "mean")
        axis, keepdims = _reduction(dim, keepdim, axis, keepdims, self.ndim, "mean")
        n = math.prod(self.shape[a] for a in (range(self.ndim) if axis is None else axis))
        return core._apply(MEAN, (self,), axis, keepdims, n)

    def var(
        self, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *, correction: float | None = None
    ) -> Tensor:
        """sum((x - mean)^2) / (n - correction) over `dim`: unbiased (correction 1, Bessel's) by default,
        as PyTorch; `unbiased=False` or `correction=0` divides by n."""
        return core._apply(VAR, (self,), *self._variance(dim, unbiased, keepdim, correction, "var"))

    def std(
        self, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *, correction: float | None = None
    ) -> Tensor:
        """The square root of `var` (unbiased by default, as PyTorch)."""
        return core._apply(STD, (self,), *self._variance(dim, unbiased, keepdim, correction, "std"))

    def _variance(self, dim: Any, unbiased: bool | None, keepdim: bool, correction: float | None, who: str) -> tuple:
        """The parameters of var and std: (axes, keepdim, n - correction)."""
        if unbiased is not None and correction is not None:
            raise ValueError(f"{who}: give unbiased= or correction=, not both")
        core._floating_only(self, who)
        c = correction if correction is not None else (0 if unbiased is False else 1)
        axis, keepdim = _reduction(dim, keepdim, None, None, self.ndim, who)
        n = math.prod(self.shape[a] for a in (range(self.ndim) if axis is None else axis))
        return axis, keepdim, float(max(n - _real(c, f"{who}: correction"), 0))

    def max(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: bool | None = None) -> Any:
        """The largest element; over one `dim`, PyTorch's (values, indices) pair; over numpy's `axis=`,
        the values. The gradient goes to the arg-max along one axis, and is shared evenly among ties
        for a reduction over all axes or a tuple of axes."""
        if dim is not None and axis is None:
            one = _axis(dim, self.ndim, "max")  # None for a 0-d tensor: its only element
            values = self.max(axis=one, keepdims=keepdim)
            return MaxMin(values, self.argmax(one, keepdim))
        one_axis = isinstance(axis, (int, np.integer))
        axis, keepdims = _reduction(None, keepdim, axis, keepdims, self.ndim, "max")
        if self._data.size == 0 and (axis is None or any(self.shape[a] == 0 for a in axis)):
            raise ValueError(f"max: the tensor of shape {tuple(self.shape)} is empty along the axes reduced; a "
                             "maximum needs at least one element")
        if one_axis and axis:  # PyTorch's max(dim): to the arg-max, which its derivative reads
            where = np.expand_dims(self._data.argmax(axis=axis[0]), axis[0])
            return core._apply(MAX_DIM, (self,), axis, keepdims, where)
        return core._apply(MAX, (self,), axis, keepdims)

    def min(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: bool | None = None) -> Any:
        """The smallest element: -max(-x), with max's conventions."""
        if dim is not None and axis is None:
            one = _axis(dim, self.ndim, "min")
            return MaxMin(-(-self).max(axis=one, keepdims=keepdim), self.argmin(one, keepdim))
        return -(-self).max(axis=axis, keepdims=keepdim if keepdims is None else keepdims)

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """The index of the largest element (of the flattened tensor when `dim` is None), int64."""
        return _arg(np.argmax, self, dim, keepdim, "argmax")

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """The index of the smallest element, int64."""
        return _arg(np.argmin, self, dim, keepdim, "argmin")

    def softmax(self, dim: int = -1, *, axis: int | None = None) -> Tensor:
        """e^x / sum(e^x) along `dim` (numpy's `axis=` too), computed as e^(x - max x) so that it cannot overflow."""
        core._floating_only(self, "softmax")
        axis = _axis(dim if axis is None else axis, self.ndim, "softmax")
        return core._apply(SOFTMAX, (self,), axis)

    def log_softmax(self, dim: int = -1, *, axis: int | None = None) -> Tensor:
        """x - log(sum(e^x)) along `dim` (numpy's `axis=` too), computed from x - max x so that it cannot overflow."""
        core._floating_only(self, "log_softmax")
        axis = _axis(dim if axis is None else axis, self.ndim, "log_softmax")
        return core._apply(LOG_SOFTMAX, (self,), axis)


def _arg(find: Any, a: Tensor, dim: int | None, keepdim: bool, who: str) -> Tensor:
    one = None if dim is None else _axis(dim, a.ndim, who)
    if a._data.size == 0 and (one is None or a.shape[one] == 0):
        raise ValueError(f"{who}: the tensor of shape {tuple(a.shape)} is empty along the axis searched")
    if one is None:  # over all elements (or the only element of a 0-d tensor)
        return core._constant(np.asarray(find(a._data), dtype=np.int64))
    return core._constant(np.asarray(find(a._data, axis=one, keepdims=keepdim), dtype=np.int64))
