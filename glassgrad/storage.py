"""What every file glassgrad writes shares: the atomic write, and the model files' header.

Standard library only, and imports nothing from glassgrad, so that `serialization` (scalar
models, and the dispatch), `tensor_serialization` (tensor models) and `plots` (pictures) can all
import it while imports point one way: serialization -> tensor_serialization -> storage.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

FORMAT = "glassgrad"
VERSION = 1


def atomic_write(path: str | Path, write: Callable[[BinaryIO], None]) -> Path:
    """Call `write(file)` on a temporary file beside `path`, then rename it to `path`.

    A crash or an exception in `write` leaves any previous file at `path` intact and no temporary
    file behind. A missing folder raises FileNotFoundError naming `path` and its folder (never the
    temporary file's name).
    """
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise FileNotFoundError(f"cannot save {str(path)!r}: the folder {str(folder)!r} {what}")
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:  # e.g. no permission, or the folder vanished since the check above
        raise type(e)(f"cannot save {str(path)!r}: cannot create a file in {str(folder)!r} ({e.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def check_header(doc: Any, where: str, kind: str) -> None:
    """Raise ValueError unless `doc` is a glassgrad document of this version and kind."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f"{where}: not a glassgrad model file (no 'format': 'glassgrad' header)")
    if type(doc.get("version")) is not int or doc["version"] != VERSION:  # True == 1, 1.0 == 1: neither is a version
        raise ValueError(f"{where}: format version {doc.get('version')!r} is not supported (expected {VERSION})")
    if doc.get("kind") != kind:
        raise ValueError(f"{where}: model kind {doc.get('kind')!r}, expected {kind!r}")
