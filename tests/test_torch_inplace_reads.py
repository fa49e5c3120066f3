"""What each derivative reads, against PyTorch: every operation, each of its inputs (and its result)
changed in place after the operation used it.

For each operation, inputs are recorded results (`x * 1`) of leaves; after the operation, one input
(or the result) is changed in place (`+= 1`), then the backward pass runs from the sum of the result
times fixed weights. glassgrad must refuse exactly where torch refuses (one of the variables needed
for gradient computation has been modified), and otherwise give torch's gradients for every leaf.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import glassgrad

A, B = np.array([[0.5, -1.2, 2.0], [1.5, 0.3, -0.7]]), np.array([[1.1, 0.4, -0.9], [0.8, -1.6, 1.3]])
OPS = {
    "exp": (1, lambda a, lib: a.exp()), "log": (1, lambda a, lib: (a * a + 1).log()),
    "tanh": (1, lambda a, lib: a.tanh()), "sigmoid": (1, lambda a, lib: a.sigmoid()),
    "sqrt": (1, lambda a, lib: a.abs().sqrt()), "relu": (1, lambda a, lib: a.relu()),
    "abs": (1, lambda a, lib: a.abs()),
    "sin": (1, lambda a, lib: a.sin()), "cos": (1, lambda a, lib: a.cos()), "neg": (1, lambda a, lib: -a),
    "** 2": (1, lambda a, lib: a**2), "** 0.5": (1, lambda a, lib: a.abs() ** 0.5), "2 **": (1, lambda a, lib: 2.0**a),
    "+": (2, lambda a, b, lib: a + b), "-": (2, lambda a, b, lib: a - b), "*": (2, lambda a, b, lib: a * b),
    "/": (2, lambda a, b, lib: a / b), "**": (2, lambda a, b, lib: a.abs() ** b),
    "@": (2, lambda a, b, lib: a @ b.T), "maximum": (2, lambda a, b, lib: lib.maximum(a, b)),
    "where": (2, lambda a, b, lib: lib.where(a > 0, a, b)), "clamp": (1, lambda a, lib: a.clamp(-1.0, 1.0)),
    "sum": (1, lambda a, lib: a.sum(1)), "mean": (1, lambda a, lib: a.mean(0)), "var": (1, lambda a, lib: a.var(1)),
    "std": (1, lambda a, lib: a.std(1)), "max()": (1, lambda a, lib: a.max()),
    "max(1)": (1, lambda a, lib: a.max(1)[0]), "min(0)": (1, lambda a, lib: a.min(0)[0]),
    "softmax": (1, lambda a, lib: a.softmax(1)), "log_softmax": (1, lambda a, lib: a.log_softmax(1)),
    "cross_entropy": (1, lambda a, lib: lib.nn.functional.cross_entropy(a, lib.tensor([2, 0]))),
    "mse_loss": (2, lambda a, b, lib: lib.nn.functional.mse_loss(a, b)),
    "linear": (2, lambda a, b, lib: lib.nn.functional.linear(a, b)),
    "reshape": (1, lambda a, lib: a.reshape(3, 2) * 1), "T": (1, lambda a, lib: a.T * 1),
    "index": (1, lambda a, lib: a[[1, 0, 1]] * 1), "cat": (2, lambda a, b, lib: lib.cat([a, b])),
    "clone": (1, lambda a, lib: a.clone()), "masked_fill": (1, lambda a, lib: a.masked_fill(a > 0, 0.0)),
}


def run(op: str, changed: str, lib):
    """Leaves' gradients, or "refused", when `changed` ("input 0", "input 1" or "result") is changed
    in place after `op` used it."""
    arity, f = OPS[op]
    leaves = [lib.tensor(v, requires_grad=True) for v in (A, B)[:arity]]
    inputs = [leaf * 1.0 for leaf in leaves]
    out = f(*inputs, lib)
    target = out if changed == "result" else inputs[int(changed[-1])]
    target += 1.0
    weights = lib.tensor(np.linspace(-1.0, 1.5, out.numel()).reshape(tuple(out.shape)))
    try:
        (out * weights).sum().backward()
    except RuntimeError:
        return "refused"
    return [leaf.grad.numpy() for leaf in leaves]


CASES = [(op, changed) for op, (arity, _) in OPS.items() for changed in ("input 0", "input 1", "result")[: arity]]
CASES += [(op, "result") for op, (arity, _) in OPS.items() if arity == 2]


@pytest.mark.parametrize(("op", "changed"), CASES, ids=[f"{op}, {changed}" for op, changed in CASES])
def test_a_change_in_place_after_use_is_refused_exactly_where_torch_refuses(op, changed):
    expected, got = run(op, changed, torch), run(op, changed, glassgrad)
    if expected == "refused" or got == "refused":
        assert got == expected, f"{op}, {changed} changed in place: glassgrad {got}, torch {expected}"
        return
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-15)
