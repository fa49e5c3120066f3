"""Tensor model save/load: round trips, the file's contents, every bad file, pickles refused, atomic writes;
glassgrad.load choosing the reader by the file's content; storage.atomic_write's errors."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import glassgrad
from glassgrad.apps import plots
from glassgrad.io import serialization, storage, tensor_serialization
from glassgrad.nn import MLP as ScalarMLP
from glassgrad.nn import Layer, Linear, Module, ReLU, Sequential, Sigmoid, Tanh
from glassgrad.nn import TensorMLP as MLP

X = np.random.default_rng(0).normal(size=(5, 2))


def _same_model(loaded, model):
    assert type(loaded) is type(model) and repr(loaded) == repr(model)
    for p, q in zip(loaded.parameters(), model.parameters(), strict=True):
        assert p.dtype == q.dtype and p.requires_grad
        assert np.array_equal(p.data, q.data) and p.data is not q.data
    x = X.astype(model.parameters()[0].dtype)
    got, want = _run(loaded, x), _run(model, x)
    assert type(got) is type(want) and (got == want if isinstance(got, str) else np.array_equal(got, want))


def _run(model, x):
    """The model's output on `x`, or its error message (a mixed-dtype model may refuse its own output)."""
    try:
        return model(x).data
    except ValueError as e:
        return str(e)


@pytest.mark.parametrize(
    "model",
    [
        MLP(2, [8, 8, 3], activation="tanh", output_activation="sigmoid", seed=0, dtype=np.float64),
        MLP(2, [4, 1], activation=None, seed=1),  # the default dtype, float32
        MLP(2, [5, 2], seed=2, dtype=np.float32),
        Sequential(
            Linear(2, 4, bias=False, seed=3, dtype=np.float64), Sigmoid(), Linear(4, 3, seed=4, dtype=np.float64),
            ReLU(), Tanh(),
        ),
        Sequential(Linear(2, 3, seed=5, dtype=np.float32), Tanh(), Linear(3, 2, bias=False, seed=6, dtype=np.float64)),
        Linear(2, 6, seed=7, dtype=np.float64),
        Linear(2, 1, bias=False, seed=8, dtype=np.float32),
    ],
    ids=repr,
)
def test_round_trip_keeps_type_layers_dtypes_and_exact_weights(tmp_path, model):
    path = glassgrad.save(model, tmp_path / "model.npz")
    assert path == tmp_path / "model.npz" and path.read_bytes()[:2] == b"PK"
    _same_model(glassgrad.load(path), model)


def test_the_file_is_a_documented_npz_with_a_json_header(tmp_path):
    model = Sequential(
        Linear(2, 3, bias=False, seed=0, dtype=np.float32), ReLU(), Linear(3, 1, seed=1, dtype=np.float64)
    )
    path = glassgrad.save(model, tmp_path / "m.npz")
    assert sorted(zipfile.ZipFile(path).namelist()) == ["0.weight.npy", "2.bias.npy", "2.weight.npy", "header.npy"]
    with np.load(path, allow_pickle=False) as archive:
        assert archive["header"].dtype.kind == "U" and archive["header"].shape == ()
        assert json.loads(str(archive["header"])) == {
            "format": "glassgrad",
            "version": 1,
            "kind": "tensor",
            "model": "Sequential",
            "layers": [
                {"type": "linear", "weight": {"shape": [3, 2], "dtype": "float32"}, "bias": None},
                {"type": "relu"},
                {
                    "type": "linear",
                    "weight": {"shape": [1, 3], "dtype": "float64"},
                    "bias": {"shape": [1], "dtype": "float64"},
                },
            ],
        }
        assert np.array_equal(archive["0.weight"], model[0].weight.data) and archive["0.weight"].dtype == np.float32
        assert np.array_equal(archive["2.bias"], model[2].bias.data)


def _saved(tmp_path):
    model = MLP(2, [3, 1], activation="tanh", seed=0, dtype=np.float64)
    return glassgrad.save(model, tmp_path / "m.npz")


def _rewrite(path, edit):
    """Rewrite the archive at `path` after `edit(header_dict, arrays_dict)` changed its contents."""
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    header = json.loads(str(arrays.pop("header")))
    edit(header, arrays)
    np.savez(path, header=np.array(json.dumps(header)), **arrays)


