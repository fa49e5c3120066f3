"""Every scalar operation's first and second derivatives against finite differences (no PyTorch)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import glassgrad
from glassgrad import Tensor, Value
from glassgrad._tensor import functional as tensor_ops
from glassgrad.autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck
from glassgrad.engine import linear
from glassgrad.nn import functional as nn_functional

UNARY = {
    "neg": (lambda x: -x, [-1.3, 0.2, 2.5]),
    "exp": (lambda x: x.exp(), [-2.0, 0.3, 1.5]),
    "log": (lambda x: x.log(), [0.2, 1.0, 3.5]),
    "tanh": (lambda x: x.tanh(), [-1.2, 0.1, 2.0]),
    "sigmoid": (lambda x: x.sigmoid(), [-3.0, 0.4, 2.5]),
    "relu": (lambda x: x.relu(), [-1.5, 0.7, 2.0]),  # away from the kink at 0
    "**2": (lambda x: x**2, [-1.3, 0.4, 1.7]),
    "**3": (lambda x: x**3, [-1.3, 0.4, 1.7]),
    "**0.5": (lambda x: x**0.5, [0.3, 1.0, 2.2]),
    "**-1": (lambda x: x**-1, [-1.3, 0.4, 1.7]),
    "**-2.5": (lambda x: x**-2.5, [0.4, 1.0, 1.7]),
    "**0": (lambda x: x**0, [-1.3, 0.4, 1.7]),
    "2**x": (lambda x: 2.0**x, [-1.3, 0.4, 1.7]),
    "3-x": (lambda x: 3.0 - x, [-1.3, 0.4]),
    "3/x": (lambda x: 3.0 / x, [-1.3, 0.4, 1.7]),
    "x+2": (lambda x: x + 2.0, [-1.3, 0.4]),
    "x*x": (lambda x: x * x, [-1.3, 0.4]),
}

BINARY = {
    "+": (lambda a, b: a + b, [(-1.3, 0.4), (2.0, 3.0)]),
    "-": (lambda a, b: a - b, [(-1.3, 0.4), (2.0, 3.0)]),
    "*": (lambda a, b: a * b, [(-1.3, 0.4), (2.0, 3.0)]),
    "/": (lambda a, b: a / b, [(-1.3, 0.4), (2.0, -3.0), (0.5, 1.5)]),
    "**": (lambda a, b: a**b, [(0.4, 1.3), (2.0, -0.7), (1.5, 2.5)]),  # positive bases
    "**int": (lambda a, b: a**b, [(-1.5, 2.0), (-0.8, 3.0)]),  # a negative base, whole exponent
}


def cases(table):
    return [pytest.param(fn, point, id=f"{name}@{point}") for name, (fn, points) in table.items() for point in points]


@pytest.mark.parametrize(("fn", "x"), cases(UNARY))
def test_unary_operations(fn, x):
    assert gradcheck(fn, [Value(x)])
    assert gradgradcheck(fn, [Value(x)])


@pytest.mark.parametrize(("fn", "ab"), cases(BINARY))
def test_binary_operations(fn, ab):
    inputs = [Value(v) for v in ab]
    if ab[0] < 0:  # d(a^b)/db = a^b ln a is undefined for a < 0: check the base only
        assert gradcheck(lambda a: fn(a, inputs[1]), inputs[:1])
        assert gradgradcheck(lambda a: fn(a, inputs[1]), inputs[:1])
    else:
        assert gradcheck(fn, inputs)
        assert gradgradcheck(fn, inputs)


@pytest.mark.parametrize("n", [1, 3])
@pytest.mark.parametrize("offset", [0.0, -0.9])
def test_fused_linear(n, offset):
    inputs = [Value(0.3 * i + offset) for i in range(2 * n + 1)]

    def neuron(*v):
        return linear(list(v[:n]), list(v[n : 2 * n]), v[-1]).tanh()

    assert gradcheck(neuron, inputs)
    assert gradgradcheck(neuron, inputs)


def test_a_composition_with_reuse_and_several_outputs():
    def fn(a, b):
        h = (a * b + a.exp()).tanh()
        return [h * h / (1.0 + b**2), (h - a).sigmoid().log()]

    assert gradcheck(fn, [Value(0.3), Value(-0.8)])
    assert gradgradcheck(fn, [Value(0.3), Value(-0.8)])


def sine_with_rule(rule):
    """A new operation, added as the engine documents: sin x, with the given derivative rule."""
    return glassgrad.op(derivative=rule, name="my_sin")(math.sin)


def numbers_in(message):
    return dict(re.findall(r"(analytic|numeric|difference) (-?[\d.e+-]+)", message))


def test_catches_a_wrong_rule_and_names_the_worst_element():
    wrong = sine_with_rule(lambda g, out, a: (g * math.sin(a),))  # should be cos a
    x = 0.7
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a, b: a * b + wrong(b), [Value(1.0), Value(x)])
    message = str(info.value)
    assert message.startswith("gradcheck: d output / d input 1: ")  # input 0 is right
    found = numbers_in(message)
    assert float(found["analytic"]) == pytest.approx(1.0 + math.sin(x), abs=1e-12)
    assert float(found["numeric"]) == pytest.approx(1.0 + math.cos(x), abs=1e-8)
    assert float(found["difference"]) == pytest.approx(math.cos(x) - math.sin(x), abs=1e-8)
    assert isinstance(info.value, AssertionError)


def test_a_correct_hand_made_rule_passes():
    sin = sine_with_rule(lambda g, out, a: (g * math.cos(a),))  # floats only: first order
    assert gradcheck(lambda a, b: sin(a * b), [Value(0.7), Value(-1.2)])


def test_gradgradcheck_catches_a_rule_that_breaks_the_graph():
    """The rule of x^2 gives 2x as a float even for Values: right first derivative, no second."""
    square = glassgrad.op(derivative=lambda g, out, a: (g * 2.0 * float(a),), name="square")(lambda x: x**2)

    assert gradcheck(square, [Value(1.5)])
    with pytest.raises(GradcheckError) as info:
        gradgradcheck(square, [Value(1.5)])
    message = str(info.value)
    assert message.startswith("gradgradcheck: d (d output / d input 0) / d input 0: analytic 0.0, numeric ")
    assert float(numbers_in(message)["numeric"]) == pytest.approx(2.0, abs=1e-6)


def test_tolerances_are_respected():
    slightly_off = sine_with_rule(lambda g, out, a: (g * math.cos(a) * (1 + 1e-4),))
    assert gradcheck(slightly_off, [Value(0.3)])  # within rtol = 1e-3
    with pytest.raises(GradcheckError):
        gradcheck(slightly_off, [Value(0.3)], atol=1e-9, rtol=1e-6)


def test_inputs_are_left_as_they_were():
    x = Value(0.3)
    gradcheck(lambda a: a.exp(), [x])
    assert x.data == 0.3 and x.grad == 0.0


# Tensors: every operation, with broadcasting, keepdims, batches and repeated indices.

rng = np.random.default_rng(2024)


def t(*shape, low=-1.5, high=1.5):
    return lambda: Tensor(rng.uniform(low, high, size=shape), requires_grad=True)


def away_from_zero(*shape):
    return lambda: Tensor(rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.2, 1.5, size=shape), requires_grad=True)


def positive(*shape):
    return t(*shape, low=0.3, high=2.0)


TENSOR_OPS = {
    "+ broadcast": (lambda a, b: a + b, [t(2, 3), t(3)]),
    "+ both ways": (lambda a, b: a + b, [t(2, 1), t(1, 3)]),
    "+ number": (lambda a: 2.0 + a, [t(2, 2)]),
    "- broadcast": (lambda a, b: a - b, [t(2, 3), t(2, 1)]),
    "number -": (lambda a: 1.0 - a, [t(3)]),
    "* broadcast": (lambda a, b: a * b, [t(3), t(2, 3)]),
    "* reuse": (lambda a: a * a * a, [t(2, 3)]),
    "/ broadcast": (lambda a, b: a / b, [t(2, 3), away_from_zero(1, 3)]),
    "number /": (lambda a: 2.0 / a, [away_from_zero(4)]),
    "** tensor": (lambda a, b: a**b, [positive(2, 3), t(3)]),
    "**2": (lambda a: a**2, [t(2, 3)]),
    "**3": (lambda a: a**3, [t(4)]),
    "**0.5": (lambda a: a**0.5, [positive(2, 2)]),
    "**-1.5": (lambda a: a**-1.5, [positive(3)]),
    "number **": (lambda a: 2.0**a, [t(3)]),
    "@ matrix": (lambda a, b: a @ b, [t(2, 3), t(3, 4)]),
    "@ batched": (lambda a, b: a @ b, [t(2, 2, 3), t(3, 2)]),
    "@ batched both": (lambda a, b: a @ b, [t(2, 2, 3), t(2, 3, 2)]),
    "@ vector-matrix": (lambda a, b: a @ b, [t(3), t(3, 2)]),
    "@ matrix-vector": (lambda a, b: a @ b, [t(2, 3), t(3)]),
    "@ vector-vector": (lambda a, b: a @ b, [t(3), t(3)]),
    "neg": (lambda a: -a, [t(2, 3)]),
    "exp": (lambda a: a.exp(), [t(2, 3)]),
    "log": (lambda a: a.log(), [positive(2, 3)]),
    "tanh": (lambda a: a.tanh(), [t(2, 3)]),
    "sigmoid": (lambda a: a.sigmoid(), [t(2, 3, low=-3, high=3)]),
    "relu": (lambda a: a.relu(), [away_from_zero(2, 3)]),
    "sum": (lambda a: a.sum(), [t(2, 3)]),
    "sum axis": (lambda a: a.sum(axis=0), [t(2, 3)]),
    "sum axes keepdims": (lambda a: a.sum(axis=(0, 2), keepdims=True), [t(2, 3, 2)]),
    "mean": (lambda a: a.mean(), [t(2, 3)]),
    "mean axis keepdims": (lambda a: a.mean(axis=1, keepdims=True), [t(2, 3)]),
    "max": (lambda a: a.max(), [t(2, 3)]),
    "max axis": (lambda a: a.max(axis=1), [t(3, 4)]),
    "max axis keepdims": (lambda a: a.max(axis=0, keepdims=True), [t(3, 4)]),
    "reshape": (lambda a: a.reshape(3, 2) * Tensor(np.arange(6.0).reshape(3, 2)), [t(2, 3)]),
    "transpose": (lambda a: a.transpose(1, 0, 2), [t(2, 3, 2)]),
    ".T": (lambda a, b: a.T @ b, [t(3, 2), t(3, 2)]),
    "broadcast_to": (lambda a: a.broadcast_to((2, 3)), [t(3)]),
    "index int": (lambda a: a[1], [t(3, 2)]),
    "index slice": (lambda a: a[:, 1:3], [t(2, 4)]),
    "index repeated rows": (lambda a: a[[0, 2, 0, 0]], [t(3, 2)]),
    "index array pairs": (lambda a: a[np.array([1, 1, 0]), np.array([0, 0, 1])], [t(2, 2)]),
    "softmax": (lambda a: a.softmax(axis=-1), [t(2, 3)]),
    "softmax axis 0": (lambda a: a.softmax(axis=0), [t(3, 2)]),
    "log_softmax": (lambda a: a.log_softmax(axis=1), [t(2, 4)]),
    "cross_entropy": (lambda z: nn_functional.cross_entropy(z, [2, 0, 1]), [t(3, 4)]),
    "linear": (lambda x, w, b: tensor_ops.linear(x, w, b), [t(4, 3), t(2, 3), t(2)]),
    "linear without bias": (lambda x, w: tensor_ops.linear(x, w), [t(3), t(2, 3)]),
}


@pytest.mark.parametrize(("fn", "makers"), [pytest.param(f, m, id=name) for name, (f, m) in TENSOR_OPS.items()])
def test_tensor_operations(fn, makers):
    inputs = [make() for make in makers]
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


def test_tensor_constant_inputs_are_not_checked():
    a, c = Tensor([1.0, 2.0], requires_grad=True, dtype=np.float64), Tensor([3.0, -1.0])
    assert gradcheck(lambda a, c: (a * c).sum(), [a, c])


def test_tensor_inputs_must_be_float64():
    x = Tensor([1.0, 2.0], requires_grad=True, dtype=np.float32)
    with pytest.raises(ValueError, match="gradcheck: input 0 is float32; finite differences need float64 inputs"):
        gradcheck(lambda a: a.exp(), [x])


def test_catches_a_wrong_tensor_rule_at_one_element():
    """sin with a rule that is right except at element [1, 2]: the message points there."""
    blunder = np.zeros((2, 3))
    blunder[1, 2] = 0.5

    def sin(x):
        out = Tensor(np.sin(x.data))
        out._op, out._prev, out.requires_grad = "sin", (x,), True
        out._rule = lambda g, out, a: (g * (np.cos(a) + blunder),)
        return out

    x = Tensor(rng.uniform(-1, 1, size=(2, 3)), requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        gradcheck(sin, [x])
    message = str(info.value)
    assert message.startswith("gradcheck: d output[1, 2] / d input 0[1, 2]: ")
    found = numbers_in(message)
    assert float(found["analytic"]) == pytest.approx(math.cos(x.data[1, 2]) + 0.5, abs=1e-12)
    assert float(found["numeric"]) == pytest.approx(math.cos(x.data[1, 2]), abs=1e-8)


def test_gradcheck_refuses_inputs_it_cannot_check():
    with pytest.raises(TypeError, match="input 0 is float 2.0; expected a Value or a Tensor"):
        gradcheck(lambda x: x * x, [2.0])
    with pytest.raises(ValueError, match="no input requires a gradient"):
        gradcheck(lambda x: (x * x).sum(), [Tensor([1.0, 2.0], dtype=np.float64)])
