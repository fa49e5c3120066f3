"""Inputs at the edges of the engines' API, each against PyTorch: indices, axes, single nodes where a
list is expected, gradients that are nodes, numpy scalars, huge integers and empty sizes. Each test
stands for a class of silent wrong results (or raw tracebacks) that issue #9 found one member of."""

from __future__ import annotations

import decimal
import fractions
import math
import operator
import traceback
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from oracle import check

import glassgrad
from glassgrad import Tensor, Value, engine
from glassgrad._tensor.functional import cat, linear, where
from glassgrad._tensor.functions import maximum
from glassgrad.autograd import zero_grads
from glassgrad.autograd.gradcheck import gradcheck, gradgradcheck
from glassgrad.nn.functional import cross_entropy

X = np.array([[0.5, -1.0, 2.0], [3.0, 3.0, -0.5], [1.5, 0.0, 1.5]])


def both(f, tf, data=X):
    """f on a glassgrad Tensor and tf on a torch tensor of `data`: the values and the gradients agree;
    the glassgrad leaf."""
    return check(f, data, theirs=tf, rtol=1e-14, atol=1e-15)[1][0]


# --- tensors, arrays and lists as indices -------------------------------------------------------------

def int_tensor(values):
    """A Tensor holding integers, as PyTorch's LongTensor."""
    return Tensor(values, dtype=np.int64)


def bool_tensor(values):
    """A Tensor holding booleans (a mask), as PyTorch's BoolTensor."""
    return Tensor(values, dtype=bool)


INDICES = {
    "repeated rows": ([2, 0, 2, 2], [2, 0, 2, 2]),
    "repeated int array": (np.array([1, 1, 0]), torch.tensor([1, 1, 0])),
    "numpy int32": (np.array([2, 2], dtype=np.int32), torch.tensor([2, 2])),
    "int tensor": (int_tensor([0, 2, 0]), torch.tensor([0, 2, 0])),
    "negative": ([-1, -1, 0], [-1, -1, 0]),
    "pairs": (([0, 0, 2], [1, 1, 1]), (torch.tensor([0, 0, 2]), torch.tensor([1, 1, 1]))),
    "rows and a slice": ((slice(None), [2, 2, 0]), (slice(None), [2, 2, 0])),
    "bool array": (np.array([True, False, True]), torch.tensor([True, False, True])),
    "bool list": ([False, True, True], torch.tensor([False, True, True])),
    "bool tensor": (bool_tensor([True, True, False]), torch.tensor([True, True, False])),
    "2-d bool mask": (X > 1.0, torch.tensor(X > 1.0)),
    "bool and int": ((np.array([True, False, True]), 1), (torch.tensor([True, False, True]), 1)),
    "empty list": ([], torch.tensor([], dtype=torch.long)),
    "numpy int scalar": (np.int64(1), 1),
    "int tensor scalar": (int_tensor(2), torch.tensor(2)),
}


@pytest.mark.parametrize("name", INDICES)
def test_indexing_picks_and_masks_like_torch(name):
    ours, theirs = INDICES[name]
    both(lambda x: x[ours], lambda t: t[theirs])


@pytest.mark.parametrize("index", [1.0, np.float64(1.0), [0.0, 1.0], np.array([0.0, 2.0]), Tensor([0.0, 1.0]),
                                   Tensor(1.0), (0, 1.0), ([0, 1], [1.5, 0.0])], ids=repr)
def test_float_indices_are_refused_as_in_torch(index):
    with pytest.raises(IndexError, match="integer|index"):
        Tensor(X)[index]


def test_a_wrong_size_mask_is_refused():
    with pytest.raises(IndexError):
        Tensor(X)[np.array([True, False])]


# --- a single node where a sequence is expected -----------------------------------------------------