def _reshape(header, arrays, name, array):
    """Replace array `name` (e.g. '2.weight') and describe it in the header as it is."""
    layer, part = name.split(".")
    arrays[name] = array
    header["layers"][int(layer)][part] = {"shape": list(array.shape), "dtype": str(array.dtype)}


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda h, a: h.update(version=2), "format version 2 is not supported"),
        (lambda h, a: h.update(format="keras"), "not a glassgrad model file"),
        (lambda h, a: h.update(kind="scalar-mlp"), "model kind 'scalar-mlp', expected 'tensor'"),
        (lambda h, a: h.update(model="CNN"), "unknown model 'CNN'"),
        (lambda h, a: h.update(layers={"0": "linear"}), "'layers' must be a list"),
        (lambda h, a: h["layers"][1].update(type="conv2d"), "layer 1: unknown layer type 'conv2d'"),
        (lambda h, a: h["layers"].__setitem__(1, "tanh"), "layer 1: unknown layer type None"),
        (lambda h, a: h["layers"][0].pop("bias"), "layer 0: a linear layer needs 'weight' and 'bias'"),
        (lambda h, a: h["layers"][0].pop("weight"), "layer 0: a linear layer needs 'weight' and 'bias'"),
        (lambda h, a: h["layers"][0]["weight"].update(shape=[2, 3]), r"'0.weight' is float64 \(3, 2\) but the header"),
        (lambda h, a: h["layers"][0]["weight"].update(shape="3x2"), "'0.weight' must be described as"),
        (lambda h, a: h["layers"][0]["weight"].update(dtype="float32"), "is float64 .* header says float32"),
        (lambda h, a: h["layers"][0]["weight"].update(dtype="object"), "'0.weight' must be described as"),
        (lambda h, a: a.pop("2.bias"), "array '2.bias' is missing from the archive"),
        (lambda h, a: a.update(extra=np.zeros(3)), r"arrays \['extra'\] are not described by the header"),
        (lambda h, a: a["0.weight"].__setitem__((1, 0), np.nan), "array '0.weight' contains NaN or inf"),
        (lambda h, a: a["2.bias"].__setitem__(0, -np.inf), "array '2.bias' contains NaN or inf"),
        (lambda h, a: _reshape(h, a, "2.weight", np.ones((1, 4))), "layer 2 takes width 4 but layer 0 gives width 3"),
        (lambda h, a: _reshape(h, a, "0.bias", np.ones(2)), r"layer 0: bias must be float64 \(3,\) like the weight"),
        (lambda h, a: _reshape(h, a, "0.weight", np.ones((3, 2), dtype=np.int64)), "must be described as"),
        (lambda h, a: _reshape(h, a, "0.weight", np.ones((0, 2))), "weight must be a non-empty 2-D"),
        (lambda h, a: _reshape(h, a, "0.weight", np.ones((3, 2, 1))), "weight must be a non-empty 2-D"),
        (lambda h, a: h["layers"].extend([{"type": "tanh"}, {"type": "relu"}]), "do not form an MLP"),
        (lambda h, a: h["layers"][2].update(bias=None) or a.pop("2.bias"), "do not form an MLP"),
        (lambda h, a: h.update(model="Linear"), "a 'Linear' model needs exactly one linear layer, got 3 layers"),
    ],
)
def test_a_hand_edited_file_raises_a_value_error_naming_the_problem(tmp_path, edit, message):
    path = _saved(tmp_path)
    _rewrite(path, edit)
    with pytest.raises(ValueError, match=message):
        glassgrad.load(path)


@pytest.mark.parametrize(
    "header, message",
    [
        (None, "no JSON string 'header' array"),
        (np.array([1.0, 2.0]), "no JSON string 'header' array"),
        (np.array("{'format': 'glassgrad'"), "the header is not valid JSON"),
        (np.array("[1, 2]"), "not a glassgrad model file"),
        (np.array("[" * 100_000), "the header is not valid JSON"),
    ],
)
def test_a_missing_or_broken_header_raises_value_error(tmp_path, header, message):
    path = tmp_path / "m.npz"
    np.savez(path, **({} if header is None else {"header": header}), **{"0.weight": np.ones((1, 2))})
    with pytest.raises(ValueError, match=message):
        glassgrad.load(path)


def test_every_truncation_of_a_file_raises_value_error(tmp_path):
    data = _saved(tmp_path).read_bytes()
    cut = tmp_path / "cut.npz"
    for length in range(0, len(data), 37):
        cut.write_bytes(data[:length])
        with pytest.raises(ValueError):
            glassgrad.load(cut)
        if length:  # glassgrad.load calls an empty file empty; the tensor loader must also refuse it
            with pytest.raises(ValueError, match="not a readable .npz archive"):
                tensor_serialization.load(cut)


