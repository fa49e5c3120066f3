"""Reverse-mode differentiation, shared by the scalar `Value` and the array `Tensor`.

A node is any object with `data`, `grad`, `requires_grad`, `_op`, `_prev` (its inputs, in
order) and `_rule`: None for a leaf, else the operation's derivative rule (a vector-Jacobian
product), a function `rule(g, out, *inputs)` giving each input's share of the upstream
gradient `g` (None where an input gets none). The plain backward pass calls it with raw
numbers (floats or numpy arrays); `create_graph=True` calls the very same function with nodes,
so the gradient is itself recorded as a graph and can be differentiated again.
"""

from __future__ import annotations

import math
import traceback
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from operator import attrgetter
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

_PACKAGE_DIR = str(Path(__file__).parent)


class _Mode:
    """What the engines do while building a graph: record parents, and check for NaN/inf."""

    grad_enabled: bool = True
    anomaly: WeakKeyDictionary | None = None  # node -> the user's line that created it, while detecting


mode = _Mode()


@contextmanager
def _recording(enabled: bool) -> Iterator[None]:
    previous = mode.grad_enabled
    mode.grad_enabled = enabled
    try:
        yield
    finally:
        mode.grad_enabled = previous


def no_grad() -> AbstractContextManager[None]:
    """Build no graph inside the block: results have no parents (updates, evaluation)."""
    return _recording(False)


def enable_grad() -> AbstractContextManager[None]:
    """Record graphs again inside a `no_grad` block."""
    return _recording(True)


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise `FloatingPointError` at the first NaN or inf an operation produces, forward or backward."""
    previous = mode.anomaly
    mode.anomaly = WeakKeyDictionary() if previous is None else previous  # weak: a node's record dies with it
    try:
        yield
    finally:
        mode.anomaly = previous


def _user_line() -> str:
    """The innermost stack frame outside glassgrad: where the user's code made this node."""
    for frame in reversed(traceback.extract_stack()):
        if not frame.filename.startswith(_PACKAGE_DIR) and "contextlib" not in frame.filename:
            return f'{frame.filename}:{frame.lineno}: {frame.line or ""}'.rstrip()
    return "<unknown>"


def _all_finite(x: Any) -> bool:
    if isinstance(x, float):
        return math.isfinite(x)
    import numpy as np  # only Tensor data reaches here

    return bool(np.isfinite(x).all())


def _any_nan(x: Any) -> bool:
    if isinstance(x, float):
        return x != x
    import numpy as np

    return bool(np.isnan(x).any())


def _produced_anomaly(result: Any, inputs: Sequence[Any]) -> bool:
    """NaN from NaN-free inputs, or inf from finite inputs: this operation made it."""
    if _all_finite(result):
        return False
    if _any_nan(result):
        return not any(_any_nan(x) for x in inputs)
    return all(_all_finite(x) for x in inputs)


def check_forward(out: Any, inputs: Sequence[Any]) -> None:
    """Record where `out` was made; raise if its operation produced a NaN or inf."""
    line = _user_line()
    mode.anomaly[out] = line
    if _produced_anomaly(out.data, [x.data for x in inputs]):
        shown = ", ".join(_brief(x.data) for x in inputs)
        raise FloatingPointError(
            f"detect_anomaly: operation '{out._op}' produced {_brief(out.data)} "
            f"from inputs ({shown}), created at {line}"
        )


def _check_backward(node: Any, child: Any, contribution: Any) -> None:
    raw = contribution.data if hasattr(contribution, "_prev") else contribution
    if _all_finite(raw):
        return
    shown = ", ".join(_brief(x.data) for x in node._prev)
    line = mode.anomaly.get(node, "<made outside detect_anomaly>")
    raise FloatingPointError(
        f"detect_anomaly: the backward rule of '{node._op}' produced {_brief(raw)} for its "
        f"input #{node._prev.index(child)} (inputs: {shown}), node created at {line}"
    )


def _rule_anomaly(node: Any, error: FloatingPointError) -> FloatingPointError:
    shown = ", ".join(_brief(x.data) for x in node._prev)
    line = mode.anomaly.get(node, "<made outside detect_anomaly>")
    step = str(error).removeprefix("detect_anomaly: ")
    return FloatingPointError(
        f"detect_anomaly: the backward rule of '{node._op}' (inputs: {shown}), node created at {line}, "
        f"failed with create_graph=True: {step}"
    )


def _brief(x: Any) -> str:
    if isinstance(x, float):
        return repr(x)
    return f"array{tuple(x.shape)} with min {x.min() if x.size else '-'}, max {x.max() if x.size else '-'}"


def topological_order(root: Any) -> list:
    """Every node `root` depends on, each after all its inputs: a depth-first search with an
    explicit stack instead of recursion, so graph depth is limited only by memory."""
    order: list = []
    expanded = set()
    placed = set()
    stack = [root]
    while stack:
        node = stack[-1]
        if node in expanded:
            stack.pop()
            if node not in placed:  # every input is placed by now
                placed.add(node)
                order.append(node)
            continue
        expanded.add(node)
        for child in reversed(node._prev):
            if child not in expanded:
                stack.append(child)
    return order


_data = attrgetter("data")


def backpropagate(root: Any, seed: Any, create_graph: bool = False, trace: list | None = None) -> dict:
    """Map every node `root` depends on to d(root)/d(node): the chain rule, last node first.

    A node used by several others receives the sum of their contributions. `trace`, if given,
    receives one entry per node whose rule ran: `(node, g, [(input, share, its grad right after
    adding the share), ...])`, in the order the engine worked.
    """
    grads = {root: seed}
    checking = mode.anomaly is not None
    previous = mode.grad_enabled
    mode.grad_enabled = create_graph
    try:
        for node in reversed(topological_order(root)):
            rule = node._rule
            if rule is None:
                continue
            g = grads.get(node)
            if g is None:
                continue
            inputs = node._prev
            if create_graph:
                try:
                    shares = rule(g, node, *inputs)
                except FloatingPointError as error:  # a step of the rule, recorded as a node, made NaN/inf
                    if not checking:
                        raise
                    raise _rule_anomaly(node, error) from None
            else:
                shares = rule(g, node.data, *map(_data, inputs))
            if trace is not None:
                steps: list = []
                trace.append((node, g, steps))
            for child, contribution in zip(inputs, shares):
                if contribution is None or not child.requires_grad:
                    continue
                if checking:
                    _check_backward(node, child, contribution)
                old = grads.get(child)
                grads[child] = contribution if old is None else old + contribution
                if trace is not None:
                    steps.append((child, contribution, grads[child]))
    finally:
        mode.grad_enabled = previous
    return grads


def accumulate(grads: dict) -> None:
    """Add each node's new gradient to its `grad` (None, or a float 0.0, means none yet)."""
    for node, g in grads.items():
        old = node.grad
        node.grad = g if old is None or (type(old) is float and old == 0.0) else old + g


def grad(output: Any, inputs: Sequence[Any], create_graph: bool = False) -> list:
    """d(output)/d(input) for each input, without touching any `.grad`.

    With `create_graph=True` the results are nodes themselves and can be differentiated again.
    An input that `output` does not depend on gets a zero gradient.
    """
    grads = backpropagate(output, output._seed(create_graph), create_graph)
    return [grads[x] if x in grads else x._zero_grad(create_graph) for x in inputs]


def zero_grads(parameters: Sequence[Any]) -> None:
    """Forget gradients: 0.0 for a Value (micrograd's starting grad), None for a Tensor (PyTorch's)."""
    for p in parameters:
        p.grad = 0.0 if type(p.data) is float else None
