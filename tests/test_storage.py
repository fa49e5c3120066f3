"""Files glassgrad writes: errors that name the path the user gave, the permissions a plain open() would
give (an overwrite keeps the old mode), leftovers of a crashed save cleaned up by the next save."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

import glassgrad
from glassgrad.apps import plots
from glassgrad.apps.cli import main as cli_main
from glassgrad.io import storage
from glassgrad.nn import MLP as ScalarMLP
from glassgrad.nn import TensorMLP as MLP
from glassgrad.viz.backprop_page import stepper

MODELS = [ScalarMLP(2, [3, 1], seed=0), MLP(2, [3, 1], seed=0)]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask():
    """Set the process umask for one test (restored after it)."""
    old = os.umask(0o022)
    yield os.umask
    os.umask(old)


@pytest.mark.parametrize("model", MODELS, ids=["scalar", "tensor"])
def test_saving_onto_a_folder_names_the_path_given(tmp_path, monkeypatch, model):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "some_dir").mkdir()
    for given in ("some_dir", ".", str(tmp_path)):
        with pytest.raises(IsADirectoryError) as caught:
            glassgrad.save(model, given)
        assert str(caught.value).startswith(f"cannot save {given!r}: it is a folder"), caught.value
        assert ".tmp" not in str(caught.value)
    with pytest.raises(ValueError, match="^cannot save '': the path is empty"):
        glassgrad.save(model, "")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["some_dir"]


def test_saving_onto_something_that_is_not_a_regular_file_is_refused(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match=f"^cannot save {str(fifo)!r}: it is not a regular file"):
        glassgrad.save(MODELS[0], fifo)
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


def test_saving_through_a_symlink_writes_the_file_it_points_to(tmp_path):
    real = glassgrad.save(MODELS[0], tmp_path / "real.json")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    glassgrad.save(ScalarMLP(2, [4, 1], seed=1), link)
    assert link.is_symlink() and len(glassgrad.load(real).layers[0].neurons) == 4


@pytest.mark.parametrize("mask, want", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_new_file_gets_the_mode_a_plain_open_would_give(tmp_path, umask, mask, want):
    umask(mask)
    plain = tmp_path / "plain"
    plain.write_text("")
    assert mode(plain) == want
    for model, name in zip(MODELS, ("m.json", "m.npz")):
        assert mode(glassgrad.save(model, tmp_path / name)) == want
    fig = plots.learning_curves([1.0, 0.5], {"acc": [0.5, 1.0]}, "t")
    assert mode(plots.save_figure(fig, tmp_path / "c.png")) == want


@pytest.mark.parametrize("old_mode", [0o644, 0o640, 0o600, 0o664])
def test_an_overwrite_keeps_the_old_files_mode(tmp_path, umask, old_mode):
    umask(0o077)
    for model, name in zip(MODELS, ("m.json", "m.npz")):
        path = glassgrad.save(model, tmp_path / name)
        path.chmod(old_mode)
        glassgrad.save(model, path)
        assert mode(path) == old_mode


def test_pages_and_drawings_are_written_atomically_with_plain_modes(tmp_path, umask):
    umask(0o022)
    a = glassgrad.Value(2.0, label="a")
    page = stepper(a * a).save(tmp_path / "pages" / "p.html")
    assert mode(page) == 0o644 and page.read_text().startswith("<!DOCTYPE html>")
    page.chmod(0o600)
    stepper(a * a).save(page)
    assert mode(page) == 0o600
    out = tmp_path / "e" / "x.html"
    assert cli_main(["explain", "x*x", "x=2", "--out", str(out), "--svg", str(tmp_path / "e" / "x.svg")]) == 0
    assert mode(out) == 0o644 and mode(tmp_path / "e" / "x.svg") == 0o644
    assert sorted(p.name for p in (tmp_path / "e").iterdir()) == ["x.html", "x.svg"]


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def _stale(target: Path, pid: int, age: float = 3600.0, token: str = "deadbeef") -> Path:
    """A temporary file as a save of `target` killed mid-write leaves it: glassgrad's naming, half written."""
    tmp = target.parent / f".{target.name}.glassgrad-{pid}-{token}.tmp"
    tmp.write_bytes(b'{"format": "glass')
    past = time.time() - age
    os.utime(tmp, (past, past))
    return tmp


def test_the_next_save_removes_stale_temporaries_of_its_target_only(tmp_path):
    target = tmp_path / "m.json"
    dead = _dead_pid()
    stale = _stale(target, dead)
    live = _stale(target, os.getpid())  # a save in progress in a live process: not ours to remove
    fresh = _stale(target, dead, age=0.0, token="0123abcd")  # too recent: maybe still being written
    other = _stale(tmp_path / "other.json", dead)  # another target's leftover
    lookalike = tmp_path / ".m.json.backup.tmp"  # not glassgrad's naming
    lookalike.write_text("mine")
    glassgrad.save(MODELS[0], target)
    left = {p.name for p in tmp_path.iterdir()}
    assert stale.name not in left
    assert {live.name, fresh.name, other.name, lookalike.name, "m.json"} == left


@pytest.mark.slow
def test_kill_9_during_a_save_loop_leaves_the_target_intact_and_the_next_save_cleans_up(tmp_path):
    target = tmp_path / "m.npz"
    script = (
        "import sys, glassgrad\n"
        "from glassgrad.nn import TensorMLP as MLP\n"
        "model = MLP(2, [256, 256, 1], seed=0)\n"
        "glassgrad.save(model, sys.argv[1])\n"
        "print('saved', flush=True)\n"
        "while True:\n"
        "    glassgrad.save(model, sys.argv[1])\n"
    )
    leftovers = 0
    for trial in range(3):
        child = subprocess.Popen([sys.executable, "-c", script, str(target)], stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline() == "saved\n"
        time.sleep(0.05 * (trial + 1))
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert type(glassgrad.load(target)) is MLP  # the target is always a whole file
        temps = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
        leftovers += len(temps)
        for p in temps:  # age what the crash left past the staleness limit
            os.utime(p, (time.time() - 3600, time.time() - 3600))
        glassgrad.save(MLP(2, [3, 1], seed=0), target)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]
    print(f"{leftovers} temporaries left by 3 kills, all removed by the next save")


def test_atomic_write_failure_leaves_no_temporary_and_names_the_target(tmp_path):
    target = tmp_path / "m.bin"

    def fail(f):
        f.write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        storage.atomic_write(target, fail)
    assert list(tmp_path.iterdir()) == []
