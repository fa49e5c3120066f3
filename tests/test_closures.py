"""micrograd's way of defining an operation, a `_backward` closure set on its result, runs on glassgrad:
the lecture's own engine-building code, checked against micrograd itself and against PyTorch."""

from __future__ import annotations

import math
import random

import pytest
import torch
from micrograd.engine import Value as MicrogradValue

import glassgrad
from glassgrad import Value
from glassgrad.autograd.gradcheck import gradcheck
from glassgrad.viz.backprop_page import stepper


class Lecture(Value):
    """The lecture's engine, typed along with it: each operation makes `out` from its inputs and
    sets `out._backward`, a closure that adds `out.grad` times the local derivative to each input."""

    def __add__(self, other):
        other = other if isinstance(other, Value) else Lecture(other)
        out = Lecture(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += 1.0 * out.grad
            other.grad += 1.0 * out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Lecture(other)
        out = Lecture(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, other):
        out = Lecture(self.data**other, (self,), f"**{other}")

        def _backward():
            self.grad += other * self.data ** (other - 1) * out.grad

        out._backward = _backward
        return out

    def tanh(self):
        t = (math.exp(2 * self.data) - 1) / (math.exp(2 * self.data) + 1)
        out = Lecture(t, (self,), "tanh")

        def _backward():
            self.grad += (1 - t**2) * out.grad

        out._backward = _backward
        return out

    def exp(self):
        out = Lecture(math.exp(self.data), (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def relu(self):  # micrograd's name for it, which glassgrad's operations do not know
        out = Lecture(max(self.data, 0.0), (self,), "ReLU")

        def _backward():
            self.grad += (out.data > 0) * out.grad

        out._backward = _backward
        return out

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def __truediv__(self, other):
        return self * other**-1


STEPS = (
    lambda a, b: a + b,
    lambda a, b: a * b,
    lambda a, b: a - b,
    lambda a, b: a * 0.5 + 1.5,
    lambda a, b: a.relu(),
    lambda a, b: a**2,
    lambda a, b: (a * 0.3).tanh(),  # the last two are not in the micrograd package
    lambda a, b: (a * 0.2).exp(),
)


def expression(xs, rng_seed, kinds):
    """A random expression of the lecture's operations over the Values xs (each used several times)."""
    rng = random.Random(rng_seed)
    pool = list(xs)
    for _ in range(12):
        a, b = rng.choice(pool), rng.choice(pool)
        pool.append(STEPS[rng.randrange(kinds)](a, b))
    total = pool[-1]
    for v in pool[len(xs):-1]:
        total = total + v * 0.1
    return total


def torch_expression(xs, rng_seed, kinds):
    class T:  # torch tensors with the lecture's method names
        def __init__(self, t):
            self.t = t

        def __add__(self, o):
            return T(self.t + (o.t if isinstance(o, T) else o))

        def __mul__(self, o):
            return T(self.t * (o.t if isinstance(o, T) else o))

        def __sub__(self, o):
            return T(self.t - (o.t if isinstance(o, T) else o))

        def __pow__(self, k):
            return T(self.t**k)

        def tanh(self):
            return T(self.t.tanh())

        def exp(self):
            return T(self.t.exp())

        def relu(self):
            return T(self.t.relu())

    return expression([T(x) for x in xs], rng_seed, kinds).t


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("kinds", [6, len(STEPS)])
def test_the_lectures_engine_gives_pytorchs_and_micrograds_gradients(seed, kinds):
    rng = random.Random(100 + seed)
    numbers = [rng.uniform(-2, 2) for _ in range(4)]
    ours = [Lecture(x) for x in numbers]
    out = expression(ours, seed, kinds)
    out.backward()
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in numbers]
    t_out = torch_expression(ts, seed, kinds)
    t_out.backward()
    assert out.data == pytest.approx(t_out.item(), rel=1e-12)
    for v, t in zip(ours, ts):
        assert v.grad == pytest.approx(0.0 if t.grad is None else t.grad.item(), rel=1e-9, abs=1e-12)
    if kinds < len(STEPS):
        theirs = [MicrogradValue(x) for x in numbers]
        expression(theirs, seed, kinds).backward()
        assert [v.grad for v in ours] == pytest.approx([m.grad for m in theirs], rel=1e-12, abs=1e-15)


def test_the_lectures_neuron_through_closures():
    x1, x2, w1, w2 = Lecture(2.0), Lecture(0.0), Lecture(-3.0), Lecture(1.0)
    b = Lecture(6.8813735870195432)
    n = x1 * w1 + x2 * w2 + b
    o = n.tanh()
    o.backward()
    assert (round(o.data, 4), x1.grad, w1.grad, x2.grad, w2.grad) == pytest.approx((0.7071, -1.5, 1.0, 0.5, 0.0))
    e = (2 * n).exp()
    o2 = (e - 1) / (e + 1)  # tanh written out, as the lecture does next
    for v in (x1, x2, w1, w2, b):
        v.grad = 0.0
    o2.backward()
    assert o2.data == pytest.approx(o.data, rel=1e-12) and w1.grad == pytest.approx(1.0, rel=1e-9)


def test_calling_the_closures_by_hand_root_first_as_the_lecture_does():
    a, b = Lecture(2.0), Lecture(-3.0)
    e = a * b
    d = e + Lecture(10.0)
    L = d * Lecture(-2.0)
    assert L._backward is not None and L._backward.__name__ == "_backward"  # the closure set, as it was set
    L.grad = 1.0
    for node in (L, d, e):
        node._backward()
    assert (a.grad, b.grad, e.grad, d.grad) == (6.0, -4.0, -2.0, -2.0)


def plus(overwrite: bool):
    """`a + b` written the lecture's way; with `overwrite` the bug the lecture shows (`=` for `+=`)."""

    def add(self, other):
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            if overwrite:
                self.grad = 1.0 * out.grad
                other.grad = 1.0 * out.grad
            else:
                self.grad += 1.0 * out.grad
                other.grad += 1.0 * out.grad

        out._backward = _backward
        return out

    return add


@pytest.mark.parametrize(("overwrite", "expected"), [(True, 1.0), (False, 2.0)])
def test_the_a_plus_a_bug_and_its_fix(overwrite, expected):
    a = Value(3.0)
    b = plus(overwrite)(a, a)
    b.backward()
    assert a.grad == expected  # micrograd gives the same: the closure sets a.grad twice
    m = MicrogradValue(3.0)
    mb = MicrogradValue(6.0, (m, m), "+")

    def _backward():
        if overwrite:
            m.grad = mb.grad
        else:
            m.grad += mb.grad
            m.grad += mb.grad

    mb._backward = _backward
    mb.backward()
    assert m.grad == expected


@pytest.mark.parametrize("seed", range(5))
def test_closures_mixed_with_glassgrads_operations_in_every_backward(seed):
    rng = random.Random(seed)
    xs = [rng.uniform(-1, 1) for _ in range(3)]
    ours = [Value(x) for x in xs]
    mine = plus(False)
    out = (mine(ours[0] * ours[1], ours[2].tanh()) * ours[0]).exp()
    out = mine(out, ours[1] ** 2)
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    t_out = ((ts[0] * ts[1] + ts[2].tanh()) * ts[0]).exp() + ts[1] ** 2
    expected = torch.autograd.grad(t_out, ts)
    assert glassgrad.grad(out, ours) == pytest.approx([t.item() for t in expected], rel=1e-12)
    assert all(v.grad == 0.0 for v in ours)  # grad() read the closures' shares and left every .grad as it was
    out.backward()
    out.backward()  # gradients accumulate, as for every operation
    assert [v.grad for v in ours] == pytest.approx([2 * t.item() for t in expected], rel=1e-12)
    assert gradcheck(lambda a, b, c: mine(a * b, c.tanh()), [Value(x) for x in xs])
    with glassgrad.detect_anomaly():  # the watched backward pass calls the closure too
        assert glassgrad.grad(out, ours) == pytest.approx([t.item() for t in expected], rel=1e-12)


def test_the_stepper_replays_a_closure_nodes_chain_rule():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = plus(False)(a * b, b)
    c.label = "c"
    run = stepper(c).run
    backward = [s for s in run["steps"] if s["phase"] == "backward"]
    assert backward[1]["title"].startswith("chain rule through c")
    assert [g[1] for g in backward[1]["grads"]] == ["1.0000", "1.0000"]
    assert run["nodes"][[n["name"] for n in run["nodes"]].index("b")]["grad"] == "3.0000"  # a + 1


def test_a_closure_has_no_second_derivative_and_says_to_use_glassgrad_op():
    a = Value(2.0)
    out = Lecture(2.0) * a
    with pytest.raises(TypeError, match=r"`_backward` closure.*create_graph=True.*glassgrad\.op"):
        glassgrad.grad(out, [a], create_graph=True)


def test_an_unknown_operation_needs_a_closure():
    a = Value(2.0)
    mystery = Value(8.0, (a,), "mystery")
    with pytest.raises(ValueError, match=r"_op='mystery'.*no operation of that name.*no `_backward` closure"):
        mystery.backward()
    mystery._backward = lambda: setattr(a, "grad", a.grad + 12.0 * mystery.grad)
    mystery.backward()
    assert a.grad == 12.0


def test_a_closure_that_is_not_a_function_is_refused():
    with pytest.raises(TypeError, match=r"expected a function of no arguments, got str"):
        (Value(2.0) * 3)._backward = "not a function"


class Typed(Value):
    """micrograd's `__init__` typed along: every node starts with a closure that does nothing."""

    def __init__(self, data, _children=(), _op="", label=""):
        super().__init__(data, _children, _op, label)
        self._backward = lambda: None

    __add__ = plus(False)

    def __neg__(self):  # forgotten: no closure set, so no gradient flows through it, as in micrograd
        return Typed(-self.data, (self,), "neg")


def test_micrograds_init_with_its_do_nothing_closure_runs():
    a, b = Typed(2.0), Typed(5.0)
    out = a + -b
    out.backward()
    assert out.data == -3.0 and (a.grad, b.grad) == (1.0, 0.0)
    m = MicrogradValue(5.0)
    mneg = MicrogradValue(-5.0, (m,), "neg")  # micrograd's own node with no closure set
    (MicrogradValue(2.0) + mneg).backward()
    assert m.grad == b.grad
