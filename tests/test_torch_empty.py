"""Empty tensors against PyTorch: every operation on every shape with a zero-length dimension.

Each operation runs on tensors of shapes such as (0,), (0, 3), (3, 0), (0, 2, 3) and (2, 0, 3) (and,
for `cat`, the legacy empty `tensor([])` beside a non-empty tensor); glassgrad must give torch's
shape, values and gradient, or refuse where torch refuses (glassgrad refuses a layer of width 0,
which torch makes with a warning).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import glassgrad

SHAPES = [(0,), (0, 3), (3, 0), (0, 2, 3), (2, 0, 3), (2, 3, 0)]


def reductions():
    ops = {}
    for name in ("sum", "mean", "var", "std"):
        ops[name] = lambda t, lib, name=name: getattr(t, name)()
        for dim in (0, 1, -1):
            ops[f"{name}({dim})"] = lambda t, lib, name=name, dim=dim: getattr(t, name)(dim)
    for name in ("max", "min"):
        ops[name] = lambda t, lib, name=name: getattr(t, name)()
        for dim in (0, 1, -1):
            ops[f"{name}({dim})"] = lambda t, lib, name=name, dim=dim: getattr(t, name)(dim)[0]
            ops[f"{name}({dim}).indices"] = lambda t, lib, name=name, dim=dim: getattr(t, name)(dim)[1]
    for name in ("argmax", "argmin"):
        ops[name] = lambda t, lib, name=name: getattr(t, name)()
        ops[f"{name}(0)"] = lambda t, lib, name=name: getattr(t, name)(0)
    for name in ("softmax", "log_softmax"):
        for dim in (0, -1):
            ops[f"{name}({dim})"] = lambda t, lib, name=name, dim=dim: getattr(t, name)(dim)
    return ops


OPS = {
    **reductions(),
    "flatten()": lambda t, lib: t.flatten(), "flatten(1)": lambda t, lib: t.flatten(1),
    "flatten(0, 1)": lambda t, lib: t.flatten(0, 1), "nn.Flatten": lambda t, lib: lib.nn.Flatten()(t),
    "reshape(-1)": lambda t, lib: t.reshape(-1), "reshape(0, -1)": lambda t, lib: t.reshape(0, -1),
    "reshape(-1, 0)": lambda t, lib: t.reshape(-1, 0), "view(-1, 3)": lambda t, lib: t.view(-1, 3),
    "squeeze": lambda t, lib: t.squeeze(), "unsqueeze(0)": lambda t, lib: t.unsqueeze(0),
    "T": lambda t, lib: t.T if t.ndim == 2 else t.permute(*reversed(range(t.ndim))),
    "transpose(0, -1)": lambda t, lib: t.transpose(0, -1),
    "exp": lambda t, lib: t.exp(), "t * 2 + 1": lambda t, lib: t * 2 + 1, "t * t": lambda t, lib: t * t,
    "clamp": lambda t, lib: t.clamp(-0.5, 0.5), "t[0]": lambda t, lib: t[0], "t[:, 0]": lambda t, lib: t[:, 0],
    "t[..., 1:]": lambda t, lib: t[..., 1:], "t[t > 0]": lambda t, lib: t[t > 0],
    "@ ones": lambda t, lib: t @ lib.ones(t.shape[-1], 2, dtype=lib.float64),
    "ones @": lambda t, lib: lib.ones(2, t.shape[0], dtype=lib.float64) @ t,
    "cat(t, t)": lambda t, lib: lib.cat([t, t]), "cat(t, t, -1)": lambda t, lib: lib.cat([t, t], -1),
    "cat(x, tensor([]))": lambda t, lib: lib.cat([lib.ones(2, 3, dtype=lib.float64) * t.sum(), lib.tensor([])]),
    "cat(tensor([]), x, 1)": lambda t, lib: lib.cat([lib.tensor([]), lib.ones(2, 3, dtype=lib.float64) * t.sum()], 1),
    "stack": lambda t, lib: lib.stack([t, t]), "unbind": lambda t, lib: lib.stack(t.unbind(0)) if len(t) else t,
    "Linear": lambda t, lib: linear(lib)(t), "LayerNorm": lambda t, lib: lib.nn.LayerNorm(t.shape[-1])(t),
    "cross_entropy": lambda t, lib: lib.nn.functional.cross_entropy(t, lib.zeros(t.shape[0], dtype=lib.long)),
    "topk(0)": lambda t, lib: t.topk(0)[0], "where": lambda t, lib: lib.where(t > 0, t, t * 2),
    "maximum": lambda t, lib: lib.maximum(t, t * 0.5), "abs().sqrt()": lambda t, lib: t.abs().sqrt(),
}


def linear(lib):
    def apply(t):
        layer = lib.nn.Linear(t.shape[-1], 2, dtype=lib.float64)
        with lib.no_grad():
            layer.weight[...] = lib.tensor(np.linspace(-1, 1, 2 * t.shape[-1]).reshape(2, -1))
            layer.bias[...] = lib.tensor([0.5, -0.5])
        return layer(t)

    return apply


def run(op, shape, lib):
    """(shape, values, gradient) of `op` on a tensor of `shape`, or "refused"."""
    x = lib.tensor(np.zeros(shape), requires_grad=True)
    try:
        out = OPS[op](x * 1.0, lib)
    except (IndexError, ValueError, TypeError, RuntimeError):
        return "refused"
    grad = None
    if out.requires_grad:
        weights = lib.tensor(np.linspace(-1.0, 1.0, out.numel()).reshape(tuple(out.shape)))
        (out * weights).sum().backward()
        grad = x.grad.numpy() if x.grad is not None else None
    return tuple(out.shape), np.asarray(out.detach().numpy(), dtype=float), grad


@pytest.mark.filterwarnings("ignore:.*degrees of freedom is <= 0")  # torch's, for var and std of no element
@pytest.mark.parametrize("op", list(OPS))
def test_operations_of_empty_tensors_as_torch(op, float64):
    for shape in SHAPES:
        what = f"{op} of shape {shape}"
        if op in ("Linear", "LayerNorm") and shape[-1] == 0:
            assert run(op, shape, glassgrad) == "refused", what  # a layer of width 0 (torch warns and makes one)
            continue
        expected, got = run(op, shape, torch), run(op, shape, glassgrad)
        if expected == "refused" or got == "refused":
            assert got == expected, f"{what}: glassgrad {got if got == 'refused' else got[:2]}, torch {expected}"
            continue
        assert got[0] == expected[0], f"{what}: shape {got[0]}, torch {expected[0]}"
        np.testing.assert_allclose(got[1], expected[1], rtol=1e-12, equal_nan=True, err_msg=what)
        if expected[2] is None:
            assert got[2] is None or not got[2].any(), what
        else:
            np.testing.assert_allclose(got[2], expected[2], rtol=1e-12, equal_nan=True, err_msg=f"{what}: gradient")
