"""The node core shared by `Value` and `Tensor`: making results, grad modes, and the backward pass.

A node holds `data` (a float or a numpy array), `grad`, `requires_grad`, `label`, `_op` (the name
of the operation that made it), its inputs (`_prev`, in order) and `_rule`: None for a leaf, else
the operation's derivative rule, `rule(g, out, *inputs)`, giving each input's share of the
upstream gradient `g` (see `glassgrad.ops`). The plain backward pass calls rules with raw numbers;
`create_graph=True` calls the very same rules with nodes, so the gradient is itself recorded as a
graph and can be differentiated again.

Grad mode (`no_grad`, `enable_grad`), `detect_anomaly` and `record_origins` are per thread, as in PyTorch.
"""

from __future__ import annotations

import math
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import numpy as np

from glassgrad.autograd.origins import Records, origin_of, record


class _Mode(threading.local):
    """This thread's modes: whether operations record their inputs, and whether to check for NaN/inf."""

    grad_enabled: bool = True
    anomaly: Records | None = None  # where the user's code made each node, while detecting or recording origins


mode = _Mode()
_changes = [0]  # mode blocks open in all threads: while 0, every thread has the default modes
_changes_lock = threading.Lock()


def _count_change(delta: int) -> None:
    with _changes_lock:
        _changes[0] += delta


@contextmanager
def _recording(enabled: bool) -> Iterator[None]:
    previous = mode.grad_enabled
    _count_change(1)
    mode.grad_enabled = enabled
    try:
        yield
    finally:
        mode.grad_enabled = previous
        _count_change(-1)


def no_grad() -> AbstractContextManager[None]:
    """Build no graph inside the block, in this thread: results have no parents (updates, evaluation)."""
    return _recording(False)


def enable_grad() -> AbstractContextManager[None]:
    """Record graphs again inside a `no_grad` block."""
    return _recording(True)


