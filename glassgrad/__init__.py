"""glassgrad: a glass-box autograd engine, from micrograd's Value to a numpy Tensor.

`import glassgrad` loads the scalar engine and the operations' descriptions; the rest loads on
first use, so `glassgrad.draw_dot` brings in graphviz only when called for.
"""

from importlib import import_module
from typing import Any

from glassgrad.autograd import detect_anomaly, enable_grad, grad, is_grad_enabled, no_grad
from glassgrad.engine import Value
from glassgrad.ops import op

__version__ = "0.1.0"

_LAZY = {
    "Tensor": "glassgrad.tensor",
    "draw_dot": "glassgrad.visualize",
    "stepper": "glassgrad.backprop_page",
    "watch": "glassgrad.training_page",
    "gradcheck": "glassgrad.gradient_check",
    "gradgradcheck": "glassgrad.gradient_check",
    "save": "glassgrad.serialization",
    "load": "glassgrad.serialization",
    "to_torch": "glassgrad.torch_bridge",
    "from_torch": "glassgrad.torch_bridge",
}

__all__ = ["Value", "detect_anomaly", "enable_grad", "grad", "is_grad_enabled", "no_grad", "op", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'glassgrad' has no attribute {name!r}")
