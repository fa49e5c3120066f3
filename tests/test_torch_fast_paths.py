"""The short paths of common operations (a floating tensor to a number's power, one axis in range,
broadcasting of one floating dtype) against PyTorch: the same dtypes, bits and refusals as the long ones."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import glassgrad


def _same(g, t, exact=True):
    """The same dtype and values: the same bits, or (not `exact`: float32 sums, whose order differs from
    torch's, and x ** 0.5) to the last bit or so."""
    assert str(g.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    if exact:
        np.testing.assert_array_equal(np.asarray(g.detach().numpy()), t.detach().numpy())
    else:
        np.testing.assert_allclose(np.asarray(g.detach().numpy()), t.detach().numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
@pytest.mark.parametrize("k", [2, 3, -1, 0.5, 2.5, 0, True])
def test_power_of_a_number(dtype, k):
    x = np.abs(np.random.default_rng(3).standard_normal((3, 4)) * 3).astype(dtype) + 1
    g, t = glassgrad.tensor(x), torch.tensor(x)
    if dtype == "int64" and type(k) is int and k < 0:  # refused by both
        for x in (g, t):
            with pytest.raises(RuntimeError):
                x**k
        return
    _same(g**k, t**k, exact=k != 0.5)


def test_integer_to_a_negative_power_is_refused():
    for lib in (glassgrad, torch):
        with pytest.raises(RuntimeError):
            lib.tensor([1, 2]) ** -1


@pytest.mark.parametrize("axis", [0, 1, -1, -2, (0, 1), [1, 0]])
def test_one_axis_or_several(axis):
    x = np.random.default_rng(4).standard_normal((3, 4)).astype(np.float32)
    g, t = glassgrad.tensor(x), torch.tensor(x)
    _same(g.sum(axis), t.sum(axis), exact=False)
    one = axis if isinstance(axis, int) else 1
    _same(g.softmax(one), t.softmax(one), exact=False)


@pytest.mark.parametrize("axis", [2, -3, True])
def test_an_axis_out_of_range_is_refused(axis):
    for lib in (glassgrad, torch):
        with pytest.raises((IndexError, TypeError, RuntimeError)):
            lib.zeros(3, 4).sum(axis if axis is not True else 2)
    with pytest.raises(TypeError):
        glassgrad.zeros(3, 4).sum(True)


def test_a_zero_dimensional_tensor_takes_axis_0():
    for lib in (glassgrad, torch):
        assert lib.tensor(2.0).sum(0).item() == 2.0
        assert lib.tensor(2.0).softmax(-1).item() == 1.0


@pytest.mark.parametrize("shapes", [((4, 3), (3,)), ((4, 1), (1, 3)), ((2, 1, 3), (4, 3)), ((3,), (4, 3))])
def test_broadcast_of_one_floating_dtype_and_its_gradient(shapes):
    rng = np.random.default_rng(5)
    a, b = (rng.standard_normal(s).astype(np.float32) for s in shapes)
    grads = []
    for lib in (glassgrad, torch):
        x, y = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        out = (x * y + x - y) / (y * y + 1)
        out.sum().backward()
        grads.append((out, x.grad, y.grad))
    for g, t in zip(*grads):
        _same(g, t)


def test_shapes_that_do_not_broadcast_are_refused():
    with pytest.raises(ValueError, match="cannot broadcast"):
        glassgrad.zeros(4, 3) + glassgrad.zeros(4)
    with pytest.raises(RuntimeError):
        torch.zeros(4, 3) + torch.zeros(4)


@pytest.mark.parametrize("number", [3, -7, 2**40 + 1, 0.1, 1e30])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_python_number_with_a_floating_tensor(number, dtype):
    x = np.random.default_rng(6).standard_normal((2, 3)).astype(dtype)
    for make in (lambda lib: lib.tensor(x), lambda lib: lib.tensor(x[0, 0])):  # dimensioned, and 0-d
        g, t = make(glassgrad), make(torch)
        for f in (lambda a: a + number, lambda a: number - a, lambda a: a * number, lambda a: a / number):
            _same(f(g), f(t))
