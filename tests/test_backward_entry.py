"""One backward entry: `backward()` and `glassgrad.grad` run the same pass, with the same checks
and numpy's warnings off, and give PyTorch's (float64) gradients; one node factory for both engines."""

import warnings

import numpy as np
import pytest
import torch

import glassgrad
from glassgrad import Tensor, Value

X = [0.0, 0.5, -1.0, 2.0]
GRAPHS = {  # gradients with inf and nan in them, where numpy would warn
    "log": lambda x: x.log().sum(),
    "sqrt": lambda x: x.sqrt().sum(),
    "1/x": lambda x: (1.0 / x).sum(),
    "x**-1.5": lambda x: (x ** -1.5).sum(),
    "x**x": lambda x: (x.abs() ** x).sum(),
    "tanh*log": lambda x: (x.tanh() * (x * x).log()).mean(),
}


@pytest.mark.parametrize("name", GRAPHS)
@pytest.mark.parametrize("create_graph", [False, True])
def test_grad_and_backward_agree_with_torch_and_do_not_warn(name, create_graph):
    f = GRAPHS[name]
    t = torch.tensor(X, dtype=torch.float64, requires_grad=True)
    (expected,) = torch.autograd.grad(f(t), [t])
    x = glassgrad.tensor(X, dtype=glassgrad.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning from numpy fails the test
        (by_grad,) = glassgrad.grad(f(x), [x], create_graph=create_graph)
        f(x).backward(create_graph=create_graph)
    np.testing.assert_allclose(by_grad.data, expected.numpy(), rtol=1e-12, equal_nan=True)
    np.testing.assert_array_equal(x.grad.data, by_grad.data)
    assert by_grad.dtype == glassgrad.float64 and by_grad.requires_grad == create_graph


@pytest.mark.parametrize("make", [lambda: Value(2.0), lambda: Tensor([2.0], requires_grad=True)])
def test_backward_refuses_an_output_that_needs_no_gradient_and_grad_gives_zeros(make):
    """backward() as torch: 'element 0 of tensors does not require grad and does not have a grad_fn'.
    grad() gives zeros (torch refuses), as the second derivative of relu needs: see `run_backward`."""
    x = make()
    with glassgrad.no_grad():
        y = (x * 3).sum() if isinstance(x, Tensor) else x * 3
    t = torch.tensor([2.0], requires_grad=True)
    with torch.no_grad():
        ty = (t * 3).sum()
    with pytest.raises(RuntimeError, match="does not require grad"):
        ty.backward()
    with pytest.raises(RuntimeError, match="backward: this .* does not require grad"):
        y.backward()
    (g,) = glassgrad.grad(y, [x])
    assert float(g.sum() if isinstance(g, Tensor) else g) == 0.0


def test_values_made_after_an_in_place_change_are_plain_nodes():
    """The factory stamps a result with the in-place clock only for Tensors (Values never change in place)."""
    t = Tensor([1.0, 2.0])
    t += 1.0
    a, b = Value(2.0), Value(-3.0)
    out = (a * b + a).tanh()
    out.backward()
    ta, tb = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (2.0, -3.0))
    (ta * tb + ta).tanh().backward()
    assert (a.grad, b.grad) == pytest.approx((ta.grad.item(), tb.grad.item()), rel=1e-12)
    assert not hasattr(out, "_born") and (t * 2)._born > 0


def test_one_factory_records_one_two_and_many_inputs():
    x = Tensor([1.0, 2.0], requires_grad=True)
    c = Tensor([3.0, 4.0])
    one, two, many = x.exp(), x * c, glassgrad.cat([x, c, x])
    assert one._prev == (x,) and two._prev == (x, c) and many._prev == (x, c, x)
    assert all(n.requires_grad for n in (one, two, many))
    assert not (c * c).requires_grad and (c * c)._prev == ()
    many.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])
