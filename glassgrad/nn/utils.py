"""Helpers for training loops, as `torch.nn.utils`: clipping gradients before the optimizer's step."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from glassgrad._tensor.creation import tensor as make_tensor
from glassgrad._tensor.tensor import Tensor


def _grads(parameters: Tensor | Iterable[Tensor], where: str) -> list[Tensor]:
    """The gradients of `parameters` (one tensor or an iterable of them) that exist."""
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for p in parameters:
        if not isinstance(p, Tensor):
            raise TypeError(f"{where}: expected Tensors (model.parameters()), got {type(p).__name__}")
    return [p.grad for p in parameters if p.grad is not None]


def _put(grad: Tensor, values: np.ndarray) -> None:
    """Make `values` grad's numbers, in place (a read-only gradient array is replaced)."""
    if grad._data.flags.writeable:
        np.copyto(grad._data, values, casting="unsafe")
    else:
        grad._data = values.astype(grad.dtype)


def _norm(x: np.ndarray, p: float) -> np.ndarray:
    """The p-norm of all of x's numbers (p = inf: the largest magnitude)."""
    x = np.abs(x.ravel())
    if p == math.inf:
        return x.max(initial=0).astype(x.dtype)
    if p == 2.0:
        return np.sqrt(np.dot(x, x))
    return (x**p).sum() ** (1.0 / p)


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float | str = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """Scale every gradient by max_norm / (total + 1e-6) when that is below 1, `total` the `norm_type`-norm
    of all the gradients together (as one vector); returns `total` (before clipping), a 0-d tensor."""
    p = math.inf if norm_type in ("inf", math.inf) else float(norm_type)
    if not p > 0:
        raise ValueError(f"clip_grad_norm_: norm_type must be positive (2.0, 1.0, 'inf', ...), got {norm_type!r}")
    grads = _grads(parameters, "clip_grad_norm_")
    if not grads:
        return make_tensor(0.0)
    dtype = np.result_type(*(g.dtype for g in grads))
    total = _norm(np.array([_norm(g._data, p) for g in grads], dtype=dtype), p)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {float(p)} for gradients from `parameters` is non-finite, so it cannot be "
            "clipped. To disable this error and scale the gradients by the non-finite norm anyway, set "
            "`error_if_nonfinite=False`"
        )
    factor = np.minimum(np.asarray(max_norm, dtype=dtype) / (total + dtype.type(1e-6)), dtype.type(1.0))
    for g in grads:
        _put(g, g._data * factor.astype(g.dtype))
    return make_tensor(np.asarray(total, dtype=dtype))


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float, foreach: bool | None = None) -> None:
    """Clamp every gradient's numbers to [-clip_value, clip_value], in place."""
    for g in _grads(parameters, "clip_grad_value_"):
        _put(g, np.clip(g._data, -clip_value, clip_value))
