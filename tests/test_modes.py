"""no_grad, enable_grad, detach and detect_anomaly, for Values and Tensors: every behaviour is tested for
both engines (the matrix at the end); threads are in test_threads.py."""

from __future__ import annotations

import inspect
import math
import re

import numpy as np
import pytest

import glassgrad
from glassgrad import Tensor, Value
from glassgrad.autograd import mode
from glassgrad.optim import SGD, Adam


def here(offset: int = 1) -> str:
    """'file:line' of the caller's line `offset` lines below the call."""
    frame = inspect.currentframe().f_back
    return f"{frame.f_code.co_filename}:{frame.f_lineno + offset}"


# no_grad / enable_grad


def test_backward_without_create_graph_records_nothing():
    x = Value(0.5)
    y = x.exp() * x
    y.backward()
    assert type(x.grad) is float and mode.grad_enabled


# detect_anomaly: forward


ANOMALIES = [
    (lambda E: E.leaf(-1.0).log(), "operation 'log' produced <nan> from inputs (<-1.0>)"),
    (lambda E: E.leaf(0.0) / E.leaf(0.0), "operation '/' produced <nan> from inputs (<0.0>, <0.0>)"),
    (lambda E: E.leaf(1.0) / 0.0, "operation '/' produced <inf> from inputs (<1.0>, <0.0>)"),
    (lambda E: E.leaf(800.0).exp(), "operation 'exp' produced <inf> from inputs (<800.0>)"),
    (lambda E: E.leaf(math.inf) - math.inf, "operation '-' produced <nan> from inputs (<inf>, <inf>)"),
    (lambda E: E.leaf(0.0) ** -1, "operation '**-1' produced <inf> from inputs (<0.0>)"),
    (lambda E: E.leaf(-1e300) * 1e300, "operation '*' produced <-inf> from inputs (<-1e+300>, <1e+300>)"),
]


@pytest.mark.parametrize("E", ["Value", "Tensor"])
@pytest.mark.parametrize(("make", "expected"), ANOMALIES)
def test_anomaly_in_forward_catches_each_kind(E, make, expected):
    E = ValueEngine if E == "Value" else TensorEngine
    with glassgrad.detect_anomaly(), pytest.raises(FloatingPointError) as info:
        make(E)
    expected = re.sub(r"<([^>]+)>", lambda m: E.shown(float(m.group(1))), expected)  # <x>: x as the engine shows it
    assert expected in str(info.value)


def test_nan_carried_in_from_outside_is_not_blamed_on_an_operation():
    with glassgrad.detect_anomaly():
        y = Value(math.nan) * 2.0 + 1.0
        z = Value(math.inf) * 2.0
    assert math.isnan(y.data) and z.data == math.inf


def test_without_detect_anomaly_nothing_is_raised():
    x = Value(0.0)
    y = x**0.5
    y.backward()
    assert x.log().data == -math.inf and x.grad == math.inf


# detect_anomaly: backward


def test_anomaly_in_backward_nan():
    x = Value(0.0)
    with glassgrad.detect_anomaly():
        y = (x**0.5) * 0.0  # forward fine, backward 0 * inf = nan
        with pytest.raises(FloatingPointError, match=r"rule of '\*\*0.5' produced nan for its input #0"):
            glassgrad.grad(y, [x])


# detect_anomaly: Tensors


def test_tensor_anomaly_in_forward():
    x = Tensor([1.0, 0.0, 2.0], requires_grad=True, dtype=np.float64)
    with glassgrad.detect_anomaly(), pytest.raises(FloatingPointError) as info:
        where = here()
        x.log()
    assert str(info.value) == (
        "detect_anomaly: operation 'log' produced array(3,) with min -inf, max 0.6931471805599453 "
        f"from inputs (array(3,) with min 0.0, max 2.0), created at {where}: x.log()"
    )


