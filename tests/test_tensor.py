"""The Tensor engine against PyTorch (CPU, float64): every operation's value and gradient."""

from __future__ import annotations

import gc
import warnings

import numpy as np
import oracle
import pytest
import torch
import torch.nn.functional as F
from oracle import leaves

import glassgrad
from glassgrad._tensor.functional import linear
from glassgrad._tensor.tensor import Tensor
from glassgrad.autograd import detect_anomaly, no_grad
from glassgrad.nn.functional import cross_entropy

TOL = dict(rtol=1e-10, atol=1e-12)


def check(ours_fn, theirs_fn, *arrays, seed=0):
    """Value of f and gradient of sum(f * R) (R random) for every input, glassgrad against torch."""
    return oracle.check(ours_fn, *arrays, theirs=theirs_fn, seed=seed, **TOL)


def rand(*shape, seed=0, low=-2.0, high=2.0):
    return np.random.default_rng(seed).uniform(low, high, size=shape)


BROADCAST_PAIRS = [
    ((3, 4), (3, 4)),
    ((3, 4), (4,)),
    ((4,), (3, 4)),
    ((3, 1), (1, 4)),
    ((2, 3, 4), (3, 1)),
    ((1, 3, 1), (2, 1, 4)),
    ((), (3,)),
    ((2, 3), ()),
]

BINARY = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "**": lambda a, b: a**b,
}


@pytest.mark.parametrize("op", BINARY)
@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=str)
def test_binary_ops_broadcast_in_all_directions(op, shapes):
    a = rand(*shapes[0], seed=1, low=0.5, high=2.0)
    b = rand(*shapes[1], seed=2, low=0.5, high=2.0)
    check(BINARY[op], BINARY[op], a, b)


@pytest.mark.parametrize(
    "f",
    [
        lambda x: 2.5 + x,
        lambda x: x + 2.5,
        lambda x: 3 - x,
        lambda x: x - 3,
        lambda x: 1.5 * x,
        lambda x: x * -2,
        lambda x: 2 / x,
        lambda x: x / 4,
        lambda x: x**3,
        lambda x: x**-1.5,
        lambda x: x**0.5,
        lambda x: 2.0**x,
        lambda x: -x,
    ],
)
def test_numbers_on_either_side(f):
    check(f, f, rand(3, 4, low=0.5, high=2.0))


def test_numpy_arrays_act_as_constants_on_either_side():
    c = rand(4, seed=5)
    check(
        lambda x: c * x + x / (c + 3) - c,
        lambda x: torch.tensor(c) * x + x / torch.tensor(c + 3) - torch.tensor(c),
        rand(3, 4),
    )
    e = rand(3, 1, seed=6)
    check(
        lambda x: (x**e).sum(1) + [1, 2, 3, 4] @ x.T,
        lambda x: (x ** torch.tensor(e)).sum(1) + torch.tensor([1.0, 2, 3, 4], dtype=torch.float64) @ x.T,
        rand(3, 4, low=0.5),
    )
    x = Tensor(rand(2, 4), requires_grad=True)
    assert (np.ones(4) + x).requires_grad and (np.ones(4) + x).shape == (2, 4)


def test_tensor_exponent_zero_base_and_zero_exponent_as_torch():
    a = np.array([0.0, 0.0, 2.0, 3.0])
    b = np.array([2.0, 0.0, 0.0, 1.5])
    check(lambda x, y: x**y, lambda x, y: x**y, a, b)
    check(lambda x: x**0, lambda x: x**0, a)


@pytest.mark.parametrize("name", ["exp", "log", "tanh", "relu", "sigmoid"])
def test_unary(name):
    low = 0.1 if name == "log" else -3.0
    x = rand(4, 5, low=low, high=3.0)
    x[0, 0] = 0.0 if name == "relu" else x[0, 0]
    check(lambda t: getattr(t, name)(), lambda t: getattr(t, name)(), x)


