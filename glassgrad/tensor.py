"""The Tensor engine: the scalar engine done on numpy arrays.

A `Tensor` is a `Value` whose `data` is an array. It uses the same machinery from
`glassgrad.autograd`: each operation records its inputs (`_prev`), its name (`_op`) and its
derivative rule (`_rule`, from `DERIVATIVES`), and `backward()` walks the graph in reverse
topological order letting each rule pass gradient to its inputs. What changes is the shape of
things: a gradient has its input's shape, so where numpy broadcast an input its share is summed
back (`sum_to`), and a reduction's gradient is spread back over the reduced axes (`expand`).

The rules are written with operations that both numpy arrays and Tensors have, so the plain
backward pass runs them on arrays and `create_graph=True` runs the very same rules on Tensors,
recording the gradient as a graph that can be differentiated again.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator
from functools import partial
from typing import Any

import numpy as np

from glassgrad import floatmath
from glassgrad.autograd import accumulate, backpropagate, check_forward, mode

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_ACCEPTED = "real numbers (bool, int or float) as a number, nested lists, a numpy array or a Tensor"


def _as_array(data: Any, dtype: Any = None) -> np.ndarray:
    """A fresh float array of `data`: float32/float64 kept, other real numbers made float64."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None and np.dtype(dtype) not in _FLOAT_DTYPES:
        raise TypeError(f"Tensor(dtype={dtype!r}): expected numpy.float32 or numpy.float64")
    try:
        array = np.asarray(data)
    except (TypeError, ValueError) as error:
        raise TypeError(f"Tensor(data): got {type(data).__name__} ({error}); expected {_ACCEPTED}") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"Tensor(data): got {type(data).__name__} of dtype {array.dtype}; expected {_ACCEPTED}")
    if dtype is None:
        dtype = array.dtype if array.dtype in _FLOAT_DTYPES else np.float64
    return np.array(array, dtype=dtype)


