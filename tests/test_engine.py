"""The scalar engine against PyTorch float64, the lecture's numbers, and its own guarantees."""

from __future__ import annotations

import math
import random

import pytest
import torch

import glassgrad
from glassgrad import Value, grad
from glassgrad.engine import linear

pytestmark = pytest.mark.usefixtures("torch_float64")  # PyTorch float64 for these tests only


def same(a: float, b: float, rel: float = 1e-12, abs_: float = 1e-12) -> bool:
    """Equal within tolerance, with NaN equal to NaN and infinities equal by sign."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


def torch_grads(fn, *xs: float) -> tuple[float, list[float]]:
    ts = [torch.tensor(x, requires_grad=True) for x in xs]
    out = fn(*ts)
    out.backward()
    return out.item(), [t.grad.item() if t.grad is not None else 0.0 for t in ts]


def glass_grads(fn, *xs: float) -> tuple[float, list[float]]:
    vs = [Value(x) for x in xs]
    out = fn(*vs)
    out.backward()
    return out.data, [v.grad for v in vs]


def assert_matches_torch(fn, *xs: float, torch_fn=None) -> None:
    value, grads = glass_grads(fn, *xs)
    want_value, want_grads = torch_grads(torch_fn or fn, *xs)
    assert same(value, want_value), (xs, value, want_value)
    for got, want in zip(grads, want_grads):
        assert same(got, want), (xs, grads, want_grads)


# --- the lecture's examples -------------------------------------------------------------


def test_lecture_expression():
    a, b, c, f = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c"), Value(-2.0, label="f")
    e = a * b
    d = e + c
    L = d * f
    L.backward()
    assert L.data == -8.0
    assert (L.grad, f.grad, d.grad, e.grad, c.grad, a.grad, b.grad) == (1.0, 4.0, -2.0, -2.0, -2.0, 6.0, -4.0)


def lecture_neuron(tanh_from_exp: bool):
    x1, x2, w1, w2 = Value(2.0), Value(0.0), Value(-3.0), Value(1.0)
    b = Value(6.8813735870195432)
    n = x1 * w1 + x2 * w2 + b
    if tanh_from_exp:
        e = (2 * n).exp()
        o = (e - 1) / (e + 1)
    else:
        o = n.tanh()
    o.backward()
    return o, x1, x2, w1, w2


@pytest.mark.parametrize("tanh_from_exp", [False, True])
def test_lecture_neuron(tanh_from_exp):
    o, x1, x2, w1, w2 = lecture_neuron(tanh_from_exp)
    assert o.data == pytest.approx(0.7071067811865476, abs=1e-12)
    assert x1.grad == pytest.approx(-1.5, abs=1e-12)
    assert w1.grad == pytest.approx(1.0, abs=1e-12)
    assert x2.grad == pytest.approx(0.5, abs=1e-12)
    assert w2.grad == pytest.approx(0.0, abs=1e-12)


def test_lecture_manual_backward_calls():
    """The lecture calls each node's `_backward()` by hand, root first, before writing backward()."""
    x1, x2, w1, w2, b = Value(2.0), Value(0.0), Value(-3.0), Value(1.0), Value(6.8813735870195432)
    x1w1, x2w2 = x1 * w1, x2 * w2
    s = x1w1 + x2w2
    n = s + b
    o = n.tanh()
    o.grad = 1.0
    for node in (o, n, s, x1w1, x2w2):
        node._backward()
    assert (x1.grad, w1.grad, x2.grad, w2.grad) == pytest.approx((-1.5, 1.0, 0.5, 0.0), abs=1e-12)


def test_micrograd_attributes():
    a, b = Value(2.0, label="a"), Value(3.0)
    c = a * b + 1
    assert c._op == "+" and c._prev[0]._op == "*" and c._prev[0]._prev == (a, b)
    assert c._prev[1].data == 1.0 and a.label == "a" and a.grad == 0.0
    assert (a**2)._op == "**2" and (a**2)._prev == (a,)
    assert repr(Value(2.0)) == "Value(data=2.0, grad=0.0)"


