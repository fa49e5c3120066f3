"""The Tensor engine: the scalar engine done on numpy arrays.

A `Tensor` is a node of the same core as `Value` (`glassgrad.autograd.Node`) whose `data` is an
array. Its elementwise operations are the very descriptions the scalar engine uses
(`glassgrad.ops`), computed on arrays, and their methods are made from those descriptions
(`glassgrad._tensor.tensor_methods`); the operations only arrays have (sums, matrix products,
indexing, softmax) are described in the same way, one `Op` each, in `glassgrad.ops.tensor_ops`: a
method checks its arguments and makes the node from the description (`_apply`). What changes is
the shape of things: where numpy broadcasts an input, the node's rule sums that input's share
back over the broadcast axes (`sum_to`, the derivative of broadcasting); a reduction's gradient
is spread back over the reduced axes.

The rules are written with operations that both numpy arrays and Tensors have, so the plain
backward pass runs them on arrays and `create_graph=True` runs the very same rules on Tensors,
recording the gradient as a graph that can be differentiated again.

This module holds the class and its node makers (`_apply`, `_binary`, `_constant`, ...). The class is
one `Tensor`, its methods written by concept in the modules beside it (mixins, each read by `Tensor`):
`conversions.py`, `shapes.py` (and indexing), `reductions.py`, `inplace.py` (in-place changes and
versions); `arguments.py` checks what a Tensor is made from, `functional.py` holds the functions of
tensors (`linear`, `where`, `cat`, ...).
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator
from functools import partial
from typing import Any

import numpy as np

from glassgrad._tensor.arguments import _as_array, _bound, _broadcast_shape, _is_number, _real
from glassgrad._tensor.conversions import Conversions
from glassgrad._tensor.dtypes import FLOATING, bool_, check_requires_grad, get_default_dtype, public, result_type
from glassgrad._tensor.functional import _matmul, where
from glassgrad._tensor.inplace import InPlace, _link_view, _writable_numbers
from glassgrad._tensor.memory import keep_freed_memory
from glassgrad._tensor.printing import Size, tensor_repr
from glassgrad._tensor.reductions import Reductions
from glassgrad._tensor.shapes import Shapes
from glassgrad.autograd import Node, data_of, no_grad, slots
from glassgrad.ops import DIV, MUL, POW, POW_K, Op, backward_name, describe, silent
from glassgrad.ops.tensor_elementwise import CLAMP, CLONE, MASKED_FILL
from glassgrad.ops.tensor_ops import sum_to
from glassgrad.ops.tensor_shapes import through

keep_freed_memory()  # a step's arrays reuse the last step's memory (see glassgrad._tensor.memory)


class Tensor(InPlace, Shapes, Reductions, Conversions, Node):
    """An array with a gradient: `data` is its value (a numpy array), `grad` is d(root)/d(self) after
    `backward()`, a Tensor that requires no gradient (the gradient's graph with `create_graph=True`).

    Leaves require no gradient unless made with `requires_grad=True` (parameters); a result
    requires a gradient when any of its inputs does.
    """

    # (clock, op) of the last in-place change; the clock when its history was set; what self was before
    # its last recorded in-place change (see `_inplace`); (base, steps) of a view (see `Op.view`); True for a
    # `.data` or a view of one, whose in-place changes are not counted (see `data`)
    __slots__ = ("_version", "_born", "_was", "_view", "_uncounted")
    __hash__ = Node.__hash__  # identity: the backward pass keys its dictionaries by node, whatever `==` means
    versioned = True  # changed in place: results are stamped with the in-place clock (see `_inplace`)
    quiet = silent  # a backward pass gives inf and nan as results, as PyTorch, not numpy's warnings

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, out: Any = None, **kwargs: Any) -> Any:
        """numpy meeting a Tensor. Into an array (`ndarray += tensor`, `out=` arrays, `np.add.at`)
        the tensor gives its numbers (`array += -lr * p.grad` changes the array in place); an
        operator with an array or a numpy number on the left (`ndarray + tensor`, `@`, `<`, ...) is
        the Tensor's own, recorded in the graph as `tensor + ndarray` is. Other numpy functions of
        tensors that need no gradient give numpy's result; of one that needs a gradient, TypeError."""
        if out is not None or method == "at":
            if not all(isinstance(o, np.ndarray) for o in (inputs[:1] if out is None else out)):
                return NotImplemented
            if out is not None:
                kwargs["out"] = out
        else:
            operation = _UFUNC_OPERATORS.get(ufunc)
            if method == "__call__" and operation is not None and not kwargs:
                return operation(*(x if isinstance(x, Tensor) else _operand(x, self) for x in inputs))
            if any(isinstance(x, Tensor) and x.requires_grad for x in inputs):
                raise TypeError(
                    f"numpy's {ufunc.__name__} ({method}) of a tensor that requires grad would lose its gradient; "
                    "use the tensor's own operation, or numpy on .detach().numpy()"
                )
        return getattr(ufunc, method)(*(data_of(x) for x in inputs), **kwargs)

    @classmethod
    def aligned(cls, inputs: tuple, op: str, rule: Any) -> tuple[tuple, Any]:
        """`inputs` and `rule` fit for one elementwise operation: inputs are converted to PyTorch's result
        dtype (`_promoted`: an `astype` node for one that needs a gradient, so its gradient keeps its dtype);
        inputs of different shapes are broadcast by numpy, and the rule's shares are summed back to
        each input's own shape (`sum_to`, the derivative of broadcasting)."""
        dtype = inputs[0]._data.dtype
        if dtype.kind != "f" or any(x._data.dtype != dtype for x in inputs):  # (one floating dtype: nothing to do)
            inputs = _promoted(inputs, _floating(op))
        shapes = [x._data.shape for x in inputs]
        if any(s != shapes[0] for s in shapes):
            shape = _broadcast_shape(shapes, op)
            if any(x.requires_grad and s != shape for x, s in zip(inputs, shapes)):
                rule = partial(_summed_back, rule)
        return inputs, rule

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None, label: str = "") -> None:
        self._data = _as_array(data, dtype, get_default_dtype())  # Python numbers: float32, as torch.Tensor
        check_requires_grad(self._data.dtype, requires_grad, type(self).__name__)
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self.label = label
        self._op = ""
        self._a = self._b = None
        self._rule = None

    @classmethod
    def constant(cls, x: Any, op: str, like: Tensor | None = None) -> Tensor:
        """A Tensor as it is; a number or an array as a leaf that requires no gradient (a number in the
        dtype of `like`, the Tensor it is combined with, as PyTorch's scalars)."""
        if isinstance(x, Tensor):
            return x
        if like is not None:
            return _operand(x, like)
        try:
            return _constant(_as_array(x))
        except TypeError:
            raise TypeError(f"{op}: got {type(x).__name__}; expected a Tensor, a number or an array") from None

    @staticmethod
    def raw(data: Any, op: str) -> np.ndarray:
        """An operation's result as a Tensor's data."""
        return np.asarray(data)

    @property
    def data(self) -> Tensor:
        """self's numbers (shared, not a copy) as a new Tensor with no history, as PyTorch's `.data`: a
        change through it (`p.data -= lr * p.grad`, `p.data.zero_()`) is neither recorded nor counted
        as a change of self. `numpy()` gives the array itself. Numbers self cannot change in place (a
        0-d result's number, a gradient array the backward pass gave several nodes) are first made
        self's own array, so that a change through `.data` is one of self's (an expand's stay its base's)."""
        if _writable_numbers(self) is None:
            self._data = np.array(self._data)
        elif not self._data.flags.writeable:  # an expand (or a view of one): the same view of its base's `.data`
            base, steps = self._view
            with no_grad():
                return through(steps, base.data)
        out = _constant(self._data)
        out._uncounted = True
        return out

    @data.setter
    def data(self, value: Tensor) -> None:
        """`t.data = other`: t takes other's numbers (shared; any shape or dtype), keeping its gradient,
        `requires_grad` and history, as in PyTorch."""
        if not isinstance(value, Tensor):
            raise TypeError(f"Tensor.data: expected a Tensor to take the numbers of, got {type(value).__name__}; "
                            "use glassgrad.tensor(...) to make one, or t.data.copy_(...) to write into t's own")
        if self.requires_grad and value._data.dtype not in FLOATING:
            raise RuntimeError(f"Tensor.data: a tensor that requires grad cannot take {public(value._data.dtype)} "
                               "numbers; it needs a floating dtype")
        self._data = value._data

    def detach(self) -> Tensor:
        """The same array (not a copy) as a new leaf that requires no gradient."""
        return _constant(self._data)

    @property
    def shape(self) -> Size:
        """The length of each axis, as PyTorch's `torch.Size`: `glassgrad.Size([27, 27])`, a tuple."""
        return Size(self._data.shape)

    @property
    def dtype(self) -> Any:
        """The element type, as PyTorch names it (`glassgrad.float32`); it equals numpy's dtype."""
        return public(self._data.dtype)

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def __repr__(self) -> str:
        """PyTorch's text: `tensor([1., 2.], requires_grad=True)` (see `glassgrad/_tensor/printing.py`)."""
        made_by = backward_name(self._op) if self._rule is not None and self.requires_grad else None
        return tensor_repr(self._data, self.requires_grad, made_by)

    def __len__(self) -> int:
        """The length of the first axis; a 0-d tensor has none (TypeError, as numpy and PyTorch)."""
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor; use .item() for its number")
        return self._data.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        """The rows along the first axis, each a Tensor (indexing, so gradients flow back), as PyTorch."""
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor; use .item() for its number")
        return (self[i] for i in range(self._data.shape[0]))

    # Autograd, in PyTorch's words.
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Make this leaf require a gradient (or not), in place; returns it."""
        if self._rule is not None:
            raise RuntimeError(
                "requires_grad_: only a leaf's requires_grad can be changed; use .detach() for a new leaf"
            )
        check_requires_grad(self._data.dtype, requires_grad, "requires_grad_")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> None:
        """Keep this intermediate result's gradient after backward: glassgrad keeps every node's anyway."""

    def clone(self) -> Tensor:
        """A copy with its own array; gradients flow through it to self."""
        return _apply(CLONE, (self,))

    # Elementwise arithmetic (+ - * /, comparisons, ...) is made from the registry (_tensor/tensor_methods.py);
    # numbers and arrays act as constants. `**` picks x ** y or x ** k for a number k.
    def __pow__(self, other: Any) -> Tensor:
        if isinstance(other, (Tensor, np.ndarray, list, tuple)):
            return _power(self, _operand(other, self))
        k = _real(other, "unsupported exponent for **")
        x = self
        if self._data.dtype.kind != "f" or type(other) not in (float, int):  # (else of self's dtype)
            dtype = result_type(self, other)
            if dtype not in FLOATING:  # integers (or bools) to an integer power stay so, as PyTorch (a constant)
                if k < 0:
                    raise RuntimeError("**: integers to negative integer powers are not allowed (as PyTorch)")
                return _constant(np.asarray(np.power(self._data.astype(np.int64), int(other)).astype(dtype)))
            x = self if self.dtype == dtype else self.astype(dtype)
        name, rule = POW_K.bound(k)
        return _result(POW_K.on_arrays(k, x._data), x, None, name, rule)

    def __rpow__(self, other: Any) -> Tensor:
        return _power(_operand(other, self), self)

    def __matmul__(self, other: Any) -> Tensor:
        return _matmul(self, other if isinstance(other, Tensor) else _operand(other, self))

    def __rmatmul__(self, other: Any) -> Tensor:
        return _matmul(_operand(other, self), self)

    # The elementwise functions (exp, log, tanh, sqrt, ...) are made from the registry (_tensor/tensor_methods.py).
    def clamp(self, min: float | None = None, max: float | None = None) -> Tensor:
        """x limited to [min, max] (either may be None); the gradient flows where min <= x <= max."""
        if min is None and max is None:
            raise ValueError("clamp: give min=, max= or both")
        bounds = {which: _bound(b, which) for which, b in (("min", min), ("max", max)) if b is not None}
        dtype = result_type(self, *bounds.values())  # an integer tensor and a float bound: the default dtype
        x = self if self.dtype == dtype else self.astype(dtype)
        return _apply(CLAMP, (x,), bounds.get("min", -np.inf), bounds.get("max", np.inf))

    def pow(self, exponent: Any) -> Tensor:
        """x ** exponent."""
        return self**exponent

    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        """self with `value` (a number or a 0-d tensor) where the boolean `mask` is true; no gradient
        flows to those elements of self (a value that requires grad gets their gradient's sum)."""
        drop = np.asarray(data_of(mask))
        if drop.dtype != bool:
            raise TypeError(f"masked_fill: the mask must be boolean (e.g. x > 0), got {drop.dtype}")
        try:
            fits = np.broadcast_shapes(drop.shape, self.shape) == self.shape
        except ValueError:
            fits = False
        if not fits:
            shapes = f"{tuple(drop.shape)} for a tensor of shape {tuple(self.shape)}"
            raise ValueError(f"masked_fill: a mask of shape {shapes}")
        keep = ~drop  # as small as the mask is: numpy broadcasts it
        if isinstance(value, Tensor):
            if value.ndim:
                raise ValueError(f"masked_fill: the value must be a number or a 0-d tensor, got shape {value.shape}")
            if value.requires_grad:
                return where(drop, value, self)
            value = value.item()
        value = np.asarray(_real(value, "masked_fill: the value"), dtype=self.dtype)
        return _apply(MASKED_FILL, (self,), keep, value)

    @property
    def is_leaf(self) -> bool:
        """True for a tensor made by the user (or that requires no gradient), False for a recorded result."""
        return self._rule is None

    @property
    def grad_fn(self) -> str | None:
        """The name of the operation that made this recorded result (PyTorch gives its backward node), or None."""
        return self._op if self._rule is not None else None

    def _applied(self, op: Op, *params: Any) -> Tensor:
        """The node of `op` (a description of `glassgrad.tensor_ops`) of self: how a derivative rule
        written in tensor_ops makes Tensor nodes with create_graph=True."""
        return _apply(op, (self,), *params)

    def _seed(self, gradient: Any, create_graph: bool, who: str) -> Tensor | np.ndarray:
        """d(self)/d(self): `gradient` (self's shape), or 1 for a one-element tensor, as PyTorch."""
        if gradient is None:
            if self._data.size != 1:
                raise ValueError(
                    f"{who}: a tensor of shape {tuple(self.shape)} needs an explicit gradient; only a one-element "
                    "tensor gets the implicit gradient 1 (reduce it first, e.g. with .sum())"
                )
            seed = np.ones_like(self._data)
        elif isinstance(gradient, Tensor) and create_graph:
            seed = gradient.astype(self.dtype)  # kept as a node, so the gradient can be differentiated w.r.t. it
        else:
            seed = _as_array(gradient, self.dtype)
        if seed.shape != self.shape:
            raise ValueError(f"{who}: gradient of shape {tuple(seed.shape)} for a tensor of shape {tuple(self.shape)}")
        return _constant(seed) if create_graph and not isinstance(seed, Tensor) else seed

    def _zeros(self) -> Tensor:
        return _constant(np.zeros_like(self._data))

    @staticmethod
    def _gradients(grads: list) -> list:
        """`glassgrad.grad`'s arrays as Tensors (leaves that require no gradient), as torch.autograd.grad's."""
        seen: set = set()
        wrapped = []
        for g in grads:
            if isinstance(g, np.generic):  # a 0-d gradient numpy computed as a scalar
                g = np.array(g)
            if type(g) is np.ndarray:
                if g.base is not None or id(g) in seen or not g.flags.writeable:
                    g = np.array(g)
                seen.add(id(g))
                g = _constant(g)
            wrapped.append(g)
        return wrapped

    @staticmethod
    def _settle(reached: dict) -> None:
        """Make each `.grad` array the backward pass left a Tensor that requires no gradient. A leaf's gets
        an array of its own, writable (an optimizer may change it in place); an intermediate result's a
        read-only view (no copy), as the backward pass may have given one array to several nodes: an
        in-place operation on that Tensor then replaces its array instead of writing into the shared one."""
        shared = set()
        for node in reached:  # each node before its inputs (the pass's order), which may have received its very array
            g = node.grad
            if isinstance(g, np.generic):  # a 0-d gradient numpy computed as a scalar
                g = np.array(g)
            elif type(g) is not np.ndarray:
                continue
            if node._rule is None:
                if g.base is not None or id(g) in shared or not g.flags.writeable:
                    g = np.array(g)
            else:
                shared.add(id(g))
                g = g.view()
                g.flags.writeable = False
            node.grad = _constant(g)


_new = object.__new__
_result = Tensor.result


_UFUNC_OPERATORS: dict[np.ufunc, Any] = {}  # numpy functions that are a Tensor operator or method (the registry)


def _apply(op: Op, inputs: tuple, *params: Any, need: tuple | None = None) -> Tensor:
    """The node of `op` (a description of `glassgrad.ops.tensor_ops`) with its parameters `params` applied
    to `inputs`: its forward computes the data, its rule is bound to the parameters (and to `need`,
    which inputs need a share, when some do not)."""
    rule = partial(op.derivative, *params) if params else op.derivative
    if need is not None and not all(need):
        rule = partial(rule, need=need)
    if len(inputs) == 1:
        out = _result(op.on_arrays(*params, inputs[0]._data), inputs[0], None, op.name, rule)
        if op.view:
            _link_view(out, inputs[0], op, params)
        return out
    if len(inputs) == 2:
        a, b = inputs
        return _result(op.on_arrays(*params, a._data, b._data), a, b, op.name, rule)
    return _result(op.on_arrays(*params, *[x._data for x in inputs]), *slots(inputs), op.name, rule)


_SHARES_ON_NEED = (MUL, DIV)  # the elementwise rules that take `need`, as the matrix products' do


def _unary(op: Op, a: Tensor) -> Tensor:
    """`op` of a as a node (an integer or bool tensor converted to the default dtype if `op.floating`)."""
    if a._data.dtype.kind != "f":
        _no_bools(op, a)
        if op.floating:  # exp of an integer tensor is of the default dtype, as PyTorch
            a = _constant(a._data.astype(get_default_dtype()))
    return _result(op.on_arrays(a._data), a, None, op.name, op.derivative)


_NO_BOOLS = {"-": "subtraction, the `-` operator, with", "neg": "negation, the `-` operator, on", "abs": "abs of",
             "relu": "relu of", "@": "a matrix product of"}  # operations PyTorch has no kernel of bool tensors for


def _no_bools(op: Op, *xs: Any) -> None:
    """Refuse, as PyTorch, an operation of `_NO_BOOLS` of a bool tensor (or a Python bool)."""
    if op.name in _NO_BOOLS and any(isinstance(x, (bool, np.bool_)) or getattr(x, "dtype", None) == bool_ for x in xs):
        raise RuntimeError(f"{_NO_BOOLS[op.name]} a bool tensor is not supported (as PyTorch); convert it with "
                           ".long() or .float() first")


def _reflected(op: Op, a: Tensor, other: Any) -> Tensor:
    """`other op a` for `a.__r<op>__(other)`: `2 - t`."""
    _no_bools(op, other)
    return _binary(op, _operand(other, a), a)


def _binary(op: Op, a: Tensor, b: Any, *params: Any) -> Tensor:
    """`a op b` as a node (of `op` with its parameters `params`, if it has any). Inputs of different
    dtypes are converted to PyTorch's result dtype (by an `astype` node, so each input's gradient keeps
    its dtype). Inputs of different shapes are broadcast by numpy, and the node's rule sums each share
    back to its input's shape (`sum_to`)."""
    if not isinstance(b, Tensor):
        _no_bools(op, b)
        b = _operand(b, a)
    if params:
        name, rule = op.bound(*params)
        (a, b), rule = Tensor.aligned((a, b), name, rule)
        return _result(op.on_arrays(*params, a._data, b._data), a, b, name, rule)
    rule = op.derivative
    if op in _SHARES_ON_NEED:
        Tensor._refresh_inputs(a, b)  # a view's present history first: `need` reads requires_grad
        if not (a.requires_grad and b.requires_grad):  # a constant's share is not computed
            rule = partial(rule, need=(a.requires_grad, b.requires_grad))
    dtype = a._data.dtype  # (numpy's dtype: cheaper than the `dtype` property)
    if (dtype != b._data.dtype or dtype.kind != "f"  # (a Tensor's floating numbers are float32 or float64)
            or a._data.shape != b._data.shape and not _is_number(a) and not _is_number(b)):
        _no_bools(op, a, b)
        (a, b), rule = Tensor.aligned((a, b), op.name, rule)
    return _result(op.on_arrays(a._data, b._data), a, b, op.name, rule)


def _promoted(inputs: tuple, floating: bool = False) -> tuple:
    """`inputs` in the dtype PyTorch computes an operation of them in (`result_type`; the default dtype when
    the operation's result is `floating` and they are integers or bools). An input that needs a gradient is
    converted by an `astype` node, so that its gradient keeps its own dtype."""
    dtype = result_type(*inputs)
    if floating and dtype not in FLOATING:
        dtype = get_default_dtype()
    return tuple(x if x.dtype == dtype else x.astype(dtype) for x in inputs)


def _floating(name: str) -> bool:
    """Whether the operation that names its nodes `name` always gives a floating result (`Op.floating`)."""
    op = _description(name)
    return op is not None and op.floating


def _power(a: Tensor, b: Tensor) -> Tensor:
    """a ** b of two tensors, in PyTorch's result dtype (bools have none, as in PyTorch)."""
    if result_type(a, b) == bool_:
        raise RuntimeError("**: a bool tensor to a bool tensor's power is not supported (as PyTorch); "
                           "convert them with .long() or .float() first")
    return _binary(POW, a, b)


def _floating_only(x: Tensor, who: str) -> None:
    if x._data.dtype.kind != "f":  # (a Tensor's floating numbers are float32 or float64)
        raise RuntimeError(f"{who}: needs a floating tensor, got {x.dtype} (as PyTorch); convert it with .float() or "
                           ".double() first")


def _summed_back(rule: Any, g, out, *inputs):
    """`rule`'s shares for inputs that numpy broadcast, summed back over the broadcast axes to each
    input's own shape (the derivative of broadcasting)."""
    return tuple(None if s is None else sum_to(s, x.shape) for s, x in zip(rule(g, out, *inputs), inputs))


def _operand(x: Any, like: Tensor) -> Tensor:
    """The other side of an operator as a constant leaf: a number in the dtype PyTorch gives `like` and it
    (`like`'s, unless the number is of a higher category: an integer tensor and a float make the default dtype)."""
    if isinstance(x, Tensor):
        return x
    if type(x) in (float, int) and like._data.dtype.kind == "f":  # the common case, without the abstract-class
        return _constant(np.asarray(x if type(x) is float else _real(x, "operand"), dtype=like._data.dtype))  # checks
    if isinstance(x, (numbers.Real, np.bool_)):
        dtype = result_type(like, x)
        if dtype.kind in "iu" and isinstance(x, numbers.Integral) and not np.iinfo(dtype).min <= x <= np.iinfo(
                dtype).max:
            dtype = np.int64  # a number outside an integer tensor's range
        return _constant(np.asarray(_real(x, "operand") if dtype in FLOATING else x, dtype=dtype))
    if isinstance(x, (np.ndarray, list, tuple)):
        array = np.asarray(x)
        if array.dtype.kind in "biu":
            return _constant(array.astype(like.dtype))
    return Tensor.constant(x, "unsupported operand")


def _constant(data: np.ndarray) -> Tensor:
    """A leaf that requires no gradient, wrapping `data` without a copy."""
    out = _new(Tensor)
    out._data = data
    out.grad = None
    out.requires_grad = False
    out.label = out._op = ""
    out._a = out._b = None
    out._rule = None
    return out


def _description(name: str) -> Op | None:
    """The description of the operation that names its nodes `name` (None if unknown: it reads everything)."""
    described = describe(name)
    return described[0] if described else None


import glassgrad._tensor.tensor_methods  # noqa: E402, F401  (the methods made from the registry join Tensor)
