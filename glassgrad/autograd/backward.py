"""The backward pass, micrograd's three steps: order the graph so that each node comes after its
inputs, seed the root's gradient, and walk the order in reverse applying each node's rule.

`backward()` and `glassgrad.grad` both enter through `run_backward`; `backpropagate` is the one
loop, with a watched mode (recording the gradient's graph, checking for anomalies, tracing each
step for the stepper page) as a flag inside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from typing import Any

from glassgrad.autograd.anomaly import check_backward, rule_anomaly
from glassgrad.autograd.modes import is_anomaly_enabled, recording
from glassgrad.autograd.node import MANY, Node, data_of


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

    A node used by several others receives the sum of their contributions; when its turn comes all
    of them have arrived, and with `into_grad` it is added to its `.grad` (what `backward()` does).
    The pass is watched when `create_graph` (rules run on nodes, so the gradient is a graph),
    under `detect_anomaly`, or when `trace` is given: it receives one entry per node whose rule
    ran, `(node, g, [(input, share, its gradient right after adding the share), ...])`.
    """
    watched = create_graph or trace is not None or is_anomaly_enabled()
    grads = {root: seed}
    get = grads.get
    with recording(True) if create_graph else nullcontext():
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
            if watched:
                _watched_step(node, rule, g, grads, create_graph, trace)
                continue
            # shares for inputs that need no gradient (constants) are kept too, but go no further: they
            # are leaves, and never reach a `.grad`; checking each input instead would cost more
            a, b = node._a, node._b
            if b is None:
                (da,) = rule(g, node._data, a._data)
                if da is not None:
                    old = get(a)
                    grads[a] = da if old is None else old + da
            elif b is not MANY:
                da, db = rule(g, node._data, a._data, b._data)
                if da is not None:
                    old = get(a)
                    grads[a] = da if old is None else old + da
                if db is not None:
                    old = get(b)
                    grads[b] = db if old is None else old + db
            else:
                for child, share in zip(a, rule(g, node._data, *[x._data for x in a])):
                    if share is not None:
                        old = get(child)
                        grads[child] = share if old is None else old + share
    return grads


def _watched_step(node: Any, rule: Any, g: Any, grads: dict, create_graph: bool, trace: list | None) -> None:
    """One node's rule in a watched pass: on nodes with `create_graph`, checked for NaN/inf under
    `detect_anomaly`, recorded in `trace`; only inputs that require a gradient get a share."""
    checking = is_anomaly_enabled()
    inputs = node._prev
    if create_graph:
        try:
            shares = rule(g, node, *inputs)
        except FloatingPointError as error:  # a step of the rule, recorded as a node, made NaN/inf
            if not checking:
                raise
            raise rule_anomaly(node, error) from None
    else:
        shares = rule(g, node._data, *[x._data for x in inputs])
    steps: list = []
    if trace is not None:
        trace.append((node, g, steps))
    for k, (child, share) in enumerate(zip(inputs, shares)):
        if share is None or not child.requires_grad:
            continue
        if checking:
            check_backward(node, k, data_of(share))
        old = grads.get(child)
        grads[child] = share if old is None else old + share
        steps.append((child, share, grads[child]))


def run_backward(root: Any, gradient: Any, create_graph: bool, who: str, into_grad: bool) -> dict:
    """The backward pass from `root` as `backward()` (into_grad) and `grad()` run it: refused if it
    reads numbers changed in place, or for `backward()` if root needs no gradient, seeded with
    `gradient`, in the engine's numeric error state (numpy's warnings off for Tensors: inf and nan
    are results, as in PyTorch). `grad()` of a root that needs no gradient gives zeros: a derivative
    that glassgrad records as a constant (relu's, abs') is one PyTorch records as a node."""
    if into_grad and not root.requires_grad:
        kind = type(root).__name__.lower()
        raise RuntimeError(f"{who}: this {kind} does not require grad (no input has requires_grad=True)")
    root._check_inplace(who)
    seed = root._seed(gradient, create_graph, who)
    with root.quiet():
        grads = backpropagate(root, seed, create_graph, into_grad=into_grad)
    if into_grad and not create_graph:
        root._settle(grads)
    return grads


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


def grad(output: Any, inputs: Any, grad_output: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False) -> list:
    """d(output)/d(input) for each input (one node or a sequence of them), without touching any `.grad`.

    `grad_output` is the upstream gradient (needed when output has more than one element). The
    results are floats for Values and Tensors (requiring no gradient) for Tensors, as
    torch.autograd.grad's; with `create_graph=True` they are nodes whose graph can be differentiated
    again. An input that `output` does not depend on gets a zero gradient. `retain_graph` is accepted
    where PyTorch takes it: the graph is always kept.
    """
    if not isinstance(output, Node):
        raise TypeError(f"grad: the output must be a Value or a Tensor, got {type(output).__name__}")
    nodes = _as_nodes(inputs, "grad", "the inputs")
    grads = run_backward(output, grad_output, create_graph, "grad", into_grad=False)
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
