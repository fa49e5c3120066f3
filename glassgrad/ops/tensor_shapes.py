"""The Tensor engine's shape operations, one registry entry each: `reshape`, `permute`, `expand`,
indexing (`index`, its gradient `scatter`, `index_put` for `t[i] = v`), the `copy_slices` an in-place
change of a view records on its base, and `cat`. They move numbers around, so their gradient moves
them back. As in `glassgrad.ops.tensor_ops`, a parameter (a shape, an index) comes first in both
the forward and the rule.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from glassgrad.autograd import Node, data_of
from glassgrad.ops.helpers import zero_where
from glassgrad.ops.registry import LazyNumpy, Op, built_in
from glassgrad.ops.tensor_ops import sum_to

np = LazyNumpy(globals())  # numpy itself from the first array on


def scatter_add(x: Any, index: Any, shape: tuple[int, ...]) -> Any:
    """Zeros of `shape` with x added at `index` (repeated positions add up); its derivative is x[index]."""
    if isinstance(x, Node):
        return x._applied(SCATTER, index, shape)
    return _scatter(index, shape, x)


def through(chain: tuple, x: Any) -> Any:
    """x seen through `chain`, the steps `(op, params)` that made a view from its base: on an array,
    their forwards (each a view); on a Tensor, their nodes."""
    for op, params in chain:
        x = x._applied(op, *params) if isinstance(x, Node) else op.on_arrays(*params, x)
    return x


# Shape operations: they move numbers around, so their gradient moves them back.
def _reshape(shape, x):
    return x.reshape(shape)


def _reshape_rule(shape, g, out, a):
    """Reshaping moves no number: the gradient takes the input's shape back."""
    return (g.reshape(a.shape),)


RESHAPE = built_in(Op("reshape", _reshape_rule, on_arrays=_reshape, reads="", view=True, method="reshape",
                      function=True, backward="ViewBackward0"))


def _permute(axes, x):
    return x.transpose(axes)


def _permute_rule(axes, g, out, a):
    """The gradient is permuted back by the inverse permutation."""
    inverse = tuple(np.argsort(axes).tolist())
    return (g.transpose(inverse),)  # (numpy and Tensor alike take the permutation as a tuple)


PERMUTE = built_in(Op("permute", _permute_rule, on_arrays=_permute, reads="", view=True, method="permute",
                      function=True, backward="PermuteBackward0"))


def _expand(shape, x):
    lead = len(shape) - x.ndim
    if x.shape == shape[lead:] and all(n == 1 for n in shape[:lead]):  # nothing repeated: a plain view
        return x.reshape(shape)
    return np.broadcast_to(x, shape)  # read-only, as several elements are one number: see `writable`


def _expand_rule(shape, g, out, a):
    """Broadcasting copies an element to many places: their gradients add up back into it."""
    return (sum_to(g, a.shape),)


EXPAND = built_in(Op("expand", _expand_rule, on_arrays=_expand, reads="", view=True, method="expand",
                    backward="ExpandBackward0"))


def overlapping(a: Any) -> bool:
    """Whether several of a's elements are one number (an axis of stride 0: an `expand`)."""
    return 0 in a.strides and a.size > 1 and any(st == 0 and n > 1 for st, n in zip(a.strides, a.shape))


def writable(a: Any) -> Any:
    """a, or a writable alias of it: for a view into numbers that can be written which numpy made read-only
    (a broadcast, an expand, or a view of one); ValueError if the numbers themselves are read-only."""
    if a.flags.writeable:
        return a
    alias = a.view()
    alias.flags.writeable = True  # numpy allows it exactly when the numbers' owner is writable
    return alias


# An index is numpy's, except where PyTorch lays the result out otherwise: integers mixed with index
# arrays. PyTorch applies the integers (and slices, None, ...) first, then the arrays to that view; numpy
# takes the integers as index arrays too, and an integer and an array separated by a slice put the
# array's axes first (x[0, :, [0, 1, 2]] is then the transpose of PyTorch's).
class Split(NamedTuple):
    """A PyTorch index in two steps: `basic` (integers, slices, None, ...) gives a view, then `advanced`
    (the index arrays, with full slices between them) picks elements of that view."""

    basic: tuple
    advanced: tuple