AXES = [None, 0, 1, -1, (0, 2), (1,), (0, 1, 2)]


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("name", ["sum", "mean"])
def test_sum_and_mean(name, axis, keepdims):
    def theirs(t):
        return (
            getattr(t, name)()
            if axis is None and not keepdims
            else getattr(t, name)(dim=axis if axis is not None else (0, 1, 2), keepdim=keepdims)
        )

    check(lambda t: getattr(t, name)(axis=axis, keepdims=keepdims), theirs, rand(2, 3, 4))


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [0, 1, -1, 2])
def test_max_along_an_axis_sends_the_gradient_to_the_arg_max(axis, keepdims):
    check(lambda t: t.max(axis=axis, keepdims=keepdims), lambda t: t.max(dim=axis, keepdim=keepdims)[0], rand(2, 3, 4))


def test_max_along_an_axis_with_ties_picks_one_element():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    out, _ = leaves(x)
    out[0].max(axis=1).sum().backward()
    np.testing.assert_array_equal(out[0].grad, [[0, 1, 0], [1, 0, 0]])


def test_full_max_shares_the_gradient_among_ties_like_torch():
    x = np.array([[1.0, 3.0, 3.0], [3.0, 2.0, 0.0]])
    out, _ = check(lambda t: t.max(), lambda t: t.max(), x)
    assert out.item() == 3.0


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [(0, 2), (1, 2)])
def test_max_over_several_axes_like_amax(axis, keepdims):
    x = rand(2, 3, 4)
    x[1, 2, 3] = x[1, 0, 0] = 5.0
    check(lambda t: t.max(axis=axis, keepdims=keepdims), lambda t: t.amax(dim=axis, keepdim=keepdims), x)


MATMUL_SHAPES = [
    ((3, 4), (4, 5)),
    ((4,), (4, 5)),
    ((3, 4), (4,)),
    ((4,), (4,)),
    ((2, 3, 4), (2, 4, 5)),
    ((2, 1, 3, 4), (5, 4, 2)),
    ((3, 4), (2, 4, 5)),
    ((2, 3, 4), (4,)),
    ((4,), (2, 4, 3)),
]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul_like_numpy_with_batches_and_vectors(shapes):
    check(lambda a, b: a @ b, lambda a, b: a @ b, rand(*shapes[0], seed=3), rand(*shapes[1], seed=4))


def test_matmul_computes_no_share_for_an_input_without_gradient():
    w = Tensor(rand(4, 5), requires_grad=True)
    x = Tensor(rand(3, 4))
    out = x @ w
    assert out._rule.keywords["need"] == (False, True)
    out.sum().backward()
    assert x.grad is None
    np.testing.assert_allclose(w.grad, np.repeat(x.data.sum(0)[:, None], 5, axis=1), **TOL)


def test_linear_matches_torch_for_batches_vectors_and_no_bias():
    x, w, b = rand(6, 4, seed=1), rand(3, 4, seed=2), rand(3, seed=3)
    check(linear, F.linear, x, w, b)
    check(linear, F.linear, rand(2, 5, 4), w, b)
    check(linear, F.linear, rand(4), w, b)
    check(lambda x, w: linear(x, w), lambda x, w: F.linear(x, w), x, w)


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (lambda t: t.reshape(4, 6), lambda t: t.reshape(4, 6)),
        (lambda t: t.reshape((-1,)), lambda t: t.reshape(-1)),
        (lambda t: t.transpose(), lambda t: t.permute(2, 1, 0)),
        (lambda t: t.transpose(1, 0, 2), lambda t: t.permute(1, 0, 2)),
        (lambda t: t.transpose(-1, 0, 1), lambda t: t.permute(2, 0, 1)),
        (lambda t: t.mT, lambda t: t.mT),
        (lambda t: t.reshape(6, 4).T, lambda t: t.reshape(6, 4).T),
        (lambda t: t.broadcast_to((5, 2, 3, 4)), lambda t: t.expand(5, 2, 3, 4)),
    ],
)
def test_shape_operations(ours, theirs):
    check(ours, theirs, rand(2, 3, 4))


