"""Where the user's code made each node: the chain of the user's frames (function and line, outermost
first) at the moment an operation made it, recorded only while a mode asks for it (`detect_anomaly`,
to name the line of a NaN; `record_origins`, to group a large graph by the code that built it).

While no mode is on, nothing here runs: the engine checks one counter per operation, as for grad mode.
"""

from __future__ import annotations

import linecache
import sys
from functools import partial
from pathlib import Path
from types import CodeType, FrameType
from typing import Any
from weakref import ref

_PACKAGE_DIR = str(Path(__file__).parent.parent)  # glassgrad/, whose frames are not the user's


class Origin(tuple):
    """The user's frames that made a node, outermost first, each `(filename, line, function)`; as text,
    the innermost one's `file:line: source`, as `detect_anomaly` names it."""

    def __str__(self) -> str:
        if not self:
            return "<unknown>"
        filename, line, _ = self[-1]
        return f"{filename}:{line}: {linecache.getline(filename, line).strip()}".rstrip()


class Records(dict):
    """`id(node) -> (weak reference to it, its Origin)` for the nodes made while recording in one thread.

    `checks`: NaN and inf raise (`detect_anomaly`); `base`: the frame that started recording, above
    which frames are not followed (they are the same for every node); `origins`: each chain once,
    `users`: whether each code object is the user's. Both are keyed by `id(code)` (hashing a code
    object reads all of it) and keep the code objects, so that an id cannot be reused meanwhile.
    """

    def __init__(self, checks: bool, base: FrameType | None = None) -> None:
        super().__init__()
        self.checks, self.base = checks, base
        self.origins: dict[tuple, tuple[Origin, tuple]] = {}
        self.users: dict[int, tuple[CodeType, bool]] = {}


def _is_users(code: CodeType) -> bool:
    """Whether `code` is the user's, not glassgrad's or contextlib's."""
    name = code.co_filename
    return not name.startswith(_PACKAGE_DIR) and "contextlib" not in name


def where_made(records: Records) -> Origin:
    """The Origin of a node being made now: the user's frames from `records.base` down to here."""
    frame: FrameType | None = sys._getframe(1)
    base, users = records.base, records.users
    chain = []
    codes = []
    while frame is not None:
        code = frame.f_code
        known = users.get(id(code))
        if known is None:
            known = users[id(code)] = (code, _is_users(code))
        if known[1]:
            chain.append(id(code))
            chain.append(frame.f_lineno)
            codes.append(code)
        if frame is base:
            break
        frame = frame.f_back
    key = tuple(chain)
    found = records.origins.get(key)
    if found is None:
        lines = chain[1::2]
        found = records.origins[key] = (Origin(
            (code.co_filename, line, getattr(code, "co_qualname", code.co_name))
            for code, line in zip(reversed(codes), reversed(lines))
        ), tuple(codes))
    return found[0]


def record(records: Records, node: Any) -> Origin:
    """Note where `node` is being made; the record goes when the node does (its id may be reused)."""
    origin = where_made(records)
    key = id(node)
    records[key] = (ref(node, partial(_forget, records, key)), origin)
    return origin


def _forget(records: dict, key: int, dead: ref) -> None:
    """Drop the record of a node that no longer exists (and only that one: its id may be reused)."""
    if records.get(key, (None,))[0] is dead:
        del records[key]


def origin_of(records: Records | None, node: Any) -> Origin | None:
    """Where `node` was made, if it was made while `records` were kept; else None."""
    if records is None:
        return None
    made, origin = records.get(id(node), (None, None))
    return origin if made is not None and made() is node else None


def users_frame() -> FrameType | None:
    """The innermost frame of the code calling into glassgrad (where a `with` block opens)."""
    frame = sys._getframe(1)
    while frame is not None and not _is_users(frame.f_code):
        frame = frame.f_back
    return frame