class Tensor:
    """An array with a gradient: `data` is its value, `grad` is d(root)/d(self) after `backward()`.

    Leaves require no gradient unless made with `requires_grad=True` (parameters); a result
    requires a gradient when any of its inputs does.
    """

    __slots__ = ("data", "grad", "requires_grad", "label", "_op", "_prev", "_rule", "__weakref__")
    __array_ufunc__ = None  # `ndarray + Tensor` defers to Tensor.__radd__

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None, label: str = "") -> None:
        self.data = _as_array(data, dtype)
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self.label = label
        self._op = ""
        self._prev = ()
        self._rule = None

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        extra = "" if self.dtype == np.float64 else f", dtype={self.dtype}"
        if self.requires_grad:
            extra += f", grad_fn={self._op}" if self._op else ", requires_grad=True"
        return f"Tensor({body}{extra})"

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

    def item(self) -> float:
        """The value of a one-element tensor as a Python float."""
        if self.data.size != 1:
            raise ValueError(f"item: only a one-element tensor has an item, this one has shape {self.shape}")
        return float(self.data.reshape(()))

    def numpy(self) -> np.ndarray:
        """The data array itself (not a copy)."""
        return self.data

    def astype(self, dtype: Any) -> Tensor:
        """The same numbers as `dtype` (numpy.float32 or numpy.float64); the gradient is converted back."""
        if dtype is None or np.dtype(dtype) not in _FLOAT_DTYPES:
            raise TypeError(f"astype({dtype!r}): expected numpy.float32 or numpy.float64")
        if np.dtype(dtype) == self.dtype:
            return self
        return _result(self.data.astype(dtype), (self,), "astype")

    def detach(self) -> Tensor:
        """The same array as a new leaf that requires no gradient."""
        return _constant(self.data)

    # Elementwise arithmetic with numpy broadcasting; numbers and arrays act as constants.
    def __add__(self, other: Any) -> Tensor:
        return _binary(self, other, "+")

    def __radd__(self, other: Any) -> Tensor:
        return _binary(_operand(other, self), self, "+")

    def __sub__(self, other: Any) -> Tensor:
        return _binary(self, other, "-")

    def __rsub__(self, other: Any) -> Tensor:
        return _binary(_operand(other, self), self, "-")

    def __mul__(self, other: Any) -> Tensor:
        return _binary(self, other, "*")

    def __rmul__(self, other: Any) -> Tensor:
        return _binary(_operand(other, self), self, "*")

    def __truediv__(self, other: Any) -> Tensor:
        return _binary(self, other, "/")

    def __rtruediv__(self, other: Any) -> Tensor:
        return _binary(_operand(other, self), self, "/")

    def __pow__(self, other: Any) -> Tensor:
        if not isinstance(other, numbers.Real):
            return _binary(self, other, "**")
        k = float(other)
        with np.errstate(all="ignore"):
            data = self.data**k
        return _result(data, (self,), f"**{floatmath.shortest(k)}", partial(DERIVATIVES["**k"], k))

    def __rpow__(self, other: Any) -> Tensor:
        return _binary(_operand(other, self), self, "**")

    def __neg__(self) -> Tensor:
        return _result(-self.data, (self,), "neg")

    def __matmul__(self, other: Any) -> Tensor:
        return _binary(self, other, "@")

    def __rmatmul__(self, other: Any) -> Tensor:
        return _binary(_operand(other, self), self, "@")

    # Comparisons give constant boolean masks (plain arrays), as used by the derivative rules.
    # `==` keeps its identity meaning: nodes are dictionary keys in the backward pass.
    def __gt__(self, other: Any) -> np.ndarray:
        return self.data > _raw(other)

    def __ge__(self, other: Any) -> np.ndarray:
        return self.data >= _raw(other)

    def __lt__(self, other: Any) -> np.ndarray:
        return self.data < _raw(other)

    def __le__(self, other: Any) -> np.ndarray:
        return self.data <= _raw(other)

    # Elementwise functions.
    def exp(self) -> Tensor:
        """e^x."""
        with np.errstate(all="ignore"):
            return _result(np.exp(self.data), (self,), "exp")

    def log(self) -> Tensor:
        """ln x (natural logarithm); -inf at 0, nan below."""
        with np.errstate(all="ignore"):
            return _result(np.log(self.data), (self,), "log")

    def tanh(self) -> Tensor:
        """tanh x = (e^2x - 1) / (e^2x + 1)."""
        return _result(np.tanh(self.data), (self,), "tanh")

    def relu(self) -> Tensor:
        """max(x, 0) as PyTorch: nan stays nan and -0.0 stays -0.0."""
        data = np.maximum(self.data, 0, out=np.empty_like(self.data))
        zero = self.data == 0
        if zero.any():  # np.maximum(-0.0, 0) is 0.0
            data[zero] = self.data[zero]
        return _result(data, (self,), "relu")

    def sigmoid(self) -> Tensor:
        """1 / (1 + e^-x)."""
        return _result(_sigmoid(self.data), (self,), "sigmoid")

    # Reductions.
    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """The sum over `axis` (all axes when None)."""
        with np.errstate(all="ignore"):
            data = self.data.sum(axis=axis, keepdims=keepdims)
        return _result(data, (self,), "sum", partial(DERIVATIVES["sum"], axis, keepdims))

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """The sum over `axis` divided by the number of elements summed."""
        axes = range(self.ndim) if axis is None else (axis,) if isinstance(axis, int) else axis
        n = math.prod(self.shape[a] for a in axes)
        with np.errstate(all="ignore"):  # np.mean, except that an empty mean is 0/0 = nan silently (as PyTorch)
            data = self.data.sum(axis=axis, keepdims=keepdims) / n
        return _result(data, (self,), "mean", partial(DERIVATIVES["mean"], axis, keepdims, n))

    def max(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """The largest element over `axis`. Its gradient goes to the arg-max along an int axis, and is
        shared evenly among ties for a reduction over all axes (None) or a tuple of axes."""
        data = self.data.max(axis=axis, keepdims=keepdims)
        rule = DERIVATIVES["max(axis)" if isinstance(axis, int) else "max"]
        return _result(data, (self,), "max", partial(rule, axis, keepdims))

    def softmax(self, axis: int = -1) -> Tensor:
        """e^x / sum(e^x) along `axis`, computed as e^(x - max x) so that it cannot overflow."""
        with np.errstate(all="ignore"):
            return _result(_softmax(self.data, axis), (self,), "softmax", partial(DERIVATIVES["softmax"], axis))

    def log_softmax(self, axis: int = -1) -> Tensor:
        """x - log(sum(e^x)) along `axis`, computed from x - max x so that it cannot overflow."""
        with np.errstate(all="ignore"):
            shifted = self.data - self.data.max(axis=axis, keepdims=True)
            data = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        return _result(data, (self,), "log_softmax", partial(DERIVATIVES["log_softmax"], axis))

    # Shape operations: they move numbers around, so their gradient moves them back.
    def reshape(self, *shape: Any) -> Tensor:
        """The same numbers in a new shape (one dimension may be -1)."""
        if len(shape) == 1 and not isinstance(shape[0], int):
            shape = tuple(shape[0])
        try:
            data = self.data.reshape(shape)
        except ValueError:
            raise ValueError(f"reshape: cannot reshape a tensor of shape {self.shape} into {shape}") from None
        return _result(data, (self,), "reshape")

    def transpose(self, *axes: int) -> Tensor:
        """The axes permuted by `axes`; reversed when none are given."""
        if len(axes) == 1 and not isinstance(axes[0], int):
            axes = tuple(axes[0])
        axes = tuple(a % self.ndim for a in axes) if axes else tuple(reversed(range(self.ndim)))
        if sorted(axes) != list(range(self.ndim)):
            raise ValueError(f"transpose: axes {axes} are not a permutation of the {self.ndim} axes of {self.shape}")
        inverse = tuple(np.argsort(axes).tolist())
        return _result(self.data.transpose(axes), (self,), "transpose", partial(DERIVATIVES["transpose"], inverse))

    @property
    def T(self) -> Tensor:
        """All axes reversed."""
        return self.transpose()

    @property
    def mT(self) -> Tensor:
        """The last two axes swapped: the transpose of each matrix in a batch."""
        if self.ndim < 2:
            raise ValueError(f"mT: needs at least 2 dimensions, got shape {self.shape}")
        axes = list(range(self.ndim))
        axes[-2], axes[-1] = axes[-1], axes[-2]
        return self.transpose(*axes)

    def broadcast_to(self, shape: tuple[int, ...]) -> Tensor:
        """The tensor repeated along new or size-1 axes to `shape` (numpy broadcasting)."""
        try:
            data = np.broadcast_to(self.data, shape)
        except ValueError:
            raise ValueError(f"broadcast_to: cannot broadcast shape {self.shape} to {tuple(shape)}") from None
        return _result(data, (self,), "expand")

    def __getitem__(self, index: Any) -> Tensor:
        """Indexing as numpy: integers, slices and integer arrays (a row may be picked many times)."""
        index = _as_index(index)
        return _result(self.data[index], (self,), "index", partial(DERIVATIVES["index"], index))

    def _scatter(self, index: Any, shape: tuple[int, ...]) -> Tensor:
        """A zero tensor of `shape` with self added at `index`: the gradient of indexing."""
        return _result(scatter_add(self.data, index, shape), (self,), "scatter", partial(DERIVATIVES["scatter"], index))

    def _where(self, keep: np.ndarray) -> Tensor:
        """self where `keep`, zeros elsewhere: a derivative rule's mask as a node (see `where`)."""
        return _result(np.where(keep, self.data, 0.0), (self,), "where", partial(DERIVATIVES["where"], keep))

    # Backward.
    def backward(self, gradient: Any = None, create_graph: bool = False) -> None:
        """Add d(self)/d(node) to `grad` of every node this tensor depends on.

        `gradient` is the upstream gradient (self's shape); without it self must have one
        element and it is 1. Gradients accumulate: zero them between steps. With
        `create_graph=True` each `grad` is a Tensor whose graph can be differentiated again.
        """
        if not self.requires_grad:
            raise RuntimeError("backward: this tensor does not require grad (no input has requires_grad=True)")
        if gradient is None:
            seed = self._seed(create_graph)
        else:
            seed = _as_array(gradient, self.dtype)
            if seed.shape != self.shape:
                raise ValueError(f"backward: gradient of shape {seed.shape} for a tensor of shape {self.shape}")
            if create_graph:
                seed = Tensor(seed)
        with np.errstate(all="ignore"):
            grads = backpropagate(self, seed, create_graph)
        if not create_graph:
            _own_leaf_grads(grads)
        accumulate(grads)

    def _seed(self, create_graph: bool) -> Tensor | np.ndarray:
        """d(self)/d(self) = 1, as a node when the gradient graph is recorded: the implicit gradient
        of `backward()` and `glassgrad.grad`, which only a one-element tensor has (as in PyTorch)."""
        if self.data.size != 1:
            raise ValueError(
                f"backward: a tensor of shape {self.shape} needs an explicit gradient; "
                "only a one-element tensor gets the implicit gradient 1 (reduce it first, e.g. with .sum())"
            )
        ones = np.ones_like(self.data)
        return Tensor(ones) if create_graph else ones

    def _zero_grad(self, create_graph: bool) -> Tensor | np.ndarray:
        zeros = np.zeros_like(self.data)
        return Tensor(zeros) if create_graph else zeros


_new = object.__new__


def _result(data: np.ndarray, inputs: tuple, op: str, rule: Any = None) -> Tensor:
    """A new node for `op` on `inputs`: recorded if grad mode is on and an input requires a gradient."""
    out = _new(Tensor)
    out.data = data
    out.grad = None
    out.label = ""
    out._op = op
    if mode.grad_enabled:
        for x in inputs:
            if x.requires_grad:
                out.requires_grad = True
                out._prev = inputs
                out._rule = rule or DERIVATIVES[op]
                break
        else:
            out.requires_grad = False
            out._prev = ()
            out._rule = None
        if mode.anomaly is not None:
            check_forward(out, inputs)
        return out
    out.requires_grad = False
    out._prev = ()
    out._rule = None
    return out


_ARITHMETIC = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "**": np.power, "@": np.matmul}