def test_grad_accepts_a_single_value_or_tensor():
    w = Value(3.0)
    assert glassgrad.grad(w * w, w) == [6.0]
    assert glassgrad.grad(w * w, (w,)) == [6.0]
    t = Tensor([1.0, 2.0], requires_grad=True)
    (g,) = glassgrad.grad((t * t).sum(), t)
    np.testing.assert_array_equal(g, [2.0, 4.0])  # not one gradient per row of t
    (g,) = glassgrad.grad((t * t).sum(), iter([t]))
    np.testing.assert_array_equal(g, [2.0, 4.0])


@pytest.mark.parametrize("inputs", [3.0, [Value(1.0), 2.0], "w"], ids=repr)
def test_grad_refuses_what_is_not_a_node(inputs):
    with pytest.raises(TypeError, match="grad: the inputs"):
        glassgrad.grad(Value(1.0) * 2.0, inputs)


@pytest.mark.parametrize("check", [gradcheck, gradgradcheck])
def test_gradcheck_accepts_a_single_input(check):
    assert check(lambda x: x.tanh() * x, Value(0.3))
    t = Tensor([[0.3, -0.2], [0.1, 0.5]], requires_grad=True, dtype=np.float64)
    assert check(lambda x: (x.tanh() * x).sum(), t)  # not each row of t as an input


def test_zero_grads_accepts_a_single_node():
    t = Tensor([1.0, 2.0], requires_grad=True)
    (t * t).sum().backward()
    zero_grads(t)
    assert t.grad is None
    v = Value(2.0)
    (v * v).backward()
    zero_grads(v)
    assert v.grad == 0.0


# --- backward(gradient=v, create_graph=True) keeps v in the graph ---------------------------------------

