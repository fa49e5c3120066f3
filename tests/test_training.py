"""Training: the moons run against the same run in PyTorch, the demo command end to end, save/load."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
import torch

from glassgrad.apps.training import MOONS_ALPHA, moons_data, moons_lr, run_demo, train_moons_scalar
from glassgrad.io import serialization
from glassgrad.nn import MLP

pytestmark = pytest.mark.usefixtures("torch_float64")  # PyTorch float64 for these tests only


def layer_major(model: MLP) -> list[float]:
    """A scalar MLP's numbers in a Tensor MLP's (and torch's) order: each layer's weights, then its biases."""
    numbers = []
    for layer in model.layers:
        numbers += [w.data for n in layer.neurons for w in n.w] + [n.b.data for n in layer.neurons]
    return numbers


def torch_copy(model: MLP) -> list[tuple[torch.Tensor, torch.Tensor]]:
    return [
        (
            torch.tensor([[w.data for w in n.w] for n in layer.neurons], requires_grad=True),
            torch.tensor([n.b.data for n in layer.neurons], requires_grad=True),
        )
        for layer in model.layers
    ]


def test_moons_training_matches_torch():
    points, _, signs = moons_data()
    model = MLP(2, [16, 16, 1], seed=3)
    layers = torch_copy(model)
    params = [t for pair in layers for t in pair]
    x, y = torch.tensor(points), torch.tensor(signs)
    steps = 6
    optimizer = torch.optim.SGD(params, lr=1.0)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda k: moons_lr(k, steps))
    torch_losses = []
    for _ in range(steps):
        h = x
        for i, (w, b) in enumerate(layers):
            h = h @ w.T + b
            if i < len(layers) - 1:
                h = torch.relu(h)
        loss = torch.relu(1 - y * h[:, 0]).mean() + MOONS_ALPHA * sum((p * p).sum() for p in params)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        torch_losses.append(loss.item())

    history = train_moons_scalar(model, points, signs, steps, progress=False)
    assert history.losses == pytest.approx(torch_losses, rel=1e-9)
    want = [x for layer in layers for p in layer for x in p.detach().flatten().tolist()]
    assert layer_major(model) == pytest.approx(want, abs=1e-9)


def test_learning_rate_schedule_spans_the_run():
    assert [moons_lr(k) for k in (0, 50, 100)] == [1.0, 0.55, pytest.approx(0.1)]
    assert moons_lr(300, steps=300) == pytest.approx(0.1) and moons_lr(299, steps=300) > 0


@pytest.mark.slow
def test_demo_reaches_full_accuracy_and_writes_its_files(tmp_path):
    history = run_demo(tmp_path, progress=False)
    assert history.accuracies[-1] == 1.0
    assert history.losses[-1] < history.losses[0] / 10
    for name in ("moons_boundary.png", "moons_curves.png"):
        data = (tmp_path / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    model = serialization.load(tmp_path / "moons_model.json")
    points, _, signs = moons_data()
    correct = sum((model(p).data > 0) == (s > 0) for p, s in zip(points, signs))
    assert correct == len(points)


@pytest.mark.slow
def test_demo_command(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "glassgrad", "demo", "--steps", "3", "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "training accuracy" in result.stdout
    assert str(tmp_path / "out" / "moons_model.json") in result.stdout
    assert json.loads((tmp_path / "out" / "moons_model.json").read_text())["kind"] == "scalar-mlp"


def test_scalar_model_round_trip(tmp_path):
    model = MLP(3, [4, 4, 1], activation="tanh", output_activation="sigmoid", seed=0)
    path = serialization.save(model, tmp_path / "m.json")
    loaded = serialization.load(path)
    assert [p.data for p in loaded.parameters()] == [p.data for p in model.parameters()]
    assert loaded([0.1, 0.2, 0.3]).data == model([0.1, 0.2, 0.3]).data
    assert [n.activation for layer in loaded.layers for n in layer.neurons][-1] == "sigmoid"


def _edited(path, edit):
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: d.update(version=99), "version 99 is not supported"),
        (lambda d: d.pop("layers"), "'layers' must be a non-empty list"),
        (lambda d: d["layers"][0]["weights"][0].pop(), "expected 2 weights, got 1"),
        (lambda d: d["layers"][0]["biases"].pop(), "weight rows but"),
        (lambda d: d["layers"][1].update(activation="swish"), "unknown activation 'swish'"),
        (lambda d: d["layers"][0]["biases"].__setitem__(0, "nan"), "expected a finite number"),
        (lambda d: d.update(format="other"), "not a glassgrad model file"),
    ],
)
def test_loading_a_bad_scalar_model_raises_value_error(tmp_path, edit, message):
    path = serialization.save(MLP(2, [3, 1], seed=0), tmp_path / "m.json")
    _edited(path, edit)
    with pytest.raises(ValueError, match=message):
        serialization.load(path)


def test_loading_nan_truncated_or_binary_raises_value_error(tmp_path):
    path = serialization.save(MLP(2, [3, 1], seed=0), tmp_path / "m.json")
    text = path.read_text()
    (tmp_path / "nan.json").write_text(text.replace("0.0", "NaN", 1))
    (tmp_path / "cut.json").write_text(text[: len(text) // 2])
    (tmp_path / "bin.json").write_bytes(b"\x80\x04\x95 pickle-ish bytes")
    for name in ("nan.json", "cut.json", "bin.json"):
        with pytest.raises(ValueError):
            serialization.load(tmp_path / name)


def test_save_is_atomic(tmp_path, monkeypatch):
    path = serialization.save(MLP(2, [3, 1], seed=0), tmp_path / "m.json")
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        serialization.save(MLP(2, [3, 1], seed=1), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]


@pytest.mark.parametrize(
    "where, value, message",
    [
        ("w", float("nan"), "layer 1, neuron 0: weight 2 is nan, not a finite number"),
        ("w", float("-inf"), "layer 1, neuron 0: weight 2 is -inf, not a finite number"),
        ("b", float("inf"), "layer 1, neuron 0: bias is inf, not a finite number"),
    ],
    ids=["nan weight", "-inf weight", "inf bias"],
)
def test_saving_a_scalar_model_with_nan_or_inf_raises_and_writes_nothing(tmp_path, where, value, message):
    model = MLP(2, [3, 1], seed=0)
    neuron = model.layers[1].neurons[0]
    if where == "w":
        neuron.w[2].data = value
    else:
        neuron.b.data = value
    with pytest.raises(ValueError, match=message + "; such a file could not be loaded"):
        serialization.save(model, tmp_path / "m.json")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "number, message",
    [
        ("1" + "0" * 400, "layer 0, neuron 1: expected a finite number, got an integer of 401 digits, too large"),
        ("-" + "9" * 400, "layer 0, neuron 1: expected a finite number, got an integer of 400 digits, too large"),
        ("1e400", "layer 0, neuron 1: expected a finite number, got inf"),
        ("9" * 5000, r"not a glassgrad model file \(not valid JSON: Exceeds the limit"),
    ],
    ids=["400 digits", "-400 digits", "1e400", "5000 digits"],
)
def test_a_huge_number_in_a_scalar_file_raises_value_error_naming_the_file(tmp_path, number, message):
    path = serialization.save(MLP(2, [3, 1], seed=0), tmp_path / "m.json")
    doc = json.loads(path.read_text())
    doc["layers"][0]["weights"][1][0] = "HUGE"
    path.write_text(json.dumps(doc).replace('"HUGE"', number))
    with pytest.raises(ValueError, match=f"^{re.escape(str(path))}: {message}"):
        serialization.load(path)


def test_deeply_nested_json_raises_value_error_naming_the_file(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    message = rf"^{re.escape(str(path))}: not a glassgrad model file \(not valid JSON: nested too deeply\)$"
    with pytest.raises(ValueError, match=message):
        serialization.load(path)
    path.write_text('{"format": "glassgrad", "version": 1, "kind": "scalar-mlp", "nin": ' + "[" * 100_000)
    with pytest.raises(ValueError, match="nested too deeply"):
        serialization.load(path)


def test_pictures_name_their_axes_and_classes():
    from glassgrad.apps import plots

    boundary = plots.decision_boundary(
        lambda grid: grid[:, 0], [[0.0, 0.0], [1.0, 1.0]], [0, 1], "t", class_names=("upper", "lower")
    )
    ax = boundary.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x1 (first input)", "x2 (second input)")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["upper", "lower"]
    curves = plots.learning_curves([3.0, 2.0, 1.5, 1.0], {"test accuracy": [0.5, 0.9]}, "t", unit="epoch", length=2)
    ax = curves.axes[0]
    assert ax.get_xlabel() == "epoch"
    assert list(ax.lines[0].get_xdata()) == [0.5, 1.0, 1.5, 2.0]  # four batches over two epochs
    assert list(curves.axes[1].lines[0].get_xdata()) == [1.0, 2.0]  # one accuracy per epoch
