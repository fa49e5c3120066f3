"""`expand` / `expand_as` against torch (float64): a view sharing its input's numbers, whose in-place
changes torch refuses where several elements are one number (and allows where each is its own: a row
of an expand, `fill_` with a number outside autograd), with torch's values and gradients."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import glassgrad

# (input shape, expand's sizes)
EXPANDS = [((3,), (2, 3)), ((1, 3), (4, 3)), ((2, 1), (2, 5)), ((2, 1), (-1, 3)), ((), (4,)), ((), (2, 3)),
           ((1,), (3,)), ((2, 3), (2, 3)), ((2, 3), (1, 2, 3)), ((3, 1, 2), (3, 4, 2)), ((1, 1), (2, -1, 3)),
           ((2, 3), (-1, -1)), ((0,), (2, 0))]
REFUSED = "more than one element of the written-to tensor refers to a single memory location"


def numbers(shape, seed=0):
    return np.random.default_rng(seed).uniform(0.5, 2.0, shape)


@pytest.mark.parametrize("shape, sizes", EXPANDS)
def test_expand_is_a_view_with_torchs_values_and_gradients(shape, sizes):
    results = []
    for L in (torch, glassgrad):
        x = L.tensor(numbers(shape), requires_grad=True)
        e = x.expand(*sizes)
        w = L.tensor(numbers(tuple(e.shape), 1))
        (first,) = (torch.autograd.grad if L is torch else glassgrad.grad)((e * e * w).sum(), [x], create_graph=True)
        (first * first).sum().backward()  # the second derivative through expand's gradient (a sum)
        base = L.tensor(numbers(shape, 2))
        seen = base.expand(*sizes)
        with L.no_grad():
            base.mul_(3.0)  # the expand sees its input's change
        same_as = base.expand_as(L.zeros(*seen.shape))
        results.append((tuple(e.shape), e.detach().numpy().copy(), first.detach().numpy(), x.grad.numpy(),
                        seen.numpy().copy(), same_as.numpy().copy()))
    assert results[1][0] == results[0][0]
    for ours, theirs in zip(results[1][1:], results[0][1:]):
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=0)


# Changes of an expand `e` of a (3,) base: f(library, e, operand) with operand a (3,) tensor
CHANGES = {
    "add_ a tensor": lambda L, e, w: e.add_(w), "mul_ a number": lambda L, e, w: e.mul_(2.0),
    "sub_": lambda L, e, w: e.sub_(w), "div_": lambda L, e, w: e.div_(3.0), "+=": lambda L, e, w: e.__iadd__(w),
    "*=": lambda L, e, w: e.__imul__(w), "copy_": lambda L, e, w: e.copy_(w.expand_as(e)),
    "clamp_": lambda L, e, w: e.clamp_(0.0, 1.0), "normal_": lambda L, e, w: e.normal_(),
    "uniform_": lambda L, e, w: e.uniform_(), "fill_ a number": lambda L, e, w: e.fill_(1.5),
    "fill_ a 0-d tensor": lambda L, e, w: e.fill_(w[0]), "zero_": lambda L, e, w: e.zero_(),
    "setitem a row, a number": lambda L, e, w: e.__setitem__(0, 4.0),
    "setitem a row, a tensor": lambda L, e, w: e.__setitem__(1, w),
    "setitem an element": lambda L, e, w: e.__setitem__((1, 2), w[1]),
    "setitem a column": lambda L, e, w: e.__setitem__((slice(None), 0), 4.0),
    "setitem everything": lambda L, e, w: e.__setitem__(Ellipsis, 4.0),
    "setitem rows 1:": lambda L, e, w: e.__setitem__(slice(1, None), w),
    "add_ into a row": lambda L, e, w: e[1].add_(w), "mul_ into an element": lambda L, e, w: e[0, 1].mul_(w[2]),
    "add_ into a column": lambda L, e, w: e[:, 2].add_(1.0),
    "+= into a transposed row": lambda L, e, w: e.T[1].add_(w[0]),
    "fill_ a row": lambda L, e, w: e[1].fill_(2.5),
}
MODES = ["no_grad", "grad, a constant base", "grad, a base that requires grad", "grad, the operand requires grad"]


def change(L, name, mode):
    """Expand a base to (2, 3), change it: ('refused', message) or ('ok', base, expand, gradients)."""
    x = L.tensor(numbers((3,)), requires_grad=True)
    w = L.tensor(numbers((3,), 3), requires_grad=mode.endswith("operand requires grad"))
    base = x * 1.0 if mode.endswith("base that requires grad") else L.tensor(numbers((3,), 4))
    e = base.expand(2, 3)
    try:
        with L.no_grad() if mode == "no_grad" else L.enable_grad():
            CHANGES[name](L, e, w)
    except RuntimeError as error:
        return "refused", str(error)
    grads = []
    if base.requires_grad or e.requires_grad:
        try:
            (base * L.tensor([1.0, 10.0, 100.0], dtype=L.float64)).sum().backward()
        except RuntimeError as error:
            return "refused by the backward pass", str(error)
        grads = [t.grad.numpy() if t.grad is not None else None for t in (x, w)]
    return "ok", base.detach().numpy(), e.detach().numpy(), grads


@pytest.mark.parametrize("name", CHANGES)
@pytest.mark.parametrize("mode", MODES)
def test_changing_an_expand_in_place_as_torch(name, mode):
    theirs, ours = (change(L, name, mode) for L in (torch, glassgrad))
    if theirs[0] == "refused by the backward pass":  # torch's fill_ of a view in autograd: glassgrad refuses at once
        assert ours[0] == "refused" and REFUSED in theirs[1], (ours, theirs)
    else:
        assert ours[0] == theirs[0], f"torch: {theirs}, glassgrad: {ours}"
    if ours[0] == "refused":
        assert (REFUSED in ours[1]) == (REFUSED in theirs[1]), (ours[1], theirs[1])
        return
    if name in ("normal_", "uniform_"):
        return  # (drawn numbers)
    for a, b in zip(ours[1:3], theirs[1:3]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=0)
    assert len(ours[3]) == len(theirs[3])
    for a, b in zip(ours[3], theirs[3]):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=0)


def test_the_cases_cover_both_outcomes():
    outcomes = {change(glassgrad, name, mode)[0] for name in CHANGES for mode in MODES}
    assert outcomes == {"ok", "refused"}


@pytest.mark.parametrize("how", ["masked_fill_", "a mask", "a list of rows"])
def test_writing_by_a_mask_or_an_index_into_an_expand_is_refused_where_torch_deprecates_it(how):
    def write(L):
        e = L.tensor(numbers((3,))).expand(2, 3)
        mask = L.tensor([[True, False, True], [False, False, True]])
        if how == "masked_fill_":
            e.masked_fill_(mask, 0.0)
        elif how == "a mask":
            e[mask] = 0.0
        else:
            e[[0]] = 0.0

    with pytest.warns(UserWarning, match="on expanded tensors is deprecated"):
        write(torch)
    with pytest.raises(RuntimeError, match=REFUSED):
        write(glassgrad)


@pytest.mark.parametrize("write", ["fill_", "a row", "add_"])
def test_the_data_of_an_expand_shares_its_bases_numbers_as_torch(write):
    results = []
    for L in (torch, glassgrad):
        base = L.tensor(numbers((3,)))
        e = base.expand(2, 3)
        try:
            if write == "fill_":
                e.data.fill_(2.0)
            elif write == "a row":
                e.data[1] = L.tensor([7.0, 8.0, 9.0], dtype=L.float64)
            else:
                e.data.add_(1.0)
            results.append((base.numpy().copy(), e.numpy().copy()))
        except RuntimeError as error:
            results.append(REFUSED in str(error))
    if isinstance(results[0], bool):
        assert results == [True, True]
        return
    for a, b in zip(results[1], results[0]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("make", [lambda x: x.T, lambda x: x[:, 1:], lambda x: x[:1].expand(3, 3), lambda x: x,
                                  lambda x: x[None], lambda x: x[1], lambda x: x.expand(1, 3, 3)])
def test_contiguous_copies_what_is_not_in_order_as_torch(make):
    results = []
    for L in (torch, glassgrad):
        x = L.tensor(numbers((3, 3)))
        t = make(x)
        c = t.contiguous()
        with L.no_grad():
            c.add_(1.0)  # a copy's change leaves x alone; the tensor itself's does not
        results.append((c is t, x.numpy().copy()))
    assert results[1][0] == results[0][0]
    np.testing.assert_array_equal(results[1][1], results[0][1])


def test_an_expands_gradient_is_unchanged_by_changes_of_its_base_elsewhere():
    """An expand used, then a row of another view of its base changed: torch refuses the backward pass
    only where a derivative reads the changed numbers; expand's (a sum) reads none."""
    grads = []
    for L in (torch, glassgrad):
        x = L.tensor(numbers((3,)), requires_grad=True)
        y = x * 2.0
        e = y.expand(4, 3)
        out = (e * L.tensor(numbers((4, 3), 5))).sum()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y[0] = 5.0
        out.backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-12)
