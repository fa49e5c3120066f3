"""The registry's machinery: `Op`, the description of one operation (what it computes on floats and
arrays, its derivative, how it is written, under which names it is reached), and `OPS`, every
operation by the name of its nodes, with `register` and the look-ups the engines, the pictures and
the surfaces make (`describe`, `backward_name`, `rule_of`, `functions`, ...). Each name means one
operation; no name of glassgrad's own can be taken again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache, partial
from typing import Any

from glassgrad.ops import floatmath


class LazyNumpy:
    """Stands for numpy in a module's globals (`np = LazyNumpy(globals())`) until an attribute is
    first read, then puts numpy itself there: the module reads `np.x` as usual, at full speed after
    the first time, and numpy is imported only when an array is met (Values never need it)."""

    def __init__(self, namespace: dict) -> None:
        self._namespace = namespace

    def __getattr__(self, name: str) -> Any:
        import numpy

        self._namespace["np"] = numpy
        return getattr(numpy, name)


np = LazyNumpy(globals())

ATOM = 5  # the precedence of a name or a call: never needs parentheses


@dataclass(frozen=True, slots=True, eq=False)
class Op:
    """Everything about one operation.

    `name` is the `_op` of the nodes it makes; in a parameterised operation `{k}` stands for the
    parameter (`**{k}` makes nodes named `**2`), and `on_floats`, `on_arrays` and `derivative` take
    the parameters first. `derivative` is None for an operation without a gradient (a comparison:
    its result is a constant) and for a composite one (`on_arrays` None too: its method is made of
    other operations, whose nodes it makes). `formula` writes the result from its inputs `{0}`,
    `{1}` (or is a function of the list of input names); `local[k]` writes d(result)/d(input k),
    with `{out}` for the result.

    `reads[k]` names the numbers the derivative reads to give input k its share, written as in
    `local` (`"{1}"`: input 1's values; `"{out}"`: the result's; `""`: nothing but shapes); one
    string stands for every input. The in-place check asks it: a node refuses to backpropagate only
    when a tensor its derivative reads was changed in place after the node was made, as PyTorch.
    None (a user's operation, by default) means everything: all inputs and the result.

    The surfaces: `method` is the Tensor method of PyTorch's name that makes the operation (and
    `aliases` more names for it). For `kind` "unary" or "binary" (elementwise, no parameters) the
    methods are made from this description: the Tensor's, the Value's (when it has `on_floats`),
    the operator `dunder` (`"add"`: `__add__` and `__radd__`) and the numpy `ufunc` dispatched to it;
    otherwise the method is written by hand, checking its arguments as PyTorch does, and makes its
    nodes from this description. `function` makes `glassgrad.<method>(input, ...)` too, as
    `torch.<method>`; `inplace` the in-place method `<method>_`.

    `view`: the result may be a view of its (one) input, sharing its numbers (reshape, transpose,
    basic indexing), as PyTorch's views: an in-place change of the one changes the other, and the
    input's history is rebased on the change (see `Tensor._inplace`).

    `floating`: the result is floating whatever the inputs (true division, exp, log, ...): the Tensor
    engine converts integer and boolean inputs to the default dtype first, as PyTorch.

    `backward` is PyTorch's name for such a node, which a tensor's repr shows: `grad_fn=<AddBackward0>`.
    """

    name: str
    derivative: Callable[..., Sequence[Any]] | None = None
    on_floats: Callable[..., float] | None = None
    on_arrays: Callable[..., Any] | None = None
    formula: str | Callable[[list[str]], str] = ""
    local: tuple[str, ...] | Callable[[list[str], str, int], str] = ()
    precedence: int = ATOM
    word: str = ""
    reads: str | tuple[str, ...] | Callable[[int, int], str] | None = None
    kind: str = ""
    method: str = ""
    aliases: tuple[str, ...] = ()
    dunder: str = ""
    function: bool = False
    ufunc: str = ""
    inplace: bool = False
    view: bool = False
    floating: bool = False
    doc: str = ""  # what the operation computes, in one line: the docstring of the methods made from it
    backward: str = ""  # PyTorch's name for the node (a tensor's `grad_fn=<...>`), e.g. AddBackward0

    def names(self) -> tuple[str, ...]:
        """Every name this operation is reached by: its nodes', its methods' and its operator's."""
        methods = (self.method, *self.aliases)
        inplace = tuple(f"{m}_" for m in methods if m) if self.inplace else ()
        dunder = (f"__{self.dunder}__", f"__r{self.dunder}__") if self.kind == "binary" else (f"__{self.dunder}__",)
        dunder = dunder if self.dunder else ()
        return tuple(n for n in (self.name, *methods, *inplace, *dunder) if n)

    def bound(self, *params: Any) -> tuple[str, Callable[..., Sequence[Any]]]:
        """The name of the nodes this operation makes with `params` (`**{k}` with 2: `**2`) and its
        rule with them bound: what both engines record."""
        return _bound(self, params)

    def reads_for(self, k: int, n: int) -> frozenset:
        """What the share of input k (of n) is computed from: input positions, and "out" for the result."""
        if self.reads is None:
            return frozenset((*range(n), "out"))
        what = self.reads
        if not isinstance(what, str):
            what = what(k, n) if callable(what) else what[k]
        return _read_names(what)

    def write(self, args: list[str], params: Sequence[Any] = ()) -> str:
        """The result written from its inputs' names (or numbers) `args`."""
        if callable(self.formula):
            return self.formula(args)
        if not self.formula:
            return f"{self.name}({', '.join(args)})"
        return self.formula.format(*args, **self._named(params))

    def write_local(self, args: list[str], out: str, k: int, params: Sequence[Any] = ()) -> str:
        """d(result)/d(input k) in symbols ('' if the description has none)."""
        if callable(self.local):
            return self.local(args, out, k)
        if k >= len(self.local):
            return ""
        return self.local[k].format(*args, out=out, **self._named(params))

    def _named(self, params: Sequence[Any]) -> dict[str, str]:
        return {p: floatmath.shortest(v) for p, v in zip(_PARAMETER.findall(self.name), params)}


