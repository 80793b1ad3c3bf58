"""Give the heap's freed memory back to the operating system between the chunks of a long job.

A load prepares a file in chunks of 100,000 records: each chunk allocates and frees some hundreds of
megabytes (Python objects of the blind indexes and ciphertexts, the driver's rows). glibc's allocator keeps
freed memory in its heap for reuse, and with the chunks' mixed sizes much of it stays there, fragmented:
a preparing process's anonymous memory grew by about 330 MiB over a 2 M-record file, of which the load's own
state (the persons it created, the file's keys) is about 100 MiB. Trimming the heap after each chunk kept
it flat once the load's state was counted (docs/intake.md, "Memory of a load").
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache


@cache
def _malloc_trim():
    """glibc's ``malloc_trim``, or None where the C library has none (musl, macOS)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    return getattr(ctypes.CDLL(name), "malloc_trim", None)


def release_freed_memory() -> bool:
    """Return the heap's free pages to the system (``malloc_trim(0)``); whether the C library could.

    It costs a walk of the heap's free lists (milliseconds), so it is for the ends of large steps, not
    for every request."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
