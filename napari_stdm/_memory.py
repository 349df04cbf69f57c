"""Give memory that a finished run freed back to the operating system.

A run allocates hundreds of MB in a worker thread; glibc keeps freed blocks in that thread's arena, so the
viewer's resident size would ratchet up run after run although nothing is alive (measured: +28 % over 20 runs of
the engine alone, 0 % with a trim). Only the young generations are collected: a full collection walks napari's
~600 000 objects (0.3 s of frozen GUI). A run's arrays are freed by reference counting; cyclic garbage that lived
through a run (oldest generation) is collected once the run's layers are done (napari_stdm._garbage, which also
freezes the startup objects so that a full collection no longer walks them).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from functools import lru_cache


@lru_cache(maxsize=1)
def libc():
    """glibc, looked up once (find_library runs a subprocess: too slow for the GUI thread every run)."""
    name = ctypes.util.find_library("c")
    return None if name is None else ctypes.CDLL(name)


def release_freed_memory() -> None:
    gc.collect(1)
    lib = libc()
    if lib is not None and hasattr(lib, "malloc_trim"):  # glibc only; musl/macOS/Windows return memory differently
        lib.malloc_trim(0)
