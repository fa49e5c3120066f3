"""Initialising weights in place, as `torch.nn.init`: `normal_(w, mean=0.0, std=0.02)`, `zeros_(b)`, ...

Each fills the tensor's numbers (a parameter stays the same object, so optimizers made before still
hold it), records no graph, and returns the tensor. Random values are drawn from `generator` (the
default generator without one) by `glassgrad.random.normal` and `uniform`, which give PyTorch's
`normal_` and `uniform_` numbers: the same seed initialises a model with PyTorch's weights.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from glassgrad._tensor.random import Generator, normal, uniform
from glassgrad._tensor.tensor import Tensor

_GAINS = {"linear": 1.0, "conv1d": 1.0, "conv2d": 1.0, "conv3d": 1.0, "sigmoid": 1.0, "tanh": 5.0 / 3,
          "relu": math.sqrt(2.0), "selu": 3.0 / 4}  # fmt: skip


def _fill(tensor: Tensor, values: Any) -> Tensor:
    """Put `values` into `tensor`'s own array (its dtype kept)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"nn.init: expected a Tensor (e.g. module.weight), got {type(tensor).__name__}")
    np.copyto(tensor._data, np.asarray(values._data if isinstance(values, Tensor) else values), casting="unsafe")
    return tensor


def _floating(tensor: Tensor, where: str) -> None:
    if not isinstance(tensor, Tensor) or tensor.dtype.kind != "f":
        what = tensor.dtype if isinstance(tensor, Tensor) else type(tensor).__name__
        raise TypeError(f"{where}: draws floating numbers; expected a float32 or float64 Tensor, got {what}")


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Numbers uniform in [a, b)."""
    _floating(tensor, "uniform_")
    uniform(tensor._data, a, b, generator)
    return tensor


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Numbers from the normal distribution N(mean, std²)."""
    _floating(tensor, "normal_")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    normal(tensor._data, mean, std, generator)
    return tensor


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Every number `val`."""
    return _fill(tensor, val)


def zeros_(tensor: Tensor) -> Tensor:
    """Every number 0 (a bias, LayerNorm's shift)."""
    return _fill(tensor, 0)


def ones_(tensor: Tensor) -> Tensor:
    """Every number 1 (LayerNorm's and BatchNorm's scale)."""
    return _fill(tensor, 1)


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor by which to scale a layer's weights so that `nonlinearity` keeps activations' variance:
    5/3 for tanh, √2 for relu, √(2 / (1 + slope²)) for leaky_relu (slope `param`, 0.01 by default), ..."""
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, numbers.Real) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity not in _GAINS:
        raise ValueError(f"Unsupported nonlinearity {nonlinearity}")
    return _GAINS[nonlinearity]


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """The inputs and outputs each weight connects: (in_features, out_features) for a (out, in) matrix."""
    if tensor.ndim < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _is_empty(tensor: Tensor) -> bool:
    """Whether `tensor` has no numbers, so that there is nothing to initialise (PyTorch warns and does nothing)."""
    _floating(tensor, "nn.init")
    return tensor.numel() == 0


def _fan(tensor: Tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of {['fan_in', 'fan_out']}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Uniform in [-a, a], a = gain √(6 / (fan_in + fan_out)) (Glorot & Bengio)."""
    if _is_empty(tensor):
        return tensor
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = math.sqrt(3.0) * (gain * math.sqrt(2.0 / float(fan_in + fan_out)))  # PyTorch's order of rounding
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Normal with std = gain √(2 / (fan_in + fan_out)) (Glorot & Bengio)."""
    if _is_empty(tensor):
        return tensor
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator)


def kaiming_uniform_(
    tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
    generator: Generator | None = None,
) -> Tensor:
    """Uniform in [-b, b], b = gain √(3 / fan) (He et al.), fan the inputs (or outputs, mode='fan_out')."""
    if _is_empty(tensor):
        return tensor
    bound = math.sqrt(3.0) * (calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode)))
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(
    tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
    generator: Generator | None = None,
) -> Tensor:
    """Normal with std = gain / √fan (He et al.), fan the inputs (or outputs, mode='fan_out')."""
    if _is_empty(tensor):
        return tensor
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode)), generator)
