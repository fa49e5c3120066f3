"""glassgrad: a glass-box autograd engine, from micrograd's Value to a numpy Tensor.

`import glassgrad` loads the scalar engine and the operations' descriptions; the rest loads on
first use, so `glassgrad.draw_dot` brings in graphviz only when called for. PyTorch's names are
here too (`glassgrad.tensor`, `glassgrad.randn`, `glassgrad.nn`, `glassgrad.optim`, ...), so
`import glassgrad as torch` runs PyTorch code: see docs/torch_compat.md.
"""

from importlib import import_module
from typing import Any

from glassgrad import ops  # the registry (glassgrad.ops.tensor_ops registers the Tensor's operations into it)
from glassgrad.autograd import (
    detect_anomaly,
    enable_grad,
    grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from glassgrad.engine import Value
from glassgrad.ops import op

__version__ = "0.1.0"

_SUBMODULES = {  # name here -> module (PyTorch's torch.random and torch.dtypes-like names)
    "nn": "glassgrad.nn",
    "optim": "glassgrad.optim",
    "random": "glassgrad._tensor.random",
    "dtypes": "glassgrad._tensor.dtypes",
    "cuda": "glassgrad._tensor.cuda",
    "utils": "glassgrad.utils",
}

_LAZY = {  # name here -> (module, name there)
    "Tensor": ("glassgrad._tensor.tensor", "Tensor"),
    "draw_dot": ("glassgrad.viz.visualize", "draw_dot"),
    "stepper": ("glassgrad.viz.backprop_page", "stepper"),
    "watch": ("glassgrad.viz.grouped", "watch"),
    "gradcheck": ("glassgrad.autograd.gradcheck", "gradcheck"),
    "gradgradcheck": ("glassgrad.autograd.gradcheck", "gradgradcheck"),
    "save": ("glassgrad.io.serialization", "save"),
    "load": ("glassgrad.io.serialization", "load"),
    "to_torch": ("glassgrad.io.torch_bridge", "to_torch"),
    "from_torch": ("glassgrad.io.torch_bridge", "from_torch"),
    "device": ("glassgrad._tensor.devices", "device"),
    "Size": ("glassgrad._tensor.printing", "Size"),
    # dtypes, under PyTorch's names and aliases
    **{
        name: ("glassgrad._tensor.dtypes", name)
        for name in ("dtype", "float32", "float64", "int64", "int32", "uint8", "get_default_dtype", "set_default_dtype")
    },
    "bool": ("glassgrad._tensor.dtypes", "bool_"),
    "float": ("glassgrad._tensor.dtypes", "float32"),
    "double": ("glassgrad._tensor.dtypes", "float64"),
    "long": ("glassgrad._tensor.dtypes", "int64"),
    "int": ("glassgrad._tensor.dtypes", "int32"),
    # making tensors
    **{
        name: ("glassgrad._tensor.creation", name)
        for name in ("tensor", "zeros", "ones", "full", "empty", "arange", "linspace", "eye", "from_numpy")
        + ("zeros_like", "ones_like", "full_like", "empty_like")
    },
    # functions of tensors: every operation of the registry that says so (glassgrad._tensor.functions)
    **{name: ("glassgrad._tensor.functions", name) for name in ops.functions()},
    # random numbers
    **{
        name: ("glassgrad._tensor.random", name)
        for name in ("Generator", "manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state")
        + ("default_generator", "randn", "rand", "randint", "randperm", "multinomial", "bernoulli")
        + ("randn_like", "rand_like", "randint_like")
    },
}

__all__ = [
    "Value", "detect_anomaly", "enable_grad", "grad", "inference_mode", "is_grad_enabled", "no_grad", "op",
    "set_grad_enabled", *_SUBMODULES, *_LAZY,
]  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return import_module(_SUBMODULES[name])
    if name in _LAZY:
        module, attribute = _LAZY[name]
        value = getattr(import_module(module), attribute)
        if callable(value):  # a function or a class: kept here, so `glassgrad.tanh` is found without this call
            globals()[name] = value
        return value
    raise AttributeError(f"module 'glassgrad' has no attribute {name!r}")
