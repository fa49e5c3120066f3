"""Saving and loading models in a documented, versioned format that never runs code on load.

A scalar `nn.MLP` is saved as JSON:

    {"format": "glassgrad", "version": 1, "kind": "scalar-mlp", "nin": 2,
     "layers": [{"activation": "relu", "weights": [[w, ...], ...], "biases": [b, ...]}, ...]}

`weights[j]` are neuron j's input weights. Every write goes to a temporary file in the same
folder and is renamed over the target, so a crash mid-save leaves the previous file intact.
Loading checks every field and raises ValueError naming what is wrong.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from glassgrad.nn import ACTIVATIONS, MLP

FORMAT = "glassgrad"
VERSION = 1


def atomic_write(path: str | Path, write: Callable[[BinaryIO], None]) -> Path:
    """Call `write(file)` on a temporary file beside `path`, then rename it to `path`."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent or ".", prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def save(model: Any, path: str | Path) -> Path:
    """Write `model` (a scalar `nn.MLP` or a tensor model) to `path` atomically."""
    if isinstance(model, MLP):
        text = json.dumps(_scalar_mlp_to_dict(model), indent=1)
        return atomic_write(path, lambda f: f.write(text.encode()))
    from glassgrad import tensor_serialization

    return tensor_serialization.save(model, path)


def load(path: str | Path) -> Any:
    """Read a model written by `save`; raises ValueError on anything it did not write."""
    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(2)
    if head == b"PK":  # an .npz archive: a tensor model
        from glassgrad import tensor_serialization

        return tensor_serialization.load(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: not a glassgrad model file (not valid JSON: {e})") from None
    return _scalar_mlp_from_dict(doc, str(path))


def _scalar_mlp_to_dict(model: MLP) -> dict:
    layers = []
    for layer in model.layers:
        layers.append(
            {
                "activation": layer.neurons[0].activation,
                "weights": [[w.data for w in n.w] for n in layer.neurons],
                "biases": [n.b.data for n in layer.neurons],
            }
        )
    nin = len(model.layers[0].neurons[0].w)
    return {"format": FORMAT, "version": VERSION, "kind": "scalar-mlp", "nin": nin, "layers": layers}


def check_header(doc: Any, where: str, kind: str) -> None:
    """Raise ValueError unless `doc` is a glassgrad document of this version and kind."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f"{where}: not a glassgrad model file (no 'format': 'glassgrad' header)")
    if doc.get("version") != VERSION:
        raise ValueError(f"{where}: format version {doc.get('version')!r} is not supported (expected {VERSION})")
    if doc.get("kind") != kind:
        raise ValueError(f"{where}: model kind {doc.get('kind')!r}, expected {kind!r}")


def _number(x: Any, where: str) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
        raise ValueError(f"{where}: expected a finite number, got {x!r}")
    return float(x)


def _scalar_mlp_from_dict(doc: Any, where: str) -> MLP:
    check_header(doc, where, "scalar-mlp")
    nin, layers = doc.get("nin"), doc.get("layers")
    if isinstance(nin, bool) or not isinstance(nin, int) or nin < 1:
        raise ValueError(f"{where}: 'nin' must be a positive integer, got {nin!r}")
    if not isinstance(layers, list) or not layers:
        raise ValueError(f"{where}: 'layers' must be a non-empty list")
    values: list[float] = []
    width = nin
    for i, spec in enumerate(layers):
        at = f"{where}: layer {i}"
        if not isinstance(spec, dict) or {"activation", "weights", "biases"} - spec.keys():
            raise ValueError(f"{at}: needs 'activation', 'weights' and 'biases'")
        if spec["activation"] not in ACTIVATIONS:
            raise ValueError(f"{at}: unknown activation {spec['activation']!r}; expected one of {ACTIVATIONS}")
        weights, biases = spec["weights"], spec["biases"]
        if not isinstance(weights, list) or not isinstance(biases, list) or not weights:
            raise ValueError(f"{at}: 'weights' and 'biases' must be non-empty lists")
        if len(weights) != len(biases):
            raise ValueError(f"{at}: {len(weights)} weight rows but {len(biases)} biases")
        for j, (row, bias) in enumerate(zip(weights, biases)):
            if not isinstance(row, list) or len(row) != width:
                got = len(row) if isinstance(row, list) else type(row).__name__
                raise ValueError(f"{at}, neuron {j}: expected {width} weights, got {got}")
            values += [_number(x, f"{at}, neuron {j}") for x in [*row, bias]]
        width = len(weights)
    hidden = {spec["activation"] for spec in layers[:-1]}
    if len(hidden) > 1:
        raise ValueError(f"{where}: hidden layers must share one activation, got {sorted(map(str, hidden))}")
    model = MLP(
        nin,
        [len(spec["biases"]) for spec in layers],
        activation=hidden.pop() if hidden else "relu",
        output_activation=layers[-1]["activation"],
    )
    for p, x in zip(model.parameters(), values):
        p.data = x
    return model
