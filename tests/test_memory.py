"""glassgrad._tensor.memory: glibc's malloc asked to keep freed blocks, unless the user set its thresholds."""

from __future__ import annotations

import platform

import pytest

from glassgrad._tensor import memory


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_glibc_keeps_freed_memory():
    assert memory.keep_freed_memory() is True  # mallopt accepted both thresholds (and again: it is idempotent)
    assert memory.keep_freed_memory() is True


@pytest.mark.parametrize("name", ["MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"])
def test_the_users_own_malloc_setting_wins(monkeypatch, name):
    monkeypatch.setenv(name, "1000000")
    assert memory.keep_freed_memory() is False
