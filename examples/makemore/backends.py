"""A lecture script loaded as a module with its imports switched to glassgrad or PyTorch, as
`MAKEMORE_BACKEND=torch` does on the command line: what the tests and the benchmarks compare."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent


def load(example: str, backend: str, directory: Path = HERE) -> ModuleType:
    """`directory`/`example`.py (a lecture of examples/makemore by default) as a module, run with
    `backend` ("glassgrad" or "torch")."""
    sys.path.insert(0, str(HERE))
    os.environ["MAKEMORE_BACKEND"] = backend
    try:
        spec = importlib.util.spec_from_file_location(f"makemore_{example}_{backend}", directory / f"{example}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        del os.environ["MAKEMORE_BACKEND"]
        sys.path.remove(str(HERE))
    return module
