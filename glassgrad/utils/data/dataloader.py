"""`DataLoader`: a dataset's examples in batches, each batch collated into tensors.

Iterating a loader draws as PyTorch's does: `iter(loader)` draws one number from `generator` (the
default generator without one: PyTorch's base seed for its workers), then the sampler starts (a
`RandomSampler` draws its own seed first). So a program seeded with `manual_seed` takes the same
sequence of draws on glassgrad as on PyTorch. Workers are not processes here: `num_workers`,
`pin_memory`, `persistent_workers`, `prefetch_factor` and `timeout` are accepted, and the batches
are those PyTorch's workers would give, in the same order.
"""

from __future__ import annotations

import collections.abc
import copy
import numbers
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from glassgrad._tensor.creation import tensor
from glassgrad._tensor.dtypes import float64
from glassgrad._tensor.functional import stack
from glassgrad._tensor.random import Generator, draw_seed
from glassgrad._tensor.tensor import Tensor
from glassgrad.utils.data.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

_ERROR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _text_or_objects(array: np.ndarray) -> bool:
    return array.dtype.kind in "SaUO"


def default_collate(batch: Sequence) -> Any:
    """One batch from a list of examples, as PyTorch's `default_collate`: tensors (and numpy arrays) are
    stacked along a new first axis, Python floats become a float64 tensor and ints an int64 one (bools
    a bool one), strings stay a list; tuples and lists are collated position by position (a tuple gives
    a list), dicts key by key."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(batch, 0)
    if isinstance(elem, np.ndarray):
        if _text_or_objects(elem):
            raise TypeError(_ERROR.format(elem.dtype))
        return default_collate([tensor(b) for b in batch])
    if isinstance(elem, (np.bool_, np.number)):
        return tensor(np.array(batch))
    if isinstance(elem, float):
        return tensor(batch, dtype=float64)
    if isinstance(elem, int):
        return tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        collated = {key: default_collate([d[key] for d in batch]) for key in elem}
        if isinstance(elem, collections.abc.MutableMapping):
            clone = copy.copy(elem)
            clone.update(collated)
            return clone
        return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a namedtuple keeps its type
        return type(elem)(*(default_collate(samples) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(example) != len(elem) for example in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(samples) for samples in zip(*batch)]
    raise TypeError(_ERROR.format(type(elem)))


def default_convert(data: Any) -> Any:
    """An example with its numpy arrays and numbers made tensors (inside tuples, lists and dicts too; a
    tuple becomes a list, as PyTorch's): what a loader without batches (`batch_size=None`) gives."""
    if isinstance(data, (np.ndarray, np.bool_, np.number)):
        return data if isinstance(data, np.ndarray) and _text_or_objects(data) else tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return {key: default_convert(value) for key, value in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, (list, tuple)):
        return [default_convert(d) for d in data]
    return data


def get_worker_info() -> None:
    """Information about the worker process running this code: None, the loader runs in this process."""
    return None


def _non_negative(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value < 0:
        raise ValueError(f"{name} option should be non-negative, got {name}={value!r}")


def _check_arguments(dataset: Any, shuffle: bool | None, sampler: Any, num_workers: int, timeout: float,
                     worker_init_fn: Any, multiprocessing_context: Any, generator: Any, prefetch_factor: Any) -> None:
    """Refuse, with PyTorch's errors, the DataLoader's arguments that can't hold together or need workers."""
    _non_negative("num_workers", num_workers)
    _non_negative("timeout", timeout)
    if worker_init_fn is not None or multiprocessing_context is not None:
        raise NotImplementedError(
            "DataLoader: worker_init_fn and multiprocessing_context need worker processes; glassgrad's "
            "DataLoader runs in this process (num_workers is accepted and changes nothing)"
        )
    if prefetch_factor is not None and num_workers == 0:
        raise ValueError(
            "prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 to "
            "enable multiprocessing, otherwise set prefetch_factor to None."
        )
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(f"DataLoader: generator= must be a glassgrad.Generator, got {type(generator).__name__}")
    if not hasattr(dataset, "__getitem__"):
        raise TypeError(
            f"DataLoader: the dataset ({type(dataset).__name__}) has no __getitem__; glassgrad's DataLoader "
            "takes map-style datasets (a Dataset with __getitem__ and __len__, a list, a TensorDataset)"
        )
    if sampler is not None and shuffle:
        raise ValueError("sampler option is mutually exclusive with shuffle")


class DataLoader:
    """Batches of `dataset`: `batch_size` examples each (the last one shorter unless `drop_last`), in the
    order of `sampler` (a `RandomSampler` when `shuffle=True`, else 0, 1, ...), collated by `collate_fn`
    (`default_collate`). `batch_sampler` gives whole batches of indices instead; `batch_size=None` gives
    the examples one by one, uncollated."""

    def __init__(
        self,
        dataset: Any,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Sampler | collections.abc.Iterable | None = None,
        batch_sampler: Sampler | collections.abc.Iterable | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[list], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        multiprocessing_context: Any = None,
        generator: Generator | None = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
    ) -> None:
        _check_arguments(dataset, shuffle, sampler, num_workers, timeout, worker_init_fn, multiprocessing_context,
                         generator, prefetch_factor)
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last"
                )
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError(
                "batch_size=None option disables auto-batching and is mutually exclusive with drop_last"
            )
        if sampler is None:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset, self.batch_size, self.drop_last = dataset, batch_size, drop_last
        self.sampler, self.batch_sampler, self.generator = sampler, batch_sampler, generator
        self.num_workers, self.pin_memory, self.timeout = num_workers, pin_memory, timeout
        self.prefetch_factor, self.persistent_workers = prefetch_factor, persistent_workers
        self.pin_memory_device, self.in_order = pin_memory_device, in_order
        self.collate_fn = collate_fn if collate_fn is not None else (
            default_collate if batch_sampler is not None else default_convert
        )

    def __iter__(self) -> Iterator[Any]:
        indices = iter(self.batch_sampler if self.batch_sampler is not None else self.sampler)
        draw_seed(self.generator)  # PyTorch's base seed for its workers: drawn, as there, to keep the stream
        return self._batches(indices)

    def _batches(self, indices: Iterator[Any]) -> Iterator[Any]:
        for index in indices:
            if self.batch_sampler is None:
                yield self.collate_fn(self.dataset[index])
            elif hasattr(self.dataset, "__getitems__"):
                yield self.collate_fn(self.dataset.__getitems__(index))
            else:
                yield self.collate_fn([self.dataset[i] for i in index])

    def __len__(self) -> int:
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)  # type: ignore[arg-type]
