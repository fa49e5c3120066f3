"""Per-thread modes, as in PyTorch: whether operations record a graph (`no_grad`, `enable_grad`),
whether they are checked for NaN and inf (`detect_anomaly`), and whether where each node was made
is noted (`record_origins`)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

from glassgrad.autograd.origins import Records


class _Mode(threading.local):
    """This thread's modes: whether operations record their inputs, and whether to check for NaN/inf."""

    grad_enabled: bool = True
    anomaly: Records | None = None  # where the user's code made each node, while detecting or recording origins


mode = _Mode()
changes = [0]  # mode blocks open in all threads: while 0, every thread has the default modes
watch = [0]  # the same, +1 once a tensor was changed in place: while 0, the node factory takes its short path
_changes_lock = threading.Lock()


def count_change(delta: int, modes: bool = True) -> None:
    """Note `delta` more (or fewer) open mode blocks (or, not `modes`, other reasons to watch each node)."""
    with _changes_lock:
        changes[0] += delta if modes else 0
        watch[0] += delta


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
    return bool(changes[0]) and mode.anomaly is not None and mode.anomaly.checks


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise `FloatingPointError` at the first NaN or inf an operation produces, forward or backward,
    in this thread, naming the operation, its inputs and the line of your code that made it."""
    previous = mode.anomaly
    count_change(1)
    records = Records(checks=True) if previous is None else previous
    was_checking, records.checks = records.checks, True
    mode.anomaly = records
    try:
        yield
    finally:
        records.checks = was_checking
        mode.anomaly = previous
        count_change(-1)


class record_origins:  # noqa: N801 -- a mode, named as no_grad is
    """Inside the block, in this thread, note where the user's code made each node: the chain of its
    functions and lines from the block down (an `Origin`), to group a large graph by the code that
    built it. `with record_origins() as records:`, then `records` gives each node's origin while it
    lives (`origins.origin_of`). Outside the block it costs nothing."""

    def __enter__(self) -> Records:
        self._previous = previous = mode.anomaly
        count_change(1)
        mode.anomaly = Records(checks=False, base=sys._getframe(1)) if previous is None else previous
        return mode.anomaly

    def __exit__(self, *_: object) -> None:
        mode.anomaly = self._previous
        count_change(-1)
