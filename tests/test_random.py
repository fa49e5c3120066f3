"""Random streams: glassgrad's generator gives PyTorch's own CPU numbers, bit for bit.

Every case draws from a glassgrad Generator and a torch Generator started from the same seed and
compares the arrays exactly (values, dtype and shape), over seeds, sizes on both sides of PyTorch's
algorithm switches (normal's 16-number blocks, float32 vs float64 paths, 32-bit vs 64-bit integer
ranges, multinomial's sampling methods) and dtypes; then the generators' states byte for byte.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import glassgrad
from glassgrad import random as grandom

SEEDS = [0, 1, 42, 2147483647, 2**32 + 7, 2**63 + 5, -3]
SIZES = [(), (1,), (2,), (3,), (15,), (16,), (17,), (31,), (32,), (33,), (4, 5), (3, 16, 2), (1000,), (4099,)]
DTYPES = ["float32", "float64"]


def pair(seed: int) -> tuple[glassgrad.Generator, torch.Generator]:
    return glassgrad.Generator().manual_seed(seed), torch.Generator().manual_seed(seed)


def assert_same(ours, theirs) -> None:
    mine = ours.data if isinstance(ours, glassgrad.Tensor) else np.asarray(ours)
    expected = theirs.numpy()
    assert mine.dtype == expected.dtype and mine.shape == expected.shape
    np.testing.assert_array_equal(mine, expected, strict=True)


def assert_same_state(g: glassgrad.Generator, t: torch.Generator) -> None:
    np.testing.assert_array_equal(g.get_state().data, t.get_state().numpy())


DRAWS = {  # name -> draw(library, generator, size, dtype)
    "randn": lambda lib, g, size, dt: lib.randn(size, generator=g, dtype=getattr(lib, dt)),
    "rand": lambda lib, g, size, dt: lib.rand(size, generator=g, dtype=getattr(lib, dt)),
    "randint": lambda lib, g, size, dt: lib.randint(-5, 27, size, generator=g),
    "randint_wide": lambda lib, g, size, dt: lib.randint(-(2**40), 2**41 + 3, size, generator=g),
    "randint_2**32": lambda lib, g, size, dt: lib.randint(0, 2**32, size, generator=g),
    "randint_as_dtype": lambda lib, g, size, dt: lib.randint(0, 10, size, generator=g, dtype=getattr(lib, dt)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(DRAWS))
def test_draws_are_pytorchs_numbers(name, dtype):
    draw = DRAWS[name]
    for seed in SEEDS:
        g, t = pair(seed)
        for size in SIZES:
            assert_same(draw(glassgrad, g, size, dtype), draw(torch, t, size, dtype))
        assert_same_state(g, t)


@pytest.mark.parametrize("dtype", DTYPES)
def test_one_stream_through_many_draws_keeps_pytorchs_state(dtype):
    """Interleaved draws: the stream's position and the kept second normal of a Box-Muller pair
    (small normal draws use it, block draws of 16 and more leave it) stay PyTorch's."""
    steps = [
        lambda lib, g: lib.randn(3, generator=g, dtype=getattr(lib, dtype)),
        lambda lib, g: lib.randn(100, generator=g, dtype=getattr(lib, dtype)),
        lambda lib, g: lib.randn(1, generator=g, dtype=getattr(lib, dtype)),
        lambda lib, g: lib.rand(5, generator=g, dtype=getattr(lib, dtype)),
        lambda lib, g: lib.randn(2, 2, generator=g, dtype=getattr(lib, dtype)),
        lambda lib, g: lib.randperm(50, generator=g),
        lambda lib, g: lib.randn(1, generator=g, dtype=getattr(lib, dtype)),
        lambda lib, g: lib.randint(0, 100, (7,), generator=g),
        lambda lib, g: lib.randn(15, generator=g, dtype=getattr(lib, dtype)),
    ]
    for seed in SEEDS:
        g, t = pair(seed)
        for step in steps:
            assert_same(step(glassgrad, g), step(torch, t))
            assert_same_state(g, t)


