"""Utilities under `torch.utils`'s names: `glassgrad.utils.data` (datasets, samplers, the DataLoader)."""

from importlib import import_module
from types import ModuleType

__all__ = ["data"]


def __getattr__(name: str) -> ModuleType:
    if name == "data":
        return import_module("glassgrad.utils.data")
    raise AttributeError(f"module 'glassgrad.utils' has no attribute {name!r}")