_PARAMETER = re.compile(r"\{(\w+)\}")


@cache
def _read_names(what: str) -> frozenset:
    return frozenset(name if name == "out" else int(name) for name in _PARAMETER.findall(what))


@lru_cache(maxsize=256)
def _bound(op: Op, params: tuple) -> tuple[str, Callable[..., Sequence[Any]]]:
    if not params:
        return op.name, op.derivative
    return op.name.format(**op._named(params)), partial(op.derivative, *params)


_NUMBER = r"(-?(?:\d+(?:\.\d*)?(?:e[-+]?\d+)?|inf|nan))"

OPS: dict[str, Op] = {}  # the registry: every operation by the name of its nodes
_PATTERNS: list[tuple[re.Pattern, Op]] = []
_BUILT_IN: set[str] = set()  # every name of glassgrad's own operations (nodes, methods, operators)


def register(op: Op, built_in: bool = False) -> Op:
    """Make `op` known by its names, so that its surfaces are made and nodes named after it can be
    made by hand and drawn. Each name means one operation: no name of glassgrad's own operations
    (its nodes', methods' or operators') can be taken again; a user's operation can be defined again."""
    taken = [name for name in op.names() if name in _BUILT_IN]
    known = describe(op.name)
    if not taken and known is not None and known[0].name in _BUILT_IN:
        taken = [op.name]
    if taken:
        raise ValueError(f"{taken[0]!r} is the name of one of glassgrad's own operations; choose another name")
    if built_in:
        _BUILT_IN.update(op.names())
    if _PARAMETER.search(op.name):
        pattern = re.escape(op.name)
        for p in _PARAMETER.findall(op.name):
            pattern = pattern.replace(re.escape("{" + p + "}"), _NUMBER)
        _PATTERNS.append((re.compile(pattern), op))
    OPS[op.name] = op
    return op


def built_in(op: Op) -> Op:
    """`register` for one of glassgrad's own operations."""
    return register(op, built_in=True)


def describe(name: str) -> tuple[Op, tuple[float, ...]] | None:
    """The description of the operation that names its nodes `name`, and its parameters; None if unknown."""
    op = OPS.get(name)
    if op is not None and not _PARAMETER.search(name):
        return op, ()
    for pattern, op in _PATTERNS:
        match = pattern.fullmatch(name)
        if match:
            return op, tuple(float(x) for x in match.groups())
    return None


def backward_name(name: str) -> str:
    """PyTorch's name for a node named `name` (its `grad_fn`, as a tensor's repr shows it): the
    description's `backward`, or the name and "Backward" for a user's operation."""
    known = describe(name)
    return known[0].backward if known is not None and known[0].backward else f"{name}Backward"


def rule_of(name: str) -> Callable[..., Sequence[Any]] | None:
    """The derivative rule for a Value's nodes named `name`, with its parameters bound; None if no
    operation of that name computes on floats."""
    found = describe(name)
    if found is None or found[0].on_floats is None:
        return None
    op, params = found
    return op.bound(*params)[1]


def on_floats() -> list[str]:
    """The names of the operations a Value's nodes can have (`{k}` for a parameter)."""
    return [name for name, op in OPS.items() if op.on_floats is not None]


def functions() -> dict[str, bool]:
    """glassgrad's functions of tensors (`glassgrad.exp`, ...: the entries that say `function`), each
    with whether it is the Tensor method of its name (False: a function of several tensors, `cat`)."""
    made = {}
    for op in OPS.values():
        if op.function:
            made.update(dict.fromkeys((op.method, *op.aliases), True) if op.method else {op.name: False})
    return made


def elementwise(kind: str) -> list[Op]:
    """The operations of `kind` ("unary" or "binary") whose methods are made from their description."""
    return [op for op in OPS.values() if op.kind == kind]

