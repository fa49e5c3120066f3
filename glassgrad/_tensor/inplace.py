"""In-place changes and versions, as PyTorch's: `x += 1`, `x[i] = v`, `fill_`, `zero_` change a
tensor's numbers and, when recorded, its history (the node it becomes keeps a copy of what it was).
The in-place clock stamps each change, so a backward pass refuses a derivative that would read
numbers changed after it used them (`_check_versions`); views share their base's changes and are
given their base's present history (`_link_view`, `_refresh`).
"""

from __future__ import annotations

import operator
import weakref
from typing import TYPE_CHECKING, Any

import numpy as np

from glassgrad._tensor import tensor as core  # the class and its node makers, read when called
from glassgrad._tensor.dtypes import FLOATING, can_cast
from glassgrad._tensor.shapes import _as_index, _index_put
from glassgrad.autograd import MANY, enable_grad, is_grad_enabled
from glassgrad.autograd.node import inplace_clock as _clock
from glassgrad.autograd.node import tick_inplace_clock
from glassgrad.ops import ADD, DIV, MUL, SUB, Op
from glassgrad.ops.tensor_shapes import COPY_SLICES, EXPAND, Split, overlapping, through, writable

if TYPE_CHECKING:
    from glassgrad._tensor.tensor import Tensor


_recorded = [0]  # recorded in-place changes so far: while 0, no view's history can be out of date


