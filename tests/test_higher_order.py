"""Gradients of gradients: derivatives of order 1 to 4, Hessian-vector products, Newton's method."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
import torch

import glassgrad
from glassgrad import Tensor, Value
from glassgrad.nn import MLP, TensorMLP


def our_derivatives(f, x0, order=4):
    """[f'(x0), f''(x0), ...] by differentiating each derivative again."""
    x = Value(x0)
    y, found = f(x), []
    for _ in range(order):
        (y,) = glassgrad.grad(y, [x], create_graph=True)
        found.append(y.data)
    return found


def torch_derivatives(f, x0, order=4):
    x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    y, found = f(x), []
    for _ in range(order):
        (y,) = torch.autograd.grad(y, x, create_graph=True)
        found.append(y.item())
    return found


FUNCTIONS = {
    "tanh": (lambda x: x.tanh(), [-1.5, -0.3, 0.0, 0.8, 2.0]),
    "sigmoid": (lambda x: x.sigmoid(), [-2.5, 0.0, 0.4, 3.0]),
    "exp": (lambda x: x.exp(), [-1.0, 0.0, 1.5]),
    "log": (lambda x: x.log(), [0.3, 1.0, 4.0]),
    "composite": (lambda x: (x * x.sigmoid()).tanh() * x.exp(), [-0.7, 0.5]),
}


def cases(table):
    return [pytest.param(f, x, id=f"{name}@{x}") for name, (f, points) in table.items() for x in points]


@pytest.mark.parametrize(("f", "x0"), cases(FUNCTIONS))
def test_orders_one_to_four_match_torch(f, x0):
    assert our_derivatives(f, x0) == pytest.approx(torch_derivatives(f, x0), rel=1e-11, abs=1e-12)


@pytest.mark.parametrize("x0", [0.5, 1.7])
@pytest.mark.parametrize("y0", [2.5, -1.5, 3.0])
def test_power_in_the_base(x0, y0):
    def f(x):
        return x ** (Value(y0) if isinstance(x, Value) else torch.tensor(y0, dtype=torch.float64))

    assert our_derivatives(f, x0) == pytest.approx(torch_derivatives(f, x0), rel=1e-11, abs=1e-12)


@pytest.mark.parametrize("x0", [0.5, 2.0, 3.5])
@pytest.mark.parametrize("y0", [-1.2, 0.7, 2.0])
def test_power_in_the_exponent(x0, y0):
    def f(y):
        return (Value(x0) if isinstance(y, Value) else torch.tensor(x0, dtype=torch.float64)) ** y

    assert our_derivatives(f, y0) == pytest.approx(torch_derivatives(f, y0), rel=1e-11, abs=1e-12)
    assert our_derivatives(f, y0)[3] == pytest.approx(math.log(x0) ** 4 * x0**y0, rel=1e-12)


def test_mixed_partials_of_a_power():
    """d^2(x^y)/dx dy = x^(y-1) (1 + y ln x), in either order."""
    x, y = Value(1.7), Value(0.6)
    dx, dy = glassgrad.grad(x**y, [x, y], create_graph=True)
    (dxdy,) = glassgrad.grad(dx, [y])
    (dydx,) = glassgrad.grad(dy, [x])
    expected = 1.7 ** (0.6 - 1) * (1 + 0.6 * math.log(1.7))
    assert dxdy == pytest.approx(expected, rel=1e-14) and dydx == pytest.approx(expected, rel=1e-14)


def test_backward_with_create_graph_makes_grads_values():
    x = Value(0.5)
    (x**3).backward(create_graph=True)
    first = x.grad
    assert isinstance(first, Value) and first.data == 0.75  # 3 x^2
    x.grad = 0.0
    first.backward()
    assert x.grad == 3.0  # 6 x


def torch_mlp(params, sizes, inputs):
    """The forward pass of glassgrad's MLP(tanh hidden layers, linear output) with torch scalars."""
    it = iter(params)
    x = inputs
    for layer, (nin, nout) in enumerate(zip(sizes, sizes[1:], strict=False)):
        out = []
        for _ in range(nout):
            w = [next(it) for _ in range(nin)]
            s = next(it) + sum(wi * xi for wi, xi in zip(w, x, strict=True))
            out.append(s if layer == len(sizes) - 2 else s.tanh())
        x = out
    return x[0]


def test_hessian_vector_product_of_an_mlp_loss_matches_torch():
    sizes = [2, 4, 3, 1]
    model = MLP(2, sizes[1:], activation="tanh", seed=3)
    rng = random.Random(7)
    data = [([rng.uniform(-2, 2), rng.uniform(-2, 2)], rng.choice([-1.0, 1.0])) for _ in range(5)]
    v = [rng.gauss(0, 1) for _ in model.parameters()]

    def loss_of(forward, params):
        loss = sum((forward(x) - y) ** 2 for x, y in data) * (1 / len(data))
        return loss + 1e-3 * sum(p * p for p in params)

    ps = model.parameters()
    grads = glassgrad.grad(loss_of(model, ps), ps, create_graph=True)
    ours = glassgrad.grad(sum(g * vi for g, vi in zip(grads, v, strict=True)), ps)

    tps = [torch.tensor(p.data, dtype=torch.float64, requires_grad=True) for p in ps]
    tloss = loss_of(lambda x: torch_mlp(tps, sizes, x), tps)
    tgrads = torch.autograd.grad(tloss, tps, create_graph=True)
    theirs = torch.autograd.grad(sum(g * vi for g, vi in zip(tgrads, v, strict=True)), tps)

    assert [g.data for g in grads] == pytest.approx([g.item() for g in tgrads], rel=1e-12, abs=1e-14)
    assert ours == pytest.approx([h.item() for h in theirs], rel=1e-10, abs=1e-13)
    assert max(abs(h) for h in ours) > 0.01  # the curvature is not trivially zero


def test_newtons_method_converges_quadratically():
    """Minimise f(x) = e^x - 2x (minimum at ln 2) with x <- x - f'(x) / f''(x)."""
    x = Value(1.0)
    errors = []
    for _ in range(6):
        f = x.exp() - 2 * x
        (df,) = glassgrad.grad(f, [x], create_graph=True)  # f'(x) as a Value
        (d2f,) = glassgrad.grad(df, [x])  # f''(x) as a float
        x = Value(x.data - df.data / d2f)
        errors.append(abs(x.data - math.log(2)))
    assert errors[-1] <= 1e-15
    assert errors[2] < errors[1] ** 2 < errors[0] ** 2  # the error squares each step


# Tensors: the same rules run on arrays and, with create_graph, on Tensors.


def our_tensor_derivatives(f, x0, order=4):
    """Elementwise f', f'', ... at each point of x0: differentiate sum(f(x)) again and again."""
    x = Tensor(x0, requires_grad=True)
    y, found = f(x), []
    for _ in range(order):
        (y,) = glassgrad.grad(y.sum(), [x], create_graph=True)
        found.append(y.numpy().copy())
    return np.array(found)


def torch_tensor_derivatives(f, x0, order=4):
    x = torch.tensor(x0, requires_grad=True)
    y, found = f(x), []
    for _ in range(order):
        (y,) = torch.autograd.grad(y.sum(), x, create_graph=True)
        found.append(y.detach().numpy().copy())
    return np.array(found)


TENSOR_FUNCTIONS = {
    "tanh": (lambda x: x.tanh(), [-1.5, -0.3, 0.0, 0.8, 2.0]),
    "sigmoid": (lambda x: x.sigmoid(), [-2.5, 0.0, 0.4, 3.0]),
    "exp": (lambda x: x.exp(), [-1.0, 0.0, 1.5]),
    "log": (lambda x: x.log(), [0.3, 1.0, 4.0]),
    "x**2.5": (lambda x: x**2.5, [0.5, 1.7]),
    "2.5**x": (lambda x: 2.5**x, [-1.2, 0.7, 2.0]),
    "softmax": (lambda x: x.softmax(axis=0) * const_like(x, [1.0, -2.0, 0.5]), [0.3, -1.0, 2.0]),
}


def const_like(like, values):
    return Tensor(values) if isinstance(like, Tensor) else torch.tensor(values, dtype=torch.float64)


@pytest.mark.parametrize(("f", "points"), [pytest.param(f, p, id=n) for n, (f, p) in TENSOR_FUNCTIONS.items()])
def test_tensor_orders_one_to_four_match_torch(f, points):
    x0 = np.array(points)
    np.testing.assert_allclose(our_tensor_derivatives(f, x0), torch_tensor_derivatives(f, x0), rtol=1e-11, atol=1e-12)


def test_tensor_power_with_a_tensor_exponent_both_sides():
    a0, b0 = np.array([0.5, 1.7, 3.0]), np.array([2.5, -1.5, 0.7])

    def derivatives(make, grad, read):
        a, b = make(a0, requires_grad=True), make(b0, requires_grad=True)
        da = db = a**b
        found = []
        for _ in range(4):
            (da,) = grad(da.sum(), [a], create_graph=True)
            (db,) = grad(db.sum(), [b], create_graph=True)
            found += [read(da), read(db)]
        return np.array(found)

    ours = derivatives(Tensor, glassgrad.grad, lambda t: t.numpy().copy())
    theirs = derivatives(torch.tensor, torch.autograd.grad, lambda t: t.detach().numpy().copy())
    np.testing.assert_allclose(ours, theirs, rtol=1e-11, atol=1e-12)


def test_hessian_vector_product_of_a_tensor_mlp_loss_matches_torch():
    model = TensorMLP(3, [5, 4, 2], activation="tanh", seed=1, dtype=np.float64)
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    v = [rng.normal(size=p.shape) for p in model.parameters()]

    ps = model.parameters()
    loss = ((model(Tensor(x)) - Tensor(y)) ** 2).mean() + 1e-3 * sum((p * p).sum() for p in ps)
    grads = glassgrad.grad(loss, ps, create_graph=True)
    ours = glassgrad.grad(sum((g * Tensor(vi)).sum() for g, vi in zip(grads, v, strict=True)), ps)

    tps = [torch.tensor(p.numpy(), requires_grad=True) for p in ps]
    h = torch.tensor(x)
    for i in range(0, len(tps), 2):
        h = h @ tps[i].T + tps[i + 1]
        h = h.tanh() if i < len(tps) - 2 else h
    tloss = ((h - torch.tensor(y)) ** 2).mean() + 1e-3 * sum((p * p).sum() for p in tps)
    tgrads = torch.autograd.grad(tloss, tps, create_graph=True)
    theirs = torch.autograd.grad(sum((g * torch.tensor(vi)).sum() for g, vi in zip(tgrads, v, strict=True)), tps)

    for mine, ref in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine, ref.numpy(), rtol=1e-10, atol=1e-13)
    assert max(np.abs(h).max() for h in ours) > 0.01
