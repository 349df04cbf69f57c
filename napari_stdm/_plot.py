"""A small convergence plot for the dock: PSNR per step when a reference exists, else the DC residual.

Drawing a matplotlib figure costs the GUI thread tens to hundreds of ms on 2 busy cores, so the plot updates its
line (no new axes), lays itself out once, and redraws at most every MIN_INTERVAL_S while a run streams in (the last
point is always drawn: `show_history(..., final=True)`)."""

from __future__ import annotations

import time

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure

MIN_INTERVAL_S = 1.0


class ConvergencePlot(FigureCanvasQTAgg):
    def __init__(self):
        self.figure = Figure(figsize=(3.2, 1.8))
        super().__init__(self.figure)
        self.axes = self.figure.add_subplot(111)
        self.setMinimumHeight(140)
        self.line = None
        self.kind = None
        self.last_draw = 0.0
        self.figure.subplots_adjust(left=0.27, right=0.97, bottom=0.25, top=0.95)  # fixed: no layout per draw
        self.clear()

    def clear(self):
        """An empty plot; the axes stay (Axes.clear costs the GUI ~0.1 s at every Run)."""
        if self.line is not None:
            self.line.remove()
        self.line, self.kind = None, None
        self.axes.set_xlabel("step", fontsize=7)
        self.axes.set_ylabel("")
        self.axes.tick_params(labelsize=7)
        self.draw_idle()

    def show_history(self, history: list, final: bool = False) -> None:
        """history: (step, residual, psnr or None) per iterate."""
        if not history:
            return
        use_psnr = history[-1][2] is not None
        kind = "psnr" if use_psnr else "residual"
        steps = [h[0] for h in history]
        values = [h[2] if use_psnr else h[1] for h in history]
        if self.line is None or self.kind != kind:
            if self.line is not None:
                self.line.remove()
            (self.line,) = self.axes.plot(steps, values, marker=".", markersize=3, color="C0")
            self.kind = kind
            self.axes.set_ylabel("PSNR (dB)" if use_psnr else "DC residual", fontsize=7)
            self.axes.set_yscale("linear" if use_psnr else "log")
        else:
            self.line.set_data(steps, values)
        now = time.perf_counter()
        if not final and now - self.last_draw < MIN_INTERVAL_S:
            return
        self.last_draw = now
        self.axes.relim()
        self.axes.autoscale_view()
        self.draw_idle()
