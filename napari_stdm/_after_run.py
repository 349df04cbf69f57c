"""The GUI work a finished run leaves behind (its mask layer, map layers, their colour bars, then playing the cine),
done one step per turn of the event loop with a pause before the next: a new layer costs the GUI thread 0.1-0.4 s,
and timers that are due together would run in one turn, so the GUI would not answer in between."""

from __future__ import annotations

from collections import deque
from typing import Callable

from qtpy.QtCore import QTimer

PAUSE_MS = 60  # before each step: input and repaints are handled in between


def later(ms: int, action: Callable[[], None]) -> None:
    """Run `action` in a later turn of the event loop; if the dock was closed meanwhile (its Qt widgets are gone),
    nothing happens."""
    def run():
        try:
            action()
        except RuntimeError as exc:  # "wrapped C/C++ object ... has been deleted"
            if "deleted" not in str(exc):
                raise

    QTimer.singleShot(ms, run)


class AfterRun:
    """Labelled steps, drained one per turn once `start` is called. A step may add further steps."""

    def __init__(self, busy: Callable[[], bool], pause_ms: int = PAUSE_MS, idle: Callable[[], None] | None = None):
        self.busy = busy  # while it holds (a run in flight), steps wait for the next `start`
        self.pause_ms = pause_ms
        self.idle = idle  # once every step is done (and no run in flight), in a turn of its own
        self._steps: deque[tuple[str, Callable[[], None]]] = deque()
        self._draining = False

    def __bool__(self) -> bool:
        return bool(self._steps)

    def add(self, label: str, step: Callable[[], None], *, next_: bool = False) -> None:
        """Queue `step`; `next_` puts it before the others (e.g. a colour bar right after its layer)."""
        (self._steps.appendleft if next_ else self._steps.append)((label, step))

    def start(self) -> None:
        if not self._draining:
            self._draining = True
            later(self.pause_ms, self._next)

    def _next(self) -> None:
        if not self._steps or self.busy():
            self._draining = False
            if not self._steps and self.idle is not None and not self.busy():
                self.idle()
            return
        _, step = self._steps.popleft()
        try:
            step()
        finally:
            later(self.pause_ms, self._next)

    def flush(self, drop: tuple[str, ...] = ()) -> None:
        """Every step at once (a new run is starting), except those labelled in `drop`."""
        while self._steps:
            label, step = self._steps.popleft()
            if label not in drop:
                step()

    def clear(self) -> None:
        self._steps.clear()
