"""`.grad` as a Tensor with PyTorch's numbers, numpy arrays meeting Tensors (`p.data += -lr * p.grad`),
and the in-place check deciding as PyTorch does, all against torch (float64)."""

from __future__ import annotations

import operator

import numpy as np
import pytest
import torch

import glassgrad as gg
from glassgrad._tensor.tensor import Tensor

pytestmark = pytest.mark.usefixtures("torch_float64")  # PyTorch float64 (the examples loaded here set it too)

RNG = np.random.default_rng(0)
X = RNG.normal(size=(4, 5))
W = RNG.normal(size=(5, 3))


def both_grads():
    """The gradient of a small net's loss in both libraries, from the same numbers."""
    out = []
    for m in (gg, torch):
        w = m.tensor(W, requires_grad=True)
        h = (m.tensor(X) @ w).tanh()
        h.retain_grad()
        (h * h).sum().backward()
        out.append((w, h))
    return out


@pytest.mark.parametrize(
    "statistic",
    [
        lambda g: g.std(),
        lambda g: g.var(),
        lambda g: g.std(0),
        lambda g: g.mean(),
        lambda g: g.abs().max(),
        lambda g: g.abs().log10(),
        lambda g: (0.1 * g).std() / g.std(),
        lambda g: g.sum(1, keepdim=True),
    ],
)
def test_grad_statistics_are_torchs(statistic):
    (w, h), (tw, th) = both_grads()
    for ours, theirs in ((w, tw), (h, th)):
        assert isinstance(ours.grad, Tensor) and not ours.grad.requires_grad
        np.testing.assert_allclose(statistic(ours.grad).data, statistic(theirs.grad).numpy(), rtol=1e-12)
    assert isinstance(w.grad.std().item(), float) and w.grad.std().item() != np.asarray(w.grad).std()


def test_lecture_4_comparisons_read_grad_as_a_tensor():
    (w, _), (tw, _) = both_grads()
    dt, tdt = gg.tensor(np.array(w.grad.data)), tw.grad.clone()
    for m, d, t in ((gg, dt, w), (torch, tdt, tw)):
        exact = (d == t.grad).all().item()
        assert exact is True and m.all(d == t.grad).item() is True
        assert m.allclose(d, t.grad) is True
        assert (d - t.grad).abs().max().item() == 0.0
    off = dt + 1e-12
    assert (off == w.grad).all().item() is False and gg.allclose(off, w.grad)
    assert 0 < (off - w.grad).abs().max().item() < 1e-11


def test_the_backprop_lectures_cmp_on_glassgrad(capsys):
    from test_makemore import pair

    ours, theirs = pair("backprop")
    (X_, Y_), _, _ = ours.datasets()
    params = ours.init_params(gg.Generator().manual_seed(6))
    ix = gg.tensor(np.random.default_rng(0).integers(0, X_.shape[0], 32))
    loss, steps, _ = ours.autograd_gradients(params, X_[ix], Y_[ix])
    tensors = {**steps, **dict(zip(ours.NAMES, params))}
    manual = ours.manual_backward(params, X_[ix], Y_[ix], steps)
    for name, dt in manual.items():
        exact, approximate, maxdiff = ours.cmp(name, dt, tensors[name])
        assert type(exact) is bool and approximate is True and maxdiff < 1e-15
    assert "exact: True  | approximate: True" in capsys.readouterr().out


def test_p_data_update_is_torchs_exactly():
    rng = np.random.default_rng(3)
    p0, c, lr = rng.normal(size=(3, 4)), rng.normal(size=(3, 4)), 0.1
    ps = []
    for m in (gg, torch):
        p = m.tensor(p0, requires_grad=True)
        data = p.detach().numpy()
        for _ in range(3):
            p.grad = None
            (p * m.tensor(c)).sum().backward()  # grad c exactly, in both
            p.data += -lr * p.grad
        ps.append(p)
        if m is gg:
            assert p.numpy() is data  # changed in place, through a Tensor sharing p's numbers
    np.testing.assert_array_equal(ps[0].data, ps[1].detach().numpy())


def test_gradients_accumulate_exactly_as_torchs():
    grads, alone = [], []
    for m in (gg, torch):
        x = m.tensor(X, requires_grad=True)
        y = x.exp()
        y.retain_grad()
        for k in range(3):
            loss = (y * (k + 0.1)).sum()
            if m is gg:
                alone.append(gg.grad(loss, x)[0].data)
            loss.backward(retain_graph=True) if m is torch else loss.backward()
        grads.append((x.grad, y.grad))
    (gx, gy), (tx, ty) = grads
    assert isinstance(gx, Tensor) and isinstance(gy, Tensor)
    np.testing.assert_array_equal(gy.data, ty.numpy())
    np.testing.assert_array_equal(gx.data, alone[0] + alone[1] + alone[2])  # added up as arrays, in order
    np.testing.assert_allclose(gx.data, tx.numpy(), rtol=1e-15)