def _binary(a: Tensor, b: Any, op: str) -> Tensor:
    """`a op b` as a node; the rule computes only the shares of inputs that require a gradient."""
    if not isinstance(b, Tensor):
        b = _operand(b, a)
    with np.errstate(all="ignore"):
        try:
            data = _ARITHMETIC[op](a.data, b.data)
        except ValueError:
            raise ValueError(f"{op}: shapes {a.shape} and {b.shape} do not match") from None
    need = (a.requires_grad, b.requires_grad)
    rule = None if all(need) else partial(DERIVATIVES[op], need=need)
    if a.dtype != b.dtype:
        rule = partial(_promoted_rule, rule or DERIVATIVES[op])  # float32 op float64: float32 grads stay float32
    return _result(data, (a, b), op, rule)


def _operand(x: Any, like: Tensor) -> Tensor:
    """The other side of an operator as a constant leaf: numbers take `like`'s dtype."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (numbers.Real, np.bool_)):
        return _constant(np.asarray(x, dtype=like.dtype))
    if isinstance(x, (np.ndarray, list, tuple)):
        array = np.asarray(x)
        if array.dtype.kind in "biu":
            return _constant(array.astype(like.dtype))
    try:
        return _constant(_as_array(x))
    except TypeError:
        raise TypeError(
            f"unsupported operand: got {type(x).__name__}; expected a Tensor, a number or an array"
        ) from None


def _constant(data: np.ndarray) -> Tensor:
    """A leaf that requires no gradient, wrapping `data` without a copy."""
    out = _new(Tensor)
    out.data = data
    out.grad = None
    out.requires_grad = False
    out.label = out._op = ""
    out._prev = ()
    out._rule = None
    return out


def _as_index(index: Any) -> Any:
    """A numpy index: Tensors and lists become integer arrays."""
    if isinstance(index, tuple):
        return tuple(_as_index(i) for i in index)
    if isinstance(index, Tensor):
        return index.data.astype(np.intp)
    if isinstance(index, list):
        return np.asarray(index)
    return index


def _own_leaf_grads(grads: dict) -> None:
    """Give each leaf a gradient array of its own, writable, so in-place updates touch only it."""
    seen = set()
    for node, g in grads.items():
        if node._rule is None and (type(g) is not np.ndarray or g.base is not None or id(g) in seen):
            grads[node] = g = np.array(g)
        seen.add(id(g))


def _raw(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


def _sigmoid(x: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# Functions the derivative rules use where numpy has no method: each works on an array (plain
# backward pass) and on a Tensor (create_graph=True), so one rule serves both.
def log(x: Tensor | np.ndarray) -> Tensor | np.ndarray:
    """ln x."""
    return x.log() if isinstance(x, Tensor) else np.log(x)


def exp(x: Tensor | np.ndarray) -> Tensor | np.ndarray:
    """e^x."""
    return x.exp() if isinstance(x, Tensor) else np.exp(x)


def softmax(x: Tensor | np.ndarray, axis: int = -1) -> Tensor | np.ndarray:
    """e^x / sum(e^x) along `axis`."""
    return x.softmax(axis) if isinstance(x, Tensor) else _softmax(x, axis)


def expand(x: Tensor | np.ndarray, shape: tuple[int, ...]) -> Tensor | np.ndarray:
    """x broadcast to `shape`; its derivative is `sum_to`."""
    if isinstance(x, Tensor):
        return x.broadcast_to(shape)
    out = np.empty(shape, dtype=x.dtype)
    out[...] = x
    return out


def sum_to(x: Tensor | np.ndarray, shape: tuple[int, ...]) -> Tensor | np.ndarray:
    """x summed over the axes that broadcasting added or stretched, leaving `shape`."""
    if x.shape == shape:
        return x
    lead = len(x.shape) - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1)
    return x.sum(axis=axes, keepdims=True).reshape(shape)


def where(keep: np.ndarray, x: Tensor | np.ndarray) -> Tensor | np.ndarray:
    """x where `keep` is True and exact zeros elsewhere, even where x is inf or nan (torch's `where`,
    which its rules use to switch a gradient off: multiplying by a 0/1 mask would make inf * 0 = nan)."""
    if keep.all():
        return x
    if isinstance(x, Tensor):
        return x._where(keep)
    # np.where(keep, x, 0.0) is 6x slower than a multiplication on an irregular mask (it branches);
    # clearing the bits of the dropped elements costs a multiplication and keeps x's exactly (-0.0, nan).
    bits = x.view(np.dtype(f"i{x.itemsize}"))
    return (bits & -keep.astype(bits.dtype)).view(x.dtype)


def cast(x: Tensor | np.ndarray, dtype: np.dtype) -> Tensor | np.ndarray:
    """x as `dtype`; its derivative converts back."""
    if x.dtype == dtype:
        return x
    return x.astype(dtype)


def scatter_add(x: Tensor | np.ndarray, index: Any, shape: tuple[int, ...]) -> Tensor | np.ndarray:
    """Zeros of `shape` with x added at `index` (repeated positions add up); its derivative is x[index]."""
    if isinstance(x, Tensor):
        return x._scatter(index, shape)
    out = np.zeros(shape, dtype=x.dtype)
    np.add.at(out, index, x)
    return out


def _reduced_shape(shape: tuple[int, ...], axis: int | tuple[int, ...] | None) -> tuple[int, ...]:
    """`shape` with the reduced axes kept as 1 (the keepdims shape)."""
    if axis is None:
        return (1,) * len(shape)
    axes = {a % len(shape) for a in (axis if isinstance(axis, tuple) else (axis,))}
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _spread(g, shape, axis, keepdims):
    """The gradient of a reduction over `axis` spread back over the reduced axes of `shape`."""
    if not keepdims and axis is not None:
        g = g.reshape(_reduced_shape(shape, axis))
    return expand(g, shape)


# The derivative rules: rule(g, out, *inputs) -> each input's share of the upstream gradient g.
# Binary rules take `need`, which inputs need a share, so none is computed for a constant.
def _add_rule(g, out, a, b, need=(True, True)):
    """d(a+b)/da = d(a+b)/db = 1, summed back over broadcast axes (scalar twin: '+')."""
    return (sum_to(g, a.shape) if need[0] else None, sum_to(g, b.shape) if need[1] else None)


def _sub_rule(g, out, a, b, need=(True, True)):
    """d(a-b)/da = 1, d(a-b)/db = -1."""
    return (sum_to(g, a.shape) if need[0] else None, sum_to(-g, b.shape) if need[1] else None)


def _mul_rule(g, out, a, b, need=(True, True)):
    """d(ab)/da = b, d(ab)/db = a (scalar twin: '*')."""
    return (sum_to(g * b, a.shape) if need[0] else None, sum_to(g * a, b.shape) if need[1] else None)


def _div_rule(g, out, a, b, need=(True, True)):
    """d(a/b)/da = 1/b, d(a/b)/db = -a/b^2 = -out/b, as -g * (out / b): (-g * out) / b underflows differently."""
    return (sum_to(g / b, a.shape) if need[0] else None, sum_to(-g * (out / b), b.shape) if need[1] else None)


def _power_rule(g, out, a, b, need=(True, True)):
    """d(a^b)/da = b a^(b-1), zero where b is 0; d(a^b)/db = a^b ln a, zero where a is 0 and b >= 0.

    As in PyTorch, d/da is exactly zero where b is 0, whatever g is, and g multiplies the whole local
    derivative (g * (b a^(b-1)) overflows differently from (g b) a^(b-1)); the zero of d/db is a factor of
    g (so an infinite g gives nan there). Shifting the exponent or the logarithm's argument by a constant
    mask keeps the discarded elements free of nan."""
    da = db = None
    if need[0]:
        b_zero = _raw(b) == 0
        da = sum_to(where(~b_zero, g * (b * a ** (b - 1.0 + b_zero))), a.shape)
    if need[1]:
        off = (_raw(a) == 0) & (_raw(b) >= 0)
        db = sum_to(g * where(~off, out * log(a + off)), b.shape)
    return da, db


def _power_by_constant_rule(k, g, out, a):
    """d(a^k)/da = k a^(k-1), exactly zero where k is 0 whatever g is (as in PyTorch)."""
    return (where(np.asarray(False), g) if k == 0.0 else g * (k * a ** (k - 1.0)),)


def _matmul_rule(g, out, a, b, need=(True, True)):
    """d(AB)/dA = g B^T, d(AB)/dB = A^T g; a vector is a 1-row (or 1-column) matrix, batch axes
    are summed back over broadcasting (scalar twin: 'linear', a dot product)."""
    if a.ndim == 2 and b.ndim == 2:
        return (g @ b.T if need[0] else None, a.T @ g if need[1] else None)
    a_vector, b_vector = a.ndim == 1, b.ndim == 1
    a2 = a.reshape((1,) + a.shape) if a_vector else a
    b2 = b.reshape(b.shape + (1,)) if b_vector else b
    g2 = g.reshape(g.shape[: g.ndim - 2 + a_vector + b_vector] + (a2.shape[-2], b2.shape[-1]))
    da = sum_to(g2 @ b2.mT, a2.shape).reshape(a.shape) if need[0] else None
    db = sum_to(a2.mT @ g2, b2.shape).reshape(b.shape) if need[1] else None
    return da, db


def _linear_rule(g, out, x, w, b=None, need=(True, True, True)):
    """y = x W^T + b: dy/dx = g W, dy/dW = g^T x, dy/db = g summed over the batch (scalar twin: 'linear')."""
    g2 = g.reshape((-1, w.shape[0])) if g.ndim != 2 else g
    x2 = x.reshape((-1, w.shape[1])) if x.ndim != 2 else x
    return (
        g @ w if need[0] else None,
        g2.T @ x2 if need[1] else None,
        g2.sum(axis=0) if b is not None and need[2] else None,
    )


def _sum_rule(axis, keepdims, g, out, a):
    """d(sum x)/dx_i = 1: the gradient is spread over the summed axes."""
    return (_spread(g, a.shape, axis, keepdims),)


def _mean_rule(axis, keepdims, n, g, out, a):
    """d(mean x)/dx_i = 1/n."""
    return (_spread(g / n, a.shape, axis, keepdims),)


def _max_rule(axis, keepdims, g, out, a):
    """d(max x)/dx_i = 1/k for each of the k elements equal to the maximum, 0 elsewhere; where the
    maximum is nan, the k elements that are nan (as PyTorch's max(); its amax gives nan instead)."""
    raw = _raw(a)
    top = _raw(out).reshape(_reduced_shape(raw.shape, axis))
    ties = (raw == top) | (np.isnan(raw) & np.isnan(top))
    return (_spread(g, a.shape, axis, keepdims) * (ties / ties.sum(axis=axis, keepdims=True)).astype(raw.dtype),)


def _argmax_rule(axis, keepdims, g, out, a):
    """d(max along axis)/dx_i = 1 at the arg-max of its row, 0 elsewhere."""
    raw = _raw(a)
    mask = np.zeros(raw.shape, dtype=bool)
    np.put_along_axis(mask, np.expand_dims(raw.argmax(axis=axis), axis), True, axis=axis)
    return (_spread(g, a.shape, axis, keepdims) * mask,)


def _softmax_rule(axis, g, out, a):
    """d(softmax)^T g = s * (g - sum(g * s)), s = softmax(a) = out."""
    return (out * (g - (g * out).sum(axis=axis, keepdims=True)),)


def _log_softmax_rule(axis, g, out, a):
    """d(log_softmax)^T g = g - softmax(a) * sum(g), softmax(a) = e^out."""
    return (g - exp(out) * g.sum(axis=axis, keepdims=True),)


def _promoted_rule(rule, g, out, *inputs):
    """`rule` for inputs of different dtypes: each share converted to its input's dtype, as PyTorch's
    gradient of a float32 tensor stays float32 after an operation with a float64 one."""
    return tuple(None if s is None else cast(s, x.dtype) for s, x in zip(rule(g, out, *inputs), inputs, strict=True))


def _reshape_rule(g, out, a):
    """Reshaping moves no number: the gradient takes the input's shape back."""
    return (g.reshape(a.shape),)


def _transpose_rule(inverse, g, out, a):
    """The gradient is permuted back by the inverse permutation."""
    return (g.transpose(inverse),)


def _index_rule(index, g, out, a):
    """x[index] takes elements; its gradient puts them back, adding where an element was taken twice."""
    return (scatter_add(g, index, a.shape),)


def _scatter_rule(index, g, out, a):
    """Scattering's gradient gathers: g[index]."""
    return (g[index],)


def _cross_entropy_rule(onehot, g, out, logits):
    """d(mean_i -log softmax(z_i)[t_i])/dz = (softmax(z) - onehot(t)) / n."""
    return ((softmax(logits, -1) - onehot) * (g / onehot.shape[0]),)


# op -> the derivative rule. A rule needing a parameter (an exponent, an axis, an index) takes it
# first and is bound to it with functools.partial when the node is made.
DERIVATIVES = {
    "+": _add_rule,
    "-": _sub_rule,
    "*": _mul_rule,
    "/": _div_rule,
    "**": _power_rule,
    "@": _matmul_rule,
    "linear": _linear_rule,
    # the elementwise rules read as engine.py's, applied to every element at once
    "neg": lambda g, out, a: (-g,),
    "exp": lambda g, out, a: (g * out,),
    "log": lambda g, out, a: (g / a,),
    "tanh": lambda g, out, a: (g * (1.0 - out * out),),
    "sigmoid": lambda g, out, a: (g * (1.0 - out) * out,),
    "relu": lambda g, out, a: (where(~(out <= 0), g),),  # g where out > 0 or is nan, as in PyTorch
    "expand": lambda g, out, a: (sum_to(g, a.shape),),
    "astype": lambda g, out, a: (cast(g, a.dtype),),
    "reshape": _reshape_rule,
    "**k": _power_by_constant_rule,
    "sum": _sum_rule,
    "mean": _mean_rule,
    "max": _max_rule,
    "max(axis)": _argmax_rule,
    "softmax": _softmax_rule,
    "log_softmax": _log_softmax_rule,
    "transpose": _transpose_rule,
    "index": _index_rule,
    "scatter": _scatter_rule,
    "where": lambda keep, g, out, a: (where(keep, g),),
    "cross_entropy": _cross_entropy_rule,
}


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x W^T + b as one node: a layer of neurons, the Tensor twin of `engine.linear`.

    `x` has shape (..., nin), `weight` (nout, nin), `bias` (nout,); the result (..., nout).
    """
    if not isinstance(x, Tensor):
        x = _constant(_as_array(x, weight.dtype))
    for t in (weight, bias):
        if t is not None and t.dtype != x.dtype:
            raise ValueError(
                f"linear: the input is {x.dtype} but the layer's weights are {t.dtype}; convert the input "
                f"with x.astype(np.{t.dtype}), or make the layer with dtype=np.{x.dtype}"
            )
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: input has width {x.shape[-1] if x.ndim else 0} (shape {x.shape}) "
            f"but the layer takes {weight.shape[1]}"
        )
    data = x.data @ weight.data.T
    if bias is not None:
        data += bias.data
    inputs = (x, weight) if bias is None else (x, weight, bias)
    need = tuple(t.requires_grad for t in inputs)
    return _result(data, inputs, "linear", None if all(need) else partial(DERIVATIVES["linear"], need=need))


def cross_entropy(logits: Tensor, targets: Any) -> Tensor:
    """mean_i -log softmax(logits_i)[t_i]: the loss of a classifier with integer class targets.

    `logits` has shape (n, classes), `targets` n integers in [0, classes).
    """
    t = np.asarray(_raw(targets))
    if logits.ndim != 2:
        raise ValueError(f"cross_entropy: logits must have shape (batch, classes), got {logits.shape}")
    if t.shape != logits.shape[:1] or (t.size and t.dtype.kind not in "iu" and not np.all(t == np.round(t))):
        raise ValueError(
            f"cross_entropy: targets of shape {t.shape} for logits of shape {logits.shape}; "
            "expected one integer class per row"
        )
    t = t.astype(np.intp)
    n, classes = logits.shape
    if t.size and (t.min() < 0 or t.max() >= classes):
        raise ValueError(f"cross_entropy: targets must lie in [0, {classes}), got [{t.min()}, {t.max()}]")
    z = logits.data
    rows = np.arange(n)
    with np.errstate(all="ignore"):
        shifted = z - z.max(axis=1, keepdims=True)
        lse = np.log(np.exp(shifted).sum(axis=1))
        data = np.asarray((lse - shifted[rows, t]).mean(), dtype=z.dtype)
    onehot = np.zeros(z.shape, dtype=z.dtype)
    onehot[rows, t] = 1
    return _result(data, (logits,), "cross_entropy", partial(DERIVATIVES["cross_entropy"], onehot))
