"""PyTorch's grad modes against torch: `no_grad` and `enable_grad` as blocks and as decorators with and
without parentheses, `set_grad_enabled` as a function, a block and a decorator, `inference_mode`."""

from __future__ import annotations

import pytest
import torch

import glassgrad


def records(m) -> bool:
    """Whether an operation on a tensor that requires grad records its graph in library `m` now."""
    return (m.ones(1, requires_grad=True) * 2).requires_grad


def uses(m) -> list:
    """What each way of using the modes gives in library `m`: whether it recorded, and the mode after."""
    seen = []

    @m.no_grad
    def bare():
        return records(m)

    @m.no_grad()
    def called():
        return records(m)

    @m.enable_grad()
    def enabled():
        return records(m)

    @m.inference_mode
    def inference_bare():
        return records(m)

    @m.inference_mode()
    def inference_called():
        return records(m)

    @m.set_grad_enabled(False)
    def switched():
        return records(m)

    seen += [bare(), called(), inference_bare(), inference_called(), switched(), records(m)]
    with m.no_grad():
        seen += [records(m), enabled()]
        with m.enable_grad():
            seen.append(records(m))
        with m.set_grad_enabled(True):
            seen.append(records(m))
        seen.append(records(m))
    with m.set_grad_enabled(False):
        seen += [records(m), m.is_grad_enabled()]
    seen.append(records(m))
    with m.inference_mode():
        seen.append(records(m))
    with m.inference_mode(False):
        seen.append(records(m))
    m.set_grad_enabled(False)
    seen += [records(m), m.is_grad_enabled()]
    m.set_grad_enabled(True)
    seen += [records(m), m.is_grad_enabled(), bare.__name__]
    return seen


def test_the_grad_modes_behave_as_torchs():
    assert uses(glassgrad) == uses(torch)
    assert glassgrad.is_grad_enabled() and records(glassgrad)


def test_a_mode_is_restored_after_an_exception_in_a_decorated_function():
    @glassgrad.no_grad
    def fails():
        raise KeyError("inside")

    with pytest.raises(KeyError):
        fails()
    assert records(glassgrad)


def test_a_mode_decorates_only_functions():
    with pytest.raises(TypeError, match="decorates a function"):
        glassgrad.no_grad()(3)
    with pytest.raises(TypeError, match="expected True or False"):
        glassgrad.set_grad_enabled("no")


def test_the_modes_leave_no_count_behind():
    """Every way of turning recording off and on again leaves the node factory its short path."""
    from glassgrad.autograd import _changes

    assert _changes[0] == 0
    uses(glassgrad)
    glassgrad.set_grad_enabled(False)
    with glassgrad.no_grad():
        glassgrad.set_grad_enabled(True)
    assert not glassgrad.is_grad_enabled() and _changes[0] > 0 and not records(glassgrad)
    glassgrad.set_grad_enabled(True)
    assert _changes[0] == 0 and records(glassgrad)
