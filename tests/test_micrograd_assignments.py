"""What micrograd's code assigns to a Value keeps working: `p.data = 0`, `p.grad = 0` and their kin.

micrograd's own `Neuron` makes its bias `Value(0)`, its `zero_grad` sets `p.grad = 0`, and training
loops write `p.data += -lr * p.grad` or `p.data = 0`. For generated expressions (of +, -, *, /, **,
relu, tanh, exp, numbers on either side) where a leaf's `.data` was given an int, a bool, a numpy
number or a Fraction and the gradients were zeroed with the int 0, glassgrad's values and gradients
must be PyTorch's (float64) for the same numbers, and micrograd's own where micrograd has every
operation; a `.data` that is no real number is refused, naming it.
"""

from __future__ import annotations

import fractions
import random

import numpy as np
import pytest
import torch
from micrograd.engine import Value as MicrogradValue

from glassgrad import Value

ASSIGNED = [0, 1, -2, 3, True, False, np.float32(1.5), np.int64(2), np.float64(-0.5), fractions.Fraction(3, 4)]
MICROGRAD_OPS = {"+", "-", "*", "/", "**2", "**3", "relu", "neg", "+k", "k*", "k-"}
OPS = [*sorted(MICROGRAD_OPS), "tanh", "exp"]
STEPS = {
    "+": lambda a, b, k: a + b, "-": lambda a, b, k: a - b, "*": lambda a, b, k: a * b,
    "/": lambda a, b, k: a / (b * b + 1), "**2": lambda a, b, k: a**2, "**3": lambda a, b, k: a**3,
    "relu": lambda a, b, k: a.relu(), "neg": lambda a, b, k: -a, "+k": lambda a, b, k: a + k,
    "k*": lambda a, b, k: k * a, "k-": lambda a, b, k: k - a, "tanh": lambda a, b, k: a.tanh(),
    "exp": lambda a, b, k: (a * 0.1).exp(),
}
SEEDS = range(30)
PROGRAMS_PER_SEED = 10


def random_program(rng: random.Random) -> list:
    steps = []
    for k in range(rng.randint(2, 7)):
        op = rng.choice(OPS)
        steps.append((op, rng.randrange(3 + k), rng.randrange(3 + k), rng.choice((2, -1, 3))))
    return steps


def run(program: list, make, numbers: list[float], assigned, lib=None) -> tuple[list, list]:
    """The program's values and the leaves' gradients: with glassgrad's or micrograd's Value (`make`),
    the first leaf's data assigned `assigned` after it was made and every grad set to the int 0;
    or with torch (`lib`), on the same numbers as floats."""
    if lib is torch:
        leaves = [torch.tensor(float(x), dtype=torch.float64, requires_grad=True) for x in numbers]
    else:
        leaves = [make(x) for x in numbers]
        leaves[0].data = assigned
        for leaf in leaves:
            leaf.grad = 0
    nodes = list(leaves)
    for op, i, j, k in program:
        nodes.append(STEPS[op](nodes[i], nodes[j], k))
    out = nodes[-1]
    if lib is not torch:
        out.grad = 0  # as micrograd's backward would start from it
    out.backward()
    number = (lambda v: v.item()) if lib is torch else (lambda v: float(v.data))
    grad = (lambda v: 0.0 if v.grad is None else v.grad.item()) if lib is torch else (lambda v: float(v.grad))
    return [number(v) for v in nodes], [grad(v) for v in leaves]


@pytest.mark.parametrize("seed", SEEDS)
def test_assigned_numbers_keep_working_as_torch_and_micrograd(seed):
    rng = random.Random(seed)
    for _ in range(PROGRAMS_PER_SEED):
        program = random_program(rng)
        assigned = rng.choice(ASSIGNED)
        numbers = [rng.uniform(-2, 2) for _ in range(3)]
        what = f"leaf 0 .data = {assigned!r}, program {program}"
        got = run(program, Value, numbers, assigned)
        expected = run(program, None, [assigned, *numbers[1:]], None, torch)
        np.testing.assert_allclose(got[0], expected[0], rtol=1e-12, atol=1e-300, err_msg=what)
        np.testing.assert_allclose(got[1], expected[1], rtol=1e-12, atol=1e-300, err_msg=what)
        if all(op in MICROGRAD_OPS for op, *_ in program) and not isinstance(assigned, np.float32):  # micrograd
            # then computes in float32, glassgrad (as torch here) in float64
            theirs = run(program, MicrogradValue, numbers, assigned)
            np.testing.assert_allclose(got[0], theirs[0], rtol=1e-12, atol=1e-300, err_msg=f"micrograd: {what}")
            np.testing.assert_allclose(got[1], theirs[1], rtol=1e-12, atol=1e-300, err_msg=f"micrograd: {what}")


@pytest.mark.parametrize("bad", ["a", [1.0], None, 1j, Value(1.0), 10**400])
@pytest.mark.parametrize("use", ["*", "tanh", "**2", "radd"])
def test_a_data_that_is_no_real_number_is_refused_naming_it(bad, use):
    p = Value(1.0)
    p.data = bad
    with pytest.raises((TypeError, ValueError), match=r"Value\.data"):
        {"*": lambda: p * 2.0, "tanh": lambda: p.tanh(), "**2": lambda: p**2, "radd": lambda: 2.0 + p}[use]()
