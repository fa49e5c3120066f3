"""Unrecorded in-place changes (under no_grad, or of tensors that require no gradient), which glassgrad
writes straight into the tensor's numbers, against PyTorch: the same bits, the same versions (a node
that read the tensor before the change refuses to backpropagate), the same refusals."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import glassgrad

OPS = ("+=", "-=", "*=", "/=")


def _change(t, op, other):
    if op == "+=":
        t += other
    elif op == "-=":
        t -= other
    elif op == "*=":
        t *= other
    else:
        t /= other
    return t


def _pair(array):
    return glassgrad.tensor(array), torch.tensor(array)


def _same_bits(g, t):
    assert g.dtype == glassgrad.float32 if t.dtype == torch.float32 else g.dtype == glassgrad.float64
    np.testing.assert_array_equal(np.asarray(g.detach().numpy()).view(f"u{g.dtype.itemsize}"),
                                  t.detach().numpy().view(f"u{t.dtype.itemsize}"))


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("other_shape", [(4, 3), (3,), (1, 3), (4, 1), (), "float", "int"])
@pytest.mark.parametrize("grad_mode", ["no_grad", "no leaf requires grad"])
def test_arithmetic_in_place_bits(op, dtype, other_shape, grad_mode):
    rng = np.random.default_rng(len(op) + len(str(other_shape)))
    x = rng.standard_normal((4, 3)).astype(dtype) * 3
    if other_shape == "float":
        other_g = other_t = 0.1
    elif other_shape == "int":
        other_g = other_t = 3
    else:
        y = (rng.standard_normal(other_shape) + 2).astype(dtype)
        other_g, other_t = _pair(y)
    g, t = _pair(x)
    if grad_mode == "no_grad":
        with glassgrad.no_grad(), torch.no_grad():
            _change(g, op, other_g), _change(t, op, other_t)
    else:
        _change(g, op, other_g), _change(t, op, other_t)
    _same_bits(g, t)
    assert g._version[1] == op


@pytest.mark.parametrize("op", OPS)
def test_arithmetic_of_a_view_changes_its_base(op):
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    g, t = _pair(x)
    with glassgrad.no_grad(), torch.no_grad():
        _change(g[1:3, ::2], op, glassgrad.tensor([2.5, -1.25]))
        _change(t[1:3, ::2], op, torch.tensor([2.5, -1.25]))
        _change(g.T[0], op, g.T[1])  # an operand in the same numbers, in another place
        _change(t.T[0], op, t.T[1])
        _change(g[0], op, g[0])  # the very numbers: y op= y
        _change(t[0], op, t[0])
    _same_bits(g, t)


def test_a_shape_that_does_not_fit_is_refused():
    for lib in (glassgrad, torch):
        with pytest.raises(RuntimeError), lib.no_grad():
            x = lib.zeros(3)
            x += lib.ones(2, 3)
    with pytest.raises(RuntimeError, match="can't be cast"):
        x = glassgrad.zeros(3, dtype=glassgrad.int64)
        x += glassgrad.ones(3)  # a float operand of an integer tensor, as torch
    with pytest.raises(RuntimeError):
        x = torch.zeros(3, dtype=torch.int64)
        x += torch.ones(3)


def test_a_change_under_no_grad_is_seen_by_the_nodes_that_read_the_tensor():
    for lib in (glassgrad, torch):
        w = lib.ones(3, requires_grad=True)
        x = lib.tensor([1.0, 2.0, 3.0])
        y = (w * x).sum()  # w's share reads x
        with lib.no_grad():
            x += 1.0
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.backward()
        z = (w * x).sum()
        with lib.no_grad():
            x.data += 1.0  # through .data: not counted
        z.backward()
        assert w.grad.tolist() == [3.0, 4.0, 5.0]  # x as it is now: the numbers are shared


def test_the_notebooks_row_updates():
    """`dC[ix] += demb[k, j]` of notebook 4: a view changed in place, then written back to where it is."""
    rng = np.random.default_rng(1)
    ids = rng.integers(0, 7, (8, 3))
    demb = rng.standard_normal((8, 3, 5)).astype(np.float32)
    results = []
    for lib in (glassgrad, torch):
        X, d, dC = lib.tensor(ids), lib.tensor(demb), lib.zeros((7, 5))
        with lib.no_grad():
            for k in range(X.shape[0]):
                for j in range(X.shape[1]):
                    dC[X[k, j]] += d[k, j]
        results.append(dC)
    _same_bits(*results)


@pytest.mark.parametrize("value", ["row", "broadcast", "itself", "shifted", "float64"])
def test_setitem_of_a_tensor(value):
    x = np.random.default_rng(2).standard_normal((4, 3)).astype(np.float32)
    results, refused = [], []
    for lib in (glassgrad, torch):
        t = lib.tensor(x)
        v = {"row": lambda lib, t: lib.tensor([1.5, 2.5, 3.5]), "broadcast": lambda lib, t: lib.tensor([7.25]),
             "itself": lambda lib, t: t[1], "shifted": lambda lib, t: t.view(-1)[1:4],
             "float64": lambda lib, t: lib.tensor([0.1, 0.2, 0.3], dtype=lib.float64)}[value](lib, t)
        try:
            with lib.no_grad():
                t[1] = v
        except RuntimeError:
            refused.append(lib)
        results.append(t)
    assert len(refused) in (0, 2)
    _same_bits(*results)
