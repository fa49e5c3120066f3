"""Gradient checking: the engine's derivatives against central finite differences.

    d f / d x_k  ~  (f(x + eps e_k) - f(x - eps e_k)) / (2 eps)      (error O(eps^2))

`gradcheck` compares the whole Jacobian: one backward pass per output element (seeded with
that element's one-hot vector) against two evaluations of `fn` per input element. It works on
`Value`s and `Tensor`s alike and needs no PyTorch. `gradgradcheck` applies the same check to
the first derivatives, computed with `create_graph=True`, so it tests the derivative rules
run on nodes (the graph-building pass) and hence second derivatives.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from glassgrad.autograd import Node, data_of, grad


class GradcheckError(AssertionError):
    """An analytic derivative disagrees with its finite-difference estimate."""


def _nodes(result: Any) -> list:
    """fn's result as a list of output nodes."""
    nodes = list(result) if isinstance(result, (list, tuple)) else [result]
    for node in nodes:
        if not isinstance(node, Node):
            raise TypeError(f"fn must return a Value, a Tensor or a list of them, got {type(node).__name__}")
    return nodes


def _flat(x: Any) -> np.ndarray:
    """A float or an array as a new flat float64 array."""
    return np.array(x, dtype=np.float64).reshape(-1)


def _is_scalar(node: Any) -> bool:
    return type(node._data) is float


def _seed(node: Any, k: int) -> Any:
    """The one-hot gradient picking output element k."""
    if _is_scalar(node):
        return 1.0
    seed = np.zeros(node._data.shape, dtype=node._data.dtype)
    seed.flat[k] = 1.0
    return seed


def _set(node: Any, k: int, value: float) -> None:
    if _is_scalar(node):
        node._data = float(value)
    else:
        node._data.flat[k] = value


def _element(name: str, node: Any, k: int) -> str:
    if _is_scalar(node) or node._data.ndim == 0:
        return name
    return f"{name}[{', '.join(map(str, np.unravel_index(k, node._data.shape)))}]"


def _analytic(outputs: list, inputs: list) -> list[list[np.ndarray]]:
    """jac[o][i][j, k] = d outputs[o].flat[j] / d inputs[i].flat[k], by backpropagation."""
    jac = [[np.zeros((_flat(o._data).size, _flat(x._data).size)) for x in inputs] for o in outputs]
    for o, out in enumerate(outputs):
        if not out.requires_grad:  # a constant output: its rows stay zero
            continue
        for j in range(jac[o][0].shape[0]):
            for i, g in enumerate(grad(out, inputs, _seed(out, j))):
                jac[o][i][j] = _flat(data_of(g))
    return jac


def _numeric(fn: Callable[..., Any], inputs: list, checked: list, eps: float) -> list[list[np.ndarray]]:
    """jac[o][i][:, k] = (f_o(x_i,k + eps) - f_o(x_i,k - eps)) / (2 eps), evaluating fn twice."""
    jac: list[list[np.ndarray]] = []
    for i, x in enumerate(checked):
        for k in range(_flat(x._data).size):
            centre = _flat(x._data)[k]
            _set(x, k, centre + eps)
            plus = [_flat(o._data) for o in _nodes(fn(*inputs))]
            _set(x, k, centre - eps)
            minus = [_flat(o._data) for o in _nodes(fn(*inputs))]
            _set(x, k, centre)
            if not jac:
                jac = [[np.zeros((p.size, _flat(y._data).size)) for y in checked] for p in plus]
            for o, (p, m) in enumerate(zip(plus, minus, strict=True)):
                jac[o][i][:, k] = (p - m) / (2.0 * eps)
    return jac


