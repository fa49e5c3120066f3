"""Neural networks: micrograd's classes of scalar Values, and PyTorch's layers of Tensors.

`MLP`, `Layer` and `Neuron` are micrograd's (`glassgrad.nn.scalar`, standard library only);
`Linear`, `Embedding`, `BatchNorm1d`, the activations, `Sequential`, the losses and `TensorMLP`
compute a whole batch at once (loaded on first use because they need numpy), with PyTorch's
names, so `import glassgrad.nn as nn` and `import glassgrad.nn.functional as F` read as PyTorch.
"""

from importlib import import_module
from typing import Any

from glassgrad.nn.module import Module
from glassgrad.nn.scalar import MLP, Layer, Neuron

_LAZY = {  # name here -> (module, name there)
    "Parameter": ("glassgrad.nn.parameter", "Parameter"),
    **{
        name: ("glassgrad.nn.layers", name)
        for name in ("Linear", "Embedding", "Flatten", "ReLU", "Tanh", "Sigmoid", "Sequential")
    },
    "TensorMLP": ("glassgrad.nn.layers", "MLP"),
    "GELU": ("glassgrad.nn.layers", "GELU"),
    "Identity": ("glassgrad.nn.layers", "Identity"),
    "Dropout": ("glassgrad.nn.dropout", "Dropout"),
    "ModuleList": ("glassgrad.nn.container", "ModuleList"),
    "ModuleDict": ("glassgrad.nn.container", "ModuleDict"),
    "BatchNorm1d": ("glassgrad.nn.normalization", "BatchNorm1d"),
    "LayerNorm": ("glassgrad.nn.normalization", "LayerNorm"),
    "MSELoss": ("glassgrad.nn.loss", "MSELoss"),
    "CrossEntropyLoss": ("glassgrad.nn.loss", "CrossEntropyLoss"),
}

_SUBMODULES = ("functional", "init", "utils")

__all__ = ["MLP", "Layer", "Module", "Neuron", *_SUBMODULES, *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return import_module(f"glassgrad.nn.{name}")
    if name in _LAZY:
        module, attribute = _LAZY[name]
        return getattr(import_module(module), attribute)
    raise AttributeError(f"module 'glassgrad.nn' has no attribute {name!r}")
