"""Grad modes are per thread, as in PyTorch: real threads, forced to interleave.

`sys.setswitchinterval` makes the interpreter switch threads every few microseconds and barriers
line the threads up inside their mode blocks, so that with one global mode (glassgrad before the
per-thread modes) these tests fail: a thread's no_grad switches recording off in another, two
threads' save-and-restore leave it off for good, and one thread's detect_anomaly raises in another.
Every check uses recorded parents (`_prev`) rather than a mode query, so it means the same whatever
the modes are made of.
"""

from __future__ import annotations

import math
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import pytest

import glassgrad
from glassgrad import Tensor, Value
from glassgrad.optim import SGD

TIMEOUT = 60


@contextmanager
def switching_often() -> Iterator[None]:
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def run_threads(*targets: Callable[[], None]) -> None:
    """Run each target in its own thread, all at once; re-raise the first exception any of them raised."""
    errors: list[BaseException] = []

    def guarded(target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                target()
            except BaseException as error:  # noqa: BLE001 - handed to the main thread
                errors.append(error)

        return run

    threads = [threading.Thread(target=guarded(t)) for t in targets]
    with switching_often():
        for t in threads:
            t.start()
        for t in threads:
            t.join(TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    if errors:
        raise errors[0]


def records() -> bool:
    """Whether an operation made now, in this thread, records its inputs."""
    x = Value(1.0)
    return (x * 2.0)._prev != ()


def tensor_records() -> bool:
    x = Tensor([1.0], requires_grad=True)
    return (x * 2.0)._prev != ()


# --- no_grad / enable_grad -----------------------------------------------------------------------

def test_two_threads_nesting_no_grad_never_leave_recording_off():
    barrier = threading.Barrier(2, timeout=TIMEOUT)
    seen: dict[str, list] = {"a": [], "b": []}

    def nest(name: str, depth: int) -> Callable[[], None]:
        def run() -> None:
            for _ in range(200):
                barrier.wait()  # both threads enter their blocks together
                with glassgrad.no_grad():
                    seen[name].append(records())
                    with glassgrad.enable_grad():
                        seen[name].append(not records())
                        for _ in range(depth):
                            with glassgrad.no_grad():
                                seen[name].append(records())
                    seen[name].append(records())
                barrier.wait()  # and leave them before either checks
                seen[name].append(not records())
        return run

    run_threads(nest("a", 1), nest("b", 3))
    assert not any(seen["a"]) and not any(seen["b"]), "a block's mode leaked into the other thread"
    assert records() and tensor_records()
    after: list[bool] = []
    run_threads(lambda: after.append(records() and tensor_records()))
    assert after == [True]


def test_blocks_that_overlap_across_threads_restore_each_threads_own_mode():
    # A enters, B enters, A leaves, B leaves: with one global switch, A's exit restores "on" inside B's
    # block, and B's exit restores the "off" it saw on entering: recording off for good.
    step = threading.Barrier(2, timeout=TIMEOUT)
    seen: dict[str, list] = {"a": [], "b": []}

    def a() -> None:
        for _ in range(50):
            with glassgrad.no_grad():
                step.wait()  # 1: A is inside
                step.wait()  # 2: B is inside
                seen["a"].append(records())
            step.wait()  # 3: A has left
            step.wait()  # 4: B has left
            seen["a"].append(not records())

    def b() -> None:
        for _ in range(50):
            step.wait()  # 1
            with glassgrad.no_grad():
                step.wait()  # 2
                step.wait()  # 3
                seen["b"].append(records())
            step.wait()  # 4
            seen["b"].append(not records())

    run_threads(a, b)
    assert not any(seen["a"]) and not any(seen["b"])
    assert records() and tensor_records()


def test_one_threads_no_grad_does_not_stop_another_recording():
    inside, done = threading.Event(), threading.Event()
    seen: list[bool] = []

    def evaluating() -> None:
        with glassgrad.no_grad():
            inside.set()
            assert done.wait(TIMEOUT)
            seen.append(records())

    def training() -> None:
        assert inside.wait(TIMEOUT)
        seen.append(records() and tensor_records())
        done.set()

    run_threads(evaluating, training)
    assert sorted(seen) == [False, True]


# --- four threads training separate models ------------------------------------------------------

STEPS = 120


def scalar_training(seed: int, steps: int = STEPS) -> list[list[float]]:
    """A 3-2-1 tanh network on 4 points: every gradient of every step, evaluated under no_grad."""
    rng = np.random.default_rng(seed)
    w = [Value(float(v)) for v in rng.uniform(-1, 1, 11)]
    xs, ys = rng.uniform(-1, 1, (4, 3)).tolist(), rng.uniform(-1, 1, 4).tolist()
    opt = SGD(w, lr=0.05, momentum=0.5)
    history = []
    for _ in range(steps):
        loss = Value(0.0)
        for x, y in zip(xs, ys):
            h = [(w[3 * j] * x[0] + w[3 * j + 1] * x[1] + w[3 * j + 2] * x[2] + w[6 + j]).tanh() for j in range(2)]
            out = h[0] * w[8] + h[1] * w[9] + w[10]
            loss = loss + (out - y) ** 2
        opt.zero_grad()
        loss.backward()
        grads = [p.grad for p in w]
        with glassgrad.no_grad():
            check = sum((p * p for p in w), Value(0.0))  # evaluation: no graph
        assert check._prev == () and loss._prev != ()
        opt.step()
        history.append([*grads, loss.data])
    return history


def tensor_training(seed: int, steps: int = STEPS) -> list[list[float]]:
    rng = np.random.default_rng(seed)
    w1 = Tensor(rng.uniform(-1, 1, (3, 5)), requires_grad=True)
    w2 = Tensor(rng.uniform(-1, 1, (5, 1)), requires_grad=True)
    x, y = rng.uniform(-1, 1, (8, 3)), rng.uniform(-1, 1, (8, 1))
    opt = SGD([w1, w2], lr=0.05)
    history = []
    for _ in range(steps):
        loss = (((Tensor(x) @ w1).relu() @ w2 - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        history.append([*w1.grad.flatten().tolist(), *w2.grad.flatten().tolist(), loss.item()])
        with glassgrad.no_grad():
            check = (w1 * w1).sum()
        assert check._prev == () and loss._prev != ()
        opt.step()
    return history


def test_four_threads_training_get_exactly_the_single_threaded_gradients():
    trainings = [(scalar_training, 1), (tensor_training, 2), (scalar_training, 3), (tensor_training, 4)]
    reference = [train(seed) for train, seed in trainings]  # one after the other, in this thread
    results: list = [None] * 4
    barrier = threading.Barrier(4, timeout=TIMEOUT)

    def worker(k: int) -> Callable[[], None]:
        def run() -> None:
            barrier.wait()
            train, seed = trainings[k]
            results[k] = train(seed)
        return run

    run_threads(*(worker(k) for k in range(4)))
    for k in range(4):
        assert results[k] == reference[k], f"thread {k} got other gradients than alone"


# --- detect_anomaly -------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["Value", "Tensor"])
def test_detect_anomaly_in_one_thread_does_not_raise_in_another(kind):
    make = Value if kind == "Value" else (lambda v: Tensor([v], requires_grad=True))
    barrier = threading.Barrier(2, timeout=TIMEOUT)
    caught: list[str] = []

    def detecting() -> None:
        with glassgrad.detect_anomaly():
            barrier.wait()
            for _ in range(300):
                (make(2.0).log() * 3.0).exp()  # finite: nothing to report
            barrier.wait()
            with pytest.raises(FloatingPointError, match="'log'"):
                make(0.0).log()
            caught.append("own anomaly")

    def careless() -> None:
        barrier.wait()
        for _ in range(300):
            y = make(0.0).log() * 0.0  # -inf, then nan: raises only under detect_anomaly
            y2 = make(-1.0) ** 0.5
            (y + y2).sum().backward() if kind == "Tensor" else (y + y2).backward()
        barrier.wait()

    run_threads(detecting, careless)
    assert caught == ["own anomaly"]


def test_backward_does_not_depend_on_modes_another_thread_changes():
    stop = threading.Event()
    results: list = []

    def toggling() -> None:
        while not stop.is_set():
            with glassgrad.no_grad(), glassgrad.detect_anomaly():
                with glassgrad.enable_grad():
                    Value(1.0) * 2.0

    def differentiating() -> None:
        try:
            for _ in range(300):
                x = Value(0.0)
                y = x ** 0.5  # its gradient is inf: raises only under detect_anomaly
                y.backward()
                assert x.grad == math.inf
                x = Value(0.5)
                (x * x * x).backward(create_graph=True)
                assert x.grad._prev != ()  # recorded even while the other thread is in no_grad
                t = Tensor([2.0, 3.0], requires_grad=True)
                (g,) = glassgrad.grad((t * t).sum(), [t], create_graph=True)
                assert g._prev != () and records()
                results.append(True)
        finally:
            stop.set()

    run_threads(toggling, differentiating)
    assert len(results) == 300
