"""A tensor's text as PyTorch prints it: `tensor([1., 2.])`, `tensor([[0.1000, 2.5000]], dtype=glassgrad.float64)`.

PyTorch's rules, in glassgrad's code: one format for all the numbers of a tensor, chosen from its
finite non-zero ones: whole numbers print as `2.`, others with 4 decimals, and in scientific
notation (`1.0000e-05`) when the largest is over 1000 times the smallest, over 1e8, or the smallest
under 1e-4. Each number is padded to the widest; rows break at 80 characters; past 1000 numbers
only the first and last 3 of each dimension are shown, around `...`. The dtype is shown unless it
is the default floating dtype, int64 or bool; then `requires_grad=True` or `grad_fn=<...>`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from glassgrad._tensor.dtypes import bool_, get_default_dtype, int64, public

PRECISION, THRESHOLD, EDGE, LINEWIDTH = 4, 1000, 3, 80


class Size(tuple):
    """A tensor's shape, as `torch.Size`: a tuple of ints that prints as `glassgrad.Size([2, 3])`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"glassgrad.Size([{', '.join(str(n) for n in self)}])"

    def numel(self) -> int:
        """The number of elements of a tensor of this shape."""
        return math.prod(self)


class _Format:
    """How every number of one tensor is written: PyTorch's `_Formatter`."""

    def __init__(self, values: np.ndarray) -> None:
        values = values.reshape(-1)
        self.floating = values.dtype.kind == "f"
        self.whole, self.scientific, self.width = True, False, 1
        if not self.floating:
            self.width = max((len(str(v)) for v in values.tolist()), default=1)
            return
        finite = values[np.isfinite(values) & (values != 0)].astype(np.float64)
        if finite.size == 0:
            return
        size = np.abs(finite)
        low, high = size.min(), size.max()
        self.whole = bool((finite == np.ceil(finite)).all())
        self.scientific = bool(high / low > 1000.0 or high > 1.0e8 or low < 1.0e-4)
        numbers = finite.tolist()
        if self.scientific:
            self.width = max(len(f"{v:.{PRECISION}e}") for v in numbers)
        elif self.whole:
            self.width = max(len(f"{v:.0f}") + 1 for v in numbers)
        else:
            self.width = max(len(f"{v:.{PRECISION}f}") for v in numbers)

    def __call__(self, value: Any) -> str:
        if not self.floating:
            text = str(value)
        elif self.scientific:
            text = f"{value:{self.width}.{PRECISION}e}"
        elif self.whole:
            text = f"{value:.0f}" + ("" if math.isinf(value) or math.isnan(value) else ".")
        else:
            text = f"{value:.{PRECISION}f}"
        return text.rjust(self.width)


def _edges(values: np.ndarray) -> np.ndarray:
    """The numbers shown of a summarised tensor: the first and last EDGE along every dimension."""
    for axis in range(values.ndim):
        if values.shape[axis] > 2 * EDGE:
            keep = np.r_[0:EDGE, values.shape[axis] - EDGE : values.shape[axis]]
            values = values.take(keep, axis=axis)
    return values


def _body(values: np.ndarray, indent: int, summarize: bool, write: _Format) -> str:
    if values.ndim == 0:
        return write(values.item())
    long = summarize and values.shape[0] > 2 * EDGE
    if values.ndim == 1:
        items = values.tolist()
        words = [write(v) for v in items[:EDGE]] + [" ..."] + [write(v) for v in items[-EDGE:]] if long else [
            write(v) for v in items
        ]
        per_line = max(1, (LINEWIDTH - indent) // (write.width + 2))
        lines = [", ".join(words[i : i + per_line]) for i in range(0, len(words), per_line)]
        return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"
    rows = [*range(EDGE), None, *range(len(values) - EDGE, len(values))] if long else range(len(values))
    parts = ["..." if i is None else _body(values[i], indent + 1, summarize, write) for i in rows]
    return "[" + ("," + "\n" * (values.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def tensor_repr(data: np.ndarray, requires_grad: bool, backward: str | None) -> str:
    """The text of a tensor holding `data`; `backward` names the node that made it (its `grad_fn`)."""
    prefix = "tensor("
    indent = len(prefix)
    kind = public(data.dtype)
    suffixes = []
    if data.size == 0:
        if data.ndim != 1:
            suffixes.append(f"size={tuple(data.shape)}")
        if kind != get_default_dtype():
            suffixes.append(f"dtype={kind!r}")
        body = "[]"
    else:
        if kind not in (get_default_dtype(), int64, bool_):
            suffixes.append(f"dtype={kind!r}")
        summarize = data.size > THRESHOLD
        body = _body(data, indent, summarize, _Format(_edges(data) if summarize else data))
    if backward:
        suffixes.append(f"grad_fn=<{backward}>")
    elif requires_grad:
        suffixes.append("requires_grad=True")
    text = prefix + body
    last_line = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line + len(suffix) + 2 > LINEWIDTH:
            text += ",\n" + " " * indent + suffix
            last_line = indent + len(suffix)
        else:
            text += ", " + suffix
            last_line += len(suffix) + 2
    return text + ")"
