"""A tensor's text is PyTorch's (with glassgrad's name for the dtypes): numbers, layout, summaries, suffixes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import glassgrad

VALUES = [  # data for both libraries' `tensor`
    [1.5, 2.0], [1.0, 2.0], [[0.1, 2.5], [3, 4]], [1e-5, 1.0], [1e9, 2.0], [math.nan, 1.0, math.inf], [-math.inf, 2.0],
    [0.0, 0.0], [0.0, -0.0, 1.0], 3.25, -0.0, 7.0, [[1, 2], [3, 4]], [True, False], [], [-1.2345678, 100.5],
    [123456.5, 0.5], [1e-4, 0.1], [0.1, 100.0], [0.1, 100.1], [[1e-10, 1e10]], [2.0**40, 1.0], list(range(-30, 30)),
    [[0.5] * 30] * 3, [-(10**12), 5], [[[1.0, -1.0]], [[0.25, 8.0]]],
]
DTYPES = [None, "float64", "int32", "int64", "bool", "uint8"]


def text(lib, data, dtype):
    return repr(lib.tensor(data, dtype=None if dtype is None else getattr(lib, dtype)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_small_tensors_print_as_pytorchs(dtype):
    for data in VALUES:
        try:
            expected = text(torch, data, dtype)
        except (RuntimeError, OverflowError, ValueError, TypeError):
            continue  # e.g. nan as an integer: nothing to compare
        assert text(glassgrad, data, dtype) == expected.replace("torch.", "glassgrad."), data


@pytest.mark.parametrize("shape", [(1001,), (2000,), (30, 40), (5, 300), (300, 5), (2, 3, 4), (4, 5, 6, 7), (12, 12)])
@pytest.mark.parametrize("kind", ["normal", "integers", "scaled", "tiny"])
def test_large_tensors_are_summarised_and_wrapped_as_pytorchs(shape, kind):
    g = torch.Generator().manual_seed(len(shape))
    numbers = {
        "normal": lambda: torch.randn(shape, generator=g),
        "integers": lambda: torch.randint(-500, 500, shape, generator=g),
        "scaled": lambda: torch.randn(shape, generator=g, dtype=torch.float64) * 1e5,
        "tiny": lambda: torch.rand(shape, generator=g) * 1e-3,
    }[kind]()
    assert repr(glassgrad.tensor(numbers.numpy())) == repr(numbers).replace("torch.", "glassgrad.")


@pytest.mark.parametrize("shape", [(0,), (0, 2), (2, 0, 3)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_empty_tensors(shape, dtype):
    ours = glassgrad.zeros(shape, dtype=None if dtype is None else getattr(glassgrad, dtype))
    theirs = torch.zeros(shape, dtype=None if dtype is None else getattr(torch, dtype))
    assert repr(ours) == repr(theirs).replace("torch.", "glassgrad.")


RESULTS = [  # (what, function of x: a float tensor that requires grad); each shows PyTorch's grad_fn
    lambda x: x, lambda x: x + 1, lambda x: x - 1, lambda x: x * 2, lambda x: x / 2, lambda x: -x, lambda x: x**2,
    lambda x: x**x, lambda x: x.exp(), lambda x: x.log(), lambda x: x.tanh(), lambda x: x.relu(), lambda x: x.sigmoid(),
    lambda x: x.sqrt(), lambda x: x.abs(), lambda x: x.sin(), lambda x: x.cos(), lambda x: x.log10(),
    lambda x: x @ x, lambda x: x.sum(), lambda x: x.mean(), lambda x: x.var(), lambda x: x.std(), lambda x: x.max(),
    lambda x: x.softmax(1), lambda x: x.log_softmax(1), lambda x: x.view(4), lambda x: x.T, lambda x: x.permute(1, 0),
    lambda x: x[[0, 1]], lambda x: x.clone(), lambda x: x.double(), lambda x: x.clamp(0, 1),
    lambda x: x.masked_fill(x > 2, 0.0), lambda x: x.exp().sum() * 0.5,
]


@pytest.mark.parametrize("result", RESULTS)
def test_results_name_their_node_as_pytorch(result):
    ours = result(glassgrad.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True))
    theirs = result(torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True))
    assert repr(ours) == repr(theirs).replace("torch.", "glassgrad.")


def test_parameters_and_suffixes_that_wrap():
    for t in (glassgrad, torch):
        t.manual_seed(0)
    ours, theirs = glassgrad.nn.Linear(9, 2), torch.nn.Linear(9, 2)
    assert repr(ours.weight) == repr(theirs.weight) and repr(ours.bias) == repr(theirs.bias)
    wide = np.linspace(-1, 1, 15)
    for requires_grad in (False, True):
        ours = glassgrad.tensor(wide, dtype=glassgrad.float64, requires_grad=requires_grad)
        theirs = torch.tensor(wide, dtype=torch.float64, requires_grad=requires_grad)
        assert repr(ours) == repr(theirs).replace("torch.", "glassgrad.")  # dtype= on a line of its own
    with glassgrad.no_grad():
        assert repr(glassgrad.ones(2, requires_grad=True) * 2) == "tensor([2., 2.])"
