"""Indexing against PyTorch (float64): generated indices, for reading, writing and `+=`.

Each index mixes what PyTorch takes: integers (negative too), slices (with steps), None, Ellipsis,
bools, 0-d integer tensors, lists of integers, integer tensors (1-D and 2-D) and boolean masks over
one or two dimensions, in any order, sometimes with an integer out of range or more indices than
dimensions. For every index glassgrad must give torch's shape, values and gradient (of the tensor
read, and of the tensor written and the value written), or refuse where torch refuses.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

import glassgrad

SHAPES = [(2, 3, 4), (3, 4), (4,), (2, 3, 2, 2), (3, 1, 4), ()]
SEEDS = range(12)
CASES_PER_SEED = 60


def _int(rng: random.Random, n: int) -> int:
    if rng.random() < 0.03:
        return n  # out of range: both must refuse
    return rng.randrange(-n, n) if n else 0


def _consuming(rng: random.Random, dims: list[int]) -> tuple[tuple, int]:
    """One part of an index that consumes dimensions from `dims` (their sizes): (part, how many it consumes)."""
    n = dims[0] if dims else 1
    kind = rng.choice(("int", "int", "slice", "slice", "list", "array", "array2", "mask", "int0d"))
    if kind == "int":
        return ("int", _int(rng, n)), 1
    if kind == "int0d":
        return ("array", np.array(_int(rng, n))), 1
    if kind == "slice":
        start, stop = (rng.choice((None, rng.randint(-n - 1, n + 1))) for _ in range(2))
        return ("slice", slice(start, stop, rng.choice((None, 1, 2, 3)))), 1  # torch has no negative steps
    if kind == "list":
        return ("list", [_int(rng, n) for _ in range(rng.randint(0, 3))]), 1
    if kind in ("array", "array2"):
        shape = (rng.randint(1, 3),) if kind == "array" else (rng.randint(1, 2), rng.randint(1, 3))
        return ("array", np.array([_int(rng, n) for _ in range(int(np.prod(shape)))]).reshape(shape)), 1
    k = min(len(dims), rng.choice((1, 1, 2))) or 1
    mask_shape = tuple(dims[:k]) if dims else (1,)
    return ("array", np.array([rng.random() < 0.5 for _ in range(int(np.prod(mask_shape)))]).reshape(mask_shape)), k


def random_index(rng: random.Random, shape: tuple[int, ...]) -> tuple:
    """Parts as (kind, value): consuming parts for a prefix of the dimensions (and, after an
    Ellipsis, for a suffix), with None and bools sprinkled in."""
    dims = list(shape)
    before: list = []
    for _ in range(rng.randint(0, len(dims) + (rng.random() < 0.05))):  # sometimes one index too many
        part, used = _consuming(rng, dims)
        before.append(part)
        dims = dims[used:]
    after: list = []
    if rng.random() < 0.3:
        tail: list = []
        rest = list(reversed(dims))  # the dimensions left, from the last one
        for _ in range(rng.randint(0, len(rest))):
            part, _ = _consuming(rng, rest[:1])  # one dimension each (a mask too)
            tail.append(part)
            rest = rest[1:]
        after = [("ellipsis", Ellipsis), *reversed(tail)]
    parts = before + after
    for _ in range(rng.choice((0, 0, 1, 2))):
        parts.insert(rng.randint(0, len(parts)), rng.choice((("none", None), ("bool", True), ("bool", False))))
    return tuple(parts)


def build(parts: tuple, lib) -> tuple:
    """The index for `lib` (torch or glassgrad): arrays as its integer or boolean tensors."""
    out = []
    for kind, value in parts:
        if kind == "array":
            dtype = lib.bool if value.dtype == bool else lib.long
            out.append(lib.tensor(value.tolist(), dtype=dtype))
        else:
            out.append(value)
    return tuple(out)


def outcome(f):
    try:
        return f(), None
    except (IndexError, ValueError, TypeError, RuntimeError) as error:
        return None, error


def check(got: glassgrad.Tensor, expected: torch.Tensor, what: str) -> None:
    assert got.shape == tuple(expected.shape), f"{what}: shape {got.shape}, torch {tuple(expected.shape)}"
    np.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), rtol=1e-12, atol=0, err_msg=what)


def read(lib, x_np, w_fn, index):
    x = lib.tensor(x_np, requires_grad=True)
    y = x[index]
    w = lib.tensor(w_fn(tuple(y.shape)))
    (y * w).sum().backward()
    return y, x.grad


def write(lib, x_np, v_np, w_np, index, add: bool):
    x = lib.tensor(x_np, requires_grad=True)
    v = lib.tensor(v_np, requires_grad=True)
    y = x * 1.0
    if add:
        y[index] += v
    else:
        y[index] = v
    (y * lib.tensor(w_np)).sum().backward()
    return y, x.grad, v.grad


def has_repeats(shape: tuple[int, ...], index: tuple) -> bool:
    """Whether the index picks an element twice (a write is then order-dependent): asked of torch."""
    ids = torch.arange(int(np.prod(shape)), dtype=torch.long).reshape(shape)[index].reshape(-1)
    return len(set(ids.tolist())) != ids.numel()


def run_case(rng: random.Random, data: np.random.Generator, shape: tuple[int, ...], counted: dict) -> None:
    """One generated index read, then (unless it picks an element twice) written and added to, in both."""
    parts = random_index(rng, shape)
    t_index, g_index = build(parts, torch), build(parts, glassgrad)
    what = f"x of shape {shape}, x[{', '.join(repr(v) for _, v in parts)}]"
    x_np = data.standard_normal(shape)
    weights: dict = {}

    def w_fn(s):
        return weights.setdefault(s, data.standard_normal(s))

    expected, t_error = outcome(lambda: read(torch, x_np, w_fn, t_index))
    got, g_error = outcome(lambda: read(glassgrad, x_np, w_fn, g_index))
    if t_error is not None:
        assert g_error is not None, f"{what}: torch refuses ({t_error}), glassgrad gives {got[0]!r}"
        counted["refused"] += 1
        return
    if g_error is not None and expected[0].numel() == 0 and "out of bounds" in str(g_error):
        counted["refused"] += 1  # torch checks no bounds when nothing is picked; glassgrad refuses
        return
    assert g_error is None, f"{what}: torch reads it, glassgrad raises {g_error!r}"
    check(got[0], expected[0], f"{what}: value")
    check(got[1], expected[1], f"{what}: gradient")
    counted["read"] += 1
    if has_repeats(shape, t_index):
        return
    indexed = tuple(expected[0].shape)
    for add in (False, True):
        v_shape = rng.choice((indexed, indexed[1:], ()))
        v_np, w_np = data.standard_normal(v_shape), data.standard_normal(shape)
        expected_w = write(torch, x_np, v_np, w_np, t_index, add)
        got_w = write(glassgrad, x_np, v_np, w_np, g_index, add)
        for part, name in zip(range(3), ("value", "x.grad", "v.grad")):
            check(got_w[part], expected_w[part], f"{what} {'+=' if add else '='} v{v_shape}: {name}")
        counted["+=" if add else "write"] += 1
    if indexed:  # a value that can't broadcast to the indexed elements: refused by both, glassgrad saying so
        v_np = data.standard_normal((*indexed[:-1], indexed[-1] + 2))
        _, t_error = outcome(lambda: write(torch, x_np, v_np, x_np, t_index, False))
        _, g_error = outcome(lambda: write(glassgrad, x_np, v_np, x_np, g_index, False))
        assert t_error is not None and isinstance(g_error, ValueError), f"{what} = v{v_np.shape}: {g_error!r}"
        assert f"cannot be written to the indexed elements of shape {indexed}" in str(g_error), str(g_error)
        counted["refused"] += 1


@pytest.mark.parametrize("seed", SEEDS)
def test_indexing_reads_and_writes_as_torch(seed):
    rng, data = random.Random(seed), np.random.default_rng(seed)
    counted = {"read": 0, "refused": 0, "write": 0, "+=": 0}
    for case in range(CASES_PER_SEED):
        run_case(rng, data, SHAPES[case % len(SHAPES)], counted)
    assert counted["read"] > CASES_PER_SEED // 2 and counted["write"] > CASES_PER_SEED // 4, counted


@pytest.mark.parametrize(
    "index",
    [(0, slice(None), [0, 1, 2]), (slice(None), 0, [2, 0]), (0, Ellipsis, [1, 0]), ([1, 0], slice(None), 0),
     (0, None, slice(None), [0, 2]), (0, True, [0, 1])],
    ids=str,
)
def test_an_integer_and_an_index_array_apart_lay_out_as_torch(index):
    x_np = np.arange(18.0).reshape(2, 3, 3)
    t_index = tuple(torch.tensor(i) if isinstance(i, list) else i for i in index)
    expected = torch.tensor(x_np)[t_index]
    got = glassgrad.tensor(x_np)[index]
    check(got, expected, f"x[{index}]")
    y, t = glassgrad.tensor(x_np), torch.tensor(x_np)
    y[index], t[t_index] = -1.0, -1.0
    check(y, t, f"x[{index}] = -1")


def test_a_list_of_lists_is_refused_as_ambiguous():
    with pytest.raises(IndexError, match="for several dimensions write x\\[a, b\\]"):
        glassgrad.zeros(2, 3)[[[0, 1], [1, 0]]]


def test_an_integer_index_of_a_row_is_a_view_as_torch():
    x = glassgrad.zeros(3)
    x[1] += 2.0
    row = x[2]
    row += 5.0
    assert x.tolist() == [0.0, 2.0, 5.0]