def _compare(
    what: str,
    outputs: list,
    checked: list[tuple[int, Any]],
    analytic: list,
    numeric: list,
    atol: float,
    rtol: float,
    names: list[str],
) -> None:
    """Raise for the element with the largest |analytic - numeric| / (atol + rtol |numeric|) above 1."""
    worst = None
    for o, out in enumerate(outputs):
        for c, (i, x) in enumerate(checked):
            a, n = analytic[o][c], numeric[o][c]
            if a.size == 0:
                continue
            with np.errstate(invalid="ignore"):
                ratio = np.abs(a - n) / (atol + rtol * np.abs(n))
            ratio = np.where(np.isnan(ratio), np.inf, ratio)
            j, k = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
            if ratio[j, k] > 1.0 and (worst is None or ratio[j, k] > worst[0]):
                worst = (ratio[j, k], o, out, j, i, x, k, float(a[j, k]), float(n[j, k]))
    if worst is not None:
        _, o, out, j, i, x, k, a, n = worst
        output = _element(names[o], out, j)
        raise GradcheckError(
            f"{what}: d {output} / d {_element(f'input {i}', x, k)}: analytic {a!r}, numeric {n!r}, "
            f"difference {abs(a - n)!r} > atol + rtol * |numeric| = {atol + rtol * abs(n)!r}"
        )


def _inputs(inputs: Any) -> list:
    """One node as a list of one (a Tensor is not a sequence of its rows), a sequence as a list."""
    return [inputs] if isinstance(inputs, Node) else list(inputs)


def _check(
    what: str,
    fn: Callable[..., Any],
    inputs: Sequence[Any],
    eps: float,
    atol: float,
    rtol: float,
    names: list[str] | None = None,
) -> bool:
    inputs = _inputs(inputs)
    for i, x in enumerate(inputs):
        if not hasattr(x, "_prev"):
            raise TypeError(f"{what}: input {i} is {type(x).__name__} {x!r}; expected a Value or a Tensor")
        if not _is_scalar(x) and x.requires_grad and x._data.dtype != np.float64:  # constants: any dtype
            raise ValueError(f"{what}: input {i} is {x._data.dtype}; finite differences need float64 inputs")
    checked = [(i, x) for i, x in enumerate(inputs) if x.requires_grad]
    if not checked:
        raise ValueError(f"{what}: no input requires a gradient, so there is nothing to check "
                         "(make Tensor inputs with requires_grad=True)")
    nodes = [x for _, x in checked]
    outputs = _nodes(fn(*inputs))
    if names is None:
        names = ["output"] if len(outputs) == 1 else [f"output {o}" for o in range(len(outputs))]
    analytic, numeric = _analytic(outputs, nodes), _numeric(fn, inputs, nodes, eps)
    _compare(what, outputs, checked, analytic, numeric, atol, rtol, names)
    return True


def gradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """Check d fn(*inputs) / d inputs against central differences: |analytic - numeric| <= atol + rtol |numeric|.

    `fn` returns a Value, a Tensor of any shape, or a list of them; every output element is
    checked against every element of every input that requires a gradient (the full Jacobian).
    `inputs` is one Value or Tensor, or a sequence of them.
    Tensor inputs must be float64 (eps = 1e-6 is below float32's resolution). Returns True, or
    raises `GradcheckError` naming the worst element with its analytic and numeric values.
    """
    return _check("gradcheck", fn, inputs, eps, atol, rtol)


def gradgradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """Check second derivatives: `gradcheck` of x -> d <v, fn(x)> / dx, computed with create_graph.

    v is 1 for a Value output and a fixed random normal array (from `seed`) for a Tensor output,
    as PyTorch's gradgradcheck does with random `grad_outputs`. Output i of the checked function
    is the first derivative with respect to input i.
    """
    inputs = _inputs(inputs)
    rng = np.random.default_rng(seed)
    weights = [None if _is_scalar(o) else rng.standard_normal(o._data.shape) for o in _nodes(fn(*inputs))]

    def first_derivatives(*xs: Any) -> list:
        total = [x._zeros() for x in xs]
        for out, v in zip(_nodes(fn(*xs)), weights, strict=True):
            if out.requires_grad:
                shares = grad(out, list(xs), None if v is None else v.astype(out._data.dtype), create_graph=True)
                total = [t + g for t, g in zip(total, shares)]
        return total

    names = [f"(d output / d input {i})" for i in range(len(inputs))]
    return _check("gradgradcheck", first_derivatives, inputs, eps, atol, rtol, names)
