"""`glassgrad.utils.data` against `torch.utils.data`: the same batches, lengths, collation and errors.

Random orders are checked for what they must be (permutations, ranges, reproducible from a seed),
for PyTorch's sequence of draws (one seed per iterator, then the sampler's seed and its
randperm/randint calls), reconstructed with each library's own calls, and, as glassgrad's generator
reproduces PyTorch's streams, for being PyTorch's very orders from the same seed.
"""

from __future__ import annotations

import collections

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import glassgrad
import glassgrad.utils.data as gdata

Pair = collections.namedtuple("Pair", "x y")


def plain(x):
    """A batch as nested Python values, tensors as (dtype, shape, numbers): comparable across libraries."""
    if isinstance(x, (glassgrad.Tensor, torch.Tensor)):
        return ("tensor", str(x.dtype).removeprefix("torch.").removeprefix("glassgrad."), tuple(x.shape), x.tolist())
    if isinstance(x, dict):
        return {k: plain(v) for k, v in x.items()}
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return (type(x).__name__, *map(plain, x))
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [plain(v) for v in x])
    return x


def examples(t, kind: str, n: int):
    """n examples of one kind, made with library t (glassgrad or torch), as a dataset."""
    ints = [(3 * i) % 7 for i in range(n)]
    if kind == "tensors":
        return t.utils.data.TensorDataset(t.tensor([[float(i), i / 2] for i in range(n)]), t.tensor(ints))
    if kind == "tuples":
        return [(t.tensor([i, i + 1]), float(i) / 4, i, f"w{i}") for i in range(n)]
    if kind == "dicts":
        return [{"x": t.tensor([float(i)] * 3), "label": ints[i], "ok": i % 2 == 0} for i in range(n)]
    if kind == "numpy":
        return [(np.full((2, 2), i, dtype=np.float32), np.int64(i), np.float64(i) / 3) for i in range(n)]
    if kind == "named":
        return [Pair(t.tensor(float(i)), [i, -i]) for i in range(n)]
    if kind == "scalars":
        return [t.tensor(float(i) * 1.5) for i in range(n)]
    raise AssertionError(kind)


class Words:
    """A user's Dataset subclass, as makemore's CharDataset: (x, y) rows of a word's integers."""

    def __init__(self, t, words):
        self.t, self.words = t, words

    def __len__(self):
        return len(self.words)

    def __getitem__(self, i):
        ix = self.t.tensor([ord(c) - 96 for c in self.words[i]], dtype=self.t.long)
        x = self.t.zeros(6, dtype=self.t.long)
        y = self.t.zeros(6, dtype=self.t.long)
        x[1 : 1 + len(ix)] = ix
        y[: len(ix)] = ix
        y[len(ix) + 1 :] = -1
        return x, y


KINDS = ["tensors", "tuples", "dicts", "numpy", "named", "scalars"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n, batch_size, drop_last", [(7, 3, False), (7, 3, True), (6, 2, False), (5, 8, False),
                                                      (5, 1, True), (4, 4, True)])
