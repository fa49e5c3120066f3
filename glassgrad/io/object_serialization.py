"""Saving and loading what `torch.save` is mostly given: state dicts, tensors, and dicts, lists and
tuples of them with plain numbers, strings and None, in the `.npz` archive of tensor models.

    header   a 0-d unicode string array: the JSON header below
    t0, t1   the tensors' arrays, each once (tensors sharing their numbers, as tied weights, share one)

    {"format": "glassgrad", "version": 1, "kind": "object",
     "object": {"dict": [[{"str": "0.weight"}, {"tensor": "t0", "dtype": "float64", "shape": [4, 3],
                                                "requires_grad": false, "parameter": false}], ...],
                "ordered": true}}

A value is one of {"tensor": name, "dtype", "shape", "requires_grad", "parameter"}, {"dict": [[key,
value], ...], "ordered": bool} (keys are strings, numbers, booleans or None), {"list": [...]},
{"tuple": [...]}, {"str": s}, {"int": n}, {"float": x} ("nan", "inf" and "-inf" as strings),
{"bool": b} or {"none": null}. The file is written atomically and read by
`tensor_serialization.read`, which checks every array against the header before decompressing any;
no pickle is ever read, and the header is walked to a bounded depth, so a hostile file is refused in
little time and memory.
"""

from __future__ import annotations

import json
import math
import numbers
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from glassgrad._tensor.creation import wrap
from glassgrad._tensor.dtypes import SUPPORTED
from glassgrad._tensor.tensor import Tensor
from glassgrad.io import tensor_serialization
from glassgrad.io.storage import FORMAT, VERSION, atomic_write, check_header
from glassgrad.nn.parameter import Parameter

KIND = "object"
MAX_DEPTH = 64  # containers inside containers: far deeper than any state dict or checkpoint
_DTYPES = {dtype.name: dtype for dtype in SUPPORTED}  # numpy's names in the file: "float32", "bool"
_SCALARS = {"str": str, "int": int, "bool": bool}
KINDS = {"tensor", "dict", "list", "tuple", "float", "none", *_SCALARS}
_EXPECTED = "tensors, numbers, strings, None, and dicts, lists and tuples of them"


def save(obj: Any, path: str | Path) -> Path:
    """Write `obj` (a state dict, a tensor, or containers of tensors and plain values) to `path` atomically;
    TypeError, writing nothing, for anything else (a function, a model object, a numpy array, ...)."""
    arrays: dict[str, np.ndarray] = {}
    names: dict[int, str] = {}
    tree = _encode(obj, "obj", arrays, names, set())
    header = json.dumps({"format": FORMAT, "version": VERSION, "kind": KIND, "object": tree}, allow_nan=False)
    return atomic_write(path, lambda f: np.savez(f, header=np.array(header), **arrays))


def _encode(x: Any, at: str, arrays: dict[str, np.ndarray], names: dict[int, str], open_: set[int]) -> dict:
    """The header's description of `x` (found at `at`), its tensors' arrays added to `arrays` (named once
    per array: `names` maps an array's id to its name); `open_` holds the containers being encoded."""
    if len(open_) >= MAX_DEPTH:
        raise ValueError(f"save: {at} is nested more than {MAX_DEPTH} containers deep")
    if isinstance(x, Tensor):
        name = names.setdefault(id(x._data), f"t{len(names)}")
        arrays[name] = x._data
        return {"tensor": name, "dtype": x._data.dtype.name, "shape": list(x.shape), "requires_grad": x.requires_grad,
                "parameter": isinstance(x, Parameter)}
    if x is None:
        return {"none": None}
    if isinstance(x, (bool, np.bool_)):
        return {"bool": bool(x)}
    if isinstance(x, numbers.Integral):
        return {"int": int(x)}
    if isinstance(x, numbers.Real):
        value = float(x)
        return {"float": value if math.isfinite(value) else repr(value)}
    if isinstance(x, str):
        return {"str": x}
    if not isinstance(x, (dict, list, tuple)):
        raise TypeError(f"save: {at} is a {type(x).__name__}; glassgrad saves {_EXPECTED}")
    if id(x) in open_:
        raise ValueError(f"save: {at} contains itself; such a value cannot be written")
    open_.add(id(x))
    if isinstance(x, dict):
        items = []
        for key, value in x.items():
            if key is not None and not isinstance(key, (str, numbers.Real)):
                raise TypeError(f"save: {at} has a key of type {type(key).__name__}; keys are strings, numbers or None")
            items.append([_encode(key, at, arrays, names, open_), _encode(value, f"{at}[{key!r}]", arrays, names,
                                                                          open_)])
        out = {"dict": items, "ordered": isinstance(x, OrderedDict)}
    else:  # a namedtuple is written as a tuple
        items = [_encode(value, f"{at}[{i}]", arrays, names, open_) for i, value in enumerate(x)]
        out = {"tuple" if isinstance(x, tuple) else "list": items}
    open_.discard(id(x))
    return out


def load(path: str | Path) -> Any:
    """Read what `save` or `tensor_serialization.save` wrote: the object, or the model; ValueError for anything
    else, never running code from the file."""
    doc, contents = tensor_serialization.read(path, _described)
    where = str(path)
    if doc["kind"] == tensor_serialization.KIND:
        return tensor_serialization.build(doc, contents, where)
    return _decode(doc["object"], contents, f"{where}: object")


