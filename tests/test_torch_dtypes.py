"""dtypes against PyTorch: every pair of operands and every operation, under both default dtypes.

Operands are float32, float64, int64 and bool tensors (1-D and 0-d) and Python floats, ints and
bools. For each operation and each combination glassgrad must give torch's result dtype and values,
and every floating tensor operand that requires grad a gradient of its own dtype with torch's numbers,
or refuse where torch refuses; with `set_default_dtype(float32)` and with float64.
"""

from __future__ import annotations

import itertools
import operator

import numpy as np
import pytest
import torch

import glassgrad

DTYPES = ("float32", "float64", "int64", "int32", "uint8", "bool")
VALUES = {"float32": [0.5, 1.5, 2.0], "float64": [1.25, 0.75, 3.0], "int64": [1, 2, 3], "int32": [3, 1, 2],
          "uint8": [2, 3, 1], "bool": [True, False, True]}
SCALARS = {"py float": 2.5, "py int": 2, "py bool": True}
OPERANDS = [(d, shape) for d in DTYPES for shape in ("1-d", "0-d")] + list(SCALARS)
OPERATORS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv, "**": operator.pow,
             "==": operator.eq, "<": operator.lt, "@": operator.matmul}
FUNCTIONS = ("exp", "log", "tanh", "sigmoid", "sqrt", "abs", "sin", "cos", "log10", "relu", "sum")


def binary(name: str):
    """Operation `name` of two operands, as f(a, b, lib)."""
    if name in OPERATORS:
        return lambda a, b, lib: OPERATORS[name](a, b)
    if name == "maximum":
        return lambda a, b, lib: lib.maximum(a, b)
    if name == "cat":
        return lambda a, b, lib: lib.cat([a, b])
    return lambda a, b, lib: lib.where(lib.tensor([True, False, True]), a, b)


BINARY = {name: binary(name) for name in (*OPERATORS, "maximum", "cat", "where")}
UNARY = {name: lambda t, lib, name=name: getattr(t, name)() for name in FUNCTIONS}
UNARY.update({
    "clamp(0.5, 2.5)": lambda t, lib: t.clamp(0.5, 2.5), "clamp(1, 2)": lambda t, lib: t.clamp(1, 2),
    "clamp(max=1.5)": lambda t, lib: t.clamp(max=1.5), "mean": lambda t, lib: t.mean(),
    "float()": lambda t, lib: t.float(), "double()": lambda t, lib: t.double(), "max": lambda t, lib: t.max(),
    "* 2.5": lambda t, lib: t * 2.5, "2.0 ** t": lambda t, lib: 2.0**t, "t ** 2": lambda t, lib: t**2,
    "t ** 0.5": lambda t, lib: t**0.5, "-t": lambda t, lib: -t,
})
TENSORS_ONLY = ("where", "maximum", "cat", "@")
DEFAULTS = ("float32", "float64")


def make(operand, lib, requires_grad: bool):
    """The operand for `lib`: a tensor (floating ones require grad) or a Python number."""
    if isinstance(operand, str):
        return SCALARS[operand]
    dtype, shape = operand
    values = VALUES[dtype] if shape == "1-d" else VALUES[dtype][1]
    return lib.tensor(values, dtype=getattr(lib, dtype), requires_grad=requires_grad and dtype.startswith("float"))


def outcome(f, lib, operands):
    """(result dtype name, values, gradients' dtype names and values), or the error's type."""
    args = [make(o, lib, True) for o in operands]
    try:
        out = f(*args, lib)
    except (TypeError, ValueError, RuntimeError):
        return "refused"  # torch's and glassgrad's exception types may differ (TypeError, RuntimeError)
    grads = []
    if out.requires_grad:
        try:
            out.sum().backward()
        except RuntimeError:  # torch's rule for a bool exponent subtracts 1 from it
            return _name(out.dtype), out.tolist(), None
        grads = [(_name(a.grad.dtype), a.grad.tolist())
                 for a in args if not isinstance(a, (int, float, bool)) and a.requires_grad]
    return _name(out.dtype), out.tolist(), grads


def _name(dtype) -> str:
    """A dtype's name, torch's or numpy's: float32, float64, int64 or bool."""
    return str(dtype).removeprefix("torch.").removeprefix("glassgrad.")


