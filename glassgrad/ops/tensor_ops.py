"""The operations only arrays have, one entry each in the registry (`glassgrad.ops.OPS`): sums, matrix
products, indexing, softmax, comparisons, and the methods made of other operations.

Each block below is one operation whole: its forward (on numpy arrays), its derivative rule and its
`Op`, which names its nodes, says what the rule reads (`Op.reads`, for the in-place check) and under
which PyTorch names it is reached (its method, its `glassgrad.<name>` function). As in
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

from glassgrad.autograd import Node, data_of
from glassgrad.ops import LazyNumpy, Op, built_in, div, floatmath, numpy_function, silent, zero_where

np = LazyNumpy(globals())  # numpy itself from the first array on


# Functions the derivative rules use: each works on an array (plain backward pass) and on a Tensor
# (create_graph=True), so one rule serves both.
def exp(x: Any) -> Any:
    """e^x."""
    return x.exp() if isinstance(x, Node) else np.exp(x)


def softmax(x: Any, axis: int = -1) -> Any:
    """e^x / sum(e^x) along `axis`."""
    return x.softmax(axis) if isinstance(x, Node) else _softmax_of(axis, x)


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


def _rows(x, width):
    """x (..., width) as one matrix of rows: one BLAS call for all of them, where numpy would multiply a
    stack one matrix at a time."""
    return x if x.ndim == 2 else x.reshape((math.prod(x.shape[:-1]), width))  # not -1: a width may be 0


# Matrix products. Their rules take `need` (which inputs need a share at all), bound when a node is
# made from inputs some of which require no gradient, so that no unneeded product is computed.
def _matmul(a, b):
    with silent():  # inf * 0 is nan silently, as in PyTorch
        if a.ndim > 2 and b.ndim == 2 and a.shape[-1] == b.shape[0]:  # a stack of rows: one BLAS call, as torch
            return (_rows(a, b.shape[0]) @ b).reshape(a.shape[:-1] + b.shape[1:])
        return a @ b


def _matmul_rule(g, out, a, b, need=(True, True)):
    """d(AB)/dA = g B^T, d(AB)/dB = A^T g; a vector is a 1-row (or 1-column) matrix, batch axes
    are summed back over broadcasting."""
    if a.ndim == 2 and b.ndim == 2:
        return (g @ b.T if need[0] else None, a.T @ g if need[1] else None)
    if a.ndim > 2 and b.ndim == 2:  # a stack of rows times one matrix: one matrix product over all rows
        g2 = _rows(g, b.shape[1])
        return ((g2 @ b.T).reshape(a.shape) if need[0] else None, _rows(a, b.shape[0]).T @ g2 if need[1] else None)
    a_vector, b_vector = a.ndim == 1, b.ndim == 1
    a2 = a.reshape((1,) + a.shape) if a_vector else a
    b2 = b.reshape(b.shape + (1,)) if b_vector else b
    g2 = g.reshape(g.shape[: g.ndim - 2 + a_vector + b_vector] + (a2.shape[-2], b2.shape[-1]))
    da = sum_to(g2 @ b2.mT, a2.shape).reshape(a.shape) if need[0] else None
    db = sum_to(a2.mT @ g2, b2.shape).reshape(b.shape) if need[1] else None
    return da, db


MATMUL = built_in(Op("@", _matmul_rule, on_arrays=_matmul, formula="{0} @ {1}", precedence=2, reads=("{1}", "{0}"),
                     method="matmul", dunder="matmul", function=True, ufunc="matmul", backward="MmBackward0"))


def _linear(x, w, b=None):
    with silent():  # inf * 0 is nan silently, as in PyTorch and `@`
        data = _rows(x, w.shape[1]) @ w.T
        if b is not None:
            data += b
    return data if x.ndim == 2 else data.reshape(x.shape[:-1] + w.shape[:1])


def _linear_rule(g, out, x, w, b=None, need=(True, True, True)):
    """y = x W^T + b: dy/dx = g W, dy/dW = g^T x, dy/db = g summed over the batch (scalar twin: 'linear')."""
    g2 = _rows(g, w.shape[0])
    dx = (g2 @ w).reshape(x.shape) if need[0] else None
    dw = g2.T @ _rows(x, w.shape[1]) if need[1] else None
    return (dx, dw) if b is None else (dx, dw, g2.sum(axis=0) if need[2] else None)


LINEAR = built_in(Op("linear", _linear_rule, on_arrays=_linear, reads=("{1}", "{0}", ""),
                     backward="AddmmBackward0"))  # nn.functional.linear


# Reductions over `axis` (a tuple of axes, or None for all), keeping the reduced axes as 1 or not.
def _sum(axis, keepdims, x):
    with silent():
        return x.sum(axis=axis, keepdims=keepdims)


def _sum_rule(axis, keepdims, g, out, a):
    """d(sum x)/dx_i = 1: the gradient is spread over the summed axes."""
    return (_spread(g, a.shape, axis, keepdims),)


SUM = built_in(Op("sum", _sum_rule, on_arrays=_sum, reads="", method="sum", function=True, backward="SumBackward0"))


def _mean(axis, keepdims, n, x):
    with silent():  # np.mean, except that an empty mean is 0/0 = nan silently (as PyTorch)
        return x.sum(axis=axis, keepdims=keepdims) / n


def _mean_rule(axis, keepdims, n, g, out, a):
    """d(mean x)/dx_i = 1/n (n: the number of elements summed)."""
    return (_spread(g / n, a.shape, axis, keepdims),)


MEAN = built_in(Op("mean", _mean_rule, on_arrays=_mean, reads="", method="mean", function=True,
                   backward="MeanBackward0"))


def _var(axis, keepdims, d, x):
    with silent():
        centred = x - x.mean(axis=axis, keepdims=True)
        return np.asarray((centred * centred).sum(axis=axis, keepdims=keepdims) / d)


def _var_rule(axis, keepdims, d, g, out, a):
    """d var/dx_i = 2 (x_i - mean x) / d (d = n - correction), as PyTorch computes it: g times the slope,
    with no difference of sums (an infinite g gives ±inf where the terms would give inf - inf)."""
    return (_spread(g, a.shape, axis, keepdims) * floatmath.div(2.0, d) * (a - a.mean(axis=axis, keepdims=True)),)


VAR = built_in(Op("var", _var_rule, on_arrays=_var, reads="{0}", method="var", function=True, backward="VarBackward0"))


def _std(axis, keepdims, d, x):
    variance = _var(axis, keepdims, d, x)
    with silent():
        return np.sqrt(variance)


def _std_rule(axis, keepdims, d, g, out, a):
    """d std/dx = d var/dx / (2 std), exactly 0 where std is 0 (as PyTorch; 1/0 would give inf)."""
    return _var_rule(axis, keepdims, d, zero_where(data_of(out) == 0, div(g, 2.0 * out)), out, a)


STD = built_in(Op("std", _std_rule, on_arrays=_std, reads="{0} {out}", method="std", function=True,
                  backward="StdBackward0"))


def _max(axis, keepdims, along, x):
    return np.asarray(x.max(axis=axis, keepdims=keepdims))


def _max_rule(axis, keepdims, along, g, out, a):
    """Along one axis (`along`), d(max)/dx_i = 1 at the arg-max of its row, exactly 0 elsewhere. Over
    all axes or a tuple of them, 1/k for each of the k elements equal to the maximum, exactly 0
    elsewhere; where the maximum is nan, the k elements that are nan (as PyTorch's max(); its amax
    gives nan instead)."""
    raw = data_of(a)
    if along:
        mask = np.zeros(raw.shape, dtype=bool)
        (one,) = axis
        np.put_along_axis(mask, np.expand_dims(raw.argmax(axis=one), one), True, axis=one)
        return (zero_where(~mask, _spread(g, a.shape, axis, keepdims)),)
    top = data_of(out).reshape(_reduced_shape(raw.shape, axis))
    ties = (raw == top) | (np.isnan(raw) & np.isnan(top))
    share = _spread(g, a.shape, axis, keepdims) * (1.0 / ties.sum(axis=axis, keepdims=True)).astype(raw.dtype)
    return (zero_where(~ties, share),)


# along one axis only {0} is read; `min` is -max(-x) and `amax` max over a tuple of axes (below)
MAX = built_in(Op("max", _max_rule, on_arrays=_max, reads="{0} {out}", method="max", function=True,
                  backward="MaxBackward1"))


# Softmax along one axis, computed from x - max x so that it cannot overflow.
def _softmax_of(axis, x):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _softmax(axis, x):
    with silent():
        return _softmax_of(axis, x)


def _softmax_rule(axis, g, out, a):
    """d(softmax)^T g = s * (g - sum(g * s)), s = softmax(a) = out."""
    return (out * (g - (g * out).sum(axis=axis, keepdims=True)),)


SOFTMAX = built_in(Op("softmax", _softmax_rule, on_arrays=_softmax, reads="{out}", method="softmax", function=True,
                      backward="SoftmaxBackward0"))


def _log_softmax(axis, x):
    with silent():
        shifted = x - x.max(axis=axis, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _log_softmax_rule(axis, g, out, a):
    """d(log_softmax)^T g = g - softmax(a) * sum(g), softmax(a) = e^out."""
    return (g - exp(out) * g.sum(axis=axis, keepdims=True),)


LOG_SOFTMAX = built_in(Op("log_softmax", _log_softmax_rule, on_arrays=_log_softmax, reads="{out}", method="log_softmax",
                          function=True, backward="LogSoftmaxBackward0"))


def _normalized(axes, eps, x):
    """(x - mean) / sqrt(var + eps) over `axes`, and 1 / sqrt(var + eps) (the biased variance)."""
    centred = x - x.mean(axis=axes, keepdims=True)
    rstd = ((centred * centred).mean(axis=axes, keepdims=True) + eps) ** -0.5
    return centred * rstd, rstd


def _layer_norm(axes, eps, affine, x, *weight_bias):
    with silent():
        out, _ = _normalized(axes, eps, x)
        for k, p in zip(affine, weight_bias):  # affine: "w", "b" or "wb", which of the two are inputs
            out = out * p if k == "w" else out + p
        return out


def _layer_norm_rule(axes, eps, affine, g, out, x, *weight_bias):
    """y = xhat w + b with xhat = (x - mean) rstd over the normalised axes: dy/dx = rstd (gw - mean(gw)
    - xhat mean(gw xhat)) with gw = g w, dy/dw = g xhat and dy/db = g, each summed over the other axes."""
    xhat, rstd = _normalized(axes, eps, x)
    gw = g * weight_bias[0] if affine[:1] == "w" else g
    dx = rstd * (gw - gw.mean(axis=axes, keepdims=True) - xhat * (gw * xhat).mean(axis=axes, keepdims=True))
    others = tuple(range(x.ndim - len(axes)))
    shares = [g * xhat if k == "w" else g for k in affine]
    return (dx, *(share.sum(axis=others) if others else share for share in shares))


def _layer_norm_reads(k: int, n: int) -> str:
    """Every share reads x, and the weight if it is an input (a little more than the bias's share needs)."""
    return "{0}" if n == 1 else "{0} {1}"


LAYER_NORM = built_in(Op("layer_norm", _layer_norm_rule, on_arrays=_layer_norm, reads=_layer_norm_reads,
                         backward="NativeLayerNormBackward0"))


def _cross_entropy(target, rows, divisor, z):
    with silent():
        shifted = z - z.max(axis=1, keepdims=True)
        lse = np.log(np.exp(shifted).sum(axis=1))
        counted = lse if rows is None else lse[rows]
        return np.asarray((counted - shifted[target]).sum() / divisor, dtype=z.dtype)


def _cross_entropy_rule(target, rows, divisor, g, out, logits):
    """d(sum_i -log softmax(z_i)[t_i] / divisor)/dz = (softmax(z) - onehot(t)) g / divisor over the counted
    rows, computed as PyTorch does: the picked log-probabilities get -g/divisor, every other element exactly
    0 (whatever g is), then log_softmax's rule (so an ignored row gets 0, or nan where its logits are)."""
    picked = zero_where(~target, expand(-g / divisor, target.shape))
    return (picked - softmax(logits, -1) * picked.sum(axis=-1, keepdims=True),)


# `target`: the one-hot boolean mask of the target classes, one True per counted row (none in an ignored
# row); `rows`: the counted rows (None: all); `divisor`: their number for the mean, 1 for the sum
CROSS_ENTROPY = built_in(Op("cross_entropy", _cross_entropy_rule, on_arrays=_cross_entropy, reads="{0}",
                            backward="NllLossBackward0"))


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
    return (g.transpose(inverse) if isinstance(g, np.ndarray) else g.permute(inverse),)


PERMUTE = built_in(Op("permute", _permute_rule, on_arrays=_permute, reads="", view=True, method="permute",
                      function=True, backward="PermuteBackward0"))


def _expand(shape, x):
    return np.broadcast_to(x, shape)


def _expand_rule(shape, g, out, a):
    """Broadcasting copies an element to many places: their gradients add up back into it."""
    return (sum_to(g, a.shape),)


EXPAND = built_in(Op("expand", _expand_rule, on_arrays=_expand, reads="", method="expand", backward="ExpandBackward0"))


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
    elif target is out and x.size and all(isinstance(p, np.ndarray) and p.dtype.kind in "iu" for p in parts):
        k = len(parts)  # rows, as an embedding takes: the leading k axes picked by integer arrays
        rows = np.ravel_multi_index(np.broadcast_arrays(*parts), shape[:k], mode="wrap").ravel()  # -1 is the last
        _add_rows(out.reshape((-1,) + shape[k:]), rows, x.reshape((rows.size,) + shape[k:]))
    else:
        np.add.at(target, index, x)
    return out


def _add_rows(out, rows, x):
    """out[rows[i]] += x[i] for each i, a row taken twice adding twice: the rows sorted and each run of
    one row summed at once (np.add.at adds element by element, several times slower)."""
    order = np.argsort(rows, kind="stable")
    rows = rows[order]
    starts = np.flatnonzero(np.concatenate(([True], rows[1:] != rows[:-1])))
    out[rows[starts]] += np.add.reduceat(x[order], starts, axis=0)


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


# Copies, conversions and selections, elementwise.
def _clone(x):
    return x.copy()


def _clone_rule(g, out, a):
    """A copy passes the gradient through."""
    return (g,)


CLONE = built_in(Op("clone", _clone_rule, on_arrays=_clone, reads="", method="clone", function=True,
                    backward="CloneBackward0"))


def _astype(dtype, x):
    return x.astype(dtype)


def _astype_rule(dtype, g, out, a):
    """Converting the dtype (between floating dtypes): the gradient is converted back."""
    return (cast(g, a.dtype),)


ASTYPE = built_in(Op("astype", _astype_rule, on_arrays=_astype, reads="", method="astype",
                     backward="ToCopyBackward0"))  # and `to`, `float`, ...


def _clamp(low, high, x):
    return np.minimum(np.maximum(x, low), high).astype(x.dtype, copy=False)


def _clamp_rule(low, high, g, out, a):
    """d clamp(x)/dx = 1 where low <= x <= high, exactly 0 elsewhere (as PyTorch)."""
    x = data_of(a)
    return (zero_where(~((x >= low) & (x <= high)), g),)


CLAMP = built_in(Op("clamp", _clamp_rule, on_arrays=_clamp, reads="{0}", method="clamp", aliases=("clip",),
                    function=True, inplace=True, backward="ClampBackward1"))


def _masked_fill(keep, value, x):
    return np.where(keep, x, value)


def _masked_fill_rule(keep, value, g, out, a):
    """The filled elements came from no input: exactly zero gradient there, g elsewhere."""
    return (zero_where(~keep, g),)


MASKED_FILL = built_in(Op("masked_fill", _masked_fill_rule, on_arrays=_masked_fill, reads="", method="masked_fill",
                          function=True, inplace=True, backward="MaskedFillBackward0"))


def _where(condition, x, y):
    return np.where(condition, x, y)


def _where_rule(condition, g, out, x, y):
    """where(c, x, y): g goes to x where c holds, to y elsewhere."""
    return zero_where(~condition, g), zero_where(condition, g)


WHERE = built_in(Op("where", _where_rule, on_arrays=_where, reads="", function=True, backward="WhereBackward0"))


def _maximum_rule(g, out, a, b):
    """max(a, b): g to the larger, shared half and half where they are equal (as PyTorch)."""
    ra, rb = data_of(a), data_of(b)
    tie = (ra == rb).astype(ra.dtype) * 0.5
    return zero_where(ra < rb, g) * (1.0 - tie), zero_where(rb < ra, g) * (1.0 - tie)


MAXIMUM = built_in(Op("maximum", _maximum_rule, on_arrays=numpy_function("maximum"), reads="{0} {1}",
                      kind="binary", method="maximum", function=True,
                      doc="The elementwise larger of two tensors (nan if either is); ties share the gradient.",
                      backward="MaximumBackward0"))



# Comparisons: elementwise, without a gradient (their results are constants, bool), as PyTorch's.
_COMPARE = dict(kind="compare", function=True)
EQ = built_in(Op("==", on_arrays=numpy_function("equal"), method="eq", dunder="eq", ufunc="equal", **_COMPARE,
                 doc="x == y."))
NE = built_in(Op("!=", on_arrays=numpy_function("not_equal"), method="ne", dunder="ne", ufunc="not_equal", **_COMPARE,
                 doc="x != y."))
LT = built_in(Op("<", on_arrays=numpy_function("less"), method="lt", dunder="lt", ufunc="less", **_COMPARE,
                 doc="x < y."))
LE = built_in(Op("<=", on_arrays=numpy_function("less_equal"), method="le", dunder="le", ufunc="less_equal", **_COMPARE,
                 doc="x <= y."))
GT = built_in(Op(">", on_arrays=numpy_function("greater"), method="gt", dunder="gt", ufunc="greater", **_COMPARE,
                 doc="x > y."))
GE = built_in(Op(">=", on_arrays=numpy_function("greater_equal"), method="ge", dunder="ge",
                 ufunc="greater_equal", **_COMPARE,
                 doc="x >= y."))


def composite(name: str, method: bool = True, function: bool = True) -> Op:
    """An operation made of the ones above (its nodes are theirs): its method (or function) is written
    by hand, checking its arguments as PyTorch does, in `glassgrad.tensor` or `glassgrad.tensor_methods`."""
    return built_in(Op(name, method=name if method else "", function=function))


# Composite operations, by PyTorch's names; `function`: also `glassgrad.<name>`, as `torch.<name>`.
MIN = composite("min")  # -max(-x)
ARGMAX = composite("argmax")
ARGMIN = composite("argmin")
TOPK = composite("topk")  # indexing
ALL = composite("all")
ANY = composite("any")
ISCLOSE = composite("isclose")
ALLCLOSE = composite("allclose")
EQUAL = composite("equal")
VIEW = composite("view", function=False)  # reshape
FLATTEN = composite("flatten")  # reshape
SQUEEZE = composite("squeeze")  # reshape
UNSQUEEZE = composite("unsqueeze")  # reshape
TRANSPOSE = composite("transpose")  # permute
BROADCAST_TO = composite("broadcast_to")  # expand
UNBIND = composite("unbind")  # indexing
STACK = composite("stack", method=False)  # unsqueeze and cat
