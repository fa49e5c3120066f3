"""The Tensor's methods made from the registry (`glassgrad.ops.OPS`), and the ones made of other operations.

Importing this module (`glassgrad.tensor` does, last) gives `Tensor` every method the registry
names. An elementwise operation's (kind "unary", "binary" or "compare") method, operator,
in-place variant and numpy dispatch are made here from its description; every other method is
written by hand, checking its arguments as PyTorch does: in the `Tensor` class, or below when it
is made of other operations (`topk` of indexing, `expand` of broadcasting, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from glassgrad import ops
from glassgrad._tensor.tensor import (
    _UFUNC_OPERATORS,
    Tensor,
    _binary,
    _compare,
    _constant,
    _operand,
    _result,
    _sizes,
    cat,
    stack,
    where,
)
from glassgrad.autograd import data_of
from glassgrad.ops import Op

__all__ = ["cat", "stack", "where"]  # the functions of several tensors: `glassgrad.cat`, ...


def _unary(op: Op) -> Callable[[Tensor], Tensor]:
    forward, name, rule = op.on_arrays, op.name, op.derivative
    if rule is None:  # no gradient: a constant

        def method(self: Tensor) -> Tensor:
            return _constant(np.asarray(forward(self.data)))
    else:

        def method(self: Tensor) -> Tensor:
            return _result(forward(self.data), self, None, name, rule)

    return method


def _binary_method(op: Op, reflected: bool = False) -> Callable[[Tensor, Any], Tensor]:
    """`self op other` (`other op self` when `reflected`: `2 * t` calls `t.__rmul__(2)`)."""
    if op.derivative is None:  # no gradient: a constant
        forward, name = op.on_arrays, op.name
        if reflected:
            return lambda self, other: _compare(forward, _operand(other, self), self, name)
        return lambda self, other: _compare(forward, self, other, name)
    if reflected:
        return lambda self, other: _binary(op, _operand(other, self), self)
    return lambda self, other: _binary(op, self, other)


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


def _install(op: Op) -> None:
    """Give `Tensor` the methods `op`'s entry names: made from its description when elementwise,
    else the hand-written ones (the class's own, or this module's function of that name)."""
    made: dict[str, Callable[..., Any]] = {}
    if op.kind == "unary":
        made[op.method] = _unary(op)
        if op.dunder:
            made[f"__{op.dunder}__"] = _unary(op)
    elif op.kind in ("binary", "compare"):
        made[op.method] = _binary_method(op)
        if op.dunder:
            made[f"__{op.dunder}__"] = _binary_method(op)
            if op.kind == "binary":
                made[f"__r{op.dunder}__"] = _binary_method(op, reflected=True)
    elif op.method and op.method not in vars(Tensor):
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
    return _constant(np.asarray(np.isclose(self.data, data_of(other), rtol=rtol, atol=atol, equal_nan=equal_nan)))


def allclose(self: Tensor, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    """Whether `isclose` holds everywhere."""
    return bool(np.allclose(self.data, data_of(other), rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(self: Tensor, other: Any) -> bool:
    """Whether the two have the same shape and the same elements."""
    return bool(np.array_equal(self.data, data_of(other)))


for _op in list(ops.OPS.values()):
    _install(_op)
