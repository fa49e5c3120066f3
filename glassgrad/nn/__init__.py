"""Neural networks: micrograd's classes of scalar Values, and PyTorch-style layers of Tensors.

`MLP`, `Layer` and `Neuron` are micrograd's (`glassgrad.nn.scalar`, standard library only);
`Linear`, the activation layers, `Sequential` and `TensorMLP` compute a whole batch at once
(`glassgrad.nn.layers`, loaded on first use because it needs numpy).
"""

from importlib import import_module
from typing import Any

from glassgrad.nn.module import Module
from glassgrad.nn.scalar import MLP, Layer, Neuron

_LAZY = {  # name here -> (module, name there)
    "Linear": ("glassgrad.nn.layers", "Linear"),
    "ReLU": ("glassgrad.nn.layers", "ReLU"),
    "Tanh": ("glassgrad.nn.layers", "Tanh"),
    "Sigmoid": ("glassgrad.nn.layers", "Sigmoid"),
    "Sequential": ("glassgrad.nn.layers", "Sequential"),
    "TensorMLP": ("glassgrad.nn.layers", "MLP"),
}

__all__ = ["MLP", "Layer", "Module", "Neuron", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attribute = _LAZY[name]
        return getattr(import_module(module), attribute)
    raise AttributeError(f"module 'glassgrad.nn' has no attribute {name!r}")
