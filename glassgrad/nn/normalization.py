"""Normalisation layers: `BatchNorm1d` (statistics over the batch) and `LayerNorm` (over each example).

Both give their input zero mean and unit variance, then scale by `weight` (gamma, starting at 1)
and shift by `bias` (beta, starting at 0):  y = (x - mean) / sqrt(var + eps) * weight + bias,
with the biased variance, as PyTorch.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from glassgrad._tensor.creation import wrap
from glassgrad._tensor.dtypes import int64
from glassgrad._tensor.tensor import Tensor
from glassgrad.autograd import no_grad
from glassgrad.nn import functional as F
from glassgrad.nn.layers import _check_size, _float_dtype
from glassgrad.nn.module import Module
from glassgrad.nn.parameter import Parameter


class BatchNorm1d(Module):
    """Normalises each of `num_features` channels over the batch: input (N, C) or (N, C, L).

    In training mode it uses the batch's mean and variance and updates `running_mean` and
    `running_var` (the unbiased variance) by `momentum`: running = (1 - momentum) * running +
    momentum * batch (`momentum=None`: the average over all batches). In evaluation mode
    (`model.eval()`) it uses the running statistics instead, so one example can be normalised.
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        dtype: Any = None,
    ) -> None:
        _check_size("BatchNorm1d", "num_features", num_features)
        dtype = _float_dtype(dtype, "BatchNorm1d")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype=dtype))
            self.bias = Parameter(np.zeros(num_features, dtype=dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", wrap(np.zeros(num_features, dtype=dtype)))
            self.register_buffer("running_var", wrap(np.ones(num_features, dtype=dtype)))
            self.register_buffer("num_batches_tracked", wrap(np.array(0, dtype=int64)))

    def forward(self, x: Tensor) -> Tensor:
        c = self.num_features
        if not isinstance(x, Tensor) or x.ndim not in (2, 3) or x.shape[1] != c:
            shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"BatchNorm1d({c}): expected input of shape (N, {c}) or (N, {c}, L), got {shape}")
        axes = (0,) if x.ndim == 2 else (0, 2)
        shape = (1, c) if x.ndim == 2 else (1, c, 1)
        if self.training or not self.track_running_stats:
            n = x.numel() // c
            if self.training and n <= 1:
                raise ValueError(
                    f"BatchNorm1d: expected more than 1 value per channel when training, got shape {x.shape}"
                )
            mean = x.mean(axis=axes, keepdims=True)
            var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
            if self.training and self.track_running_stats:
                self._track(mean._data.reshape(c), var._data.reshape(c), n)
        else:
            mean = self.running_mean.reshape(shape)
            var = self.running_var.reshape(shape)
        out = (x - mean) / (var + self.eps) ** 0.5
        if self.affine:
            out = out * self.weight.reshape(shape) + self.bias.reshape(shape)
        return out

    def _track(self, mean: np.ndarray, var: np.ndarray, n: int) -> None:
        """Move the running statistics towards this batch's (its variance made unbiased: n / (n - 1))."""
        with no_grad():
            self.num_batches_tracked._data += 1
            m = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked._data)
            self.running_mean._data[...] = (1.0 - m) * self.running_mean._data + m * mean
            self.running_var._data[...] = (1.0 - m) * self.running_var._data + m * var * (n / (n - 1))

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"track_running_stats={self.track_running_stats}"
        )


class LayerNorm(Module):
    """Normalises each example over its last dimensions, `normalized_shape` (an int or a tuple)."""

    def __init__(
        self,
        normalized_shape: int | tuple[int, ...],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        dtype: Any = None,
    ) -> None:
        shape = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else tuple(normalized_shape)
        for n in shape:
            _check_size("LayerNorm", "normalized_shape", n)
        dtype = _float_dtype(dtype, "LayerNorm")
        self.normalized_shape, self.eps, self.elementwise_affine = shape, eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(np.ones(shape, dtype=dtype))
            if bias:
                self.bias = Parameter(np.zeros(shape, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x: Tensor) -> Tensor:
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
