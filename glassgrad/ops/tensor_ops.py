"""The operations only arrays have, one description each: sums, matrix products, indexing, softmax...

Each block below is one operation whole: its forward (on numpy arrays), its derivative rule and its
`Op`, which names its nodes and says what the rule reads (`Op.reads`, for the in-place check). As in
`glassgrad.ops`, a parameter (an axis, an index, a shape) comes first in both the forward and the
rule, so that a node is made as `op.on_arrays(*params, *arrays)` with the rule
`partial(op.derivative, *params)` (`glassgrad._tensor.tensor._apply`); the `Tensor` methods and functions
only check their arguments, PyTorch-style, and pick the parameters.

The rules are written with operations that numpy arrays and Tensors both have, so that the plain
backward pass runs them on arrays and `create_graph=True` on Tensors. This module does not import
`glassgrad._tensor.tensor` (which imports it): the few helpers that must tell a Tensor from an array
(`expand`, `scatter_add`, ...) ask whether it is a `Node`, and call the Tensor's own method.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from glassgrad.autograd import Node, data_of
from glassgrad.ops import Op, div, floatmath, zero_where


# Functions the derivative rules use: each works on an array (plain backward pass) and on a Tensor
# (create_graph=True), so one rule serves both.
def exp(x: Any) -> Any:
    """e^x."""
    return x.exp() if isinstance(x, Node) else np.exp(x)


def expand(x: Any, shape: tuple[int, ...]) -> Any:
    """x broadcast to `shape`; its derivative is `sum_to`."""
    if isinstance(x, Node):
        return x.broadcast_to(shape)
    out = np.empty(shape, dtype=x.dtype)
    out[...] = x
    return out


def sum_to(x: Any, shape: tuple[int, ...]) -> Any:
    """x summed over the axes that broadcasting added or stretched, leaving `shape`."""
    if x.shape == shape:
        return x
    lead = len(x.shape) - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1)
    return x.sum(axis=axes, keepdims=True).reshape(shape)


def cast(x: Any, dtype: np.dtype) -> Any:
    """x as `dtype`; its derivative converts back."""
    if x.dtype == dtype:
        return x
    return x.astype(dtype)


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


def _reduced_shape(shape: tuple[int, ...], axis: tuple[int, ...] | None) -> tuple[int, ...]:
    """`shape` with the reduced axes kept as 1 (the keepdims shape)."""
    if axis is None:
        return (1,) * len(shape)
    return tuple(1 if i in axis else n for i, n in enumerate(shape))


def _spread(g, shape, axis, keepdims):
    """The gradient of a reduction over `axis` spread back over the reduced axes of `shape`."""
    if not keepdims and axis is not None:
        g = g.reshape(_reduced_shape(shape, axis))
    return expand(g, shape)


# Matrix products. Their rules take `need` (which inputs need a share at all), bound when a node is
# made from inputs some of which require no gradient, so that no unneeded product is computed.
def _matmul(a, b):
    with np.errstate(all="ignore"):  # inf * 0 is nan silently, as in PyTorch
        if a.ndim > 2 and b.ndim == 2 and a.shape[-1] == b.shape[0]:  # a stack of rows: one BLAS call, as torch
            return (a.reshape(math.prod(a.shape[:-1]), a.shape[-1]) @ b).reshape(a.shape[:-1] + b.shape[1:])
        return a @ b


def _matmul_rule(g, out, a, b, need=(True, True)):
    """d(AB)/dA = g B^T, d(AB)/dB = A^T g; a vector is a 1-row (or 1-column) matrix, batch axes
    are summed back over broadcasting."""
    if a.ndim == 2 and b.ndim == 2:
        return (g @ b.T if need[0] else None, a.T @ g if need[1] else None)
    if a.ndim > 2 and b.ndim == 2:  # a stack of rows times one matrix: one matrix product over all rows
        rows = math.prod(a.shape[:-1])  # not -1: it cannot be inferred when a size is 0
        g2, a2 = g.reshape((rows, g.shape[-1])), a.reshape((rows, a.shape[-1]))
        return ((g2 @ b.T).reshape(a.shape) if need[0] else None, a2.T @ g2 if need[1] else None)
    a_vector, b_vector = a.ndim == 1, b.ndim == 1
    a2 = a.reshape((1,) + a.shape) if a_vector else a
    b2 = b.reshape(b.shape + (1,)) if b_vector else b
    g2 = g.reshape(g.shape[: g.ndim - 2 + a_vector + b_vector] + (a2.shape[-2], b2.shape[-1]))
    da = sum_to(g2 @ b2.mT, a2.shape).reshape(a.shape) if need[0] else None
    db = sum_to(a2.mT @ g2, b2.shape).reshape(b.shape) if need[1] else None
    return da, db


MATMUL = Op("@", _matmul_rule, on_arrays=_matmul, formula="{0} @ {1}", precedence=2, reads=("{1}", "{0}"))


def _linear(x, w, b=None):
    with np.errstate(all="ignore"):  # inf * 0 is nan silently, as in PyTorch and `@`
        data = x @ w.T
        if b is not None:
            data += b
    return data


def _linear_rule(g, out, x, w, b=None, need=(True, True, True)):
    """y = x W^T + b: dy/dx = g W, dy/dW = g^T x, dy/db = g summed over the batch (scalar twin: 'linear')."""
    rows = math.prod(x.shape[:-1])  # the batch axes as one (not -1: a width may be 0)
    g2 = g.reshape((rows, w.shape[0])) if g.ndim != 2 else g
    x2 = x.reshape((rows, w.shape[1])) if x.ndim != 2 else x
    dx, dw = g @ w if need[0] else None, g2.T @ x2 if need[1] else None
    return (dx, dw) if b is None else (dx, dw, g2.sum(axis=0) if need[2] else None)


LINEAR = Op("linear", _linear_rule, on_arrays=_linear, reads=("{1}", "{0}", ""))


# Reductions over `axis` (a tuple of axes, or None for all), keeping the reduced axes as 1 or not.
def _sum(axis, keepdims, x):
    with np.errstate(all="ignore"):
        return x.sum(axis=axis, keepdims=keepdims)


def _sum_rule(axis, keepdims, g, out, a):
    """d(sum x)/dx_i = 1: the gradient is spread over the summed axes."""
    return (_spread(g, a.shape, axis, keepdims),)


SUM = Op("sum", _sum_rule, on_arrays=_sum, reads="")


def _mean(axis, keepdims, n, x):
    with np.errstate(all="ignore"):  # np.mean, except that an empty mean is 0/0 = nan silently (as PyTorch)
        return x.sum(axis=axis, keepdims=keepdims) / n


def _mean_rule(axis, keepdims, n, g, out, a):
    """d(mean x)/dx_i = 1/n (n: the number of elements summed)."""
    return (_spread(g / n, a.shape, axis, keepdims),)


MEAN = Op("mean", _mean_rule, on_arrays=_mean, reads="")


def _centred(x, axis):
    """x - its mean over `axis` (nan where the axis is empty, as PyTorch, without numpy's warning)."""
    if isinstance(x, Node):
        return x - x.mean(axis=axis, keepdims=True)
    return x - _mean(axis, True, x.size if axis is None else math.prod(x.shape[a] for a in axis), x)


def _var(axis, keepdims, d, x):
    with np.errstate(all="ignore"):
        centred = _centred(x, axis)
        return np.asarray((centred * centred).sum(axis=axis, keepdims=keepdims) / d)


def _var_rule(axis, keepdims, d, g, out, a):
    """d var/dx_i = 2 (x_i - mean x) / d (d = n - correction), as PyTorch computes it: g times the slope,
    with no difference of sums (an infinite g gives ±inf where the terms would give inf - inf)."""
    return (_spread(g, a.shape, axis, keepdims) * floatmath.div(2.0, d) * _centred(a, axis),)


VAR = Op("var", _var_rule, on_arrays=_var, reads="{0}")


def _std(axis, keepdims, d, x):
    variance = _var(axis, keepdims, d, x)
    with np.errstate(all="ignore"):
        return np.sqrt(variance)


def _std_rule(axis, keepdims, d, g, out, a):
    """d std/dx = d var/dx / (2 std), exactly 0 where std is 0 (as PyTorch; 1/0 would give inf)."""
    return _var_rule(axis, keepdims, d, zero_where(data_of(out) == 0, div(g, 2.0 * out)), out, a)


STD = Op("std", _std_rule, on_arrays=_std, reads="{0} {out}")


def _max(axis, keepdims, x):
    return np.asarray(x.max(axis=axis, keepdims=keepdims))


def _max_rule(axis, keepdims, g, out, a):
    """Over all axes or a tuple of them, d(max)/dx_i = 1/k for each of the k elements equal to the maximum,
    exactly 0 elsewhere; where the maximum is nan, the k elements that are nan (as PyTorch's max(); its
    amax gives nan instead)."""
    raw = data_of(a)
    top = data_of(out).reshape(_reduced_shape(raw.shape, axis))
    ties = (raw == top) | (np.isnan(raw) & np.isnan(top))
    share = _spread(g, a.shape, axis, keepdims) * (1.0 / ties.sum(axis=axis, keepdims=True)).astype(raw.dtype)
    return (zero_where(~ties, share),)


MAX = Op("max", _max_rule, on_arrays=_max, reads="{0} {out}")


# The maximum along one axis, PyTorch's max(dim): `where` is the arg-max of each row (the first, or the
# first nan), found before the node is made, with the row's axis kept as 1.
def _max_dim(axis, keepdims, where, x):
    (one,) = axis
    values = np.take_along_axis(x, where, axis=one)
    return values if keepdims else values.squeeze(one)


def _max_dim_rule(axis, keepdims, where, g, out, a):
    """d(max along an axis)/dx_i = 1 at the arg-max of its row, exactly 0 elsewhere: read from the
    indices, not from x (as PyTorch's, so x may change in place after)."""
    mask = np.zeros(a.shape, dtype=bool)
    np.put_along_axis(mask, where, True, axis=axis[0])
    return (zero_where(~mask, _spread(g, a.shape, axis, keepdims)),)


MAX_DIM = Op("max_dim", _max_dim_rule, on_arrays=_max_dim, reads="")


def _squared_error(a, b):
    with np.errstate(all="ignore"):
        d = a - b
        return d * d


def _squared_error_rule(g, out, a, b):
    """d(a - b)²/da = 2 (a - b), d/db = -2 (a - b): from both inputs, as PyTorch's mse_loss."""
    share = g * (2.0 * (a - b))
    return share, -share


SQUARED_ERROR = Op("squared_error", _squared_error_rule, on_arrays=_squared_error, reads="{0} {1}")  # mse_loss's


# Softmax along one axis, computed from x - max x so that it cannot overflow.
def _softmax_of(axis, x):
    e = np.exp(x - x.max(axis=axis, keepdims=True, initial=-np.inf))  # initial: an empty x has no maximum
    return e / e.sum(axis=axis, keepdims=True)


def _softmax(axis, x):
    with np.errstate(all="ignore"):
        return _softmax_of(axis, x)


def _softmax_rule(axis, g, out, a):
    """d(softmax)^T g = s * (g - sum(g * s)), s = softmax(a) = out."""
    return (out * (g - (g * out).sum(axis=axis, keepdims=True)),)


SOFTMAX = Op("softmax", _softmax_rule, on_arrays=_softmax, reads="{out}")


def _log_softmax(axis, x):
    with np.errstate(all="ignore"):
        shifted = x - x.max(axis=axis, keepdims=True, initial=-np.inf)
        return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _log_softmax_rule(axis, g, out, a):
    """d(log_softmax)^T g = g - softmax(a) * sum(g), softmax(a) = e^out."""
    return (g - exp(out) * g.sum(axis=axis, keepdims=True),)


LOG_SOFTMAX = Op("log_softmax", _log_softmax_rule, on_arrays=_log_softmax, reads="{out}")


# Shape operations: they move numbers around, so their gradient moves them back.
def _reshape(shape, x):
    return x.reshape(shape)


def _reshape_rule(shape, g, out, a):
    """Reshaping moves no number: the gradient takes the input's shape back."""
    return (g.reshape(a.shape),)


RESHAPE = Op("reshape", _reshape_rule, on_arrays=_reshape, reads="", view=True)


def _transpose(axes, x):
    return x.transpose(axes)


def _transpose_rule(axes, g, out, a):
    """The gradient is permuted back by the inverse permutation."""
    inverse = tuple(np.argsort(axes).tolist())
    return (g.transpose(inverse) if isinstance(g, np.ndarray) else g.permute(inverse),)


TRANSPOSE = Op("transpose", _transpose_rule, on_arrays=_transpose, reads="", view=True)


def _expand(shape, x):
    return np.broadcast_to(x, shape)


def _expand_rule(shape, g, out, a):
    """Broadcasting copies an element to many places: their gradients add up back into it."""
    return (sum_to(g, a.shape),)


EXPAND = Op("expand", _expand_rule, on_arrays=_expand, reads="")


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


INDEX = Op("index", _index_rule, on_arrays=_index, reads="", view=True)  # a view for a basic index


def _scatter(index, shape, x):
    out = np.zeros(shape, dtype=x.dtype)
    np.add.at(*_target(out, index), x)
    return out


def _scatter_rule(index, shape, g, out, a):
    """Scattering's gradient gathers: g[index]."""
    return (at(g, index),)


SCATTER = Op("scatter", _scatter_rule, on_arrays=_scatter, reads="")  # the gradient of indexing


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


INDEX_PUT = Op("index_put", _index_put_rule, on_arrays=_index_put, reads="")  # what `t[index] = v` records


def _copy_slices(chain, base, v):
    out = np.array(base)  # a copy in base's layout, so that each step of the chain is a view again
    through(chain, out)[...] = v
    return out


def _copy_slices_rule(chain, g, out, base, v):
    """The base with v written through the view `chain`: the base's gradient is g except where the view
    sees, v's is g seen through the view."""
    seen = np.zeros(data_of(base).shape, dtype=bool)
    through(chain, seen)[...] = True
    return zero_where(seen, g), through(chain, g)


# what an in-place change of a view records on its base: the base rebased on the view's new value (PyTorch's
# CopySlices); `chain` is the view's steps from its base
COPY_SLICES = Op("copy_slices", _copy_slices_rule, on_arrays=_copy_slices, reads="")


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


CAT = Op("cat", _cat_rule, on_arrays=_cat, reads="")


# Copies, conversions and selections, elementwise.
def _clone(x):
    return x.copy()


def _clone_rule(g, out, a):
    """A copy passes the gradient through."""
    return (g,)


CLONE = Op("clone", _clone_rule, on_arrays=_clone, reads="")


def _astype(dtype, x):
    return x.astype(dtype)


def _astype_rule(dtype, g, out, a):
    """Converting the dtype (between floating dtypes): the gradient is converted back."""
    return (cast(g, a.dtype),)


ASTYPE = Op("astype", _astype_rule, on_arrays=_astype, reads="")


def _clamp(low, high, x):
    return np.minimum(np.maximum(x, low), high).astype(x.dtype, copy=False)


def _clamp_rule(low, high, g, out, a):
    """d clamp(x)/dx = 1 where low <= x <= high, exactly 0 elsewhere (as PyTorch)."""
    x = data_of(a)
    return (zero_where(~((x >= low) & (x <= high)), g),)


CLAMP = Op("clamp", _clamp_rule, on_arrays=_clamp, reads="{0}")


def _masked_fill(keep, value, x):
    return np.where(keep, x, value)


def _masked_fill_rule(keep, value, g, out, a):
    """The filled elements came from no input: exactly zero gradient there, g elsewhere."""
    return (zero_where(~keep, g),)


MASKED_FILL = Op("masked_fill", _masked_fill_rule, on_arrays=_masked_fill, reads="")


def _where(condition, x, y):
    return np.where(condition, x, y)


def _where_rule(condition, g, out, x, y):
    """where(c, x, y): g goes to x where c holds, to y elsewhere."""
    return zero_where(~condition, g), zero_where(condition, g)


WHERE = Op("where", _where_rule, on_arrays=_where, reads="")


def _maximum_rule(g, out, a, b):
    """max(a, b): g to the larger, shared half and half where they are equal (as PyTorch)."""
    ra, rb = data_of(a), data_of(b)
    tie = (ra == rb).astype(ra.dtype) * 0.5
    return zero_where(ra < rb, g) * (1.0 - tie), zero_where(rb < ra, g) * (1.0 - tie)


MAXIMUM = Op("maximum", _maximum_rule, on_arrays=np.maximum, reads="{0} {1}")  # nan if either is


TENSOR_OPS = {op.name: op for op in (
    MATMUL, LINEAR, SUM, MEAN, VAR, STD, MAX, MAX_DIM, SQUARED_ERROR, SOFTMAX, LOG_SOFTMAX, RESHAPE, TRANSPOSE, EXPAND,
    INDEX, SCATTER, INDEX_PUT, COPY_SLICES, CAT, CLONE, ASTYPE, CLAMP, MASKED_FILL, WHERE, MAXIMUM,
)}  # fmt: skip
"""The Tensor engine's own descriptions by the name of their nodes (they are not in `ops.OPS`: their
names stay free for a user's scalar operations)."""
