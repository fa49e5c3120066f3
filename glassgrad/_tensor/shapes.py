"""A tensor's shape and its views: `size`, `reshape`, `view`, `flatten`, `permute`, `transpose`,
`squeeze`, `broadcast_to`, and indexing (`t[i]`, masks, lists of indices, and what `t[i] = v`
records), each one node from its description in `glassgrad.ops.tensor_ops`.
"""

from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING, Any

import numpy as np

from glassgrad._tensor import tensor as core  # the class and its node makers, read when called
from glassgrad._tensor.arguments import _axes, _axis, _sizes
from glassgrad._tensor.printing import Size
from glassgrad.autograd import data_of
from glassgrad.ops.tensor_shapes import EXPAND, INDEX, INDEX_PUT, PERMUTE, RESHAPE, Split, at, torch_index

if TYPE_CHECKING:
    from glassgrad._tensor.tensor import Tensor


class Shapes:
    """`Tensor`'s shape and shape operations, and indexing."""

    __slots__ = ()

    # The shape, in PyTorch's words.
    def size(self, dim: int | None = None) -> Size | int:
        """The shape (a `glassgrad.Size`), or the length of axis `dim`."""
        if dim is None:
            return self.shape
        one = _axis(dim, self.ndim, "size")
        if one is None:
            raise IndexError(f"size: a 0-d tensor has no dimension {dim}")
        return self.shape[one]

    def dim(self) -> int:
        """The number of axes."""
        return self.ndim

    def numel(self) -> int:
        """The number of elements."""
        return self._data.size

    nelement = numel

    def unbind(self, dim: int = 0) -> tuple[Tensor, ...]:
        """The slices along `dim`, each without that dimension (indexing: gradients flow back)."""
        axis = _axis(dim, self.ndim, "unbind")
        return tuple(self[(slice(None),) * axis + (i,)] for i in range(self.shape[axis]))

    # Shape operations: they move numbers around, so their gradient moves them back.
    def reshape(self, *shape: Any) -> Tensor:
        """The same numbers in a new shape (one dimension may be -1)."""
        shape = _sizes(shape, "reshape")
        if any(n < -1 for n in shape) or shape.count(-1) > 1:
            raise ValueError(f"reshape: invalid shape {shape}: sizes are >= 0, and at most one is -1 (inferred)")
        try:
            return core._apply(RESHAPE, (self,), shape)
        except ValueError:
            raise ValueError(f"reshape: cannot reshape a tensor of shape {tuple(self.shape)} into {shape}") from None

    def view(self, *shape: Any) -> Tensor:
        """The same numbers in a new shape (one dimension may be -1): `reshape` (glassgrad always copies
        as needed, so no view fails for want of contiguity)."""
        return self.reshape(*shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Axes start_dim .. end_dim merged into one."""
        if self.ndim == 0:
            return self.reshape(1)
        (start,), (end,) = _axes(start_dim, self.ndim, "flatten"), _axes(end_dim, self.ndim, "flatten")
        if start > end:
            raise ValueError(
                f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {tuple(self.shape)}"
            )
        merged = math.prod(self.shape[start : end + 1])  # not -1: it cannot be inferred when a size is 0
        return self.reshape(self.shape[:start] + (merged,) + self.shape[end + 1 :])

    def squeeze(self, dim: Any = None) -> Tensor:
        """Axes of length 1 removed (only those of `dim`, an axis or a tuple of them, that have length 1)."""
        if dim is None:
            return self.reshape(tuple(n for n in self.shape if n != 1))
        axes = _axes(dim, self.ndim, "squeeze") or ()
        return self.reshape(tuple(n for i, n in enumerate(self.shape) if n != 1 or i not in axes))

    def unsqueeze(self, dim: int) -> Tensor:
        """A new axis of length 1 at `dim` (counted in the result: -1 appends)."""
        (one,) = _axes(dim, self.ndim + 1, "unsqueeze")
        return self.reshape(self.shape[:one] + (1,) + self.shape[one:])

    def permute(self, *dims: Any) -> Tensor:
        """The axes in the order `dims` (a permutation of all of them)."""
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        if len(dims) != self.ndim:
            raise ValueError(
                f"permute: {len(dims)} dims {dims} for a tensor of {self.ndim} dimensions {tuple(self.shape)}"
            )
        axes = _axes(dims, self.ndim, "permute")
        return core._apply(PERMUTE, (self,), axes)

    def transpose(self, *axes: int) -> Tensor:
        """PyTorch's `transpose(dim0, dim1)`: those two axes swapped. Also numpy's: all axes reversed
        when none are given, or permuted by a full permutation (`transpose(1, 0, 2)`)."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        if not axes:
            return self.permute(tuple(reversed(range(self.ndim))))
        if len(axes) == 2 and not isinstance(axes[0], (tuple, list)) and not isinstance(axes[1], (tuple, list)):
            d0, d1 = (_axis(a, self.ndim, "transpose") for a in axes)  # each in range: none taken modulo ndim
            if d0 is None:  # a 0-d tensor: transpose(0, 0) or (-1, 0), as PyTorch
                return self.permute(())
            order = list(range(self.ndim))
            order[d0], order[d1] = order[d1], order[d0]
            return self.permute(order)
        if sorted(_axes(axes, self.ndim, "transpose")) != list(range(self.ndim)):
            raise ValueError(
                f"transpose: axes {axes} are not a permutation of the {self.ndim} axes of {tuple(self.shape)}"
            )
        return self.permute(axes)

    @property
    def T(self) -> Tensor:
        """All axes reversed."""
        return self.transpose()

    def t(self) -> Tensor:
        """PyTorch's `t()`: a matrix transposed; a vector or a number as it is. Refused for more axes."""
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
        return self.transpose()

    def ravel(self) -> Tensor:
        """The numbers as one axis, in order (`reshape(-1)`)."""
        return self.reshape(-1)

    @property
    def mT(self) -> Tensor:
        """The last two axes swapped: the transpose of each matrix in a batch."""
        if self.ndim < 2:
            raise ValueError(f"mT: needs at least 2 dimensions, got shape {tuple(self.shape)}")
        return self.transpose(-2, -1)

    def broadcast_to(self, shape: tuple[int, ...]) -> Tensor:
        """The tensor repeated along new or size-1 axes to `shape` (numpy broadcasting)."""
        shape = _sizes((shape,), "broadcast_to")
        try:
            return core._apply(EXPAND, (self,), shape)
        except ValueError:
            raise ValueError(f"broadcast_to: cannot broadcast shape {tuple(self.shape)} to {tuple(shape)}") from None

    def __getitem__(self, index: Any) -> Tensor:
        """Indexing as numpy and PyTorch: integers, slices, integer arrays (a row may be picked many
        times) and boolean masks."""
        index = _as_index(index)
        try:
            return core._apply(INDEX, (self,), index)
        except IndexError as error:
            raise IndexError(f"index: {error} (tensor of shape {tuple(self.shape)})") from None


def _as_index(index: Any) -> Any:
    """PyTorch's index as numpy's (see `tensor_shapes.torch_index`): integer Tensors, lists and arrays pick
    elements, boolean ones mask, a 0-d integer Tensor is an integer; a float index is refused (as
    PyTorch), never rounded, and so is a list of lists, which PyTorch reads as a tuple and numpy as an array."""
    if isinstance(index, Split):  # already converted (a derivative rule indexing a gradient)
        return index
    if type(index) is core.Tensor and index._data.ndim == 0 and index._data.dtype.kind in "iu":
        index = int(index._data)
    if type(index) is int:
        return (index, Ellipsis)  # torch_index's, in short
    if type(index) is tuple:
        for i in index:
            if type(i) is not int and type(i) is not slice:
                break
        else:
            return (*index, Ellipsis)
    return torch_index(tuple(_index_part(i) for i in (index if isinstance(index, tuple) else (index,))))


def _index_part(part: Any) -> Any:
    """One part of an index (in a tuple) in numpy's terms."""
    if isinstance(part, list):
        if not all(isinstance(i, (numbers.Integral, np.bool_)) for i in part):
            raise IndexError(
                f"a list used as an index must hold integers or bools, got {part!r:.60}; for several "
                "dimensions write x[a, b] (a tuple), for an index array x[tensor(seq)]"
            )
        part = np.asarray(part, dtype=np.intp if not part else None)
    if isinstance(part, (core.Tensor, np.ndarray, range)):
        array = np.asarray(data_of(part))
        if array.dtype.kind == "b":
            return bool(array) if array.ndim == 0 else array
        if array.dtype.kind not in "iu":
            raise IndexError(f"tensors used as indices must be integer or boolean, got {array.dtype}")
        return int(array) if array.ndim == 0 else array.astype(np.intp)
    if isinstance(part, (float, np.floating)):
        raise IndexError(f"only integers, slices, ellipsis, None and integer or boolean tensors are valid "
                         f"indices, got float {part!r}")
    return part


def _index_put(x: Tensor, index: Any, value: Any) -> Tensor:
    """x with `value` written at `index`, as a new node (what `t[index] = value` records)."""
    v = core._operand(value, x)
    if v.dtype != x.dtype and v.requires_grad:
        v = v.astype(x.dtype)
    try:
        return core._apply(INDEX_PUT, (x, v), index)
    except IndexError as error:
        raise IndexError(f"setitem: {error} (tensor of shape {tuple(x.shape)})") from None
    except ValueError:
        raise ValueError(
            f"setitem: a value of shape {tuple(v.shape)} cannot be written to the indexed elements "
            f"of shape {np.shape(at(x._data, index))} (tensor of shape {tuple(x.shape)})"
        ) from None
