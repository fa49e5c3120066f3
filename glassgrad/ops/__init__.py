"""One registry of operations: each is one description of what it computes, its derivative, how it
is written and under which names it is reached.

An `Op` holds everything about one operation, read by both engines (`Value` computes with
`on_floats`, `Tensor` with `on_arrays`), by the backward pass (`derivative`), by the pictures
(`formula`, `local`, `precedence`, `word`) and by the surfaces made from it (`kind`, `method`,
`dunder`, `function`, `ufunc`, `inplace`): an elementwise operation's Value and Tensor methods,
its operator, its `glassgrad.<name>` function, its numpy dispatch and `explain`'s function list
all come from its one entry, so adding `sqrt` is one `register` call. Its derivative rule is a
vector-Jacobian product, `rule(g, out, *inputs)`, giving each input's share of the upstream
gradient `g`: the plain backward pass calls it with raw numbers (floats or numpy arrays),
`create_graph=True` with nodes, so one rule gives first and higher derivatives.

`OPS` is the one registry, by name (`registry.py`: `Op`, `register`, the look-ups); each name means
one operation. The elementwise operations both engines share are described in `elementwise.py`,
with the helpers their rules are written with in `helpers.py`; the Tensor engine's own (sums,
matrix products, indexing) in `tensor_ops.py`, `tensor_shapes.py`, `tensor_elementwise.py`,
`scans.py` and `composites.py`. A user's operation is one `glassgrad.op` decorator (`op`, below);
it cannot take a name of glassgrad's own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from glassgrad.autograd import Node, slots
from glassgrad.ops import floatmath  # noqa: F401  (glassgrad.ops.floatmath)
from glassgrad.ops.elementwise import (  # noqa: F401  (the descriptions, as glassgrad.ops.ADD, ...)
    ABS,
    ADD,
    COS,
    DIV,
    ERF,
    EXP,
    LOG,
    MUL,
    NEG,
    POW,
    POW_K,
    RELU,
    SIGMOID,
    SIN,
    SQRT,
    SUB,
    TANH,
    WEIGHTED_SUM,
)
from glassgrad.ops.helpers import div, log, numpy_function, power, power_by, silent, zero_where  # noqa: F401
from glassgrad.ops.registry import (  # noqa: F401  (the registry, as glassgrad.ops.OPS, ...)
    ATOM,
    OPS,
    LazyNumpy,
    Op,
    backward_name,
    built_in,
    describe,
    elementwise,
    functions,
    on_floats,
    register,
    rule_of,
)


def op(derivative: Callable[..., Sequence[Any]], name: str | None = None, formula: str = "",
       local: tuple[str, ...] = (), reads: str | tuple[str, ...] | None = None
       ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Turn `forward`, a function of raw numbers or arrays, into an operation of Values and Tensors.

        @glassgrad.op(derivative=lambda g, out, x: (g * 3 * x * x,))
        def cube(x):
            return x ** 3

    `derivative(g, out, *inputs)` returns each input's share of the upstream gradient `g` (the
    chain rule's local derivative times g). Written with arithmetic and the nodes' own methods it
    also runs on nodes, so `create_graph=True` differentiates it again. The nodes are named `name`
    (the function's name by default); `formula` and `local` say how the stepper writes them;
    `reads` what the derivative reads (see `Op`; by default everything, the safe answer for the
    in-place check).
    """

    def make(forward: Callable[..., Any]) -> Callable[..., Any]:
        op_name = name or forward.__name__
        description = register(Op(op_name, _counted(op_name, derivative), forward, forward, formula, local,
                                  reads=reads))

        def apply(*inputs: Any) -> Any:
            return call(description, *inputs)

        apply.__name__, apply.__qualname__, apply.__doc__ = forward.__name__, forward.__qualname__, forward.__doc__
        apply.op = description
        return apply

    return make


def _counted(name: str, derivative: Callable[..., Sequence[Any]]) -> Callable[..., Sequence[Any]]:
    """`derivative`, checked to give one share per input: a user's rule that returned too few would
    silently leave inputs without gradient."""

    def rule(g: Any, out: Any, *inputs: Any) -> Sequence[Any]:
        shares = derivative(g, out, *inputs)
        if not isinstance(shares, (tuple, list)) or len(shares) != len(inputs):
            got = f"{len(shares)} shares" if isinstance(shares, (tuple, list)) else type(shares).__name__
            raise TypeError(
                f"the derivative of {name!r} returned {got} for {len(inputs)} input(s); it must return a tuple "
                f"with one share per input, e.g. lambda g, out, x, y: (g * y, g * x)"
            )
        return shares

    rule.__doc__ = derivative.__doc__
    return rule


def call(op: Op, *inputs: Any, params: tuple = ()) -> Any:
    """`op` applied to `inputs`, a node of the engine of the first node among them (numbers and
    arrays become constants, Tensors of other shapes and dtypes are broadcast and converted as
    arithmetic does); the engine's own forward for its kind of data."""
    like = next((x for x in inputs if isinstance(x, Node)), None)
    if like is None:
        raise TypeError(f"{op.name}: expected at least one Value or Tensor among the inputs, got "
                        f"{', '.join(type(x).__name__ for x in inputs)}")
    engine = type(like)
    name, rule = op.bound(*params)
    nodes, rule = engine.aligned(tuple(engine.constant(x, name, like) for x in inputs), name, rule)
    forward = op.on_floats if engine.holds_floats else op.on_arrays
    data = forward(*params, *(x._data for x in nodes))
    return engine.result(engine.raw(data, name), *slots(nodes), name, rule)


from glassgrad.ops import tensor_ops, tensor_shapes, tensor_elementwise, scans, composites  # noqa: E402, F401, I001  (in this order: the Tensor's own)
