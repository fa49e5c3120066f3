"""Feeding a model batches, as `torch.utils.data` does: a `Dataset` says what example i is, a sampler
in which order to take them, and a `DataLoader` groups them into batches and stacks each batch.

    loader = DataLoader(dataset, batch_size=32, shuffle=True)
    for X, Y in loader: ...

Everything runs in this process (`num_workers` is accepted and gives the same batches, in order, as
PyTorch's worker processes would). The random orders are drawn with glassgrad's generators, in
PyTorch's sequence of draws (see `sampler.RandomSampler` and `DataLoader.__iter__`).
"""

from glassgrad.utils.data.dataloader import DataLoader, default_collate, default_convert, get_worker_info
from glassgrad.utils.data.dataset import Dataset, TensorDataset
from glassgrad.utils.data.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = [
    "BatchSampler", "DataLoader", "Dataset", "RandomSampler", "Sampler", "SequentialSampler", "TensorDataset",
    "default_collate", "default_convert", "get_worker_info",
]  # fmt: skip