@pytest.mark.parametrize(
    "index",
    [
        1,
        -1,
        slice(1, 3),
        (slice(None), 2),
        (0, slice(None, None, 2)),
        [0, 2, 0, 0],
        (np.array([0, 1, 1, 3]), np.array([2, 2, 2, 0])),
        (slice(None), [2, 2, 1]),
    ],
    ids=str,
)
def test_indexing_with_repeated_indices_accumulates(index):
    torch_index = (
        tuple(torch.tensor(i) if isinstance(i, (list, np.ndarray)) else i for i in index)
        if isinstance(index, tuple)
        else (torch.tensor(index) if isinstance(index, list) else index)
    )
    check(lambda t: t[index], lambda t: t[torch_index], rand(4, 3))


def test_gathering_rows_of_a_batch_with_a_repeated_row():
    x, _ = leaves(rand(5, 2))
    x = x[0]
    x[np.array([4, 4, 1])].sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 0], [1, 1], [0, 0], [0, 0], [2, 2]])


@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_and_log_softmax(name, axis):
    check(lambda t: getattr(t, name)(axis), lambda t: getattr(t, name)(dim=axis), rand(3, 4, 5))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_is_numerically_stable(name):
    x = np.array([[1000.0, 0.0, -1000.0], [-1e4, -1e4 + 1, -1e4 + 2]])
    out, _ = check(lambda t: getattr(t, name)(1), lambda t: getattr(t, name)(dim=1), x)
    assert np.isfinite(out.data).all() if name == "softmax" else np.isfinite(out.data[1]).all()


def test_cross_entropy_matches_torch_mean_over_batch():
    targets = np.array([2, 0, 4, 4, 1, 3])
    check(lambda z: cross_entropy(z, targets), lambda z: F.cross_entropy(z, torch.tensor(targets)), rand(6, 5) * 10)
    big = rand(3, 4) * 1000
    check(lambda z: cross_entropy(z, [1, 2, 3]), lambda z: F.cross_entropy(z, torch.tensor([1, 2, 3])), big)


def test_gradient_accumulates_across_uses_and_backward_calls():
    ours, theirs = leaves(rand(3, 3))
    for _ in range(2):
        ((ours[0] * ours[0]).tanh() @ ours[0]).sum().backward()
        ((theirs[0] * theirs[0]).tanh() @ theirs[0]).sum().backward()
    np.testing.assert_allclose(ours[0].grad, theirs[0].grad.numpy(), **TOL)


def test_backward_with_an_explicit_gradient():
    ours, theirs = leaves(rand(2, 3))
    g = rand(2, 3, seed=9)
    ours[0].exp().backward(g)
    theirs[0].exp().backward(torch.tensor(g))
    np.testing.assert_allclose(ours[0].grad, theirs[0].grad.numpy(), **TOL)


def test_leaf_gradients_are_separate_writable_arrays():
    a, b = Tensor(rand(3), requires_grad=True), Tensor(rand(3), requires_grad=True)
    s = a + b
    (s).sum().backward()
    assert isinstance(a.grad, Tensor) and not a.grad.requires_grad
    assert a.grad.numpy() is not b.grad.numpy() and a.grad.numpy().flags.writeable
    a.grad += 1.0
    a.grad.data[0] = 5.0
    np.testing.assert_array_equal(b.grad, np.ones(3))
    np.testing.assert_array_equal(s.grad, np.ones(3))  # an intermediate's, shared with nothing it can change
    s.grad *= 3.0
    np.testing.assert_array_equal(b.grad, np.ones(3))
    np.testing.assert_array_equal(s.grad, np.full(3, 3.0))


