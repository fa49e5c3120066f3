"""Functions of Tensors under `torch.nn.functional`'s names: losses, softmax, one-hot, activations,
dropout, layer normalisation, embedding lookup and attention.

`import glassgrad.nn.functional as F` and PyTorch's calls read the same:
`F.cross_entropy(logits, Y)`, `F.softmax(logits, dim=1)`, `F.one_hot(xs, num_classes=27)`.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from glassgrad._tensor import functional as _tensor
from glassgrad._tensor.creation import wrap
from glassgrad._tensor.dtypes import int64
from glassgrad._tensor.random import bernoulli_
from glassgrad._tensor.tensor import Tensor
from glassgrad.ops import call, tensor_ops, tensor_shapes

_REDUCTIONS = ("mean", "sum", "none")


def _reduce(losses: Tensor, reduction: str, where: str) -> Tensor:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{where}: reduction={reduction!r} is not one of {_REDUCTIONS}")
    if reduction == "mean":
        return losses.mean()
    return losses.sum() if reduction == "sum" else losses


def _indices(target: Any, where: str) -> np.ndarray:
    array = np.asarray(target._data if isinstance(target, Tensor) else target)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{where}: expected integer class indices (int64), got dtype {array.dtype}; use .long()")
    return array


def _class_targets(input: Tensor, target: Any, ignore_index: int, where: str) -> tuple[np.ndarray, np.ndarray]:
    """The rows whose target is not `ignore_index`, and those targets, checked against the classes."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{where}: the input (logits) must be a Tensor, got {type(input).__name__}")
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
    return _picked(input, rows, classes, reduction, "nll_loss")


