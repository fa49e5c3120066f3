"""Containers of modules: `ModuleList` (indexed, as a list) and `ModuleDict` (by name, as a dict).

They hold sub-modules so that `parameters()`, `state_dict()`, `train()`/`eval()` and `to()` find
them, under PyTorch's names (`h.0.attn.c_attn.weight`), but have no `forward`: the model that owns
them says how they are used (`for block in self.h: x = block(x)`).
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from glassgrad.nn.module import Module


def _child_lines(named: list[tuple[str, Module]]) -> list[str]:
    """`(name): repr` for each child, runs of equal reprs under consecutive indices as `(0-3): 4 x repr`,
    as PyTorch prints a ModuleList."""
    lines, i = [], 0
    while i < len(named):
        j = i
        text = repr(named[i][1])
        while j + 1 < len(named) and repr(named[j + 1][1]) == text:
            j += 1
        label = f"({named[i][0]})" if i == j else f"({named[i][0]}-{named[j][0]}): {j - i + 1} x"
        lines.append(f"{label}{':' if i == j else ''} " + text.replace("\n", "\n  "))
        i = j + 1
    return lines


def _module(value: Any, where: str) -> Module:
    if not isinstance(value, Module):
        raise TypeError(f"{where}: {type(value).__name__} is not a Module subclass")
    return value


class ModuleList(Module):
    """Modules in a list: `ModuleList([Block() for _ in range(n)])`, indexed, iterated, appended to."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        if modules is not None:
            self.extend(modules)

    def _index(self, i: Any) -> int:
        if isinstance(i, bool) or not isinstance(i, numbers.Integral):
            raise TypeError(f"ModuleList indices must be integers or slices, not {type(i).__name__}")
        n = len(self._modules)
        if not -n <= i < n:
            raise IndexError(f"index {i} is out of range")
        return int(i) % n

    def _renumber(self, modules: list[Module]) -> None:
        for name in list(self._modules):
            delattr(self, name)
        for module in modules:
            self.append(module)

    def __getitem__(self, i: int | slice) -> Module | ModuleList:
        modules = list(self._modules.values())
        if isinstance(i, slice):
            return ModuleList(modules[i])
        return modules[self._index(i)]

    def __setitem__(self, i: int, module: Module) -> None:
        self.add_module(str(self._index(i)), _module(module, "ModuleList"))

    def __delitem__(self, i: int | slice) -> None:
        modules = list(self._modules.values())
        del modules[i if isinstance(i, slice) else self._index(i)]
        self._renumber(modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList([*self, *other])

    def append(self, module: Module) -> ModuleList:
        """Add `module` at the end (as child `len(self)`); returns self."""
        self.add_module(str(len(self._modules)), _module(module, "ModuleList.append"))
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Append each of `modules`; returns self."""
        if not hasattr(modules, "__iter__"):
            raise TypeError(f"ModuleList.extend should be called with an iterable, but got {type(modules).__name__}")
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Put `module` before position `index`."""
        modules = list(self._modules.values())
        modules.insert(index, _module(module, "ModuleList.insert"))
        self._renumber(modules)

    def pop(self, index: int = -1) -> Module:
        """Remove and return the module at `index`."""
        module = self[index]
        del self[index]
        return module

    def __repr__(self) -> str:
        lines = _child_lines(list(self.named_children()))
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)" if lines else f"{type(self).__name__}()"


class ModuleDict(Module):
    """Modules by name: `ModuleDict(dict(wte=nn.Embedding(...), h=nn.ModuleList(...)))`; `d['wte']` and
    `d.wte` are the same module, and keys keep the order they were added in."""

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None) -> None:
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, _module(module, "ModuleDict"))

    def __delitem__(self, key: str) -> None:
        if key not in self._modules:
            raise KeyError(key)
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._modules))

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def keys(self) -> list[str]:
        return list(self._modules)

    def values(self) -> list[Module]:
        return list(self._modules.values())

    def items(self) -> list[tuple[str, Module]]:
        return list(self._modules.items())

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        """Add or replace modules from a mapping or from (key, module) pairs."""
        pairs = modules.items() if isinstance(modules, Mapping) else modules
        for i, pair in enumerate(pairs):
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise ValueError(f"ModuleDict update sequence element #{i} should be a (key, module) pair")
            self[pair[0]] = pair[1]

    def pop(self, key: str) -> Module:
        """Remove and return the module under `key`."""
        module = self[key]
        del self[key]
        return module

    def clear(self) -> None:
        """Remove every module."""
        for key in list(self._modules):
            del self[key]
