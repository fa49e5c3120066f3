"""What the audit of the series' own programs (issue 16) found, against torch: each class of defect
with generated cases.

- A result PyTorch makes as a new tensor must be new in glassgrad too: makemore's MLP writes into
  `torch.roll(idx, 1, 1)`, which for a sequence of length 1 moved nothing and was `idx` itself, so
  sampling overwrote its own start token.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import glassgrad

# f(library, x) for a (2, 3) float tensor x; the result is written into, then x is looked at
NEW_OR_VIEW = {
    "roll by 0": lambda L, x: L.roll(x, 0, 1),
    "roll by the size": lambda L, x: L.roll(x, 3, 1),
    "roll by twice the size, negative": lambda L, x: x.roll(-6, 1),
    "roll a dim of size 1": lambda L, x: x[:1].roll(1, 0),
    "roll flattened by 0": lambda L, x: L.roll(x, 0),
    "roll flattened by the numel": lambda L, x: L.roll(x, 6),
    "roll by (0, 3)": lambda L, x: x.roll((0, 3), (0, 1)),
    "roll by 1": lambda L, x: x.roll(1, 1),
    "flip of no dims": lambda L, x: L.flip(x, ()),
    "flip": lambda L, x: x.flip(0),
    "cat of one": lambda L, x: L.cat([x]),
    "stack of one": lambda L, x: L.stack([x])[0],
    "tril keeping all": lambda L, x: L.tril(x, 5),
    "triu keeping all": lambda L, x: L.triu(x, -5),
    "repeat once": lambda L, x: x.repeat(1, 1),
    "masked_fill of nothing": lambda L, x: x.masked_fill(L.zeros(2, 3, dtype=L.bool), 0),
    "clamp that changes nothing": lambda L, x: x.clamp(-100, 100),
    "gather of everything": lambda L, x: x.gather(1, L.tensor([[0, 1, 2], [0, 1, 2]])),
    "index by a list": lambda L, x: x[[0, 1]],
    "sort": lambda L, x: x.sort(1).values,
    "topk of all": lambda L, x: x.topk(3, 1).values,
    "x * 1": lambda L, x: x * 1,
    "clone": lambda L, x: x.clone(),
    "detach (a view)": lambda L, x: x.detach(),
    "reshape (a view)": lambda L, x: x.reshape(3, 2),
    "view_as (a view)": lambda L, x: x.view_as(x),
    "contiguous (itself)": lambda L, x: x.contiguous(),
    "float of a float32 tensor (itself)": lambda L, x: x.float(),
    "chunk into one (a view)": lambda L, x: x.chunk(1, 1)[0],
    "split larger than the size (a view)": lambda L, x: x.split(5, 1)[0],
    "a row (a view)": lambda L, x: x[1],
    "expand to its own shape (a view)": lambda L, x: x.expand(2, 3),
    "expand_as (a view)": lambda L, x: x.expand_as(x),
    "expand with -1 and a new axis of 1 (a view)": lambda L, x: x.expand(1, -1, 3)[0],
    "a row of an expand (a view)": lambda L, x: x[1:].expand(4, 3)[2],
    "an element of an expand (a view)": lambda L, x: x[:, 2:].expand(2, 5)[1, 3],
    "contiguous of a transpose (a copy)": lambda L, x: x.T.contiguous(),
    "contiguous of an expand (a copy)": lambda L, x: x[:1].expand(2, 3).contiguous(),
    "repeat of an expand (a copy)": lambda L, x: x[:1].expand(2, 3).repeat(2, 1),
}


@pytest.mark.parametrize("name", NEW_OR_VIEW)
def test_a_result_shares_the_inputs_numbers_exactly_where_torchs_does(name):
    changed = []
    for L in (torch, glassgrad):
        x = L.arange(6, dtype=L.float32).reshape(2, 3)
        with L.no_grad():
            y = NEW_OR_VIEW[name](L, x)
            y.view(-1)[0] = 99.0
        changed.append(np.flatnonzero(x.numpy() == 99.0).tolist())
    assert changed[1] == changed[0]


@pytest.mark.parametrize("length", [1, 2, 5])
def test_makemores_blank_shift_leaves_the_context_alone(length):
    """makemore's MLP: roll the context right and put the blank token first, `block_size` times."""
    results = []
    for L in (torch, glassgrad):
        context = idx = L.tensor(np.random.default_rng(length).integers(0, 27, (3, length)))
        shifted = []
        for _ in range(4):
            idx = L.roll(idx, 1, 1)
            idx[:, 0] = 27
            shifted.append(idx.numpy().copy())
        results.append((context.numpy(), shifted))
    np.testing.assert_array_equal(results[1][0], results[0][0])
    for ours, theirs in zip(results[1][1], results[0][1]):
        np.testing.assert_array_equal(ours, theirs)