# --- every operation against torch -------------------------------------------------------

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
}
UNARY = {
    "neg": (lambda a: -a, lambda t: -t),
    "exp": (lambda a: a.exp(), torch.exp),
    "log": (lambda a: a.log(), torch.log),
    "tanh": (lambda a: a.tanh(), torch.tanh),
    "relu": (lambda a: a.relu(), torch.relu),
    "sigmoid": (lambda a: a.sigmoid(), torch.sigmoid),
}
POINTS = [-2.5, -1.0, -0.3, 0.0, 0.7, 1.0, 2.0, 3.5]
EDGES = [0.0, -0.0, 1e-300, -1e-300, 1e300, -1e300, math.inf, -math.inf, math.nan, 1000.0, -1000.0]


@pytest.mark.parametrize("name", BINARY)
def test_binary_ops_match_torch(name):
    op = BINARY[name]
    for a in POINTS + EDGES:
        for b in POINTS + EDGES:
            assert_matches_torch(op, a, b)
            # a number on either side: the number is a constant, its gradient is not compared
            got = op(Value(a), b)
            want = op(torch.tensor(a), b)
            assert same(got.data, want.item()), (name, a, b)
            got = op(a, Value(b))
            want = op(a, torch.tensor(b))
            assert same(got.data, want.item()), (name, a, b)


@pytest.mark.parametrize("name", BINARY)
def test_number_on_either_side_gradients(name):
    op = BINARY[name]
    for a in POINTS:
        for k in (-2.0, -1.0, 0.0, 0.5, 2.0, 3.0):
            assert_matches_torch(lambda x, k=k: op(x, k), a)
            assert_matches_torch(lambda x, k=k: op(k, x), a, torch_fn=lambda t, k=k: op(torch.tensor(k), t))


@pytest.mark.parametrize("name", UNARY)
def test_unary_ops_match_torch(name):
    mine, theirs = UNARY[name]
    for a in POINTS + EDGES:
        assert_matches_torch(mine, a, torch_fn=theirs)


def test_ieee_edge_values():
    assert Value(1000.0).exp().data == math.inf
    assert Value(0.0).log().data == -math.inf
    assert math.isnan(Value(-1.0).log().data)
    assert Value(1000.0).tanh().data == 1.0
    assert (Value(1.0) / 0.0).data == math.inf
    assert (Value(0.0) ** -1).data == math.inf
    assert math.isnan((Value(-8.0) ** (1 / 3)).data)
    assert (Value(10.0) ** 400).data == math.inf


def test_reuse_accumulates():
    a = Value(3.0)
    b = a + a
    b.backward()
    assert a.grad == 2.0
    assert_matches_torch(lambda x: x * x * x + x / (x + 1.0), 1.7)
    assert_matches_torch(lambda x, y: (x * y + x).tanh() * (x - y) ** 2, 0.4, -1.3)


def test_linear_op_matches_torch():
    rng = random.Random(0)
    w = [rng.uniform(-1, 1) for _ in range(5)]
    x = [rng.uniform(-1, 1) for _ in range(5)]

    def mine(*v):
        return linear(list(v[:5]), list(v[5:10]), v[10]).tanh()

    def theirs(*t):
        return (sum(wi * xi for wi, xi in zip(t[:5], t[5:10])) + t[10]).tanh()

    assert_matches_torch(mine, *w, *x, 0.3, torch_fn=theirs)
    with pytest.raises(ValueError, match="3 weights but 2 inputs"):
        linear([Value(1.0)] * 3, [1.0, 2.0], Value(0.0))


# --- random graphs with shared subexpressions -----------------------------------------------


def random_program(rng: random.Random, n_inputs: int, n_ops: int):
    """A list of (op, operand indices / constant) steps over a growing pool of intermediate results."""
    steps = []
    pool = n_inputs
    for _ in range(n_ops):
        kind = rng.choice(["add", "sub", "mul", "div", "pow", "const", "neg", "exp", "log", "tanh", "relu", "sigmoid"])
        i, j = rng.randrange(pool), rng.randrange(pool)
        steps.append((kind, i, j, rng.choice([-2.0, -0.5, 0.5, 1.5, 2.0, 3.0])))
        pool += 1
    return steps


