"""Ctrl-C / SIGTERM held back while native code runs Python callbacks that cannot pass an exception on.

A KeyboardInterrupt raised inside Python called from C++ or a ctypes callback is lost or fatal: during `import
torch` it cannot travel through pybind11 and aborts the process ("terminate called after throwing an instance of
'pybind11::error_already_set'"); during numba's first compilation of sigpy's kernels (ESPIRiT coil maps, the radial
NUFFT) llvmlite's callback prints "Exception ignored" and the run goes on as if the key had not been pressed.
Inside `held_signals()` both signals are only recorded; on leaving, the first one is raised again, so the handlers
that were in place before (KeyboardInterrupt, recon.entry's SIGTERM) act on it at once. Outside the main thread
(the napari widget's worker) signals cannot be handled and this does nothing.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

HELD = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def held_signals():
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    came: list[int] = []
    before = {s: signal.signal(s, lambda signum, frame: came.append(signum)) for s in HELD}
    try:
        yield
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)
        if came:
            signal.raise_signal(came[0])
