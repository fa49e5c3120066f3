"""Losses as modules: `criterion = nn.CrossEntropyLoss(); loss = criterion(logits, targets)`."""

from __future__ import annotations

from typing import Any

from glassgrad._tensor.tensor import Tensor
from glassgrad.nn import functional as F
from glassgrad.nn.module import Module


class MSELoss(Module):
    """The mean squared error (or its sum, with reduction='sum')."""

    def __init__(self, reduction: str = "mean") -> None:
        self.reduction = reduction

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class CrossEntropyLoss(Module):
    """The cross-entropy of logits (N, C) and integer classes (N,), skipping targets equal to `ignore_index`."""

    def __init__(self, ignore_index: int = -100, reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        if label_smoothing != 0.0:
            raise NotImplementedError("CrossEntropyLoss: label_smoothing is not supported by glassgrad")
        self.ignore_index, self.reduction = ignore_index, reduction

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.cross_entropy(input, target, ignore_index=self.ignore_index, reduction=self.reduction)