def test_create_graph_grads_stay_graph_tensors():
    x = gg.tensor([0.5, -1.0], requires_grad=True)
    (x**3).sum().backward(create_graph=True)
    assert x.grad.requires_grad and x.grad._rule is not None
    (gx,) = gg.grad(x.grad.sum(), x)
    np.testing.assert_allclose(gx.data, 6 * x.data)


def test_glassgrad_grad_gives_tensors_for_tensors_and_floats_for_values():
    x, tx = gg.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    a, b = gg.grad((x * x).sum(), [x, gg.tensor(1.0, requires_grad=True)])
    (ta,) = torch.autograd.grad((tx * tx).sum(), [tx])
    assert isinstance(a, Tensor) and not a.requires_grad and isinstance(b, Tensor)
    np.testing.assert_array_equal(a.data, ta.numpy())
    assert b.item() == 0.0
    v = gg.Value(3.0)
    (dv,) = gg.grad(v * v, [v])
    assert type(dv) is float and dv == 6.0


def test_shared_gradient_arrays_cannot_be_changed_through_another_grad():
    a = gg.tensor([1.0, 2.0], requires_grad=True)
    s = a + 0.0
    t = s.reshape(2)
    t.sum().backward()
    t.grad += 1.0  # an intermediate's gradient shares its array: the change takes a new one
    s.grad.zero_()
    np.testing.assert_array_equal(a.grad.data, [1.0, 1.0])
    np.testing.assert_array_equal(t.grad.data, [2.0, 2.0])


OPERATORS = [operator.add, operator.sub, operator.mul, operator.truediv, operator.pow, operator.eq, operator.ne,
             operator.lt, operator.le, operator.gt, operator.ge]  # fmt: skip


@pytest.mark.parametrize("f", OPERATORS, ids=lambda f: f.__name__)
def test_an_ndarray_on_the_left_gives_torchs_tensor(f):
    left = np.array([0.5, 2.0, 1.5])
    x = gg.tensor([1.5, 2.0, 0.5], dtype=gg.float64, requires_grad=True)  # float64 on both sides, as the oracle
    tx = torch.tensor([1.5, 2.0, 0.5], dtype=torch.float64, requires_grad=True)
    out, tout = f(left, x), f(torch.tensor(left), tx)
    assert isinstance(out, Tensor)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-15)
    if out.dtype.kind == "f":
        assert out.requires_grad
        out.sum().backward(), tout.sum().backward()
        np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-15)


def test_matmul_and_numpy_numbers_on_the_left_give_tensors():
    x = gg.tensor(W, requires_grad=True)
    out = X @ x
    assert isinstance(out, Tensor) and out.requires_grad and out._op == "@"
    np.testing.assert_allclose(out.data, X @ W)
    for number in (np.float64(2.0), np.float32(2.0), np.int64(2)):
        assert isinstance(number * x, Tensor) and isinstance(number - x, Tensor)
    assert isinstance(-W + x, Tensor) and isinstance(np.exp(x), Tensor) and np.exp(x).requires_grad


@pytest.mark.parametrize("f", [operator.iadd, operator.isub, operator.imul, operator.itruediv])
def test_an_ndarray_changed_in_place_by_a_tensor_stays_the_array(f):
    a = np.array([1.0, 2.0, 4.0])
    same = a
    t = gg.tensor([2.0, 4.0, 8.0], requires_grad=True)
    a = f(a, t)
    assert a is same and type(a) is np.ndarray
    np.testing.assert_array_equal(a, f(np.array([1.0, 2.0, 4.0]), np.array([2.0, 4.0, 8.0])))
    b = np.zeros(3, dtype=np.float32)
    b += t  # into a float32 array, as numpy casts
    assert b.dtype == np.float32 and b.tolist() == [2.0, 4.0, 8.0]
    c = np.zeros(4)
    c[1:] += t
    np.add.at(c, [0, 0], gg.tensor([1.0, 1.0]))
    assert c.tolist() == [2.0, 2.0, 4.0, 8.0]


def test_numpy_functions_without_a_tensor_operation():
    g = gg.tensor([1.5, np.nan])
    assert np.isnan(g).tolist() == [False, True] and isinstance(np.isnan(g), gg.Tensor)  # the registry's isnan
    assert np.floor(g).tolist()[0] == 1.0 and isinstance(np.floor(g), np.ndarray)
    with pytest.raises(TypeError, match="floor .* requires grad would lose its gradient"):
        np.floor(gg.tensor([1.0], requires_grad=True))


