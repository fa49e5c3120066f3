"""Datasets: what example i is (`dataset[i]`) and how many there are (`len(dataset)`)."""

from __future__ import annotations

from typing import Any

from glassgrad._tensor.tensor import Tensor


class Dataset:
    """A map from indices to examples: a subclass defines `__getitem__(i)` and `__len__()`."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__, the example at an index")


class TensorDataset(Dataset):
    """Example i is `(t[i] for t in tensors)`: rows of tensors that share their first dimension."""

    def __init__(self, *tensors: Tensor) -> None:
        if not tensors:
            raise ValueError("TensorDataset: give at least one tensor")
        sizes = [t.shape[0] if isinstance(t, Tensor) and t.ndim else None for t in tensors]
        if None in sizes:
            raise ValueError("TensorDataset: every argument must be a Tensor with at least one dimension")
        if len(set(sizes)) > 1:
            raise ValueError(f"Size mismatch between tensors: first dimensions {sizes}")
        self.tensors = tensors

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]
