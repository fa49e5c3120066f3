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
"""

from __future__ import annotations

import contextlib
import math
import numbers
import operator
import warnings
import weakref
from collections.abc import Iterator, Sequence
from functools import partial
from typing import Any, NamedTuple, NoReturn

import numpy as np

from glassgrad._tensor.devices import CPU, not_available, target_dtype
from glassgrad._tensor.devices import device as device_type
from glassgrad._tensor.dtypes import (
    FLOATING,
    NAMES,
    SUPPORTED,
    bool_,
    can_cast,
    check_requires_grad,
    get_default_dtype,
    public,
    result_type,
)
from glassgrad._tensor.memory import keep_freed_memory
from glassgrad._tensor.printing import Size, tensor_repr
from glassgrad.autograd import MANY, Node, data_of, enable_grad, is_grad_enabled, slots
from glassgrad.autograd.node import inplace_clock as _clock
from glassgrad.autograd.node import tick_inplace_clock
from glassgrad.ops import DIV, MUL, POW, POW_K, Op, backward_name, describe, silent
from glassgrad.ops.tensor_ops import (
    ASTYPE,
    CAT,
    CLAMP,
    CLONE,
    COPY_SLICES,
    CROSS_ENTROPY,
    EXPAND,
    INDEX,
    INDEX_PUT,
    LAYER_NORM,
    LINEAR,
    LOG_SOFTMAX,
    MASKED_FILL,
    MATMUL,
    MAX,
    MAX_DIM,
    MEAN,
    PERMUTE,
    RESHAPE,
    SOFTMAX,
    STD,
    SUM,
    VAR,
    WHERE,
    Split,
    at,
    sum_to,
    through,
    torch_index,
)

_ACCEPTED = "real numbers (bool, int or float) as a number, nested lists, a numpy array or a Tensor"

keep_freed_memory()  # a step's arrays reuse the last step's memory (see glassgrad._tensor.memory)


def _is_dtype(dtype: Any, allowed: Any) -> bool:
    """Whether `dtype` names one of the `allowed` dtypes (anything numpy does not know as a dtype is not)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numpy's deprecated aliases ('a') warn
        try:
            return np.dtype(dtype) in allowed
        except (TypeError, ValueError):
            return False


def _as_array(data: Any, dtype: Any = None, floating: Any = np.float64) -> np.ndarray:
    """A fresh array of `data`: float32/float64 arrays kept, other real numbers made `floating`, unless
    `dtype` asks for one of the supported dtypes."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None and not _is_dtype(dtype, SUPPORTED):
        raise TypeError(f"Tensor(dtype={dtype!r}): expected {NAMES}")
    try:
        array = np.asarray(data)
    except (TypeError, ValueError, OverflowError) as error:
        raise TypeError(f"Tensor(data): got {type(data).__name__} ({error}); expected {_ACCEPTED}") from None
    if array.dtype.kind == "O" and all(isinstance(x, (numbers.Real, np.bool_)) for x in array.flat):
        try:  # numbers numpy keeps as Python objects: an integer too big for int64, mixed with others
            array = array.astype(np.float64)
        except OverflowError:
            raise ValueError(
                f"Tensor(data): an integer in {data!r:.60} does not fit a float64 (about ±1.8e308)"
            ) from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"Tensor(data): got {type(data).__name__} of dtype {array.dtype}; expected {_ACCEPTED}")
    if dtype is None:
        dtype = array.dtype if array.dtype in FLOATING and _numpy_floats(data) else floating
    return np.array(array, dtype=dtype)


def _numpy_floats(data: Any) -> bool:
    """True for numbers that come with a numpy float dtype of their own (an array, a numpy float)."""
    return isinstance(data, (np.ndarray, np.floating, Tensor))


def _real(x: Any, what: str) -> float:
    """A real number as a float; ValueError if it does not fit one, TypeError if it is no number."""
    if not isinstance(x, (numbers.Real, np.bool_)):
        raise TypeError(f"{what}: got {type(x).__name__}; expected a real number")
    try:
        return float(x)
    except OverflowError:
        raise ValueError(f"{what}: {x!r:.40} does not fit a float64 (about ±1.8e308)") from None


def _bound(x: Any, which: str) -> Any:
    """A bound of clamp: an integer (or bool) as it is, another number as a float, a Tensor or an array as
    its numbers."""
    if isinstance(x, (bool, np.bool_)) or isinstance(x, numbers.Integral) and -(2**63) <= int(x) < 2**63:
        return x
    if isinstance(x, numbers.Real):
        return _real(x, f"clamp: {which}")
    array = np.asarray(data_of(x))
    if array.dtype.kind not in "biuf":
        raise TypeError(f"clamp: {which}: got {type(x).__name__} of dtype {array.dtype}; expected a real number "
                        "or a real tensor")
    return array


def _integer(n: Any, what: str) -> int:
    """An int from a Python or numpy integer (not a bool or a float)."""
    if type(n) is int:  # the common case, without the abstract-class checks below
        return n
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (numbers.Integral, np.integer)):
        raise TypeError(f"{what} must be an integer, got {type(n).__name__} {n!r}")
    return operator.index(n)


def _axes(axis: Any, ndim: int, who: str, reduction: bool = False) -> tuple[int, ...] | None:
    """`axis` (None, an int or a sequence of ints) as a tuple of axes in [0, ndim); negative axes count
    from the end, as in PyTorch, and anything out of range is an IndexError naming the range."""
    if axis is None:
        return None
    many = isinstance(axis, (tuple, list))
    if many and not axis and reduction:  # PyTorch reduces over every axis, numpy over none: say which is meant
        raise ValueError(f"{who}: an empty tuple of axes is ambiguous; use axis=None for all axes")
    result = []
    for a in axis if many else (axis,):
        a = _integer(a, f"{who}: an axis")
        if not -max(ndim, 1) <= a < max(ndim, 1):
            raise IndexError(
                f"{who}: axis {a} is out of range for a tensor with {ndim} dimensions "
                f"(expected an axis in [{-max(ndim, 1)}, {max(ndim, 1) - 1}])"
            )
        result.append(a % ndim if ndim else 0)
    if len(set(result)) != len(result):
        raise ValueError(f"{who}: axis {axis} repeats an axis")
    return tuple(result) if ndim else ()  # a 0-d tensor takes axis 0 or -1 and reduces over nothing


def _axis(axis: Any, ndim: int, who: str) -> int | None:
    """One axis (softmax, log_softmax, dim= of max, ...) in [0, ndim), as `_axes`; None for a 0-d tensor,
    which takes axis 0 or -1 as PyTorch does (its only element)."""
    if axis is None or isinstance(axis, (tuple, list)):
        raise TypeError(f"{who}: axis must be one integer, got {axis!r}")
    axes = _axes(axis, ndim, who)
    return axes[0] if axes else None


def _sizes(shape: tuple, who: str) -> tuple[int, ...]:
    """A shape given as sizes or as one sequence of sizes: ints (Python or numpy), as a tuple."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(_integer(n, f"{who}: a size") for n in shape)


def _reduction(dim: Any, keepdim: bool, axis: Any, keepdims: bool | None, ndim: int, who: str):
    """The axes (a tuple, or None for all) and keepdims of a reduction given PyTorch's or numpy's keywords."""
    if dim is not None and axis is not None:
        raise TypeError(f"{who}: give dim= (PyTorch) or axis= (numpy), not both")
    axes = _axes(axis if axis is not None else dim, ndim, who, reduction=True)
    return axes, bool(keepdim if keepdims is None else keepdims)


