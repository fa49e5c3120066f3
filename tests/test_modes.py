"""no_grad, enable_grad, detach and detect_anomaly, for Values and Tensors."""

from __future__ import annotations

import inspect
import math

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


def test_no_grad_results_have_no_parents():
    x = Value(2.0)
    with glassgrad.no_grad():
        y = (x * 3.0 + 1.0).tanh()
    assert y.data == pytest.approx(math.tanh(7.0)) and y._prev == () and y._rule is None
    y.backward()
    assert x.grad == 0.0
    z = x * 3.0
    assert z._prev[0] is x  # recording resumes after the block


def test_no_grad_for_tensors():
    w = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    with glassgrad.no_grad():
        y = (w @ w).sum()
    assert y.item() == 54.0 and y._prev == () and not y.requires_grad
    assert ((w @ w).sum()).requires_grad


def test_enable_grad_inside_no_grad_and_nesting():
    x = Value(2.0)
    with glassgrad.no_grad():
        with glassgrad.enable_grad():
            y = x * x
        z = x * x
        with glassgrad.no_grad():
            assert not mode.grad_enabled
        assert not mode.grad_enabled
    assert mode.grad_enabled
    assert y._prev == (x, x) and z._prev == ()
    y.backward()
    assert x.grad == 4.0


def test_modes_are_restored_after_an_exception():
    with pytest.raises(KeyError), glassgrad.no_grad():
        raise KeyError("raised inside the block")
    assert mode.grad_enabled
    with pytest.raises(FloatingPointError), glassgrad.detect_anomaly():
        Value(0.0).log()
    assert mode.anomaly is None


def test_backward_without_create_graph_records_nothing():
    x = Value(0.5)
    y = x.exp() * x
    y.backward()
    assert type(x.grad) is float and mode.grad_enabled


class Probe:
    """A parameter that notes whether a graph could be recorded when the optimizer writes it."""

    def __init__(self, data: float, grad: float) -> None:
        self._data, self.grad, self.seen = data, grad, []

    @property
    def data(self) -> float:
        return self._data

    @data.setter
    def data(self, value: float) -> None:
        self.seen.append(mode.grad_enabled)
        self._data = value


@pytest.mark.parametrize("optimizer", [lambda p: SGD(p, lr=0.1, momentum=0.9), lambda p: Adam(p, lr=0.1)])
def test_optimizers_update_under_no_grad(optimizer):
    probe = Probe(1.0, 0.5)
    opt = optimizer([probe])
    opt.step()
    opt.step()
    assert probe.seen == [False, False] and mode.grad_enabled
    assert probe.data < 1.0


# detach


def test_detach_stops_the_gradient():
    x = Value(3.0)
    h = x * x
    d = h.detach()
    assert d.data == 9.0 and d._prev == () and d is not h
    (h * d).backward()  # d(h * const)/dx = const * 2x
    assert x.grad == 9.0 * 6.0
    assert d.grad == 9.0  # the detached copy is a leaf of its own


def test_detach_for_tensors():
    x = Tensor([1.0, 2.0], requires_grad=True)
    d = (x * 2.0).detach()
    assert not d.requires_grad and d._prev == ()
    (x * d).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])


# detect_anomaly: forward


def test_anomaly_in_forward_names_op_inputs_and_line():
    x = Value(0.0)
    with glassgrad.detect_anomaly(), pytest.raises(FloatingPointError) as info:
        where = here()
        x.log()
    assert str(info.value) == (
        f"detect_anomaly: operation 'log' produced -inf from inputs (0.0), created at {where}: x.log()"
    )


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: Value(-1.0).log(), "operation 'log' produced nan from inputs (-1.0)"),
        (lambda: Value(0.0) / Value(0.0), "operation '/' produced nan from inputs (0.0, 0.0)"),
        (lambda: Value(1.0) / 0.0, "operation '/' produced inf from inputs (1.0, 0.0)"),
        (lambda: Value(800.0).exp(), "operation 'exp' produced inf from inputs (800.0)"),
        (lambda: Value(math.inf) - math.inf, "operation '-' produced nan from inputs (inf, inf)"),
        (lambda: Value(0.0) ** -1, "operation '**-1' produced inf from inputs (0.0)"),
    ],
)
def test_anomaly_in_forward_catches_each_kind(make, expected):
    with glassgrad.detect_anomaly(), pytest.raises(FloatingPointError) as info:
        make()
    assert expected in str(info.value)


def test_nan_carried_in_from_outside_is_not_blamed_on_an_operation():
    with glassgrad.detect_anomaly():
        y = Value(math.nan) * 2.0 + 1.0
        z = Value(math.inf) * 2.0
    assert math.isnan(y.data) and z.data == math.inf


def test_anomaly_checks_no_grad_evaluation_too():
    with glassgrad.detect_anomaly(), glassgrad.no_grad(), pytest.raises(FloatingPointError, match="'log'"):
        Value(0.0).log()


def test_without_detect_anomaly_nothing_is_raised():
    x = Value(0.0)
    y = x**0.5
    y.backward()
    assert x.log().data == -math.inf and x.grad == math.inf


# detect_anomaly: backward


def test_anomaly_in_backward_names_the_rule_and_the_line_that_made_the_node():
    x = Value(0.0)
    with glassgrad.detect_anomaly():
        where = here()
        y = x**0.5
        with pytest.raises(FloatingPointError) as info:
            y.backward()
    assert str(info.value) == (
        "detect_anomaly: the backward rule of '**0.5' produced inf for its input #0 (inputs: 0.0), "
        f"node created at {where}: y = x**0.5"
    )


def test_anomaly_in_backward_nan():
    x = Value(0.0)
    with glassgrad.detect_anomaly():
        y = (x**0.5) * 0.0  # forward fine, backward 0 * inf = nan
        with pytest.raises(FloatingPointError, match=r"rule of '\*\*0.5' produced nan for its input #0"):
            glassgrad.grad(y, [x])


def test_anomaly_in_backward_for_a_node_made_outside_the_block():
    x = Value(0.0)
    y = x**0.5
    with glassgrad.detect_anomaly(), pytest.raises(FloatingPointError, match="node created at <made outside"):
        y.backward()


def test_anomaly_in_backward_with_create_graph():
    x = Value(0.0)
    with glassgrad.detect_anomaly():
        where = here()
        y = x**0.5
        with pytest.raises(FloatingPointError) as info:
            y.backward(create_graph=True)
    message = str(info.value)
    assert message.startswith(
        f"detect_anomaly: the backward rule of '**0.5' (inputs: 0.0), node created at {where}: y = x**0.5, "
        "failed with create_graph=True: operation '**-0.5' produced inf from inputs (0.0)"
    )


# detect_anomaly: Tensors


def test_tensor_anomaly_in_forward():
    x = Tensor([1.0, 0.0, 2.0], requires_grad=True)
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


def test_tensor_anomaly_leaves_finite_work_alone():
    w = Tensor([[0.5, -1.0], [2.0, 0.1]], requires_grad=True)
    with glassgrad.detect_anomaly():
        (w @ w).tanh().sum().backward()
    assert np.isfinite(w.grad).all()


def test_detect_anomaly_does_not_keep_graphs_alive():
    import gc

    with glassgrad.detect_anomaly():
        for _ in range(1000):
            (Value(1.0) * 2.0 + 1.0).backward()
        gc.collect()
        assert len(mode.anomaly) < 10
