"""`glassgrad.save`/`load` of what `torch.save` is given: state dicts, tensors, nested containers.

The oracle is PyTorch's own round trip (`torch.load(torch.save(x))` of the same object made with
torch); hostile files are built by hand and must be refused with a ValueError naming the problem.
"""

from __future__ import annotations

import json
import math
from collections import OrderedDict

import numpy as np
import pytest
import torch

import glassgrad
import glassgrad.nn as gnn
from glassgrad.io import object_serialization


def plain(x):
    """A loaded value as nested Python values, tensors as (kind, dtype, shape, requires_grad, numbers)."""
    if isinstance(x, (glassgrad.Tensor, torch.Tensor)):
        kind = "parameter" if isinstance(x, (gnn.Parameter, torch.nn.Parameter)) else "tensor"
        numbers = np.asarray(x.detach().numpy()).tolist()
        dtype = str(x.dtype).removeprefix("torch.").removeprefix("glassgrad.")
        return (kind, dtype, tuple(x.shape), x.requires_grad, repr(numbers))
    if isinstance(x, dict):
        return (type(x).__name__, [(k, plain(v)) for k, v in x.items()])
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [plain(v) for v in x])
    if isinstance(x, float) and math.isnan(x):
        return "nan"
    return (type(x).__name__, repr(x))


def values(t):
    """The same objects made with library t, as a table: name -> object."""
    nn = t.nn
    mlp = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.BatchNorm1d(4), nn.Linear(4, 2, bias=False), nn.LayerNorm(2))
    for i, p in enumerate(mlp.parameters()):  # the same weights in both libraries
        numbers = np.sin(np.arange(p.numel()) + 10.0 * i).reshape(p.shape)
        if t is torch:
            p.data.copy_(torch.from_numpy(numbers))
        else:
            p.data[...] = numbers
    return {
        "state dict": mlp.state_dict(),
        "tensor": t.tensor([[1.5, -2.0], [0.0, 3.25]], dtype=t.float64),
        "float32": t.tensor([1.0, 2.5], dtype=t.float32),
        "int64 0-d": t.tensor(7),
        "bool": t.tensor([True, False, True]),
        "empty": t.zeros(0, 3, dtype=t.float64),
        "transposed": t.arange(6, dtype=t.float64).reshape(2, 3).T,
        "requires grad": t.tensor([1.0, 2.0], dtype=t.float64, requires_grad=True),
        "parameter": nn.Parameter(t.tensor([0.5], dtype=t.float64)),
        "frozen parameter": nn.Parameter(t.tensor([0.5], dtype=t.float64), requires_grad=False),
        "checkpoint": {"model": mlp.state_dict(), "iter_num": 2000, "best_val_loss": 1.4697, "config": {
            "n_layer": 4, "bias": False, "dropout": 0.0, "dataset": "shakespeare_char", "name": "héllo ✓"}},
        "containers": [1, -2**70, 2.5, -0.0, float("inf"), -float("inf"), None, True, "s", (), [], {}, ((1,), [2])],
        "nan": float("nan"),
        "keys": {0: "int key", 1.5: "float key", None: "none key", True: "bool key", "s": [t.tensor([1, 2])]},
        "ordered": OrderedDict([("b", 1), ("a", 2)]),
        "string": "just a string",
        "number": 3,
    }


@pytest.mark.parametrize("name", list(values(glassgrad)))
def test_a_round_trip_gives_what_torchs_round_trip_gives(tmp_path, name):
    theirs = values(torch)[name]
    torch.save(theirs, tmp_path / "theirs.pt")
    expected = torch.load(tmp_path / "theirs.pt")
    ours = values(glassgrad)[name]
    glassgrad.save(ours, tmp_path / "ours.pt")
    got = glassgrad.load(tmp_path / "ours.pt")
    assert plain(got) == plain(expected)
    if name == "state dict":  # the weights themselves: the same as the model's
        assert plain(got) == plain(ours)


def test_tied_weights_are_written_once_and_load_sharing_their_numbers(tmp_path):
    head = gnn.Linear(4, 6, bias=False)
    model = gnn.Sequential(gnn.Embedding(6, 4), head)
    model[0].weight = head.weight  # nanoGPT's weight tying
    path = glassgrad.save(model.state_dict(), tmp_path / "tied.pt")
    import zipfile

    assert sorted(zipfile.ZipFile(path).namelist()) == ["header.npy", "t0.npy"]
    loaded = glassgrad.load(path)
    assert np.shares_memory(loaded["0.weight"].numpy(), loaded["1.weight"].numpy())
    assert loaded["0.weight"] is not loaded["1.weight"]


