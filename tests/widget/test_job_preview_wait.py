"""A run waits for the widget to show its preview before it computes the coil maps (RunJob.wait_until_shown), so
the GUI makes the new layer while the worker is idle; without the widget it goes on after PREVIEW_WAIT_S."""

import threading
import time

import pytest

import recon.pipeline
from napari_stdm._job import PREVIEW_WAIT_S, Phase, RunJob


@pytest.fixture
def coil_maps_started(monkeypatch):
    """The moment the job starts the coil maps (recon.pipeline.problem_for)."""
    started = []
    problem_for = recon.pipeline.problem_for

    def recording(*args, **kwargs):
        started.append(time.perf_counter())
        return problem_for(*args, **kwargs)

    monkeypatch.setattr(recon.pipeline, "problem_for", recording)
    return started


def until_preview(job):
    events = job.iterate()
    for event in events:
        if isinstance(event, Phase) and event.image is not None:
            return events, time.perf_counter()
    raise AssertionError("no preview image before the coil maps")


def next_in_thread(events) -> threading.Thread:
    thread = threading.Thread(target=lambda: next(events), daemon=True)
    thread.start()
    return thread


def test_the_coil_maps_wait_until_the_preview_is_shown(coil_maps_started):
    job = RunJob("synthetic sample", "zero-filled", {})
    events, _ = until_preview(job)
    thread = next_in_thread(events)
    time.sleep(PREVIEW_WAIT_S / 2)
    assert coil_maps_started == []  # the GUI is making the preview layer: the worker waits
    job.preview_shown.set()
    thread.join(timeout=60)
    assert len(coil_maps_started) == 1 and not job.preview_shown.is_set()  # cleared for the next preview
    events.close()


def test_without_a_widget_the_coil_maps_start_after_the_wait(coil_maps_started):
    job = RunJob("synthetic sample", "zero-filled", {})
    events, shown_at = until_preview(job)
    next_in_thread(events).join(timeout=60)
    assert coil_maps_started and coil_maps_started[0] - shown_at >= PREVIEW_WAIT_S * 0.9
    events.close()
