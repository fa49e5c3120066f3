"""Per-thread modes, as in PyTorch: whether operations record a graph (`no_grad`, `enable_grad`)
and whether they are checked for NaN and inf (`detect_anomaly`)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager


class _Mode(threading.local):
    """This thread's modes: whether operations record their inputs, and whether to check for NaN/inf."""

    grad_enabled: bool = True
    anomaly: dict | None = None  # id(node) -> (weak reference to it, the user's line that made it), while detecting


mode = _Mode()
changes = [0]  # mode blocks open in all threads, +1 once a tensor was changed in place: while 0, every
# thread has the default modes and the node factory takes its short path
_changes_lock = threading.Lock()


def count_change(delta: int) -> None:
    """Note `delta` more (or fewer) reasons for the node factory to take its watchful path."""
    with _changes_lock:
        changes[0] += delta


@contextmanager
def recording(enabled: bool) -> Iterator[None]:
    """Grad mode set to `enabled` inside the block, in this thread."""
    previous = mode.grad_enabled
    count_change(1)
    mode.grad_enabled = enabled
    try:
        yield
    finally:
        mode.grad_enabled = previous
        count_change(-1)


def no_grad() -> AbstractContextManager[None]:
    """Build no graph inside the block, in this thread: results have no parents (updates, evaluation)."""
    return recording(False)


def enable_grad() -> AbstractContextManager[None]:
    """Record graphs again inside a `no_grad` block."""
    return recording(True)


def is_grad_enabled() -> bool:
    """Whether operations in this thread record their inputs."""
    return mode.grad_enabled


def is_anomaly_enabled() -> bool:
    """Whether this thread is inside `detect_anomaly` (cheap while no mode block is open anywhere)."""
    return bool(changes[0]) and mode.anomaly is not None


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise `FloatingPointError` at the first NaN or inf an operation produces, forward or backward,
    in this thread, naming the operation, its inputs and the line of your code that made it."""
    previous = mode.anomaly
    count_change(1)
    mode.anomaly = {} if previous is None else previous  # keyed by id: a Tensor's == is elementwise
    try:
        yield
    finally:
        mode.anomaly = previous
        count_change(-1)
