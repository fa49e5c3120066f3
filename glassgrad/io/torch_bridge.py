"""The bridge to PyTorch: `to_torch(model)` and `from_torch(module)`.

`to_torch` turns a scalar `nn.MLP` or a tensor model (`nn.TensorMLP`, `nn.Sequential` of
Linear and activations, `nn.Linear`) into a `torch.nn.Sequential` of `torch.nn.Linear`,
`ReLU`, `Tanh` and `Sigmoid` (a lone Linear into a `torch.nn.Linear`) holding copies of the
weights: float32 when every weight is float32, float64 otherwise. `from_torch` goes back, from
a `torch.nn.Sequential` of those modules (or a lone `torch.nn.Linear`) to a `nn.TensorMLP` when
the layers are those `MLP(...)` builds, a `nn.Sequential` otherwise. Anything else raises
ValueError naming the unsupported layer. This is the only module of glassgrad that imports torch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

try:
    import torch
except ImportError as error:
    raise ImportError("glassgrad.to_torch and glassgrad.from_torch need PyTorch: pip install torch") from error

from glassgrad import nn
from glassgrad.io.tensor_serialization import tensor_layers
from glassgrad.nn import layers
from glassgrad.nn.layers import as_mlp, linear_from_arrays

_TO_TORCH = {cls: getattr(torch.nn, cls.__name__) for cls in layers.ACTIVATIONS.values() if cls is not None}
_FROM_TORCH = {torch_cls: cls for cls, torch_cls in _TO_TORCH.items()}


def to_torch(model: Any) -> torch.nn.Module:
    """A torch module with copies of `model`'s weights that computes what `model` computes."""
    if isinstance(model, nn.MLP):
        return _scalar_to_torch(model)
    name, modules = tensor_layers(model)
    params = model.parameters()
    single = bool(params) and all(p.dtype == np.float32 for p in params)
    dtype = torch.float32 if single else torch.float64
    converted = [
        _torch_linear(m.weight._data, None if m.bias is None else m.bias._data, dtype)
        if type(m) is layers.Linear
        else _TO_TORCH[type(m)]()
        for m in modules
    ]
    return converted[0] if name == "Linear" else torch.nn.Sequential(*converted)


def from_torch(module: torch.nn.Module) -> layers.Module:
    """A glassgrad tensor model with copies of the weights of a torch Sequential (or Linear)."""
    if type(module) is torch.nn.Linear:
        return _linear_from_torch(module, "from_torch")
    if type(module) is not torch.nn.Sequential:
        raise ValueError(
            f"from_torch: unsupported module {type(module).__name__}; expected a torch.nn.Sequential "
            "of Linear, ReLU, Tanh and Sigmoid, or a torch.nn.Linear"
        )
    modules: list[layers.Module] = []
    for i, m in enumerate(module):
        if type(m) is torch.nn.Linear:
            modules.append(_linear_from_torch(m, f"from_torch: layer {i}"))
        elif type(m) in _FROM_TORCH:
            modules.append(_FROM_TORCH[type(m)]())
        else:
            raise ValueError(f"from_torch: unsupported layer {i}: {m!r} (supported: Linear, ReLU, Tanh, Sigmoid)")
    mlp = as_mlp(modules)
    return mlp if mlp is not None else layers.Sequential(*modules)


def _scalar_to_torch(model: nn.MLP) -> torch.nn.Sequential:
    modules: list[torch.nn.Module] = []
    for i, layer in enumerate(model.layers):
        activations = {n.activation for n in layer.neurons}
        if len(activations) != 1:
            raise ValueError(f"to_torch: layer {i} mixes activations {sorted(map(str, activations))}")
        weight = np.array([[w._data for w in n.w] for n in layer.neurons], dtype=np.float64)
        bias = np.array([n.b._data for n in layer.neurons], dtype=np.float64)
        modules.append(_torch_linear(weight, bias, torch.float64))
        activation = activations.pop()
        if activation is not None:
            modules.append(_TO_TORCH[layers.ACTIVATIONS[activation]]())
    return torch.nn.Sequential(*modules)


def _torch_linear(weight: np.ndarray, bias: np.ndarray | None, dtype: torch.dtype) -> torch.nn.Linear:
    """A torch.nn.Linear with these weights, made without drawing from torch's random generator."""
    nout, nin = weight.shape
    linear = torch.nn.utils.skip_init(torch.nn.Linear, nin, nout, bias=bias is not None, dtype=dtype)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor(weight))
        if bias is not None:
            linear.bias.copy_(torch.tensor(bias))
    return linear


def _linear_from_torch(linear: torch.nn.Linear, where: str) -> layers.Linear:
    if linear.weight.dtype not in (torch.float32, torch.float64):
        raise ValueError(f"{where}: weights of dtype {linear.weight.dtype}; convert with .double() or .float() first")
    weight = linear.weight.detach().cpu().numpy()
    bias = None if linear.bias is None else linear.bias.detach().cpu().numpy()
    for part, array in (("weight", weight), ("bias", bias)):
        if array is not None and not np.isfinite(array).all():
            raise ValueError(f"{where}: {part} contains NaN or inf; glassgrad takes finite weights only, as it saves")
    return linear_from_arrays(weight, bias, where)