def test_tensor_anomaly_in_backward():
    x = Tensor([4.0, 0.0], requires_grad=True)
    with glassgrad.detect_anomaly():
        where = here()
        y = (x**0.5).sum()
        with pytest.raises(FloatingPointError) as info:
            y.backward()
    message = str(info.value)
    assert message.startswith("detect_anomaly: the backward rule of '**0.5' produced array(2,) with min 0.25, max inf")
    assert message.endswith(f"node created at {where}: y = (x**0.5).sum()")


# --- the same behaviours for both engines ----------------------------------------------------------
# Each behaviour above, and the anomaly checks, once for Value and once for Tensor, through an adapter
# that makes a leaf requiring a gradient and reads numbers back.


class ValueEngine:
    name = "Value"
    leaf = staticmethod(Value)

    @staticmethod
    def number(x):
        return x if type(x) is float else x.data

    @staticmethod
    def no_grad_yet(x):
        return x.grad == 0.0

    @staticmethod
    def shown(v):
        return repr(v)


class TensorEngine:
    name = "Tensor"

    @staticmethod
    def leaf(v):
        return Tensor(v, requires_grad=True, dtype=np.float64)  # the Value engine's twin, in float64

    @staticmethod
    def number(x):
        return float(np.asarray(x.data if isinstance(x, Tensor) else x))

    @staticmethod
    def no_grad_yet(x):
        return x.grad is None

    @staticmethod
    def shown(v):
        return f"array() with min {v}, max {v}"


ENGINES = [ValueEngine, TensorEngine]
engines = pytest.mark.parametrize("E", ENGINES, ids=lambda e: e.name)


@engines
def test_matrix_no_grad_results_have_no_parents(E):
    x = E.leaf(2.0)
    with glassgrad.no_grad():
        y = (x * 3.0 + 1.0).tanh()
        assert not glassgrad.is_grad_enabled()
    assert y._prev == () and y._rule is None and not y.requires_grad
    assert (x * 3.0)._prev[0] is x and glassgrad.is_grad_enabled()


@engines
def test_matrix_enable_grad_inside_no_grad_and_nesting(E):
    x = E.leaf(2.0)
    with glassgrad.no_grad():
        with glassgrad.enable_grad():
            y = x * x
            with glassgrad.no_grad():
                z = x * x
            w = x * x
        v = x * x
    assert y._prev == (x, x) and w._prev == (x, x) and z._prev == () and v._prev == ()
    y.backward()
    assert E.number(x.grad) == 4.0


@engines
@pytest.mark.parametrize("block", [glassgrad.no_grad, glassgrad.enable_grad, glassgrad.detect_anomaly])
def test_matrix_modes_are_restored_after_an_exception(E, block):
    with glassgrad.no_grad():
        with pytest.raises(KeyError), block():
            raise KeyError("inside")
        assert (E.leaf(1.0) * 2.0)._prev == ()
    with pytest.raises(KeyError), block():
        raise KeyError("inside")
    assert (E.leaf(1.0) * 2.0)._prev != () and mode.anomaly is None and mode.grad_enabled


@engines
def test_matrix_plain_backward_records_nothing_even_under_enable_grad(E):
    x = E.leaf(0.5)
    with glassgrad.enable_grad():
        (x.exp() * x).backward()
    g = x.grad  # a float for a Value; a Tensor for a Tensor, but a constant: no graph of the gradient
    assert not isinstance(g, Value) and not getattr(g, "requires_grad", False) and getattr(g, "_prev", ()) == ()


@engines
def test_matrix_create_graph_records_the_gradient_even_under_no_grad(E):
    x = E.leaf(0.5)
    y = x * x * x
    with glassgrad.no_grad():
        y.backward(create_graph=True)
    assert isinstance(x.grad, (Value, Tensor)) and x.grad._prev != ()
    g = x.grad
    (d2,) = glassgrad.grad(g, [x])
    assert E.number(d2) == pytest.approx(6 * 0.5)


@engines
@pytest.mark.parametrize("optimizer", [lambda p: SGD(p, lr=0.1, momentum=0.9), lambda p: Adam(p, lr=0.1)],
                         ids=["SGD", "Adam"])
