"""The Tensor's methods made from the registry (`glassgrad.ops.OPS`), and the ones made of other operations.

Importing this module (`glassgrad.tensor` does, last) gives `Tensor` every method the registry
names. An elementwise operation's (kind "unary", "binary" or "compare") method, operator,
in-place variant and numpy dispatch are made here from its description; every other method is
written by hand, checking its arguments as PyTorch does: in the `Tensor` class, or below when it
is made of other operations (`topk` of indexing, `expand` of broadcasting, ...).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from glassgrad import ops
from glassgrad._tensor.arguments import _axes, _axis, _integer, _sizes
from glassgrad._tensor.dtypes import result_type
from glassgrad._tensor.functional import _compare, cat, stack, where
from glassgrad._tensor.reductions import TopK, _reduction
from glassgrad._tensor.shapes import _index_put
from glassgrad._tensor.tensor import _UFUNC_OPERATORS, Tensor, _apply, _binary, _constant, _operand, _reflected, _unary
from glassgrad.autograd import Node, data_of
from glassgrad.ops import Op
from glassgrad.ops.scans import CUMSUM, NORM, PROD

__all__ = ["cat", "stack", "where"]  # the functions of several tensors: `glassgrad.cat`, ...


def _unary_method(op: Op) -> Callable[[Tensor], Tensor]:
    if op.derivative is None:  # no gradient: a constant
        forward = op.on_arrays

        def method(self: Tensor) -> Tensor:
            return _constant(np.asarray(forward(self._data)))
    else:

        def method(self: Tensor) -> Tensor:
            return _unary(op, self)

    return method


def _binary_method(op: Op, reflected: bool = False) -> Callable[[Tensor, Any], Tensor]:
    """`self op other` (`other op self` when `reflected`: `2 * t` calls `t.__rmul__(2)`)."""
    if op.derivative is None:  # no gradient: a constant
        forward, name = op.on_arrays, op.name
        if reflected:
            return lambda self, other: _compare(forward, _operand(other, self), self, name)
        return lambda self, other: _compare(forward, self, other, name)
    if reflected:
        return lambda self, other: _reflected(op, self, other)
    return lambda self, other: _binary(op, self, other)


def _with_alpha(plain: Callable[[Tensor, Any], Tensor], scaled: Op) -> Callable[..., Tensor]:
    """PyTorch's `add(other, *, alpha=1)` and `sub(other, *, alpha=1)`: self ± alpha·other, in one rounding."""

    def method(self: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
        if type(alpha) is int and alpha == 1:
            return plain(self, other)
        if not isinstance(alpha, (numbers.Real, np.bool_)):
            raise TypeError(f"{scaled.backward[:3].lower()}(): argument 'alpha' must be a number, "
                            f"not {type(alpha).__name__}")
        other = _operand(other, self)
        dtype = result_type(self, other)
        if isinstance(alpha, (bool, np.bool_)) != (dtype == np.bool_):
            if dtype != np.bool_:
                raise RuntimeError("Boolean alpha only supported for Boolean results.")
            raise RuntimeError(f"{scaled.backward[:3].lower()}: the alpha of bool tensors must be a bool, "
                               f"got {alpha!r}")
        if dtype.kind in "biu" and not isinstance(alpha, numbers.Integral):
            raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")
        if dtype == np.bool_:
            return plain(self, other & bool(alpha))  # a + alpha·b of bools: a or (alpha and b)
        return _binary(scaled, self, other, float(alpha))

    return method


def _in_place(method: str) -> Callable[..., Tensor]:
    """`t.<method>_(...)`: self changed in place to `t.<method>(...)`, with PyTorch's rules (`Tensor._inplace`)."""
    compute = getattr(Tensor, method)

    def change(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        k = next((i for i, a in enumerate(args) if isinstance(a, Tensor)), None)  # the operand `_inplace` watches
        if k is None:
            return self._inplace(f"{method}_", lambda x, _: compute(x, *args, **kwargs))
        return self._inplace(
            f"{method}_", lambda x, other: compute(x, *args[:k], other, *args[k + 1 :], **kwargs), args[k]
        )

    return change


def _named(function: Callable[..., Any], name: str, doc: str) -> Callable[..., Any]:
    function.__name__ = function.__qualname__ = name
    function.__doc__ = doc or function.__doc__
    return function


_SCALED = {"add": ops.tensor_elementwise.ADD_SCALED, "sub": ops.tensor_elementwise.SUB_SCALED}  # take `alpha`
_WRITTEN_IN = Tensor.__mro__[: Tensor.__mro__.index(Node)]  # the class and its parts (shapes, reductions, ...)


def _install(op: Op) -> None:
    """Give `Tensor` the methods `op`'s entry names: made from its description when elementwise,
    else the hand-written ones (the class's own, or this module's function of that name)."""
    made: dict[str, Callable[..., Any]] = {}
    if op.kind == "unary":
        made[op.method] = _unary_method(op)
        if op.dunder:
            made[f"__{op.dunder}__"] = _unary_method(op)
    elif op.kind in ("binary", "compare"):
        made[op.method] = _binary_method(op)
        if op.method in _SCALED:
            made[op.method] = _with_alpha(made[op.method], _SCALED[op.method])
        if op.dunder:
            made[f"__{op.dunder}__"] = _binary_method(op)
            if op.kind == "binary":
                made[f"__r{op.dunder}__"] = _binary_method(op, reflected=True)
    elif op.method and not any(op.method in vars(part) for part in _WRITTEN_IN):
        made[op.method] = globals()[op.method]  # KeyError at import: a registered method nobody wrote
    for name, method in made.items():
        setattr(Tensor, name, _named(method, name, op.doc))
    for alias in op.aliases:
        setattr(Tensor, alias, getattr(Tensor, op.method))
    if op.inplace:
        setattr(Tensor, f"{op.method}_", _named(_in_place(op.method), f"{op.method}_", f"`{op.method}`, in place."))
    if op.ufunc:
        _UFUNC_OPERATORS[getattr(np, op.ufunc)] = getattr(Tensor, f"__{op.dunder}__" if op.dunder else op.method)


# Methods made of other operations (their nodes are theirs).
def matmul(self: Tensor, other: Any) -> Tensor:
    """The matrix product self @ other (batched and broadcast as numpy's and PyTorch's)."""
    return self @ other


def expand(self: Tensor, *sizes: Any) -> Tensor:
    """self repeated along new leading axes or axes of length 1 to `sizes`, without copying (PyTorch's
    `expand`); -1 keeps an axis's length."""
    shape = _sizes(sizes, "expand")
    if len(shape) < self.ndim:
        raise ValueError(f"expand: {len(shape)} sizes {shape} for a tensor of {self.ndim} dimensions {self.shape}")
    lead = len(shape) - self.ndim
    if any(n == -1 for n in shape[:lead]):
        raise ValueError(f"expand: -1 is not allowed for a new leading dimension, got sizes {shape}")
    return self.broadcast_to(tuple(self.shape[i - lead] if n == -1 else n for i, n in enumerate(shape)))


def isclose(self: Tensor, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:
    """|self - other| <= atol + rtol |other|, elementwise, as a bool Tensor."""
    return _constant(np.asarray(np.isclose(self._data, data_of(other), rtol=rtol, atol=atol, equal_nan=equal_nan)))


def allclose(self: Tensor, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    """Whether `isclose` holds everywhere."""
    return bool(np.allclose(self._data, data_of(other), rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(self: Tensor, other: Any) -> bool:
    """Whether the two have the same shape and the same elements."""
    return bool(np.array_equal(self._data, data_of(other)))


class Sorted(NamedTuple):
    """What `sort` returns, as PyTorch: the values in order and their indices (int64)."""

    values: Tensor
    indices: Tensor


class Histogram(NamedTuple):
    """What `histogram` returns, as PyTorch: the counts (or densities) and the bins' edges."""

    hist: Tensor
    bin_edges: Tensor


def _along(self: Tensor, axis: int, index: np.ndarray) -> Tensor:
    """self indexed by `index` (an int array of self's rank) along `axis`, the other axes as they are:
    `take_along_axis` as indexing, so that gradients flow back (added where an element is taken twice)."""
    where = list(np.indices(index.shape, sparse=True))
    where[axis] = index
    return self[tuple(where)]


def _order(x: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """The indices that sort x along `axis` (stably), NaN counting as larger than any number, as PyTorch."""
    x = x.astype(np.int64) if x.dtype.kind == "b" else x
    nan = np.isnan(x) if x.dtype.kind == "f" else np.zeros(x.shape, dtype=bool)
    by_value = np.argsort(np.where(nan, 0, -x if descending else x), axis=axis, kind="stable")
    nan_last = np.take_along_axis(~nan if descending else nan, by_value, axis=axis)
    return np.take_along_axis(by_value, np.argsort(nan_last, axis=axis, kind="stable"), axis=axis)


def sort(self: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Sorted:
    """The elements along `dim` in order (NaN last, or first when `descending`), and their indices;
    ties keep their order."""
    if self.ndim == 0:
        return Sorted(self.clone(), _constant(np.zeros((), dtype=np.int64)))
    one = _axis(dim, self.ndim, "sort")
    order = _order(self._data, one, bool(descending))
    return Sorted(_along(self, one, order), _constant(order.astype(np.int64)))


def topk(self: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> TopK:
    """The `k` largest (or smallest) elements along `dim`, in order, and their indices."""
    if self.ndim == 0:  # its only element, as PyTorch
        values, indices = self.reshape(1).topk(k, 0, largest, sorted)
        return TopK(values.reshape(()), indices.reshape(())) if k == 1 else TopK(values, indices)
    one = _axis(dim, self.ndim, "topk")
    if not 0 <= _integer(k, "topk: k") <= self.shape[one]:
        raise ValueError(f"topk: k={k} is out of range for dimension {one} of size {self.shape[one]}")
    indices = np.take(_order(self._data, one, bool(largest)), np.arange(k), axis=one)
    return TopK(_along(self, one, indices), _constant(indices.astype(np.int64)))


def gather(self: Tensor, dim: int, index: Any) -> Tensor:
    """out[i][j] = self[index[i][j]][j] for dim 0 (and so on): the elements `index` picks along `dim`."""
    picks = np.asarray(data_of(index))
    if picks.dtype.kind not in "iu":
        raise TypeError(f"gather: the index must be an integer (int64) tensor, got {picks.dtype}")
    one = _axis(dim, max(self.ndim, 1), "gather") or 0
    if picks.ndim != max(self.ndim, 1) and not (picks.ndim == 0 and self.ndim == 0):
        raise ValueError(f"gather: the index has {picks.ndim} dimensions, the tensor {self.ndim}; they must be equal")
    source = self.reshape(1) if self.ndim == 0 else self
    picks = picks.reshape(source.ndim * (1,)) if picks.ndim == 0 else picks
    for d, (n, m) in enumerate(zip(picks.shape, source.shape)):
        if d != one and n > m:
            raise ValueError(f"gather: an index of shape {picks.shape} is larger than the tensor's {self.shape} "
                             f"in dimension {d} (only dimension {one} may differ)")
    if picks.size and (picks.min() < 0 or picks.max() >= source.shape[one]):
        bad = picks.min() if picks.min() < 0 else picks.max()
        raise IndexError(f"gather: index {bad} is out of bounds for dimension {one} with size {source.shape[one]}")
    out = _along(source, one, picks.astype(np.intp))
    return out.reshape(()) if self.ndim == 0 else out


def _shifts(values: Any, who: str) -> tuple[int, ...]:
    many = values if isinstance(values, (tuple, list)) else (values,)
    return tuple(_integer(v, who) for v in many)


def roll(self: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    """The elements moved `shifts` places along `dims` (around: those pushed off the end come back at
    the start); without `dims`, along the flattened tensor, then reshaped."""
    steps = _shifts(shifts, "roll: a shift")
    if dims is None:
        if len(steps) != 1:
            raise ValueError(f"roll: without dims, give one shift, got {shifts!r}")
        return self.flatten().roll(steps[0], 0).reshape(self.shape)
    axes = _axes(dims, max(self.ndim, 1), "roll") or ()
    if len(axes) != len(steps):
        raise ValueError(f"roll: {len(steps)} shifts for {len(axes)} dims; give one shift per dim")
    out = self
    for step, axis in zip(steps, axes):
        n = self.shape[axis]
        if n and step % n:
            out = out[(slice(None),) * axis + ((np.arange(n) - step) % n,)]
    return self.clone() if out is self else out  # a new tensor even when nothing moves, as PyTorch's


def flip(self: Tensor, *dims: Any) -> Tensor:
    """The elements in reverse order along each of `dims`."""
    axes = _axes(dims[0] if len(dims) == 1 else dims, max(self.ndim, 1), "flip") or ()
    out = self
    for axis in axes:
        out = out[(slice(None),) * axis + (np.arange(self.shape[axis])[::-1],)]
    return self.clone() if out is self else out


def _triangle(self: Tensor, diagonal: int, lower: bool, who: str) -> Tensor:
    if self.ndim < 2:
        raise ValueError(f"{who}: needs a tensor of at least 2 dimensions (matrices), got shape {self.shape}")
    k = _integer(diagonal, f"{who}: diagonal")
    rows, columns = self.shape[-2:]
    below = np.tri(rows, columns, k=k if lower else k - 1, dtype=bool)
    return self.masked_fill(~below if lower else below, 0)


def tril(self: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of each matrix (on and below the `diagonal`-th diagonal), zeros above it."""
    return _triangle(self, diagonal, True, "tril")


def triu(self: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of each matrix (on and above the `diagonal`-th diagonal), zeros below it."""
    return _triangle(self, diagonal, False, "triu")


def split(self: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Pieces along `dim`: of `split_size_or_sections` elements each (the last may be shorter), or of
    the sizes in that list; each a view of self, so gradients flow back."""
    one = _axis(dim, self.ndim, "split")
    if one is None:
        raise ValueError("split: a 0-d tensor has no dimension to split")
    n = self.shape[one]
    if isinstance(split_size_or_sections, (tuple, list)):
        sizes = [_integer(k, "split: a size") for k in split_size_or_sections]
        if sum(sizes) != n or min(sizes, default=0) < 0:
            raise ValueError(f"split: sizes {sizes} must be non-negative and sum to {n}, the size of dimension {one}")
    else:
        size = _integer(split_size_or_sections, "split: split_size")
        if size <= 0 and n:
            raise ValueError(f"split: split_size must be a positive integer, got {size}")
        sizes = [min(size, n - start) for start in range(0, n, size)] if n else [0]
    edges = np.cumsum([0, *sizes]).tolist()
    return tuple(self[(slice(None),) * one + (slice(a, b),)] for a, b in zip(edges[:-1], edges[1:]))


def chunk(self: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """At most `chunks` pieces along `dim`, each of ceil(size / chunks) elements (the last may be shorter)."""
    count = _integer(chunks, "chunk: chunks")
    if count <= 0:
        raise ValueError(f"chunk: chunks must be a positive integer, got {count}")
    one = _axis(dim, self.ndim, "chunk")
    if one is None:
        raise ValueError("chunk: a 0-d tensor has no dimension to split")
    return self.split(max(math.ceil(self.shape[one] / count), 1), one)


def expand_as(self: Tensor, other: Tensor) -> Tensor:
    """self expanded to `other`'s shape."""
    return self.expand(*other.shape)


def view_as(self: Tensor, other: Tensor) -> Tensor:
    """self viewed in `other`'s shape."""
    return self.view(*other.shape)


def contiguous(self: Tensor, memory_format: Any = None) -> Tensor:
    """self if its numbers are laid out in order (C order), else a copy that is, as PyTorch: a change of
    the copy of a transpose or an expand leaves self alone."""
    return self if type(self._data) is not np.ndarray or self._data.flags.c_contiguous else self.clone()


def repeat(self: Tensor, *sizes: Any) -> Tensor:
    """self tiled `sizes[i]` times along each axis i (new leading axes for extra sizes), as PyTorch's repeat:
    always new numbers (an expand that numpy could reshape without copying is copied)."""
    times = _sizes(sizes, "repeat")
    if len(times) < self.ndim or min(times, default=0) < 0:
        raise ValueError(f"repeat: {times} must give a count >= 0 for each of the {self.ndim} dimensions "
                         f"of {self.shape}")
    shape = (1,) * (len(times) - self.ndim) + self.shape
    spread = self.reshape(tuple(v for n in shape for v in (1, n)))
    out = spread.expand(*(v for t, n in zip(times, shape) for v in (t, n))).reshape(
        tuple(t * n for t, n in zip(times, shape))
    )
    return out.clone() if np.may_share_memory(out._data, self._data) else out


def amax(self: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    """The largest element over `dim` (an axis or a tuple of them; all by default); ties share the gradient."""
    axes = _axes(None if dim in ((), []) else dim, self.ndim, "amax")
    return self.max(axis=axes, keepdims=keepdim)


def amin(self: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    """The smallest element over `dim`: -amax(-x)."""
    return -(-self).amax(dim, keepdim)


def cumsum(self: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """The running sums along `dim` (integers and bools as int64)."""
    x = self if dtype is None else self.to(dtype)
    one = _axis(dim, x.ndim, "cumsum")
    if one is None:
        return x.reshape(1).cumsum(0).reshape(())
    return _apply(CUMSUM, (x,), one)


def prod(self: Tensor, dim: int | None = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
    """The product of the elements (along `dim`); its gradient is exact where elements are 0."""
    x = self if dtype is None else self.to(dtype)
    one = None if dim is None else _axis(dim, x.ndim, "prod")
    return _apply(PROD, (x,), None if one is None else (one,), bool(keepdim) and one is not None)


def norm(self: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
    """(sum |x|^p)^(1/p) over `dim` (all elements by default): p = 2 ('fro', the default) the Euclidean
    norm, 1 the sum of |x|, inf the largest |x|; the gradient is 0 where the norm is 0, as PyTorch's."""
    x = self if dtype is None else self.to(dtype)
    if x.dtype.kind != "f":
        raise TypeError(f"norm: needs a floating tensor, got {x.dtype}; convert it with .double()")
    if p == "fro":
        p = 2.0
    if isinstance(p, str) or not isinstance(p, numbers.Real) or p != p or p <= 0:
        raise ValueError(f"norm: p must be 'fro' or a number > 0 (inf for the largest |x|), got {p!r}")
    if math.isinf(p):
        return x.abs().amax(() if dim is None else dim, keepdim)
    axes, keepdims = _reduction(dim, keepdim, None, None, x.ndim, "norm")
    return _apply(NORM, (x,), float(p), axes, keepdims)


def histogram(self: Tensor, bins: Any = 100, *, range: Any = None, weight: Any = None,
              density: bool = False) -> Histogram:
    """The counts of the elements in `bins` equal bins over `range` (the elements' min to max by
    default), or between the edges `bins` gives; `weight` weighs each element, `density` divides by the
    total and the bin widths. The last bin includes its right edge."""
    if self.dtype.kind != "f":
        raise TypeError(f"histogram: needs a floating tensor, got {self.dtype}; convert it with .double()")
    many = isinstance(bins, (Tensor, list, tuple, np.ndarray))
    edges = np.asarray(data_of(bins)) if many else _integer(bins, "histogram: bins")
    if isinstance(edges, int) and edges <= 0:
        raise ValueError(f"histogram: bins must be a positive number of bins, got {edges}")
    weights = None if weight is None else np.asarray(data_of(weight)).reshape(-1)
    counts, at = np.histogram(self._data.reshape(-1), bins=edges, range=range, weights=weights, density=density)
    return Histogram(_constant(counts.astype(self.dtype)), _constant(at.astype(self.dtype)))


def copy_(self: Tensor, src: Any, non_blocking: bool = False) -> Tensor:
    """self's elements set to `src`'s (broadcast to self's shape, converted to its dtype), in place;
    differentiable in `src`."""
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_: src must be a Tensor, got {type(src).__name__}")
    return self._inplace("copy_", lambda x, v: _index_put(x, Ellipsis, v), src, cast=True)


def _drawn(self: Tensor, who: str, draw: Callable[[np.ndarray], np.ndarray]) -> Tensor:
    """self filled in place with `draw`'s numbers, drawn into an array of self's layout (as PyTorch fills)."""
    if self.dtype.kind != "f":
        raise TypeError(f"{who}: draws floating numbers; the tensor is {self.dtype}")
    return self._inplace(who, lambda x, _: _constant(draw(np.array(x._data, order="K"))))


def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> Tensor:
    """self filled with numbers from the normal distribution of `mean` and `std`, in place: PyTorch's
    stream (`glassgrad.random.normal`), from `generator` or the default one."""
    from glassgrad._tensor import random

    return _drawn(self, "normal_", lambda out: random.normal(out, mean, std, generator))


def uniform_(self: Tensor, a: float = 0.0, b: float = 1.0, *, generator: Any = None) -> Tensor:
    """self filled with numbers uniform in [a, b), in place: PyTorch's stream (`glassgrad.random.uniform`)."""
    from glassgrad._tensor import random

    return _drawn(self, "uniform_", lambda out: random.uniform(out, a, b, generator))


for _op in list(ops.OPS.values()):
    _install(_op)
