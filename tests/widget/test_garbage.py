"""The dock's garbage-collection policy: startup objects frozen once per process, full collections when idle."""

import gc

from napari_stdm import _garbage
from napari_stdm._after_run import AfterRun


def test_startup_objects_are_frozen_once_per_process(monkeypatch):
    monkeypatch.setattr(_garbage, "_frozen", False)
    threshold = gc.get_threshold()
    try:
        _garbage.freeze_startup_objects()
        frozen = gc.get_freeze_count()
        assert frozen > 10_000  # napari, Qt wrappers, numpy, torch: the bulk of the process
        assert gc.get_threshold()[2] == _garbage.FULL_EVERY
        kept = [[i] for i in range(1000)]  # made after the freeze: a second call must not freeze them
        _garbage.freeze_startup_objects()
        assert gc.get_freeze_count() == frozen and kept
    finally:
        gc.set_threshold(*threshold)


def test_the_idle_step_comes_once_after_the_last_step_and_not_during_a_run(qtbot):
    done, running = [], [True]
    queue = AfterRun(busy=lambda: running[0], pause_ms=1, idle=lambda: done.append("idle"))
    queue.add("mask", lambda: done.append("mask"))
    queue.start()
    qtbot.wait(50)
    assert done == []  # a run in flight: neither the step nor the collection
    running[0] = False
    queue.start()
    qtbot.waitUntil(lambda: "idle" in done, timeout=2000)
    qtbot.wait(50)
    assert done == ["mask", "idle"]


def test_the_dock_collects_garbage_when_a_run_is_done(qtbot, widget, monkeypatch):
    collected = []
    monkeypatch.setattr(widget.after_run, "idle", lambda: collected.append(widget.settled))
    widget.method.value = "zero-filled"
    widget.run()
    qtbot.waitUntil(lambda: bool(collected), timeout=60_000)
    assert collected == [True]
