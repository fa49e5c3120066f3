"""Utilities under `torch.utils`'s names: `glassgrad.utils.data` (datasets, samplers, the DataLoader) and
`glassgrad.utils.tensorboard` (`SummaryWriter`)."""

from importlib import import_module
from types import ModuleType

__all__ = ["data", "tensorboard"]


def __getattr__(name: str) -> ModuleType:
    if name in __all__:
        return import_module(f"glassgrad.utils.{name}")
    raise AttributeError(f"module 'glassgrad.utils' has no attribute {name!r}")
