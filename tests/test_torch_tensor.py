"""The Tensor's PyTorch surface against torch (float64): dtypes, shapes, reductions with dim=/keepdim=,
comparisons, in-place operations with PyTorch's rules and the version check, and the errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from oracle import check, lib

import glassgrad as gg

X = np.random.default_rng(0).normal(size=(3, 4, 5))


def both(f, x=X, grad=True):
    """f(t, library) on a glassgrad and a torch leaf holding x: the results and the gradients agree."""
    check(lambda t: f(t, lib(t)), x, grad=grad)


@pytest.mark.parametrize(
    "f",
    [
        lambda t, m: t.view(3, -1),
        lambda t, m: t.view(-1, 20).squeeze(),
        lambda t, m: t[:, :1].squeeze(1),
        lambda t, m: t.unsqueeze(1),
        lambda t, m: t.unsqueeze(-1),
        lambda t, m: t.flatten(),
        lambda t, m: t.flatten(1),
        lambda t, m: t.permute(2, 0, 1),
        lambda t, m: t.transpose(0, 2),
        lambda t, m: t.transpose(-1, 1),
        lambda t, m: t.sum(1, keepdim=True),
        lambda t, m: t.sum((0, 2)),
        lambda t, m: t.mean(dim=-1),
        lambda t, m: t.var(0, keepdim=True),
        lambda t, m: t.var((0, 1), keepdim=True),
        lambda t, m: t.std(),
        lambda t, m: t.std(1, unbiased=False),
        lambda t, m: t.var(2, correction=0),
        lambda t, m: t.max(1).values,
        lambda t, m: t.max(1, keepdim=True).values,
        lambda t, m: t.min(2).values,
        lambda t, m: t.max(1).indices,
        lambda t, m: t.argmax(2),
        lambda t, m: t.argmin(),
        lambda t, m: t.topk(2, dim=1).values,
        lambda t, m: t.topk(3, largest=False).indices,
        lambda t, m: m.cat([t, t * 2], 1),
        lambda t, m: m.stack([t, t.exp()], -1),
        lambda t, m: m.where(t > 0, t, t**2),
        lambda t, m: m.maximum(t, t.flip(0) if m is torch else t[::-1]),
        lambda t, m: m.clamp(t, -0.5, 0.5),
        lambda t, m: t.clamp(min=0.1),
        lambda t, m: m.abs(t),
        lambda t, m: m.sqrt(t.abs() + 1),
        lambda t, m: m.sin(t) + m.cos(t),
        lambda t, m: m.log10(t.abs() + 1),
        lambda t, m: t.clone() * 3,
        lambda t, m: (t > 0).double() * t,
        lambda t, m: t == t.max(2, keepdim=True).values,
        lambda t, m: t.long(),
    ],
)
def test_operations_match_torch(f):
    both(f)


@pytest.mark.parametrize("shape", [(), (4,), (3, 4), (1, 5)])
@pytest.mark.parametrize("name", ["t", "ravel"])
def test_t_and_ravel_as_torch(name, shape):
    check(lambda t: getattr(t, name)() * 2, np.asarray(np.random.default_rng(1).normal(size=shape)))


def test_t_refuses_more_than_two_dimensions_as_torch():
    for m in (torch, gg):
        with pytest.raises(RuntimeError, match="t\\(\\) expects a tensor with <= 2 dimensions, but self is 3D"):
            m.ones(2, 3, 4).t()


def test_int_and_bool_tensors():
    N = gg.zeros((3, 3), dtype=gg.int64)
    for i, j in [(0, 1), (0, 1), (2, 0)]:
        N[i, j] += 1
    assert N.dtype == gg.int64 and N.tolist() == [[0, 2, 0], [0, 0, 0], [1, 0, 0]]
    P = (N + 1).double()
    P /= P.sum(1, keepdim=True)
    np.testing.assert_allclose(P.sum(1).data, 1.0)
    assert (N * 0.5).dtype == gg.float32 and (N / 2).dtype == gg.float32 and (N > 0).dtype == gg.bool
    assert N[0, 1].item() == 2 and isinstance(N[0, 1].item(), int)
    assert int(N[0, 1]) == 2 and float(P[0, 0]) == P.data[0, 0] and bool(N[2, 0])
    assert f"{P[0, 1]:.3f}" == f"{P.data[0, 1]:.3f}"
    assert "%.2f" % P[1, 1] == f"{P.data[1, 1]:.2f}"  # noqa: UP031 (% formatting is what is tested)
    assert ["a", "b", "c"][N[0, 1]] == "c"  # an integer tensor is an index
    assert N.numel() == N.nelement() == 9 and N.size() == (3, 3) and N.size(1) == 3 and N.dim() == 2
    with pytest.raises(RuntimeError, match="can't be cast to the tensor's dtype glassgrad.int64"):
        N += 0.5


def test_comparisons_are_elementwise_and_nodes_stay_hashable():
    a = gg.tensor([1.0, 2.0, 3.0])
    assert (a == np.array([1.0, 0.0, 3.0])).tolist() == [True, False, True]
    assert (a != 2).tolist() == [True, False, True] and (a >= 2).all().item() is False
    assert gg.equal(a, gg.tensor([1.0, 2.0, 3.0])) and gg.allclose(a, a + 1e-12)
    assert len({a, a, gg.tensor([1.0, 2.0, 3.0])}) == 2


def test_in_place_updates_follow_pytorchs_rules():
    w = gg.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    with pytest.raises(RuntimeError, match=r"-=: a leaf tensor that requires grad cannot be changed in place.*no_grad"):
        w -= 0.1 * w.grad
    with gg.no_grad():
        w -= 0.1 * w.grad  # the loop `for p in params: p -= lr * p.grad` changes the parameter
    np.testing.assert_allclose(w.data, [0.8, 1.6])
    with gg.no_grad():
        w.zero_()
        w.fill_(3.0)
        w.clamp_(max=2.5)
    np.testing.assert_allclose(w.data, [2.5, 2.5])


def test_recorded_in_place_changes_give_torchs_gradients():
    def f(x, m):
        y = x * 2
        y += x**2  # recorded: y's history is kept
        y[0] = y[1] * 3
        z = m.zeros(3)
        z[1:] += y[1:] * y[:2]
        return z * y

    both(f, np.array([0.5, -1.0, 2.0]))


def test_a_tensor_changed_after_use_refuses_to_backpropagate():
    a = gg.tensor([1.0, 2.0], requires_grad=True)
    b = a * 1
    c = b * b  # its derivative needs b
    b += 1
    with pytest.raises(
        RuntimeError, match=r"the derivative of '\*' needs was changed by an in-place operation \('\+='\)"
    ):
        c.sum().backward()
    d = a.tanh()  # its derivative needs its own result
    with gg.no_grad():
        d *= 2
    with pytest.raises(RuntimeError, match=r"derivative of 'tanh' needs was changed .*\('\*='\)"):
        d.sum().backward()


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: gg.zeros(2, 3) + gg.zeros(4), ValueError, r"\+: shapes \(2, 3\) and \(4,\) do not match"),
        (lambda: gg.zeros(27, 10)[30], IndexError, r"index 30 is out of bounds for axis 0 with size 27"),
        (lambda: gg.zeros(2, 3).view(4, 2), ValueError, r"cannot reshape a tensor of shape \(2, 3\) into \(4, 2\)"),
        (lambda: gg.zeros(2, 3).sum(dim=2), IndexError, r"axis 2 is out of range for a tensor with 2 dimensions"),
        (lambda: gg.zeros(2)[gg.tensor([0.5])], IndexError, "must be integer or boolean, got float32"),
        (lambda: gg.cat([gg.zeros(2, 3), gg.zeros(3, 2)]), ValueError, r"shapes \(2, 3\), \(3, 2\) must agree"),
        (lambda: gg.tensor([1, 2]).requires_grad_(), RuntimeError, "only floating tensors can require gradients"),
        (lambda: gg.zeros(3).__setitem__(slice(0, 2), gg.zeros(3)), ValueError, r"a value of shape \(3,\)"),
    ],
)
def test_bad_input_gets_a_clear_error(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_unbind_softmax_dim_is_leaf_and_grad_fn_as_torch():
    x = np.random.default_rng(3).normal(size=(4, 3, 2))
    g, t = gg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (gg.cat(gg.unbind(g, 1), 1).softmax(dim=1) * gg.tensor(x.reshape(4, 6))).sum().backward()
    (torch.cat(torch.unbind(t, 1), 1).softmax(dim=1) * torch.tensor(x.reshape(4, 6))).sum().backward()
    np.testing.assert_allclose(np.asarray(g.grad), t.grad.numpy(), rtol=1e-12)
    assert [s.shape for s in g.unbind(2)] == [tuple(s.shape) for s in t.unbind(2)]
    assert g.is_leaf and not (g * 2).is_leaf and (g * 2).grad_fn == "*" and g.grad_fn is None


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.tensor([1, 2]).add(lib.tensor([3, 4]), alpha=3),
        lambda lib: lib.tensor([1, 2]).sub(lib.tensor([3, 4]), alpha=-2),
        lambda lib: lib.tensor([1, 2]).sub(1.5, alpha=2),  # an integer tensor and a float: the default dtype
        lambda lib: lib.add(3, lib.tensor([1.0, 2.0]), alpha=2),
        lambda lib: lib.tensor([1.0, 2.0], dtype=lib.float64).add(lib.tensor([1, 1]), alpha=0.25),
        lambda lib: lib.tensor([True, False]).add(lib.tensor([True, True]), alpha=False),
        lambda lib: lib.tensor([True, False]).add(lib.tensor([False, True]), alpha=True),
        lambda lib: lib.tensor([1.0, 2.0]).add(lib.tensor([1.0, 1.0]), alpha=1),
        lambda lib: lib.tensor([5, 6]).add_(lib.tensor([1, 2]), alpha=4),
    ],
)
def test_alpha_of_add_and_sub_gives_pytorchs_values_and_dtypes(call):
    ours, theirs = call(gg), call(torch)
    assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
    assert ours.tolist() == theirs.tolist()


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda lib: lib.tensor([1, 2]).add(lib.tensor([1, 2]), alpha=0.5), RuntimeError, "must not be a floating"),
        (lambda lib: lib.ones(2).add(lib.ones(2), alpha=True), RuntimeError, "Boolean alpha only supported"),
        (lambda lib: lib.ones(2).add(lib.ones(2), alpha="x"), TypeError, "alpha' must be"),
        (lambda lib: lib.ones(2).sub(lib.ones(2), alpha=None), TypeError, "alpha' must be"),
    ],
)
def test_a_bad_alpha_is_refused_as_pytorch_refuses_it(call, error, message):
    for library in (gg, torch):
        with pytest.raises(error, match=message):
            call(library)


def test_alpha_makes_one_node_of_pytorchs_name_with_both_gradients():
    a = gg.tensor([1.0, 2.0], requires_grad=True)
    b = gg.tensor([3.0, 5.0], requires_grad=True)
    out = a.sub(b, alpha=0.5)
    assert repr(out).endswith("grad_fn=<SubBackward0>)") and out._a is a and out._b is b
    out.sum().backward()
    assert a.grad.tolist() == [1.0, 1.0] and b.grad.tolist() == [-0.5, -0.5]