def _described(doc: Any, where: str) -> tensor_serialization.Described:
    """The arrays the header describes (a model's, or an object's tensors), once every value is checked."""
    kind = doc.get("kind") if isinstance(doc, dict) else None
    if kind == tensor_serialization.KIND:
        return tensor_serialization.described(doc, where)
    check_header(doc, where, kind)  # the format and the version
    if kind != KIND:
        raise ValueError(f"{where}: model kind {kind!r}, expected 'tensor' (a model) or 'object' (a state dict, "
                         "tensors, containers)")
    described: tensor_serialization.Described = {}
    _check(doc.get("object"), f"{where}: object", 0, described)
    return described


def _kind(node: Any, at: str) -> str:
    """Which kind of value `node` describes (its one key among KINDS); ValueError if none or several."""
    kinds = set(node) & KINDS if isinstance(node, dict) else set()
    if len(kinds) != 1:
        raise ValueError(f"{at}: not a value's description (expected one of {sorted(KINDS)}): {str(node)[:80]}")
    return kinds.pop()


def _check(node: Any, at: str, depth: int, described: tensor_serialization.Described) -> None:
    """ValueError unless `node` describes a value (and each tensor its array consistently)."""
    if depth > MAX_DEPTH:
        raise ValueError(f"{at}: nested more than {MAX_DEPTH} containers deep")
    kind = _kind(node, at)
    if kind == "tensor":
        return _check_tensor(node, at, described)
    if kind == "dict":
        if set(node) != {"dict", "ordered"} or not isinstance(node["dict"], list) or type(node["ordered"]) is not bool:
            raise ValueError(f"{at}: a dict is described as {{'dict': [[key, value], ...], 'ordered': bool}}")
        for pair in node["dict"]:
            if not isinstance(pair, list) or len(pair) != 2:
                raise ValueError(f"{at}: a dict's items must be [key, value] pairs")
            key, value = pair
            if _kind(key, at) not in ("str", "int", "float", "bool", "none"):
                raise ValueError(f"{at}: a dict key must be a string, a number, a boolean or None")
            _check(key, at, depth + 1, described)
            _check(value, f"{at}[{_plain(key)!r}]", depth + 1, described)
        return None
    if len(node) != 1:
        raise ValueError(f"{at}: a {kind} is described by its one key, got {sorted(node)}")
    value = node[kind]
    if kind in ("list", "tuple") and isinstance(value, list):
        for i, item in enumerate(value):
            _check(item, f"{at}[{i}]", depth + 1, described)
    elif not (
        kind in _SCALARS and type(value) is _SCALARS[kind]
        or kind == "float" and _as_float(value) is not None
        or kind == "none" and value is None
    ):
        raise ValueError(f"{at}: not a {kind}: {str(value)[:80]}")
    return None


def _check_tensor(node: dict, at: str, described: tensor_serialization.Described) -> None:
    name, dtype, shape = node.get("tensor"), node.get("dtype"), node.get("shape")
    flags = (node.get("requires_grad"), node.get("parameter"))
    if (
        set(node) != {"tensor", "dtype", "shape", "requires_grad", "parameter"}
        or not isinstance(name, str) or name == "header"
        or dtype not in _DTYPES
        or not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in shape)
        or not all(type(flag) is bool for flag in flags)
    ):
        raise ValueError(f"{at}: a tensor is described as {{'tensor': name, 'dtype': one of {list(_DTYPES)}, "
                         "'shape': [...], 'requires_grad': bool, 'parameter': bool}")
    if flags[0] and _DTYPES[dtype].kind != "f":
        raise ValueError(f"{at}: a {dtype} tensor cannot require a gradient")
    if name in described and described[name][:2] != (dtype, tuple(shape)):
        raise ValueError(f"{at}: array {name!r} is described twice, as {dtype} {tuple(shape)} and as "
                         f"{described[name][0]} {described[name][1]}")
    described.setdefault(name, (dtype, tuple(shape), at))


def _as_float(x: Any) -> float | None:
    """A float's number as the header writes it (a JSON number, or 'nan', 'inf', '-inf'); None otherwise."""
    if isinstance(x, str):
        return float(x) if x in ("nan", "inf", "-inf") else None
    return float(x) if type(x) in (int, float) and math.isfinite(x) else None


def _plain(node: dict) -> Any:
    """The value of a (checked) scalar node."""
    kind = _kind(node, "")
    return None if kind == "none" else _as_float(node[kind]) if kind == "float" else node[kind]


def _decode(node: dict, contents: dict[str, np.ndarray], at: str) -> Any:
    """The value a checked `node` describes; each tensor wraps its array (shared by tensors that share it)."""
    kind = _kind(node, at)
    if kind == "tensor":
        array = contents[node["tensor"]]
        if array.dtype == np.bool_ and array.view(np.uint8).max(initial=0) > 1:
            raise ValueError(f"{at}: bool array {node['tensor']!r} holds bytes other than 0 and 1")
        if node["parameter"]:
            out = Parameter(array, requires_grad=node["requires_grad"])
            out._data = array  # share the one array, as the tensors saved did
            return out
        return wrap(array, node["requires_grad"])
    if kind in ("list", "tuple"):
        items = [_decode(item, contents, f"{at}[{i}]") for i, item in enumerate(node[kind])]
        return items if kind == "list" else tuple(items)
    if kind == "dict":
        pairs = [(_plain(key), _decode(value, contents, at)) for key, value in node["dict"]]
        return OrderedDict(pairs) if node["ordered"] else dict(pairs)
    return _plain(node)