def test_sequential_batches_equal_torchs(kind, n, batch_size, drop_last):
    theirs = tdata.DataLoader(examples(torch, kind, n), batch_size=batch_size, drop_last=drop_last)
    ours = gdata.DataLoader(examples(glassgrad, kind, n), batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    assert [plain(b) for b in ours] == [plain(b) for b in theirs]


def test_a_user_dataset_subclass_batches_as_torchs():
    words = ["emma", "ava", "mia", "zoe", "li"]

    class Ours(Words, gdata.Dataset):
        pass

    class Theirs(Words, tdata.Dataset):
        pass

    for batch_size in (1, 2, 5):
        got = [plain(b) for b in gdata.DataLoader(Ours(glassgrad, words), batch_size=batch_size)]
        assert got == [plain(b) for b in tdata.DataLoader(Theirs(torch, words), batch_size=batch_size)]


def test_no_batching_gives_examples_one_by_one_converted():
    data = [(np.arange(3), 2.5, "a"), (np.arange(3) + 1, 3.5, "b")]
    ours = [plain(b) for b in gdata.DataLoader(data, batch_size=None)]
    assert ours == [plain(b) for b in tdata.DataLoader(data, batch_size=None)]
    assert len(gdata.DataLoader(data, batch_size=None)) == 2


def test_batch_sampler_and_collate_fn_and_getitems():
    data = list(range(10))
    batches = [[0, 5], [9], [3, 3, 4]]
    for batch_sampler in (batches, tdata.BatchSampler(tdata.SequentialSampler(data), 4, False)):
        ours = [b.tolist() for b in gdata.DataLoader(data, batch_sampler=batch_sampler)]
        assert ours == [b.tolist() for b in tdata.DataLoader(data, batch_sampler=batch_sampler)]
    assert list(gdata.DataLoader(data, batch_size=4, collate_fn=sum)) == [6, 22, 17]

    class Many(gdata.Dataset):
        asked: list = []

        def __getitems__(self, indices):
            self.asked.append(list(indices))
            return [i * 10 for i in indices]

        def __len__(self):
            return 5

    assert [b.tolist() for b in gdata.DataLoader(Many(), batch_size=2)] == [[0, 10], [20, 30], [40]]
    assert Many.asked == [[0, 1], [2, 3], [4]]


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_workers_and_pinned_memory_are_accepted_and_give_the_same_batches(workers):
    data = examples(glassgrad, "tuples", 9)
    expected = [plain(b) for b in gdata.DataLoader(data, batch_size=2)]
    loader = gdata.DataLoader(data, batch_size=2, num_workers=workers, pin_memory=True, persistent_workers=True,
                              prefetch_factor=2, timeout=5)
    assert [plain(b) for b in loader] == expected
    assert gdata.get_worker_info() is None and tdata.get_worker_info() is None


def _epochs(loader, count):
    return [[i for batch in loader for i in batch.tolist()] for _ in range(count)]


@pytest.mark.parametrize("n, batch_size", [(10, 3), (33, 32), (1, 1), (64, 7)])
def test_shuffle_gives_a_new_permutation_each_pass_reproducible_from_the_seed(n, batch_size):
    loader = gdata.DataLoader(list(range(n)), batch_size=batch_size, shuffle=True)
    glassgrad.manual_seed(1234)
    first = _epochs(loader, 3)
    assert all(sorted(epoch) == list(range(n)) for epoch in first)
    if n > 3:
        assert first[0] != first[1] != first[2]
    glassgrad.manual_seed(1234)
    assert _epochs(loader, 3) == first
    assert len(loader) == len(tdata.DataLoader(list(range(n)), batch_size=batch_size, shuffle=True))


def reconstructed_order(t, n, seed, with_generator):
    """The first epoch's order rebuilt from PyTorch's sequence of draws, with library t's own calls."""
    draw = (lambda g=None: glassgrad.random.draw_seed(g)) if t is glassgrad else (
        lambda g=None: int(torch.empty((), dtype=torch.int64).random_(generator=g).item()))
    if with_generator:
        g = t.Generator().manual_seed(seed)
        draw(g)  # iter(loader): the base seed, from the loader's generator
        return t.randperm(n, generator=g).tolist()  # the sampler shares that generator
    t.manual_seed(seed)
    draw()  # iter(loader): the base seed
    sampler_generator = t.Generator().manual_seed(draw())  # RandomSampler: a seed, then its own generator
    return t.randperm(n, generator=sampler_generator).tolist()


@pytest.mark.parametrize("t", [glassgrad, torch], ids=["glassgrad", "torch"])
@pytest.mark.parametrize("seed", [0, 42, 2147483647])
@pytest.mark.parametrize("with_generator", [False, True])
def test_shuffle_takes_torchs_sequence_of_draws(t, seed, with_generator):
    n = 13
    data = t.utils.data
    if with_generator:
        loader = data.DataLoader(list(range(n)), batch_size=5, shuffle=True, generator=t.Generator().manual_seed(seed))
    else:
        t.manual_seed(seed)
        loader = data.DataLoader(list(range(n)), batch_size=5, shuffle=True)
    order = [i for batch in loader for i in batch.tolist()]
    assert order == reconstructed_order(t, n, seed, with_generator)


@pytest.mark.parametrize("t", [glassgrad, torch], ids=["glassgrad", "torch"])
@pytest.mark.parametrize("num_samples", [1, 31, 32, 33, 100])
def test_sampling_with_replacement_draws_32_at_a_time_as_torch(t, num_samples):
    n = 5
    sampler = t.utils.data.RandomSampler(range(n), replacement=True, num_samples=num_samples,
                                         generator=t.Generator().manual_seed(7))
    drawn = list(sampler)
    g = t.Generator().manual_seed(7)
    expected = []
    for _ in range(num_samples // 32):
        expected += t.randint(0, n, (32,), generator=g).tolist()
    expected += t.randint(0, n, (num_samples % 32,), generator=g).tolist()
    assert drawn == expected and len(sampler) == num_samples
    assert all(0 <= i < n for i in drawn)


@pytest.mark.parametrize("num_samples", [3, 10, 25])
def test_sampling_without_replacement_is_whole_permutations_then_a_part(num_samples):
    n = 10
    drawn = list(gdata.RandomSampler(range(n), num_samples=num_samples, generator=glassgrad.Generator().manual_seed(3)))
    assert len(drawn) == num_samples
    for start in range(0, num_samples, n):
        part = drawn[start : start + n]
        assert len(set(part)) == len(part) and set(part) <= set(range(n))


def test_an_infinite_sampler_as_makemore_uses_it():
    data = examples(glassgrad, "tensors", 20)
    sampler = gdata.RandomSampler(data, replacement=True, num_samples=int(1e10))
    loader = gdata.DataLoader(data, sampler=sampler, batch_size=8, pin_memory=True, num_workers=4)
    assert len(loader) == len(tdata.DataLoader(range(20), sampler=tdata.RandomSampler(
        range(20), replacement=True, num_samples=int(1e10)), batch_size=8))
    batches = iter(loader)
    for _ in range(5):
        x, y = next(batches)
        assert x.shape == (8, 2) and y.shape == (8,) and x.dtype == glassgrad.float32 and y.dtype == glassgrad.int64


def _error(make):
    with pytest.raises(Exception) as info:
        make()
    return type(info.value), str(info.value)


@pytest.mark.parametrize(
    "arguments",
    [
        dict(shuffle=True, sampler=[0, 1]),
        dict(batch_sampler=[[0]], batch_size=2),
        dict(batch_sampler=[[0]], shuffle=True),
        dict(batch_sampler=[[0]], drop_last=True),
        dict(batch_size=None, drop_last=True),
        dict(batch_size=0),
        dict(batch_size=-2),
        dict(batch_size=1.5),
        dict(num_workers=0, prefetch_factor=2),
    ],
)
def test_bad_arguments_raise_torchs_errors(arguments):
    assert _error(lambda: gdata.DataLoader([1, 2], **arguments)) == _error(lambda: tdata.DataLoader([1, 2],
                                                                                                     **arguments))


@pytest.mark.parametrize(
    "make",
    [
        lambda d: d.RandomSampler(range(3), replacement=1),
        lambda d: d.RandomSampler(range(3), num_samples=0),
        lambda d: d.RandomSampler([], replacement=False),
        lambda d: d.BatchSampler(range(3), 0, False),
        lambda d: d.BatchSampler(range(3), 2, "yes"),
    ],
)
def test_bad_sampler_arguments_raise_torchs_errors(make):
    assert _error(lambda: make(gdata)) == _error(lambda: make(tdata))


def test_collating_what_cannot_be_collated_raises_torchs_errors():
    for batch in ([object(), object()], [np.array(["a"]), np.array(["b"])], [[1, 2], [3]]):
        assert _error(lambda b=batch: gdata.default_collate(b)) == _error(lambda b=batch: tdata.default_collate(b))
    with pytest.raises(ValueError, match="stack: expects each tensor to be equal size"):
        gdata.default_collate([glassgrad.zeros(2), glassgrad.zeros(3)])


def test_negative_workers_and_unsupported_worker_options_are_refused():
    with pytest.raises(ValueError, match="num_workers option should be non-negative"):
        gdata.DataLoader([1], num_workers=-1)
    with pytest.raises(NotImplementedError, match="runs in this process"):
        gdata.DataLoader([1], num_workers=2, worker_init_fn=print)
    with pytest.raises(TypeError, match="takes map-style datasets"):
        gdata.DataLoader(iter([1, 2]))
    with pytest.raises(TypeError, match="generator= must be a glassgrad.Generator"):
        gdata.DataLoader([1], shuffle=True, generator=torch.Generator())


def test_tensor_dataset_checks_its_tensors():
    with pytest.raises(ValueError, match="Size mismatch between tensors"):
        gdata.TensorDataset(glassgrad.zeros(3), glassgrad.zeros(4))
    with pytest.raises(ValueError, match="at least one dimension"):
        gdata.TensorDataset(glassgrad.tensor(1.0))
    dataset = gdata.TensorDataset(glassgrad.arange(4), glassgrad.arange(4) * 2)
    assert len(dataset) == 4 and [t.item() for t in dataset[3]] == [3, 6]


@pytest.mark.parametrize("seed", [0, 3407, 2147483647])
@pytest.mark.parametrize("n, batch_size", [(13, 5), (100, 32), (7, 7)])
@pytest.mark.parametrize("with_generator", [False, True])
def test_shuffled_batches_are_torchs(seed, n, batch_size, with_generator):
    orders = []
    for t in (glassgrad, torch):
        t.manual_seed(seed)
        generator = t.Generator().manual_seed(seed + 1) if with_generator else None
        loader = t.utils.data.DataLoader(list(range(n)), batch_size=batch_size, shuffle=True, generator=generator)
        epochs = [[b.tolist() for b in loader] for _ in range(3)]
        orders.append(epochs + [t.randn(2, dtype=t.float64).tolist()])  # and the stream after them
    assert orders[0] == orders[1]


@pytest.mark.parametrize("seed", [0, 3407])
@pytest.mark.parametrize("num_samples", [5, 32, 70])
def test_sampling_with_replacement_is_torchs(seed, num_samples):
    drawn = []
    for t in (glassgrad, torch):
        t.manual_seed(seed)
        data = t.utils.data
        sampler = data.RandomSampler(range(9), replacement=True, num_samples=num_samples)
        loader = data.DataLoader(list(range(9)), sampler=sampler, batch_size=4, num_workers=0)
        drawn.append([b.tolist() for b in loader] + [list(sampler)])
    assert drawn[0] == drawn[1]


def test_makemores_infinite_loader_gives_torchs_batches():
    words = ["emma", "ava", "mia", "zoe", "li", "liam", "noah"]
    batches = []
    for t, data in ((glassgrad, gdata), (torch, tdata)):
        class Ours(Words, data.Dataset):
            pass

        t.manual_seed(3407)
        dataset = Ours(t, words)
        sampler = data.RandomSampler(dataset, replacement=True, num_samples=int(1e10))
        it = iter(data.DataLoader(dataset, sampler=sampler, batch_size=3, pin_memory=False, num_workers=0))
        batches.append([[x.tolist(), y.tolist()] for x, y in (next(it) for _ in range(4))])
    assert batches[0] == batches[1]
