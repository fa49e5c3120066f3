"""Freed memory kept for the next arrays, where the C library is glibc (Linux).

Every Tensor operation makes a new numpy array, and a training step frees them all again. For a
block of more than a few hundred kilobytes glibc's malloc asks the kernel for fresh pages (or hands
the freed top of its heap back), so the next step's arrays of the same sizes fault their pages in
again: on the series' Transformers a fifth to a quarter of a step. `keep_freed_memory` lets malloc
keep such blocks for reuse, as the allocators of the big frameworks do; the process's resident memory
then stays at its high-water mark instead of shrinking between steps.
"""

from __future__ import annotations

import ctypes
import os

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's <malloc.h>
MMAP_THRESHOLD = 32 * 2**20  # blocks up to this size come from the heap (glibc's largest allowed value)
TRIM_THRESHOLD = 128 * 2**20  # free memory up to this much stays at the top of the heap


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed blocks of up to 32 MB (and up to 128 MB of free heap) for reuse;
    False where the C library is not glibc, or where `MALLOC_MMAP_THRESHOLD_` or `MALLOC_TRIM_THRESHOLD_`
    is set (the user's own setting wins)."""
    if any(name in os.environ for name in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")):
        return False
    try:
        libc = ctypes.CDLL(None)  # the symbols the process has loaded, the C library's among them
        libc.gnu_get_libc_version  # noqa: B018 - present in glibc only
    except (OSError, AttributeError):
        return False
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
