"""The operations only arrays have, one entry each in the registry (`glassgrad.ops.OPS`): matrix
products and `linear`, reductions (sums, means, variances, maxima), softmax, layer normalisation and
the losses' fused nodes; and the helpers the Tensor rules are written with (`sum_to`, `expand`, ...).
The shape operations and indexing are in `tensor_shapes.py`, the elementwise ones in `tensor_elementwise.py`.

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
(`expand`, `softmax`, ...) ask whether it is a `Node`, and call the Tensor's own method.
"""

from __future__ import annotations

import math
from typing import Any

from glassgrad.autograd import Node, data_of
from glassgrad.ops import floatmath
from glassgrad.ops.helpers import div, silent, zero_where
from glassgrad.ops.registry import LazyNumpy, Op, built_in

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


def _centred(x, axis):
    """x - its mean over `axis` (nan where the axis is empty, as PyTorch, without numpy's warning)."""
    if isinstance(x, Node):
        return x - x.mean(axis=axis, keepdims=True)
    return x - _mean(axis, True, x.size if axis is None else math.prod(x.shape[a] for a in axis), x)


def _var(axis, keepdims, d, x):
    with silent():
        centred = _centred(x, axis)
        return np.asarray((centred * centred).sum(axis=axis, keepdims=keepdims) / d)


def _var_rule(axis, keepdims, d, g, out, a):
    """d var/dx_i = 2 (x_i - mean x) / d (d = n - correction), as PyTorch computes it: g times the slope,
    with no difference of sums (an infinite g gives ±inf where the terms would give inf - inf)."""
    return (_spread(g, a.shape, axis, keepdims) * floatmath.div(2.0, d) * _centred(a, axis),)


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


# `min` is -max(-x), `amax` max over a tuple of axes (below), max(dim) `max_dim`
MAX = built_in(Op("max", _max_rule, on_arrays=_max, reads="{0} {out}", method="max", function=True,
                  backward="MaxBackward1"))


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


MAX_DIM = built_in(Op("max_dim", _max_dim_rule, on_arrays=_max_dim, reads="", backward="MaxBackward0"))


def _squared_error(a, b):
    with silent():
        d = a - b
        return d * d


def _squared_error_rule(g, out, a, b):
    """d(a - b)²/da = 2 (a - b), d/db = -2 (a - b): from both inputs, as PyTorch's mse_loss."""
    share = g * (2.0 * (a - b))
    return share, -share


# mse_loss's elementwise part
SQUARED_ERROR = built_in(Op("squared_error", _squared_error_rule, on_arrays=_squared_error, reads="{0} {1}",
                            backward="MseLossBackward0"))


# Softmax along one axis, computed from x - max x so that it cannot overflow.
def _softmax_of(axis, x):
    e = np.exp(x - x.max(axis=axis, keepdims=True, initial=-np.inf))  # initial: an empty x has no maximum
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
        shifted = x - x.max(axis=axis, keepdims=True, initial=-np.inf)
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


def _cross_entropy(target, divisor, log_probs, z):
    with silent():
        return np.asarray(-log_probs[target].sum() / divisor, dtype=z.dtype)


def _cross_entropy_rule(target, divisor, log_probs, g, out, logits):
    """d(sum_i -log softmax(z_i)[t_i] / divisor)/dz = (softmax(z) - onehot(t)) g / divisor over the counted
    rows, computed as PyTorch does: the picked log-probabilities get -g/divisor, every other element exactly
    0 (whatever g is), then log_softmax's rule (so an ignored row gets 0, or nan where its logits are).
    softmax(z) is e^log_probs, the log-probabilities the forward pass kept (as PyTorch keeps log_softmax's
    result), so the logits may change in place after; with create_graph=True, softmax(z - z.detach() +
    log_probs): their value, and softmax's derivative at them."""
    picked = zero_where(~target, expand(-g / divisor, target.shape))
    kept = logits - logits.detach() + log_probs if isinstance(logits, Node) else log_probs  # z - z is 0
    return (picked - softmax(kept, -1) * picked.sum(axis=-1, keepdims=True),)


# `target`: the one-hot boolean mask of the target classes, one True per counted row (none in an ignored
# row); `divisor`: the number of counted rows for the mean, 1 for the sum; `log_probs`: log_softmax(z)
CROSS_ENTROPY = built_in(Op("cross_entropy", _cross_entropy_rule, on_arrays=_cross_entropy, reads="",
                            backward="NllLossBackward0"))
