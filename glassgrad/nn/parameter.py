"""`Parameter`: a Tensor that a Module registers as trainable when it is assigned to an attribute."""

from __future__ import annotations

from typing import Any

from glassgrad._tensor.tensor import Tensor


class Parameter(Tensor):
    """A leaf Tensor that requires a gradient (unless `requires_grad=False`) and that `Module`
    lists in `parameters()` and `state_dict()`."""

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        super().__init__([] if data is None else data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
