"""Derivatives that PyTorch computes with a fixed order of roundings are glassgrad's to the last bit.

The backprop lecture compares its hand-written gradients with autograd's by `==`, so where autograd
rounds differently from the formula on the blackboard, the lecture prints `exact: False`. Two places
where glassgrad rounded otherwise than PyTorch (found by running the lecture's notebook on both):
- tanh's derivative: PyTorch's kernel computes g * (1 - y²) with 1 - y² in one rounding (a fused
  multiply-add), in float32 and float64;
- the gradient of indexing (an embedding's rows taken several times): PyTorch adds the taken rows
  one after the other in the index's order, as the lecture's loop `dC[ix] += demb[k, j]` does.
Each case gives glassgrad and torch the same numbers and asks for equal bits.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import glassgrad
import glassgrad.nn.functional as F

DTYPES = ["float32", "float64"]


def _bits_equal(ours: np.ndarray, theirs: np.ndarray) -> None:
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    differ = np.flatnonzero(ours.view(f"u{ours.itemsize}") != theirs.view(f"u{theirs.itemsize}"))
    if differ.size:
        k = differ[0]
        raise AssertionError(f"{differ.size} of {ours.size} differ: at {k}, {ours.flat[k]!r}, torch {theirs.flat[k]!r}")


def _tanh_inputs(rng: np.random.Generator, n: int, dtype: str) -> np.ndarray:
    """Normal numbers, small ones (|tanh| < 1/8, where 1 - y² needs more than float64's bits), and saturated ones."""
    x = np.concatenate([rng.standard_normal(n), rng.standard_normal(n) * 1e-3, rng.standard_normal(n) * 30,
                        [0.0, -0.0, 1e-30, 20.0, -20.0]])
    return x.astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [1, 7, 16, 333])
def test_tanh_gradient_is_pytorchs_kernel(dtype, n):
    rng = np.random.default_rng(n)
    x = _tanh_inputs(rng, n, dtype)
    g = rng.standard_normal(x.size).astype(dtype)
    t = glassgrad.tensor(x, requires_grad=True)
    y = t.tanh()
    y.backward(glassgrad.tensor(g))
    # torch's own backward kernel, given glassgrad's outputs (the forward tanh is libm's, not the same bits)
    expected = torch.ops.aten.tanh_backward(torch.from_numpy(g), torch.from_numpy(y.detach().numpy().copy()))
    _bits_equal(t.grad.numpy(), expected.numpy())


@pytest.mark.parametrize("dtype", DTYPES)
def test_tanh_gradient_differs_from_the_blackboard_where_torch_does(dtype):
    """The lecture's `(1.0 - h**2) * dh` is not autograd's gradient bit for bit, in torch and in glassgrad alike."""
    rng = np.random.default_rng(0)
    h0 = rng.standard_normal((32, 64)).astype(dtype)
    dh0 = rng.standard_normal((32, 64)).astype(dtype)
    for lib in (glassgrad, torch):
        pre = lib.tensor(h0, requires_grad=True)
        h = lib.tanh(pre)
        h.backward(lib.tensor(dh0))
        by_hand = (1.0 - h.detach() ** 2) * lib.tensor(dh0)
        assert not lib.all(by_hand == pre.grad).item()
        assert lib.allclose(by_hand, pre.grad)


def test_tanh_gradient_of_gradient_is_unchanged():
    """With create_graph=True the derivative is built of nodes: d²tanh/dx² = -2 y (1 - y²)."""
    x0 = np.linspace(-2, 2, 9)
    ours = glassgrad.tensor(x0, requires_grad=True)
    (g,) = glassgrad.grad(ours.tanh().sum(), ours, create_graph=True)
    (gg,) = glassgrad.grad(g.sum(), ours)
    theirs = torch.tensor(x0, requires_grad=True)
    (tg,) = torch.autograd.grad(theirs.tanh().sum(), theirs, create_graph=True)
    (tgg,) = torch.autograd.grad(tg.sum(), theirs)
    np.testing.assert_allclose(gg.numpy(), tgg.numpy(), rtol=1e-12, atol=1e-14)


