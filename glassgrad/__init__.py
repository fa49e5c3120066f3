"""glassgrad: a glass-box autograd engine, from micrograd's Value to a numpy Tensor.

`import glassgrad` loads the scalar engine and the operations' descriptions; the rest loads on
first use, so `glassgrad.draw_dot` brings in graphviz only when called for. PyTorch's names are
here too (`glassgrad.tensor`, `glassgrad.randn`, `glassgrad.nn`, `glassgrad.optim`, ...), so
`import glassgrad as torch` runs PyTorch code: see docs/torch_compat.md.
"""

import sys
from importlib import import_module
from types import ModuleType
from typing import Any

from glassgrad import ops, tensor_ops  # noqa: F401  (the registry: tensor_ops registers the Tensor's operations)
from glassgrad.autograd import detect_anomaly, enable_grad, grad, is_grad_enabled, no_grad
from glassgrad.engine import Value
from glassgrad.ops import op

__version__ = "0.1.0"

_SUBMODULES = ("nn", "optim", "random", "dtypes")

_LAZY = {  # name here -> (module, name there)
    "Tensor": ("glassgrad.tensor", "Tensor"),
    "draw_dot": ("glassgrad.visualize", "draw_dot"),
    "stepper": ("glassgrad.backprop_page", "stepper"),
    "watch": ("glassgrad.training_page", "watch"),
    "gradcheck": ("glassgrad.gradient_check", "gradcheck"),
    "gradgradcheck": ("glassgrad.gradient_check", "gradgradcheck"),
    "save": ("glassgrad.serialization", "save"),
    "load": ("glassgrad.serialization", "load"),
    "to_torch": ("glassgrad.torch_bridge", "to_torch"),
    "from_torch": ("glassgrad.torch_bridge", "from_torch"),
    # dtypes, under PyTorch's names and aliases
    **{name: ("glassgrad.dtypes", name) for name in ("float32", "float64", "int64", "get_default_dtype")},
    "set_default_dtype": ("glassgrad.dtypes", "set_default_dtype"),
    "bool": ("glassgrad.dtypes", "bool_"),
    "float": ("glassgrad.dtypes", "float32"),
    "double": ("glassgrad.dtypes", "float64"),
    "long": ("glassgrad.dtypes", "int64"),
    # making tensors
    **{
        name: ("glassgrad.creation", name)
        for name in ("zeros", "ones", "full", "empty", "arange", "linspace")
        + ("zeros_like", "ones_like", "full_like", "empty_like")
    },
    # functions of tensors: every operation of the registry that says so (glassgrad.functions)
    **{name: ("glassgrad.functions", name) for name in ops.functions()},
    # random numbers
    **{
        name: ("glassgrad.random", name)
        for name in ("Generator", "manual_seed", "default_generator", "randn", "rand", "randint", "randperm")
        + ("multinomial", "randn_like", "rand_like")
    },
}

__all__ = ["Value", "detect_anomaly", "enable_grad", "grad", "is_grad_enabled", "no_grad", "op", *_SUBMODULES, *_LAZY]


class _Package(ModuleType):
    """glassgrad's own module type, for one name clash: `glassgrad.tensor` is the module tensor.py, and
    PyTorch's `torch.tensor(data)` makes a tensor. The module answers both: called, it is `creation.tensor`."""

    @property
    def tensor(self) -> ModuleType:
        import_module("glassgrad.creation")  # makes the module callable
        return import_module("glassgrad.tensor")

    @tensor.setter
    def tensor(self, module: ModuleType) -> None:
        """The import system records the submodule here; the property above answers instead."""


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return import_module(f"glassgrad.{name}")
    if name in _LAZY:
        module, attribute = _LAZY[name]
        return getattr(import_module(module), attribute)
    raise AttributeError(f"module 'glassgrad' has no attribute {name!r}")
