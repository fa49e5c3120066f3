"""The `glassgrad` command answers bad input with one line and a non-zero exit status, never a traceback.

The commands run in this process (the `glassgrad` fixture); the first test runs the real script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_help_lists_the_commands():
    result = subprocess.run([sys.executable, "-m", "glassgrad", "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    for command in ("demo", "train", "explain", "watch"):
        assert command in result.stdout


def test_version_and_defaults_in_help(glassgrad):
    from glassgrad import __version__

    version = glassgrad("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"glassgrad {__version__}"

    def help_of(*command: str) -> str:
        return " ".join(glassgrad(*command, "--help").stdout.split())  # as one line, however argparse wraps it

    watch = help_of("watch")
    assert "(default: 5)" in watch and "(default: 0.1)" in watch and "(default: glassgrad-out/watch.html)" in watch
    assert "initialisation seed (default: 1)" in help_of("demo")
    assert "passes over the data (default: 40)" in help_of("train", "digits")


@pytest.mark.parametrize(
    "args, message",
    [
        (["demo", "--steps", "0"], "--steps: expected a whole number from 1 to 1000000, got 0"),
        (["train", "moons", "--steps", "-5"], "--steps: expected a whole number from 1 to 1000000, got -5"),
        (["train", "digits", "--epochs", "0"], "--epochs: expected a whole number from 1 to 100000, got 0"),
        (["train", "digits", "--batch-size", "x"], "--batch-size: expected a whole number from 1 to 1000000, got 'x'"),
        (["train", "digits", "--lr", "-1"], "--lr: expected a finite number > 0, got -1"),
        (["watch", "--steps", "0"], "--steps: expected a whole number from 1 to 50, got 0"),
        (["watch", "--steps", "51"], "--steps: expected a whole number from 1 to 50, got 51"),
    ],
)
def test_bad_arguments(glassgrad, args, message):
    result = glassgrad(*args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_bad_resume_files(glassgrad, tmp_path):
    missing = glassgrad("train", "moons", "--resume", str(tmp_path / "nope.json"), "--out", str(tmp_path))
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert missing.stderr.startswith("glassgrad train: error:") and "nope.json" in missing.stderr

    trained = glassgrad("train", "moons", "--engine", "tensor", "--steps", "1", "--out", str(tmp_path / "m"))
    assert trained.returncode == 0
    moons = str(tmp_path / "m" / "moons_model.npz")
    wrong_task = glassgrad("train", "digits", "--epochs", "1", "--resume", moons, "--out", str(tmp_path / "d"))
    assert wrong_task.returncode == 2 and "Traceback" not in wrong_task.stderr
    assert "does not map 64 inputs to 10 outputs" in wrong_task.stderr
    wrong_engine = glassgrad("train", "moons", "--resume", moons, "--out", str(tmp_path / "s"))
    assert wrong_engine.returncode == 2 and "train it with --engine tensor" in wrong_engine.stderr


def test_unusable_output_folder(glassgrad, tmp_path):
    missing_parent = glassgrad("demo", "--steps", "1", "--out", "/proc/glassgrad-cannot-write-here")
    assert missing_parent.returncode == 2  # FileNotFoundError: a path the user got wrong
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    not_a_folder = glassgrad("demo", "--steps", "1", "--out", str(a_file))
    assert not_a_folder.returncode == 1  # any other OSError
    for result in (missing_parent, not_a_folder):
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_resuming_a_scalar_model_of_the_wrong_shape(glassgrad, tmp_path):
    from glassgrad.io import serialization
    from glassgrad.nn import MLP

    path = serialization.save(MLP(3, [4, 1], seed=0), tmp_path / "three_inputs.json")
    for engine in ("scalar", "tensor"):
        result = glassgrad("train", "moons", "--engine", engine, "--resume", str(path), "--out", str(tmp_path))
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert "does not map 2 inputs to 1 outputs" in result.stderr


@pytest.mark.parametrize("command", [
    ["explain", "--full", "+".join(f"x{k}*x{k}" for k in range(60)), *[f"x{k}={k}" for k in range(60)]],
    ["--help"], ["explain", "--help"], ["--version"], ["explain", "x*", "x=1"],
], ids=["explain", "--help", "explain --help", "--version", "a bad formula"])
def test_output_into_a_pipe_already_closed_stops_quietly(tmp_path, command):
    """`glassgrad explain ... | head -1`: the reader is gone before glassgrad writes; no 'Broken pipe' error
    and no traceback, as command-line tools, whatever the command prints."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen([sys.executable, "-m", "glassgrad", *command], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, cwd=tmp_path, env=env)
    process.stdout.close()  # as head does, here before the first line
    stderr = process.stderr.read().decode()
    process.wait(timeout=60)
    assert "Broken pipe" not in stderr and "Traceback" not in stderr and "Exception" not in stderr, stderr