def cross_entropy(input: Tensor, target: Any, ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """mean_i -log softmax(input_i)[target_i] over the rows whose target is not `ignore_index`:
    the loss of a classifier from its logits (N, C) and integer classes (N,). Its derivative reads the
    log-probabilities (log_softmax's result, as PyTorch's), not the logits, which may then change in place."""
    rows, classes = _class_targets(input, target, ignore_index, "cross_entropy")
    if reduction in ("mean", "sum"):  # one node, with the fused softmax - onehot rule
        every = len(rows) == input.shape[0]
        return _tensor.checked_cross_entropy(input, classes, None if every else rows, reduction)
    return _picked(log_softmax(input, dim=1), rows, classes, reduction, "cross_entropy")


def _picked(log_probs: Tensor, rows: np.ndarray, classes: np.ndarray, reduction: str, who: str) -> Tensor:
    """-log_probs[row, class] for the rows kept, reduced; with reduction="none", 0 for an ignored row."""
    if reduction == "none":
        return tensor_shapes.scatter_add(-log_probs[rows, classes], rows, log_probs.shape[:1])
    return _reduce(-log_probs[rows, classes], reduction, who)


def mse_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """The mean (or sum) of (input - target)^2; the shapes must be equal (PyTorch only warns)."""
    shape = getattr(target, "shape", np.shape(target))
    if tuple(shape) != input.shape:
        raise ValueError(
            f"mse_loss: input of shape {tuple(input.shape)} and target of shape {tuple(shape)} differ; "
            "broadcasting them would compare the wrong pairs"
        )
    return _reduce(call(tensor_ops.SQUARED_ERROR, input, target), reduction, "mse_loss")


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


def layer_norm(
    input: Tensor, normalized_shape: Any, weight: Tensor | None = None, bias: Tensor | None = None, eps: float = 1e-5
) -> Tensor:
    """(x - mean) / sqrt(var + eps) * weight + bias over the last dimensions `normalized_shape`."""
    return _tensor.layer_norm(input, normalized_shape, weight, bias, eps)


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


GELU_APPROXIMATIONS = ("none", "tanh")


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x Φ(x), Φ the normal distribution function: 0.5 x (1 + erf(x / √2)) exactly, or with
    `approximate='tanh'` GPT-2's 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))."""
    if approximate not in GELU_APPROXIMATIONS:
        raise RuntimeError("approximate argument must be either none or tanh.")
    if approximate == "tanh":
        return 0.5 * input * (1.0 + (math.sqrt(2.0 / math.pi) * (input + 0.044715 * input**3)).tanh())
    return 0.5 * input * (1.0 + (input * math.sqrt(0.5)).erf())


def check_dropout(p: Any) -> float:
    """`p` as a float if it is a probability; PyTorch's ValueError otherwise."""
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    return float(p)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """In training, each element zeroed with probability `p` and the others scaled by 1 / (1 - p), so the
    expected value is unchanged; the mask is drawn from the default generator, as PyTorch draws it (the
    same seed drops the same elements). Otherwise the input itself."""
    p = check_dropout(p)
    if inplace:
        raise NotImplementedError("dropout: inplace=True is not supported by glassgrad; use the result instead")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    noise = bernoulli_(np.empty(input.shape, dtype=input.dtype), 1.0 - p)  # PyTorch's draws: its mask
    noise /= noise.dtype.type(1.0 - p)
    return input * wrap(noise)


def padding_row(padding_idx: Any, rows: int) -> int | None:
    """`padding_idx` of a table of `rows` rows as a row number (negative counts from the end), checked."""
    if padding_idx is None:
        return None
    if isinstance(padding_idx, bool) or not isinstance(padding_idx, numbers.Integral):
        raise TypeError(f"Embedding: padding_idx must be an integer, got {type(padding_idx).__name__}")
    if not -rows <= padding_idx < rows:
        raise ValueError(f"Embedding: padding_idx {padding_idx} must be within the {rows} rows (-{rows} to {rows - 1})")
    return int(padding_idx) % rows


def embedding(input: Any, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Row i of `weight` (num_embeddings, embedding_dim) for each index i of `input` (int64): the result
    has `input`'s shape and one more axis, of size embedding_dim. The row `padding_idx` gets no gradient."""
    array = np.asarray(input._data if isinstance(input, Tensor) else input)
    if array.dtype.kind not in "iu":
        raise TypeError(f"Embedding: expected integer (int64) indices, got {array.dtype}; convert with .long()")
    rows = weight.shape[0]
    if array.size and (array.min() < 0 or array.max() >= rows):
        bad = array.max() if array.max() >= rows else array.min()
        raise IndexError(f"Embedding: index {bad} is out of range for a table of {rows} rows")
    padding = padding_row(padding_idx, rows)
    if padding is None or not (array == padding).any():
        return weight[array]
    return _tensor.where((array == padding)[..., None], weight.detach()[array], weight[array])


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """softmax(q kᵀ · scale + mask) v over the last two dimensions, (..., L, E), (..., S, E), (..., S, Ev):
    attention of L queries to S keys, `scale` 1/√E by default. `is_causal` lets query i see keys 0..i;
    `attn_mask` is boolean (True: may attend) or added to the scores. A query that may see no key gets
    zeros, as PyTorch's CPU kernel gives. The weights are dropped out with `dropout_p` (always: pass
    0.0 outside training, as PyTorch)."""
    if enable_gqa:
        raise NotImplementedError("scaled_dot_product_attention: enable_gqa=True is not supported by glassgrad")
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True")
    for name, x in (("query", query), ("key", key), ("value", value)):
        if not isinstance(x, Tensor) or x.ndim < 2:
            raise ValueError(f"scaled_dot_product_attention: {name} must be a Tensor of shape (..., length, features)")
    p = check_dropout(dropout_p)
    L, S = query.shape[-2], key.shape[-2]
    scores = query @ key.transpose(-2, -1) * (1.0 / math.sqrt(query.shape[-1]) if scale is None else scale)
    bias = np.zeros((L, S), dtype=scores.dtype)
    if is_causal:
        bias = np.where(np.tri(L, S, dtype=bool), bias, -np.inf)
    elif attn_mask is not None:
        mask = np.asarray(attn_mask._data if isinstance(attn_mask, Tensor) else attn_mask)
        try:
            bias = np.broadcast_to(bias, np.broadcast_shapes(mask.shape, scores.shape))
        except ValueError:
            raise ValueError(f"scaled_dot_product_attention: a mask of shape {mask.shape} for scores of shape "
                             f"{scores.shape}") from None
        bias = np.where(mask, bias, -np.inf) if mask.dtype == np.bool_ else bias + mask.astype(scores.dtype)
    seen = ~np.isneginf(bias).all(axis=-1, keepdims=True)  # the queries that may attend to some key
    weights = (scores + np.where(seen, bias, 0.0)).softmax(-1)
    if not seen.all():
        weights = weights.masked_fill(np.broadcast_to(~seen, weights.shape), 0.0)
    return dropout(weights, p) @ value
