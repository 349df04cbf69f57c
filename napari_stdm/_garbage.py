"""When Python's cyclic garbage collector may pause the GUI thread.

A full collection traverses every tracked object of the process (napari, Qt wrappers, numpy, torch) and holds the
GIL throughout: measured 225 ms inside one 384 ms stall of a dSTDM run, and 60-80 ms (inside a colour bar's turn,
263 ms in all) once the startup objects were frozen (benchmarks/widget_timing.py). So: the objects alive once the
dock has opened are frozen (gc.freeze), automatic full collections become rare, and the dock collects when a run
and the layers it adds afterwards are done, a moment when the GUI has nothing else to do. Young objects are still
collected automatically as usual.
"""

from __future__ import annotations

import gc

FULL_EVERY = 100  # automatic full collection after this many middle-generation ones (Python's default: 10)
_frozen = False  # freeze_startup_objects has run in this process


def freeze_startup_objects() -> None:
    """Freeze what is alive now, once per process (the first dock): cyclic garbage among frozen objects is never
    freed, so not for every viewer a script or a test suite opens."""
    global _frozen
    if _frozen:
        return
    _frozen = True
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_EVERY)


def collect_when_idle() -> None:
    """A full collection now: a run and everything it added afterwards are done."""
    gc.collect()
