"""`.data` as PyTorch's: a Tensor with no history that shares the numbers, whose changes are not
recorded. Each case is run in both libraries from the same numbers and compared: what `.data` gives,
what a change through it does to the tensor, and the gradient of a graph built before the change.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import glassgrad

# f(library, d) with d = x.data for a float64 x of shape (3, 4): a reading (a number or tensor to compare) or a change
THROUGH_DATA = {
    "std (n - 1, as the lecture's ratio divides)": lambda L, d: d.std(),
    "var": lambda L, d: d.var(),
    "std of a dim": lambda L, d: d.std(0),
    "log10 of a ratio": lambda L, d: ((0.1 * d).std() / d.std()).log10(),
    "mean, keepdim": lambda L, d: d.mean(1, keepdim=True),
    "zero_": lambda L, d: d.zero_(),
    "fill_": lambda L, d: d.fill_(2.5),
    "mul_": lambda L, d: d.mul_(3.0),
    "add_": lambda L, d: d.add_(L.ones(3, 4, dtype=L.float64)),
    "copy_": lambda L, d: d.copy_(L.arange(12.0, dtype=L.float64).reshape(3, 4)),
    "clamp_": lambda L, d: d.clamp_(-0.5, 0.5),
    "-= (an optimizer's step)": lambda L, d: d.__isub__(0.1 * d),
    "write a row": lambda L, d: d.__setitem__(1, 7.0),
    "write a column of a view": lambda L, d: d.T[2].fill_(-1.0),
    "normal_ from a generator": lambda L, d: d.normal_(0.0, 2.0, generator=L.Generator().manual_seed(3)),
    "uniform_ from a generator": lambda L, d: d.uniform_(-1.0, 1.0, generator=L.Generator().manual_seed(4)),
}


def _numbers(x):
    return x.detach().numpy() if isinstance(x, torch.Tensor) else np.asarray(x.detach() if hasattr(x, "detach") else x)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("name", THROUGH_DATA)
def test_a_change_through_data_is_torchs_and_unrecorded(name, seed):
    start = np.random.default_rng(seed).normal(size=(3, 4))
    seen = []
    for L in (torch, glassgrad):
        x = L.tensor(start, requires_grad=True)
        y = (x * L.tensor(start)).sum()  # its derivative reads only the constant: a change of x is harmless
        d = x.data
        facts = (d.requires_grad, d.grad_fn is None, d.is_leaf, d.dtype == L.float64, tuple(d.shape))
        got = THROUGH_DATA[name](L, d)
        y.backward()  # torch counts no change made through .data: no refusal
        seen.append((facts, _numbers(got) if got is not None else None, _numbers(x), _numbers(x.grad), x.requires_grad))
    (t_facts, t_got, t_x, t_grad, t_rg), (g_facts, g_got, g_x, g_grad, g_rg) = seen
    assert g_facts == t_facts == (False, True, True, True, (3, 4))
    if t_got is None:  # a write (setitem)
        assert g_got is None
    else:
        np.testing.assert_allclose(g_got, t_got, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(g_x, t_x, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(g_grad, t_grad)
    assert g_rg == t_rg is True


@pytest.mark.parametrize("shape", [(), (2,), (2, 3)])
def test_a_results_data_is_its_own_numbers(shape):
    """A 0-d result (a loss) and an intermediate gradient the backward pass shared between nodes: a
    change through `.data` is still a change of that tensor, as in torch."""
    seen = []
    for L in (torch, glassgrad):
        x = L.ones(shape, dtype=L.float64, requires_grad=True)
        h = x * 2
        if L is torch:
            h.retain_grad()
        (h + h).sum().backward()
        loss = (x * 3).sum()
        loss.data.mul_(2)
        h.grad.data.add_(1.0)
        seen.append((loss.item(), _numbers(h.grad), _numbers(x.grad)))
    assert seen[0][0] == seen[1][0]
    np.testing.assert_array_equal(seen[1][1], seen[0][1])
    np.testing.assert_array_equal(seen[1][2], seen[0][2])


@pytest.mark.parametrize("requires_grad", [False, True])
@pytest.mark.parametrize("new", [((5,), "float64"), ((2, 2), "float32"), ((3,), "int64")])
def test_assigning_data_takes_the_tensors_numbers_as_torch(requires_grad, new):
    shape, dtype = new
    outcomes = []
    for L in (torch, glassgrad):
        t = L.zeros(3, requires_grad=requires_grad)
        other = L.arange(int(np.prod(shape))).reshape(shape).to(getattr(L, dtype))
        try:
            t.data = other
        except RuntimeError:
            outcomes.append("refused")
            continue
        other.add_(1)  # shared, not copied
        outcomes.append((tuple(t.shape), str(t.dtype).split(".")[-1], _numbers(t).tolist(), t.requires_grad))
    assert outcomes[1] == outcomes[0]


@pytest.mark.parametrize("value", [np.ones(3), [1.0, 2.0], 2.5, None])
def test_assigning_data_refuses_what_is_no_tensor(value):
    for L in (torch, glassgrad):
        with pytest.raises(TypeError) as info:
            L.zeros(3).data = value
    assert "Tensor.data: expected a Tensor" in str(info.value) and type(value).__name__ in str(info.value)


# f(library, x): a change through x.data after y = g(x) was made, whose derivative reads x
CHANGES = {
    "mul_": lambda L, x: x.data.mul_(2.0),
    "-=": lambda L, x: x.data.__isub__(1.0),
    "a row": lambda L, x: x.data.__setitem__(0, 3.0),
    "a view's fill_": lambda L, x: x.data[1:].fill_(-2.0),
    "a transposed view's zero_": lambda L, x: x.data.T[0].zero_(),
}


@pytest.mark.parametrize("name", CHANGES)
@pytest.mark.parametrize("use", ["x * x", "x.exp()", "x.tanh()"])
def test_a_change_through_data_is_not_refused_by_the_backward_pass(name, use):
    """torch does not count a change through `.data`: the backward pass computes with the new numbers."""
    grads = []
    for L in (torch, glassgrad):
        x = L.tensor(np.linspace(-1.0, 1.0, 6).reshape(2, 3), requires_grad=True)
        y = eval(use, {"x": x}).sum()  # noqa: S307 (a fixed table of expressions)
        CHANGES[name](L, x)
        y.backward()
        grads.append(_numbers(x.grad))
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-12, atol=1e-15)
