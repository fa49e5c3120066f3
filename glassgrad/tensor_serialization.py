"""Saving and loading Tensor models (`nn.TensorMLP`, `nn.Sequential`, `nn.Linear`).

A tensor model is saved as an `.npz` archive (a zip of `.npy` arrays) that holds no pickle:

    header     a 0-d unicode string array: the JSON header below
    0.weight   layer 0's weight, float32 or float64, shape (nout, nin)
    0.bias     layer 0's bias, shape (nout,); absent when the layer has none
    2.weight   ... every array is named after its layer's index in "layers"

    {"format": "glassgrad", "version": 1, "kind": "tensor", "model": "MLP",
     "layers": [{"type": "linear", "weight": {"shape": [16, 2], "dtype": "float64"},
                 "bias": {"shape": [16], "dtype": "float64"}},
                {"type": "relu"},
                {"type": "linear", "weight": {"shape": [1, 16], "dtype": "float64"}, "bias": null}]}

"model" is "MLP", "Sequential" or "Linear" (then "layers" is that one layer); a layer's
"type" is "linear", "relu", "tanh" or "sigmoid". The write is atomic
(`storage.atomic_write`). Loading uses `np.load(allow_pickle=False)`, so it never runs
code from the file, and checks everything: a file that is not a readable archive, a missing or
unknown header, version, model or layer type, an array missing, extra, of another shape or
dtype than the header says, non-finite weights, or layers whose widths do not chain, each
raise ValueError naming the problem. Saving a model with NaN or inf weights raises too, as
such a file could not be loaded.
"""

from __future__ import annotations

import json
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from glassgrad.nn import layers
from glassgrad.nn.layers import as_mlp, check_linear_arrays, linear_from_arrays, width_mismatch
from glassgrad.nn.module import Module
from glassgrad.storage import FORMAT, VERSION, atomic_write, check_header

KIND = "tensor"
MODELS = {"MLP": layers.MLP, "Sequential": layers.Sequential, "Linear": layers.Linear}
ACTIVATIONS: dict[str, type[Module]] = {name: cls for name, cls in layers.ACTIVATIONS.items() if cls is not None}
LAYER_TYPES = ("linear", *ACTIVATIONS)
_TYPE_NAMES = {layers.Linear: "linear", **{cls: name for name, cls in ACTIVATIONS.items()}}
_DTYPES = ("float32", "float64")
_NPY_MAGIC = b"\x93NUMPY"
_READ_ERRORS = (OSError, EOFError, KeyError, ValueError, RuntimeError, zipfile.BadZipFile, zlib.error)


def tensor_layers(model: Any) -> tuple[str, list[Module]]:
    """The model's name in MODELS and its layers; ValueError for anything else."""
    name = next((name for name, cls in MODELS.items() if type(model) is cls), None)
    if name is None:
        raise ValueError(
            f"unsupported model {type(model).__name__}: expected a scalar nn.MLP, or an nn.TensorMLP, "
            "nn.Sequential or nn.Linear"
        )
    modules = [model] if name == "Linear" else list(model)
    for i, module in enumerate(modules):
        if type(module) not in _TYPE_NAMES:
            raise ValueError(f"unsupported layer {i}: {module!r} (supported: Linear, ReLU, Tanh, Sigmoid)")
    return name, modules


def save(model: Any, path: str | Path) -> Path:
    """Write a tensor model to `path` (an .npz archive, see the module docstring) atomically."""
    name, modules = tensor_layers(model)
    if name == "MLP" and as_mlp(modules) is None:
        raise ValueError("this nn.TensorMLP's layers were changed so it is no MLP; save nn.Sequential(*model)")
    specs: list[dict] = []
    arrays: dict[str, np.ndarray] = {}
    for i, module in enumerate(modules):
        specs.append({"type": _TYPE_NAMES[type(module)]})
        if type(module) is layers.Linear:
            check_linear_arrays(module.weight.data, None if module.bias is None else module.bias.data, f"layer {i}")
            for part in ("weight", "bias"):
                tensor = getattr(module, part)
                specs[-1][part] = None if tensor is None else {"shape": list(tensor.shape), "dtype": str(tensor.dtype)}
                if tensor is not None:
                    if not np.isfinite(tensor.data).all():
                        raise ValueError(f"layer {i}: {part} contains NaN or inf; such a file could not be loaded")
                    arrays[f"{i}.{part}"] = tensor.data
    header = json.dumps({"format": FORMAT, "version": VERSION, "kind": KIND, "model": name, "layers": specs})
    return atomic_write(path, lambda f: np.savez(f, header=np.array(header), **arrays))


