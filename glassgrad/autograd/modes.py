"""Per-thread modes, as in PyTorch: whether operations record a graph (`no_grad`, `enable_grad`,
`set_grad_enabled`, `inference_mode`: blocks, and decorators with or without parentheses),
whether they are checked for NaN and inf (`detect_anomaly`), and whether where each node was made
is noted (`record_origins`)."""

from __future__ import annotations

import functools
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from glassgrad.autograd.origins import Records


class _Mode(threading.local):
    """This thread's modes: whether operations record their inputs, and whether to check for NaN/inf."""

    grad_enabled: bool = True
    held: bool = False  # whether this thread holds a count of `changes` for a grad mode turned off outside a block
    anomaly: Records | None = None  # where the user's code made each node, while detecting or recording origins


mode = _Mode()
_modes = mode  # the same, for the functions whose argument is named `mode`, as PyTorch's
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
        _hold()
        count_change(-1)


def _hold() -> None:
    """One count of `changes` while this thread's grad mode is off outside any block (after
    `set_grad_enabled(False)` called as a function), none once it is on again: the node factory's
    short path is taken only while every thread has the default modes."""
    off = not mode.grad_enabled
    if off != mode.held:
        mode.held = off
        count_change(1 if off else -1)


class _GradMode:
    """A grad mode as PyTorch's: a block (`with no_grad():`) and a decorator, with or without
    parentheses (`@no_grad()`, `@no_grad`), for this thread."""

    enabled: bool | None = True  # None: the mode stays as it is

    def __new__(cls, func: Any = None) -> Any:
        self = super().__new__(cls)
        self._previous = []  # the modes to restore, innermost last
        return self if func is None else self(func)  # `@no_grad`: no_grad(f) is f decorated

    def __init__(self, func: Any = None) -> None:
        """Made by `__new__`."""

    def __enter__(self) -> None:
        self._previous.append(mode.grad_enabled)
        count_change(1)
        if self.enabled is not None:
            mode.grad_enabled = self.enabled

    def __exit__(self, *_: object) -> None:
        mode.grad_enabled = self._previous.pop()
        _hold()
        count_change(-1)

    def _again(self) -> _GradMode:
        """The same mode for one call of a decorated function."""
        return type(self)()

    def __call__(self, func: Any) -> Any:
        if not callable(func):
            raise TypeError(f"{type(self).__name__}: decorates a function, got {type(func).__name__}")

        @functools.wraps(func)
        def decorated(*args: Any, **kwargs: Any) -> Any:
            with self._again():
                return func(*args, **kwargs)

        return decorated


class no_grad(_GradMode):  # noqa: N801 -- PyTorch's name
    """Build no graph inside the block, in this thread: results have no parents (updates, evaluation)."""

    enabled = False


class enable_grad(_GradMode):  # noqa: N801
    """Record graphs again inside a `no_grad` block."""

    enabled = True


class inference_mode(_GradMode):  # noqa: N801
    """PyTorch's inference mode: no graph inside the block, as `no_grad` (glassgrad keeps no other
    bookkeeping to skip); `inference_mode(False)` leaves the mode as it is."""

    def __new__(cls, mode: Any = True) -> Any:
        self = super().__new__(cls)
        self.enabled = False if mode else None
        return self(mode) if callable(mode) else self  # `@inference_mode`, without parentheses

    def __init__(self, mode: Any = True) -> None:
        """Made by `__new__`."""

    def _again(self) -> _GradMode:
        return inference_mode(self.enabled is not None)


class set_grad_enabled(_GradMode):  # noqa: N801
    """Turn recording on or off in this thread: at once, called as a function, or for a block
    (`with set_grad_enabled(False):`, restored after it), or for each call of a decorated function."""

    def __new__(cls, mode: bool) -> set_grad_enabled:
        return object.__new__(cls)

    def __init__(self, mode: bool) -> None:
        if not isinstance(mode, (bool, int)):
            raise TypeError(f"set_grad_enabled: expected True or False, got {type(mode).__name__}")
        self.enabled = bool(mode)
        self._previous = [_modes.grad_enabled]
        _modes.grad_enabled = self.enabled  # at once, as PyTorch's: a block's end or a decoration undoes it
        _hold()

    def __enter__(self) -> None:
        count_change(1)  # as any block's, undone by `__exit__`

    def _again(self) -> _GradMode:
        return set_grad_enabled(self.enabled)

    def __call__(self, func: Any) -> Any:
        _modes.grad_enabled = self._previous.pop()  # made to decorate: the mode applies to each call only
        _hold()
        return super().__call__(func)


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