def is_grad_enabled() -> bool:
    """Whether operations in this thread record their inputs."""
    return mode.grad_enabled


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise `FloatingPointError` at the first NaN or inf an operation produces, forward or backward,
    in this thread, naming the operation, its inputs and the line of your code that made it."""
    previous = mode.anomaly
    _count_change(1)
    records = Records(checks=True) if previous is None else previous
    was_checking, records.checks = records.checks, True
    mode.anomaly = records
    try:
        yield
    finally:
        records.checks = was_checking
        mode.anomaly = previous
        _count_change(-1)


class record_origins:  # noqa: N801 -- a mode, named as no_grad is
    """Inside the block, in this thread, note where the user's code made each node: the chain of its
    functions and lines from the block down (an `Origin`), to group a large graph by the code that
    built it. `with record_origins() as records:`, then `records` gives each node's origin while it
    lives (`origins.origin_of`). Outside the block it costs nothing."""

    def __enter__(self) -> Records:
        self._previous = previous = mode.anomaly
        _count_change(1)
        mode.anomaly = Records(checks=False, base=sys._getframe(1)) if previous is None else previous
        return mode.anomaly

    def __exit__(self, *_: object) -> None:
        mode.anomaly = self._previous
        _count_change(-1)


_new = object.__new__
MANY = object()  # `_b` of a node with more than two inputs: they are all in `_a`, as a tuple


class Node:
    """What `Value` and `Tensor` share: a result that remembers how it was made, and `backward()`.

    A subclass says what data it holds: `holds_floats`, `raw` (an operation's output as its data),
    `constant` (a number or array as a leaf that needs no gradient), and its seed gradient.

    The inputs are kept in two slots, `_a` and `_b` (None where there is none; for more than two
    inputs, all of them in `_a` and MANY in `_b`), rather than in a tuple: a node is then one object
    for Python's garbage collector instead of two, which halves its work while a graph is built.
    `_prev` gives them as a tuple.
    """

    __slots__ = ("data", "grad", "requires_grad", "label", "_op", "_rule", "_a", "_b", "__weakref__")
    holds_floats = False
    initial_grad: Any = None

    @property
    def _prev(self) -> tuple:
        """The inputs this node was made from, in order (micrograd's name)."""
        a, b = self._a, self._b
        if a is None:
            return ()
        if b is None:
            return (a,)
        return a if b is MANY else (a, b)

    @_prev.setter
    def _prev(self, inputs: tuple) -> None:
        n = len(inputs)
        self._a, self._b = (None, None) if n == 0 else (inputs[0], None) if n == 1 else inputs if n == 2 else (
            tuple(inputs), MANY)

    @classmethod
    def result(cls, data: Any, inputs: tuple, op: str, rule: Any) -> Any:
        """A new node holding `data`, made by `op` from `inputs`: recorded when grad mode is on and an
        input requires a gradient, else a leaf; checked for NaN/inf under `detect_anomaly`."""
        out = _new(cls)
        out.data = data
        out.grad = cls.initial_grad
        out.label = ""
        out._op = op
        out._rule = out._a = out._b = None
        out.requires_grad = False
        if not _changes[0] or mode.grad_enabled:
            for x in inputs:
                if x.requires_grad:
                    out.requires_grad = True
                    out._rule = rule
                    out._prev = inputs
                    break
        if _changes[0] and mode.anomaly is not None:
            check_forward(out, inputs)
        return out

    @classmethod
    def result2(cls, data: Any, a: Any, b: Any, op: str, rule: Any) -> Any:
        """`result` for one or two inputs (`b` None for one), the common case, without a tuple."""
        out = _new(cls)
        out.data = data
        out.grad = cls.initial_grad
        out.label = ""
        out._op = op
        if (not _changes[0] or mode.grad_enabled) and (a.requires_grad or b is not None and b.requires_grad):
            out.requires_grad = True
            out._rule = rule
            out._a = a
            out._b = b
        else:
            out.requires_grad = False
            out._rule = out._a = out._b = None
        if _changes[0] and mode.anomaly is not None:
            check_forward(out, (a,) if b is None else (a, b))
        return out

    @classmethod
    def aligned(cls, inputs: tuple, op: str, rule: Any) -> tuple[tuple, Any]:
        """`inputs` and the derivative `rule` made fit for one elementwise operation (Tensors: dtypes
        promoted, shares of broadcast inputs summed back to their shapes)."""
        return inputs, rule

    def backward(self, gradient: Any = None, create_graph: bool = False) -> None:
        """Add d(self)/d(node) to `grad` of every node self depends on (leaves and intermediate results).

        `gradient` is the upstream gradient, self's shape (1 when self is one number). Gradients
        accumulate, as in PyTorch and micrograd: zero them between steps. With `create_graph=True`
        each `grad` is itself a node whose graph can be differentiated again.
        """
        seed = self._seed(gradient, create_graph, "backward")
        backpropagate(self, seed, create_graph, into_grad=True)

    def detach(self) -> Any:
        """The same data as a new leaf: gradients do not flow through it to what made self."""
        return self.constant(self.data, "detach")

    def _seed(self, gradient: Any, create_graph: bool, who: str) -> Any:
        """d(self)/d(self): `gradient`, or 1 for a single number; a node when the graph is recorded."""
        raise NotImplementedError

    def _zeros(self) -> Any:
        """A zero gradient for self, as a constant node."""
        raise NotImplementedError

    def _check_inplace(self, who: str) -> None:
        """Refuse a backward pass from self that would read numbers changed in place (a Tensor's concern)."""

    @staticmethod
    def _gradients(grads: list) -> list:
        """`grad`'s raw results as the engine gives gradients: floats for Values, Tensors for Tensors."""
        return grads


def data_of(x: Any) -> Any:
    """The raw data of a node (a float or an array); anything else as it is."""
    return x.data if isinstance(x, Node) else x


def zeros_like(x: Any) -> Any:
    """Zeros shaped like `x`: 0.0 for a float, an array for an array, a constant node for a node."""
    if type(x) is float:
        return 0.0
    if isinstance(x, Node):
        return x._zeros()
    return np.zeros_like(x)


def _all_finite(x: Any) -> bool:
    if isinstance(x, float):
        return math.isfinite(x)
    return bool(np.isfinite(x).all())


def _any_nan(x: Any) -> bool:
    if isinstance(x, float):
        return x != x
    return bool(np.isnan(x).any())


def _produced_anomaly(result: Any, inputs: Sequence[Any]) -> bool:
    """NaN from NaN-free inputs, or inf from finite inputs: this operation made it."""
    if _all_finite(result):
        return False
    if _any_nan(result):
        return not any(_any_nan(x) for x in inputs)
    return all(_all_finite(x) for x in inputs)


def check_forward(out: Any, inputs: Sequence[Any]) -> None:
    """Record where `out` was made; under `detect_anomaly`, raise if its operation produced a NaN or inf."""
    records = mode.anomaly
    line = record(records, out)
    if records.checks and _produced_anomaly(out.data, [x.data for x in inputs]):
        shown = ", ".join(_brief(x.data) for x in inputs)
        raise FloatingPointError(
            f"detect_anomaly: operation '{out._op}' produced {_brief(out.data)} "
            f"from inputs ({shown}), created at {line}"
        )


def _line_of(node: Any) -> str:
    """Where the user's code made `node`, if it was made while detecting anomalies."""
    origin = origin_of(mode.anomaly, node)
    return "<made outside detect_anomaly>" if origin is None else str(origin)


def _check_backward(node: Any, k: int, contribution: Any) -> None:
    raw = data_of(contribution)
    if _all_finite(raw):
        return
    shown = ", ".join(_brief(x.data) for x in node._prev)
    line = _line_of(node)
    raise FloatingPointError(
        f"detect_anomaly: the backward rule of '{node._op}' produced {_brief(raw)} for its "
        f"input #{k} (inputs: {shown}), node created at {line}"
    )


def _rule_anomaly(node: Any, error: FloatingPointError) -> FloatingPointError:
    shown = ", ".join(_brief(x.data) for x in node._prev)
    line = _line_of(node)
    step = str(error).removeprefix("detect_anomaly: ")
    return FloatingPointError(
        f"detect_anomaly: the backward rule of '{node._op}' (inputs: {shown}), node created at {line}, "
        f"failed with create_graph=True: {step}"
    )


def _brief(x: Any) -> str:
    if type(x) is float:
        return repr(x)
    x = np.asarray(x)  # a numpy scalar (a 0-d result) is shown as the 0-d array it stands for
    return f"array{tuple(x.shape)} with min {x.min() if x.size else '-'}, max {x.max() if x.size else '-'}"


def topological_order(root: Any) -> list:
    """Every node `root` depends on, each after all its inputs: a depth-first search with an
    explicit stack instead of recursion, so graph depth is limited only by memory. A node is
    expanded (its inputs pushed above it, then a None) the first time it comes off the stack, and
    placed when it comes off again, after the None: by then all its inputs are placed."""
    order: list = []
    expanded: set = set()
    stack = [root]
    push, pop, place, expand = stack.append, stack.pop, order.append, expanded.add
    while stack:
        node = pop()
        if node is None:
            place(pop())
            continue
        if node in expanded:  # pushed twice, expanded through the other consumer
            continue
        expand(node)
        a = node._a
        if a is None:  # a leaf has no inputs to wait for
            place(node)
            continue
        push(node)
        push(None)
        b = node._b
        if b is MANY:
            for child in reversed(a):
                if child not in expanded:
                    push(child)
        else:
            if b is not None and b not in expanded:
                push(b)
            if a not in expanded:
                push(a)
    return order


def backpropagate(
    root: Any, seed: Any, create_graph: bool = False, trace: list | None = None, into_grad: bool = False
) -> dict:
    """Map every node `root` depends on to d(root)/d(node): the chain rule, last node first.

    A node used by several others receives the sum of their contributions. With `into_grad` each
    node's gradient is also added to its `.grad` (what `backward()` does). `trace`, if given,
    receives one entry per node whose rule ran: `(node, g, [(input, share, its grad right after
    adding the share), ...])`, in the order the engine worked.
    """
    if create_graph or trace is not None or (_changes[0] and mode.anomaly is not None and mode.anomaly.checks):
        grads = _backpropagate_watched(root, seed, create_graph, trace)
        if into_grad:
            accumulate(grads)
        return grads
    grads = {root: seed}
    get = grads.get
    for node in reversed(topological_order(root)):
        g = get(node)
        if g is None:
            continue
        if into_grad and node.requires_grad:  # its consumers came first: all its gradient has arrived
            old = node.grad
            node.grad = g if old is None or (type(old) is float and old == 0.0) else old + g
        rule = node._rule
        if rule is None:
            continue
        # shares for inputs that need no gradient (constants) are kept too, but go no further: they
        # are leaves, and never reach a `.grad`; checking each input instead would cost more
        a, b = node._a, node._b
        if b is None:
            (da,) = rule(g, node.data, a.data)
            if da is not None:
                old = get(a)
                grads[a] = da if old is None else old + da
        elif b is not MANY:
            da, db = rule(g, node.data, a.data, b.data)
            if da is not None:
                old = get(a)
                grads[a] = da if old is None else old + da
            if db is not None:
                old = get(b)
                grads[b] = db if old is None else old + db
        else:
            for child, share in zip(a, rule(g, node.data, *[x.data for x in a])):
                if share is not None:
                    old = get(child)
                    grads[child] = share if old is None else old + share
    return grads


def _backpropagate_watched(root: Any, seed: Any, create_graph: bool, trace: list | None) -> dict:
    """`backpropagate` recording the gradient's graph, checking for anomalies, or tracing each step."""
    checking = mode.anomaly is not None and mode.anomaly.checks
    grads = {root: seed}
    with _recording(create_graph):
        for node in reversed(topological_order(root)):
            rule = node._rule
            g = grads.get(node)
            if rule is None or g is None:
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
                shares = rule(g, node.data, *[x.data for x in inputs])
            steps: list = []
            if trace is not None:
                trace.append((node, g, steps))
            for k, (child, share) in enumerate(zip(inputs, shares)):
                if share is None or not child.requires_grad:
                    continue
                if checking:
                    _check_backward(node, k, share)
                old = grads.get(child)
                grads[child] = share if old is None else old + share
                steps.append((child, share, grads[child]))
    return grads


def accumulate(grads: dict) -> None:
    """Add each node's new gradient to its `grad` (None, or a float 0.0, means none yet)."""
    for node, g in grads.items():
        old = node.grad
        node.grad = g if old is None or (type(old) is float and old == 0.0) else old + g


def _as_nodes(xs: Any, who: str, what: str) -> list:
    """A single node as a list of one (as PyTorch accepts), a sequence of nodes as a list."""
    if isinstance(xs, Node):
        return [xs]
    try:
        nodes = list(xs)
    except TypeError:
        raise TypeError(f"{who}: {what} must be a Value, a Tensor or a sequence of them, "
                        f"got {type(xs).__name__}") from None
    for x in nodes:
        if not isinstance(x, Node):
            raise TypeError(f"{who}: {what} must be Values or Tensors, got {type(x).__name__}")
    return nodes


def grad(output: Any, inputs: Any, grad_output: Any = None, create_graph: bool = False) -> list:
    """d(output)/d(input) for each input (one node or a sequence of them), without touching any `.grad`.

    `grad_output` is the upstream gradient (needed when output has more than one element). The
    results are floats for Values and Tensors (requiring no gradient) for Tensors, as
    torch.autograd.grad's; with `create_graph=True` they are nodes whose graph can be differentiated
    again. An input that `output` does not depend on gets a zero gradient.
    """
    if not isinstance(output, Node):
        raise TypeError(f"grad: the output must be a Value or a Tensor, got {type(output).__name__}")
    nodes = _as_nodes(inputs, "grad", "the inputs")
    output._check_inplace("grad")
    grads = backpropagate(output, output._seed(grad_output, create_graph, "backward"), create_graph)
    found = [grads[x] if x in grads and x.requires_grad else (x._zeros() if create_graph else data_of(x._zeros()))
             for x in nodes]
    return found if create_graph else output._gradients(found)


def zero_grads(parameters: Sequence[Any], set_to_none: bool = True) -> None:
    """Forget gradients: 0.0 for a Value (micrograd's starting grad), None for a Tensor (PyTorch's), or
    with `set_to_none=False` a Tensor's gradient of zeros. `parameters` is one node or a sequence of
    them (a Tensor is not taken as a sequence of its rows)."""
    for p in [parameters] if isinstance(parameters, Node) else parameters:
        if not isinstance(p, Node):
            raise TypeError(f"zero_grads: expected Values or Tensors, got {type(p).__name__}")
        keep = not set_to_none and isinstance(p.grad, Node) and type(p).initial_grad is None
        p.grad = p.grad._zeros() if keep else type(p).initial_grad
