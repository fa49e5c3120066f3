"""`Node`, what `Value` and `Tensor` share: a result that remembers how it was made, made by one factory.

A node holds `data` (a float or a numpy array), `grad`, `requires_grad`, `label`, `_op` (the name
of the operation that made it), its inputs (`_prev`, in order) and `_rule`: None for a leaf, else
the operation's derivative rule, `rule(g, out, *inputs)`, giving each input's share of the
upstream gradient `g` (see `glassgrad.ops`). The backward pass is in `backward.py`.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

from glassgrad.autograd.anomaly import check_forward
from glassgrad.autograd.modes import count_change, mode, watch

_new = object.__new__


MANY = object()  # `_b` of a node with more than two inputs: they are all in `_a`, as a tuple
inplace_clock = [0]  # in-place changes so far: a node made at clock c must not see an input changed after c


def tick_inplace_clock() -> int:
    """Count one more in-place change (of a Tensor) and give the clock; from the first on, the
    factory takes its watchful path, which stamps each result with the clock."""
    if not inplace_clock[0]:
        count_change(1, modes=False)
    inplace_clock[0] += 1
    return inplace_clock[0]


def slots(inputs: tuple) -> tuple[Any, Any]:
    """`inputs` as a node keeps them, in `_a` and `_b` (see `Node`)."""
    n = len(inputs)
    return (None, None) if n == 0 else (inputs[0], None) if n == 1 else inputs if n == 2 else (tuple(inputs), MANY)


class Node:
    """What `Value` and `Tensor` share: a result that remembers how it was made, and `backward()`.

    A subclass says what data it holds: `holds_floats`, `raw` (an operation's output as its data),
    `constant` (a number or array as a leaf that needs no gradient), and its seed gradient.

    The inputs are kept in two slots, `_a` and `_b` (None where there is none; for more than two
    inputs, all of them in `_a` and MANY in `_b`), rather than in a tuple: a node is then one object
    for Python's garbage collector instead of two, which halves its work while a graph is built.
    `_prev` gives them as a tuple.
    """

    __slots__ = ("_data", "grad", "requires_grad", "label", "_op", "_rule", "_a", "_b", "__weakref__")
    holds_floats = False
    initial_grad: Any = None
    versioned = False  # whether its data can change in place (Tensor): results are stamped with the clock
    quiet = staticmethod(nullcontext)  # the numeric error state a backward pass runs in (numpy's, for arrays)

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
        if n == 0:  # a leaf, the common case: no call to `slots`
            self._a = self._b = None
        else:
            self._a, self._b = slots(inputs)

    @classmethod
    def result(cls, data: Any, a: Any, b: Any, op: str, rule: Any) -> Any:
        """A new node holding `data`, made by `op` from input `a` (and `b`; b None for one input;
        `*slots(inputs)` for any number): recorded when grad mode is on and an input requires a
        gradient, else a leaf; stamped with the in-place clock (Tensors), checked for NaN/inf under
        `detect_anomaly`."""
        out = _new(cls)
        out._data = data
        out.grad = cls.initial_grad
        out.label = ""
        out._op = op
        watching = watch[0]  # a mode block is open somewhere, or a tensor was changed in place
        if watching and cls.versioned:
            cls._refresh_inputs(a, b)
        if (not watching or mode.grad_enabled) and (
            (a.requires_grad or b is not None and b.requires_grad) if b is not MANY else _any_requires_grad(a)
        ):
            out.requires_grad = True
            out._rule = rule
            out._a = a
            out._b = b
        else:
            out.requires_grad = False
            out._rule = out._a = out._b = None
        if watching:
            _watch(out, a, b)
        return out

    @classmethod
    def aligned(cls, inputs: tuple, op: str, rule: Any) -> tuple[tuple, Any]:
        """`inputs` and the derivative `rule` made fit for one elementwise operation (Tensors: dtypes
        promoted, shares of broadcast inputs summed back to their shapes)."""
        return inputs, rule

    def backward(self, gradient: Any = None, retain_graph: bool | None = None, create_graph: bool = False) -> None:
        """Add d(self)/d(node) to `grad` of every node self depends on (leaves and intermediate results).

        `gradient` is the upstream gradient, self's shape (1 when self is one number). Gradients
        accumulate, as in PyTorch and micrograd: zero them between steps. With `create_graph=True`
        each `grad` is itself a node whose graph can be differentiated again. `retain_graph` is
        PyTorch's argument, in PyTorch's place: the graph is always kept, so another backward pass
        through it works with or without it.
        """
        from glassgrad.autograd.backward import run_backward  # the pass imports this module

        run_backward(self, gradient, create_graph, "backward", into_grad=True)

    def detach(self) -> Any:
        """The same data as a new leaf: gradients do not flow through it to what made self."""
        return self.constant(self._data, "detach")

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

    @staticmethod
    def _refresh_inputs(a: Any, b: Any) -> None:
        """Before a node is made of `a` (and `b`) once something changed in place: bring their histories up to date."""

    @staticmethod
    def _settle(reached: dict) -> None:
        """After `backward()` without create_graph: make the raw `.grad`s the pass left what users see."""


def _any_requires_grad(inputs: tuple) -> bool:
    for x in inputs:
        if x.requires_grad:
            return True
    return False


def _watch(out: Node, a: Any, b: Any) -> None:
    """The factory's watchful path: stamp a Tensor with the in-place clock, check for NaN/inf under detect_anomaly."""
    if inplace_clock[0] and out.versioned:
        out._born = inplace_clock[0]
    if mode.anomaly is not None:
        check_forward(out, _inputs(a, b))


def _inputs(a: Any, b: Any) -> tuple:
    """The inputs kept in slots `a` and `b`, as a tuple."""
    return () if a is None else (a,) if b is None else a if b is MANY else (a, b)


def data_of(x: Any) -> Any:
    """The raw data of a node (a float or an array); anything else as it is."""
    return x._data if isinstance(x, Node) else x


def zeros_like(x: Any) -> Any:
    """Zeros shaped like `x`: 0.0 for a float, an array for an array, a constant node for a node."""
    if type(x) is float:
        return 0.0
    if isinstance(x, Node):
        return x._zeros()
    import numpy as np  # only arrays get here

    return np.zeros_like(x)
