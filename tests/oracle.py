"""The tests' one oracle: PyTorch in float64, for values, gradients, shapes and dtypes.

`check(f, *arrays)` runs `f` on glassgrad leaves and on torch leaves holding the same numbers (the
same code: glassgrad speaks PyTorch's names; `lib(x)` is the library of a tensor, for `lib(x).cat`),
and compares the results and the gradients of sum(result * R) for a random R, in the style of
tinygrad's `helper_test_op`. `check_values` does the same for an elementwise function on Values,
one element at a time. Every test that compares glassgrad with torch goes through these.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

import glassgrad
from glassgrad import Tensor, Value

TOL = {"rtol": 1e-10, "atol": 1e-12}


def lib(x: Any) -> Any:
    """The library of the tensor `x`: `glassgrad` for a glassgrad Tensor, else `torch`."""
    return glassgrad if isinstance(x, (Tensor, Value)) else torch


def leaves(*arrays: Any, requires_grad: bool = True) -> tuple[list[Tensor], list[torch.Tensor]]:
    """The same numbers as glassgrad and torch leaves; floating ones require a gradient."""
    ours, theirs = [], []
    for a in arrays:
        a = np.asarray(a)
        grad = requires_grad and a.dtype.kind == "f"
        ours.append(glassgrad.tensor(a, dtype=a.dtype, requires_grad=grad))
        theirs.append(torch.tensor(a, requires_grad=grad))
    return ours, theirs


def _parts(x: Any) -> list:
    """A result as a flat list of its tensors and numbers (a tuple, a list or a named tuple of them)."""
    if isinstance(x, (tuple, list)):
        return [p for item in x for p in _parts(item)]
    return [x]


def _array(x: Any) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().numpy(force=True)  # force: a ZeroTensor (a derivative torch knows is 0) too
    return np.asarray(x.data if isinstance(x, (Tensor, Value)) else x)


def assert_close(ours: Any, theirs: Any, what: str = "result", rtol: float = TOL["rtol"], atol: float = TOL["atol"]):
    """Equal structure, shapes, dtypes and values (nan where torch has nan) of glassgrad's and torch's results."""
    mine, expected = _parts(ours), _parts(theirs)
    assert len(mine) == len(expected), f"{what}: {len(mine)} parts, torch gives {len(expected)}"
    for k, (a, b) in enumerate(zip(mine, expected)):
        where = f"{what}[{k}]" if len(mine) > 1 else what
        kind = Tensor if isinstance(b, torch.Tensor) else type(b)
        assert isinstance(a, kind), f"{where}: glassgrad gives {type(a).__name__}, torch {type(b).__name__}"
        x, y = _array(a), _array(b)
        assert x.shape == y.shape, f"{where}: shape {x.shape}, torch's {y.shape}"
        if isinstance(b, torch.Tensor):
            assert x.dtype == y.dtype, f"{where}: dtype {x.dtype}, torch's {y.dtype}"
        if x.dtype.kind in "fc":
            np.testing.assert_allclose(x, y, rtol=rtol, atol=atol, err_msg=where)
        else:
            np.testing.assert_array_equal(x, y, err_msg=where)


def same_default_dtype(f: Callable[..., Any]) -> Callable[..., Any]:
    """`f` run by torch with glassgrad's default floating dtype (what `int / int` and Python floats give)."""

    def run(*args: Any) -> Any:
        kept = torch.get_default_dtype()
        torch.set_default_dtype(getattr(torch, glassgrad.get_default_dtype().name))
        try:
            return f(*args)
        finally:
            torch.set_default_dtype(kept)

    return run


def upstream(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """A random upstream gradient R: the gradients compared are those of sum(result * R)."""
    return np.random.default_rng(seed).normal(size=shape)


def _weighted(result: Any, seed: int) -> Any:
    """sum(result * R) over the floating tensors of a result, or None if it has none that needs a gradient."""
    total = None
    for k, part in enumerate(_parts(result)):
        if getattr(part, "requires_grad", False):  # a floating result of a floating input
            r = upstream(tuple(part.shape), seed + k)
            term = (part * (torch.tensor(r) if isinstance(part, torch.Tensor) else glassgrad.tensor(r))).sum()
            total = term if total is None else total + term
    return total


def check(
    ours: Callable[..., Any], *arrays: Any, theirs: Callable[..., Any] | None = None, grad: bool = True,
    second: bool = False, seed: int = 0, rtol: float = TOL["rtol"], atol: float = TOL["atol"],
) -> tuple[Any, list[Tensor]]:
    """`ours` on glassgrad leaves and `theirs` (by default the same function) on torch leaves holding
    `arrays`: the results agree (structure, shapes, dtypes, values), and so do the gradients of
    sum(result * R) for every floating input (`grad`), and with `second` the gradients of the sum of
    the squared first gradients (through `create_graph=True`). Returns glassgrad's result and leaves."""
    mine, expected = leaves(*arrays)
    out, ref = ours(*mine), same_default_dtype(theirs or ours)(*expected)
    assert_close(out, ref, "result", rtol, atol)
    if not grad:
        return out, mine
    y, ty = _weighted(out, seed), _weighted(ref, seed)
    assert (y is None) == (ty is None), f"the result requires a gradient in one library only: {out!r:.80}"
    if y is None:
        return out, mine
    needs = [k for k, t in enumerate(expected) if t.requires_grad]
    firsts = glassgrad.grad(y, [mine[k] for k in needs], create_graph=second)
    tfirsts = torch.autograd.grad(ty, [expected[k] for k in needs], create_graph=second, allow_unused=True)
    tfirsts = [torch.zeros_like(expected[k]) if g is None else g for k, g in zip(needs, tfirsts)]
    for k, a, b in zip(needs, firsts, tfirsts):
        assert_close(a, b, f"gradient of input {k}", rtol, atol)
    if second:
        squares = [(g * g).sum() for g in firsts]
        tsquares = [(g * g).sum() for g in tfirsts if g.requires_grad]
        if tsquares:
            seconds = glassgrad.grad(sum(squares[1:], squares[0]), [mine[k] for k in needs])
            tseconds = torch.autograd.grad(sum(tsquares), [expected[k] for k in needs], allow_unused=True)
            for k, a, b in zip(needs, seconds, tseconds):
                assert_close(a, torch.zeros_like(expected[k]) if b is None else b, f"second derivative, input {k}",
                             rtol, atol)
    return out, mine


def check_values(f: Callable[..., Any], *arrays: Sequence[float], rtol: float = TOL["rtol"], atol: float = TOL["atol"]):
    """The scalar engine: `f` on Values, one element of `arrays` (all of one shape) at a time, gives
    torch's elementwise result and each input's derivative (torch's gradient of sum(f))."""
    expected = [torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    ref = f(*expected)
    ref.sum().backward()
    for i in np.ndindex(ref.shape):
        xs = [Value(float(np.asarray(a)[i])) for a in arrays]
        out = f(*xs)
        out.backward()
        where = f"Value result at {i} of {[x.data for x in xs]}"
        np.testing.assert_allclose(out.data, ref[i].item(), rtol=rtol, atol=atol, err_msg=where)
        for k, (x, t) in enumerate(zip(xs, expected)):
            np.testing.assert_allclose(x.grad, t.grad[i].item(), rtol=rtol, atol=atol, err_msg=f"{where}: d/dx{k}")