def test_a_saved_state_dict_restores_a_model_that_computes_the_same(tmp_path):
    glassgrad.manual_seed(1)
    model = gnn.Sequential(gnn.Linear(3, 5), gnn.BatchNorm1d(5), gnn.Tanh(), gnn.Linear(5, 2))
    x = glassgrad.randn(8, 3)
    model(x)  # training mode: the running statistics move
    glassgrad.save(model.state_dict(), tmp_path / "model.pt")
    glassgrad.manual_seed(2)
    fresh = gnn.Sequential(gnn.Linear(3, 5), gnn.BatchNorm1d(5), gnn.Tanh(), gnn.Linear(5, 2))
    fresh.load_state_dict(glassgrad.load(tmp_path / "model.pt"))
    model.eval(), fresh.eval()
    np.testing.assert_array_equal(fresh(x).numpy(), model(x).numpy())


def test_map_location_and_weights_only_are_accepted_for_the_cpu(tmp_path):
    path = glassgrad.save({"w": glassgrad.ones(2)}, tmp_path / "w.pt")
    for options in ({"map_location": "cpu"}, {"map_location": glassgrad.device("cpu")}, {"weights_only": True},
                    {"map_location": {"cuda:0": "cpu"}}, {"map_location": lambda storage, location: storage}):
        assert glassgrad.load(path, **options)["w"].tolist() == [1.0, 1.0]
    with pytest.raises(RuntimeError, match="load: map_location: device 'cuda' is not available"):
        glassgrad.load(path, map_location="cuda")


def test_a_failed_write_leaves_the_previous_file(tmp_path, monkeypatch):
    path = glassgrad.save({"step": 1}, tmp_path / "ckpt.pt")

    def crash(file, **arrays):
        file.write(b"PK\x03\x04 half")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(OSError, match="disk full"):
        glassgrad.save({"step": 2}, path)
    monkeypatch.undo()
    assert glassgrad.load(path) == {"step": 1} and list(tmp_path.iterdir()) == [path]


def _loop():
    loop: list = [1]
    loop.append(loop)
    return loop


def _deep(n):
    value: list = []
    for _ in range(n):
        value = [value]
    return value


@pytest.mark.parametrize(
    "obj, error, message",
    [
        (print, TypeError, r"save: obj is a builtin_function_or_method; glassgrad saves tensors, numbers"),
        ({"a": [1, np.ones(2)]}, TypeError, r"save: obj\['a'\]\[1\] is a ndarray"),
        ({"s": {1, 2}}, TypeError, r"obj\['s'\] is a set"),
        ({(1, 2): 3}, TypeError, "has a key of type tuple; keys are strings, numbers or None"),
        ({"m": gnn.Linear(2, 2)}, TypeError, r"obj\['m'\] is a Linear"),
        (_loop(), ValueError, r"obj\[1\] contains itself"),
        (_deep(70), ValueError, "is nested more than 64 containers deep"),
    ],
)
def test_what_cannot_be_saved_is_refused_and_nothing_written(tmp_path, obj, error, message):
    with pytest.raises(error, match=message):
        glassgrad.save(obj, tmp_path / "x.pt")
    assert list(tmp_path.iterdir()) == []


def test_a_model_of_no_saveable_kind_is_told_to_save_its_state_dict(tmp_path):
    class GPT(gnn.Module):
        def __init__(self):
            self.head = gnn.Linear(2, 2)

    with pytest.raises(ValueError, match=r"unsupported model GPT: .* save any other model's state_dict\(\)"):
        glassgrad.save(GPT(), tmp_path / "gpt.pt")


def _file(tmp_path, tree, arrays=None, header=None):
    """A hand-made archive: `tree` as the object of a glassgrad header (or `header` itself), and `arrays`."""
    doc = header if header is not None else {"format": "glassgrad", "version": 1, "kind": "object", "object": tree}
    path = tmp_path / "hostile.pt"
    np.savez(path.open("wb"), header=np.array(json.dumps(doc)), **(arrays or {}))
    return path


def _tensor(name="t0", dtype="float64", shape=(2,), requires_grad=False, parameter=False):
    return {"tensor": name, "dtype": dtype, "shape": list(shape), "requires_grad": requires_grad,
            "parameter": parameter}