def test_value_backward_with_a_value_gradient_keeps_it_in_the_graph():
    x, v = Value(3.0), Value(2.0)
    (x * x).backward(gradient=v, create_graph=True)  # x.grad = 2 x v
    assert x.grad.data == 12.0
    gx = x.grad
    x.grad = 0.0
    gx.backward()
    assert (x.grad, v.grad) == (2.0 * 2.0, 2.0 * 3.0)  # d(2xv)/dx = 2v, d(2xv)/dv = 2x


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_tensor_backward_with_a_tensor_gradient_keeps_it_in_the_graph():
    x, v = Tensor([1.0, -2.0], requires_grad=True), Tensor([0.5, 3.0], requires_grad=True)
    tx, tv = torch.tensor([1.0, -2.0], requires_grad=True), torch.tensor([0.5, 3.0], requires_grad=True)
    (x * x * x).backward(gradient=v, create_graph=True)
    (tx * tx * tx).backward(gradient=tv, create_graph=True)
    gx, tgx = x.grad, tx.grad
    x.grad, tx.grad = None, None
    (gx * gx).sum().backward()
    (tgx * tgx).sum().backward()
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(v.grad, tv.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("engine_kind", ["Value", "Tensor"])
def test_grad_with_grad_output_node_and_create_graph(engine_kind):
    make = Value if engine_kind == "Value" else (lambda a: Tensor(a, requires_grad=True, dtype=np.float64))
    x, v = make(0.7), make(-1.5)
    (g,) = glassgrad.grad(x.tanh(), [x], grad_output=v, create_graph=True)
    tx, tv = (torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in (0.7, -1.5))
    (tg,) = torch.autograd.grad(tx.tanh(), [tx], tv, create_graph=True)
    (dx, dv), (tdx, tdv) = glassgrad.grad(g * g, [x, v]), torch.autograd.grad(tg * tg, [tx, tv])
    assert np.allclose([float(dx), float(dv)], [tdx.item(), tdv.item()], rtol=1e-12)


def test_a_tensor_gradient_of_another_dtype_is_converted_and_kept_in_the_graph():
    x = Tensor([1.0, 2.0], requires_grad=True, dtype=np.float32)
    v = Tensor([1.0, 1.0], requires_grad=True, dtype=np.float64)
    (x * x).backward(gradient=v, create_graph=True)
    assert x.grad.dtype == np.float32
    x.grad.sum().backward()
    np.testing.assert_array_equal(v.grad, [2.0, 4.0])


# --- axes ----------------------------------------------------------------------------------------------

def other(axis):
    """The other axis of a matrix (for a permutation), whatever `axis` is (out-of-range axes too)."""
    return 1 if isinstance(axis, (int, np.integer)) and not isinstance(axis, bool) and axis % 2 == 0 else 0


AXIS_FUNCTIONS = {
    "sum": (lambda x, a: x.sum(axis=a), lambda t, a: t.sum(dim=a)),
    "mean": (lambda x, a: x.mean(axis=a), lambda t, a: t.mean(dim=a)),
    "max": (lambda x, a: x.max(axis=a), lambda t, a: t.max(dim=a)[0]),
    "softmax": (lambda x, a: x.softmax(a), lambda t, a: t.softmax(a)),
    "log_softmax": (lambda x, a: x.log_softmax(a), lambda t, a: t.log_softmax(a)),
    "transpose": (lambda x, a: x.transpose(a, other(a)), lambda t, a: t.transpose(a, other(a))),
    "permute": (lambda x, a: x.permute(a, other(a)), lambda t, a: t.permute(a, other(a))),
}


@pytest.mark.parametrize("name", AXIS_FUNCTIONS)
@pytest.mark.parametrize("axis", [2, 3, -3, 100, -4])
def test_out_of_range_axes_are_refused_as_in_torch(name, axis):
    f, tf = AXIS_FUNCTIONS[name]
    with pytest.raises(IndexError):
        tf(torch.tensor(X), axis)
    with pytest.raises(IndexError, match=f"axis {axis} is out of range"):
        f(Tensor(X), axis)


@pytest.mark.parametrize("name", AXIS_FUNCTIONS)
@pytest.mark.parametrize("axis", [0, 1, -1, -2, np.int64(1), np.int32(-2), np.intp(0)], ids=repr)
def test_axes_in_range_and_numpy_integers_behave_as_torch(name, axis):
    f, tf = AXIS_FUNCTIONS[name]
    both(lambda x: f(x, axis), lambda t: tf(t, int(axis)))


@pytest.mark.parametrize("name", ["sum", "mean", "max", "softmax", "log_softmax"])
@pytest.mark.parametrize("axis", [0, -1])
def test_a_zero_dimensional_tensor_takes_axis_0_and_minus_1_as_torch(name, axis):
    f, tf = AXIS_FUNCTIONS[name]
    both(lambda x: f(x, axis), lambda t: tf(t, axis), data=np.array(2.5))
    with pytest.raises(IndexError):
        f(Tensor(2.5), 1)


ZERO_D = {
    "max(dim=0)": (lambda x: x.max(dim=0).values, lambda t: t.max(dim=0).values),
    "min(dim=-1)": (lambda x: x.min(dim=-1).values, lambda t: t.min(dim=-1).values),
    "argmax(0)": (lambda x: x.argmax(0), lambda t: t.argmax(0)),
    "topk(1)": (lambda x: x.topk(1).values, lambda t: t.topk(1).values),
    "squeeze(0)": (lambda x: x.squeeze(0), lambda t: t.squeeze(0)),
    "transpose(0, -1)": (lambda x: x.transpose(0, -1), lambda t: t.transpose(0, -1)),
    "permute(())": (lambda x: x.permute(()), lambda t: t.permute(())),
    "unsqueeze(-1)": (lambda x: x.unsqueeze(-1), lambda t: t.unsqueeze(-1)),
}


@pytest.mark.parametrize("name", ZERO_D)
def test_dim_functions_on_a_zero_dimensional_tensor_as_torch(name):
    f, tf = ZERO_D[name]
    x, t = Tensor(2.5, requires_grad=True), torch.tensor(2.5, dtype=torch.float64, requires_grad=True)
    y, ty = f(x), tf(t)
    assert y.shape == tuple(ty.shape) and np.array_equal(y.data, ty.detach().numpy())
    if ty.requires_grad:
        y.sum().backward()
        ty.sum().backward()
        assert float(x.grad) == t.grad.item()


@pytest.mark.parametrize("call", [lambda x: x.transpose(5, 5), lambda x: x.transpose(-3, -3),
                                  lambda x: x.transpose(0, 2), lambda x: x.max(dim=2), lambda x: x.argmax(-3),
                                  lambda x: x.size(2), lambda x: x.topk(1, dim=3), lambda x: x.squeeze(2)],
                         ids=["transpose(5, 5)", "transpose(-3, -3)", "transpose(0, 2)", "max(dim=2)", "argmax(-3)",
                              "size(2)", "topk(dim=3)", "squeeze(2)"])
def test_out_of_range_dims_are_refused_even_when_equal_or_in_pairs(call):
    with pytest.raises(IndexError, match="out of range"):
        call(Tensor(X))


def test_zero_dimensional_tensors_are_refused_by_cat_and_size():
    with pytest.raises(ValueError, match="0-d"):
        glassgrad.cat([Tensor(1.0), Tensor(2.0)])
    with pytest.raises(IndexError, match="0-d"):
        Tensor(1.0).size(0)


@pytest.mark.parametrize("name", ["sum", "mean", "max", "softmax", "log_softmax", "transpose"])
@pytest.mark.parametrize("axis", [True, 1.0, "1", np.float64(0.0)], ids=repr)
def test_axes_that_are_not_integers_are_refused(name, axis):
    f, _ = AXIS_FUNCTIONS[name]
    with pytest.raises(TypeError):
        f(Tensor(X), axis)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("axis", [(0,), [1], None], ids=repr)
def test_softmax_takes_one_axis(name, axis):
    f, _ = AXIS_FUNCTIONS[name]
    with pytest.raises(TypeError, match="one integer"):
        f(Tensor(X), axis)


@pytest.mark.parametrize("axis", [0, 1, np.int64(0), np.int64(-1)], ids=repr)
def test_max_along_a_numpy_integer_axis_is_max_along_that_int_axis(axis):
    ties = np.array([[1.0, 3.0, 3.0], [3.0, 3.0, 1.0], [3.0, 1.0, 3.0]])
    x = both(lambda x: x.max(axis=axis), lambda t: t.max(dim=int(axis))[0], data=ties)
    (g,) = glassgrad.grad(x.max(axis=axis).sum(), x)
    assert (g != 0).sum().item() == 3  # the gradient to one arg-max of each row


def test_max_over_tuples_of_numpy_integer_axes_shares_among_ties():
    ties = np.array([[1.0, 3.0, 3.0], [3.0, 3.0, 1.0]])
    x = Tensor(ties, requires_grad=True)
    x.max(axis=(np.int64(0), np.int64(1))).backward()
    np.testing.assert_array_equal(x.grad, (ties == 3.0) / 4.0)


@pytest.mark.parametrize("make", [
    lambda x: x.sum(axis=(0, 0)), lambda x: x.sum(axis=(0, -2)), lambda x: x.permute(0, 0),
    lambda x: x.max(axis=(1, -1)),
], ids=["sum (0, 0)", "sum (0, -2)", "permute (0, 0)", "max (1, -1)"])
def test_repeated_axes_are_refused(make):
    with pytest.raises(ValueError, match="repeat"):
        make(Tensor(X))


@pytest.mark.parametrize("name", ["sum", "mean", "max"])
@pytest.mark.parametrize("axis", [(), []], ids=repr)
def test_an_empty_tuple_of_axes_is_refused(name, axis):
    # torch reduces over every axis, numpy over none: either reading would be silently wrong for someone
    with pytest.raises(ValueError, match="axis=None"):
        getattr(Tensor(X), name)(axis=axis)


@pytest.mark.parametrize("shape", [(-2, 3), (-1, -1), (3, -3), (-9,)], ids=repr)
def test_reshape_refuses_negative_sizes_other_than_one_minus_one(shape):
    with pytest.raises(RuntimeError):
        torch.tensor(X).reshape(shape)
    with pytest.raises(ValueError, match="reshape"):
        Tensor(X).reshape(*shape)


@pytest.mark.parametrize("call", [lambda x: x.reshape(9.0), lambda x: x.reshape((3.0, 3)), lambda x: x.reshape(True, 9),
                                  lambda x: x.broadcast_to((2.0, 3, 3)), lambda x: x.transpose(1.0, 0)],
                         ids=["reshape(9.0)", "reshape((3.0, 3))", "reshape(True, 9)", "broadcast_to", "transpose"])
def test_sizes_and_axes_must_be_integers(call):
    with pytest.raises(TypeError, match="integer"):
        call(Tensor(X))


def test_numpy_integer_sizes_are_accepted():
    x = Tensor(X, requires_grad=True)
    assert x.reshape(np.int64(9)).shape == (9,)
    assert x.reshape((np.int32(1), np.int64(9))).shape == (1, 9)
    assert x.broadcast_to((np.int64(2), 3, 3)).shape == (2, 3, 3)


# --- numbers: numpy scalars, huge integers ----------------------------------------------------------------

@pytest.mark.parametrize("number", [np.bool_(True), np.float32(1.5), np.int64(3), np.float16(0.5), np.uint8(7),
                                    np.float64(2.5), np.int8(-3)], ids=repr)
def test_value_accepts_numpy_scalars_as_python_numbers(number):
    assert Value(number).data == float(number)
    assert type(Value(number).data) is float
    assert (Value(1.0) + number).data == 1.0 + float(number)
    assert (number * Value(2.0)).data == 2.0 * float(number)
    assert (Value(2.0) ** number).data == 2.0 ** float(number)
    x = Value(2.0)
    (x * x).backward(number)
    assert x.grad == 4.0 * float(number)


@pytest.mark.parametrize("make", [
    lambda: Value(10**400), lambda: Value(1.0) + 10**400, lambda: 10**400 + Value(1.0), lambda: Value(2.0) ** 10**400,
    lambda: (10**400) ** Value(1.0), lambda: Value(1.0).backward(10**400), lambda: Tensor(1.0) ** 10**400,
    lambda: Tensor(1.0) + 10**400, lambda: 10**400 * Tensor(1.0), lambda: Tensor([1.0, 10**400]),
    lambda: Tensor([1.0]) - [10**400], lambda: engine.linear([Value(1.0)], [10**400], Value(0.0)),
], ids=["Value()", "+", "radd", "**", "rpow", "backward", "Tensor **", "Tensor +", "rmul", "Tensor()", "list",
        "linear"])
def test_integers_too_big_for_a_float_are_a_value_error_naming_the_size(make):
    with pytest.raises(ValueError, match="does not fit a float64"):
        make()


# --- scalar sigmoid as torch -------------------------------------------------------------------------

@pytest.mark.parametrize("x", [-710.0, -745.0, -800.0, -709.0, -30.0, 0.0, 30.0, 710.0, -math.inf, math.inf])
def test_scalar_sigmoid_is_torchs(x):
    expected = torch.tensor(x, dtype=torch.float64).sigmoid().item()
    assert Value(x).sigmoid().data == pytest.approx(expected, rel=1e-15, abs=0.0)
    assert Tensor([x], dtype=np.float64).sigmoid().item() == pytest.approx(expected, rel=1e-15, abs=0.0)


# --- empty sizes, wrong shapes ---------------------------------------------------------------------------

@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.parametrize("x_shape", [(4, 0), (0,), (2, 3, 0)], ids=repr)
def test_linear_with_input_width_zero_has_gradients_as_torch(with_bias, x_shape):
    x, w = Tensor(np.zeros(x_shape), requires_grad=True), Tensor(np.zeros((3, 0)), requires_grad=True)
    b = Tensor(np.ones(3), requires_grad=True) if with_bias else None
    tx, tw = (torch.zeros(shape, dtype=torch.float64, requires_grad=True) for shape in (x_shape, (3, 0)))
    tb = torch.ones(3, dtype=torch.float64, requires_grad=True) if with_bias else None
    y, ty = linear(x, w, b), torch.nn.functional.linear(tx, tw, tb)
    np.testing.assert_array_equal(y.data, ty.detach().numpy())
    y.sum().backward()
    ty.sum().backward()
    assert x.grad.shape == x_shape and w.grad.shape == (3, 0)
    if with_bias:
        np.testing.assert_array_equal(b.grad, tb.grad.numpy())


@pytest.mark.parametrize(("weight", "bias"), [((3,), None), ((2, 3, 1), None), ((2, 3), (1,)), ((2, 3), (2, 1)),
                                              ((2, 3), (3,))], ids=repr)
def test_linear_refuses_weights_and_biases_of_the_wrong_shape(weight, bias):
    x = Tensor(np.ones((4, 3)), requires_grad=True)
    with pytest.raises(ValueError, match="linear"):
        linear(x, Tensor(np.ones(weight)), None if bias is None else Tensor(np.ones(bias)))


@pytest.mark.parametrize("targets", [[True, False], [math.nan, 0], [math.inf, 0], [2**70, 0], [0.5, 1], ["a", 0]],
                         ids=repr)
def test_cross_entropy_refuses_targets_that_are_not_class_numbers(targets):
    """Class indices are integers, as torch's (which says "expected target dtype to be Long")."""
    with pytest.raises(TypeError, match="cross_entropy: expected integer class indices"):
        cross_entropy(Tensor(np.ones((2, 3)), requires_grad=True), targets)
    try:
        theirs = torch.tensor(targets)
    except (TypeError, ValueError, RuntimeError, OverflowError):
        return  # torch cannot even make these a tensor
    with pytest.raises(RuntimeError, match="expected target dtype to be Long"):
        torch.nn.functional.cross_entropy(torch.ones(2, 3), theirs)


def test_cross_entropy_of_an_empty_batch_is_nan_as_torchs_and_bool_of_one_element_works():
    empty = glassgrad.tensor([], dtype=glassgrad.int64)
    ours = cross_entropy(Tensor(np.zeros((0, 3)), requires_grad=True), empty)
    theirs = torch.nn.functional.cross_entropy(torch.zeros(0, 3), torch.tensor([], dtype=torch.long))
    assert math.isnan(ours.item()) and math.isnan(theirs.item())
    with pytest.raises(TypeError, match="integer class indices"):  # [] is a float array, as torch.tensor([])
        cross_entropy(Tensor(np.zeros((0, 3)), requires_grad=True), [])
    assert bool(Tensor([0.0])) is False and bool(Tensor([[2.0]])) is True


# --- odd arguments to every public engine function: a clear error, never a raw one -------------------

def test_bad_arguments_found_by_the_sweep_below():
    with pytest.raises(TypeError, match="fn must return"):
        gradcheck(lambda x: 2.0, [Value(1.0)])
    with pytest.raises(TypeError, match="weight must be a Tensor"):
        linear(Tensor(np.ones((2, 3))), [[1.0, 2.0, 3.0]])
    with pytest.raises(TypeError, match="bias must be a Tensor"):
        linear(Tensor(np.ones((2, 3))), Tensor(np.ones((1, 3))), [1.0])
    with pytest.raises(TypeError, match=r"the input \(logits\) must be a Tensor"):
        cross_entropy([[1.0, 2.0]], [0])
    with pytest.raises(TypeError, match="linear"):
        engine.linear([Value(1.0)], [2.0], "b")
    assert engine.linear([2.0], [Value(3.0)], 1.0).data == 7.0  # numbers are constants, as in operators
    with pytest.raises(TypeError, match="zero_grads"):
        zero_grads([np.zeros(2)])
    with pytest.raises(TypeError, match="boolean"):
        Tensor([1.0, 2.0]).masked_fill([0.5, 0.0], 1.0)  # not taken as [True, False]
    with pytest.raises(ValueError, match="mask of shape"):
        Tensor([1.0, 2.0]).masked_fill(np.array([True, False, True]), 1.0)
    with pytest.raises(ValueError, match="does not fit"):
        Tensor([1.0, 2.0]).masked_fill(np.array([True, False]), 10**400)
    with pytest.raises(TypeError, match="dtype"):
        Tensor([1.0], dtype="a")  # without numpy's deprecation warning
    with pytest.raises(TypeError, match="boolean"):
        where(np.array([0.5, 0.0]), Tensor([1.0, 2.0]), 0.0)  # not taken as [True, False]
    with pytest.raises(ValueError, match="clamp: min"):
        Tensor([1.0]).clamp(10**400)


ODD = [None, "a", [], [1.0, 2.0], (), np.array([1, 2]), np.array(["x"]), 1j, decimal.Decimal("1.5"),
       fractions.Fraction(1, 3), 10**400, -(10**400), math.nan, math.inf, True, np.bool_(False), np.float32(2.0),
       np.int64(3), np.array(2.0), np.zeros((2, 3)), {}, object(), np.array([[1.0]]), -1, 0, 2, 5, (0, 1), [0, [1]],
       np.array([1.0, math.nan]), np.zeros((0,)), "value", "tensor", "tensor32", "empty tensor"]


def odd(a):
    """The odd argument itself, or a fresh node for the names of nodes."""
    made = {"value": lambda: Value(2.0), "tensor": lambda: Tensor([1.0, 2.0]),
            "tensor32": lambda: Tensor(np.ones((2, 3)), dtype=np.float32),
            "empty tensor": lambda: Tensor(np.zeros((0, 3)))}
    return made[a]() if isinstance(a, str) and a in made else a


def v():
    return Value(1.5)


def t():
    return Tensor(np.arange(6.0).reshape(2, 3) - 2.5, requires_grad=True)


OPERATORS = ["__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__", "__rtruediv__",
             "__pow__", "__rpow__"]
TENSOR_METHODS = ["__matmul__", "__rmatmul__", "__getitem__", "reshape", "transpose", "broadcast_to", "sum", "mean",
                  "max", "softmax", "log_softmax", "astype", "min", "argmax", "topk", "var", "std", "permute",
                  "squeeze", "unsqueeze", "flatten", "size", "clamp", "pow", "view"]
def method(make, name):
    """A call of `name` on a fresh node from `make`, with the odd argument."""
    return lambda a: getattr(make(), name)(a)


ENTRY_POINTS = {
    **{f"Value.{m}": method(v, m) for m in OPERATORS},
    **{f"Tensor.{m}": method(t, m) for m in OPERATORS + TENSOR_METHODS},
    "Tensor.masked_fill(mask)": lambda a: t().masked_fill(a, 1.0),
    "Tensor.masked_fill(value)": lambda a: t().masked_fill(np.ones((2, 3), bool), a),
    "Value()": Value,
    "Tensor()": Tensor,
    "Tensor(dtype=)": lambda a: Tensor([1.0], dtype=a),
    "Value.backward(gradient)": lambda a: (v() * 2.0).backward(a),
    "Value.backward(gradient, create_graph)": lambda a: (v() * 2.0).backward(a, create_graph=True),
    "Tensor.backward(gradient)": lambda a: (t() * 2.0).backward(a),
    "Tensor.backward(gradient, create_graph)": lambda a: (t() * 2.0).backward(a, create_graph=True),
    "grad(output)": lambda a: glassgrad.grad(a, [Value(1.0)]),
    "grad(inputs)": lambda a: glassgrad.grad(Value(1.0) * 2.0, a),
    "grad(grad_output)": lambda a: glassgrad.grad(t() * 2.0, t(), grad_output=a),
    "gradcheck(inputs)": lambda a: gradcheck(lambda *x: x[0] * 2.0, a),
    "gradcheck(fn)": lambda a: gradcheck(a, [Value(1.0)]),
    "gradcheck(fn's result)": lambda a: gradcheck(lambda x: a, [Value(1.0)]),
    "tensor.linear(x)": lambda a: linear(a, Tensor(np.ones((2, 3)), requires_grad=True)),
    "tensor.linear(weight)": lambda a: linear(t(), a),
    "tensor.linear(bias)": lambda a: linear(t(), Tensor(np.ones((2, 3))), a),
    "cross_entropy(logits)": lambda a: cross_entropy(a, [0, 1]),
    "cross_entropy(targets)": lambda a: cross_entropy(t(), a),
    "engine.linear(w)": lambda a: engine.linear(a, [1.0], Value(0.0)),
    "engine.linear(x)": lambda a: engine.linear([Value(1.0)], a, Value(0.0)),
    "engine.linear(b)": lambda a: engine.linear([Value(1.0)], [1.0], a),
    "Value(_children)": lambda a: Value(1.0, a, "+"),
    "Value(_op)": lambda a: Value(1.0, (Value(1.0), Value(2.0)), a),
    "zero_grads": zero_grads,
    "Tensor.clamp(max=)": lambda a: t().clamp(max=a),
    "Tensor.var(correction=)": lambda a: t().var(correction=a),
    "where(condition)": lambda a: where(a, t(), 0.0),
    "where(other)": lambda a: where(t().data > 0, t(), a),
    "maximum(other)": lambda a: maximum(t(), a),
    "cat(tensors)": lambda a: cat(a),
    "cat([t, other])": lambda a: cat([t(), a]),
    "cat(dim=)": lambda a: cat([t(), t()], dim=a),
}
CLEAR = (TypeError, ValueError, IndexError, RuntimeError, FloatingPointError)


@pytest.mark.parametrize("name", ENTRY_POINTS)
def test_odd_arguments_give_a_clear_error_from_glassgrad(name):
    """Each call either works or raises one of CLEAR from glassgrad's own code (a message that names the
    function and the argument), never a raw AttributeError, OverflowError or numpy's message."""
    package = str(Path(glassgrad.__file__).parent)
    raw = []
    for a in ODD:
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("error", DeprecationWarning)
                ENTRY_POINTS[name](odd(a))
        except CLEAR as error:
            origin = traceback.extract_tb(error.__traceback__)[-1].filename
            if not origin.startswith(package):
                raw.append((a, type(error).__name__, str(error)[:80], origin))
        except Exception as error:  # noqa: BLE001 - the test reports them all
            raw.append((a, type(error).__name__, str(error)[:80]))
    assert not raw, f"{name}: raw errors for {raw}"


# --- user-defined operations broadcast and promote as the built-in ones ---------------------------------

@glassgrad.op(derivative=lambda g, out, a, b: (g * b, g * a), name="user_mul")
def user_mul(a, b):
    return a * b


@pytest.mark.parametrize(("a", "b"), [((3,), ()), ((2, 1), (3,)), ((), (2, 2)), ((1, 3), (2, 1))], ids=repr)
@pytest.mark.parametrize("dtypes", [(np.float64, np.float64), (np.float32, np.float64), (np.float32, np.float32)],
                         ids=lambda d: "-".join(np.dtype(t).name for t in d))
def test_a_user_defined_operation_broadcasts_and_promotes_like_a_built_in_one(a, b, dtypes):
    rng = np.random.default_rng(0)
    da, db = rng.standard_normal(a), rng.standard_normal(b)
    grads = []
    for f in (operator.mul, user_mul):
        x, y = Tensor(da, requires_grad=True, dtype=dtypes[0]), Tensor(db, requires_grad=True, dtype=dtypes[1])
        out = f(x, y)
        (out * out).sum().backward()
        grads.append((out.data, x.grad, y.grad))
    for built_in, user in zip(*grads):
        assert built_in.shape == user.shape and built_in.dtype == user.dtype
        np.testing.assert_array_equal(built_in, user)


def test_a_user_defined_operation_with_a_number_keeps_the_tensors_dtype():
    x = Tensor([1.0, 2.0], requires_grad=True, dtype=np.float32)
    user_mul(x, 2.0).sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [2.0, 2.0]
    with pytest.raises(ValueError, match="user_mul: shapes"):
        user_mul(Tensor([1.0, 2.0]), Tensor([1.0, 2.0, 3.0]))
