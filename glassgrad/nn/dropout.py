"""`Dropout`: during training, each element zeroed with probability p (the rest scaled by 1 / (1 - p)),
so that a network cannot lean on any one unit; in evaluation mode, nothing changes."""

from __future__ import annotations

from glassgrad._tensor.tensor import Tensor
from glassgrad.nn import functional as F
from glassgrad.nn.module import Module


class Dropout(Module):
    """`F.dropout` with this module's `p`, active in training mode (`model.train()`), off after `model.eval()`."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        self.p = F.check_dropout(p)
        if inplace:
            raise NotImplementedError("Dropout: inplace=True is not supported by glassgrad")
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
