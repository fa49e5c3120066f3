"""Deep and wide graphs backpropagate, and a long training loop does not grow in memory."""

from __future__ import annotations

import gc
import tracemalloc

import numpy as np
import pytest

from glassgrad import Tensor, Value
from glassgrad.nn import MLP, TensorMLP
from glassgrad.optim import SGD


# Wide graphs here; the one deep one (10^6 operations) is in test_engine.py.
def test_value_with_20000_consumers():
    x = Value(1.5)
    out = sum((x * 1.0 for _ in range(20_000)), Value(0.0))
    out.backward()
    assert x.grad == 20_000.0


@pytest.mark.slow
def test_tensor_with_20000_consumers_and_a_chain():
    x = Tensor([1.0, 2.0], requires_grad=True)
    total = x * 0.0
    for _ in range(20_000):
        total = total + x
    total.sum().backward()
    assert x.grad.tolist() == [20_000.0, 20_000.0]
    y = Tensor(0.5, requires_grad=True)
    v = y
    for _ in range(10_000):
        v = v * 1.0
    v.backward()
    assert y.grad.item() == 1.0


def _traced_after(steps: int, step) -> list[int]:
    tracemalloc.start()
    try:
        sizes = []
        for i in range(1, steps + 1):
            step()
            if i in (100, steps):
                gc.collect()  # what is left after a collection is what the loop keeps
                sizes.append(tracemalloc.get_traced_memory()[0])
        return sizes
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_training_loops_do_not_grow_in_memory():
    scalar = MLP(2, [4, 1], seed=0)
    scalar_opt = SGD(scalar.parameters(), lr=0.01)

    def scalar_step():
        loss = (scalar([0.5, -0.3]) - 1.0) ** 2
        scalar_opt.zero_grad()
        loss.backward()
        scalar_opt.step()

    tensor = TensorMLP(2, [8, 1], seed=0)
    tensor_opt = SGD(tensor.parameters(), lr=0.01)
    x = Tensor(np.ones((16, 2), np.float32))

    def tensor_step():
        loss = ((tensor(x) - 1.0) ** 2).mean()
        tensor_opt.zero_grad()
        loss.backward()
        tensor_opt.step()

    for step in (scalar_step, tensor_step):
        at_100, at_1000 = _traced_after(1000, step)
        assert at_1000 - at_100 < 20_000, (step.__name__, at_100, at_1000)
