"""Programs some tests need (Graphviz's `dot`, Chromium): skip without them, but fail under CI=true."""

import os
import shutil

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def require(program: str, install: str) -> str:
    """The path of `program`; the test skips without it, or fails when CI=true (CI installs it)."""
    path = shutil.which(program)
    if path is None:
        message = f"{program} is not installed ({install})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {message}")
        pytest.skip(message)
    return path