# Random compositions of operations on random shapes: a seeded program run by both engines.
UNARY_STEPS = [
    (lambda t: t.tanh(), lambda t: t.tanh()),
    (lambda t: t.sigmoid(), lambda t: t.sigmoid()),
    (lambda t: t.relu(), lambda t: t.relu()),
    (lambda t: (t.tanh() * 2).exp(), lambda t: (t.tanh() * 2).exp()),
    (lambda t: (t * t + 1).log(), lambda t: (t * t + 1).log()),
    (lambda t: t.softmax(-1), lambda t: t.softmax(-1)),
    (lambda t: t.log_softmax(0), lambda t: t.log_softmax(0)),
    (lambda t: t - t.mean(axis=-1, keepdims=True), lambda t: t - t.mean(dim=-1, keepdim=True)),
    (lambda t: t / (t.max(axis=0, keepdims=True) + 3), lambda t: t / (t.max(dim=0, keepdim=True)[0] + 3)),
    (lambda t: t.transpose() * 0.5, lambda t: t.permute(*reversed(range(t.ndim))) * 0.5),
    (lambda t: (t**2 + 0.5) ** 0.5, lambda t: (t**2 + 0.5) ** 0.5),
]
BINARY_STEPS = [
    (lambda a, b: a + b, lambda a, b: a + b),
    (lambda a, b: a * b, lambda a, b: a * b),
    (lambda a, b: a - b.sum(axis=0, keepdims=True), lambda a, b: a - b.sum(dim=0, keepdim=True)),
    (lambda a, b: a / (b * b + 1), lambda a, b: a / (b * b + 1)),
]


@pytest.mark.parametrize("seed", range(25))
def test_random_compositions_against_torch(seed):
    rng = np.random.default_rng(seed)
    shape = tuple(int(n) for n in rng.integers(1, 5, size=rng.integers(1, 4)))
    arrays = [rng.normal(size=shape) for _ in range(3)]
    ours, theirs = leaves(*arrays)
    for _ in range(8):
        i, j = rng.integers(0, len(ours), size=2)
        if rng.random() < 0.5 or ours[j].shape != ours[i].shape:
            k = rng.integers(len(UNARY_STEPS))
            ours.append(UNARY_STEPS[k][0](ours[i]))
            theirs.append(UNARY_STEPS[k][1](theirs[i]))
        else:
            k = rng.integers(len(BINARY_STEPS))
            ours.append(BINARY_STEPS[k][0](ours[i], ours[j]))
            theirs.append(BINARY_STEPS[k][1](theirs[i], theirs[j]))
    ours_loss = sum(t.sum() * (n + 1) for n, t in enumerate(ours[3:]))
    theirs_loss = sum(t.sum() * (n + 1) for n, t in enumerate(theirs[3:]))
    np.testing.assert_allclose(ours_loss.data, theirs_loss.item(), **TOL)
    ours_loss.backward()
    theirs_loss.backward()
    for x, t in zip(ours[:3], theirs[:3], strict=True):
        expected = np.zeros(x.shape) if t.grad is None else t.grad.numpy()
        np.testing.assert_allclose(x.grad if x.grad is not None else 0 * expected, expected, **TOL)


def test_second_derivative_with_create_graph_matches_torch():
    x0, w0 = rand(3, 4, seed=1), rand(4, 2, seed=2)
    targets = [1, 0, 1, 1]

    def f(x, w, loss):
        return (x**3 * x.tanh()).sum() + loss((x.sigmoid() @ w).log_softmax(1)[[0, 1, 2, 2]] * 2, targets)

    (x, w), (tx, tw) = leaves(x0, w0)
    gx, gw = glassgrad.grad(f(x, w, cross_entropy), [x, w], create_graph=True)
    tgx, tgw = torch.autograd.grad(
        f(tx, tw, lambda z, t: F.cross_entropy(z, torch.tensor(t))), [tx, tw], create_graph=True
    )
    np.testing.assert_allclose(gx.data, tgx.detach().numpy(), **TOL)
    ((gx * gx).sum() + (gw.exp() * gw.softmax(0)).max() + gx.max(axis=1).mean()).backward()
    ((tgx * tgx).sum() + (tgw.exp() * tgw.softmax(0)).max() + tgx.max(dim=1)[0].mean()).backward()
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), **TOL)
    np.testing.assert_allclose(w.grad, tw.grad.numpy(), **TOL)


def test_backward_create_graph_makes_tensor_gradients():
    x = Tensor([1.5, -0.5], requires_grad=True, dtype=np.float64)
    tx = torch.tensor([1.5, -0.5], requires_grad=True, dtype=torch.float64)
    (x.exp() * x).sum().backward(create_graph=True)
    tx.grad = torch.autograd.grad((tx.exp() * tx).sum(), [tx], create_graph=True)[0]
    assert isinstance(x.grad, Tensor)
    (g,) = glassgrad.grad(x.grad.sum(), [x])
    (tg,) = torch.autograd.grad(tx.grad.sum(), [tx])
    np.testing.assert_allclose(g, tg.numpy(), **TOL)