def torch_index(parts: tuple) -> Any:
    """The numpy index (or `Split`) giving PyTorch's result for `parts`: integers, slices, None,
    Ellipsis, bools and index arrays (integer or boolean). Without an array, a basic index that always
    gives a view (a 0-d array rather than a numpy scalar for a single element)."""
    arrays = [p for p in parts if isinstance(p, (np.ndarray, bool, np.bool_))]
    if not arrays:
        return parts if any(p is Ellipsis for p in parts) else (*parts, Ellipsis)
    if not any(isinstance(p, (int, np.integer)) and not isinstance(p, (bool, np.bool_)) for p in parts):
        return parts
    basic, advanced = [], []
    for p in parts:
        if isinstance(p, (bool, np.bool_)):  # a new axis of length 1, of which it keeps the one element or none
            basic.append(None)
            advanced.append(np.arange(int(p), dtype=np.intp))
        elif isinstance(p, np.ndarray):
            basic.extend([slice(None)] * (p.ndim if p.dtype == bool else 1))
            advanced.append(p)
        else:
            basic.append(p)
            if not isinstance(p, (int, np.integer)):  # a slice or None already applied, or an Ellipsis
                advanced.append(p if p is Ellipsis else slice(None))
    return Split(tuple(basic), tuple(advanced))


def at(x: Any, index: Any) -> Any:
    """x[index], an index of `torch_index` (an array's or a Tensor's elements)."""
    if isinstance(index, Split):
        return x[index.basic][index.advanced]
    return x[index]


def _target(out: np.ndarray, index: Any) -> tuple[np.ndarray, Any]:
    """The array and the numpy index that write `out[index]` (a view of out for a `Split`)."""
    return (out[index.basic], index.advanced) if isinstance(index, Split) else (out, index)


def _index(index, x):
    return at(x, index)


def _index_rule(index, g, out, a):
    """x[index] takes elements; its gradient puts them back, adding where an element was taken twice."""
    return (scatter_add(g, index, a.shape),)


INDEX = built_in(Op("index", _index_rule, on_arrays=_index, reads="", view=True,
                   dunder="getitem", backward="IndexBackward0"))  # a view for a basic index


def _scatter(index, shape, x):
    out = np.zeros(shape, dtype=x.dtype)
    target, index = _target(out, index)
    parts = index if isinstance(index, tuple) else (index,)
    if all(p is None or p is Ellipsis or isinstance(p, (slice, int, np.integer)) and not isinstance(p, bool)
           for p in parts):  # numpy's basic indexing (a view) takes each element at most once
        target[index] = x
    else:  # element after element in the index's order, as PyTorch accumulates: the same sums to the last bit
        np.add.at(target, index, x)
    return out


def _scatter_rule(index, shape, g, out, a):
    """Scattering's gradient gathers: g[index]."""
    return (at(g, index),)


SCATTER = built_in(Op("scatter", _scatter_rule, on_arrays=_scatter, reads=""))  # the gradient of indexing


def _index_put(index, x, v):
    out = np.array(x)  # a copy, and an array even of a numpy scalar (a 0-d result)
    view, where = _target(out, index)
    view[where] = v
    return out


def _index_put_rule(index, g, out, x, v):
    """x with v written at `index`: x's gradient is g except there, v's is g there (summed over broadcasting)."""
    written = np.zeros(data_of(x).shape, dtype=bool)
    view, where = _target(written, index)
    view[where] = True
    return zero_where(written, g), sum_to(at(g, index), v.shape)


INDEX_PUT = built_in(Op("index_put", _index_put_rule, on_arrays=_index_put, reads="", dunder="setitem",
                        backward="IndexPutBackward0"))  # t[index] = v


def _copy_slices(chain, base, v):
    out = np.array(base)  # a copy in base's layout, so that each step of the chain is a view again
    writable(through(chain, out))[...] = v
    return out


def _copy_slices_rule(chain, g, out, base, v):
    """The base with v written through the view `chain`: the base's gradient is g except where the view
    sees, v's is g seen through the view."""
    seen = np.zeros(data_of(base).shape, dtype=bool)
    writable(through(chain, seen))[...] = True
    return zero_where(seen, g), through(chain, g)


# what an in-place change of a view records on its base: the base rebased on the view's new value (PyTorch's
# CopySlices); `chain` is the view's steps from its base
COPY_SLICES = built_in(Op("copy_slices", _copy_slices_rule, on_arrays=_copy_slices, reads="", backward="CopySlices"))


def _cat(dim, sizes, *xs):
    return np.concatenate(xs, axis=dim)


def _cat_rule(dim, sizes, g, out, *inputs):
    """Concatenation's gradient cuts g back into the pieces (of `sizes` along `dim`)."""
    edges = np.cumsum((0, *sizes))
    cut = [slice(None)] * len(out.shape)
    pieces = []
    for start, stop in zip(edges[:-1], edges[1:]):
        cut[dim] = slice(int(start), int(stop))
        pieces.append(g[tuple(cut)])
    return tuple(pieces)


CAT = built_in(Op("cat", _cat_rule, on_arrays=_cat, reads="", function=True, backward="CatBackward0"))
