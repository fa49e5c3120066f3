"""Every operation of the registry against PyTorch (float64): one case table, one oracle.

The cases of an elementwise operation are made from its entry (its method, function, operator,
numpy ufunc; on Values too when it computes on floats); every other operation has its cases in
`CASES`, by its registry name. `test_every_operation_of_the_registry_has_a_case` fails for an
operation registered without one, so a new operation is one entry and one line of test.
"""

from __future__ import annotations

import inspect
import operator
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import oracle
import pytest
import torch
from oracle import check, check_values, lib

import glassgrad
from glassgrad import Tensor, Value, engine, ops
from glassgrad._tensor.tensor import _UFUNC_OPERATORS
from glassgrad.ops import registry
from glassgrad.viz import explain


def rand(*shape: int, seed: int = 0, low: float = -2.0, high: float = 2.0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(low, high, size=shape)


def ints(*shape: int, seed: int = 0, low: int = -3, high: int = 4) -> np.ndarray:
    return np.random.default_rng(seed).integers(low, high, size=shape)


class Case(NamedTuple):
    """`f` on tensors holding `inputs` in both libraries (`theirs` on torch's, if it differs)."""

    f: Callable[..., Any]
    inputs: tuple
    theirs: Callable[..., Any] | None = None
    grad: bool = True
    second: bool = False
    tol: dict | None = None
    values: bool = False  # on Values, one element at a time (check_values), instead of tensors


def case(f: Callable[..., Any], *inputs: Any, **options: Any) -> Case:
    return Case(f, inputs, **options)


def F(x: Any) -> Any:
    """The library's nn.functional."""
    return lib(x).nn.functional


def bools(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random(shape) < 0.5


def with_nan(x: np.ndarray) -> np.ndarray:
    x = x.copy()
    x.flat[::3] = np.nan
    return x


POSITIVE = {"low": 0.3, "high": 3.0}
DOMAIN = {"log": POSITIVE, "sqrt": POSITIVE, "log10": POSITIVE}  # where torch's and glassgrad's are finite
FLOAT32 = {"rtol": 1e-6, "atol": 1e-6}
BITWISE = {"&", "|", "^", "~"}  # integers and bools only
NO_DERIVATIVE = {"//"}  # recorded, but its backward pass is refused (as PyTorch's)


def _unary_cases(op: ops.Op) -> list[Case]:
    m, domain, grad = op.method, DOMAIN.get(op.name, {}), op.derivative is not None
    x, scalar = rand(3, 4, **domain), rand(**domain)
    if op.name in BITWISE:
        x, scalar = bools(3, 4), ints(3, 4)
    elif op.derivative is None:
        x = with_nan(x)
    made = [case(lambda t: getattr(t, m)(), x, second=grad), case(lambda t: getattr(t, m)(), scalar)]
    if op.name not in BITWISE:
        made.append(case(lambda t: getattr(t, m)(), x.astype(np.float32), tol=FLOAT32))
    if op.function:
        made += [case(lambda t, name=name: getattr(lib(t), name)(t), x) for name in (m, *op.aliases)]
    if op.dunder:
        made.append(case(getattr(operator, f"__{op.dunder}__"), x))
    if op.ufunc:
        made.append(case(lambda t: getattr(np, op.ufunc)(t), x, theirs=lambda t: getattr(t, m)()))
    if op.on_floats is not None:
        made.append(case(getattr(operator, f"__{op.dunder}__") if op.dunder else lambda v: getattr(v, m)(), x[0],
                         values=True))
    return made


def _binary_cases(op: ops.Op) -> list[Case]:
    m, grad = op.method, op.derivative is not None and op.name not in NO_DERIVATIVE
    a, b = rand(3, 4, seed=1, **POSITIVE), rand(3, 4, seed=2, **POSITIVE)
    wide, narrow = rand(3, 1, seed=3, **POSITIVE), rand(4, seed=4, **POSITIVE)
    if op.name in BITWISE:
        a, b, wide, narrow = bools(3, 4, seed=1), bools(3, 4, seed=2), ints(3, 1, seed=3), ints(4, seed=4)
    made = [case(lambda x, y: getattr(x, m)(y), a, b, grad=grad, second=grad),
            case(lambda x, y: getattr(x, m)(y), wide, narrow, grad=grad),
            case(lambda x, y: getattr(x, m)(y), ints(3, 4, seed=5), ints(3, 4, seed=6, low=1), grad=False)]
    if op.name not in BITWISE:
        made.append(case(lambda x, y: getattr(x, m)(y), a.astype(np.float32), b.astype(np.float32), grad=grad,
                         tol=FLOAT32))
    if op.function:
        made.append(case(lambda x, y: getattr(lib(x), m)(x, y), a, b, grad=grad))
    if op.inplace:  # on a result (a leaf that requires grad cannot change in place), recorded
        made.append(case(lambda x, y: getattr(x * 1, f"{m}_")(y), a, b, second=True))
    if op.dunder:
        symbol = getattr(operator, f"__{op.dunder}__")
        made += [case(symbol, a, b, grad=grad), case(lambda x: symbol(x, 2), ints(3, 4, low=1), grad=False)]
        if op.name not in BITWISE:
            made.append(case(lambda x: symbol(x, 2.5), a, grad=grad))
        if op.kind == "binary":
            made.append(case(lambda x: symbol(3, x), ints(3, 4, low=1), grad=False))
            if op.name not in BITWISE:  # torch has no derivative of `number % tensor` (glassgrad has)
                made.append(case(lambda x: symbol(1.5, x), a, grad=grad and op.name != "%"))
    if op.ufunc:
        made.append(case(lambda x, y: getattr(np, op.ufunc)(x, y), a, b, theirs=lambda x, y: getattr(x, m)(y),
                         grad=grad))
        made.append(case(lambda x: getattr(np, op.ufunc)(b, x), a, theirs=lambda x: getattr(torch.tensor(b), m)(x),
                         grad=grad))
    if op.on_floats is not None:
        made.append(case(getattr(operator, f"__{op.dunder}__"), a[0], b[0], values=True))
    return made


def _made_from_the_entry(op: ops.Op) -> list[Case]:
    if op.kind == "unary":
        return _unary_cases(op)
    if op.kind in ("binary", "compare"):
        return _binary_cases(op)
    return []


X, Y = rand(3, 4, seed=1), rand(3, 4, seed=2)
X3 = rand(2, 3, 4, seed=3)
P = rand(3, 4, seed=4, **POSITIVE)


def _set_row(x: Any) -> Any:
    y = x * 1
    y[0] = 5.0
    y[1:, 2] = x[0, :2] * 3
    return y


def _through_a_view(x: Any) -> Any:
    y = x * 2
    row = y[1]
    row *= 3  # y changes through its row: copy_slices, PyTorch's CopySlices
    return y


def _seeded(draw: Callable[[Any, Any], Any]) -> Callable[[Any], Any]:
    """`draw(library, x)` after seeding the library's default generator with 0 (the same stream in both)."""

    def run(x: Any) -> Any:
        lib(x).manual_seed(0)
        return draw(lib(x), x)

    return run


ROUNDED = np.round(rand(2, 3, 4, seed=3))  # ties
ZEROS = X.copy()
ZEROS[0, 1] = ZEROS[1, 1] = ZEROS[1, 2] = 0.0  # a row with one zero, a row with two
ZERO_ROW = X.copy()
ZERO_ROW[1] = 0.0


def _neuron(w1: Any, w2: Any, x1: Any, x2: Any, b: Any) -> Any:
    return engine.linear([w1, w2], [x1, x2], b) if isinstance(w1, Value) else w1 * x1 + w2 * x2 + b


CASES: dict[str, list[Case]] = {
    "**": [case(lambda x, y: x**y, P, Y, second=True), case(lambda x, y: x.pow(y), P, Y),
           case(lambda x, y: lib(x).pow(x, y), P, Y), case(lambda x: 2.0**x, X),
           case(lambda x, y: np.power(x, y), P, Y, theirs=lambda x, y: x**y),
           case(lambda x, y: x**y, P[0], Y[0], values=True)],
    "**{k}": [case(lambda x: x**2, X, second=True), case(lambda x: x**0.5, P), case(lambda x: x**-1.5, P),
              case(lambda x: x**3, X), case(lambda x: x**0, X), case(lambda x: x**2.5, P[0], values=True)],
    "+ {alpha}·": [case(lambda x, y: x.add(y, alpha=0.3), X, rand(3, 1, seed=2), second=True),
                   case(lambda x, y: lib(x).add(x, y, alpha=-2), rand(4), X),
                   case(lambda x: x.add(1.5, alpha=3), X)],
    "− {alpha}·": [case(lambda x, y: x.sub(y, alpha=2.5), X, rand(4, seed=2), second=True),
                   case(lambda x, y: lib(x).sub(x, y, alpha=0.1), rand(1, 4), X)],
    "weighted_sum": [case(_neuron, *rand(5, 3, seed=7), values=True)],
    "@": [case(lambda a, b: a @ b, X, rand(4, 2), second=True), case(lambda a, b: a @ b, X3, rand(4, 5)),
          case(lambda a, b: a @ b, rand(4), rand(4, 3)), case(lambda a, b: a @ b, rand(2, 1, 3, 4), rand(5, 4, 2)),
          case(lambda a, b: a.matmul(b), X, rand(4)), case(lambda a, b: lib(a).matmul(a, b), X, rand(4, 2)),
          case(lambda a, b: np.matmul(a, b), X, rand(4, 2), theirs=lambda a, b: a @ b)],
    "linear": [case(lambda x, w, b: F(x).linear(x, w, b), X3, rand(5, 4), rand(5), second=True),
               case(lambda x, w: F(x).linear(x, w), rand(4), rand(2, 4))],
    "sum": [case(lambda x: x.sum(), X3), case(lambda x: x.sum(1), X3), case(lambda x: x.sum((0, 2), keepdim=True), X3),
            case(lambda x: lib(x).sum(x, -1), X3), case(lambda x: x.sum(), ints(3, 4), grad=False)],
    "mean": [case(lambda x: x.mean(), X3), case(lambda x: x.mean(dim=-1, keepdim=True), X3),
             case(lambda x: lib(x).mean(x, (0, 1)), X3)],
    "var": [case(lambda x: x.var(), X3, second=True), case(lambda x: x.var(0, keepdim=True), X3),
            case(lambda x: x.var(2, correction=0), X3), case(lambda x: lib(x).var(x, 1, unbiased=False), X3)],
    "std": [case(lambda x: x.std(), X3), case(lambda x: x.std(1, unbiased=False), X3),
            case(lambda x: lib(x).std(x, (0, 2)), X3)],
    "max": [case(lambda x: x.max(), X3), case(lambda x: x.max(1), X3), case(lambda x: x.max(1, keepdim=True), X3),
            case(lambda x: lib(x).max(x, -1), X3), case(lambda x: x.max(0).indices, X3)],
    "max_dim": [case(lambda x: x.max(1).values, X3), case(lambda x: x.max(-1, keepdim=True).values, X3, second=True),
                case(lambda x: lib(x).max(x, 0).values, X3), case(lambda x: x.min(2).values, X3)],
    "squared_error": [case(lambda x, y: F(x).mse_loss(x, y), X, Y, second=True),
                      case(lambda x, y: F(x).mse_loss(x, y, reduction="sum"), X, Y)],
    "softmax": [case(lambda x: x.softmax(1), X3, second=True), case(lambda x: x.softmax(dim=0), X3),
                case(lambda x: lib(x).softmax(x, -1), X3)],
    "log_softmax": [case(lambda x: x.log_softmax(1), X3), case(lambda x: lib(x).log_softmax(x, dim=-1), X3)],
    "cross_entropy": [case(lambda z, t: F(z).cross_entropy(z, t), X, np.array([2, 0, 3]), second=True),
                      case(lambda z, t: F(z).cross_entropy(z, t, ignore_index=-1), X, np.array([2, -1, 3]),
                           second=True),
                      case(lambda z, t: F(z).cross_entropy(z, t, reduction="sum"), X, np.array([1, 1, 0]))],
    "layer_norm": [case(lambda x, w, b: F(x).layer_norm(x, (4,), w, b), X3, rand(4, seed=8), rand(4, seed=9),
                        second=True),
                   case(lambda x, w: F(x).layer_norm(x, (3, 4), w, eps=1e-3), X3, rand(3, 4, seed=10)),
                   case(lambda x: F(x).layer_norm(x, [4]), X3)],
    "reshape": [case(lambda x: x.reshape(4, 6), X3), case(lambda x: x.reshape(-1), X3),
                case(lambda x: lib(x).reshape(x, (6, 4)), X3)],
    "permute": [case(lambda x: x.permute(2, 0, 1), X3), case(lambda x: lib(x).permute(x, (1, 0, 2)), X3)],
    "expand": [case(lambda x: x.expand(2, 3, 4), rand(3, 1)), case(lambda x: x.expand(-1, 5), rand(3, 1)),
               case(lambda x: x.expand(2, -1, -1), X)],
    "index": [case(lambda x: x[1], X3), case(lambda x: x[:, 1:3], X3), case(lambda x: x[[0, 2, 0]], X),
              case(lambda x: x[x > 0], X), case(lambda x: x[..., -1], X3)],
    "scatter": [case(lambda x: x[[0, 0, 2]] ** 2, X, second=True)],  # the gradient of indexing, differentiated
    "index_put": [case(_set_row, X, second=True)],
    "copy_slices": [case(_through_a_view, X)],
    "cat": [case(lambda x, y: lib(x).cat([x, y], 1), X, Y), case(lambda x, y: lib(x).cat((x, y, x)), X, Y)],
    "clone": [case(lambda x: x.clone() * 3, X), case(lambda x: lib(x).clone(x), X)],
    "astype": [case(lambda x: x.float() * 2, X, tol=FLOAT32), case(lambda x: x.to(lib(x).float32).double(), X),
               case(lambda x: x.long(), X)],
    "clamp": [case(lambda x: x.clamp(-0.5, 0.5), X), case(lambda x: x.clamp(min=0.1), X),
              case(lambda x: lib(x).clamp(x, max=0.2), X), case(lambda x: x.clip(-1, 1), X),
              case(lambda x: lib(x).clip(x, -1, 1), X), case(lambda x: (x * 1).clamp_(-0.5, 0.5), X)],
    "masked_fill": [case(lambda x: x.masked_fill(x > 0, 0.0), X), case(lambda x: lib(x).masked_fill(x, x < 0, -1.0), X),
                    case(lambda x: (x * 1).masked_fill_(x > 0.5, 2.0), X),
                    case(lambda x, v: x.masked_fill(x > 0, v), X, np.array(0.5), second=True),
                    case(lambda x, v: x.masked_fill(x > 0, v.detach()), X, np.array(-1.5))],
    "where": [case(lambda x, y: lib(x).where(x > 0, x, y), X, Y), case(lambda x: lib(x).where(x > 0, x, 0.5), X)],
    "min": [case(lambda x: x.min(), X3), case(lambda x: x.min(1), X3), case(lambda x: lib(x).min(x, 0).values, X3)],
    "argmax": [case(lambda x: x.argmax(), X3), case(lambda x: x.argmax(1), X3),
               case(lambda x: lib(x).argmax(x, -1, keepdim=True), X3)],
    "argmin": [case(lambda x: x.argmin(), X3), case(lambda x: lib(x).argmin(x, 2), X3)],
    "topk": [case(lambda x: x.topk(2, dim=1), X3), case(lambda x: x.topk(3, largest=False), X3),
             case(lambda x: lib(x).topk(x, 1), X3)],
    "all": [case(lambda x: (x > -1).all(), X), case(lambda x: lib(x).all(x > 0), X), case(lambda x: (x > 0).all(1), X)],
    "any": [case(lambda x: (x > 1).any(), X), case(lambda x: lib(x).any(x > 3), X), case(lambda x: (x > 0).any(0), X)],
    "isclose": [case(lambda x: lib(x).isclose(x, x + 1e-9), X), case(lambda x: x.isclose(x * 1.1), X)],
    "allclose": [case(lambda x: lib(x).allclose(x, x + 1e-9), X), case(lambda x: x.allclose(x + 1), X)],
    "equal": [case(lambda x: lib(x).equal(x, x * 1), X), case(lambda x: x.equal(x + 1), X)],
    "view": [case(lambda x: x.view(3, -1), X3), case(lambda x: x.view(24), X3)],
    "flatten": [case(lambda x: x.flatten(), X3), case(lambda x: lib(x).flatten(x, 1), X3)],
    "squeeze": [case(lambda x: x.squeeze(), rand(3, 1, 4)), case(lambda x: lib(x).squeeze(x, 1), rand(3, 1, 4)),
                case(lambda x: x.squeeze((0, 2, 3)), rand(1, 3, 1, 4)), case(lambda x: x.squeeze(-1), X)],
    "unsqueeze": [case(lambda x: x.unsqueeze(1), X), case(lambda x: lib(x).unsqueeze(x, -1), X)],
    "1 − x²": [case(lambda x: x.tanh(), X, second=True), case(lambda x: (x * 3).tanh(), rand(2, 5), second=True)],
    "transpose": [case(lambda x: x.transpose(0, 2), X3), case(lambda x: lib(x).transpose(x, -1, 1), X3)],
    "t": [case(lambda x: x.t(), X), case(lambda x: lib(x).t(x), rand(4)), case(lambda x: x.t(), rand(1, 5))],
    "ravel": [case(lambda x: x.ravel(), X3), case(lambda x: lib(x).ravel(x.transpose(0, 2)), X3)],
    "broadcast_to": [case(lambda x: x.broadcast_to((2, 3, 4)), rand(3, 1)),
                     case(lambda x: lib(x).broadcast_to(x, (3, 4)), rand(4))],
    "unbind": [case(lambda x: x.unbind(1), X3), case(lambda x: lib(x).unbind(x), X3)],
    "stack": [case(lambda x, y: lib(x).stack([x, y], -1), X, Y), case(lambda x, y: lib(x).stack((x, y)), X, Y)],
    "amax": [case(lambda x: x.amax(1), ROUNDED), case(lambda x: x.amax((0, 2), keepdim=True), ROUNDED),
             case(lambda x: lib(x).amax(x), ROUNDED), case(lambda x: lib(x).amax(x, dim=-1), X3)],
    "amin": [case(lambda x: x.amin(0), ROUNDED), case(lambda x: lib(x).amin(x, (1, 2)), ROUNDED)],
    "sort": [case(lambda x: x.sort(1), X3), case(lambda x: x.sort(descending=True), X3),
             case(lambda x: lib(x).sort(x, 0), X3), case(lambda x: x.sort(dim=-1, stable=True), ROUNDED),
             case(lambda x: x.sort(), with_nan(X)), case(lambda x: x.sort(descending=True), with_nan(X))],
    "histogram": [case(lambda x: lib(x).histogram(x, bins=5), X3, grad=False),
                  case(lambda x: x.histogram(4, range=(-1.0, 1.0)), X3, grad=False),
                  case(lambda x, w: x.histogram(3, weight=w, density=True), X, P, grad=False),
                  case(lambda x: x.histogram(lib(x).tensor([-2.0, 0.0, 0.5, 2.0], dtype=x.dtype)), X3, grad=False)],
    "numel": [case(lambda x: lib(x).numel(x), X3), case(lambda x: x.numel(), rand())],
    "detach": [case(lambda x: x.detach() * 2 + x, X), case(lambda x: lib(x).detach(x), X)],
    "view_as": [case(lambda x, y: x.view_as(y), X3, rand(4, 6))],
    "contiguous": [case(lambda x: x.transpose(0, 1).contiguous() * 2, X3)],
    "expand_as": [case(lambda x, y: x.expand_as(y) * y, rand(3, 1), X)],
    "repeat": [case(lambda x: x.repeat(2, 3), X, second=True), case(lambda x: x.repeat(2, 1, 1), X),
               case(lambda x: x.repeat(2, 2), rand(3)), case(lambda x: x.repeat(1, 0), X)],
    "split": [case(lambda x: x.split(2, 1), X), case(lambda x: x.split([1, 3], 1), X),
              case(lambda x: lib(x).split(x, 1), X), case(lambda x: x.split(3), X), case(lambda x: x.split(5, -1), X)],
    "chunk": [case(lambda x: x.chunk(2, 1), X), case(lambda x: lib(x).chunk(x, 3, -1), X),
              case(lambda x: x.chunk(4, 1), X), case(lambda x: x.chunk(2), X3)],
    "gather": [case(lambda x, i: lib(x).gather(x, 1, i), X, ints(3, 5, low=0, high=4), second=True),
               case(lambda x, i: x.gather(0, i), X, ints(2, 4, low=0, high=3)),
               case(lambda x, i: x.gather(-1, i), X3, ints(2, 2, 2, low=0, high=4))],
    "roll": [case(lambda x: x.roll(1, 1), X), case(lambda x: x.roll((1, -2), (0, 1)), X),
             case(lambda x: lib(x).roll(x, 5), X), case(lambda x: x.roll(-4, 0), X3)],
    "flip": [case(lambda x: x.flip(0), X3), case(lambda x: x.flip((0, 2)), X3),
             case(lambda x: lib(x).flip(x, [1]), X3)],
    "tril": [case(lambda x: x.tril(), X), case(lambda x: x.tril(1), X3),
             case(lambda x: lib(x).tril(x, -1), rand(3, 5))],
    "triu": [case(lambda x: x.triu(), X), case(lambda x: lib(x).triu(x, 1), X3),
             case(lambda x: x.triu(-1), rand(5, 3))],
    "copy_": [case(lambda x, y: (x * 1).copy_(y[0] * 2), X, Y), case(lambda x, y: (x * 1).copy_(y), X, Y)],
    "normal_": [case(_seeded(lambda m, x: m.zeros(5, 7, dtype=x.dtype).normal_(1.0, 2.0)), X, grad=False),
                case(_seeded(lambda m, x: m.zeros(40, dtype=m.float32).normal_()), X, grad=False),
                case(lambda x: x.detach().clone().normal_(generator=lib(x).Generator().manual_seed(7)), X,
                     grad=False)],
    "uniform_": [case(_seeded(lambda m, x: m.zeros(5, 7, dtype=x.dtype).uniform_(-1.0, 3.0)), X, grad=False),
                 case(_seeded(lambda m, x: m.zeros(9, dtype=m.float32).uniform_()), X, grad=False)],
    "cumsum": [case(lambda x: x.cumsum(1), X3, second=True), case(lambda x: lib(x).cumsum(x, 0), X3),
               case(lambda x: x.cumsum(-1), ints(3, 4), grad=False), case(lambda x: x.cumsum(0), rand()),
               case(lambda x: x.cumsum(1, dtype=lib(x).float32), X, tol=FLOAT32)],
    "prod": [case(lambda x: x.prod(), rand(2, 3, seed=5), second=True), case(lambda x: x.prod(1), X, second=True),
             case(lambda x: x.prod(1, keepdim=True), ZEROS), case(lambda x: lib(x).prod(x), ZEROS),
             case(lambda x: x.prod(0), ints(3, 4), grad=False)],
    "norm": [case(lambda x: x.norm(), X3, second=True), case(lambda x: x.norm(dim=1), ZERO_ROW),
             case(lambda x: x.norm(1, dim=1), ZERO_ROW), case(lambda x: x.norm(3, dim=(0, 1), keepdim=True), X3),
             case(lambda x: x.norm(float("inf"), dim=1), X), case(lambda x: lib(x).norm(x, p="fro"), X)],
    "%": [case(lambda x: x % 1.5, X, second=True), case(lambda x, y: x % y, X, Y),
          case(lambda x: -7 % x, P, grad=False), case(lambda x: x % -3, ints(3, 4), grad=False)],
}


def all_cases() -> list:
    made = []
    for name, op in ops.OPS.items():
        if name not in registry._BUILT_IN:
            continue
        for k, c in enumerate(_made_from_the_entry(op) + CASES.get(name, [])):
            made.append(pytest.param(c, id=f"{name}-{k}"))
    return made


@pytest.mark.parametrize("c", all_cases())
def test_operation_matches_torch(c):
    tol = c.tol or {}
    if c.values:
        check_values(c.f, *c.inputs, **tol)
    else:
        check(c.f, *c.inputs, theirs=c.theirs, grad=c.grad, second=c.second, **tol)


def test_every_operation_of_the_registry_has_a_case():
    built_in = [name for name in ops.OPS if name in registry._BUILT_IN]
    missing = [name for name in built_in if not _made_from_the_entry(ops.OPS[name]) and not CASES.get(name)]
    assert not missing, f"operations of the registry without a case in tests/test_ops.py: {missing}"
    assert not set(CASES) - set(built_in), "cases for operations the registry does not have"


@pytest.mark.parametrize("op", [op for op in ops.OPS.values() if op.kind], ids=lambda op: op.name)
def test_an_elementwise_entry_makes_all_its_surfaces(op):
    """One entry gives the Tensor method, the operator, the glassgrad function, numpy's dispatch, the
    in-place method, and with a forward on floats the Value's method and explain's call."""
    assert callable(getattr(Tensor, op.method)) and getattr(Tensor, op.method).__name__ == op.method
    assert all(hasattr(Tensor, name) for name in op.names() if name != op.name)
    assert (getattr(glassgrad, op.method, None) is not None) == op.function
    if op.ufunc:
        assert getattr(np, op.ufunc) in _UFUNC_OPERATORS
    if op.on_floats is not None:
        assert hasattr(Value, f"__{op.dunder}__" if op.dunder else op.method)
        assert (op.method in explain.FUNCTIONS) == (op.kind == "unary" and op.precedence == ops.ATOM)


@pytest.mark.parametrize("op", [op for op in ops.OPS.values() if op.method], ids=lambda op: op.name)
def test_an_operation_is_a_glassgrad_function_where_it_is_a_torch_function(op):
    for name in (op.method, *op.aliases):
        assert op.function == callable(getattr(torch, name, None)), name
        assert hasattr(Tensor, name) and (hasattr(glassgrad, name) == op.function)


def test_a_function_made_from_a_method_has_its_signature():
    assert list(inspect.signature(glassgrad.sum).parameters)[:3] == ["input", "dim", "keepdim"]
    assert glassgrad.sum.__doc__ == Tensor.sum.__doc__ and glassgrad.sqrt.__name__ == "sqrt"


def test_every_tensor_method_torch_has_as_a_function_is_a_glassgrad_function():
    public = [name for name in dir(Tensor) if not name.startswith("_") and not name.endswith("_")]
    missing = [name for name in public if callable(getattr(Tensor, name)) and callable(getattr(torch, name, None))
               and hasattr(torch.Tensor, name) and not hasattr(glassgrad, name)]
    assert not missing, f"Tensor methods that torch also has as torch.<name>, missing from glassgrad: {missing}"


def test_floor_division_is_recorded_but_has_no_derivative_as_torch():
    for m in (glassgrad, torch):
        x = m.tensor([3.5, -2.0], requires_grad=True)
        y = x // 2
        assert y.requires_grad
        with pytest.raises(RuntimeError, match="derivative for .*floor_divide.* not implemented"):
            y.sum().backward()


def test_an_in_place_change_of_a_leaf_that_requires_grad_is_refused_as_torch():
    for name in ("add_", "mul_", "copy_", "normal_", "uniform_"):
        for m in (glassgrad, torch):
            x = m.tensor([1.0, 2.0], requires_grad=True)
            args = (m.tensor([1.0, 1.0]),) if name in ("add_", "mul_", "copy_") else ()
            with pytest.raises(RuntimeError, match="leaf"):
                getattr(x, name)(*args)
            with m.no_grad():
                getattr(x, name)(*args)  # as an optimizer or nn.init does


@pytest.mark.parametrize(("make", "error", "message"), [
    (lambda: glassgrad.tensor([1.5]) & glassgrad.tensor([True]), TypeError, "take integer or bool tensors"),
    (lambda: ~glassgrad.tensor([1.5]), TypeError, "got float32"),
    (lambda: glassgrad.tensor([3]) // glassgrad.tensor([0]), ZeroDivisionError, "integer division by zero"),
    (lambda: glassgrad.tensor([3]) % 0, ZeroDivisionError, "integer division by zero"),
    (lambda: glassgrad.tensor([[1.0, 2.0]]).gather(1, glassgrad.tensor([[2]])), IndexError, "index 2 is out of bounds"),
    (lambda: glassgrad.tensor([[1.0, 2.0]]).gather(1, glassgrad.tensor([[0.0]])), TypeError, "integer"),
    (lambda: glassgrad.tensor([[1.0, 2.0]]).gather(0, glassgrad.tensor([0])), ValueError, "dimensions"),
    (lambda: glassgrad.ones(4).split([1, 2]), ValueError, r"sum to 4"),
    (lambda: glassgrad.ones(4).split(0), ValueError, "positive"),
    (lambda: glassgrad.ones(4).chunk(0), ValueError, "positive"),
    (lambda: glassgrad.ones(2, 3).repeat(2), ValueError, "for each of the 2 dimensions"),
    (lambda: glassgrad.ones(3).tril(), ValueError, "at least 2 dimensions"),
    (lambda: glassgrad.ones(3).roll((1, 2), 0), ValueError, "2 shifts for 1 dims"),
    (lambda: glassgrad.ones(3).flip(1), IndexError, "out of range"),
    (lambda: glassgrad.tensor([1, 2]).norm(), TypeError, "floating"),
    (lambda: glassgrad.ones(3).norm(p=-1), ValueError, "p must be"),
    (lambda: glassgrad.ones(3).norm(p="nuc"), ValueError, "p must be"),
    (lambda: glassgrad.ones(3).masked_fill(glassgrad.ones(3) > 0, glassgrad.ones(2)), ValueError, "0-d"),
    (lambda: glassgrad.ones(3, 1).expand(2), ValueError, "1 sizes"),
    (lambda: glassgrad.ones(3, 1).expand(2, 2), ValueError, "cannot broadcast"),
    (lambda: glassgrad.ones(3, 1).expand(-1, 2, 2), ValueError, "new leading dimension"),
    (lambda: glassgrad.tensor([1, 2]).histogram(), TypeError, "floating"),
    (lambda: glassgrad.ones(3).copy_([1.0, 2.0, 3.0]), TypeError, "must be a Tensor"),
    (lambda: glassgrad.tensor([1, 2]).normal_(), TypeError, "floating"),
    (lambda: glassgrad.from_numpy([1.0]), TypeError, "numpy array"),
    (lambda: glassgrad.from_numpy(np.zeros(2, dtype=np.int8)), TypeError, "not supported"),
])  # fmt: skip
def test_bad_arguments_get_a_clear_error(make, error, message):
    with pytest.raises(error, match=message):
        make()


@pytest.mark.parametrize(("ours", "theirs"), [
    (lambda: glassgrad.eye(3), lambda: torch.eye(3)),
    (lambda: glassgrad.eye(2, 4, dtype=glassgrad.int64), lambda: torch.eye(2, 4, dtype=torch.int64)),
    (lambda: glassgrad.eye(0), lambda: torch.eye(0)),
    (lambda: glassgrad.from_numpy(np.arange(6.0).reshape(2, 3)),
     lambda: torch.from_numpy(np.arange(6.0).reshape(2, 3))),
    (lambda: glassgrad.from_numpy(np.array([True, False])), lambda: torch.from_numpy(np.array([True, False]))),
])  # fmt: skip
def test_the_making_functions_issue_16_names(ours, theirs):
    oracle.assert_close(ours(), theirs())


def test_from_numpy_shares_the_numbers_as_torch():
    array = np.zeros(3)
    t = glassgrad.from_numpy(array)
    array[1] = 2.0
    t[2] = 5.0
    assert t.tolist() == [0.0, 2.0, 5.0] and array.tolist() == [0.0, 2.0, 5.0]
    assert glassgrad.eye(2, requires_grad=True).requires_grad