def test_ieee_results_without_warnings():
    x0 = np.array([0.0, -1.0, 1e308, 2.0, np.inf, np.nan])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for f in [
            lambda t: t.log(),
            lambda t: 1 / t,
            lambda t: t.exp() * 10,
            lambda t: t**0.5,
            lambda t: t * t - t * t,
            lambda t: t.sigmoid(),
            lambda t: t.relu() * 2,
            lambda t: (t / t).tanh(),
        ]:
            x, tx = Tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
            out, ref = f(x), f(tx)
            np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-15, atol=0)
            out.sum().backward()
            ref.sum().backward()
            np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-15, atol=0)


def test_float32_stays_float32_through_forward_and_backward():
    x = Tensor(rand(5, 4), dtype=np.float32)
    w = Tensor(rand(3, 4), requires_grad=True, dtype=np.float32)
    b = Tensor(rand(3), requires_grad=True, dtype=np.float32)
    h = linear(x, w, b).tanh().sigmoid() * 2.0 + 1 - 0.5 / (w.sum() ** 2 + 1)
    out = h.softmax(1).log().mean(axis=0).max() + cross_entropy(h, [0, 1, 2, 0, 1]) + h.relu().max() + h[[0, 0]].sum()
    assert h.dtype == np.float32 and out.dtype == np.float32
    out.backward()
    assert w.grad.dtype == np.float32 and b.grad.dtype == np.float32


def test_requires_grad_and_no_grad():
    a, c = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0])
    assert not c.requires_grad and (c * 2).requires_grad is False
    out = a * c
    assert out.requires_grad and out._prev == (a, c)
    with no_grad():
        frozen = a * c
    assert not frozen.requires_grad and frozen._prev == () and frozen._rule is None
    out.sum().backward()
    assert c.grad is None
    np.testing.assert_array_equal(a.grad, [3.0, 4.0])
    d = a.detach()
    assert not d.requires_grad and d.numpy() is a.numpy()


def test_construction_dtypes_and_attributes():
    t = Tensor([[1, 2], [3, 4]])  # Python numbers: the default floating dtype, as torch.Tensor
    assert t.dtype == glassgrad.float32 and t.shape == (2, 2) and t.grad is None and not t.requires_grad
    assert Tensor(np.ones(3)).dtype == np.float64 and Tensor(np.float64(2.5)).dtype == np.float64  # numpy's kept
    assert Tensor(np.ones(3, dtype=np.float32)).dtype == np.float32
    assert Tensor(3, dtype=np.float32).dtype == np.float32
    assert Tensor(2.5).item() == 2.5 and Tensor([[7.0]]).item() == 7.0
    array = np.arange(3.0)
    made = Tensor(array)
    array[0] = 9.0
    assert made.data[0] == 0.0 and made.numpy() is made.data.numpy()
    assert repr(Tensor([1.0, 2.0], requires_grad=True)) == "tensor([1., 2.], requires_grad=True)"
    assert repr(Tensor([1.0], requires_grad=True) * 2) == "tensor([2.], grad_fn=<MulBackward0>)"
    assert repr(Tensor([1.0], dtype=np.float64)) == "tensor([1.], dtype=glassgrad.float64)"


@pytest.mark.parametrize("bad", ["abc", ["a", "b"], [1 + 2j], np.array([object()]), {"a": 1}])
def test_unsupported_data_raises_type_error(bad):
    with pytest.raises(TypeError, match="expected real numbers"):
        Tensor(bad)


def test_unsupported_dtype_and_operand_raise_type_error():
    with pytest.raises(TypeError, match="expected glassgrad.float32, float64, int64, int32, uint8 or bool"):
        Tensor([1], dtype=np.int16)
    with pytest.raises(TypeError, match="unsupported operand"):
        Tensor([1.0]) + "x"


