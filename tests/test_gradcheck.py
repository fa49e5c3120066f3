"""Every scalar operation's first and second derivatives against finite differences (no PyTorch)."""

from __future__ import annotations

import math
import re

import pytest

from glassgrad import Value
from glassgrad.engine import linear
from glassgrad.gradcheck import GradcheckError, gradcheck, gradgradcheck

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
    """A new operation built by hand: sin x with the given derivative rule."""

    def sin(x):
        out = Value(math.sin(x.data), (x,), "sin")
        out._rule = rule
        return out

    return sin


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

    def square(x):
        out = Value(x.data**2, (x,), "square")
        out._rule = lambda g, out, a: (g * 2.0 * float(a),)
        return out

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
