"""Functions of tensors that are not methods: `linear`, `layer_norm`, `where`, `cat`, `stack`, the
matrix product and the comparisons (each one node from its description), and the fused
cross-entropy node (`checked_cross_entropy`, for `glassgrad.nn.functional.cross_entropy`).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from glassgrad._tensor import tensor as core  # the class and its node makers, read when called
from glassgrad._tensor.arguments import _as_array, _axis, _broadcast, _real, _sizes
from glassgrad.autograd import MANY, data_of
from glassgrad.ops.tensor_elementwise import WHERE
from glassgrad.ops.tensor_ops import CROSS_ENTROPY, LAYER_NORM, LINEAR, LOG_SOFTMAX, MATMUL
from glassgrad.ops.tensor_shapes import CAT

if TYPE_CHECKING:
    from glassgrad._tensor.tensor import Tensor


def _matmul(a: Tensor, b: Tensor) -> Tensor:
    """a @ b as a node; its rule computes only the shares of inputs that require a gradient."""
    core._no_bools(MATMUL, a, b)
    if a.dtype != b.dtype:
        a, b = core._promoted((a, b))
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(
            f"@: both operands need at least one dimension, got shapes {tuple(a.shape)} and {tuple(b.shape)}"
        )
    core.Tensor._refresh_inputs(a, b)  # a view's present history first: `need` reads requires_grad
    try:
        return core._apply(MATMUL, (a, b), need=(a.requires_grad, b.requires_grad))
    except ValueError:
        raise ValueError(f"@: shapes {tuple(a.shape)} and {tuple(b.shape)} do not match for a matrix product") from None


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x W^T + b as one node: a layer of neurons, the Tensor twin of `engine.linear`.

    `x` has shape (..., nin), `weight` (nout, nin), `bias` (nout,); the result (..., nout).
    """
    for name, t in (("weight", weight), ("bias", bias)):
        if not isinstance(t, core.Tensor) and (t is not None or name == "weight"):
            raise TypeError(f"linear: the {name} must be a Tensor, got {type(t).__name__}")
    if not isinstance(x, core.Tensor):
        x = core._constant(_as_array(x, weight.dtype))
    for t in (weight, bias):
        if t is not None and t.dtype != x.dtype:
            raise ValueError(
                f"linear: the input is {x.dtype} but the layer's weights are {t.dtype}; convert the input "
                f"with x.astype(np.{t.dtype.name}), or make the layer with dtype=np.{x.dtype.name}"
            )
    if weight.ndim != 2:
        raise ValueError(f"linear: the weight must have shape (outputs, inputs), got {tuple(weight.shape)}")
    if bias is not None and bias.shape != weight.shape[:1]:
        raise ValueError(
            f"linear: the bias must have shape {tuple(weight.shape[:1])} (one per output), got {tuple(bias.shape)}"
        )
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: input has width {x.shape[-1] if x.ndim else 0} (shape {tuple(x.shape)}) "
            f"but the layer takes {weight.shape[1]}"
        )
    inputs = (x, weight) if bias is None else (x, weight, bias)
    core.Tensor._refresh_inputs(inputs, MANY)  # a view's present history first: `need` reads requires_grad
    return core._apply(LINEAR, inputs, need=tuple(t.requires_grad for t in inputs))


def checked_cross_entropy(
    logits: Tensor, classes: np.ndarray, rows: np.ndarray | None = None, reduction: str = "mean"
) -> Tensor:
    """`cross_entropy` of logits (n, classes) and integer classes already checked to be in range, as one
    node: for every row, or only for `rows` (the others ignored); their mean, or their sum. The
    log-probabilities are computed first and kept by the node, as PyTorch keeps log_softmax's result:
    its derivative reads them, not the logits."""
    target = np.zeros(logits.shape, dtype=bool)
    target[np.arange(len(classes)) if rows is None else rows, classes] = True
    divisor = len(classes) if reduction == "mean" else 1
    return core._apply(CROSS_ENTROPY, (logits,), target, divisor, LOG_SOFTMAX.on_arrays(1, logits._data))


