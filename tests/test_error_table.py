"""The README's table of bad inputs: each row's code raises the error the table shows, so the table
cannot drift from the code."""

from __future__ import annotations

import io
import json
import pickle
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest

import glassgrad
from glassgrad import Tensor, Value, losses
from glassgrad.data import make_moons
from glassgrad.nn import MLP, TensorMLP
from glassgrad.optim import SGD
from glassgrad.viz.explain import evaluate

README = Path(__file__).resolve().parent.parent / "README.md"
DOC_ROW = re.compile(r"^\| (?P<what>[^|]+?) \| `(?P<code>.+?)` \| `(?P<error>\w+): (?P<message>.+)` \|$")


def doc_rows() -> list[tuple[str, str, str, str]]:
    text = README.read_text(encoding="utf-8").split("## Bad input, and the error it gets")[1]
    lines = [line for line in text.splitlines() if line.startswith("| ") and "`" in line]
    parsed = [DOC_ROW.match(line) for line in lines]
    assert all(parsed), [line for line, m in zip(lines, parsed) if m is None]
    return [(m["what"], m["code"], m["error"], m["message"]) for m in parsed]


def test_errors_doc_covers_the_bad_inputs_it_promises():
    table = {what for what, *_ in doc_rows()}
    assert len(table) >= 25
    for needed in ("a string as a Value", "None as a Value", "a Tensor of strings", "an unknown activation",
                   "explain with a hostile call", "draw_dot on a huge graph", "a pickle inside an .npz"):
        assert needed in table


@pytest.fixture
def files(tmp_path, monkeypatch):
    """The model files the table describes, in the working directory; Graphviz's `dot` off PATH."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    glassgrad.save(MLP(2, [3, 1], seed=0), "model.json")
    glassgrad.save(TensorMLP(2, [3, 1], seed=0), "model.npz")
    text = Path("model.json").read_text()
    Path("truncated.json").write_text(text[: len(text) // 2])
    doc = json.loads(text)
    doc["layers"][0]["weights"][0].pop()
    Path("tampered.json").write_text(json.dumps(doc))
    doc = json.loads(text)
    doc["layers"][0]["biases"][0] = float("nan")
    Path("nan.json").write_text(json.dumps(doc))
    Path("future.json").write_text(json.dumps({**json.loads(text), "version": 99}))
    Path("bool.json").write_text(json.dumps({**json.loads(text), "version": True}))
    archive = Path("model.npz").read_bytes()
    Path("truncated.npz").write_bytes(archive[: len(archive) // 2])
    arrays = dict(np.load("model.npz"))
    arrays["0.weight"] = arrays["0.weight"][:, :1]
    np.savez("tampered.npz", **arrays)
    with zipfile.ZipFile("model.npz") as z, zipfile.ZipFile("huge.npz", "w") as huge:
        for name in z.namelist():  # 0.weight's .npy header claims 10**12 numbers; 48 bytes follow
            header = {"descr": "<f4", "fortran_order": False, "shape": (10**12,)}
            claim = io.BytesIO()
            np.lib.format.write_array_header_1_0(claim, header)
            huge.writestr(name, claim.getvalue() + bytes(48) if name == "0.weight.npy" else z.read(name))
    np.savez("pickled.npz", header=np.array([{"x": 1}], dtype=object))
    Path("pickle.pkl").write_bytes(pickle.dumps({"x": 1}))
    return tmp_path


@pytest.mark.parametrize("what, code, error, message", doc_rows(), ids=[r[0] for r in doc_rows()])
def test_errors_doc_row_raises_what_it_says(files, what, code, error, message):
    big = sum((Value(float(i)) for i in range(400)), Value(0.0))
    names = {"glassgrad": glassgrad, "np": np, "Value": Value, "Tensor": Tensor, "MLP": MLP,
             "TensorMLP": TensorMLP, "SGD": SGD, "evaluate": evaluate, "big": big, "losses": losses,
             "make_moons": make_moons}
    with pytest.raises(Exception) as caught:
        eval(code, names)
    assert type(caught.value).__name__ == error
    assert message in str(caught.value)
