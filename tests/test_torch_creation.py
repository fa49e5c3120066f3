"""Making tensors, dtypes, sizes and tensors' text under PyTorch's names (random numbers: test_random.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import glassgrad


def same_name(ours, theirs) -> bool:
    """glassgrad's text is PyTorch's with glassgrad's name: `glassgrad.float32` for `torch.float32`."""
    return repr(ours) == repr(theirs).replace("torch.", "glassgrad.")


MAKERS = [
    lambda t: t.tensor([1, 2, 3]),
    lambda t: t.tensor([[1.5, 2.0]]),
    lambda t: t.tensor([True, False]),
    lambda t: t.tensor(3),
    lambda t: t.tensor(2.5),
    lambda t: t.zeros(2, 3),
    lambda t: t.ones((2, 3), dtype=t.long),
    lambda t: t.zeros((27, 27), dtype=t.int32),  # lecture 1's count table
    lambda t: t.ones(4, dtype=t.uint8),
    lambda t: t.tensor([1.7, -2.5, 3.0]).int(),
    lambda t: t.tensor([1, 2], dtype=t.int32).float(),
    lambda t: t.tensor([1.5, 2.5]).double(),
    lambda t: t.arange(6, dtype=t.int32).reshape(2, 3),
    lambda t: t.tensor([1, 2], dtype=t.int32) + 1,  # a Python int keeps an integer tensor's dtype
    lambda t: t.tensor([1, 2], dtype=t.uint8) * 3,
    lambda t: t.tensor([True, False]) + 1,
    lambda t: t.arange(4) / 2,  # true division of integers: the default floating dtype
    lambda t: 3 / t.tensor([1, 2], dtype=t.int32),
    lambda t: t.full((2, 2), 7),
    lambda t: t.full((2,), 0.5),
    lambda t: t.arange(5),
    lambda t: t.arange(1, 2, 0.25),
    lambda t: t.linspace(-1, 1, 5),
    lambda t: t.zeros_like(t.tensor([[1, 2]])),
    lambda t: t.ones_like(t.tensor([1.0, 2.0])),
    lambda t: t.full_like(t.tensor([1.0, 2.0]), 3.0),
    lambda t: t.empty(0, 2),
]


@pytest.mark.parametrize("make", MAKERS)
def test_creation_gives_torchs_values_shapes_dtypes_and_text(make):
    """With both libraries' real defaults (float32): the same dtype, shape, numbers and repr."""
    ours, theirs = make(glassgrad), make(torch)
    assert ours.shape == theirs.shape and same_name(ours.shape, theirs.shape) and same_name(ours.size(), theirs.size())
    assert ours.dtype is getattr(glassgrad, str(theirs.dtype).removeprefix("torch."))
    assert same_name(ours.dtype, theirs.dtype)
    np.testing.assert_array_equal(ours.data, theirs.numpy(), strict=True)
    assert same_name(ours, theirs)


def test_dtypes_read_as_pytorchs_and_work_as_numpys():
    names = {"float32": "float", "float64": "double", "int64": "long", "int32": "int", "bool": "bool", "uint8": "uint8"}
    for name, alias in names.items():
        ours, theirs = getattr(glassgrad, name), getattr(torch, name)
        assert getattr(glassgrad, alias) is ours and isinstance(ours, glassgrad.dtype) and same_name(ours, theirs)
        assert ours == np.dtype(name) == ours.dtype and hash(ours) == hash(np.dtype(name)) and ours != theirs
        assert ours.is_floating_point == theirs.is_floating_point and ours.itemsize == theirs.itemsize
        assert np.zeros(2, ours).dtype == np.dtype(name) and ours in {np.dtype(name)}  # numpy takes it as its dtype
    assert glassgrad.float32 == np.float32 and glassgrad.float32 != glassgrad.float64 and glassgrad.float64 != None  # noqa: E711
    assert glassgrad.tensor([1.0], dtype=np.float64).dtype is glassgrad.float64  # numpy's dtypes are accepted
    with pytest.raises(TypeError, match=r"dtype='int8' is not supported; expected glassgrad.float32, float64, int64, "):
        glassgrad.zeros(2, dtype="int8")
    with pytest.raises(RuntimeError, match="only floating tensors can require gradients, got dtype int64"):
        glassgrad.tensor([1, 2], requires_grad=True)
    with pytest.raises(ValueError, match=r"zeros: a size is non-negative integers, e.g. \(3, 4\); got \(2, -1\)"):
        glassgrad.zeros(2, -1)


def test_the_default_dtype_is_float32_and_float64_is_one_call_away():
    assert glassgrad.get_default_dtype() is glassgrad.float32
    assert same_name(glassgrad.get_default_dtype(), torch.get_default_dtype())
    assert glassgrad.tensor([1.5]).dtype is glassgrad.float32 and glassgrad.randn(2).dtype is glassgrad.float32
    assert glassgrad.Value(0.1).data == 0.1  # the scalar engine stays float64
    glassgrad.set_default_dtype(glassgrad.float64)
    torch.set_default_dtype(torch.float64)  # the autouse fixture restores both
    for make in MAKERS:
        assert same_name(make(glassgrad), make(torch))  # float64 prints no dtype= when it is the default
    assert glassgrad.get_default_dtype() is glassgrad.float64
    with pytest.raises(TypeError, match="only floating dtypes can be the default, got glassgrad.int64"):
        glassgrad.set_default_dtype(glassgrad.long)


def test_lecture_ones_count_table():
    """Lecture 1: counts in an int32 table, then probabilities in float32, as printed."""
    results = []
    for t in (glassgrad, torch):
        N = t.zeros((27, 27), dtype=t.int32)
        for a, b in [(0, 5), (5, 1), (1, 0), (0, 5), (5, 5)]:
            N[a, b] += 1
        P = (N + 1).float()
        P /= P.sum(1, keepdim=True)
        results.append((N, N[0, 5].item(), P, P[5]))
    (N, n, P, row), (tN, tn, tP, trow) = results
    assert n == tn == 2 and N.dtype is glassgrad.int32
    np.testing.assert_array_equal(N.data, tN.numpy(), strict=True)
    np.testing.assert_array_equal(P.data, tP.numpy(), strict=True)
    assert same_name(row, trow) and same_name(N[0, :8], tN[0, :8])


SHAPES = [(), (0,), (1,), (3,), (2, 0, 3), (4, 5), (2, 3, 4)]


def test_size_is_torchs():
    for shape in SHAPES:
        ours, theirs = glassgrad.zeros(shape), torch.zeros(shape)
        for mine, twin in [(ours.shape, theirs.shape), (ours.size(), theirs.size())]:
            assert isinstance(mine, glassgrad.Size) and isinstance(mine, tuple) and same_name(mine, twin)
            assert mine == tuple(twin) and mine.numel() == twin.numel() and list(mine) == list(twin)
    assert glassgrad.zeros(4, 5).size(1) == 5 and glassgrad.Size([2, 3]) == (2, 3)
