"""`Parameter`: a Tensor that a Module registers as trainable when it is assigned to an attribute."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad._tensor.tensor import Tensor
from glassgrad.autograd.node import Node

_ARRAY = Node.data  # the slot that holds a node's numbers


def _set_data(self: Parameter, value: Any) -> None:
    """`p.data = t`, PyTorch's way of giving a parameter other numbers: it takes t's (shared, any shape
    or dtype), keeping its gradient and `requires_grad`; a numpy array is taken as it is."""
    if isinstance(value, Tensor):
        value = value.data
    elif not isinstance(value, np.ndarray):
        raise TypeError(f"Variable data has to be a tensor, but got {type(value).__name__}")
    _ARRAY.__set__(self, value)


class Parameter(Tensor):
    """A leaf Tensor that requires a gradient (unless `requires_grad=False`) and that `Module`
    lists in `parameters()` and `state_dict()`."""

    __slots__ = ()
    data = property(_ARRAY.__get__, _set_data, doc="The numbers (a numpy array); `p.data = tensor` takes the tensor's.")

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        super().__init__([] if data is None else data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
