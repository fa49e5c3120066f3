"""Saving and loading Tensor models (`nn.TensorMLP`, `nn.Sequential`, `nn.Linear`), and the checked
reading of glassgrad's `.npz` archives (`read`), which `object_serialization` shares for state dicts.

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
(`storage.atomic_write`). Loading reads the zip directory and each entry's .npy header itself
and decodes the array data only as the float32/float64 the header describes, so it never runs
code from the file; every name, dtype, shape and size is checked before any data is
decompressed (sizes against MAX_ARCHIVE_BYTES), so a hostile file is refused in little time and
memory. It checks everything: a file that is not a readable archive, a missing or
unknown header, version, model or layer type, an array missing, extra, of another shape or
dtype than the header says, non-finite weights, or layers whose widths do not chain, each
raise ValueError naming the problem. Saving a model with NaN or inf weights raises too, as
such a file could not be loaded.
"""

from __future__ import annotations

import json
import math
import os
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from glassgrad.io.storage import FORMAT, VERSION, atomic_write, check_header
from glassgrad.nn import layers
from glassgrad.nn.layers import as_mlp, check_linear_arrays, linear_from_arrays, width_mismatch
from glassgrad.nn.module import Module

KIND = "tensor"
MODELS = {"MLP": layers.MLP, "Sequential": layers.Sequential, "Linear": layers.Linear}
ACTIVATIONS: dict[str, type[Module]] = {name: cls for name, cls in layers.ACTIVATIONS.items() if cls is not None}
LAYER_TYPES = ("linear", *ACTIVATIONS)
_TYPE_NAMES = {layers.Linear: "linear", **{cls: name for name, cls in ACTIVATIONS.items()}}
_DTYPES = ("float32", "float64")
_NPY_MAGIC = b"\x93NUMPY"
MAX_ARCHIVE_BYTES = 1 << 30  # a model file's arrays, uncompressed: far above any model glassgrad trains
MAX_HEADER_BYTES = 1 << 20  # the JSON header array
MAX_ENTRIES = 4096  # arrays in one archive: two per linear layer, and the header
_EOCD_SEARCH = 22 + 65535  # the zip's end-of-directory record and the longest comment after it
_READ_ERRORS = (OSError, EOFError, KeyError, ValueError, RuntimeError, zipfile.BadZipFile, zlib.error)


