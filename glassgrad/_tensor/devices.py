"""Devices under PyTorch's names: `glassgrad.device('cpu')`, `tensor.device`, `device=` and `.to(device)`.

glassgrad computes with numpy on the CPU, so 'cpu' is the one device a tensor can be on. A
`device` can still name any of PyTorch's device types (code builds `device('cuda')` to describe
what it would like), but placing a tensor, a module or a generator on anything but the CPU raises
an error that says so, never a silent CPU computation under another name.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from glassgrad._tensor.dtypes import to_dtype

# PyTorch's device types, in its order (torch.device('foo') lists them)
TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia", "xla")
TYPES += ("lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")
_INDEX = re.compile(r"0|[1-9][0-9]*")


class device:  # noqa: N801 - PyTorch's name
    """Where a tensor lives: `device('cpu')`, `device('cuda', 0)`, `device('cuda:0')`; its `type` and `index`."""

    __slots__ = ("_type", "_index")

    def __init__(self, type: str | device, index: int | None = None) -> None:
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        if not isinstance(type, str):
            raise TypeError(f"device: expected a device string such as 'cpu', got {type.__class__.__name__} {type!r}")
        if not type:
            raise RuntimeError("Device string must not be empty")
        name, colon, number = type.partition(":")
        if name not in TYPES:
            raise RuntimeError(f"Expected one of {', '.join(TYPES)} device type at start of device string: {type}")
        if colon:
            if not _INDEX.fullmatch(number):
                raise RuntimeError(f"Invalid device string: {type!r}")
            if index is not None:
                raise RuntimeError(f"device: type {type!r} already has an index; don't give index={index!r} too")
            index = int(number)
        if index is not None and (isinstance(index, bool) or not isinstance(index, int) or index < 0):
            raise RuntimeError(f"device: the index must be a non-negative integer, got {index!r}")
        self._type, self._index = name, index

    @property
    def type(self) -> str:
        """The kind of device: 'cpu', 'cuda', 'mps', ..."""
        return self._type

    @property
    def index(self) -> int | None:
        """Which device of its type (None: the current one)."""
        return self._index

    def __repr__(self) -> str:
        index = "" if self._index is None else f", index={self._index}"
        return f"device(type='{self._type}'{index})"

    def __str__(self) -> str:
        return self._type if self._index is None else f"{self._type}:{self._index}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, device) and (self._type, self._index) == (other._type, other._index)

    def __hash__(self) -> int:
        return hash((self._type, self._index))


CPU = device("cpu")


def on_cpu(where: Any, what: str) -> device:
    """`where` (None, a device or a string such as 'cpu' or 'cpu:0') as the CPU device; an error for any
    other device, saying that glassgrad runs on the CPU. `what` names the call, for the message."""
    if where is None:
        return CPU
    if isinstance(where, int) and not isinstance(where, bool):
        raise RuntimeError(f"{what}: device={where!r} is a CUDA device's number; glassgrad runs on the CPU only, "
                           "use device='cpu'")
    if not isinstance(where, (str, device)):
        raise TypeError(f"{what}: device= must be a device or a string such as 'cpu', got {type(where).__name__}")
    asked = device(where)
    if asked.type != "cpu":
        raise not_available(what, str(asked))
    return CPU


def not_available(what: str, name: str = "cuda") -> RuntimeError:
    """The error for asking for device `name` (a GPU): glassgrad runs on the CPU only."""
    return RuntimeError(
        f"{what}: device {name!r} is not available: glassgrad runs on the CPU only (numpy); use device='cpu', "
        "e.g. device = 'cuda' if torch.cuda.is_available() else 'cpu'"
    )


def is_device(x: Any) -> bool:
    """Whether `x` names a device rather than a dtype: a `device`, or a string that is no dtype's name
    ('cpu', 'cuda:0'; an unknown string too, so that the device's error explains it)."""
    if isinstance(x, device):
        return True
    if not isinstance(x, str):
        return False
    try:
        to_dtype(x, "")
    except TypeError:
        return True
    return False


def target_dtype(args: tuple, kwargs: dict, what: str) -> np.dtype | None:
    """The dtype that PyTorch's `.to(...)` arguments ask for (None: keep the dtype), once the device they
    name, if any, is checked to be the CPU: `to(dtype)`, `to(device)`, `to(device, dtype)`, `to(tensor)`,
    with `device=`, `dtype=`, `non_blocking=` and `copy=` as keywords."""
    kwargs = dict(kwargs)
    unknown = set(kwargs) - {"device", "dtype", "non_blocking", "copy", "memory_format"}
    if unknown:
        raise TypeError(f"{what}() got an unexpected keyword argument {sorted(unknown)[0]!r}")
    rest = list(args)
    if rest and hasattr(rest[0], "shape") and hasattr(rest[0], "dtype") and not isinstance(rest[0], (type, np.dtype)):
        other = rest.pop(0)  # to(other): other's dtype and device
        kwargs.setdefault("dtype", other.dtype)
    elif rest and (rest[0] is None or is_device(rest[0]) or isinstance(rest[0], int) and not isinstance(rest[0], bool)):
        kwargs["device"] = rest.pop(0)
    if rest and "dtype" not in kwargs:
        kwargs["dtype"] = rest.pop(0)
    if rest:
        raise TypeError(f"{what}: expected to(device), to(dtype), to(device, dtype) or to(tensor), got {args!r}")
    on_cpu(kwargs.get("device"), what)
    dtype = kwargs.get("dtype")
    return None if dtype is None else to_dtype(dtype, what)
