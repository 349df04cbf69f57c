"""The queue of GUI steps a finished run leaves: one per turn, in order, held while a run is in flight."""

from napari_stdm._after_run import AfterRun


def test_steps_run_one_per_turn_in_order_and_can_put_one_first(qtbot):
    done = []
    queue = AfterRun(busy=lambda: False, pause_ms=1)
    queue.add("mask", lambda: done.append("mask"))
    queue.add("maps", lambda: (done.append("maps"), queue.add("colour bar", lambda: done.append("bar"), next_=True)))
    queue.add("play", lambda: done.append("play"))
    queue.start()
    assert done == []  # nothing in the turn that starts it
    qtbot.waitUntil(lambda: not queue, timeout=2000)
    assert done == ["mask", "maps", "bar", "play"]


def test_a_new_run_flushes_the_layers_but_not_playing_and_holds_the_queue(qtbot):
    done, running = [], [False]
    queue = AfterRun(busy=lambda: running[0], pause_ms=1)
    queue.add("mask", lambda: done.append("mask"))
    queue.add("play", lambda: done.append("play"))
    queue.flush(drop=("play",))
    assert done == ["mask"] and not queue
    running[0] = True
    queue.add("mask", lambda: done.append("mask 2"))
    queue.start()
    qtbot.wait(50)
    assert done == ["mask"] and queue  # held while the run is in flight
    running[0] = False
    queue.start()
    qtbot.waitUntil(lambda: not queue, timeout=2000)
    assert done == ["mask", "mask 2"]
