"""`torch.cuda`'s questions, answered for a CPU library: no GPU is available.

Programs written for PyTorch ask `torch.cuda.is_available()` and seed the GPUs' generators
(`torch.cuda.manual_seed_all`); both work here (False; nothing to seed). What needs a GPU
(`synchronize`, `set_device`, ...) raises an error saying glassgrad runs on the CPU.
"""

from __future__ import annotations

import numbers
from typing import Any, NoReturn

from glassgrad._tensor.devices import not_available


def is_available() -> bool:
    """Whether a GPU can be used: never, glassgrad runs on the CPU."""
    return False


def device_count() -> int:
    """The number of GPUs glassgrad can use: 0."""
    return 0


def is_initialized() -> bool:
    """Whether CUDA was set up: never."""
    return False


def _check_seed(seed: Any, where: str) -> None:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"{where}: expected an integer seed, got {type(seed).__name__} {seed!r}")


def manual_seed(seed: int) -> None:
    """Seed the current GPU's generator, as PyTorch: with no GPU there is nothing to seed."""
    _check_seed(seed, "cuda.manual_seed")


def manual_seed_all(seed: int) -> None:
    """Seed every GPU's generator, as PyTorch: with no GPU there is nothing to seed."""
    _check_seed(seed, "cuda.manual_seed_all")


def synchronize(device: Any = None) -> NoReturn:
    """Wait for a GPU: an error, as there is none."""
    raise not_available("cuda.synchronize")


def set_device(device: Any) -> NoReturn:
    """Choose a GPU: an error, as there is none."""
    raise not_available("cuda.set_device")


def current_device() -> NoReturn:
    """The current GPU: an error, as there is none."""
    raise not_available("cuda.current_device")
