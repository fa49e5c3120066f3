"""PyTorch's free functions of tensors: `glassgrad.tanh(x)` is `x.tanh()`, and so on.

Each takes a Tensor (or numbers and arrays, made into a constant Tensor) and is differentiable
wherever PyTorch's is, because it is the Tensor method or operation of the same name.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad._tensor.creation import tensor
from glassgrad._tensor.tensor import Tensor, cat, maximum, stack, where
from glassgrad.autograd import data_of

__all__ = [
    "abs", "all", "allclose", "any", "cat", "clamp", "cos", "equal", "erf", "exp", "isclose", "log", "log10", "maximum",
    "pow", "relu", "sigmoid", "sin", "softmax", "sqrt", "stack", "tanh", "where",
]  # fmt: skip


def _t(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else tensor(x)


def tanh(input: Any) -> Tensor:
    """tanh x."""
    return _t(input).tanh()


def erf(input: Any) -> Tensor:
    """erf x, the error function."""
    return _t(input).erf()


def exp(input: Any) -> Tensor:
    """e^x."""
    return _t(input).exp()


def log(input: Any) -> Tensor:
    """ln x."""
    return _t(input).log()


def log10(input: Any) -> Tensor:
    """log10 x."""
    return _t(input).log10()


def sqrt(input: Any) -> Tensor:
    """√x."""
    return _t(input).sqrt()


def abs(input: Any) -> Tensor:
    """|x|."""
    return _t(input).abs()


def sin(input: Any) -> Tensor:
    """sin x."""
    return _t(input).sin()


def cos(input: Any) -> Tensor:
    """cos x."""
    return _t(input).cos()


def sigmoid(input: Any) -> Tensor:
    """1 / (1 + e^-x)."""
    return _t(input).sigmoid()


def relu(input: Any) -> Tensor:
    """max(x, 0)."""
    return _t(input).relu()


def softmax(input: Any, dim: int) -> Tensor:
    """e^x / sum(e^x) along `dim`."""
    return _t(input).softmax(dim)


def clamp(input: Any, min: float | None = None, max: float | None = None) -> Tensor:
    """x limited to [min, max]."""
    return _t(input).clamp(min, max)


def pow(input: Any, exponent: Any) -> Tensor:
    """input ** exponent (either may be a number)."""
    return _t(input) ** exponent if isinstance(input, Tensor) or not isinstance(exponent, Tensor) else input**exponent


def all(input: Tensor) -> Tensor:
    """Whether every element is nonzero, as a bool Tensor."""
    return _t(input).all()


def any(input: Tensor) -> Tensor:
    """Whether some element is nonzero, as a bool Tensor."""
    return _t(input).any()


def isclose(input: Any, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:
    """|input - other| <= atol + rtol |other|, elementwise, as a bool Tensor."""
    return tensor(np.isclose(data_of(input), data_of(other), rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(input: Any, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    """Whether `isclose` holds everywhere."""
    return bool(np.allclose(data_of(input), data_of(other), rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(input: Any, other: Any) -> bool:
    """Whether the two have the same shape and the same elements."""
    return bool(np.array_equal(data_of(input), data_of(other)))



def unbind(input: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """The slices of `input` along `dim`, each without that dimension."""
    return input.unbind(dim)