def layer_norm(
    x: Tensor,
    normalized_shape: Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """(x - mean) / sqrt(var + eps) * weight + bias over the last dimensions, `normalized_shape`, with the
    biased variance, as one node (PyTorch's `F.layer_norm`)."""
    shape = _sizes(
        (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else (tuple(normalized_shape),),
        "layer_norm",
    )
    k = len(shape)
    if not isinstance(x, core.Tensor) or not k or x.ndim < k or x.shape[x.ndim - k :] != shape:
        got = tuple(x.shape) if isinstance(x, core.Tensor) else type(x).__name__
        raise ValueError(f"layer_norm: expected input of shape (*, {', '.join(map(str, shape))}), got {got}")
    inputs, affine = [x], ""
    for name, p in (("w", weight), ("b", bias)):
        if p is None:
            continue
        what = "weight" if name == "w" else "bias"
        if not isinstance(p, core.Tensor):
            raise TypeError(f"layer_norm: the {what} must be a Tensor (or None), got {type(p).__name__}")
        if p.shape != shape:
            raise ValueError(f"layer_norm: {what} has shape {tuple(p.shape)}, expected normalized_shape {shape}")
        if p.dtype != x.dtype:
            raise ValueError(f"layer_norm: the {what} is {p.dtype} but the input is {x.dtype}")
        inputs.append(p)
        affine += name
    axes = tuple(range(x.ndim - k, x.ndim))
    return core._apply(LAYER_NORM, tuple(inputs), axes, _real(eps, "layer_norm: eps"), affine)


def _compare(compare: Any, a: Tensor, b: Any, op: str) -> Tensor:
    """An elementwise comparison as a bool Tensor (a constant: comparisons have no gradient)."""
    if b is None and op in ("==", "!="):
        return op == "!="
    try:
        return core._constant(np.asarray(compare(a._data, data_of(b))))
    except ValueError:
        shapes = f"{tuple(a.shape)} and {np.shape(data_of(b))}"
        raise ValueError(f"{op}: shapes {shapes} do not match (cannot broadcast)") from None


def where(condition: Any, input: Any, other: Any) -> Tensor:
    """input where `condition` holds, other elsewhere (broadcast together); differentiable in both."""
    c = np.asarray(data_of(condition))
    if c.dtype != bool:  # not taken as its truth values: where(x, ...) with a float x is a mistake
        raise TypeError(f"where: the condition must be boolean (e.g. x > 0), got {c.dtype}")
    like = input if isinstance(input, core.Tensor) else other if isinstance(other, core.Tensor) else None
    if like is None:
        like = core.Tensor(input)
    x, y = core._promoted((core._operand(input, like), core._operand(other, like)))
    try:
        shape = np.broadcast_shapes(c.shape, x.shape, y.shape)
    except ValueError:
        shapes = f"{tuple(c.shape)}, {tuple(x.shape)} and {tuple(y.shape)}"
        raise ValueError(f"where: shapes {shapes} do not match (cannot broadcast)") from None
    x, y, c = _broadcast(x, shape), _broadcast(y, shape), np.broadcast_to(c, shape)
    return core._apply(WHERE, (x, y), c)


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """The tensors joined along `dim`; they must agree in every other dimension."""
    tensors = [t if isinstance(t, core.Tensor) else core.Tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("cat: expected a non-empty sequence of tensors")
    if any(t.ndim == 0 for t in tensors):
        raise ValueError("cat: a 0-d tensor cannot be concatenated (it has no dimension to join along)")
    tensors = core._promoted(tuple(tensors))
    if any(t.shape != (0,) for t in tensors):  # PyTorch skips a legacy empty tensor, tensor([]), beside others
        tensors = tuple(t for t in tensors if t.shape != (0,))
    one = _axis(dim, tensors[0].ndim, "cat")
    try:
        return core._apply(CAT, tuple(tensors), one, tuple(t.shape[one] for t in tensors))
    except ValueError:
        shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
        raise ValueError(f"cat: shapes {shapes} must agree in every dimension but {one}") from None


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """The tensors (all of one shape) stacked along a new axis `dim`."""
    tensors = [t if isinstance(t, core.Tensor) else core.Tensor(t) for t in tensors]
    if len({t.shape for t in tensors}) > 1:
        raise ValueError(f"stack: expects each tensor to be equal size, got {', '.join(str(t.shape) for t in tensors)}")
    return cat([t.unsqueeze(dim) for t in tensors], dim)
