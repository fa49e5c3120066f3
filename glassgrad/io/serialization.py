"""Saving and loading models in a documented, versioned format that never runs code on load.

A scalar `nn.MLP` is saved as JSON:

    {"format": "glassgrad", "version": 1, "kind": "scalar-mlp", "nin": 2,
     "layers": [{"activation": "relu", "weights": [[w, ...], ...], "biases": [b, ...]}, ...]}

`weights[j]` are neuron j's input weights. Every write goes to a temporary file in the same
folder and is renamed over the target, so a crash mid-save leaves the previous file intact.
Loading checks every field and raises ValueError naming what is wrong. Tensor models are
`tensor_serialization`'s, state dicts, tensors and containers of them `object_serialization`'s; the
atomic write and the header check are `storage`'s (re-exported here).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from glassgrad.io.storage import FORMAT, VERSION, atomic_write, check_header
from glassgrad.nn.module import ACTIVATIONS, Module, hidden_activation
from glassgrad.nn.scalar import MLP

NPZ_MAGIC = b"PK"  # an .npz is a zip archive
NPY_MAGIC = b"\x93NUMPY"
PICKLE_MAGICS = tuple(b"\x80" + bytes([protocol]) for protocol in range(2, 6))
MAX_JSON_BYTES = 64 << 20  # a scalar model file: millions of weights, more than a scalar engine trains


def save(obj: Any, path: str | Path) -> Path:
    """Write `obj` to `path` atomically: a model (a scalar `nn.MLP` as JSON; an `nn.TensorMLP`,
    `nn.Sequential` or `nn.Linear` as an .npz), or, as `torch.save`, a state dict, a tensor, or dicts,
    lists and tuples of tensors, numbers, strings and None (an .npz, see `object_serialization`).

    Raises, writing nothing, for what could not be loaded back (a model with NaN or inf weights or of
    another kind: ValueError; anything else: TypeError), and FileNotFoundError when `path`'s folder
    does not exist.
    """
    if isinstance(obj, MLP):
        text = json.dumps(_scalar_mlp_to_dict(obj), indent=1, allow_nan=False)
        return atomic_write(path, lambda f: f.write(text.encode()))
    if isinstance(obj, Module):
        from glassgrad.io import tensor_serialization  # numpy only when a tensor model needs it

        return tensor_serialization.save(obj, path)
    from glassgrad.io import object_serialization

    return object_serialization.save(obj, path)


def load(path: str | Path, map_location: Any = None, weights_only: bool | None = None) -> Any:
    """Read what `save` wrote (a model, or the object it was given); raises ValueError on anything else.

    The file's first bytes, not its name, choose the reader: a zip (.npz) or a .npy array goes to
    the tensor loader, which explains what is wrong with it; anything else must be JSON. As
    `torch.load`'s: `map_location` may name the CPU (a tensor loaded is always on the CPU; a dict or a
    function, for files from GPUs, is accepted), and `weights_only` is accepted (loading never runs code
    from the file, whatever it says).
    """
    if map_location is not None and not callable(map_location) and not isinstance(map_location, dict):
        from glassgrad._tensor.devices import on_cpu

        on_cpu(map_location, "load: map_location")
    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(len(NPY_MAGIC))
    if head.startswith(NPZ_MAGIC) or head.startswith(NPY_MAGIC):
        from glassgrad.io import object_serialization

        return object_serialization.load(path)
    if not head:
        raise ValueError(f"{path}: not a glassgrad model file (the file is empty)")
    if head.startswith(PICKLE_MAGICS):
        raise ValueError(
            f"{path}: not a glassgrad model file (it is a Python pickle, which glassgrad never loads: "
            "unpickling can run any code)"
        )
    size = path.stat().st_size
    if size > MAX_JSON_BYTES:
        raise ValueError(f"{path}: the file has {size} bytes, more than the limit of {MAX_JSON_BYTES} bytes "
                         "for a scalar model file")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ValueError(
            f"{path}: not a glassgrad model file (binary data, neither JSON text nor an .npz archive: {e})"
        ) from None
    try:
        doc = json.loads(text)
    except RecursionError:
        raise ValueError(f"{path}: not a glassgrad model file (not valid JSON: nested too deeply)") from None
    except ValueError as e:  # JSONDecodeError, or an integer of more digits than Python converts
        raise ValueError(f"{path}: not a glassgrad model file (not valid JSON: {e})") from None
    return _scalar_mlp_from_dict(doc, str(path))


def _scalar_mlp_to_dict(model: MLP) -> dict:
    layers = []
    for i, layer in enumerate(model.layers):
        for j, n in enumerate(layer.neurons):
            for name, p in [*((f"weight {k}", w) for k, w in enumerate(n.w)), ("bias", n.b)]:
                if not _is_finite(p.data):
                    raise ValueError(
                        f"layer {i}, neuron {j}: {name} is {p.data!r}, not a finite number; "
                        "such a file could not be loaded"
                    )
        layers.append(
            {
                "activation": layer.neurons[0].activation,
                "weights": [[w.data for w in n.w] for n in layer.neurons],
                "biases": [n.b.data for n in layer.neurons],
            }
        )
    nin = len(model.layers[0].neurons[0].w)
    return {"format": FORMAT, "version": VERSION, "kind": "scalar-mlp", "nin": nin, "layers": layers}


def _is_finite(x: Any) -> bool:
    """True for a real number that is finite as a float (an int too large for a float is not)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return False
    try:
        return math.isfinite(float(x))
    except OverflowError:
        return False


def _number(x: Any, where: str) -> float:
    if isinstance(x, int) and not isinstance(x, bool) and not _is_finite(x):
        digits = len(str(abs(x)))
        raise ValueError(f"{where}: expected a finite number, got an integer of {digits} digits, too large for a float")
    if not _is_finite(x):
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
    model = MLP(
        nin,
        [len(spec["biases"]) for spec in layers],
        activation=hidden_activation([spec["activation"] for spec in layers], where),
        output_activation=layers[-1]["activation"],
    )
    for p, x in zip(model.parameters(), values):
        p.data = x
    return model