RETAINED = [lambda L, x: (x.exp() * x).sum(), lambda L, x: (x @ x.T).tanh().mean(),
            lambda L, x: L.nn.functional.cross_entropy(x, L.tensor([0, 3, 1])), lambda L, x: (x.softmax(1) ** 2).sum()]


@pytest.mark.parametrize("f", range(len(RETAINED)))
@pytest.mark.parametrize("passes", [2, 3])
def test_backward_with_retain_graph_accumulates_as_torchs(f, passes):
    grads = []
    for L in (torch, glassgrad):
        x = L.tensor(np.random.default_rng(f).standard_normal((3, 4)), requires_grad=True)
        y = RETAINED[f](L, x)
        for k in range(passes - 1):
            y.backward(retain_graph=True) if k % 2 == 0 else y.backward(None, True)  # keyword and torch's position
        y.backward()
        (again,) = (torch.autograd.grad if L is torch else glassgrad.grad)(RETAINED[f](L, x), [x], retain_graph=True)
        grads.append((x.grad.numpy(), again.numpy()))
    for ours, theirs in zip(grads[1], grads[0]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("shape", [(3,), (2, 4)])
def test_pinned_memory_is_refused_as_torchs_without_a_gpu(shape):
    """nanoGPT's get_batch pins its batches only on CUDA; asked on the CPU, both libraries refuse."""
    for L in (torch, glassgrad):
        x = L.zeros(*shape)
        assert x.is_pinned() is False
        with pytest.raises(RuntimeError):
            x.pin_memory()


@pytest.mark.parametrize("shape, new_shape", [((2, 3), (2, 3)), ((2, 3), (4,)), ((5,), (2, 2, 2))])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_assigning_a_parameters_data_takes_the_tensors_numbers_as_torch(shape, new_shape, dtype):
    results = []
    for L in (torch, glassgrad):
        p = L.nn.Parameter(L.zeros(*shape))
        source = L.tensor(np.random.default_rng(len(new_shape)).standard_normal(new_shape), dtype=getattr(L, dtype))
        p.data = source
        with L.no_grad():
            source[(0,) * len(new_shape)] = 7.0  # shared: p sees it, as in torch
        (p.tanh() * 3).sum().backward()
        results.append((p.detach().numpy().copy(), p.grad.numpy(), str(p.dtype).split(".")[1], p.requires_grad))
    np.testing.assert_array_equal(results[1][0], results[0][0])
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-5 if dtype == "float32" else 1e-12,
                               atol=1e-15)
    assert results[1][2:] == results[0][2:]


@pytest.mark.parametrize("value", [3, [1.0], None, 2.5])
def test_assigning_a_parameters_data_refuses_what_is_no_tensor_as_torch(value):
    for L in (torch, glassgrad):
        p = L.nn.Parameter(L.zeros(2))
        with pytest.raises(TypeError, match=f"a Tensor|tensor, but got {type(value).__name__}") as info:
            p.data = value
    assert type(value).__name__ in str(info.value)
