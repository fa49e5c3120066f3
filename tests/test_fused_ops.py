"""The operations made fast for the lecture series' workloads, against PyTorch (float64) and finite
differences: layer_norm and cross_entropy with ignored rows as single nodes, the gradient of an
embedding lookup (rows summed by sorting), small integer powers, linear on stacks of rows."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import glassgrad
import glassgrad.nn.functional as F
from glassgrad import Tensor, gradcheck, gradgradcheck
from glassgrad._tensor.functional import linear

RNG = np.random.default_rng(0)


def leaf(shape, dtype=np.float64, scale=1.0, shift=0.0):
    return pair((RNG.standard_normal(shape) * scale + shift).astype(dtype))


def pair(data):
    """The same leaf requiring a gradient in glassgrad and in torch."""
    return Tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)


def same(ours, theirs, tol=1e-12):
    theirs = theirs.detach().numpy()
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    np.testing.assert_allclose(ours.data if isinstance(ours, Tensor) else ours, theirs, rtol=tol, atol=tol)


def backward_both(out, tout, seed_shape):
    g = RNG.standard_normal(seed_shape)
    out.backward(g.astype(out.dtype))
    tout.backward(torch.tensor(g.astype(out.dtype)))


LAYER_NORM_CASES = [
    ((5,), (5,)),
    ((3, 4), (4,)),
    ((2, 3, 4), (4,)),
    ((2, 3, 4), (3, 4)),
    ((2, 1, 6), 6),
]


@pytest.mark.parametrize("shape, normalized", LAYER_NORM_CASES)
@pytest.mark.parametrize("affine", ["", "w", "b", "wb"])
def test_layer_norm_values_and_gradients_are_torch(shape, normalized, affine):
    x, tx = leaf(shape, scale=2.0, shift=0.5)
    norm = (normalized,) if isinstance(normalized, int) else normalized
    w, tw = leaf(norm, shift=1.0) if "w" in affine else (None, None)
    b, tb = leaf(norm) if "b" in affine else (None, None)
    out = F.layer_norm(x, normalized, w, b, eps=1e-5)
    tout = torch.nn.functional.layer_norm(tx, norm, tw, tb, eps=1e-5)
    same(out, tout)
    assert out._op == "layer_norm"  # one node
    backward_both(out, tout, shape)
    for ours, theirs in ((x, tx), (w, tw), (b, tb)):
        if ours is not None:
            same(ours.grad, theirs.grad, 1e-10)


@pytest.mark.parametrize("shape, normalized", LAYER_NORM_CASES[:4])
def test_layer_norm_passes_gradcheck_and_gradgradcheck(shape, normalized):
    x, _ = leaf(shape)
    w, _ = leaf(normalized, shift=1.0)
    b, _ = leaf(normalized)
    assert gradcheck(lambda x, w, b: F.layer_norm(x, normalized, w, b), [x, w, b])
    assert gradgradcheck(lambda x, w: F.layer_norm(x, normalized, w), [x, w])


def test_layer_norm_float32_stays_float32_and_the_module_is_one_node():
    ln = glassgrad.nn.LayerNorm(8, dtype=np.float32)
    x, tx = leaf((4, 8), np.float32)
    out = ln(x)
    assert out.dtype == np.float32 and out._op == "layer_norm"
    tln = torch.nn.LayerNorm(8, dtype=torch.float32)
    same(out, tln(tx), 1e-5)
    out.sum().backward()
    assert x.grad.dtype == np.float32 and ln.weight.grad.dtype == np.float32


@pytest.mark.parametrize(
    "bad, message",
    [
        (lambda x: F.layer_norm(x, (3,)), r"expected input of shape \(\*, 3\), got \(2, 4\)"),
        (lambda x: F.layer_norm(x, 4, Tensor(np.ones(3))), r"weight has shape \(3,\), expected normalized_shape"),
        (lambda x: F.layer_norm(x, 4, None, np.zeros(4)), "the bias must be a Tensor"),
        (lambda x: F.layer_norm(x, 4, Tensor(np.ones(4), dtype=np.float32)),
         "the weight is glassgrad.float32 but the input"),
        (lambda x: F.layer_norm(x.numpy(), 4), "expected input of shape"),
    ],
)
def test_layer_norm_refuses_what_does_not_fit(bad, message):
    x = Tensor(np.ones((2, 4)))
    with pytest.raises((ValueError, TypeError), match=message):
        bad(x)


def targets_with(ignored: int, n: int, classes: int, ignore_index: int) -> np.ndarray:
    t = RNG.integers(0, classes, n)
    t[RNG.permutation(n)[:ignored]] = ignore_index
    return t


@pytest.mark.parametrize("ignored", [0, 1, 4, 6])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("ignore_index", [-1, -100, 2])
def test_cross_entropy_with_ignored_rows_is_one_node_and_torch(ignored, reduction, ignore_index):
    n, classes = 6, 5
    z, tz = leaf((n, classes), scale=3.0)
    t = targets_with(ignored, n, classes, ignore_index)
    loss = F.cross_entropy(z, Tensor(t).long(), ignore_index=ignore_index, reduction=reduction)
    tloss = torch.nn.functional.cross_entropy(tz, torch.tensor(t), ignore_index=ignore_index, reduction=reduction)
    assert loss._op == "cross_entropy"
    if ignored == n and reduction == "mean":  # 0 / 0, as PyTorch
        assert np.isnan(loss.item()) and np.isnan(tloss.item())
        return
    same(loss, tloss)
    loss.backward()
    tloss.backward()
    same(z.grad, tz.grad)


def test_cross_entropy_gives_an_ignored_row_with_logits_that_are_not_finite_nan_as_torch():
    z, tz = pair(np.array([[0.5, 1.0, -1.0, 0.0], [np.inf, 0.0, np.nan, 1.0], [2.0, 0.0, 0.0, 0.0]]))
    t = np.array([1, -1, 3])
    F.cross_entropy(z, Tensor(t).long(), ignore_index=-1).backward()
    torch.nn.functional.cross_entropy(tz, torch.tensor(t), ignore_index=-1).backward()
    assert np.isnan(z.grad.data[1]).all() and np.isfinite(z.grad.data[[0, 2]]).all()
    same(z.grad, tz.grad)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_with_ignored_rows_passes_gradcheck_and_gradgradcheck(reduction):
    z, _ = leaf((5, 3))
    t = Tensor(np.array([0, -1, 2, 1, -1])).long()
    fn = lambda z: F.cross_entropy(z, t, ignore_index=-1, reduction=reduction)
    assert gradcheck(fn, [z])
    assert gradgradcheck(fn, [z])


INDEX_CASES = [
    np.array([0, 2, 2, 1, 2]),
    np.array([[0, 3], [3, -1], [-4, 1]]),  # -1 is row 3 and -4 is row 0: they add up with 3 and 0
    np.array([[[1]], [[1]]]),
    np.array([4]),
]


@pytest.mark.parametrize("index", INDEX_CASES, ids=range(len(INDEX_CASES)))
@pytest.mark.parametrize("width", [(), (3,), (2, 3)])
def test_the_gradient_of_picking_rows_adds_repeated_rows_as_torch(index, width):
    w, tw = leaf((5, *width))
    out, tout = w[index], tw[torch.tensor(index)]
    same(out, tout)
    backward_both(out, tout, out.shape)
    same(w.grad, tw.grad)


PICKS = {
    "rows and columns": (np.array([0, 1, 1, -1]), np.array([2, 0, 0, 2])),  # (1, 0) twice
    "broadcast pairs": (np.array([[0], [4]]), np.array([1, -3, 1])),
    "basic slices": (slice(1, None), 2),
    "a step and a new axis": (slice(None, None, 2), None, slice(0, 2)),
    "ellipsis": (Ellipsis, 1),
    "a range": (range(5), np.array([0, 1, 2, 0, 1])),
    "a mask": np.array([True, False, True, True, False]),
}


@pytest.mark.parametrize("index", PICKS.values(), ids=PICKS.keys())
def test_the_gradient_of_any_index_puts_elements_back_as_torch(index):
    w, tw = leaf((5, 3))
    tindex = tuple(torch.tensor(np.asarray(i)) if isinstance(i, (np.ndarray, range)) else i
                   for i in (index if isinstance(index, tuple) else (index,)))
    out, tout = w[index], tw[tindex]
    same(out, tout)
    backward_both(out, tout, out.shape)
    same(w.grad, tw.grad)


def test_embedding_gradient_in_float32_and_gradcheck():
    emb = glassgrad.nn.Embedding(6, 4, dtype=np.float32)
    idx = np.array([[1, 5, 1], [0, 1, 5]])
    emb(Tensor(idx).long()).sum().backward()
    counts = np.bincount(idx.ravel(), minlength=6).astype(np.float32)
    assert emb.weight.grad.dtype == np.float32
    np.testing.assert_array_equal(emb.weight.grad.data, np.repeat(counts[:, None], 4, axis=1))
    w, _ = leaf((4, 2))
    assert gradcheck(lambda w: w[np.array([3, 0, 3, -1])] * w[np.array([1, 1, 0, 2])], [w])
    assert gradgradcheck(lambda w: w[np.array([3, 0, 3, -1])] ** 2, [w])
    assert gradgradcheck(lambda w: w[np.array([3, 0, 3]), np.array([1, 0, 1])] ** 2, [w])


@pytest.mark.parametrize("k", [3.0, -2.0, 2.0, -1.0])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_small_integer_powers_are_torch_to_the_last_bit(k, dtype):
    x, tx = pair(np.concatenate([[0.0, -0.0, np.inf], RNG.standard_normal(200)]).astype(dtype))
    out, tout = x**k, tx**k
    np.testing.assert_array_equal(out.data, tout.detach().numpy())
    assert out.dtype == dtype
    out.sum().backward()
    tout.sum().backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-6 if dtype == np.float32 else 1e-15)


@pytest.mark.parametrize("shape", [(7,), (4, 7), (2, 3, 7), (2, 1, 3, 7), (0, 7), (3, 0, 7)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_on_stacks_of_rows_is_torch(shape, bias):
    x, tx = leaf(shape)
    w, tw = leaf((5, 7))
    b, tb = leaf((5,)) if bias else (None, None)
    out, tout = linear(x, w, b), torch.nn.functional.linear(tx, tw, tb)
    same(out, tout)
    backward_both(out, tout, out.shape)
    for ours, theirs in ((x, tx), (w, tw), (b, tb)):
        if ours is not None:
            same(ours.grad, theirs.grad)
    if 0 not in shape and len(shape) > 1:
        assert gradgradcheck(lambda x, w: linear(x, w).tanh(), [Tensor(x.data[..., :2, :], requires_grad=True), w])


@pytest.mark.parametrize("mask_shape", [(4, 4), (1, 1, 4, 4), (2, 1, 1, 4), (2, 3, 4, 4)])
def test_masked_fill_with_a_mask_smaller_than_the_tensor_is_torch(mask_shape):
    x, tx = leaf((2, 3, 4, 4))
    mask = RNG.random(mask_shape) < 0.4
    out, tout = x.masked_fill(glassgrad.tensor(mask), float("-inf")), tx.masked_fill(torch.tensor(mask), float("-inf"))
    same(out, tout)
    soft = F.softmax(out.masked_fill(glassgrad.tensor(mask.all(-1, keepdims=True)), 0.0), dim=-1)
    tsoft = torch.softmax(tout.masked_fill(torch.tensor(mask.all(-1, keepdims=True)), 0.0), dim=-1)
    backward_both(soft, tsoft, soft.shape)
    same(x.grad, tx.grad)
    fresh = Tensor(x.data, requires_grad=True)
    assert gradgradcheck(lambda x: x.masked_fill(glassgrad.tensor(mask), 0.5) ** 2, [fresh])


def test_masked_fill_refuses_a_mask_that_does_not_broadcast_to_the_tensor():
    with pytest.raises(ValueError, match=r"masked_fill: a mask of shape \(3,\) for a tensor of shape \(2, 4\)"):
        Tensor(np.ones((2, 4))).masked_fill(glassgrad.tensor(np.ones(3, dtype=bool)), 0.0)
    with pytest.raises(ValueError, match=r"a mask of shape \(2, 4, 1\) for a tensor of shape \(2, 4\)"):
        Tensor(np.ones((2, 4))).masked_fill(glassgrad.tensor(np.ones((2, 4, 1), dtype=bool)), 0.0)
