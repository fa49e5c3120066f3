"""glassgrad.op: an operation defined by its user, on both engines, to the third derivative."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch

import glassgrad
from glassgrad import Tensor, Value, draw_dot, gradcheck, gradgradcheck, ops, stepper
from glassgrad.ops import describe, registry


@glassgrad.op(derivative=lambda g, out, x: (g * 3 * x * x,))
def cubed(x):
    return x**3


@glassgrad.op(derivative=lambda g, out, x, y: (g * y * x ** (y - 1.0), g * out * x.log() if hasattr(x, "log")
                                               else g * out * np.log(x)), formula="{0} ^ {1}")
def raise_to(x, y):
    """x ** y, a two-input operation."""
    return x**y


def test_a_value_node_is_named_after_the_function():
    a = Value(2.0, label="a")
    y = cubed(a)
    assert (y.data, y._op, y._prev) == (8.0, "cubed", (a,))
    assert cubed.__name__ == "cubed" and describe("cubed")[0] is cubed.op
    y.backward()
    assert a.grad == 12.0


def test_value_derivatives_to_third_order_match_torch():
    a = Value(-1.7)
    (d1,) = glassgrad.grad(cubed(a), a, create_graph=True)
    (d2,) = glassgrad.grad(d1, a, create_graph=True)
    (d3,) = glassgrad.grad(d2, a)
    t = torch.tensor(-1.7, dtype=torch.float64, requires_grad=True)
    (t1,) = torch.autograd.grad(t**3, t, create_graph=True)
    (t2,) = torch.autograd.grad(t1, t, create_graph=True)
    (t3,) = torch.autograd.grad(t2, t)
    assert (d1.data, d2.data, d3) == pytest.approx((t1.item(), t2.item(), t3.item()), rel=1e-15)
    assert d3 == 6.0


def test_tensor_values_and_derivatives_to_third_order_match_torch():
    x0 = np.array([[-1.5, 0.25, 2.0], [0.0, 3.0, -0.5]])
    x = Tensor(x0, requires_grad=True)
    y = cubed(x)
    assert isinstance(y, Tensor) and y._op == "cubed"
    np.testing.assert_array_equal(y.data, x0**3)
    (d1,) = glassgrad.grad(y.sum(), x, create_graph=True)
    (d2,) = glassgrad.grad(d1.sum(), x, create_graph=True)
    (d3,) = glassgrad.grad(d2.sum(), x)
    np.testing.assert_allclose(d1.data, 3 * x0**2, rtol=1e-15)
    np.testing.assert_allclose(d2.data, 6 * x0, rtol=1e-15)
    np.testing.assert_array_equal(d3, np.full_like(x0, 6.0))


def test_gradcheck_and_gradgradcheck_pass_on_both_engines():
    assert gradcheck(lambda a: cubed(a) * a.tanh(), [Value(0.7)])
    assert gradgradcheck(lambda a: cubed(a) * a.tanh(), [Value(0.7)])
    x = Tensor(np.random.default_rng(0).uniform(-1, 1, (2, 3)), requires_grad=True)
    assert gradcheck(lambda t: cubed(t).tanh(), [x])
    assert gradgradcheck(lambda t: cubed(t).tanh(), [x])


def test_two_inputs_and_numbers_as_constants():
    a, b = Value(1.5), Value(2.5)
    out = raise_to(a, b)
    out.backward()
    assert out.data == 1.5**2.5 and out._prev == (a, b)
    assert (a.grad, b.grad) == pytest.approx((2.5 * 1.5**1.5, 1.5**2.5 * math.log(1.5)), rel=1e-15)
    with_number = raise_to(a, 2.0)
    assert with_number.data == 2.25 and with_number._prev[1].data == 2.0


def test_the_pictures_show_it():
    a = Value(2.0, label="a")
    y = cubed(a) + 1.0
    assert "cubed" in draw_dot(y).source
    run = stepper(y).run
    assert any(node["op"] == "cubed" for node in run["nodes"])
    assert any("cubed(a)" in step["title"] for step in run["steps"])
    z = raise_to(a, Value(3.0, label="k"))
    assert any("a ^ k" in step["title"] for step in stepper(z).run["steps"])


def test_hand_made_nodes_of_a_user_operation_use_its_rule():
    a = Value(2.0)
    y = Value(8.0, (a,), "cubed")
    y.backward()
    assert a.grad == 12.0


def test_mixing_engines_or_no_node_is_refused():
    with pytest.raises(TypeError, match="expected at least one Value or Tensor"):
        cubed(2.0)
    with pytest.raises(TypeError, match="got Tensor"):
        raise_to(Value(2.0), Tensor([1.0]))


def test_a_name_of_glassgrad_s_own_operations_cannot_be_taken():
    with pytest.raises(ValueError, match="'tanh' is the name of one of glassgrad's own operations"):
        glassgrad.op(derivative=lambda g, out, x: (g,), name="tanh")(lambda x: x)
    assert describe("tanh")[0].on_floats(0.5) == math.tanh(0.5)


def test_a_rule_with_the_wrong_number_of_shares_is_named():
    @glassgrad.op(derivative=lambda g, out, x, y, z: (g, g))
    def add3(x, y, z):
        return x + y + z

    with pytest.raises(TypeError, match=r"the derivative of 'add3' returned 2 shares for 3 input\(s\)"):
        add3(Value(1.0), Value(2.0), Value(3.0)).backward()

    @glassgrad.op(derivative=lambda g, out, x: g * 2)
    def double(x):
        return 2 * x

    with pytest.raises(TypeError, match="returned float for 1 input"):
        double(Value(1.0)).backward()


def test_tensor_inputs_are_broadcast_and_promoted_as_arithmetic_does():
    @glassgrad.op(derivative=lambda g, out, x, y: (g * y, g * x))
    def times(x, y):
        return x * y

    x = Tensor(np.ones(3), requires_grad=True)
    y = Tensor(np.full((2, 3), 2.0), requires_grad=True)
    out = times(x, y)
    out.sum().backward()
    assert out.shape == (2, 3) and x.grad.shape == (3,) and y.grad.shape == (2, 3)
    np.testing.assert_array_equal(x.grad, [4.0, 4.0, 4.0])
    single = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    half = times(single, 0.5)
    half.sum().backward()
    assert half.dtype == np.float32 and single.grad.dtype == np.float32


def test_a_parameterised_name_of_the_engine_cannot_be_shadowed():
    with pytest.raises(ValueError, match="'\\*\\*2' is the name of one of glassgrad's own operations"):
        glassgrad.op(derivative=lambda g, out, x: (g,), name="**2")(lambda x: x)
    for name in ("sqrt", "abs", "sin", "cos", "log10"):
        with pytest.raises(ValueError, match="own operations"):
            glassgrad.op(derivative=lambda g, out, x: (g,), name=name)(lambda x: x)
    x = Value(3.0)
    Value(9.0, (x,), "**2").backward()
    assert x.grad == 6.0


BUILT_IN_NAMES = sorted({n for op in ops.OPS.values() if op.name in registry._BUILT_IN for n in op.names()})


@pytest.mark.parametrize("name", BUILT_IN_NAMES)
def test_no_name_of_the_registry_can_be_taken(name):
    """Every name of glassgrad's own operations (a node's, a method's, an operator's, `sum`, `linear`,
    `add`, `__add__`) is refused, and the registry still describes the built-in operation afterwards."""
    owner = next(op for op in ops.OPS.values() if name in op.names() and op.name in registry._BUILT_IN)
    with pytest.raises(ValueError, match=f"{re.escape(repr(name))} is the name of one of glassgrad's own operations"):
        glassgrad.op(derivative=lambda g, out, x: (g,), name=name)(lambda x: x)
    assert all(op is not None for op in ops.OPS.values()) and ops.OPS[owner.name] is owner


def test_a_value_node_cannot_be_named_after_a_tensor_operation():
    with pytest.raises(ValueError, match=r"_op='sum'\): no operation of that name \(known: \+, -.*weighted_sum"):
        Value(1.0, (Value(1.0),), "sum").backward()