@pytest.mark.parametrize(
    "tree, arrays, message",
    [
        ({"tensor": "t0"}, {"t0": np.ones(2)}, "a tensor is described as"),
        (_tensor(dtype="object"), {"t0": np.ones(2)}, "a tensor is described as"),
        (_tensor(shape=(-1,)), {"t0": np.ones(2)}, "a tensor is described as"),
        (_tensor(name="header"), {}, "a tensor is described as"),
        (_tensor(), {}, "array 't0' is missing from the archive"),
        (_tensor(), {"t0": np.ones(2), "t1": np.ones(1)}, r"arrays \['t1'\] are not described by the header"),
        (_tensor(), {"t0": np.ones(3)}, r"array 't0' is float64 \(3,\) but the header says float64 \(2,\)"),
        (_tensor(), {"t0": np.ones(2, dtype=np.float32)}, "array 't0' is float32"),
        (_tensor(), {"t0": np.array([object(), 1], dtype=object)}, "array 't0' is object"),
        ({"list": [_tensor(), _tensor(shape=(3,))]}, {"t0": np.ones(2)}, "array 't0' is described twice"),
        (_tensor(dtype="int64", requires_grad=True), {"t0": np.ones(2, dtype=np.int64)}, "cannot require a gradient"),
        (_tensor(dtype="bool"), {"t0": np.array([2, 1], dtype=np.uint8).view(np.bool_)}, "bytes other than 0 and 1"),
        ({"list": [1]}, {}, "not a value's description"),
        ({"list": [{"int": 1, "str": "a"}]}, {}, "not a value's description"),
        ({"int": "7"}, {}, "not a int: 7"),
        ({"float": "NaN!"}, {}, "not a float"),
        ({"str": 5}, {}, "not a str"),
        ({"none": 0}, {}, "not a none"),
        ({"list": [], "extra": 1}, {}, r"a list is described by its one key, got \['extra', 'list'\]"),
        ({"dict": [[{"list": []}, {"int": 1}]], "ordered": False}, {}, "a dict key must be a string"),
        ({"dict": [[{"str": "a"}]], "ordered": False}, {}, r"a dict's items must be \[key, value\] pairs"),
        ({"dict": [], "ordered": "yes"}, {}, "a dict is described as"),
        ({"pickle": "cos\nsystem"}, {}, "not a value's description"),
        (json.loads('{"list": [' * 66 + "]}" * 66), {}, "nested more than 64 containers deep"),
    ],
)
def test_hostile_object_files_are_refused_with_the_reason(tmp_path, tree, arrays, message):
    path = _file(tmp_path, tree, arrays)
    with pytest.raises(ValueError, match=message):
        glassgrad.load(path)


@pytest.mark.parametrize(
    "header, message",
    [
        ({"format": "glassgrad", "version": 1, "kind": "weights", "object": {"int": 1}}, "kind 'weights'"),
        ({"format": "glassgrad", "version": 2, "kind": "object", "object": {"int": 1}}, "version 2 is not supported"),
        ({"format": "other", "version": 1, "kind": "object"}, "no 'format': 'glassgrad' header"),
        (["not", "a", "dict"], "no 'format': 'glassgrad' header"),
    ],
)
def test_object_files_with_a_wrong_header_are_refused(tmp_path, header, message):
    with pytest.raises(ValueError, match=message):
        glassgrad.load(_file(tmp_path, None, header=header))


def test_a_torch_checkpoint_is_refused_without_unpickling(tmp_path):
    torch.save({"w": torch.ones(2)}, tmp_path / "model.pt")
    with pytest.raises(ValueError, match=r"a PyTorch file \(torch.save\), not a glassgrad file"):
        glassgrad.load(tmp_path / "model.pt")
    torch.save({"w": torch.ones(2)}, tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    with pytest.raises(ValueError, match="it is a Python pickle, which glassgrad never loads"):
        glassgrad.load(tmp_path / "legacy.pt")


def test_object_files_and_model_files_share_the_loader(tmp_path):
    model = gnn.TensorMLP(2, [3, 1], seed=0)
    loaded = glassgrad.load(glassgrad.save(model, tmp_path / "model.npz"))
    assert type(loaded) is type(model) and plain(loaded.state_dict()) == plain(model.state_dict())
    assert object_serialization.load(tmp_path / "model.npz").state_dict().keys() == model.state_dict().keys()