class MaxMin(NamedTuple):
    """What `max(dim)` and `min(dim)` return, as PyTorch: the values and their indices (int64)."""

    values: Tensor
    indices: Tensor


class TopK(NamedTuple):
    """What `topk` returns: the k values and their indices (int64)."""

    values: Tensor
    indices: Tensor


_recorded = [0]  # recorded in-place changes so far: while 0, no view's history can be out of date


class Tensor(Node):
    """An array with a gradient: `data` is its value (a numpy array), `grad` is d(root)/d(self) after
    `backward()`, a Tensor that requires no gradient (the gradient's graph with `create_graph=True`).

    Leaves require no gradient unless made with `requires_grad=True` (parameters); a result
    requires a gradient when any of its inputs does.
    """

    # (clock, op) of the last in-place change; the clock when its history was set; what self was before
    # its last recorded in-place change (see `_inplace`); (base, steps) of a view (see `Op.view`)
    __slots__ = ("_version", "_born", "_was", "_view")
    __hash__ = Node.__hash__  # identity: the backward pass keys its dictionaries by node, whatever `==` means
    versioned = True  # changed in place: results are stamped with the in-place clock (see `_inplace`)
    quiet = silent  # a backward pass gives inf and nan as results, as PyTorch, not numpy's warnings

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, out: Any = None, **kwargs: Any) -> Any:
        """numpy meeting a Tensor. Into an array (`ndarray += tensor`, `out=` arrays, `np.add.at`)
        the tensor gives its numbers, so `p.data += -lr * p.grad` changes the array in place; an
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

    @staticmethod
    def _refresh_inputs(a: Any, b: Any) -> None:
        """Before the factory makes a node of `a` (and `b`), once a recorded in-place change was made:
        each input made from its present history (see `_refresh`)."""
        if _recorded[0]:
            for x in (a if b is MANY else (a,) if b is None else (a, b)):
                _refresh(x)

    @classmethod
    def aligned(cls, inputs: tuple, op: str, rule: Any) -> tuple[tuple, Any]:
        """`inputs` and `rule` fit for one elementwise operation: inputs are converted to PyTorch's result
        dtype (`_promoted`: an `astype` node for one that needs a gradient, so its gradient keeps its dtype);
        inputs of different shapes are broadcast by numpy, and the rule's shares are summed back to
        each input's own shape (`sum_to`, the derivative of broadcasting)."""
        inputs = _promoted(inputs, _floating(op))
        shapes = {x.shape for x in inputs}
        if len(shapes) > 1:
            shape = _broadcast_shape([x.shape for x in inputs], op)
            if any(x.requires_grad and x.shape != shape for x in inputs):
                rule = partial(_summed_back, rule)
        return inputs, rule

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None, label: str = "") -> None:
        self.data = _as_array(data, dtype, get_default_dtype())  # Python numbers: float32, as torch.Tensor
        check_requires_grad(self.data.dtype, requires_grad, type(self).__name__)
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

    def detach(self) -> Tensor:
        """The same array (not a copy) as a new leaf that requires no gradient."""
        return _constant(self.data)

    @property
    def shape(self) -> Size:
        """The length of each axis, as PyTorch's `torch.Size`: `glassgrad.Size([27, 27])`, a tuple."""
        return Size(self.data.shape)

    @property
    def dtype(self) -> Any:
        """The element type, as PyTorch names it (`glassgrad.float32`); it equals numpy's dtype."""
        return public(self.data.dtype)

    @property
    def ndim(self) -> int:
        return self.data.ndim

    def __repr__(self) -> str:
        """PyTorch's text: `tensor([1., 2.], requires_grad=True)` (see `glassgrad/_tensor/printing.py`)."""
        made_by = backward_name(self._op) if self._rule is not None and self.requires_grad else None
        return tensor_repr(self.data, self.requires_grad, made_by)

    def __len__(self) -> int:
        """The length of the first axis; a 0-d tensor has none (TypeError, as numpy and PyTorch)."""
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor; use .item() for its number")
        return self.data.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        """The rows along the first axis, each a Tensor (indexing, so gradients flow back), as PyTorch."""
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor; use .item() for its number")
        return (self[i] for i in range(self.data.shape[0]))

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """np.asarray(tensor) is its data (not the rows one by one)."""
        if dtype is not None and np.dtype(dtype) != self.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def __bool__(self) -> bool:
        """The truth of a one-element tensor; more elements are ambiguous (as PyTorch and numpy)."""
        if self.data.size != 1:
            raise RuntimeError(f"bool() of a tensor with {self.data.size} elements is ambiguous; use .any() or .all()")
        return bool(self.data)

    def item(self) -> float | int | bool:
        """The value of a one-element tensor as a Python number (int for int64, bool for bool)."""
        if self.data.size != 1:
            raise ValueError(f"item: only a one-element tensor has an item, this one has shape {tuple(self.shape)}")
        return self.data.reshape(()).item()

    def numpy(self) -> np.ndarray:
        """The data array itself (not a copy)."""
        return self.data

    def tolist(self) -> Any:
        """The numbers as (nested) Python lists; a 0-d tensor's as one number."""
        return self.data.tolist()

    def astype(self, dtype: Any) -> Tensor:
        """The same numbers as `dtype` (float32, float64, int64, int32, uint8 or bool). Between floating dtypes the
        gradient is converted back; an integer or boolean result is a constant, as in PyTorch."""
        if dtype is None or not _is_dtype(dtype, SUPPORTED):
            raise TypeError(f"astype({dtype!r}): expected {NAMES}")
        dtype = np.dtype(dtype)
        if dtype == self.dtype:
            return self
        if dtype in FLOATING and self.dtype in FLOATING:
            return _apply(ASTYPE, (self,), dtype)
        return _constant(ASTYPE.on_arrays(dtype, self.data))

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """PyTorch's `to`: `to('cpu')`, `to(dtype)`, `to('cpu', dtype)`, `to(other)` (its dtype). Self when
        nothing changes (unless `copy=True`); any device but the CPU is an error (glassgrad runs on the CPU)."""
        dtype = target_dtype(args, kwargs, "to")
        out = self if dtype is None else self.astype(dtype)
        return out.clone() if kwargs.get("copy") and out is self else out

    def cpu(self) -> Tensor:
        """Self: a glassgrad tensor is always on the CPU."""
        return self

    def cuda(self, device: Any = None, non_blocking: bool = False) -> NoReturn:
        """An error: glassgrad has no GPU (the message says what to write instead)."""
        raise not_available("cuda")

    @property
    def device(self) -> device_type:
        """Where the numbers are: always `device(type='cpu')`."""
        return CPU

    is_cuda = False

    def float(self) -> Tensor:
        """As float32 (PyTorch's `float`)."""
        return self.astype(np.float32)

    def double(self) -> Tensor:
        """As float64."""
        return self.astype(np.float64)

    def long(self) -> Tensor:
        """As int64 (truncating toward zero), a constant."""
        return self.astype(np.int64)

    def int(self) -> Tensor:
        """As int32 (truncating toward zero), a constant."""
        return self.astype(np.int32)

    def byte(self) -> Tensor:
        """As uint8, a constant."""
        return self.astype(np.uint8)

    def bool(self) -> Tensor:
        """As bool: True where nonzero."""
        return self.astype(np.bool_)

    # A one-element tensor is a number.
    def __float__(self) -> float:
        return float(self._number("float"))

    def __int__(self) -> int:
        return int(self._number("int"))

    def __index__(self) -> int:
        if self.dtype.kind not in "iu":
            raise TypeError(f"only integer tensors of a single element can be used as an index, got {self.dtype}")
        return int(self._number("index"))

    def __format__(self, spec: str) -> str:
        if self.data.size == 1 and self.ndim == 0:
            return format(self.item(), spec)
        if spec:
            raise TypeError(f"format spec {spec!r} needs a one-element (0-d) tensor, got shape {tuple(self.shape)}")
        return str(self)

    def _number(self, who: str) -> Any:
        if self.data.size != 1:
            raise TypeError(
                f"{who}(): only a one-element tensor can be converted to a Python number, got shape {tuple(self.shape)}"
            )
        return self.data.reshape(()).item()

    # The shape, in PyTorch's words.
    def size(self, dim: int | None = None) -> Size | int:
        """The shape (a `glassgrad.Size`), or the length of axis `dim`."""
        if dim is None:
            return self.shape
        one = _axis(dim, self.ndim, "size")
        if one is None:
            raise IndexError(f"size: a 0-d tensor has no dimension {dim}")
        return self.shape[one]

    def dim(self) -> int:
        """The number of axes."""
        return self.ndim

    def numel(self) -> int:
        """The number of elements."""
        return self.data.size

    nelement = numel

    # Autograd, in PyTorch's words.
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Make this leaf require a gradient (or not), in place; returns it."""
        if self._rule is not None:
            raise RuntimeError(
                "requires_grad_: only a leaf's requires_grad can be changed; use .detach() for a new leaf"
            )
        check_requires_grad(self.data.dtype, requires_grad, "requires_grad_")
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
        dtype = result_type(self, other)
        if dtype not in FLOATING:  # integers (or bools) to an integer power stay so, as PyTorch (a constant)
            if k < 0:
                raise RuntimeError("**: integers to negative integer powers are not allowed (as PyTorch)")
            return _constant(np.asarray(np.power(self.data.astype(np.int64), int(other)).astype(dtype)))
        x = self if self.dtype == dtype else self.astype(dtype)
        name, rule = POW_K.bound(k)
        return _result(POW_K.on_arrays(k, x.data), x, None, name, rule)

    def __rpow__(self, other: Any) -> Tensor:
        return _power(_operand(other, self), self)

    def __matmul__(self, other: Any) -> Tensor:
        return _matmul(self, other if isinstance(other, Tensor) else _operand(other, self))

    def __rmatmul__(self, other: Any) -> Tensor:
        return _matmul(_operand(other, self), self)

    def all(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """Whether every element (along `dim`) is nonzero, as a bool Tensor."""
        return _constant(np.asarray(self.data.all(axis=_axes(dim, self.ndim, "all"), keepdims=keepdim)))

    def any(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """Whether some element (along `dim`) is nonzero, as a bool Tensor."""
        return _constant(np.asarray(self.data.any(axis=_axes(dim, self.ndim, "any"), keepdims=keepdim)))

    # In-place changes, with PyTorch's rules: see `_inplace`.
    def __iadd__(self, other: Any) -> Tensor:
        _refuse_overlap(self.data, other, "+=")
        return self._inplace("+=", operator.add, other)

    def __isub__(self, other: Any) -> Tensor:
        _refuse_overlap(self.data, other, "-=")
        return self._inplace("-=", operator.sub, other)

    def __imul__(self, other: Any) -> Tensor:
        _refuse_overlap(self.data, other, "*=")
        return self._inplace("*=", operator.mul, other)

    def __itruediv__(self, other: Any) -> Tensor:
        _refuse_overlap(self.data, other, "/=")
        return self._inplace("/=", operator.truediv, other)

    def __setitem__(self, index: Any, value: Any) -> None:
        """t[index] = value, as PyTorch indexes (value broadcast to the indexed elements)."""
        index = _as_index(index)
        if isinstance(value, Tensor):  # PyTorch copies into the view of a basic index (value broadcast), else index_put
            if isinstance(index, Split) or any(isinstance(i, np.ndarray) for i in index):
                _refuse_overlap(self.data, value.data, "setitem", full=True)
            else:
                written = self.data[index]
                if np.may_share_memory(written, value.data):  # (the check costs less than broadcasting)
                    with contextlib.suppress(ValueError):  # a value of a wrong shape is refused below
                        same = value.data.shape == written.shape
                        _refuse_overlap(written, value.data if same else np.broadcast_to(value.data, written.shape),
                                        "setitem")
        self._inplace("setitem", lambda x, v: _index_put(x, index, v), value, cast=True)

    def zero_(self) -> Tensor:
        """Set every element to 0, in place."""
        return self.fill_(0)

    def fill_(self, value: Any) -> Tensor:
        """Set every element to `value`, in place."""
        return self._inplace("fill_", lambda x, v: _index_put(x, Ellipsis, v), value, cast=True)

    def _inplace(self, op: str, compute: Any, other: Any = None, cast: bool = False) -> Tensor:
        """Change self in place to `compute(self, other)`, as PyTorch's in-place operations do.

        Under `no_grad`, or when nothing requires a gradient, only the numbers change. Otherwise the
        change is recorded: self becomes the node `compute(old self, other)`, where old self is a copy
        that keeps self's history, so gradients still flow through what self was (and `other` is that
        copy when it is self: `y += y` adds y's old numbers to themselves). A view (`Op.view`) changes its
        base: the base is rebased on the view's new value (`copy_slices`, PyTorch's CopySlices), so
        later uses of the base differentiate through the change. A leaf that requires a gradient (or a
        view of one) cannot change outside `no_grad` (its gradient would be of a value it no longer
        has), and a node that used self before the change refuses to backpropagate (see `_check_versions`).
        """
        if _recorded[0]:
            _refresh(self)
        recording = is_grad_enabled() and (self.requires_grad or getattr(other, "requires_grad", False))
        view = getattr(self, "_view", None)
        if recording:
            _check_changeable(self, view, op)
        source = self._snapshot() if recording else _constant(self.data)
        operand = other
        if other is self:  # y *= y: the operand is y's numbers before the change, as a copy of its own
            operand = source._snapshot() if recording else source
        new = compute(source, operand)
        if new.shape != self.shape:
            raise RuntimeError(
                f"{op}: the result has shape {tuple(new.shape)} but the tensor changed in place has shape "
                f"{tuple(self.shape)}"
            )
        if not cast and not can_cast(new.dtype, self.dtype):
            raise RuntimeError(f"{op}: the result's dtype {new.dtype} can't be cast to the tensor's dtype {self.dtype}")
        if recording and new.dtype != self.dtype and new.dtype in FLOATING:  # computed in the promoted dtype, as
            new = new.astype(self.dtype)  # PyTorch, and kept in self's: an astype node converts the gradient back
        if recording and view is not None:  # the base changes (and with it self's numbers), recorded
            base, steps = view
            base._inplace(op, lambda b, v: _apply(COPY_SLICES, (b, v), steps), new)
        else:
            if self.data.flags.writeable:
                np.copyto(self.data, new.data, casting="unsafe")
            else:
                self.data = new.data.astype(self.dtype)
            tick_inplace_clock()
            _note_storage_change(self, op)
        self._version = (_clock[0], op)
        if recording:
            _recorded[0] += 1
            source._version = self._version  # the result it was, that its derivative may read, is no more
            if other is self:  # ...and the operand is the tensor this very change changed, after reading it
                operand._version = (_clock[0] + 1, op)
            self._op, self._prev, self._rule, self.requires_grad = new._op, new._prev, new._rule, True
            self._born = new._born = _clock[0]  # new is what self is now (and a view's base was rebased on it)
            self._was = source
        return self

    def _snapshot(self) -> Tensor:
        """A copy of self as it is now, history included: what an in-place change is computed from,
        and what nodes made from self before the change are given back by `_check_versions`."""
        old = _new(Tensor)
        old.data, old.grad, old.requires_grad, old.label = self.data.copy(), None, self.requires_grad, self.label
        old._op, old._prev, old._rule = self._op, self._prev, self._rule
        for name in ("_born", "_was", "_version"):
            if hasattr(self, name):
                setattr(old, name, getattr(self, name))
        return old

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

    # Reductions: PyTorch's dim=/keepdim= or numpy's axis=/keepdims=.
    def sum(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: bool | None = None) -> Tensor:
        """The sum over `dim` (all axes when None)."""
        axis, keepdims = _reduction(dim, keepdim, axis, keepdims, self.ndim, "sum")
        x = self if self.dtype in FLOATING else self.astype(np.int64)  # integers and bools sum as int64, as PyTorch
        return _apply(SUM, (x,), axis, keepdims)

    def mean(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: bool | None = None) -> Tensor:
        """The sum over `dim` divided by the number of elements summed."""
        _floating_only(self, "mean")
        axis, keepdims = _reduction(dim, keepdim, axis, keepdims, self.ndim, "mean")
        n = math.prod(self.shape[a] for a in (range(self.ndim) if axis is None else axis))
        return _apply(MEAN, (self,), axis, keepdims, n)

    def var(
        self, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *, correction: float | None = None
    ) -> Tensor:
        """sum((x - mean)^2) / (n - correction) over `dim`: unbiased (correction 1, Bessel's) by default,
        as PyTorch; `unbiased=False` or `correction=0` divides by n."""
        return _apply(VAR, (self,), *self._variance(dim, unbiased, keepdim, correction, "var"))

    def std(
        self, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *, correction: float | None = None
    ) -> Tensor:
        """The square root of `var` (unbiased by default, as PyTorch)."""
        return _apply(STD, (self,), *self._variance(dim, unbiased, keepdim, correction, "std"))

    def _variance(self, dim: Any, unbiased: bool | None, keepdim: bool, correction: float | None, who: str) -> tuple:
        """The parameters of var and std: (axes, keepdim, n - correction)."""
        if unbiased is not None and correction is not None:
            raise ValueError(f"{who}: give unbiased= or correction=, not both")
        _floating_only(self, who)
        c = correction if correction is not None else (0 if unbiased is False else 1)
        axis, keepdim = _reduction(dim, keepdim, None, None, self.ndim, who)
        n = math.prod(self.shape[a] for a in (range(self.ndim) if axis is None else axis))
        return axis, keepdim, float(max(n - _real(c, f"{who}: correction"), 0))

    def max(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: bool | None = None) -> Any:
        """The largest element; over one `dim`, PyTorch's (values, indices) pair; over numpy's `axis=`,
        the values. The gradient goes to the arg-max along one axis, and is shared evenly among ties
        for a reduction over all axes or a tuple of axes."""
        if dim is not None and axis is None:
            one = _axis(dim, self.ndim, "max")  # None for a 0-d tensor: its only element
            values = self.max(axis=one, keepdims=keepdim)
            return MaxMin(values, self.argmax(one, keepdim))
        one_axis = isinstance(axis, (int, np.integer))
        axis, keepdims = _reduction(None, keepdim, axis, keepdims, self.ndim, "max")
        if self.data.size == 0 and (axis is None or any(self.shape[a] == 0 for a in axis)):
            raise ValueError(f"max: the tensor of shape {tuple(self.shape)} is empty along the axes reduced; a "
                             "maximum needs at least one element")
        if one_axis and axis:  # PyTorch's max(dim): to the arg-max, which its derivative reads
            return _apply(MAX_DIM, (self,), axis, keepdims, np.expand_dims(self.data.argmax(axis=axis[0]), axis[0]))
        return _apply(MAX, (self,), axis, keepdims)

    def min(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: bool | None = None) -> Any:
        """The smallest element: -max(-x), with max's conventions."""
        if dim is not None and axis is None:
            one = _axis(dim, self.ndim, "min")
            return MaxMin(-(-self).max(axis=one, keepdims=keepdim), self.argmin(one, keepdim))
        return -(-self).max(axis=axis, keepdims=keepdim if keepdims is None else keepdims)

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """The index of the largest element (of the flattened tensor when `dim` is None), int64."""
        return _arg(np.argmax, self, dim, keepdim, "argmax")

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """The index of the smallest element, int64."""
        return _arg(np.argmin, self, dim, keepdim, "argmin")

    def softmax(self, dim: int = -1, *, axis: int | None = None) -> Tensor:
        """e^x / sum(e^x) along `dim` (numpy's `axis=` too), computed as e^(x - max x) so that it cannot overflow."""
        _floating_only(self, "softmax")
        axis = _axis(dim if axis is None else axis, self.ndim, "softmax")
        return _apply(SOFTMAX, (self,), axis)

    def log_softmax(self, dim: int = -1, *, axis: int | None = None) -> Tensor:
        """x - log(sum(e^x)) along `dim` (numpy's `axis=` too), computed from x - max x so that it cannot overflow."""
        _floating_only(self, "log_softmax")
        axis = _axis(dim if axis is None else axis, self.ndim, "log_softmax")
        return _apply(LOG_SOFTMAX, (self,), axis)

    def unbind(self, dim: int = 0) -> tuple[Tensor, ...]:
        """The slices along `dim`, each without that dimension (indexing: gradients flow back)."""
        axis = _axis(dim, self.ndim, "unbind")
        return tuple(self[(slice(None),) * axis + (i,)] for i in range(self.shape[axis]))

    @property
    def is_leaf(self) -> bool:
        """True for a tensor made by the user (or that requires no gradient), False for a recorded result."""
        return self._rule is None

    @property
    def grad_fn(self) -> str | None:
        """The name of the operation that made this recorded result (PyTorch gives its backward node), or None."""
        return self._op if self._rule is not None else None

    # Shape operations: they move numbers around, so their gradient moves them back.
    def reshape(self, *shape: Any) -> Tensor:
        """The same numbers in a new shape (one dimension may be -1)."""
        shape = _sizes(shape, "reshape")
        if any(n < -1 for n in shape) or shape.count(-1) > 1:
            raise ValueError(f"reshape: invalid shape {shape}: sizes are >= 0, and at most one is -1 (inferred)")
        try:
            return _apply(RESHAPE, (self,), shape)
        except ValueError:
            raise ValueError(f"reshape: cannot reshape a tensor of shape {tuple(self.shape)} into {shape}") from None

    def view(self, *shape: Any) -> Tensor:
        """The same numbers in a new shape (one dimension may be -1): `reshape` (glassgrad always copies
        as needed, so no view fails for want of contiguity)."""
        return self.reshape(*shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Axes start_dim .. end_dim merged into one."""
        if self.ndim == 0:
            return self.reshape(1)
        (start,), (end,) = _axes(start_dim, self.ndim, "flatten"), _axes(end_dim, self.ndim, "flatten")
        if start > end:
            raise ValueError(
                f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {tuple(self.shape)}"
            )
        merged = math.prod(self.shape[start : end + 1])  # not -1: it cannot be inferred when a size is 0
        return self.reshape(self.shape[:start] + (merged,) + self.shape[end + 1 :])

    def squeeze(self, dim: Any = None) -> Tensor:
        """Axes of length 1 removed (only those of `dim`, an axis or a tuple of them, that have length 1)."""
        if dim is None:
            return self.reshape(tuple(n for n in self.shape if n != 1))
        axes = _axes(dim, self.ndim, "squeeze") or ()
        return self.reshape(tuple(n for i, n in enumerate(self.shape) if n != 1 or i not in axes))

    def unsqueeze(self, dim: int) -> Tensor:
        """A new axis of length 1 at `dim` (counted in the result: -1 appends)."""
        (one,) = _axes(dim, self.ndim + 1, "unsqueeze")
        return self.reshape(self.shape[:one] + (1,) + self.shape[one:])

    def permute(self, *dims: Any) -> Tensor:
        """The axes in the order `dims` (a permutation of all of them)."""
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        if len(dims) != self.ndim:
            raise ValueError(
                f"permute: {len(dims)} dims {dims} for a tensor of {self.ndim} dimensions {tuple(self.shape)}"
            )
        axes = _axes(dims, self.ndim, "permute")
        return _apply(PERMUTE, (self,), axes)

    def transpose(self, *axes: int) -> Tensor:
        """PyTorch's `transpose(dim0, dim1)`: those two axes swapped. Also numpy's: all axes reversed
        when none are given, or permuted by a full permutation (`transpose(1, 0, 2)`)."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        if not axes:
            return self.permute(tuple(reversed(range(self.ndim))))
        if len(axes) == 2 and not isinstance(axes[0], (tuple, list)) and not isinstance(axes[1], (tuple, list)):
            d0, d1 = (_axis(a, self.ndim, "transpose") for a in axes)  # each in range: none taken modulo ndim
            if d0 is None:  # a 0-d tensor: transpose(0, 0) or (-1, 0), as PyTorch
                return self.permute(())
            order = list(range(self.ndim))
            order[d0], order[d1] = order[d1], order[d0]
            return self.permute(order)
        if sorted(_axes(axes, self.ndim, "transpose")) != list(range(self.ndim)):
            raise ValueError(
                f"transpose: axes {axes} are not a permutation of the {self.ndim} axes of {tuple(self.shape)}"
            )
        return self.permute(axes)

    @property
    def T(self) -> Tensor:
        """All axes reversed."""
        return self.transpose()

    @property
    def mT(self) -> Tensor:
        """The last two axes swapped: the transpose of each matrix in a batch."""
        if self.ndim < 2:
            raise ValueError(f"mT: needs at least 2 dimensions, got shape {tuple(self.shape)}")
        return self.transpose(-2, -1)

    def broadcast_to(self, shape: tuple[int, ...]) -> Tensor:
        """The tensor repeated along new or size-1 axes to `shape` (numpy broadcasting)."""
        shape = _sizes((shape,), "broadcast_to")
        try:
            return _apply(EXPAND, (self,), shape)
        except ValueError:
            raise ValueError(f"broadcast_to: cannot broadcast shape {tuple(self.shape)} to {tuple(shape)}") from None

    def __getitem__(self, index: Any) -> Tensor:
        """Indexing as numpy and PyTorch: integers, slices, integer arrays (a row may be picked many
        times) and boolean masks."""
        index = _as_index(index)
        try:
            return _apply(INDEX, (self,), index)
        except IndexError as error:
            raise IndexError(f"index: {error} (tensor of shape {tuple(self.shape)})") from None

    def _applied(self, op: Op, *params: Any) -> Tensor:
        """The node of `op` (a description of `glassgrad.tensor_ops`) of self: how a derivative rule
        written in tensor_ops makes Tensor nodes with create_graph=True."""
        return _apply(op, (self,), *params)

    def _seed(self, gradient: Any, create_graph: bool, who: str) -> Tensor | np.ndarray:
        """d(self)/d(self): `gradient` (self's shape), or 1 for a one-element tensor, as PyTorch."""
        if gradient is None:
            if self.data.size != 1:
                raise ValueError(
                    f"{who}: a tensor of shape {tuple(self.shape)} needs an explicit gradient; only a one-element "
                    "tensor gets the implicit gradient 1 (reduce it first, e.g. with .sum())"
                )
            seed = np.ones_like(self.data)
        elif isinstance(gradient, Tensor) and create_graph:
            seed = gradient.astype(self.dtype)  # kept as a node, so the gradient can be differentiated w.r.t. it
        else:
            seed = _as_array(gradient, self.dtype)
        if seed.shape != self.shape:
            raise ValueError(f"{who}: gradient of shape {tuple(seed.shape)} for a tensor of shape {tuple(self.shape)}")
        return _constant(seed) if create_graph and not isinstance(seed, Tensor) else seed

    def _zeros(self) -> Tensor:
        return _constant(np.zeros_like(self.data))

    def _check_inplace(self, who: str) -> None:
        """Refuse (RuntimeError) a backward pass from self through numbers changed in place: see `_check_versions`."""
        if _recorded[0]:
            _refresh(self)
        if _clock[0]:
            _check_versions(self, who)

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
        out = _result(op.on_arrays(*params, inputs[0].data), inputs[0], None, op.name, rule)
        if op.view:
            _link_view(out, inputs[0], op, params)
        return out
    if len(inputs) == 2:
        a, b = inputs
        return _result(op.on_arrays(*params, a.data, b.data), a, b, op.name, rule)
    return _result(op.on_arrays(*params, *[x.data for x in inputs]), *slots(inputs), op.name, rule)


_SHARES_ON_NEED = (MUL, DIV)  # the elementwise rules that take `need`, as the matrix products' do


def _unary(op: Op, a: Tensor) -> Tensor:
    """`op` of a as a node (an integer or bool tensor converted to the default dtype if `op.floating`)."""
    if a.dtype not in FLOATING:
        _no_bools(op, a)
        if op.floating:  # exp of an integer tensor is of the default dtype, as PyTorch
            a = _constant(a.data.astype(get_default_dtype()))
    return _result(op.on_arrays(a.data), a, None, op.name, op.derivative)


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


def _binary(op: Op, a: Tensor, b: Any) -> Tensor:
    """`a op b` as a node. Inputs of different dtypes are converted to PyTorch's result dtype (by an
    `astype` node, so each input's gradient keeps its dtype). Inputs of different shapes are
    broadcast by numpy, and the node's rule sums each share back to its input's shape (`sum_to`)."""
    if not isinstance(b, Tensor):
        _no_bools(op, b)
        b = _operand(b, a)
    rule = op.derivative
    if op in _SHARES_ON_NEED and not (a.requires_grad and b.requires_grad):  # a constant's share is not computed
        rule = partial(rule, need=(a.requires_grad, b.requires_grad))
    dtype = a.data.dtype  # (numpy's dtype: cheaper than the `dtype` property)
    if dtype != b.data.dtype or dtype not in FLOATING or a.shape != b.shape and not _is_number(a) and not _is_number(b):
        _no_bools(op, a, b)
        (a, b), rule = Tensor.aligned((a, b), op.name, rule)
    return _result(op.on_arrays(a.data, b.data), a, b, op.name, rule)


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
    if x.dtype not in FLOATING:
        raise RuntimeError(f"{who}: needs a floating tensor, got {x.dtype} (as PyTorch); convert it with .float() or "
                           ".double() first")


def _summed_back(rule: Any, g, out, *inputs):
    """`rule`'s shares for inputs that numpy broadcast, summed back over the broadcast axes to each
    input's own shape (the derivative of broadcasting)."""
    return tuple(None if s is None else sum_to(s, x.shape) for s, x in zip(rule(g, out, *inputs), inputs))


def _is_number(x: Tensor) -> bool:
    """A 0-d constant: numpy broadcasts it against anything, and it needs no gradient."""
    return x.ndim == 0 and not x.requires_grad


def _broadcast(x: Tensor, shape: tuple[int, ...]) -> Tensor:
    return x if x.shape == shape else x.broadcast_to(shape)


def _broadcast_shape(shapes: list[tuple[int, ...]], op: str) -> tuple[int, ...]:
    """The shape numpy broadcasting gives `shapes` (ValueError naming them if it gives none)."""
    ndim = max(len(s) for s in shapes)
    result = []
    for axis in range(-ndim, 0):
        sizes = {s[axis] for s in shapes if len(s) >= -axis} - {1}
        if len(sizes) > 1:
            named = " and ".join(str(tuple(s)) for s in shapes)
            raise ValueError(f"{op}: shapes {named} do not match (cannot broadcast)")
        result.append(sizes.pop() if sizes else 1)
    return tuple(result)


def _operand(x: Any, like: Tensor) -> Tensor:
    """The other side of an operator as a constant leaf: a number in the dtype PyTorch gives `like` and it
    (`like`'s, unless the number is of a higher category: an integer tensor and a float make the default dtype)."""
    if isinstance(x, Tensor):
        return x
    if type(x) is float and like.data.dtype.kind == "f":  # the common case, without the abstract-class checks
        return _constant(np.asarray(x, dtype=like.data.dtype))
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
    out.data = data
    out.grad = None
    out.requires_grad = False
    out.label = out._op = ""
    out._a = out._b = None
    out._rule = None
    return out


def _as_index(index: Any) -> Any:
    """PyTorch's index as numpy's (see `tensor_ops.torch_index`): integer Tensors, lists and arrays pick
    elements, boolean ones mask, a 0-d integer Tensor is an integer; a float index is refused (as
    PyTorch), never rounded, and so is a list of lists, which PyTorch reads as a tuple and numpy as an array."""
    if isinstance(index, Split):  # already converted (a derivative rule indexing a gradient)
        return index
    if type(index) is Tensor and index.data.ndim == 0 and index.data.dtype.kind in "iu":
        index = int(index.data)
    if type(index) is int or type(index) is tuple and all(type(i) is int or type(i) is slice for i in index):
        return (*index, Ellipsis) if type(index) is tuple else (index, Ellipsis)  # torch_index's, in short
    return torch_index(tuple(_index_part(i) for i in (index if isinstance(index, tuple) else (index,))))


def _index_part(part: Any) -> Any:
    """One part of an index (in a tuple) in numpy's terms."""
    if isinstance(part, list):
        if not all(isinstance(i, (numbers.Integral, np.bool_)) for i in part):
            raise IndexError(
                f"a list used as an index must hold integers or bools, got {part!r:.60}; for several "
                "dimensions write x[a, b] (a tuple), for an index array x[tensor(seq)]"
            )
        part = np.asarray(part, dtype=np.intp if not part else None)
    if isinstance(part, (Tensor, np.ndarray, range)):
        array = np.asarray(data_of(part))
        if array.dtype.kind == "b":
            return bool(array) if array.ndim == 0 else array
        if array.dtype.kind not in "iu":
            raise IndexError(f"tensors used as indices must be integer or boolean, got {array.dtype}")
        return int(array) if array.ndim == 0 else array.astype(np.intp)
    if isinstance(part, (float, np.floating)):
        raise IndexError(f"only integers, slices, ellipsis, None and integer or boolean tensors are valid "
                         f"indices, got float {part!r}")
    return part


def _matmul(a: Tensor, b: Tensor) -> Tensor:
    """a @ b as a node; its rule computes only the shares of inputs that require a gradient."""
    _no_bools(MATMUL, a, b)
    if a.dtype != b.dtype:
        a, b = _promoted((a, b))
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(
            f"@: both operands need at least one dimension, got shapes {tuple(a.shape)} and {tuple(b.shape)}"
        )
    try:
        return _apply(MATMUL, (a, b), need=(a.requires_grad, b.requires_grad))
    except ValueError:
        raise ValueError(f"@: shapes {tuple(a.shape)} and {tuple(b.shape)} do not match for a matrix product") from None


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x W^T + b as one node: a layer of neurons, the Tensor twin of `engine.linear`.

    `x` has shape (..., nin), `weight` (nout, nin), `bias` (nout,); the result (..., nout).
    """
    for name, t in (("weight", weight), ("bias", bias)):
        if not isinstance(t, Tensor) and (t is not None or name == "weight"):
            raise TypeError(f"linear: the {name} must be a Tensor, got {type(t).__name__}")
    if not isinstance(x, Tensor):
        x = _constant(_as_array(x, weight.dtype))
    for t in (weight, bias):
        if t is not None and t.dtype != x.dtype:
            raise ValueError(
                f"linear: the input is {x.dtype} but the layer's weights are {t.dtype}; convert the input "
                f"with x.astype(np.{t.dtype.name}), or make the layer with dtype=np.{x.dtype.name}"
            )
    if weight.ndim != 2:
        raise ValueError(f"linear: the weight must have shape (outputs, inputs), got {tuple(weight.shape)}")
    if bias is not None and bias.shape != weight.shape[:1]:
        raise ValueError(
            f"linear: the bias must have shape {tuple(weight.shape[:1])} (one per output), got {tuple(bias.shape)}"
        )
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: input has width {x.shape[-1] if x.ndim else 0} (shape {tuple(x.shape)}) "
            f"but the layer takes {weight.shape[1]}"
        )
    inputs = (x, weight) if bias is None else (x, weight, bias)
    return _apply(LINEAR, inputs, need=tuple(t.requires_grad for t in inputs))


def cross_entropy(logits: Tensor, targets: Any) -> Tensor:
    """mean_i -log softmax(logits_i)[t_i]: the loss of a classifier with integer class targets.

    `logits` has shape (n, classes), `targets` n integers in [0, classes).
    """
    if not isinstance(logits, Tensor):
        raise TypeError(f"cross_entropy: the logits must be a Tensor, got {type(logits).__name__}")
    t = np.asarray(data_of(targets))
    if logits.ndim != 2:
        raise ValueError(f"cross_entropy: logits must have shape (batch, classes), got {tuple(logits.shape)}")
    if t.size and t.dtype.kind not in "iuf":
        raise ValueError(f"cross_entropy: targets must be integer class numbers, got {t.dtype} ({targets!r:.60})")
    with silent():
        whole = t.dtype.kind in "iu" or bool(np.all(np.isfinite(t) & (t == np.round(t)) & (np.abs(t) < 2.0**62)))
    if t.shape != logits.shape[:1] or not whole:
        raise ValueError(
            f"cross_entropy: targets of shape {tuple(t.shape)} for logits of shape {tuple(logits.shape)}; "
            "expected one integer class per row"
        )
    t = t.astype(np.intp)
    n, classes = logits.shape
    if n == 0:
        raise ValueError("cross_entropy: the batch is empty (logits of shape (0, classes)); a mean needs a row")
    if t.min() < 0 or t.max() >= classes:
        raise ValueError(f"cross_entropy: targets must lie in [0, {classes}), got [{t.min()}, {t.max()}]")
    return checked_cross_entropy(logits, t)


def checked_cross_entropy(
    logits: Tensor, classes: np.ndarray, rows: np.ndarray | None = None, reduction: str = "mean"
) -> Tensor:
    """`cross_entropy` of logits (n, classes) and integer classes already checked to be in range, as one
    node: for every row, or only for `rows` (the others ignored); their mean, or their sum. The
    log-probabilities are computed first and kept by the node, as PyTorch keeps log_softmax's result:
    its derivative reads them, not the logits."""
    target = np.zeros(logits.shape, dtype=bool)
    target[np.arange(len(classes)) if rows is None else rows, classes] = True
    divisor = len(classes) if reduction == "mean" else 1
    return _apply(CROSS_ENTROPY, (logits,), target, divisor, LOG_SOFTMAX.on_arrays(1, logits.data))


def layer_norm(
    x: Tensor,
    normalized_shape: Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """(x - mean) / sqrt(var + eps) * weight + bias over the last dimensions, `normalized_shape`, with the
    biased variance, as one node (PyTorch's `F.layer_norm`)."""
    shape = _sizes(
        (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else (tuple(normalized_shape),),
        "layer_norm",
    )
    k = len(shape)
    if not isinstance(x, Tensor) or not k or x.ndim < k or x.shape[x.ndim - k :] != shape:
        got = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"layer_norm: expected input of shape (*, {', '.join(map(str, shape))}), got {got}")
    inputs, affine = [x], ""
    for name, p in (("w", weight), ("b", bias)):
        if p is None:
            continue
        what = "weight" if name == "w" else "bias"
        if not isinstance(p, Tensor):
            raise TypeError(f"layer_norm: the {what} must be a Tensor (or None), got {type(p).__name__}")
        if p.shape != shape:
            raise ValueError(f"layer_norm: {what} has shape {tuple(p.shape)}, expected normalized_shape {shape}")
        if p.dtype != x.dtype:
            raise ValueError(f"layer_norm: the {what} is {p.dtype} but the input is {x.dtype}")
        inputs.append(p)
        affine += name
    axes = tuple(range(x.ndim - k, x.ndim))
    return _apply(LAYER_NORM, tuple(inputs), axes, _real(eps, "layer_norm: eps"), affine)


def _compare(compare: Any, a: Tensor, b: Any, op: str) -> Tensor:
    """An elementwise comparison as a bool Tensor (a constant: comparisons have no gradient)."""
    if b is None and op in ("==", "!="):
        return op == "!="
    try:
        return _constant(np.asarray(compare(a.data, data_of(b))))
    except ValueError:
        shapes = f"{tuple(a.shape)} and {np.shape(data_of(b))}"
        raise ValueError(f"{op}: shapes {shapes} do not match (cannot broadcast)") from None


def _arg(find: Any, a: Tensor, dim: int | None, keepdim: bool, who: str) -> Tensor:
    one = None if dim is None else _axis(dim, a.ndim, who)
    if a.data.size == 0 and (one is None or a.shape[one] == 0):
        raise ValueError(f"{who}: the tensor of shape {tuple(a.shape)} is empty along the axis searched")
    if one is None:  # over all elements (or the only element of a 0-d tensor)
        return _constant(np.asarray(find(a.data), dtype=np.int64))
    return _constant(np.asarray(find(a.data, axis=one, keepdims=keepdim), dtype=np.int64))


def _index_put(x: Tensor, index: Any, value: Any) -> Tensor:
    """x with `value` written at `index`, as a new node (what `t[index] = value` records)."""
    v = _operand(value, x)
    if v.dtype != x.dtype and v.requires_grad:
        v = v.astype(x.dtype)
    try:
        return _apply(INDEX_PUT, (x, v), index)
    except IndexError as error:
        raise IndexError(f"setitem: {error} (tensor of shape {tuple(x.shape)})") from None
    except ValueError:
        raise ValueError(
            f"setitem: a value of shape {tuple(v.shape)} cannot be written to the indexed elements "
            f"of shape {np.shape(at(x.data, index))} (tensor of shape {tuple(x.shape)})"
        ) from None


def _description(name: str) -> Op | None:
    """The description of the operation that names its nodes `name` (None if unknown: it reads everything)."""
    described = describe(name)
    return described[0] if described else None


# In-place changes by the array they were written into: a view (reshape, slice, transpose, detach)
# shares its numbers with its base, so changing one changes the other, as in PyTorch.
_storage_changes: dict[int, tuple] = {}  # id of a base array -> (weakref to it, clock, op, id of the changed Tensor)


def _base(array: np.ndarray) -> np.ndarray:
    """The array that owns `array`'s numbers (itself, unless it is a view)."""
    while isinstance(getattr(array, "base", None), np.ndarray):
        array = array.base
    return array


def _note_storage_change(tensor: Tensor, op: str) -> None:
    base = _base(tensor.data)
    if not isinstance(base, np.ndarray):  # a numpy scalar shares its number with nothing
        return
    key = id(base)
    entry = _storage_changes.get(key)
    alive = entry[0] if entry is not None and entry[0]() is base else None  # its reference, if already watched
    if alive is None:
        alive = weakref.ref(base, lambda _: _storage_changes.pop(key, None))
    _storage_changes[key] = (alive, _clock[0], op, id(tensor))


def _changed_through_a_view(x: Tensor) -> tuple[int, str] | None:
    """(clock, op) of the last in-place change to `x`'s numbers made through another Tensor sharing
    them (a view of x, or x's base), or None."""
    base = _base(x.data) if isinstance(x.data, np.ndarray) else None
    entry = _storage_changes.get(id(base))
    if entry is None or entry[0]() is not base or entry[3] == id(x):
        return None
    return entry[1], entry[2]


def _link_view(out: Tensor, x: Tensor, op: Op, params: tuple) -> None:
    """Remember that `out`, made by `op` from x, is a view of x's base (when numpy made it one): its
    base and the steps from the base, so that an in-place change of out rebases the base."""
    data = out.data
    if type(data) is not np.ndarray or data.base is None or _base(data) is not _base(x.data):
        return
    base, steps = getattr(x, "_view", None) or (x, ())
    out._view = (base, (*steps, (op, params)))


def _refresh(x: Tensor) -> None:
    """Give a view whose base's history changed since its own was set (a recorded in-place change of
    the base, or of another view of it) the history of the base's view as the base is now, as PyTorch
    regenerates a view's grad_fn; the history it had is kept for the nodes made from it before."""
    view = getattr(x, "_view", None)
    if view is None or getattr(view[0], "_born", 0) <= getattr(x, "_born", 0):
        return
    base, steps = view
    old = x._snapshot()
    with enable_grad():  # a view's history is the base's, whatever the grad mode
        fresh = through(steps, base)
    x._op, x._prev, x._rule, x.requires_grad = fresh._op, fresh._prev, fresh._rule, fresh.requires_grad
    x._born, x._was = _clock[0], old


def _check_changeable(x: Tensor, view: tuple | None, op: str) -> None:
    """Refuse a recorded in-place change of a leaf that requires grad, or of a view of one, or of a view
    made under no_grad of a tensor that requires grad (its base's history would be ambiguous), as PyTorch."""
    base = x if view is None else view[0]
    if base.requires_grad and base._rule is None:
        what = "a leaf tensor" if view is None else "a view of a leaf tensor"
        raise RuntimeError(
            f"{op}: {what} that requires grad cannot be changed in place; change it under "
            "`with glassgrad.no_grad():` (as an optimizer step does), or change its `.data`"
        )
    if view is not None and base.requires_grad and not x.requires_grad:
        raise RuntimeError(
            f"{op}: a view made under no_grad of a tensor that requires grad cannot be changed in place "
            "with grad mode on (as PyTorch); make the view with grad mode on, or change a .clone()"
        )


def _refuse_overlap(written: Any, value: Any, op: str, full: bool = False) -> None:
    """Refuse, as PyTorch, an in-place change whose operand shares some of the numbers it writes (the
    operand's numbers would change while they are read); `full`: even all of them (index_put). As
    PyTorch, only tensors that each fill a block of memory are compared, and the same numbers in
    the same layout (`y += y`) are no overlap."""
    other = value.data if isinstance(value, Tensor) else value
    if not isinstance(other, np.ndarray) or not isinstance(written, np.ndarray) or not written.size or not other.size:
        return
    if not np.may_share_memory(written, other) or not (_dense(written) and _dense(other)):
        return
    same = written.ctypes.data == other.ctypes.data and _layout(written) == _layout(other)
    if full or not same:
        raise RuntimeError(
            f"{op}: unsupported operation: some elements of the input tensor and the written-to tensor refer to "
            "a single memory location (as PyTorch); change the tensor by a .clone() of the input instead"
        )


def _layout(a: np.ndarray) -> tuple:
    """The lengths and strides of a's axes longer than 1: where its elements are."""
    return tuple((n, st) for n, st in zip(a.shape, a.strides) if n != 1)


def _dense(a: np.ndarray) -> bool:
    """Whether a's elements fill one block of memory, its axes in some order (contiguous, or transposed)."""
    size = a.itemsize
    for stride, n in sorted((abs(st), n) for st, n in zip(a.strides, a.shape) if n != 1):
        if stride != size:
            return False
        size *= n
    return True


def _as_it_was(x: Tensor, clock: int) -> Tensor:
    """`x` as it was at `clock`: before each recorded in-place change made since, the copy it kept."""
    while getattr(x, "_born", 0) > clock and getattr(x, "_was", None) is not None:
        x = x._was
    return x


def _check_versions(root: Tensor, who: str = "backward") -> None:
    """Before a backward pass from `root`, as PyTorch: RuntimeError if a node's derivative would read
    numbers changed in place after the node was made (an input its description reads for a share
    that is needed, or its own result), since its gradient would be silently wrong.

    A node made from a tensor that was changed in place later, with the change recorded, is given
    back the input it was made from (the copy `_inplace` kept): its gradient flows into what the
    tensor was, not into the history of the change, as PyTorch's does."""
    seen = {root}
    stack = [root]
    descriptions: dict[str, Op | None] = {}  # by node name, looked up once per pass
    while stack:
        node = stack.pop()
        if node._rule is None:
            continue
        born = getattr(node, "_born", 0)
        inputs = node._prev
        made_from = tuple(_as_it_was(x, born) for x in inputs)
        if any(a is not b for a, b in zip(made_from, inputs)):
            node._prev = made_from
        op = descriptions.get(node._op, descriptions)
        if op is descriptions:
            op = descriptions[node._op] = _description(node._op)
        n = len(inputs)
        for k, x in enumerate(made_from):
            if not x.requires_grad:  # its share goes nowhere
                continue
            for j in op.reads_for(k, n) if op is not None else (*range(n), "out"):
                read = node if j == "out" else inputs[j]
                changed = getattr(read, "_version", None)
                if changed is None or changed[0] <= born:
                    changed = _changed_through_a_view(read)
                if changed is not None and changed[0] > born:
                    what = "its result" if j == "out" else f"its input #{j}"
                    raise RuntimeError(
                        f"{who}: one of the variables needed for gradient computation has been modified by an "
                        f"inplace operation: a tensor that the derivative of '{node._op}' needs was changed by an "
                        f"in-place operation ('{changed[1]}') after '{node._op}' used it ({what}), so its gradient "
                        "cannot be computed; change a copy (.clone()) instead, or make the change before the "
                        "tensor is used"
                    )
        for x in made_from:
            if x not in seen:
                seen.add(x)
                stack.append(x)


def where(condition: Any, input: Any, other: Any) -> Tensor:
    """input where `condition` holds, other elsewhere (broadcast together); differentiable in both."""
    c = np.asarray(data_of(condition))
    if c.dtype != bool:  # not taken as its truth values: where(x, ...) with a float x is a mistake
        raise TypeError(f"where: the condition must be boolean (e.g. x > 0), got {c.dtype}")
    like = input if isinstance(input, Tensor) else other if isinstance(other, Tensor) else None
    if like is None:
        like = Tensor(input)
    x, y = _promoted((_operand(input, like), _operand(other, like)))
    try:
        shape = np.broadcast_shapes(c.shape, x.shape, y.shape)
    except ValueError:
        shapes = f"{tuple(c.shape)}, {tuple(x.shape)} and {tuple(y.shape)}"
        raise ValueError(f"where: shapes {shapes} do not match (cannot broadcast)") from None
    x, y, c = _broadcast(x, shape), _broadcast(y, shape), np.broadcast_to(c, shape)
    return _apply(WHERE, (x, y), c)


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """The tensors joined along `dim`; they must agree in every other dimension."""
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("cat: expected a non-empty sequence of tensors")
    if any(t.ndim == 0 for t in tensors):
        raise ValueError("cat: a 0-d tensor cannot be concatenated (it has no dimension to join along)")
    tensors = _promoted(tuple(tensors))
    if any(t.shape != (0,) for t in tensors):  # PyTorch skips a legacy empty tensor, tensor([]), beside others
        tensors = tuple(t for t in tensors if t.shape != (0,))
    one = _axis(dim, tensors[0].ndim, "cat")
    try:
        return _apply(CAT, tuple(tensors), one, tuple(t.shape[one] for t in tensors))
    except ValueError:
        shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
        raise ValueError(f"cat: shapes {shapes} must agree in every dimension but {one}") from None


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """The tensors (all of one shape) stacked along a new axis `dim`."""
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if len({t.shape for t in tensors}) > 1:
        raise ValueError(f"stack: expects each tensor to be equal size, got {', '.join(str(t.shape) for t in tensors)}")
    return cat([t.unsqueeze(dim) for t in tensors], dim)


import glassgrad._tensor.tensor_methods  # noqa: E402, F401  (the methods made from the registry join Tensor)
