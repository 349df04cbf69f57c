"""A small convergence plot for the dock: PSNR per step when a reference exists, else the DC residual."""

from __future__ import annotations

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure


class ConvergencePlot(FigureCanvasQTAgg):
    def __init__(self):
        self.figure = Figure(figsize=(3.2, 1.8), tight_layout=True)
        super().__init__(self.figure)
        self.axes = self.figure.add_subplot(111)
        self.setMinimumHeight(140)
        self.clear()

    def clear(self):
        self.axes.clear()
        self.axes.set_xlabel("step", fontsize=7)
        self.axes.tick_params(labelsize=7)
        self.draw_idle()

    def show_history(self, history: list) -> None:
        """history: (step, residual, psnr or None) per iterate."""
        if not history:
            return
        steps = [h[0] for h in history]
        use_psnr = history[-1][2] is not None
        values = [h[2] if use_psnr else h[1] for h in history]
        self.axes.clear()
        self.axes.plot(steps, values, marker=".", markersize=3)
        self.axes.set_xlabel("step", fontsize=7)
        self.axes.set_ylabel("PSNR (dB)" if use_psnr else "DC residual", fontsize=7)
        if not use_psnr:
            self.axes.set_yscale("log")
        self.axes.tick_params(labelsize=7)
        self.draw_idle()
