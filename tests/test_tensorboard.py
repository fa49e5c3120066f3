"""glassgrad.utils.tensorboard.SummaryWriter against PyTorch's writer (the same bytes) and TensorBoard's reader."""

import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch.utils.tensorboard import SummaryWriter as TorchWriter

import glassgrad
from glassgrad.utils.tensorboard import SummaryWriter, crc32c

LOGGED = [  # tag, value (made by the library), step, wall time
    ("Loss/train", lambda lib: 2.5, 10, 1.5e9),
    ("Loss/test", lambda lib: lib.tensor(0.1234567), 500, 1.5e9 + 0.25),
    ("lr", lambda lib: lib.tensor([3e-4], dtype=lib.float64), None, 7.0),
    ("count", lambda lib: 3, 0, 7.5),
    ("tiny", lambda lib: -1e-30, -5, 8.0),
    ("big step", lambda lib: np.float32(1.25), 2**40 + 3, 9.0),
    ("nan", lambda lib: float("nan"), 1, 10.0),
    ("ünïcode tag", lambda lib: float("-inf"), 2, 11.0),
]


def records(path: Path) -> list[bytes]:
    """The TFRecords of an event file, each whole (length, checksum, data, checksum)."""
    data, out, i = path.read_bytes(), [], 0
    while i < len(data):
        n = struct.unpack("<Q", data[i : i + 8])[0]
        out.append(data[i : i + 16 + n])
        i += 16 + n
    assert i == len(data)
    return out


def log(writer_class, lib, log_dir: Path) -> Path:
    writer = writer_class(log_dir=str(log_dir))
    for tag, value, step, wall in LOGGED:
        writer.add_scalar(tag, value(lib), step, walltime=wall)
    writer.close()
    (path,) = log_dir.glob("events.out.tfevents.*")
    return path


def test_crc32c_is_castagnolis_checksum():
    assert crc32c(b"") == 0
    assert crc32c(b"123456789") == 0xE3069283  # the check value of CRC-32C
    assert crc32c(bytes(32)) == 0x8A9136AA  # RFC 3720's test vector: 32 bytes of zeros


def test_scalar_records_are_pytorchs_bytes(tmp_path):
    ours = records(log(SummaryWriter, glassgrad, tmp_path / "glassgrad"))
    theirs = records(log(TorchWriter, torch, tmp_path / "torch"))
    assert len(ours) == len(theirs) == len(LOGGED) + 1
    assert ours[1:] == theirs[1:]  # the first record is the file's version, stamped with the time it was made
    assert b"brain.Event:2" in ours[0]


def test_tensorboard_reads_the_scalars_back(tmp_path):
    path = log(SummaryWriter, glassgrad, tmp_path / "run")
    reader = EventAccumulator(str(path.parent))
    reader.Reload()
    assert sorted(reader.Tags()["scalars"]) == sorted(tag for tag, *_ in LOGGED)
    for tag, value, step, wall in LOGGED:
        (got,) = reader.Scalars(tag)
        expected = np.float32(float(np.asarray(value(glassgrad)).reshape(())))
        assert got.step == (step or 0) and got.wall_time == wall
        assert got.value == expected or np.isnan(expected) and np.isnan(got.value)


def test_a_training_loop_logs_what_tensorboard_shows(tmp_path):
    glassgrad.manual_seed(0)
    w = glassgrad.randn(3, requires_grad=True)
    opt = glassgrad.optim.SGD([w], lr=0.1)
    losses = []
    with SummaryWriter(tmp_path / "loop") as writer:
        for step in range(5):
            loss = (w**2).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            writer.add_scalar("Loss/train", loss, step)
            losses.append(loss.item())
            writer.flush()
    reader = EventAccumulator(str(tmp_path / "loop"))
    reader.Reload()
    shown = reader.Scalars("Loss/train")
    assert [e.step for e in shown] == list(range(5))
    assert [e.value for e in shown] == [float(np.float32(x)) for x in losses]
    assert losses[-1] < losses[0]


def test_flush_makes_each_record_readable_while_the_writer_is_open(tmp_path):
    writer = SummaryWriter(tmp_path)
    writer.add_scalar("a", 1.0, 1)
    writer.flush()
    assert len(records(Path(writer.file_name))) == 2
    writer.add_scalar("a", 2.0, 2)
    writer.flush()
    assert len(records(Path(writer.file_name))) == 3
    writer.close()


def test_the_default_folder_is_pytorchs_runs_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    writer = SummaryWriter(comment="_lr0.1")
    folder = Path(writer.get_logdir())
    writer.close()
    assert folder.parent == Path("runs") and folder.name.endswith("_lr0.1") and folder.is_dir()
    assert [p.name.startswith("events.out.tfevents.") for p in folder.iterdir()] == [True]


def test_two_writers_of_one_folder_write_two_files(tmp_path):
    first, second = SummaryWriter(tmp_path), SummaryWriter(tmp_path)
    assert first.file_name != second.file_name
    first.close()
    second.close()


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda w: w.add_scalar(3, 1.0), TypeError, "the tag must be a string"),
        (lambda w: w.add_scalar("x", glassgrad.ones(3)), ValueError, "expected one number, got a Tensor of shape (3,)"),
        (lambda w: w.add_scalar("x", np.zeros((2, 2))), ValueError, "of shape (2, 2)"),
        (lambda w: w.add_scalar("x", "0.5"), TypeError, "expected a real number"),
        (lambda w: w.add_scalar("x", None), TypeError, "got NoneType"),
        (lambda w: w.add_scalar("x", 1.0, 2.5), TypeError, "global_step must be an integer"),
        (lambda w: w.add_scalar("x", 1.0, True), TypeError, "global_step must be an integer"),
    ],
)
def test_bad_scalars_are_refused_with_what_was_expected(tmp_path, call, error, message):
    writer = SummaryWriter(tmp_path)
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        call(writer)
    writer.close()
    assert len(records(Path(writer.file_name))) == 1  # nothing half-written


def test_a_closed_writer_says_so(tmp_path):
    writer = SummaryWriter(tmp_path)
    writer.close()
    writer.close()  # closing twice is harmless, as PyTorch's
    with pytest.raises(ValueError, match="is closed"):
        writer.add_scalar("x", 1.0)


def test_a_step_given_as_a_tensor_is_its_number(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        writer.add_scalar("x", 1.0, glassgrad.tensor(7))
    reader = EventAccumulator(str(tmp_path))
    reader.Reload()
    assert [e.step for e in reader.Scalars("x")] == [7]
