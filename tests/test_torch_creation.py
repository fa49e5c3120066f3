"""Making tensors, dtypes and random numbers under PyTorch's names."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import glassgrad


@pytest.mark.parametrize(
    "make",
    [
        lambda t: t.tensor([1, 2, 3]),
        lambda t: t.tensor([[1.5, 2.0]]),
        lambda t: t.tensor([True, False]),
        lambda t: t.tensor(3),
        lambda t: t.zeros(2, 3),
        lambda t: t.ones((2, 3), dtype=t.long),
        lambda t: t.full((2, 2), 7),
        lambda t: t.full((2,), 0.5),
        lambda t: t.arange(5),
        lambda t: t.arange(1, 2, 0.25),
        lambda t: t.linspace(-1, 1, 5),
        lambda t: t.zeros_like(t.tensor([[1, 2]])),
        lambda t: t.ones_like(t.tensor([1.0, 2.0])),
        lambda t: t.full_like(t.tensor([1.0, 2.0]), 3.0),
        lambda t: t.empty(0, 2),
    ],
)
def test_creation_gives_torchs_values_shapes_and_dtypes(make):
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # glassgrad's default floating dtype
    try:
        ours, theirs = make(glassgrad), make(torch)
    finally:
        torch.set_default_dtype(previous)
    assert ours.shape == tuple(theirs.shape)
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    np.testing.assert_array_equal(ours.data, theirs.numpy())


def test_dtype_names_are_numpys_dtypes():
    assert glassgrad.float64 == np.float64 and glassgrad.double is glassgrad.float64
    assert glassgrad.long == np.int64 and glassgrad.float == np.float32 and glassgrad.bool == np.bool_
    assert glassgrad.tensor([1.0], dtype=glassgrad.float32).dtype == glassgrad.float32
    with pytest.raises(
        TypeError, match=r"dtype='int8' is not supported; expected glassgrad.float32, float64, int64 or bool"
    ):
        glassgrad.zeros(2, dtype="int8")
    with pytest.raises(RuntimeError, match="only floating tensors can require gradients, got dtype int64"):
        glassgrad.tensor([1, 2], requires_grad=True)
    with pytest.raises(ValueError, match=r"zeros: a size is non-negative integers, e.g. \(3, 4\); got \(2, -1\)"):
        glassgrad.zeros(2, -1)


def test_set_default_dtype():
    glassgrad.set_default_dtype(glassgrad.float32)
    try:
        assert glassgrad.tensor([1.5]).dtype == glassgrad.float32 and glassgrad.randn(2).dtype == glassgrad.float32
    finally:
        glassgrad.set_default_dtype(glassgrad.float64)
    with pytest.raises(TypeError, match="only floating dtypes can be the default"):
        glassgrad.set_default_dtype(glassgrad.long)


def test_random_streams_are_reproducible_from_a_seed():
    def draw(g):
        return [
            glassgrad.randn(3, 2, generator=g).data,
            glassgrad.rand(4, generator=g).data,
            glassgrad.randint(0, 27, (5,), generator=g).data,
            glassgrad.randperm(6, generator=g).data,
            glassgrad.multinomial(glassgrad.tensor([0.2, 0.0, 0.8]), 4, replacement=True, generator=g).data,
        ]

    first, again = (
        draw(glassgrad.Generator().manual_seed(2147483647)),
        draw(glassgrad.Generator().manual_seed(2147483647)),
    )
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    randn, rand, ints, perm, picks = first
    assert randn.shape == (3, 2) and ((rand >= 0) & (rand < 1)).all()
    assert ints.dtype == np.int64 and ((ints >= 0) & (ints < 27)).all()
    assert sorted(perm) == list(range(6)) and 1 not in picks
    glassgrad.manual_seed(5)
    a = glassgrad.randn(3).data
    glassgrad.manual_seed(5)
    assert np.array_equal(a, glassgrad.randn(3).data)
    assert glassgrad.randint(10, (2, 2)).shape == (2, 2)


def test_multinomial_samples_follow_the_weights_and_refuse_bad_ones():
    g = glassgrad.Generator().manual_seed(0)
    counts = np.bincount(glassgrad.multinomial(glassgrad.tensor([1.0, 3.0]), 4000, replacement=True, generator=g).data)
    assert abs(counts[1] / 4000 - 0.75) < 0.03
    rows = glassgrad.multinomial(glassgrad.tensor([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]]), 2, generator=g).data
    assert rows.shape == (2, 2) and set(rows[0]) == {0, 1} and set(rows[1]) == {1, 2}
    with pytest.raises(ValueError, match="cannot draw 3 samples without replacement from 2 categories"):
        glassgrad.multinomial(glassgrad.tensor([1.0, 1.0, 0.0]), 3)
    with pytest.raises(ValueError, match="finite and non-negative"):
        glassgrad.multinomial(glassgrad.tensor([1.0, -1.0]), 1)
    with pytest.raises(TypeError, match="generator= must be a glassgrad.Generator"):
        glassgrad.randn(2, generator=torch.Generator())