def test_a_corrupted_array_fails_its_checksum(tmp_path):
    path = _saved(tmp_path)
    model = glassgrad.load(path)
    data = bytearray(path.read_bytes())
    start = data.find(model[0].weight.numpy().tobytes())
    assert start > 0
    data[start + 3] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"cannot read array '0.weight' \(BadZipFile: Bad CRC-32"):
        glassgrad.load(path)


def test_other_files_raise_value_error(tmp_path):
    npy = tmp_path / "a.npy"
    np.save(npy, np.ones(3))
    with pytest.raises(ValueError, match="a single .npy array, not a glassgrad .npz archive"):
        tensor_serialization.load(npy)
    zipped = tmp_path / "z.npz"
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("header.npy", b"not an npy file")
    with pytest.raises(ValueError, match="entry 'header' is not a .npy array"):
        glassgrad.load(zipped)
    text = tmp_path / "t.npz"
    text.write_bytes(b"PK but no zip at all")
    with pytest.raises(ValueError, match="not a readable .npz archive"):
        glassgrad.load(text)
    with pytest.raises(FileNotFoundError):
        tensor_serialization.load(tmp_path / "missing.npz")


class Payload:
    """Unpickling it creates the file `marker`: evidence that loading ran code from the file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


def test_the_payload_would_leave_its_marker_if_unpickled(tmp_path):
    pickle.loads(pickle.dumps(Payload(tmp_path / "control")))
    assert (tmp_path / "control").exists()


@pytest.mark.parametrize("where", ["array", "header", "whole file"])
def test_a_pickle_is_refused_without_being_unpickled(tmp_path, where):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.npz"
    payload = np.array([Payload(marker)], dtype=object)
    good_header = np.array(
        json.dumps({"format": "glassgrad", "version": 1, "kind": "tensor", "model": "Sequential", "layers": []})
    )
    if where == "array":
        np.savez(path, header=good_header, payload=payload)
        message = r"arrays \['payload'\] are not described by the header"
    elif where == "header":
        np.savez(path, header=payload)
        message = r"no JSON string 'header' array \(it is object \(1,\)\)"
    else:
        path.write_bytes(pickle.dumps(Payload(marker)))
        message = "not a readable .npz archive"
    with pytest.raises(ValueError, match=message):
        tensor_serialization.load(path)
    with pytest.raises(ValueError):
        glassgrad.load(path)
    assert not marker.exists()


class Custom(Module):
    def __call__(self, x):
        return x


@pytest.mark.parametrize(
    "model, message",
    [
        (Sequential(Linear(2, 2), Custom()), "unsupported layer 1: Custom\\(\\)"),
        (Sequential(Sequential(Linear(2, 2))), r"unsupported layer 0: Sequential\(Linear\(2, 2\)\)"),
        (Layer(2, 3), "unsupported model Layer"),
    ],
)
def test_saving_an_unsupported_model_raises_and_writes_nothing(tmp_path, model, message):
    with pytest.raises(ValueError, match=message):
        glassgrad.save(model, tmp_path / "m.npz")
    assert list(tmp_path.iterdir()) == []


def test_saving_nan_weights_or_a_changed_mlp_raises(tmp_path):
    model = MLP(2, [3, 1], seed=0)
    model[2].bias.data[0] = np.nan
    with pytest.raises(ValueError, match="layer 2: bias contains NaN or inf"):
        glassgrad.save(model, tmp_path / "m.npz")
    changed = MLP(2, [3, 1], seed=0)
    changed.append(Tanh()).append(ReLU())
    with pytest.raises(ValueError, match="no MLP; save nn.Sequential"):
        glassgrad.save(changed, tmp_path / "m.npz")
    assert list(tmp_path.iterdir()) == []
    _same_model(glassgrad.load(glassgrad.save(Sequential(*changed), tmp_path / "s.npz")), Sequential(*changed))


def test_a_failure_during_the_write_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    old = MLP(2, [3, 1], seed=0)
    path = glassgrad.save(old, tmp_path / "m.npz")
    before = path.read_bytes()

    def crash(file, **arrays):
        file.write(b"PK\x03\x04 half an archive")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(OSError, match="disk full"):
        glassgrad.save(MLP(2, [3, 1], seed=1), path)
    assert path.read_bytes() == before
    assert list(tmp_path.iterdir()) == [path]
    _same_model(glassgrad.load(path), old)


@pytest.mark.parametrize("array", [np.ones(3), np.array([{"x": 1}], dtype=object)], ids=["floats", "objects"])
def test_a_npy_renamed_to_npz_gets_the_npy_message(tmp_path, array):
    np.save(tmp_path / "a.npy", array)
    renamed = tmp_path / "a.npz"
    (tmp_path / "a.npy").rename(renamed)
    for load in (glassgrad.load, tensor_serialization.load):
        with pytest.raises(ValueError, match=r"a\.npz: a single \.npy array, not a glassgrad \.npz archive"):
            load(renamed)
        with pytest.raises(ValueError, match="a single .npy array"):
            load(_truncated(renamed, 20))


def _truncated(path, length):
    cut = path.with_name("cut_" + path.name)
    cut.write_bytes(path.read_bytes()[:length])
    return cut


def test_load_reads_by_content_not_by_name(tmp_path):
    tensor = glassgrad.save(MLP(2, [3, 1], seed=0), tmp_path / "t.npz")
    scalar = glassgrad.save(ScalarMLP(2, [3, 1], seed=0), tmp_path / "s.json")
    assert type(glassgrad.load(tensor.rename(tmp_path / "t.json"))) is MLP
    assert type(glassgrad.load(scalar.rename(tmp_path / "s.npz"))) is ScalarMLP


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", r"bad: not a glassgrad model file \(the file is empty\)"),
        (pickle.dumps({"x": 1}), r"bad: not a glassgrad model file \(it is a Python pickle, which glassgrad never"),
        (b"\x89PNG\r\n\x1a\n\xff\xfe", r"bad: not a glassgrad model file \(binary data, neither JSON text nor an"),
        (b'{"format": ', r"bad: not a glassgrad model file \(not valid JSON: Expecting value"),
    ],
    ids=["empty", "pickle", "binary", "truncated json"],
)
def test_each_other_file_gets_its_own_message(tmp_path, data, message):
    (tmp_path / "bad").write_bytes(data)
    with pytest.raises(ValueError, match=message):
        glassgrad.load(tmp_path / "bad")


def test_a_zip_without_a_header_names_its_entries_and_a_torch_file_is_recognised(tmp_path):
    with zipfile.ZipFile(tmp_path / "z.npz", "w") as z:
        z.writestr("weights.npy", b"whatever")
    with pytest.raises(ValueError, match=r"no JSON string 'header' array; .* \(a zip holding 'weights'\)"):
        glassgrad.load(tmp_path / "z.npz")
    with zipfile.ZipFile(tmp_path / "model.pt", "w") as z:  # the layout of torch.save's files
        z.writestr("archive/data.pkl", pickle.dumps({"x": 1}))
        z.writestr("archive/version", b"3\n")
    with pytest.raises(ValueError, match=r"model\.pt: a PyTorch file \(torch.save\), .* glassgrad.from_torch"):
        glassgrad.load(tmp_path / "model.pt")


@pytest.mark.parametrize(
    "model, name",
    [(ScalarMLP(2, [3, 1], seed=0), "m.json"), (MLP(2, [3, 1], seed=0), "m.npz")],
    ids=["scalar", "tensor"],
)
def test_saving_into_a_missing_folder_names_the_target_and_its_folder(tmp_path, model, name):
    target = tmp_path / "no" / "such" / name
    message = f"cannot save '{target}': the folder '{target.parent}' does not exist"
    with pytest.raises(FileNotFoundError) as caught:
        glassgrad.save(model, target)
    assert str(caught.value) == message and ".tmp" not in message
    (tmp_path / "file").write_text("")
    with pytest.raises(FileNotFoundError, match=r"the folder '.*file' is not a folder"):
        glassgrad.save(model, tmp_path / "file" / name)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_save_figure_is_atomic_through_storage_and_closes_the_figure(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    path = plots.save_figure(plots.learning_curves([3.0, 2.0, 1.0], {"acc": [0.5, 1.0]}, "t"), tmp_path / "c.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and [p.name for p in tmp_path.iterdir()] == ["c.png"]
    before = path.read_bytes()
    fig = plt.figure()

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        plots.save_figure(fig, path)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["c.png"]
    assert not plt.fignum_exists(fig.number)
    fig = plt.figure()
    with pytest.raises(FileNotFoundError, match="the folder .* does not exist"):
        plots.save_figure(fig, tmp_path / "missing" / "c.png")
    assert not plt.fignum_exists(fig.number)


@pytest.mark.slow
def test_imports_point_one_way():
    code = (
        "import sys, glassgrad.io.tensor_serialization, glassgrad.apps.plots;"
        "assert 'glassgrad.io.serialization' not in sys.modules, 'tensor_serialization imports serialization'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert (storage.FORMAT, storage.VERSION) == ("glassgrad", 1)
    assert glassgrad.save is serialization.save and glassgrad.load is serialization.load