def tensor_layers(model: Any) -> tuple[str, list[Module]]:
    """The model's name in MODELS and its layers; ValueError for anything else."""
    name = next((name for name, cls in MODELS.items() if type(model) is cls), None)
    if name is None:
        raise ValueError(
            f"unsupported model {type(model).__name__}: expected a scalar nn.MLP, or an nn.TensorMLP, "
            "nn.Sequential or nn.Linear; save any other model's state_dict() (and load it with load_state_dict)"
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
            check_linear_arrays(module.weight._data, None if module.bias is None else module.bias._data, f"layer {i}")
            for part in ("weight", "bias"):
                tensor = getattr(module, part)
                spec = None if tensor is None else {"shape": list(tensor.shape), "dtype": tensor._data.dtype.name}
                specs[-1][part] = spec
                if tensor is not None:
                    if not np.isfinite(tensor._data).all():
                        raise ValueError(f"layer {i}: {part} contains NaN or inf; such a file could not be loaded")
                    arrays[f"{i}.{part}"] = tensor._data
    header = json.dumps({"format": FORMAT, "version": VERSION, "kind": KIND, "model": name, "layers": specs})
    return atomic_write(path, lambda f: np.savez(f, header=np.array(header), **arrays))


def load(path: str | Path) -> Module:
    """Read a tensor model written by `save`; ValueError for anything else, never running its code."""
    doc, contents = read(path, described)
    return build(doc, contents, str(path))


Described = dict[str, tuple[str, tuple[int, ...], str]]  # array name -> (dtype, shape, where to say it is wrong)


def read(path: str | Path, described_by: Callable[[Any, str], Described]) -> tuple[Any, dict[str, np.ndarray]]:
    """The JSON header of the glassgrad archive at `path` and the arrays it describes, each checked.

    `described_by(header, where)` checks the header and names the arrays it describes. Every entry's
    name, dtype, shape and size is checked against it (and the size against MAX_ARCHIVE_BYTES) from the
    zip directory and the .npy headers, before any array data is decompressed: a hostile file costs
    little time and memory to refuse.
    """
    where = str(path)
    with open(path, "rb") as f:
        if f.read(len(_NPY_MAGIC)) == _NPY_MAGIC:
            raise ValueError(f"{where}: a single .npy array, not a glassgrad .npz archive")
        size = f.seek(0, os.SEEK_END)
        if size > MAX_ARCHIVE_BYTES:
            raise _too_big(where, "the file has", size)
        entries = _entry_count(f)
        if entries > MAX_ENTRIES:
            raise ValueError(f"{where}: the archive holds {entries} entries; glassgrad writes at most {MAX_ENTRIES}")
        try:
            archive = zipfile.ZipFile(f)
        except _READ_ERRORS as e:
            raise ValueError(f"{where}: not a readable .npz archive ({type(e).__name__}: {e})") from None
        with archive:
            if any(name.endswith("data.pkl") for name in archive.namelist()):
                raise ValueError(
                    f"{where}: a PyTorch file (torch.save), not a glassgrad file; load it with "
                    "torch.load (trusted files only) and convert it with glassgrad.from_torch"
                )
            infos = _entries(archive, where)
            if "header" not in infos:
                files = list(infos)
                shown = ", ".join(map(repr, files[:5])) + (", ..." if len(files) > 5 else "")
                raise ValueError(
                    f"{where}: no JSON string 'header' array; not a glassgrad tensor model (a zip holding {shown})"
                )
            doc = _header(archive, infos.pop("header"), where)
            described = described_by(doc, where)
            extra = sorted(set(infos) - set(described))
            if extra:
                raise ValueError(f"{where}: arrays {extra} are not described by the header")
            total = sum(info.file_size for info in infos.values())
            if total > MAX_ARCHIVE_BYTES:
                raise _too_big(where, "the arrays take", total)
            contents = {}
            for name, (dtype, shape, at) in described.items():
                if name not in infos:
                    raise ValueError(f"{at}: array {name!r} is missing from the archive")
                contents[name] = _read(archive, infos[name], name, np.dtype(dtype), shape, at)
    return doc, contents


def _too_big(where: str, what: str, size: int, limit: int | None = None) -> ValueError:
    """The error for `size` bytes over `limit` (MAX_ARCHIVE_BYTES, read at call time)."""
    limit = MAX_ARCHIVE_BYTES if limit is None else limit
    return ValueError(f"{where}: {what} {size} bytes, more than the limit of {limit} bytes")


def _entry_count(f: BinaryIO) -> int:
    """How many entries the zip's end-of-directory record announces (0 if there is none): read
    before zipfile builds an object per entry. A zip64 archive (over 65535 entries) counts as many."""
    size = f.seek(0, os.SEEK_END)
    f.seek(max(0, size - _EOCD_SEARCH))
    tail = f.read()
    at = tail.rfind(b"PK\x05\x06")
    f.seek(0)
    if at < 0 or len(tail) < at + 12:
        return 0
    return int.from_bytes(tail[at + 10 : at + 12], "little")


def _entries(archive: zipfile.ZipFile, where: str) -> dict[str, zipfile.ZipInfo]:
    """The archive's entries by array name ('0.weight' for '0.weight.npy'); ValueError for any other entry."""
    infos: dict[str, zipfile.ZipInfo] = {}
    for info in archive.infolist():
        name = info.filename.removesuffix(".npy")
        if info.is_dir() or name == info.filename:
            raise ValueError(f"{where}: entry {info.filename!r} is not a .npy array")
        if name in infos:
            raise ValueError(f"{where}: the archive holds array {name!r} twice")
        infos[name] = info
    return infos


def _npy_header(f: BinaryIO, name: str, where: str) -> tuple[np.dtype, tuple[int, ...], bool]:
    """The dtype, shape and Fortran order an entry's .npy header announces (its data is not read)."""
    try:
        version = np.lib.format.read_magic(f)
        if version not in ((1, 0), (2, 0)):
            raise ValueError(f".npy format version {version}")
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read(f)
        return dtype, shape, fortran
    except ValueError as e:
        raise ValueError(f"{where}: entry {name!r} is not a .npy array ({e})") from None
    except _READ_ERRORS as e:
        raise ValueError(f"{where}: cannot read array {name!r} ({type(e).__name__}: {e})") from None


def _read(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, dtype: np.dtype, shape: tuple[int, ...], at: str
) -> np.ndarray:
    """Entry `name` as an array of `dtype` and `shape`, once its .npy header and size say exactly that."""
    try:
        with archive.open(info) as f:
            got_dtype, got_shape, fortran = _npy_header(f, name, at)
            if got_dtype != dtype or got_shape != shape:
                got = "object" if got_dtype.hasobject else str(got_dtype)
                raise ValueError(
                    f"{at}: array {name!r} is {got} {got_shape} but the header says {dtype} {shape}"
                )
            nbytes = math.prod(shape) * dtype.itemsize
            if nbytes > MAX_ARCHIVE_BYTES:
                raise _too_big(at, f"array {name!r} takes", nbytes)
            if info.file_size != f.tell() + nbytes:
                raise ValueError(
                    f"{at}: array {name!r} holds {info.file_size - f.tell()} bytes of data, but {dtype} {shape} "
                    f"takes {nbytes} bytes"
                )
            data = f.read(nbytes)  # reaching the entry's end checks its CRC
    except _READ_ERRORS as e:
        if isinstance(e, ValueError) and str(e).startswith(at):
            raise
        raise ValueError(f"{at}: cannot read array {name!r} ({type(e).__name__}: {e})") from None
    return np.frombuffer(data, dtype).reshape(shape, order="F" if fortran else "C").copy()


def _header(archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> Any:
    """The JSON document in the 'header' entry: a 0-d unicode array of at most MAX_HEADER_BYTES."""
    with archive.open(info) as f:
        dtype, shape, _ = _npy_header(f, "header", where)
    if dtype.kind != "U" or shape != ():
        got = "object" if dtype.hasobject else str(dtype)
        raise ValueError(f"{where}: no JSON string 'header' array (it is {got} {shape}); not a glassgrad tensor model")
    if max(info.file_size, dtype.itemsize) > MAX_HEADER_BYTES:
        raise _too_big(where, "the 'header' array has", max(info.file_size, dtype.itemsize), MAX_HEADER_BYTES)
    header = _read(archive, info, "header", dtype, (), where)
    try:
        return json.loads(str(header))
    except (json.JSONDecodeError, RecursionError) as e:
        raise ValueError(f"{where}: the header is not valid JSON ({e})") from None


def described(doc: Any, where: str) -> Described:
    """The arrays a model's header describes: name -> (dtype, shape, where to say it is wrong)."""
    check_header(doc, where, KIND)
    name, specs = doc.get("model"), doc.get("layers")
    if not isinstance(name, str) or name not in MODELS:
        raise ValueError(f"{where}: unknown model {name!r}; expected one of {tuple(MODELS)}")
    if not isinstance(specs, list):
        raise ValueError(f"{where}: 'layers' must be a list")
    described = {}
    for i, spec in enumerate(specs):
        at = f"{where}: layer {i}"
        kind = spec.get("type") if isinstance(spec, dict) else None
        if not isinstance(kind, str) or kind not in LAYER_TYPES:
            raise ValueError(f"{at}: unknown layer type {kind!r}; expected one of {LAYER_TYPES}")
        if kind != "linear":
            continue
        if {"weight", "bias"} - spec.keys():
            raise ValueError(f"{at}: a linear layer needs 'weight' and 'bias' (null for none)")
        for part in ("weight", "bias"):
            desc = spec[part]
            if part == "bias" and desc is None:
                continue
            shape = desc.get("shape") if isinstance(desc, dict) else None
            dtype = desc.get("dtype") if isinstance(desc, dict) else None
            if not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in shape) or dtype not in _DTYPES:
                raise ValueError(
                    f"{at}: '{i}.{part}' must be described as {{'shape': [...], 'dtype': 'float32' or 'float64'}}"
                )
            described[f"{i}.{part}"] = (dtype, tuple(shape), at)
    return described


def build(doc: dict, contents: dict[str, np.ndarray], where: str) -> Module:
    """The model the (checked) header describes, holding the arrays it names."""
    name = doc["model"]
    modules = [_layer(spec, i, contents, f"{where}: layer {i}") for i, spec in enumerate(doc["layers"])]
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


def _layer(spec: dict, i: int, contents: dict[str, np.ndarray], at: str) -> Module:
    if spec["type"] != "linear":
        return ACTIVATIONS[spec["type"]]()
    weight = _finite(contents[f"{i}.weight"], f"{i}.weight", at)
    bias = None if spec["bias"] is None else _finite(contents[f"{i}.bias"], f"{i}.bias", at)
    return linear_from_arrays(weight, bias, at)


def _finite(array: np.ndarray, name: str, at: str) -> np.ndarray:
    if not np.isfinite(array).all():
        raise ValueError(f"{at}: array {name!r} contains NaN or inf")
    return array