# f(library, table) -> the rows taken, for a (6, 4) table; every index takes some row several times
TAKES = {
    "a lecture's batch of contexts": lambda L, C: C[L.tensor([[0, 0, 5], [0, 5, 2], [5, 2, 2], [2, 2, 0]] * 3)],
    "a flat index": lambda L, C: C[L.tensor([3, 1, 3, 3, 0, 1, 3])],
    "negative indices": lambda L, C: C[L.tensor([-1, 5, -1, 2, -6, 0])],
    "a list": lambda L, C: C[[1, 1, 4, 1]],
    "columns": lambda L, C: C[:, L.tensor([2, 0, 2, 2])],
    "rows and columns": lambda L, C: C[L.tensor([1, 1, 2, 1]), L.tensor([0, 0, 3, 0])],
    "rows then a slice": lambda L, C: C[L.tensor([4, 0, 4]), 1:3],
    "a boolean mask then rows": lambda L, C: C[L.tensor([True, False, True, True, False, True])][L.tensor([0, 0, 3])],
    "an embedding": lambda L, C: F.embedding(L.tensor([[1, 3, 1], [3, 3, 1]]), C) if L is glassgrad
    else torch.nn.functional.embedding(torch.tensor([[1, 3, 1], [3, 3, 1]]), C),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("take", TAKES, ids=list(TAKES))
def test_gradient_of_rows_taken_several_times_adds_in_order(take, dtype):
    rng = np.random.default_rng(len(take))
    # numbers of very different sizes, so that another order of the additions rounds differently
    table = (rng.standard_normal((6, 4)) * 10.0 ** rng.integers(-4, 4, (6, 4))).astype(dtype)
    grads = {}
    for lib in (glassgrad, torch):
        C = lib.tensor(table, requires_grad=True)
        out = TAKES[take](lib, C)
        g = (np.random.default_rng(1).standard_normal(tuple(out.shape)) * 10.0 ** np.random.default_rng(2).integers(
            -6, 6, tuple(out.shape))).astype(dtype)
        out.backward(lib.tensor(g))
        grads[lib] = C.grad.detach().numpy() if lib is torch else C.grad.numpy()
    _bits_equal(grads[glassgrad], grads[torch])


def test_lecture_loop_over_a_batch_matches_autograd_exactly():
    """The backprop lecture's `dC[ix] += demb[k, j]` over a batch gives autograd's C.grad bit for bit, as in torch."""
    g = glassgrad.Generator().manual_seed(2147483647)
    C = glassgrad.randn((27, 10), generator=g, requires_grad=True)
    Xb = glassgrad.randint(0, 27, (32, 3), generator=g)
    demb = glassgrad.randn((32, 3, 10), generator=g)
    C[Xb].backward(demb)
    dC = glassgrad.zeros_like(C)
    for k in range(Xb.shape[0]):
        for j in range(Xb.shape[1]):
            dC[Xb[k, j]] += demb[k, j]
    assert glassgrad.all(dC == C.grad).item()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("alpha", [0.3, -2.5, 1e-3, 7])
@pytest.mark.parametrize("which", ["add", "sub"])
def test_add_and_sub_with_alpha_round_once_as_pytorch(dtype, alpha, which):
    """`x.add(y, alpha=a)` is one fused multiply-add in PyTorch's kernel, not x + (a * y): the same bits here,
    broadcast and in place too, and the gradient of y is alpha times the incoming one (unsummed: sums
    are added in another order than PyTorch's)."""
    rng = np.random.default_rng(5)
    x, y, g = (rng.standard_normal((40, 25)).astype(dtype) for _ in range(3))
    results = {}
    for lib in (glassgrad, torch):
        a, b = lib.tensor(x), lib.tensor(y, requires_grad=True)
        out = getattr(a, which)(b, alpha=alpha)
        out.backward(lib.tensor(g))
        changed = a.clone()
        getattr(changed, which + "_")(b.detach(), alpha=alpha)
        row = getattr(a, which)(lib.tensor(y[0]), alpha=alpha)  # broadcast
        results[lib] = [out.detach().numpy(), b.grad.numpy(), changed.numpy(), row.numpy()]
    for ours, theirs in zip(results[glassgrad], results[torch]):
        _bits_equal(ours, theirs)
    assert (results[torch][0] != (x - alpha * y if which == "sub" else x + alpha * y)).any()  # fused: not two roundings