def test_the_default_generator_and_manual_seed():
    for seed in SEEDS[:4]:
        assert glassgrad.manual_seed(seed) is glassgrad.default_generator
        torch.manual_seed(seed)
        assert glassgrad.initial_seed() == torch.initial_seed() == seed
        assert_same(glassgrad.randn(40), torch.randn(40))  # the default dtype: float32 in both
        assert_same(glassgrad.rand(3, 3), torch.rand(3, 3))
        assert_same(glassgrad.randint(10, (6,)), torch.randint(10, (6,)))
        assert_same(glassgrad.randperm(9), torch.randperm(9))
        assert_same(glassgrad.randn(2, 3), torch.randn(2, 3))
        assert_same_state(glassgrad.default_generator, torch.default_generator)
    g = glassgrad.Generator()
    assert g.initial_seed() == torch.Generator().initial_seed() and str(g.device) == "cpu"
    assert glassgrad.seed() == glassgrad.initial_seed()


@pytest.mark.parametrize("dtype", DTYPES)
def test_like_functions(dtype):
    g, t = pair(3)
    ours = glassgrad.zeros(4, 5, dtype=getattr(glassgrad, dtype))
    theirs = torch.zeros(4, 5, dtype=getattr(torch, dtype))
    assert_same(glassgrad.randn_like(ours, generator=g), torch.randn_like(theirs, generator=t))
    assert_same(glassgrad.rand_like(ours, generator=g), torch.rand_like(theirs, generator=t))
    assert_same(glassgrad.randint_like(ours, 3, 9, generator=g), torch.randint_like(theirs, 3, 9, generator=t))
    assert_same(glassgrad.randint_like(ours, 7, generator=g), torch.randint_like(theirs, 7, generator=t))


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 7, 16, 100, 1000, 32033])
def test_randperm(n):
    for seed in SEEDS:
        g, t = pair(seed)
        assert_same(glassgrad.randperm(n, generator=g), torch.randperm(n, generator=t))
        assert_same(
            glassgrad.randperm(n, generator=g, dtype=glassgrad.float32),
            torch.randperm(n, generator=t, dtype=torch.float32),
        )
        assert_same_state(g, t)


