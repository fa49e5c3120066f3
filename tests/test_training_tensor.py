"""Training with the Tensor engine: moons identical to the scalar engine, digits to >= 97% test accuracy."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from test_training import layer_major

from glassgrad.apps.digits import load_split, run_digits
from glassgrad.apps.training import moons_data, train_moons_scalar, train_moons_tensor
from glassgrad.io import serialization
from glassgrad.nn import MLP
from glassgrad.nn.layers import mlp_from_scalar


@pytest.mark.slow
def test_tensor_moons_matches_scalar_engine():
    points, _, signs = moons_data()
    scalar = MLP(2, [16, 16, 1], seed=4)
    tensor = mlp_from_scalar(scalar)
    assert np.concatenate([p.numpy().ravel() for p in tensor.parameters()]).tolist() == layer_major(scalar)
    scalar_run = train_moons_scalar(scalar, points, signs, steps=15, progress=False)
    tensor_run = train_moons_tensor(tensor, points, signs, steps=15, progress=False)
    assert tensor_run.losses == pytest.approx(scalar_run.losses, rel=1e-9, abs=1e-12)
    assert tensor_run.accuracies == scalar_run.accuracies
    trained = np.concatenate([p.numpy().ravel() for p in tensor.parameters()])
    assert trained == pytest.approx(layer_major(scalar), abs=1e-9)


@pytest.mark.slow
def test_digits_split_is_seeded_80_20():
    x_train, y_train, x_test, y_test = load_split(0)
    assert x_train.shape == (1438, 64) and x_test.shape == (359, 64)
    assert 0.0 <= x_train.min() and x_train.max() <= 1.0
    again = load_split(0)
    assert np.array_equal(again[3], y_test) and not np.array_equal(load_split(1)[3], y_test)


@pytest.mark.slow
def test_digits_reaches_97_percent_and_writes_its_files(tmp_path):
    run = run_digits(tmp_path, progress=False)
    assert run.test_accuracy >= 0.97
    assert len(run.test_accuracies) == 40 and run.losses[-1] < run.losses[0] / 5
    for name in ("digits_curves.png", "digits_mistakes.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"
    model = serialization.load(tmp_path / "digits_model.npz")
    _, _, x_test, y_test = load_split(0)
    from glassgrad.apps.digits import predict

    assert (predict(model, x_test) == y_test).mean() == pytest.approx(run.test_accuracy)


@pytest.mark.slow
def test_train_commands_resume_from_a_saved_model(glassgrad, tmp_path):
    done = subprocess.run([sys.executable, "-m", "glassgrad", "train", "moons", "--engine", "tensor", "--steps", "5",
                           "--out", str(tmp_path / "a")], capture_output=True, text=True)  # the real script, once
    assert done.returncode == 0 and "training accuracy" in done.stdout
    first = serialization.load(tmp_path / "a" / "moons_model.npz")
    out = glassgrad("train", "moons", "--engine", "tensor", "--steps", "5", "--out", str(tmp_path / "b"),
                    "--resume", str(tmp_path / "a" / "moons_model.npz"))
    assert "training accuracy" in out.stdout
    resumed = serialization.load(tmp_path / "b" / "moons_model.npz")
    assert not np.array_equal(first.parameters()[0].data, resumed.parameters()[0].data)

    glassgrad("train", "digits", "--epochs", "1", "--out", str(tmp_path / "d"))
    out = glassgrad("train", "digits", "--epochs", "1", "--out", str(tmp_path / "e"),
                    "--resume", str(tmp_path / "d" / "digits_model.npz"))
    assert "test accuracy" in out.stdout and (tmp_path / "e" / "digits_model.npz").exists()

    glassgrad("train", "moons", "--steps", "2", "--out", str(tmp_path / "s"))
    out = glassgrad("train", "moons", "--steps", "2", "--out", str(tmp_path / "s2"),
                    "--resume", str(tmp_path / "s" / "moons_model.json"))
    assert "training accuracy" in out.stdout


def test_a_float32_model_trains_in_float32():
    from glassgrad.nn import TensorMLP

    points, _, signs = moons_data()
    model = TensorMLP(2, [16, 16, 1], seed=0, dtype=np.float32)
    history = train_moons_tensor(model, points, signs, steps=20, progress=False)
    assert history.losses[-1] < history.losses[0]
    assert all(p.data.dtype == np.float32 and p.grad.dtype == np.float32 for p in model.parameters())