class InPlace:
    """`Tensor`'s in-place changes, with PyTorch's rules: see `_inplace`."""

    __slots__ = ()

    @staticmethod
    def _refresh_inputs(a: Any, b: Any) -> None:
        """Before the factory makes a node of `a` (and `b`), once a recorded in-place change was made:
        each input made from its present history (see `_refresh`)."""
        if _recorded[0]:
            for x in (a if b is MANY else (a,) if b is None else (a, b)):
                if getattr(x, "_view", None) is not None:  # (only a view has a base's history to catch up with)
                    _refresh(x)

    def __iadd__(self, other: Any) -> Tensor:
        return self._update("+=", operator.add, ADD, other)

    def __isub__(self, other: Any) -> Tensor:
        return self._update("-=", operator.sub, SUB, other)

    def __imul__(self, other: Any) -> Tensor:
        return self._update("*=", operator.mul, MUL, other)

    def __itruediv__(self, other: Any) -> Tensor:
        return self._update("/=", operator.truediv, DIV, other)

    def _update(self, op: str, compute: Any, described: Op, other: Any) -> Tensor:
        """`self op= other`, `compute` being the operator: `_inplace`'s change. When other is of self's
        floating dtype (a Python number is taken as one) and its shape broadcasts to self's, an
        unrecorded change is written straight into self's numbers by the operation's forward on arrays:
        no promotion or broadcast to make, the numbers of the node `compute` would make."""
        _refuse_overlap(self._data, other, op)
        x, direct = self._data, None
        if type(x) is np.ndarray and x.dtype.kind == "f":
            if type(other) in (float, int):
                other = core._operand(other, self)
            if type(other) is core.Tensor and other._data.dtype == x.dtype and _fits(other._data.shape, x.shape):
                y, forward = other._data, described.on_arrays
                direct = lambda out: forward(x, y, out)  # noqa: E731 (numpy's ufunc, `out` its third argument)
        return self._inplace(op, compute, other, direct=direct)

    def __setitem__(self, index: Any, value: Any) -> None:
        """t[index] = value, as PyTorch indexes (value broadcast to the indexed elements)."""
        index = _as_index(index)
        basic = not (isinstance(index, Split) or any(isinstance(i, np.ndarray) for i in index))
        if type(self._data) is np.ndarray and overlapping(self._data):  # an expand: written only where its
            _refuse_self_overlap(self._data[index] if basic else self._data, "setitem")  # index is one number each
            self[index]._inplace("setitem", lambda x, v: _index_put(x, Ellipsis, v), value, cast=True)
            return
        # PyTorch copies into the view of a basic index (value broadcast), else index_put
        direct = None
        if isinstance(value, core.Tensor):
            v = value._data
            if not basic:
                _refuse_overlap(self._data, v, "setitem", full=True)
            else:
                written = self._data[index]
                if _fits(v.shape, written.shape):  # (else refused below)
                    if np.may_share_memory(written, v):  # (the check costs less than broadcasting)
                        _refuse_overlap(written, v if v.shape == written.shape else np.broadcast_to(v, written.shape),
                                        "setitem")
                    if v.dtype == written.dtype:  # unrecorded, written where it goes
                        direct = lambda out: out.__setitem__(index, v)  # noqa: E731
        self._inplace("setitem", lambda x, v: _index_put(x, index, v), value, cast=True, direct=direct)

    def zero_(self) -> Tensor:
        """Set every element to 0, in place."""
        return self.fill_(0)

    def fill_(self, value: Any) -> Tensor:
        """Set every element to `value`, in place."""
        return self._inplace("fill_", lambda x, v: _index_put(x, Ellipsis, v), value, cast=True)

    def _inplace(self, op: str, compute: Any, other: Any = None, cast: bool = False, direct: Any = None) -> Tensor:
        """Change self in place to `compute(self, other)`, as PyTorch's in-place operations do.

        Under `no_grad`, or when nothing requires a gradient, only the numbers change. Otherwise the
        change is recorded: self becomes the node `compute(old self, other)`, where old self is a copy
        that keeps self's history, so gradients still flow through what self was (and `other` is that
        copy when it is self: `y += y` adds y's old numbers to themselves). A view (`Op.view`) changes its
        base: the base is rebased on the view's new value (`copy_slices`, PyTorch's CopySlices), so
        later uses of the base differentiate through the change. A leaf that requires a gradient (or a
        view of one) cannot change outside `no_grad` (its gradient would be of a value it no longer
        has), and a node that used self before the change refuses to backpropagate (see `_check_versions`).
        `direct(array)`, when the caller gives it, writes the change's numbers (the very numbers of `compute`)
        into the array of self's numbers: an unrecorded change then makes no node at all.
        """
        if _recorded[0]:
            _refresh(self)
        recording = is_grad_enabled() and (self.requires_grad or getattr(other, "requires_grad", False))
        view = getattr(self, "_view", None)
        if recording:
            _check_changeable(self, view, op)
        if op != "setitem" and type(self._data) is np.ndarray and not (  # (setitem checks what it writes)
                op == "fill_" and not recording and not isinstance(other, core.Tensor)):  # one number everywhere
            _refuse_self_overlap(self._data, op)
        if direct is not None and not recording and (target := _writable_numbers(self)) is not None:
            direct(target)
            self._count_change(op)
            return self
        source = self._snapshot() if recording else core._constant(self._data)
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
            base._inplace(op, lambda b, v: core._apply(COPY_SLICES, (b, v), steps), new)
            self._version = (_clock[0], op)
        else:
            target = _writable_numbers(self)
            if target is not None:
                np.copyto(target, new._data, casting="unsafe")
            else:
                self._data = new._data.astype(self.dtype)
            self._count_change(op)
        if recording:
            _recorded[0] += 1
            source._version = self._version  # the result it was, that its derivative may read, is no more
            if other is self:  # ...and the operand is the tensor this very change changed, after reading it
                operand._version = (_clock[0] + 1, op)
            self._op, self._prev, self._rule, self.requires_grad = new._op, new._prev, new._rule, True
            self._born = new._born = _clock[0]  # new is what self is now (and a view's base was rebased on it)
            self._was = source
        return self

    def _count_change(self, op: str) -> None:
        """Stamp the change of self's numbers `op` made, and tick the in-place clock for it (not for a change
        through `.data`, which PyTorch does not count)."""
        if not getattr(self, "_uncounted", False):
            tick_inplace_clock()
            _note_storage_change(self, op)
        self._version = (_clock[0], op)

    def _snapshot(self) -> Tensor:
        """A copy of self as it is now, history included: what an in-place change is computed from,
        and what nodes made from self before the change are given back by `_check_versions`."""
        old = core._new(core.Tensor)
        old._data, old.grad, old.requires_grad, old.label = self._data.copy(), None, self.requires_grad, self.label
        old._op, old._prev, old._rule = self._op, self._prev, self._rule
        for name in ("_born", "_was", "_version"):
            if hasattr(self, name):
                setattr(old, name, getattr(self, name))
        return old

    def _check_inplace(self, who: str) -> None:
        """Refuse (RuntimeError) a backward pass from self through numbers changed in place: see `_check_versions`."""
        if _recorded[0]:
            _refresh(self)
        if _clock[0]:
            _check_versions(self, who)