@pytest.mark.parametrize(
    "f, pattern",
    [
        (lambda a, b: a + b, r"\+: shapes \(2, 3\) and \(4,\)"),
        (lambda a, b: a * b, r"\*: shapes \(2, 3\) and \(4,\)"),
        (lambda a, b: a @ b, r"@: shapes \(2, 3\) and \(4,\)"),
        (lambda a, b: a.reshape(5), r"reshape: .*\(2, 3\) into \(5,\)"),
        (lambda a, b: linear(a, Tensor(np.ones((2, 4)))), "width 3 .* takes 4"),
    ],
)
def test_shape_mismatch_errors_name_both_shapes(f, pattern):
    with pytest.raises(ValueError, match=pattern):
        f(Tensor(np.ones((2, 3))), Tensor(np.ones(4)))


def test_backward_errors():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(ValueError, match=r"shape \(2, 3\) needs an explicit gradient"):
        (x * 2).backward()
    with pytest.raises(ValueError, match=r"gradient of shape \(3,\) for a tensor of shape \(2, 3\)"):
        (x * 2).backward(np.ones(3))
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor([1.0]).backward()


def test_cross_entropy_errors():
    z = Tensor(np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"expected input of shape \(N, C\) and target of shape \(N,\), got \(3, 4\)"):
        cross_entropy(z, [1, 2])
    with pytest.raises(IndexError, match="target 4 is out of bounds for 4 classes"):  # as torch's, below
        cross_entropy(z, [1, 2, 4])
    with pytest.raises(IndexError, match="Target 4 is out of bounds"):
        torch.nn.functional.cross_entropy(torch.zeros(3, 4), torch.tensor([1, 2, 4]))
    with pytest.raises(ValueError, match=r"expected input of shape \(N, C\)"):
        cross_entropy(Tensor(np.zeros(4)), [1])


def test_detect_anomaly_names_the_tensor_operation():
    x = Tensor([0.0, 1.0], requires_grad=True)
    with detect_anomaly(), pytest.raises(FloatingPointError, match="'log' produced"):
        x.log()


def test_detect_anomaly_catches_a_backward_rule_making_inf():
    x = Tensor([0.0, 4.0], requires_grad=True)
    with detect_anomaly():
        y = (x**0.5).sum()
        with pytest.raises(FloatingPointError, match=r"backward rule of '\*\*0.5' produced"):
            y.backward()


def test_graphs_hold_no_reference_cycles():
    x = Tensor(rand(4, 3), requires_grad=True)
    gc.collect()
    gc.disable()
    try:
        loss = cross_entropy(linear(x, x[:2]).softmax(0).log_softmax(1)[[0, 0, 1]] * 2, [0, 1, 1])
        loss = loss + x.max(axis=0).sum() + (x**2).mean() + x.reshape(12).T.sum()
        loss.backward()
        del loss
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_grad_of_a_non_scalar_output_raises_as_backward_does():
    x = Tensor([1.0, 2.0], requires_grad=True)
    for create_graph in (False, True):
        with pytest.raises(ValueError, match=r"grad: a tensor of shape \(2,\) needs an explicit gradient"):
            glassgrad.grad(x * 2, [x], create_graph=create_graph)  # the same check, naming the function called
    with pytest.raises(ValueError, match=r"backward: a tensor of shape \(2,\) needs an explicit gradient"):
        (x * 2).backward()
    t = torch.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        torch.autograd.grad(t * 2, [t])
    (g,) = glassgrad.grad((x * 2).sum(), [x])
    np.testing.assert_array_equal(g, [2.0, 2.0])
    (g,) = glassgrad.grad((x * 2)[1:].reshape(1, 1), [x])  # one element in any shape has the implicit 1
    np.testing.assert_array_equal(g, [0.0, 2.0])


NAN = float("nan")