def load(path: str | Path) -> Module:
    """Read a tensor model written by `save`; ValueError for anything else, never running its code."""
    where = str(path)
    with open(path, "rb") as f:
        if f.read(len(_NPY_MAGIC)) == _NPY_MAGIC:
            raise ValueError(f"{where}: a single .npy array, not a glassgrad .npz archive")
        f.seek(0)
        try:
            archive = np.load(f, allow_pickle=False)
        except _READ_ERRORS as e:
            raise ValueError(f"{where}: not a readable .npz archive ({type(e).__name__}: {e})") from None
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError(f"{where}: a single .npy array, not a glassgrad .npz archive")
        with archive:
            if "header" not in archive.files:
                if any(name.endswith("data.pkl") for name in archive.files):
                    raise ValueError(
                        f"{where}: a PyTorch file (torch.save), not a glassgrad tensor model; load it with "
                        "torch.load (trusted files only) and convert it with glassgrad.from_torch"
                    )
                shown = ", ".join(map(repr, archive.files[:5])) + (", ..." if len(archive.files) > 5 else "")
                raise ValueError(
                    f"{where}: no JSON string 'header' array; not a glassgrad tensor model (a zip holding {shown})"
                )
            contents = {name: _read(archive, name, where) for name in archive.files}
    return _build(contents, where)


def _read(archive: np.lib.npyio.NpzFile, name: str, where: str) -> np.ndarray:
    try:
        value = archive[name]
    except _READ_ERRORS as e:
        raise ValueError(f"{where}: cannot read array {name!r} ({type(e).__name__}: {e})") from None
    if not isinstance(value, np.ndarray):
        raise ValueError(f"{where}: entry {name!r} is not a .npy array")
    return value


def _build(contents: dict[str, np.ndarray], where: str) -> Module:
    header = contents.pop("header", None)
    if header is None or header.dtype.kind != "U" or header.shape != ():
        raise ValueError(f"{where}: no JSON string 'header' array; not a glassgrad tensor model")
    try:
        doc = json.loads(str(header))
    except (json.JSONDecodeError, RecursionError) as e:
        raise ValueError(f"{where}: the header is not valid JSON ({e})") from None
    check_header(doc, where, KIND)
    name, specs = doc.get("model"), doc.get("layers")
    if name not in MODELS:
        raise ValueError(f"{where}: unknown model {name!r}; expected one of {tuple(MODELS)}")
    if not isinstance(specs, list):
        raise ValueError(f"{where}: 'layers' must be a list")
    modules = [_layer(spec, i, contents, f"{where}: layer {i}") for i, spec in enumerate(specs)]
    if contents:
        raise ValueError(f"{where}: arrays {sorted(contents)} are not described by the header")
    mismatch = width_mismatch(modules)
    if mismatch:
        raise ValueError(f"{where}: {mismatch}")
    if name == "Linear":
        if len(modules) != 1 or type(modules[0]) is not layers.Linear:
            raise ValueError(f"{where}: a 'Linear' model needs exactly one linear layer, got {len(modules)} layers")
        return modules[0]
    if name == "MLP":
        mlp = as_mlp(modules)
        if mlp is None:
            raise ValueError(f"{where}: these layers do not form an MLP (linear layers with biases, one activation)")
        return mlp
    return layers.Sequential(*modules)


def _layer(spec: Any, i: int, contents: dict[str, np.ndarray], at: str) -> Module:
    kind = spec.get("type") if isinstance(spec, dict) else None
    if kind not in LAYER_TYPES:
        raise ValueError(f"{at}: unknown layer type {kind!r}; expected one of {LAYER_TYPES}")
    if kind != "linear":
        return ACTIVATIONS[kind]()
    if {"weight", "bias"} - spec.keys():
        raise ValueError(f"{at}: a linear layer needs 'weight' and 'bias' (null for none)")
    weight = _array(spec["weight"], f"{i}.weight", contents, at)
    bias = None if spec["bias"] is None else _array(spec["bias"], f"{i}.bias", contents, at)
    return linear_from_arrays(weight, bias, at)


def _array(desc: Any, name: str, contents: dict[str, np.ndarray], at: str) -> np.ndarray:
    shape = desc.get("shape") if isinstance(desc, dict) else None
    dtype = desc.get("dtype") if isinstance(desc, dict) else None
    if not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in shape) or dtype not in _DTYPES:
        raise ValueError(f"{at}: {name!r} must be described as {{'shape': [...], 'dtype': 'float32' or 'float64'}}")
    if name not in contents:
        raise ValueError(f"{at}: array {name!r} is missing from the archive")
    array = contents.pop(name)
    if array.shape != tuple(shape) or array.dtype != dtype:
        raise ValueError(
            f"{at}: array {name!r} is {array.dtype} {array.shape} but the header says {dtype} {tuple(shape)}"
        )
    if not np.isfinite(array).all():
        raise ValueError(f"{at}: array {name!r} contains NaN or inf")
    return array
