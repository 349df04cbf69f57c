"""Give memory that a finished run freed back to the operating system.

A run allocates hundreds of MB in a worker thread; glibc keeps freed blocks in that thread's arena, so the
viewer's resident size would ratchet up run after run although nothing is alive (measured: +28 % over 20 runs of
the engine alone, 0 % with a trim).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc


def release_freed_memory() -> None:
    gc.collect()
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return
    libc = ctypes.CDLL(libc_name)
    if hasattr(libc, "malloc_trim"):  # glibc only; musl/macOS/Windows return memory differently
        libc.malloc_trim(0)
