"""Running sums, products and norms, one registry entry each: `cumsum`, `prod`, `norm`.

As in `glassgrad.ops.tensor_ops`, a parameter (the axis, the order p) comes first in the forward and
the rule, and each rule is written with operations arrays and Tensors both have, so `create_graph=True`
differentiates it again.
"""

from __future__ import annotations

from typing import Any

from glassgrad.autograd import Node, data_of
from glassgrad.ops.elementwise import _sign
from glassgrad.ops.helpers import div, power, silent, zero_where
from glassgrad.ops.registry import LazyNumpy, Op, built_in
from glassgrad.ops.tensor_ops import _spread

np = LazyNumpy(globals())  # numpy itself from the first array on


def _flip(x: Any, axis: int) -> Any:
    return x.flip(axis) if isinstance(x, Node) else np.flip(x, axis)


def _cumsum(axis: int, x: Any) -> Any:
    with silent():  # integers and bools sum as int64, as PyTorch's
        return np.cumsum(x, axis=axis, dtype=np.int64 if x.dtype.kind in "biu" else None)


def _cumsum_rule(axis: int, g, out, a):
    """out_i = x_0 + ... + x_i: x_j's share is g_j + g_(j+1) + ..., the running sum of g from the end."""
    return (_flip(_flip(g, axis).cumsum(axis) if isinstance(g, Node) else _cumsum(axis, _flip(g, axis)), axis),)


CUMSUM = built_in(Op("cumsum", _cumsum_rule, on_arrays=_cumsum, reads="", method="cumsum", function=True,
                     backward="CumsumBackward0"))


def _prod(axis, keepdims, x):
    with silent():
        return np.asarray(np.prod(x, axis=axis, keepdims=keepdims, dtype=np.int64 if x.dtype.kind in "biu" else None))


def _others(x: Any, axis: int) -> Any:
    """The product of the other elements along `axis`, for each element: exact where x has zeros (no
    division), from the products before it and after it; on Tensors, as a product itself (each row of
    x repeated with its own element set to 1), so that it is differentiated again."""
    if isinstance(x, Node):
        n = x.shape[axis]
        spread = x.unsqueeze(axis).expand(*x.shape[:axis], n, *x.shape[axis:])
        own = np.eye(n, dtype=bool).reshape((1,) * axis + (n, n) + (1,) * (x.ndim - axis - 1))
        return spread.masked_fill(own, 1.0).prod(axis + 1)
    ones = np.ones_like(np.take(x, [0], axis=axis))
    before = np.cumprod(np.concatenate([ones, np.take(x, range(x.shape[axis] - 1), axis=axis)], axis=axis), axis=axis)
    after = _flip(np.cumprod(np.concatenate([ones, _flip(np.take(x, range(1, x.shape[axis]), axis=axis), axis)],
                                            axis=axis), axis=axis), axis)
    return before * after


def _prod_rule(axis, keepdims, g, out, a):
    """d(prod x)/dx_i = the product of the others (exactly, where some x are 0: as PyTorch)."""
    if axis is None:  # over everything: the flat tensor's
        flat = a.reshape((-1,))
        return (_spread(g, a.shape, axis, keepdims) * _others(flat, 0).reshape(a.shape),)
    with silent():
        return (_spread(g, a.shape, axis, keepdims) * _others(a, axis[0]),)


PROD = built_in(Op("prod", _prod_rule, on_arrays=_prod, reads="{0}", method="prod", function=True,
                   backward="ProdBackward0"))


def _norm(p, axis, keepdims, x):
    with silent():
        if p == 2:
            return np.asarray(np.sqrt((x * x).sum(axis=axis, keepdims=keepdims)))
        if p == 1:
            return np.asarray(np.abs(x).sum(axis=axis, keepdims=keepdims))
        return np.asarray((np.abs(x) ** p).sum(axis=axis, keepdims=keepdims) ** (1.0 / p))


def _norm_rule(p, axis, keepdims, g, out, a):
    """d||x||_p/dx_i = x_i |x_i|^(p-2) / ||x||^(p-1) (p = 2: x_i / ||x||; p = 1: sign x_i), exactly 0
    where the norm is 0, as PyTorch's."""
    spread_g, norm = _spread(g, a.shape, axis, keepdims), _spread(out, a.shape, axis, keepdims)
    with silent():  # 0/0 where the norm is 0: zeroed below
        if p == 1:
            share = spread_g * _sign(data_of(a))
        elif p == 2:
            share = spread_g * div(a, norm)
        else:
            share = spread_g * a * power(abs(a), p - 2.0) / power(norm, p - 1.0)
    return (zero_where(data_of(norm) == 0, share),)


NORM = built_in(Op("norm", _norm_rule, on_arrays=_norm, reads="{0} {out}", method="norm", function=True,
                   backward="LinalgVectorNormBackward0"))
