"""Differential fuzzing against PyTorch float64: random graphs of scalar and Tensor operations.

Each program is drawn from a seeded generator: a few inputs, some of them extreme (1e-300,
1e300, ±inf, nan, 0, -0.0, negatives), and a bounded sequence of operations whose operands
are picked from everything computed so far, so intermediate results are reused. The same
program runs on glassgrad and on torch; every node's value and every node's gradient must
agree, with NaN equal to NaN and infinities equal by sign.
"""

from __future__ import annotations

import math
import random
from typing import Any

import numpy as np
import pytest
import torch

from glassgrad import Value

EXTREMES = (1e-300, -1e-300, 1e300, -1e300, math.inf, -math.inf, math.nan, 0.0, -0.0, -1.0, -2.5)
CONSTANTS = (2.0, -1.5, 0.5, 3.0, 0.0, -0.0, 1e300, -1e-300)
EXPONENTS = (2.0, 3.0, 0.5, -1.0, -2.0, 1.5, 0.0, -0.5)
UNARY = ("exp", "log", "tanh", "relu", "sigmoid", "neg")
BINARY = ("+", "-", "*", "/", "**")
RTOL = 1e-9  # the engines round differently only inside exp, tanh, pow and sums (a few ulps)
ATOL = 1e-300

Node = Any  # a glassgrad Value or Tensor, or a torch tensor: the programs use only their shared methods


def same(ours: np.ndarray | float, theirs: np.ndarray | float) -> np.ndarray:
    """Elementwise agreement: NaN equals NaN, infinities equal by sign, finite numbers to RTOL."""
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    with np.errstate(all="ignore"):
        close = np.abs(ours - theirs) <= ATOL + RTOL * np.maximum(np.abs(ours), np.abs(theirs))
    return np.where(np.isnan(ours) | np.isnan(theirs), np.isnan(ours) & np.isnan(theirs), close | (ours == theirs))


def assert_same(ours: Any, theirs: torch.Tensor | None, what: str) -> None:
    expected = np.zeros(np.shape(ours)) if theirs is None else theirs.detach().numpy()
    assert np.shape(ours) == expected.shape, (what, np.shape(ours), expected.shape)
    bad = ~same(ours, expected)
    assert not bad.any(), f"{what}: glassgrad {np.asarray(ours)[bad]} but torch {expected[bad]}"


def unary(op: str, x: Node) -> Node:
    return -x if op == "neg" else getattr(x, op)()


def binary(op: str, a: Node | float, b: Node | float) -> Node:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return a / b
    return a**b


def extreme_or_plain(rng: random.Random, p_extreme: float) -> float:
    return rng.choice(EXTREMES) if rng.random() < p_extreme else rng.uniform(-3.0, 3.0)


# --- scalar programs ----------------------------------------------------------------------------
# A step is (op, i, j, constant): pool[i] op pool[j], or with `constant` on the side j names ("left"
# or "right"), or a unary op on pool[i].


def scalar_program(rng: random.Random) -> tuple[list[float], list[tuple]]:
    inputs = [extreme_or_plain(rng, 0.3) for _ in range(rng.randint(1, 4))]
    steps = []
    for n in range(len(inputs), len(inputs) + rng.randint(3, 25)):
        i = max(0, n - 1 - int(rng.expovariate(0.5)))  # mostly recent nodes, so graphs get deep
        kind = rng.random()
        if kind < 0.4:
            steps.append((rng.choice(UNARY), i, None, None))
        elif kind < 0.75:
            steps.append((rng.choice(BINARY), i, rng.randrange(n), None))
        else:
            op = rng.choice(BINARY)
            constant = rng.choice(EXPONENTS if op == "**" else CONSTANTS)
            steps.append((op, i, rng.choice(("left", "right")), constant))
    return inputs, steps


def run_scalar(steps: list[tuple], leaves: list[Node]) -> tuple[list[Node], Node]:
    """Every node of the program, and the root: the last node plus every node nothing used."""
    pool = list(leaves)
    used = set()
    for op, i, j, constant in steps:
        used.add(i)
        if j is None:
            pool.append(unary(op, pool[i]))
        elif constant is None:
            used.add(j)
            pool.append(binary(op, pool[i], pool[j]))
        else:
            pool.append(binary(op, pool[i], constant) if j == "right" else binary(op, constant, pool[i]))
    root = pool[-1]
    for k in range(len(leaves), len(pool) - 1):
        if k not in used:
            root = root + pool[k]
    return pool, root


def check_scalar_program(inputs: list[float], steps: list[tuple]) -> None:
    ours_pool, ours_root = run_scalar(steps, [Value(x) for x in inputs])
    leaves = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in inputs]
    theirs_pool, theirs_root = run_scalar(steps, leaves)
    for t in theirs_pool[len(leaves) :]:
        t.retain_grad()
    ours_root.backward()
    theirs_root.backward()
    for k, (v, t) in enumerate(zip(ours_pool, theirs_pool, strict=True)):
        assert_same(v.data, t, f"value of node {k} ({inputs}, {steps})")
        assert_same(v.grad, t.grad, f"gradient of node {k} ({inputs}, {steps})")


@pytest.mark.parametrize("block", range(8))
def test_scalar_graphs_match_torch(block):
    for seed in range(block * 250, (block + 1) * 250):
        check_scalar_program(*scalar_program(random.Random(seed)))
