"""What every file glassgrad writes shares: the atomic write, and the model files' header.

Standard library only, and imports nothing from glassgrad, so that `serialization` (scalar
models, and the dispatch), `tensor_serialization` (tensor models) and `plots` (pictures) can all
import it while imports point one way: serialization -> tensor_serialization -> storage.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

FORMAT = "glassgrad"
VERSION = 1


TEMPORARY = ".{name}.glassgrad-{pid}-{token}.tmp"  # beside the target; a crash may leave one behind
STALE_SECONDS = 60.0  # an unfinished temporary this old, of a process that is gone, is a crash's leftover


def atomic_write(path: str | Path, write: Callable[[BinaryIO], None]) -> Path:
    """Call `write(file)` on a temporary file beside `path`, then rename it to `path`.

    A crash or an exception in `write` leaves any previous file at `path` intact; an exception
    leaves no temporary file behind, and a crash's leftover (the process killed) is removed by
    the next save to `path` (see `remove_stale_temporaries`). The file gets the mode a plain
    `open(path, "w")` would give it: the old file's mode on an overwrite, else 0o666 less the
    umask. A symlink at `path` is written through. A path that is empty, a folder or not a
    regular file, or whose folder does not exist, raises an error naming `path` as given (never
    the temporary file's name).
    """
    given = os.fspath(path)
    if not given:
        raise ValueError("cannot save '': the path is empty; give a file name")
    path = Path(os.path.realpath(given)) if os.path.islink(given) else Path(given)
    folder = path.parent
    if path.is_dir():
        raise IsADirectoryError(f"cannot save {given!r}: it is a folder; give the path of a file to write")
    if path.exists() and not path.is_file():
        raise OSError(f"cannot save {given!r}: it is not a regular file (a device, socket or pipe)")
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise FileNotFoundError(f"cannot save {given!r}: the folder {str(folder)!r} {what}")
    remove_stale_temporaries(path)
    old_mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else None
    try:
        fd, tmp = _create_temporary(path)
    except OSError as e:  # e.g. no permission, or the folder vanished since the check above
        raise type(e)(f"cannot save {given!r}: cannot create a file in {str(folder)!r} ({e.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as f:
            if old_mode is not None:
                os.fchmod(f.fileno(), old_mode)
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return Path(given)


def _create_temporary(path: Path) -> tuple[int, str]:
    """A new file named TEMPORARY beside `path`, created as open() creates files (0o666 less the umask)."""
    while True:
        name = TEMPORARY.format(name=path.name, pid=os.getpid(), token=secrets.token_hex(4))
        tmp = str(path.parent / name)
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666), tmp
        except FileExistsError:
            continue


def remove_stale_temporaries(path: Path) -> list[Path]:
    """Remove the temporaries a killed save of `path` left: files of TEMPORARY's naming for this target
    whose process is gone and which nothing has written for STALE_SECONDS (a save in progress on another
    machine sharing the folder keeps writing). Other files are never touched. Returns what was removed."""
    pattern = re.compile(re.escape(f".{path.name}.glassgrad-") + r"(\d+)-[0-9a-f]+\.tmp")
    removed = []
    try:
        names = os.listdir(path.parent)
    except OSError:
        return removed
    for name in names:
        match = pattern.fullmatch(name)
        if match is None or _alive(int(match[1])):
            continue
        leftover = path.parent / name
        try:
            if stat.S_ISREG(leftover.lstat().st_mode) and time.time() - leftover.lstat().st_mtime > STALE_SECONDS:
                leftover.unlink()
                removed.append(leftover)
        except OSError:
            pass  # removed meanwhile by another save, or not ours to remove: leave it
    return removed


def _alive(pid: int) -> bool:
    """Whether a process `pid` exists on this machine (one of another user's counts as alive)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    except (OverflowError, ValueError):
        return False  # a number no process can have
    return True


def check_header(doc: Any, where: str, kind: str) -> None:
    """Raise ValueError unless `doc` is a glassgrad document of this version and kind."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f"{where}: not a glassgrad model file (no 'format': 'glassgrad' header)")
    if type(doc.get("version")) is not int or doc["version"] != VERSION:  # True == 1, 1.0 == 1: neither is a version
        raise ValueError(f"{where}: format version {doc.get('version')!r} is not supported (expected {VERSION})")
    if doc.get("kind") != kind:
        raise ValueError(f"{where}: model kind {doc.get('kind')!r}, expected {kind!r}")