# The in-place table: code making `loss` from a leaf x (m is the library), with in-place changes along
# the way. torch refuses some with "one of the variables needed for gradient computation has been
# modified by an inplace operation"; glassgrad must refuse the same, and otherwise give torch's gradient.
INPLACE = {
    "added to after mul by a number": "y = x * 2; y += 1; loss = y.sum()",
    "exp's result changed": "y = x.exp(); y *= 2; loss = y.sum()",
    "b*b with b changed": "b = x * 1; c = b * b; b += 1; loss = c.sum()",
    "consumer of a product by a number, then *=": "y = x * 2; z = y * 3; y *= 5; loss = z.sum()",
    "tanh's result changed under no_grad": "y = x.tanh()\nwith m.no_grad(): y *= 2\nloss = y.sum()",
    "b*b with b changed under no_grad": "b = x * 1; c = b * b\nwith m.no_grad(): b *= 2\nloss = c.sum()",
    "exp of a changed input": "y = x * 1; z = y.exp(); y += 1; loss = z.sum()",
    "log of a changed input": "y = x * 1; z = y.log(); y += 1; loss = z.sum()",
    "tanh of a changed input": "y = x * 1; z = y.tanh(); y += 1; loss = z.sum()",
    "sum of a changed input": "y = x * 1; loss = y.sum(); y *= 2",
    "sigmoid's result changed": "z = (x * 1).sigmoid(); z += 1; loss = z.sum()",
    "relu of a zeroed input": "y = x * 1; z = y.relu(); y.zero_(); loss = z.sum()",
    "mul by a constant that changes": "w = m.ones(3, dtype=m.float64); y = x * w; w += 1; loss = y.sum()",
    "a constant times a changed input": "y = x * 1; z = y * m.ones(3); y += 1; loss = z.sum()",
    "matmul of a changed input": "y = x * 1; z = y @ m.ones((3, 2), dtype=m.float64); y += 1; loss = z.sum()",
    "divided by a number": "y = x * 1; z = y / 2; y += 1; loss = z.sum()",
    "a number divided by it": "y = x * 1; z = m.ones(3) / y; y += 1; loss = z.sum()",
    "squared": "y = x * 1; z = y**2; y += 1; loss = z.sum()",
    "softmax's result changed": "z = x.softmax(0); z *= 2; loss = z.sum()",
    "a slice, then the tensor written": "y = x * 1; z = y[0:2] * 3; y[2] = 0.0; loss = z.sum()",
    "clamp of a changed input": "y = x * 1; z = y.clamp(min=0.6); y -= 1; loss = z.sum()",
    "max of a changed input": "y = x * 1; loss = y.max(); y *= 2",
}


def _run(code, m):
    x = m.tensor([0.5, 1.5, 0.8], dtype=m.float64, requires_grad=True)
    scope = {"m": m, "x": x}
    exec(code, scope)
    try:
        scope["loss"].backward()
    except RuntimeError as error:
        assert "modified by an inplace operation" in str(error)
        return None
    return np.asarray(x.grad.numpy() if m is torch else x.grad.data)


@pytest.mark.parametrize("case", INPLACE)
def test_in_place_changes_refuse_as_torch_does(case):
    ours, theirs = _run(INPLACE[case], gg), _run(INPLACE[case], torch)
    assert (ours is None) == (theirs is None), f"glassgrad {'refuses' if ours is None else 'accepts'}, torch not"
    if theirs is not None:
        np.testing.assert_allclose(ours, theirs, rtol=1e-13)


def test_glassgrad_grad_runs_the_in_place_check():
    x = gg.tensor([0.5, 1.5], requires_grad=True)
    b = x * 1
    c = (b * b).sum()
    b += 1
    with pytest.raises(RuntimeError, match=r"grad: one of the variables needed .* '\*' .*\('\+='\)"):
        gg.grad(c, [x])
    y = x.exp()
    with gg.no_grad():
        y *= 2
    with pytest.raises(RuntimeError, match=r"derivative of 'exp' needs .* \(its result\)"):
        gg.grad(y.sum(), x)


def _changed_through_a_view(lib, rule_reads_it: bool, view) -> bool:
    """Whether `lib` refuses the backward pass after a view of `a` (a result some node used) changed in place."""
    x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64, requires_grad=True)
    a = x * 1
    y = a * a if rule_reads_it else a + a
    v = view(a)
    with lib.no_grad():
        v += 10
    try:
        y.sum().backward()
    except RuntimeError as error:
        assert "modified by an inplace operation" in str(error)
        return True
    np.testing.assert_array_equal(np.asarray(x.grad.detach() if lib is torch else x.grad), [[2.0, 2.0], [2.0, 2.0]])
    return False


@pytest.mark.parametrize("view", [lambda a: a.view(4), lambda a: a[0], lambda a: a.T, lambda a: a.detach()],
                         ids=["view", "row", "transpose", "detach"])
@pytest.mark.parametrize("rule_reads_it", [True, False])
def test_a_change_through_a_view_is_refused_where_torch_refuses_it(view, rule_reads_it):
    refused = _changed_through_a_view(gg, rule_reads_it, view)
    assert refused == _changed_through_a_view(torch, rule_reads_it, view) == rule_reads_it