def run_program(steps, inputs, lib):
    pool = list(inputs)
    for kind, i, j, k in steps:
        a, b = pool[i], pool[j]
        if kind in BINARY:
            # keep the graph finite most of the time: powers of |a| + 1 with a bounded exponent
            if kind == "pow":
                r = (lib["abs1"](a)) ** lib["clip"](b)
            elif kind == "div":
                r = a / (lib["abs1"](b))
            else:
                r = BINARY[kind](a, b)
        elif kind == "const":
            r = a * k + k
        elif kind == "log":
            r = lib["abs1"](a).log() if lib["is_value"] else torch.log(lib["abs1"](a))
        elif kind == "exp":
            r = lib["tanh"](a).exp() if lib["is_value"] else torch.exp(torch.tanh(a))
        else:
            r = UNARY[kind][0](a) if lib["is_value"] else UNARY[kind][1](a)
        pool.append(r)
    return sum(pool[len(inputs) :], pool[0] * 0.0)


GLASS = {
    "is_value": True,
    "abs1": lambda v: v.sigmoid() + 1.0,
    "clip": lambda v: v.tanh() * 2.0,
    "tanh": lambda v: v.tanh(),
}
TORCH = {
    "is_value": False,
    "abs1": lambda t: torch.sigmoid(t) + 1.0,
    "clip": lambda t: torch.tanh(t) * 2.0,
    "tanh": torch.tanh,
}


@pytest.mark.parametrize("seed", range(40))
def test_random_graphs_match_torch(seed):
    rng = random.Random(seed)
    steps = random_program(rng, 4, rng.randrange(5, 40))
    xs = [rng.uniform(-2, 2) for _ in range(4)]
    vs = [Value(x) for x in xs]
    out = run_program(steps, vs, GLASS)
    out.backward()
    ts = [torch.tensor(x, requires_grad=True) for x in xs]
    tout = run_program(steps, ts, TORCH)
    tout.backward()
    assert same(out.data, tout.item(), rel=1e-10, abs_=1e-10)
    for v, t in zip(vs, ts):
        want = t.grad.item() if t.grad is not None else 0.0
        assert same(v.grad, want, rel=1e-9, abs_=1e-10), (seed, v.grad, want)


# --- engine guarantees ----------------------------------------------------------------------


@pytest.mark.slow
def test_deep_chain_has_no_recursion_limit():
    x, one = Value(0.5), Value(1.0)
    v = x
    for _ in range(1_000_000):  # a chain of 10^6 additions, each using `one` (which gets every share)
        v = v + one
    v.backward()
    assert x.grad == 1.0 and one.grad == 1_000_000.0 and v.data == 1_000_000.5


def test_backward_is_deterministic():
    def grads():
        rng = random.Random(7)
        vs = [Value(rng.uniform(-1, 1)) for _ in range(30)]
        out = sum((vs[rng.randrange(30)] * vs[rng.randrange(30)]).tanh() for _ in range(300))
        out.backward()
        return [v.grad for v in vs]

    assert grads() == grads()


def test_gradients_accumulate_across_backward_calls():
    a = Value(2.0)
    out = a * a
    out.backward()
    out.backward()
    assert a.grad == 8.0


@pytest.mark.parametrize("bad", ["abc", None, [1.0], 1j])
def test_bad_data_raises_type_error(bad):
    with pytest.raises(TypeError, match=r"Value\(data\): got .*; expected a real number \(int or float\)$"):
        Value(bad)
    with pytest.raises(TypeError, match=r"got a Value; use Value\(v.data\)"):
        Value(Value(2.0))


def test_a_new_operation_is_one_decorator():
    @glassgrad.op(derivative=lambda g, out, x: (g * 3 * x * x,))
    def cube(x):
        return x**3

    a = Value(2.0)
    out = cube(a)
    assert out.data == 8.0 and out._op == "cube" and out._prev == (a,)
    (out * 2).backward()
    assert a.grad == 24.0
    (g,) = grad(cube(a), [a], create_graph=True)
    (h,) = grad(g, [a], create_graph=True)
    assert g.data == 12.0 and h.data == 12.0 and grad(h, [a]) == [6.0]  # 3a^2, 6a, 6
    assert Value(8.0, (a,), "cube")._rule is not None  # and by hand, micrograd's way, by its name


@pytest.mark.parametrize("op", ["+", "-", "*", "/", "**"])
def test_unsupported_operand_raises_type_error(op):
    a = Value(1.0)
    with pytest.raises(TypeError, match=r"unsupported .*got str 'x'; expected a real number"):
        eval(f"a {op} 'x'", {"a": a})
    with pytest.raises(TypeError, match=r"got str 'x'"):
        eval(f"'x' {op} a", {"a": a})