def agree(got, expected, what):
    if isinstance(expected, str) or isinstance(got, str):
        assert isinstance(got, str) and isinstance(expected, str), f"{what}: glassgrad {got}, torch {expected}"
        return
    assert got[0] == expected[0], f"{what}: dtype {got[0]}, torch {expected[0]}"
    rtol = 1e-6 if "float32" in (got[0], *[g[0] for g in got[2]]) else 1e-12
    np.testing.assert_allclose(np.array(got[1], dtype=float), np.array(expected[1], dtype=float), rtol=rtol,
                               err_msg=what)
    if expected[2] is None:  # torch cannot differentiate it: only the forward is compared
        return
    assert [g[0] for g in got[2]] == [g[0] for g in expected[2]], f"{what}: gradient dtypes"
    for (_, g), (_, e) in zip(got[2], expected[2]):
        np.testing.assert_allclose(np.array(g, dtype=float), np.array(e, dtype=float), rtol=rtol, err_msg=what)


@pytest.fixture(params=DEFAULTS)
def default_dtype(request):
    name = request.param
    before_torch, before = torch.get_default_dtype(), glassgrad.get_default_dtype()
    torch.set_default_dtype(getattr(torch, name))
    glassgrad.set_default_dtype(getattr(glassgrad, name))
    yield name
    torch.set_default_dtype(before_torch)
    glassgrad.set_default_dtype(before)


@pytest.mark.parametrize("op", list(BINARY))
def test_binary_operations_promote_as_torch(op, default_dtype):
    f = BINARY[op]
    cases = 0
    for a, b in itertools.product(OPERANDS, OPERANDS):
        if isinstance(a, str) and isinstance(b, str):
            continue
        if op in TENSORS_ONLY and (isinstance(a, str) or isinstance(b, str)):
            continue  # torch takes no Python number there (glassgrad does)
        if op == "@" and a[0] != b[0]:
            continue  # torch refuses a product of two dtypes; glassgrad computes it in the promoted dtype
        what = f"{a} {op} {b} (default {default_dtype})"
        agree(outcome(f, glassgrad, (a, b)), outcome(f, torch, (a, b)), what)
        cases += 1
    tensors = len(OPERANDS) - len(SCALARS)
    everything = len(OPERANDS) ** 2 - len(SCALARS) ** 2
    assert cases == (2 * tensors if op == "@" else tensors**2 if op in TENSORS_ONLY else everything)


@pytest.mark.parametrize("op", list(UNARY))
def test_functions_of_each_dtype_as_torch(op, default_dtype):
    for operand in OPERANDS[: 2 * len(DTYPES)]:
        what = f"{op} of {operand} (default {default_dtype})"
        agree(outcome(UNARY[op], glassgrad, (operand,)), outcome(UNARY[op], torch, (operand,)), what)


INPLACE = {"+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv}


def change_in_place(lib, op: str, target, operand):
    """y (a recorded result, or a copy) of `target` changed by `operand`: its dtype and numbers, and the
    gradients of y's leaf and of the operand."""
    x, other = make(target, lib, True), make(operand, lib, True)
    y = INPLACE[op](x * 1 if x.requires_grad else x.clone(), other)
    grads = []
    if y.requires_grad:
        y.sum().backward()
        grads = [(_name(t.grad.dtype), t.grad.tolist()) for t in (x, other) if getattr(t, "requires_grad", False)]
    return _name(y.dtype), y.tolist(), grads


@pytest.mark.parametrize("op", list(INPLACE))
def test_inplace_keeps_the_tensors_dtype_as_torch(op, default_dtype):
    """Each dtype changed in place by each operand: it keeps its dtype, and y's leaf and the operand get
    gradients of their own dtypes, or both refuse."""
    for target, operand in itertools.product(OPERANDS[: 2 * len(DTYPES)], OPERANDS):
        results = []
        for lib in (glassgrad, torch):
            try:
                results.append(change_in_place(lib, op, target, operand))
            except (TypeError, ValueError, RuntimeError):
                results.append("refused")
        agree(results[0], results[1], f"y {target} {op} {operand} (default {default_dtype})")
