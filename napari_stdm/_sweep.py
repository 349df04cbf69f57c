"""Steps sweeps: parse "10, 20, 40", run the method once per count (SweepActions, mixed into the dock), and show
each run's quality and time in a table (one row per run)."""

from __future__ import annotations

import math
from collections import deque

from qtpy.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from recon.errors import ReconError

from ._job import COUNT_PARAMETERS
from ._results import RunOutcome

COLUMNS = ("method", "steps", "PSNR dB", "SSIM", "time s")
MAX_COUNTS = 20


def parse_counts(text: str, low: int = 1, high: int = 1000) -> list[int]:
    """'10, 20 40' -> [10, 20, 40]: whole numbers in [low, high], at most MAX_COUNTS, in the order given."""
    parts = [p for p in text.replace(",", " ").split() if p]
    if not parts:
        raise ReconError("type the step counts to sweep, e.g. 10, 20, 40.")
    counts = []
    for part in parts:
        try:
            value = float(part)
        except ValueError:
            raise ReconError(f"sweep: {part!r} is not a number; type step counts such as 10, 20, 40.") from None
        if not math.isfinite(value) or not value.is_integer() or not low <= value <= high:
            raise ReconError(f"sweep: {part} must be a whole number in [{low}, {high}].")
        counts.append(int(value))
    if len(counts) > MAX_COUNTS:
        raise ReconError(f"sweep: {len(counts)} counts; at most {MAX_COUNTS} per sweep.")
    return counts


class RunTable(QTableWidget):
    """method / steps / PSNR / SSIM / time of each run (a sweep starts a fresh table)."""

    def __init__(self):
        super().__init__(0, len(COLUMNS))
        self.setHorizontalHeaderLabels(COLUMNS)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.setMinimumHeight(90)
        self.setMaximumHeight(160)
        self.setToolTip("one row per run: the method, its step (or iteration) count, PSNR and SSIM against the "
                        "reference (when the data have one) and the method's time; a sweep starts a new table")

    def add(self, method: str, steps: str, metrics: dict | None, seconds: float, tooltip: str = "") -> None:
        row = self.rowCount()
        self.insertRow(row)
        psnr = f"{metrics['psnr']:.2f}" if metrics else "–"
        ssim = f"{metrics['ssim']:.3f}" if metrics else "–"
        for column, text in enumerate((method, steps, psnr, ssim, f"{seconds:.1f}")):
            item = QTableWidgetItem(text)
            item.setToolTip(tooltip)
            self.setItem(row, column, item)
        self.scrollToBottom()

    def rows(self) -> list[list[str]]:
        return [[self.item(r, c).text() for c in range(self.columnCount())] for r in range(self.rowCount())]


class SweepActions:
    """Mixed into the dock widget (napari_stdm._widget.ReconWidget), whose state these methods read: `params`,
    `method`, `sweep_text`, `table`, `running`, `run`, `fail`, `_sweep`, `_sweep_parameter`."""

    def count_parameter(self) -> str | None:
        """The method's step (or iteration) count parameter."""
        return next((w.name for w in self.params if w.name in COUNT_PARAMETERS), None)

    def sweep(self, *_):
        """Run the method once per count in the sweep field, in order, each a labelled layer and a table row."""
        if self.running:
            return
        try:
            name = self.count_parameter()
            if name is None:
                raise ReconError(f"{self.method.value} has no step or iteration count to sweep.")
            control = next(w for w in self.params if w.name == name)
            counts = parse_counts(self.sweep_text.value, int(control.min), int(control.max))
        except ReconError as exc:
            self.fail(exc)
            return
        self._sweep, self._sweep_parameter = deque(counts), name
        self.run_next_count(None, None)

    def run_next_count(self, prepared, data):
        if not self._sweep or self.running:
            return
        count = self._sweep.popleft()
        next(w for w in self.params if w.name == self._sweep_parameter).value = count
        overrides = {} if prepared is None else {"prepared": prepared, "data": data}
        self.run(**overrides)

    def add_table_row(self, result: RunOutcome):
        params = result.job.ran_params
        name = next((n for n in COUNT_PARAMETERS if n in params), None)
        count = str(params.get(name, result.total)) if name else str(result.total)
        if result.partial:
            count = f"{result.step}/{count} (cancelled)"
        method = " · ".join([result.job.method_name, *result.job.changed_parameter_texts()])  # runs tell apart
        self.table.add(method, count, result.run.metrics, result.run.seconds, result.name)