# In-place changes by the array they were written into: a view (reshape, slice, transpose, detach)
# shares its numbers with its base, so changing one changes the other, as in PyTorch.
_storage_changes: dict[int, tuple] = {}  # id of a base array -> (weakref to it, clock, op, id of the changed Tensor)


def _base(array: np.ndarray) -> np.ndarray:
    """The array that owns `array`'s numbers (itself, unless it is a view)."""
    base = array.base  # (an array, or a numpy scalar: None)
    while isinstance(base, np.ndarray):
        array, base = base, base.base
    return array


def _note_storage_change(tensor: Tensor, op: str) -> None:
    base = _base(tensor._data)
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
    base = _base(x._data) if isinstance(x._data, np.ndarray) else None
    entry = _storage_changes.get(id(base))
    if entry is None or entry[0]() is not base or entry[3] == id(x):
        return None
    return entry[1], entry[2]


def _link_view(out: Tensor, x: Tensor, op: Op, params: tuple) -> None:
    """Remember that `out`, made by `op` from x, is a view of x's base (when numpy made it one): its
    base and the steps from the base, so that an in-place change of out rebases the base."""
    data, numbers = out._data, x._data
    owner = data.base if type(data) is np.ndarray else None
    if owner is None or owner is not numbers and owner is not numbers.base and _base(data) is not _base(numbers):
        return
    base, steps = getattr(x, "_view", None) or (x, ())
    out._view = (base, (*steps, (op, params)))
    if getattr(x, "_uncounted", False):  # a view of `.data` (`p.data[0]`): its changes are not counted either
        out._uncounted = True


def _writable_numbers(x: Tensor) -> np.ndarray | None:
    """x's array to write a change into: itself, or for an expand or a view of one (numpy's broadcast is
    read-only) of a base whose numbers can be written, a writable alias, so that the base changes too;
    None for numbers that are read-only themselves (a gradient the backward pass shared), which the
    change then replaces."""
    a = x._data
    if type(a) is not np.ndarray or a.flags.writeable:
        return a if type(a) is np.ndarray else None
    view = getattr(x, "_view", None)
    if view is None or not any(op is EXPAND for op, _ in view[1]):
        return None
    base = view[0]._data
    if type(base) is not np.ndarray or not base.flags.writeable or _base(a) is not _base(base):
        return None
    return writable(a)


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
    other = value._data if isinstance(value, core.Tensor) else value
    arrays = isinstance(other, np.ndarray) and isinstance(written, np.ndarray)
    if not arrays or not np.may_share_memory(written, other):  # (an empty array shares no memory)
        return
    if not full and _same_layout(written, other) and written.ctypes.data == other.ctypes.data:
        return  # the same numbers, where they are
    if _dense(written) and _dense(other):
        raise RuntimeError(
            f"{op}: unsupported operation: some elements of the input tensor and the written-to tensor refer to "
            "a single memory location (as PyTorch); change the tensor by a .clone() of the input instead"
        )


def _refuse_self_overlap(written: np.ndarray, op: str) -> None:
    """Refuse, as PyTorch, an in-place change of a tensor several of whose elements are one number (an
    expand): each would be computed from it and written into it."""
    if overlapping(written):
        raise RuntimeError(
            f"{op}: unsupported operation: more than one element of the written-to tensor refers to a single "
            "memory location (it is an expand() of fewer numbers, as in PyTorch); change a .clone() of it instead"
        )


def _fits(shape: tuple, into: tuple) -> bool:
    """Whether an array of `shape` broadcasts to `into` without changing it."""
    return shape == into or len(shape) <= len(into) and all(n == 1 or n == m for n, m in zip(shape[::-1], into[::-1]))


def _same_layout(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether a's and b's elements are laid out alike from their first (axes of length 1 aside)."""
    return a.strides == b.strides and a.shape == b.shape or _layout(a) == _layout(b)


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
        made_from = inputs
        if any(getattr(x, "_born", 0) > born for x in inputs):  # changed in place since the node was made
            made_from = node._prev = tuple(_as_it_was(x, born) for x in inputs)
        op = descriptions.get(node._op, descriptions)
        if op is descriptions:
            op = descriptions[node._op] = core._description(node._op)
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