def test_matrix_optimizers_update_under_no_grad_even_with_gradient_nodes(E, optimizer):
    p = E.leaf(1.0)
    opt = optimizer([p])
    for _ in range(2):
        opt.zero_grad()
        (p * p).backward(create_graph=True)  # p.grad is a node
        opt.step()
    assert p._prev == () and type(p._data) in (float, np.ndarray) and E.number(p.data) < 1.0
    assert glassgrad.is_grad_enabled()


@engines
def test_matrix_detach_stops_the_gradient(E):
    x = E.leaf(3.0)
    h = x * x
    d = h.detach()
    assert d._prev == () and d is not h and not d.requires_grad if E is TensorEngine else d._prev == ()
    (h * d).backward()
    assert E.number(x.grad) == 9.0 * 6.0


@engines
@pytest.mark.parametrize("under_no_grad", [False, True], ids=["recording", "no_grad"])
def test_matrix_anomaly_in_forward_names_op_inputs_and_line(E, under_no_grad):
    x = E.leaf(0.0)
    with glassgrad.detect_anomaly(), pytest.raises(FloatingPointError) as info:
        if under_no_grad:
            with glassgrad.no_grad():
                where = here()
                x.log()
        else:
            where = here()
            x.log()
    assert str(info.value) == (
        f"detect_anomaly: operation 'log' produced {E.shown(-math.inf)} from inputs ({E.shown(0.0)}), "
        f"created at {where}: x.log()"
    )


@engines
def test_matrix_anomaly_in_forward_under_no_grad_inside_enable_grad(E):
    with glassgrad.no_grad(), glassgrad.detect_anomaly(), glassgrad.enable_grad(), glassgrad.no_grad():
        with pytest.raises(FloatingPointError, match="operation '/'"):
            E.leaf(1.0) / 0.0
        y = E.leaf(math.nan) * 2.0  # nan carried in: not this operation's doing
    assert math.isnan(E.number(y))


@engines
def test_matrix_anomaly_in_backward_names_the_rule_and_line(E):
    x = E.leaf(0.0)
    with glassgrad.detect_anomaly():
        where = here()
        y = x**0.5
        with pytest.raises(FloatingPointError) as info:
            y.backward()
    assert str(info.value) == (
        f"detect_anomaly: the backward rule of '**0.5' produced {E.shown(math.inf)} for its input #0 "
        f"(inputs: {E.shown(0.0)}), node created at {where}: y = x**0.5"
    )


@engines
def test_matrix_anomaly_in_backward_of_a_node_made_under_no_grad_elsewhere(E):
    x = E.leaf(0.0)
    y = x**0.5
    with glassgrad.no_grad(), glassgrad.detect_anomaly(), pytest.raises(FloatingPointError, match="<made outside"):
        y.backward()


@engines
def test_matrix_anomaly_in_backward_with_create_graph(E):
    x = E.leaf(0.0)
    with glassgrad.detect_anomaly():
        where = here()
        y = x**0.5
        with pytest.raises(FloatingPointError) as info:
            y.backward(create_graph=True)
    assert str(info.value).startswith(
        f"detect_anomaly: the backward rule of '**0.5' (inputs: {E.shown(0.0)}), node created at {where}: "
        f"y = x**0.5, failed with create_graph=True: operation '**-0.5' produced {E.shown(math.inf)} "
        f"from inputs ({E.shown(0.0)})"
    )


@engines
def test_matrix_anomaly_leaves_finite_work_alone(E):
    x = E.leaf(0.7)
    with glassgrad.detect_anomaly():
        y = (x * x).tanh().exp()
        y.backward(create_graph=True)
        (g,) = glassgrad.grad(x.grad, [x])
    assert math.isfinite(E.number(g))


@engines
def test_matrix_detect_anomaly_does_not_keep_graphs_alive(E):
    import gc
    import weakref

    with glassgrad.detect_anomaly():
        refs = []
        for _ in range(300):
            y = E.leaf(1.0) * 2.0 + 1.0
            y.backward()
            refs.append(weakref.ref(y))
            del y
        gc.collect()
        assert len(mode.anomaly) < 10
        assert sum(r() is not None for r in refs) == 0