@pytest.mark.parametrize(
    "x",
    [
        [[1.0, NAN], [2.0, 0.0]],
        [[1.0, NAN], [NAN, 0.0]],
        [[NAN, NAN], [NAN, NAN]],
        [[-np.inf, NAN], [np.inf, 0.0]],
    ],
)
def test_full_max_with_nan_sends_the_gradient_to_the_nans_like_torch(x):
    x = np.array(x)
    ours, theirs = leaves(x)
    out, ref = ours[0].max(), theirs[0].max()
    assert np.isnan(out.item()) and torch.isnan(ref)
    out.backward()
    ref.backward()
    np.testing.assert_array_equal(ours[0].grad, theirs[0].grad.numpy())
    assert not np.isnan(ours[0].grad).any()
    # all axes as a tuple is the same reduction
    again = Tensor(x, requires_grad=True)
    again.max(axis=(0, 1)).backward()
    np.testing.assert_array_equal(again.grad, ours[0].grad)


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [(0, 2), (1, 2), (0, 1, 2)])
def test_max_over_a_tuple_of_axes_with_nan(axis, keepdims):
    x = rand(2, 3, 4)
    x[1, 2, 3] = x[1, 0, 0] = NAN
    x[0, 1, 1] = 5.0
    t = Tensor(x, requires_grad=True)
    out = t.max(axis=axis, keepdims=keepdims)
    np.testing.assert_array_equal(out.data, torch.tensor(x).amax(dim=axis, keepdim=keepdims).numpy())
    upstream = np.random.default_rng(1).normal(size=out.shape)
    (out * upstream).sum().backward()
    assert not np.isnan(t.grad).any()
    # each slice whose maximum is nan gives its gradient to its nans, shared evenly, as torch's max() does
    # (torch's amax gives the whole slice nan gradients there); the other slices as amax
    for index in np.ndindex(*out.shape):
        full = list(index) if keepdims else list(index)
        where = [slice(None)] * 3
        kept = iter(full)
        for a in range(3):
            if a not in axis:
                where[a] = next(kept) if not keepdims else full[a]
        part = torch.tensor(x[tuple(where)], requires_grad=True)
        part.max().backward()
        np.testing.assert_allclose(t.grad[tuple(where)], upstream[index] * part.grad.numpy(), rtol=1e-15)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_max_along_one_axis_with_nan_picks_the_first_nan_like_torch(axis):
    x = np.array([[1.0, NAN, NAN], [2.0, 0.0, 2.0], [NAN, 5.0, 1.0]])
    check(lambda t: t.max(axis=axis), lambda t: t.max(dim=axis)[0], x)
    ours, _ = leaves(x)
    ours[0].max(axis=axis).sum().backward()
    assert not np.isnan(ours[0].grad).any()


def test_len_and_iteration_like_torch():
    scalar = Tensor(5.0)
    for f in (list, len, iter):
        with pytest.raises(TypeError, match="0-d tensor"):
            f(scalar)
    with pytest.raises(TypeError):
        list(torch.tensor(5.0))
    m = Tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    rows = list(m)
    assert len(m) == 3 and len(Tensor(np.ones((0, 4)))) == 0 and list(Tensor(np.ones((0, 4)))) == []
    assert all(isinstance(r, Tensor) and r.shape == (2,) for r in rows)
    np.testing.assert_array_equal(np.stack([r.data for r in rows]), m.data)
    assert [r.shape for r in Tensor([1.0, 2.0])] == [(), ()]
    sum(r * (i + 1) for i, r in enumerate(m)).sum().backward()  # rows carry the gradient back
    np.testing.assert_array_equal(m.grad, [[1, 1], [2, 2], [3, 3]])
    a, b = Tensor([1.0, 2.0])  # unpacking
    assert a.item() == 1.0 and b.item() == 2.0
    np.testing.assert_array_equal(np.asarray(m), m.data)  # numpy takes the data, not the rows one by one
    assert np.asarray(m, dtype=np.float32).dtype == np.float32


@pytest.mark.parametrize(("shape", "axis"), [((0, 3), 0), ((0, 3), None), ((0, 3), 1), ((2, 0, 3), (0, 1))])
def test_mean_of_nothing_is_nan_without_warnings_like_torch(shape, axis):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = Tensor(np.ones(shape), requires_grad=True)
        out = t.mean(axis=axis)
        ref = torch.ones(shape, dtype=torch.float64).mean(dim=axis) if axis is not None else torch.ones(shape).mean()
        assert out.shape == tuple(ref.shape)
        np.testing.assert_array_equal(out.data, ref.double().numpy())
        if out.size:
            out.sum().backward()
            assert t.grad.shape == shape
