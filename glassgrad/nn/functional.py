"""Functions of Tensors under `torch.nn.functional`'s names: losses, softmax, one-hot, activations.

`import glassgrad.nn.functional as F` and PyTorch's calls read the same:
`F.cross_entropy(logits, Y)`, `F.softmax(logits, dim=1)`, `F.one_hot(xs, num_classes=27)`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad._tensor import tensor as _tensor
from glassgrad._tensor.creation import wrap
from glassgrad._tensor.dtypes import int64
from glassgrad._tensor.tensor import Tensor
from glassgrad.ops import tensor_ops

_REDUCTIONS = ("mean", "sum", "none")


def _reduce(losses: Tensor, reduction: str, where: str) -> Tensor:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{where}: reduction={reduction!r} is not one of {_REDUCTIONS}")
    if reduction == "mean":
        return losses.mean()
    return losses.sum() if reduction == "sum" else losses


def _indices(target: Any, where: str) -> np.ndarray:
    array = np.asarray(target.data if isinstance(target, Tensor) else target)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{where}: expected integer class indices (int64), got dtype {array.dtype}; use .long()")
    return array


def _class_targets(input: Tensor, target: Any, ignore_index: int, where: str) -> tuple[np.ndarray, np.ndarray]:
    """The rows whose target is not `ignore_index`, and those targets, checked against the classes."""
    t = _indices(target, where)
    if input.ndim != 2 or t.shape != input.shape[:1]:
        raise ValueError(
            f"{where}: expected input of shape (N, C) and target of shape (N,), got {tuple(input.shape)} and "
            f"{tuple(t.shape)}"
        )
    keep = np.flatnonzero(t != ignore_index)
    kept = t[keep]
    classes = input.shape[1]
    if kept.size and (kept.min() < 0 or kept.max() >= classes):
        bad = kept.max() if kept.max() >= classes else kept.min()
        raise IndexError(f"{where}: target {bad} is out of bounds for {classes} classes")
    return keep, kept


def nll_loss(input: Tensor, target: Any, ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """-input[i, target_i] averaged (or summed) over the rows whose target is not `ignore_index`:
    the negative log-likelihood, given log-probabilities of shape (N, C)."""
    rows, classes = _class_targets(input, target, ignore_index, "nll_loss")
    if reduction == "none":
        return tensor_ops.scatter_add(-input[rows, classes], rows, input.shape[:1])  # 0 for an ignored row
    return _reduce(-input[rows, classes], reduction, "nll_loss")


def cross_entropy(input: Tensor, target: Any, ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """mean_i -log softmax(input_i)[target_i] over the rows whose target is not `ignore_index`:
    the loss of a classifier from its logits (N, C) and integer classes (N,)."""
    rows, classes = _class_targets(input, target, ignore_index, "cross_entropy")
    if reduction == "mean" and len(rows) == input.shape[0]:
        return _tensor.checked_cross_entropy(input, classes)  # one node, with the fused softmax - onehot rule
    return nll_loss(log_softmax(input, dim=1), target, ignore_index, reduction)


def mse_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """The mean (or sum) of (input - target)^2; the shapes must be equal (PyTorch only warns)."""
    shape = getattr(target, "shape", np.shape(target))
    if tuple(shape) != input.shape:
        raise ValueError(
            f"mse_loss: input of shape {tuple(input.shape)} and target of shape {tuple(shape)} differ; "
            "broadcasting them would compare the wrong pairs"
        )
    return _reduce((input - target) ** 2, reduction, "mse_loss")


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """An int64 tensor with one more axis of size `num_classes`: 1 at each index, 0 elsewhere."""
    t = _indices(tensor, "one_hot")
    if t.size and t.min() < 0:
        raise ValueError(f"one_hot: class values must be non-negative, got {t.min()}")
    if num_classes == -1:
        num_classes = int(t.max()) + 1 if t.size else 0
    if t.size and t.max() >= num_classes:
        raise ValueError(f"one_hot: class value {t.max()} must be smaller than num_classes={num_classes}")
    return wrap((t[..., None] == np.arange(num_classes)).astype(int64))


def _dim(dim: int | None, where: str) -> int:
    if dim is None:
        raise TypeError(f"{where}: give dim=, the dimension that sums to one (e.g. dim=1 for (N, C) logits)")
    return dim


def softmax(input: Tensor, dim: int | None = None) -> Tensor:
    """e^x / sum(e^x) along `dim`."""
    return input.softmax(_dim(dim, "softmax"))


def log_softmax(input: Tensor, dim: int | None = None) -> Tensor:
    """x - log(sum(e^x)) along `dim`."""
    return input.log_softmax(_dim(dim, "log_softmax"))


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """input @ weight^T + bias, weight of shape (out_features, in_features)."""
    return _tensor.linear(input, weight, bias)


def tanh(input: Tensor) -> Tensor:
    """tanh x elementwise."""
    return input.tanh()


def relu(input: Tensor) -> Tensor:
    """max(x, 0) elementwise."""
    return input.relu()


def sigmoid(input: Tensor) -> Tensor:
    """1 / (1 + e^-x) elementwise."""
    return input.sigmoid()