MULTINOMIAL = [  # (shape of the weights, num_samples, replacement)
    ((3,), 100, True),  # the bigram lecture's draw
    ((3,), 1, True),  # one sample with replacement: PyTorch's exponential (Gumbel) path
    ((27,), 1, True),
    ((27,), 1, False),
    ((27,), 5, False),
    ((27,), 20, False),  # every category of non-zero weight
    ((27,), 20, True),
    ((32, 27), 1, True),  # a batch of rows, one sample each (makemore's sampling)
    ((4, 10), 3, False),
    ((4, 10), 6, True),
    ((5, 2000), 2, True),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, num_samples, replacement", MULTINOMIAL)
def test_multinomial(shape, num_samples, replacement, dtype):
    for seed in SEEDS[:5]:
        weights = torch.rand(shape, generator=torch.Generator().manual_seed(seed + 1), dtype=getattr(torch, dtype))
        weights[..., ::4] = 0  # categories of weight zero
        weights[..., 1] += 0.5
        g, t = pair(seed)
        for p in (weights, weights / weights.sum(-1, keepdim=True)):
            ours = glassgrad.multinomial(glassgrad.tensor(p.numpy()), num_samples, replacement, generator=g)
            assert_same(ours, torch.multinomial(p, num_samples, replacement, generator=t))
        assert_same_state(g, t)


def test_the_bigram_lectures_draw():
    """Lecture 1: three probabilities from rand, then 100 samples from them."""
    g, t = pair(2147483647)
    p, tp = glassgrad.rand(3, generator=g), torch.rand(3, generator=t)
    assert_same(p, tp)
    assert_same(
        glassgrad.multinomial(p / p.sum(), num_samples=100, replacement=True, generator=g),
        torch.multinomial(tp / tp.sum(), num_samples=100, replacement=True, generator=t),
    )


# The in-place fills that tensor methods, nn.init and dropout call: numpy arrays in, PyTorch's numbers out.
FILLS = {  # name -> (glassgrad fill of a numpy array, the same on a torch tensor)
    "normal_": (lambda a, g: grandom.normal(a, 0.0, 1.0, g), lambda x, t: x.normal_(generator=t)),
    "normal_(0.5, 0.3)": (lambda a, g: grandom.normal(a, 0.5, 0.3, g), lambda x, t: x.normal_(0.5, 0.3, generator=t)),
    "normal_(-1.7, 2.9)": (
        lambda a, g: grandom.normal(a, -1.7, 2.9, g),
        lambda x, t: x.normal_(-1.7, 2.9, generator=t),
    ),
    "normal_(0, 0.02)": (lambda a, g: grandom.normal(a, 0.0, 0.02, g), lambda x, t: x.normal_(0, 0.02, generator=t)),
    "uniform_": (lambda a, g: grandom.uniform(a, 0.0, 1.0, g), lambda x, t: x.uniform_(generator=t)),
    "uniform_(-0.3, 0.7)": (
        lambda a, g: grandom.uniform(a, -0.3, 0.7, g),
        lambda x, t: x.uniform_(-0.3, 0.7, generator=t),
    ),
    "uniform_(2, 1000)": (lambda a, g: grandom.uniform(a, 2, 1000, g), lambda x, t: x.uniform_(2, 1000, generator=t)),
    "bernoulli_(0.3)": (lambda a, g: grandom.bernoulli_(a, 0.3, g), lambda x, t: x.bernoulli_(0.3, generator=t)),
    "exponential_": (lambda a, g: grandom.exponential(a, 1.0, g), lambda x, t: x.exponential_(generator=t)),
    "exponential_(2.5)": (lambda a, g: grandom.exponential(a, 2.5, g), lambda x, t: x.exponential_(2.5, generator=t)),
    "random_(-3, 12)": (lambda a, g: grandom.integers(a, -3, 12, g), lambda x, t: x.random_(-3, 12, generator=t)),
    "random_()": (lambda a, g: grandom.random_bits(a, g), lambda x, t: x.random_(generator=t)),
}
LAYOUTS = {  # name -> a view of a fresh array of shape (6, 20), in numpy and in torch
    "contiguous": lambda x: x,
    "transposed": lambda x: x.T,
    "sliced": lambda x: x[1:5, 2:19:3],
    "row": lambda x: x[2],
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(FILLS))
def test_in_place_fills_in_pytorchs_order(name, dtype, layout):
    ours_fill, torch_fill = FILLS[name]
    view = LAYOUTS[layout]
    for seed in SEEDS[:4]:
        g, t = pair(seed)
        for shape in [(6, 20), (6, 3)]:
            mine, theirs = np.zeros(shape, dtype), torch.zeros(shape, dtype=getattr(torch, dtype))
            ours_fill(view(mine), g)
            torch_fill(view(theirs), t)
            assert_same(mine, theirs)
        assert_same_state(g, t)


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool", "float32", "float64"])
def test_random_integers_of_each_dtype(dtype):
    for seed in SEEDS[:4]:
        g, t = pair(seed)
        for fill in (FILLS["random_()"], FILLS["random_(-3, 12)"]) if dtype != "bool" else (FILLS["random_()"],):
            mine, theirs = np.zeros(37, dtype), torch.zeros(37, dtype=getattr(torch, dtype))
            fill[0](mine, g)
            fill[1](theirs, t)
            assert_same(mine, theirs)
        assert_same_state(g, t)


@pytest.mark.parametrize("dtype", DTYPES)
def test_bernoulli_of_probabilities(dtype):
    for seed in SEEDS[:4]:
        g, t = pair(seed)
        p = torch.rand(5, 40, generator=torch.Generator().manual_seed(seed), dtype=getattr(torch, dtype))
        probabilities = glassgrad.tensor(p.numpy())
        assert_same(glassgrad.bernoulli(probabilities, generator=g), torch.bernoulli(p, generator=t))
        assert_same(glassgrad.bernoulli(probabilities, 0.8, generator=g), torch.bernoulli(p, 0.8, generator=t))
        mine, theirs = np.zeros((5, 40), "float32"), torch.zeros(5, 40)
        grandom.bernoulli_(mine, p.numpy()[0], g)  # probabilities broadcast over the rows
        theirs.bernoulli_(p[0], generator=t)
        assert_same(mine, theirs)
        assert_same_state(g, t)


def test_states_move_between_the_libraries():
    g, t = pair(99)
    for _ in range(3):
        assert_same(glassgrad.randn(5, generator=g), torch.randn(5, generator=t))  # keeps one normal
        state = g.get_state()
        assert state.dtype == np.uint8 and state.shape == (5056,)
        assert_same_state(g, t)
        copy = torch.Generator().set_state(torch.from_numpy(state.numpy().copy()))
        back = glassgrad.Generator().set_state(t.get_state())
        assert back.initial_seed() == copy.initial_seed() == 99
        for ours, theirs in ((g, t), (back, copy)):
            assert_same(glassgrad.randn(3, generator=ours), torch.randn(3, generator=theirs))
    glassgrad.manual_seed(5)
    torch.manual_seed(5)
    saved, expected = glassgrad.get_rng_state(), torch.rand(4)
    assert_same(glassgrad.rand(4), expected)
    glassgrad.set_rng_state(saved)
    assert_same(glassgrad.rand(4), expected)


def test_seeds_as_pytorch_takes_them():
    g = glassgrad.Generator()
    for seed in (-1, 2**64 - 1, -(2**63)):
        assert g.manual_seed(seed).initial_seed() == torch.Generator().manual_seed(seed).initial_seed()
    for bad in (2**64, -(2**63) - 1):
        with pytest.raises(ValueError, match=r"a seed is an integer in \[-2\*\*63, 2\*\*64\)"):
            g.manual_seed(bad)
    for bad in (1.5, True, "3"):
        with pytest.raises(TypeError, match="manual_seed: expected an integer seed"):
            g.manual_seed(bad)
    assert g.manual_seed(np.int64(7)).initial_seed() == 7


def test_bad_arguments_say_what_was_expected():
    with pytest.raises(TypeError, match="generator= must be a glassgrad.Generator, got Generator"):
        glassgrad.randn(2, generator=torch.Generator())
    with pytest.raises(TypeError, match="randn: draws floating numbers; dtype must be float32 or float64, got int64"):
        glassgrad.randn(2, dtype=glassgrad.int64)
    with pytest.raises(ValueError, match="randint: expected low < high, got low=3, high=3"):
        glassgrad.randint(3, 3, (2,))
    with pytest.raises(ValueError, match=r"normal_: expects std >= 0.0, got std=-1"):
        grandom.normal(np.zeros(3), 0, -1)
    with pytest.raises(ValueError, match="uniform_: expects low <= high"):
        grandom.uniform(np.zeros(3), 1, 0)
    with pytest.raises(ValueError, match="bernoulli_: expects 0 <= p <= 1, got p=1.5"):
        grandom.bernoulli_(np.zeros(3), 1.5)
    with pytest.raises(ValueError, match="set_state: expected the 5056 bytes"):
        glassgrad.Generator().set_state(np.zeros(10, np.uint8))
    with pytest.raises(ValueError, match="multinomial: cannot draw 3 samples without replacement from 2 categories"):
        glassgrad.multinomial(glassgrad.tensor([1.0, 1.0, 0.0]), 3)
    with pytest.raises(ValueError, match="multinomial: weights must be finite and non-negative"):
        glassgrad.multinomial(glassgrad.tensor([1.0, -1.0]), 1)
    with pytest.raises(TypeError, match="multinomial: expected floating weights"):
        glassgrad.multinomial(glassgrad.tensor([1, 2]), 1)
    with pytest.raises(RuntimeError, match="Generator: device 'cuda' is not available: glassgrad runs on the CPU only"):
        glassgrad.Generator("cuda")
