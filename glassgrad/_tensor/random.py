"""Random numbers as PyTorch draws them: a `Generator` seeded with `manual_seed`, and `randn`, `rand`,
`randint`, `multinomial`, `randperm` taking `generator=`.

A `Generator` wraps numpy's PCG64 generator: the same seed gives the same numbers every run, but
not the numbers PyTorch's generator gives for that seed (see docs/torch_compat.md). Without
`generator=`, numbers come from `default_generator`, which `manual_seed` reseeds.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from glassgrad._tensor.creation import size_of, wrap
from glassgrad._tensor.devices import on_cpu
from glassgrad._tensor.dtypes import FLOATING, get_default_dtype, int64, to_dtype
from glassgrad._tensor.tensor import Tensor

_DEFAULT_SEED = 67280421310721  # PyTorch's default seed


class Generator:
    """A source of random numbers with its own state: `Generator().manual_seed(2147483647)`."""

    def __init__(self, device: Any = "cpu") -> None:
        self.device = on_cpu(device, "Generator")
        self.manual_seed(_DEFAULT_SEED)

    def manual_seed(self, seed: int) -> Generator:
        """Restart the stream from `seed` (an integer); returns the generator, as PyTorch's does."""
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
            raise TypeError(f"manual_seed: expected an integer seed, got {type(seed).__name__} {seed!r}")
        self._seed = int(seed)
        self.numpy = np.random.default_rng(self._seed % 2**64)
        return self

    def initial_seed(self) -> int:
        """The seed the stream was last started from."""
        return self._seed

    def __repr__(self) -> str:
        return f"Generator(seed={self._seed})"


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Reseed the default generator (the numbers drawn without `generator=`)."""
    return default_generator.manual_seed(seed)


def draw_seed(generator: Generator | None = None) -> int:
    """A seed for a new generator, drawn from `generator` (the default one for None): an integer in
    [0, 2^63), what PyTorch's `torch.empty((), dtype=torch.int64).random_(generator=g).item()` draws,
    which is how its DataLoader and RandomSampler start their streams."""
    return int(_source(generator, "draw_seed").integers(0, 2**63))


def numpy_generator(source: int | Generator | np.random.Generator | None) -> np.random.Generator:
    """The numpy generator to draw from: `default_generator`'s for None, a new one for an integer seed."""
    if source is None:
        return default_generator.numpy
    if isinstance(source, Generator):
        return source.numpy
    if isinstance(source, np.random.Generator):
        return source
    if isinstance(source, numbers.Integral) and not isinstance(source, bool):
        return np.random.default_rng(int(source))
    raise TypeError(f"expected a seed (int), a glassgrad.Generator or None, got {type(source).__name__}")


def _source(generator: Generator | None, where: str) -> np.random.Generator:
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(f"{where}: generator= must be a glassgrad.Generator, got {type(generator).__name__}")
    return numpy_generator(generator)


def _floating(dtype: Any, where: str) -> np.dtype:
    resolved = get_default_dtype() if dtype is None else to_dtype(dtype, where)
    if resolved not in FLOATING:
        raise TypeError(f"{where}: draws floating numbers; dtype must be float32 or float64, got {resolved}")
    return resolved


def randn(
    *size: Any, generator: Generator | None = None, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """Numbers from the standard normal distribution (mean 0, variance 1), of `size`."""
    on_cpu(device, "randn")
    shape = size_of(size, "randn")
    data = _source(generator, "randn").standard_normal(shape)
    return wrap(data.astype(_floating(dtype, "randn"), copy=False), requires_grad)


def rand(
    *size: Any, generator: Generator | None = None, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """Numbers uniform in [0, 1), of `size`."""
    on_cpu(device, "rand")
    shape = size_of(size, "rand")
    data = _source(generator, "rand").random(shape)
    return wrap(data.astype(_floating(dtype, "rand"), copy=False), requires_grad)


def randn_like(input: Tensor, generator: Generator | None = None, dtype: Any = None, device: Any = None) -> Tensor:
    """Standard normal numbers of `input`'s shape and (floating) dtype."""
    return randn(input.shape, generator=generator, dtype=input.dtype if dtype is None else dtype, device=device)


def rand_like(input: Tensor, generator: Generator | None = None, dtype: Any = None, device: Any = None) -> Tensor:
    """Numbers uniform in [0, 1) of `input`'s shape and (floating) dtype."""
    return rand(input.shape, generator=generator, dtype=input.dtype if dtype is None else dtype, device=device)


def randint(
    *args: Any, size: Any = None, generator: Generator | None = None, dtype: Any = None, device: Any = None
) -> Tensor:
    """Integers uniform in [low, high): `randint(high, size)` or `randint(low, high, size)`, int64."""
    on_cpu(device, "randint")
    if size is not None:
        args = (*args, size)
    if len(args) == 2:
        args = (0, *args)
    if len(args) != 3 or not all(isinstance(a, numbers.Integral) for a in args[:2]):
        raise TypeError(f"randint: expected randint(high, size) or randint(low, high, size), got {args!r}")
    low, high, shape = int(args[0]), int(args[1]), size_of((args[2],), "randint")
    if low >= high:
        raise ValueError(f"randint: expected low < high, got low={low}, high={high}")
    data = _source(generator, "randint").integers(low, high, shape)
    return wrap(data.astype(int64 if dtype is None else to_dtype(dtype, "randint")))


def randperm(n: int, generator: Generator | None = None, dtype: Any = None, device: Any = None) -> Tensor:
    """The integers 0 .. n-1 in a random order, int64."""
    on_cpu(device, "randperm")
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise ValueError(f"randperm: n must be a non-negative integer, got {n!r}")
    data = _source(generator, "randperm").permutation(int(n))
    return wrap(data.astype(int64 if dtype is None else to_dtype(dtype, "randperm")))


def multinomial(
    input: Tensor, num_samples: int, replacement: bool = False, generator: Generator | None = None
) -> Tensor:
    """`num_samples` category indices per row of `input` (weights: non-negative, need not sum to 1), int64.

    Without replacement each category is drawn at most once, so at most as many as have weight > 0.
    """
    weights = np.asarray(input.data if isinstance(input, Tensor) else input, dtype=np.float64)
    if weights.ndim not in (1, 2) or weights.shape[-1] == 0:
        raise ValueError(f"multinomial: expected a 1-D or 2-D tensor of weights, got shape {weights.shape}")
    if isinstance(num_samples, bool) or not isinstance(num_samples, numbers.Integral) or num_samples <= 0:
        raise ValueError(f"multinomial: num_samples must be a positive integer, got {num_samples!r}")
    if not np.isfinite(weights).all() or (weights < 0).any():
        raise ValueError("multinomial: weights must be finite and non-negative (probabilities or counts)")
    rows = weights.reshape(-1, weights.shape[-1])
    totals = rows.sum(axis=1)
    if (totals <= 0).any():
        raise ValueError("multinomial: each row of weights must have a positive sum")
    if not replacement and num_samples > (rows > 0).sum(axis=1).min():
        raise ValueError(
            f"multinomial: cannot draw {num_samples} samples without replacement from "
            f"{int((rows > 0).sum(axis=1).min())} categories of non-zero weight"
        )
    rng = _source(generator, "multinomial")
    drawn = [
        rng.choice(len(row), size=num_samples, replace=replacement, p=row / total) for row, total in zip(rows, totals)
    ]
    return wrap(np.array(drawn, dtype=int64).reshape(weights.shape[:-1] + (num_samples,)))
