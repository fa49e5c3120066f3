"""`SummaryWriter`, under `torch.utils.tensorboard`'s name: scalars logged to TensorBoard's own event files.

A training script's `writer.add_scalar("Loss/train", loss, step)` appends one record to
`<log_dir>/events.out.tfevents.<time>.<host>.<pid>.<n>`, the format TensorBoard reads
(`tensorboard --logdir <log_dir>`): TFRecord framing (a length, its checksum, the bytes, their
checksum; CRC-32C, masked) around a protocol-buffer `Event` that holds a `Summary` of one
`simple_value`. The few fields needed are encoded here by hand, so glassgrad needs neither
TensorBoard nor protobuf to write them. An event file is an append-only log, as TensorBoard's own
writer keeps it: each record is written whole, and `flush()` hands them to the file system.
"""

from __future__ import annotations

import itertools
import math
import numbers
import os
import socket
import struct
import time
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

__all__ = ["SummaryWriter"]


def _crc32c_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1  # Castagnoli's polynomial, reflected
        table.append(crc)
    return tuple(table)


_CRC32C = _crc32c_table()


def crc32c(data: bytes) -> int:
    """The CRC-32C (Castagnoli) checksum of `data`, as TFRecord files use."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC32C[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _masked(crc: int) -> int:
    """TFRecord's masking of a checksum (so that a checksum of checksums is not trivially one)."""
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def tfrecord(data: bytes) -> bytes:
    """`data` framed as one TFRecord: its length, the length's checksum, the bytes, their checksum."""
    length = struct.pack("<Q", len(data))
    return length + struct.pack("<I", _masked(crc32c(length))) + data + struct.pack("<I", _masked(crc32c(data)))


def _varint(n: int) -> bytes:
    out = bytearray()
    n &= (1 << 64) - 1  # int64 as protobuf writes it: a negative step takes ten bytes
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | 0x80 if n else low)
        if not n:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field (a string or a message)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def event(wall_time: float, step: int = 0, *, file_version: str = "", summary: bytes = b"") -> bytes:
    """A tensorflow `Event` message: wall_time = 1 (double), step = 2 (int64), file_version = 3, summary = 5."""
    out = b"\x09" + struct.pack("<d", wall_time)
    if step:
        out += b"\x10" + _varint(step)
    if file_version:
        out += _field(3, file_version.encode())
    if summary:
        out += _field(5, summary)
    return out


def scalar_summary(tag: str, value: float) -> bytes:
    """A `Summary` of one `Value`: tag = 1 (string), simple_value = 2 (float32), as TensorBoard's scalars."""
    return _field(1, _field(1, tag.encode()) + b"\x15" + struct.pack("<f", value))


_FILES = itertools.count()  # the last part of an event file's name: two writers of one process never share one


class SummaryWriter:
    """Writes scalars for TensorBoard to an event file in `log_dir` (by default
    `runs/<month><day>_<hh>-<mm>-<ss>_<host><comment>`, as PyTorch's), made at once."""

    def __init__(self, log_dir: str | os.PathLike | None = None, comment: str = "", filename_suffix: str = "") -> None:
        if log_dir is None:
            log_dir = Path("runs") / f"{datetime.now().strftime('%b%d_%H-%M-%S')}_{socket.gethostname()}{comment}"
        self.log_dir = str(log_dir)
        Path(self.log_dir).mkdir(parents=True, exist_ok=True)
        name = f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}.{os.getpid()}.{next(_FILES)}"
        self.file_name = str(Path(self.log_dir) / (name + filename_suffix))
        self._file: BinaryIO | None = open(self.file_name, "ab")  # open until close()
        self._file.write(tfrecord(event(time.time(), file_version="brain.Event:2")))
        self._file.flush()

    def get_logdir(self) -> str:
        """The folder the event file is in."""
        return self.log_dir

    def add_scalar(self, tag: str, scalar_value: Any, global_step: int | None = None,
                   walltime: float | None = None) -> None:
        """Log `scalar_value` (a number, or a tensor or array of one element) under `tag` at `global_step`."""
        if not isinstance(tag, str):
            raise TypeError(f"add_scalar: the tag must be a string such as 'Loss/train', got {type(tag).__name__}")
        value = _number(scalar_value)
        step = 0 if global_step is None else _step(global_step)
        wall = time.time() if walltime is None else float(walltime)
        self._open().write(tfrecord(event(wall, step, summary=scalar_summary(tag, value))))

    def flush(self) -> None:
        """Hand what was logged to the file system (TensorBoard reads it from there)."""
        self._open().flush()

    def close(self) -> None:
        """Flush and close the event file; a closed writer refuses to log more."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def _open(self) -> BinaryIO:
        if self._file is None:
            raise ValueError(f"SummaryWriter: the event file {self.file_name} is closed (close() was called)")
        return self._file


def _number(value: Any) -> float:
    """A scalar to log as a float: a real number, or anything of one element with `.item()` (a tensor, an array)."""
    if hasattr(value, "item") and not isinstance(value, numbers.Number):
        shape = tuple(getattr(value, "shape", ()))
        if math.prod(shape) != 1:
            raise ValueError(f"add_scalar: expected one number, got a {type(value).__name__} of shape {shape}")
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"add_scalar: expected a real number (a float, an int or a tensor of one element), "
                        f"got {type(value).__name__}: {value!r:.60}")
    return float(value)


def _step(step: Any) -> int:
    if isinstance(step, bool) or not isinstance(step, numbers.Integral):
        if hasattr(step, "item") and getattr(step, "ndim", 1) == 0:
            return _step(step.item())
        raise TypeError(f"add_scalar: global_step must be an integer (the training step), got {type(step).__name__}")
    return int(step)
