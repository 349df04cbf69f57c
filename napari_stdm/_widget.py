"""The dock widget: data → mask → method and its parameters → Run / Cancel → live layers, metrics, export.

Thin by design: controls become a RunJob (napari_stdm._job), the job runs in a napari thread_worker, and what it
yields becomes layers on the main thread. No reconstruction maths here.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import MISSING, fields
from pathlib import Path

import numpy as np
from magicgui.widgets import ComboBox, Container, FileEdit, FloatSpinBox, Label, ProgressBar, PushButton, SpinBox
from magicgui.widgets import create_widget
from napari.qt.threading import thread_worker
from napari.utils.notifications import show_error, show_info

from recon import methods
from recon.masks import KINDS

from ._job import SAMPLE_SOURCES, RunJob, load_source
from ._memory import release_freed_memory
from ._plot import ConvergencePlot

FILE_SOURCE = "k-space file"
LAYER_PREFIX = "layer: "
PREVIEW_INTERVAL_S = 0.1  # at most ~10 previews per second


def parameter_widget(f):
    """A control for one method dataclass field, with its limits and help."""
    default = f.default if f.default is not MISSING else ""
    options = {k: f.metadata[k] for k in ("min", "max") if k in f.metadata}
    if isinstance(default, float):
        options["step"] = 10 ** math.floor(math.log10(abs(default))) / 10 if default else 0.001
    if "choices" in f.metadata:
        options = {"choices": list(f.metadata["choices"])}
    widget = create_widget(value=default, annotation=type(default), name=f.name, label=f.name.replace("_", " "),
                           widget_type="ComboBox" if "choices" in f.metadata else None, options=options)
    widget.tooltip = f.metadata.get("help", "")
    return widget


def iterate_job(job: RunJob):
    """The worker's function. A plain function, not `job.iterate`: napari (0.6.5+) keeps every worker's function in
    its task-status list for the viewer's lifetime, so a bound method would keep each run's data alive. The
    generator's own reference to the job goes when it finishes."""
    yield from job.iterate()


class ReconWidget(Container):
    def __init__(self, napari_viewer):
        super().__init__(labels=True)
        self.viewer = napari_viewer
        self.source = ComboBox(label="data", choices=self.source_choices)
        self.file = FileEdit(label="file", mode="r", filter="*.h5 *.hdf5")
        self.mask = ComboBox(label="mask", choices=[*KINDS, "file"], value="vista")
        self.accel = FloatSpinBox(label="R", value=8.0, min=1.0, max=64.0, step=1.0)
        self.acs = SpinBox(label="ACS lines", value=20, min=0, max=256)
        self.seed = SpinBox(label="mask seed", value=0, min=0, max=2 ** 31 - 1)
        self.method = ComboBox(label="method", choices=methods.names(), value="lps")
        self.params = Container(labels=True)
        self.run_button = PushButton(text="Run")
        self.cancel_button = PushButton(text="Cancel", enabled=False)
        self.progress = ProgressBar(label="progress", value=0, max=1)
        self.status = Label(label="status", value="idle")
        self.metrics = Label(label="metrics", value="")
        self.plot = ConvergencePlot()
        self.difference_button = PushButton(text="Difference layer", enabled=False)
        self.dicom_button = PushButton(text="Export DICOM…", enabled=False)
        self.h5_button = PushButton(text="Save h5…", enabled=False)
        self.extend([self.source, self.file, self.mask, self.accel, self.acs, self.seed, self.method, self.params,
                     self.run_button, self.cancel_button, self.progress, self.status, self.metrics])
        self.native.layout().addWidget(self.plot)
        self.extend([self.difference_button, self.dicom_button, self.h5_button])
        self.worker = None
        self._failed = False
        self._run_key = self._mask_key = ""
        self.job: RunJob | None = None
        self.result = None  # last finished Iterate
        self.preview = None
        self._last_preview = 0.0
        self._latest = None
        self.method.changed.connect(self.rebuild_parameters)
        self.source.changed.connect(lambda _: setattr(self.file, "visible", self.source.value == FILE_SOURCE))
        self.run_button.changed.connect(self.run)
        self.cancel_button.changed.connect(self.cancel)
        self.difference_button.changed.connect(self.add_difference_layer)
        self.dicom_button.changed.connect(lambda: self.ask_path(self.export_dicom, folder=True))
        self.h5_button.changed.connect(lambda: self.ask_path(self.save_h5, folder=False))
        self.viewer.layers.events.inserted.connect(self.on_layer_inserted)
        self.viewer.layers.events.removed.connect(lambda _: self.source.reset_choices())
        self.rebuild_parameters()
        self.file.visible = False

    # ---- controls -------------------------------------------------------------------------------------------
    def source_choices(self, _widget=None) -> list[str]:
        layers = [LAYER_PREFIX + layer.name for layer in self.viewer.layers if "napari_stdm_data" in layer.metadata]
        return [*SAMPLE_SOURCES, FILE_SOURCE, *layers]

    def on_layer_inserted(self, event):
        self.source.reset_choices()
        layer = event.value
        if "napari_stdm_data" in layer.metadata and not self.running:
            self.source.value = LAYER_PREFIX + layer.name  # a k-space file was opened: use it

    def rebuild_parameters(self, *_):
        self.params.clear()
        self.params.extend([parameter_widget(f) for f in fields(methods.get(self.method.value))])

    def parameter_values(self) -> dict:
        return {w.name: w.value for w in self.params}

    @property
    def running(self) -> bool:
        return self.worker is not None

    def layer_data(self):
        if self.source.value.startswith(LAYER_PREFIX):
            return self.viewer.layers[self.source.value[len(LAYER_PREFIX):]].metadata["napari_stdm_data"]
        return None

    def input_path(self) -> str | None:
        if self.source.value == FILE_SOURCE:
            return str(self.file.value)
        if self.source.value.startswith(LAYER_PREFIX):
            return self.viewer.layers[self.source.value[len(LAYER_PREFIX):]].metadata.get("napari_stdm_path")
        return None

    # ---- running --------------------------------------------------------------------------------------------
    def make_job(self) -> RunJob:
        path = str(self.file.value) if self.source.value == FILE_SOURCE else None
        data = load_source(self.source.value, path, self.layer_data())
        return RunJob(data, self.method.value, self.parameter_values(), self.mask.value, self.accel.value,
                      self.acs.value, self.seed.value, self.input_path())

    def run(self, *_):
        if self.running:
            return
        try:
            self.job = self.make_job()
        except Exception as exc:  # noqa: BLE001 — every failure becomes a notification, never a traceback
            self.fail(exc)
            return
        self._run_key, self._mask_key = self.run_key(), self.mask_key()
        self.preview = self.layer_with("napari_stdm_run", self._run_key)
        self._latest, self.result, self._failed = None, None, False
        if self.preview is not None:
            self.preview.metadata.pop("napari_stdm_result", None)
        self.plot.clear()
        self.set_running(True)
        self.status.value = f"running {self.job.title}…"
        self.worker = thread_worker(iterate_job, start_thread=False, ignore_errors=True)(self.job)
        self.worker.yielded.connect(self.on_yielded)
        self.worker.errored.connect(self.fail)
        self.worker.finished.connect(self.on_finished)
        self.worker.start()

    def run_key(self) -> str:
        """Everything that determines a run's result: a run with the same key would give the same images."""
        return json.dumps({"mask": self.mask_key(), "method": self.method.value, "params": self.parameter_values()},
                          sort_keys=True, default=str)

    def mask_key(self) -> str:
        path = str(self.file.value) if self.source.value == FILE_SOURCE else None
        return json.dumps([self.source.value, path, self.mask.value, self.accel.value, self.acs.value,
                           self.seed.value])

    def layer_with(self, key: str, value: str):
        """The layer an earlier run with identical settings made, to be reused rather than duplicated."""
        return next((layer for layer in self.viewer.layers if layer.metadata.get(key) == value), None)

    def cancel(self, *_):
        if self.worker is not None:
            self.status.value = "cancelling…"
            self.worker.quit()

    def on_yielded(self, item):
        kind, value = item
        if kind == "mask":
            self.show_mask(value.astype(np.uint8))
            return
        self._latest = value
        self.progress.max, self.progress.value = value.total, value.step
        if time.perf_counter() - self._last_preview >= PREVIEW_INTERVAL_S or value.step == value.total:
            self.show_iterate(value)

    def show_mask(self, mask: np.ndarray):
        layer = self.layer_with("napari_stdm_mask", self._mask_key)
        if layer is not None:
            layer.data = mask
            return
        job = self.job
        self.viewer.add_image(mask, name=self.unique_name(f"mask {job.mask} R={job.accel:g}"), colormap="gray",
                              contrast_limits=(0, 1), visible=False, metadata={"napari_stdm_mask": self._mask_key})

    def show_iterate(self, it):
        self._last_preview = time.perf_counter()
        magnitude = np.abs(it.image)
        if self.preview is None:
            limits = (0.0, float(np.percentile(magnitude, 99.5)) or 1.0)
            self.preview = self.viewer.add_image(magnitude, name=self.unique_name(self.job.title),
                                                 contrast_limits=limits,
                                                 metadata={"napari_stdm_run": self._run_key})
        else:
            self.preview.data = magnitude
        if "finetune" in it.extras:  # GLDM's scan-specific mode trains before its first step
            self.metrics.value = f"fine-tuning {it.extras['finetune']}"
            return
        self.plot.show_history(self.job.history)
        step_metrics = self.job.history[-1][2] if self.job.history else None
        self.metrics.value = f"step {it.step}/{it.total}" + (f": PSNR {step_metrics:.2f} dB" if step_metrics else "")

    def on_finished(self):
        worker, self.worker = self.worker, None
        self.set_running(False)
        release_freed_memory()
        if worker is None or self._failed:
            return
        job, latest, cancelled = self.job, self._latest, worker.abort_requested
        if latest is not None:
            self.show_iterate(latest)
        if cancelled:
            self.status.value = f"cancelled at step {latest.step if latest else 0}"
            return
        if latest is None:
            return
        self.result = latest
        if "uncertainty" in latest.extras:
            self.viewer.add_image(latest.extras["uncertainty"], name=f"uncertainty {job.title}", colormap="magma")
        final = job.metrics(latest.image)
        if final:
            self.metrics.value = (f"PSNR {final['psnr']:.2f} dB  SSIM {final['ssim']:.3f}  NMSE {final['nmse']:.2e}"
                                  f"  (R_eff {job.mask_info['effective_accel']:.2f})")
        self.status.value = f"done: {job.title}, {latest.step} steps"
        self.preview.metadata["napari_stdm_result"] = {"title": job.title, "parameters": job.params,
                                                       "mask": job.mask_info, "metrics": final}
        self.difference_button.enabled = job.reference is not None
        self.dicom_button.enabled = self.h5_button.enabled = True

    def fail(self, exc):
        """Any error becomes a notification; a worker's `finished` follows and returns the widget to idle."""
        self._failed = True
        show_error(f"napari-stdm: {exc}")
        self.status.value = f"error: {exc}"

    def set_running(self, running: bool):
        self.run_button.enabled = not running
        self.cancel_button.enabled = running
        for w in (self.source, self.file, self.mask, self.accel, self.acs, self.seed, self.method, self.params):
            w.enabled = not running

    def unique_name(self, base: str) -> str:
        names = {layer.name for layer in self.viewer.layers}
        name, n = base, 2
        while name in names:
            name, n = f"{base} [{n}]", n + 1
        return name

    # ---- results --------------------------------------------------------------------------------------------
    def add_difference_layer(self, *_):
        if self.result is None or self.job.reference is None:
            return
        difference = np.abs(self.result.image) - np.abs(self.job.reference)
        peak = float(np.abs(difference).max()) or 1.0
        self.viewer.add_image(difference, name=f"difference {self.job.title}", colormap="twilight_shifted",
                              contrast_limits=(-peak, peak))

    def ask_path(self, action, folder: bool):
        from qtpy.QtWidgets import QFileDialog

        if folder:
            path = QFileDialog.getExistingDirectory(self.native, "Empty folder for the DICOM series")
        else:
            path, _ = QFileDialog.getSaveFileName(self.native, "Save reconstruction", "", "HDF5 (*.h5)")
        if path:
            action(path)

    def result_info(self) -> dict:
        job = self.job
        return {"method": job.method_name, "parameters": job.params, "mask": job.mask_info,
                "metrics": job.metrics(self.result.image), "steps": self.result.step}

    def job_inputs(self) -> list[str]:
        """Files an export must not overwrite: the k-space file and any model file the run read."""
        named = [v for v in self.job.params.values() if isinstance(v, str)]
        return [p for p in (self.job.input_path, *named) if p]

    def export_dicom(self, folder: str) -> list[Path]:
        from recon.io.dicom import export_cine

        try:
            mask = self.job.mask_info
            files = export_cine(self.result.image, self.job.data.meta, folder, method=self.job.method_name,
                                parameters=self.job.params,
                                acceleration=f"{mask['kind']} R={mask.get('accel', mask['effective_accel']):g}",
                                inputs=self.job_inputs())
        except Exception as exc:  # noqa: BLE001
            self.fail(exc)
            return []
        show_info(f"wrote {len(files)} DICOM files to {folder}")
        return files

    def save_h5(self, path: str) -> Path | None:
        from recon.io import write_result
        from recon.io.outputs import OutputPlan

        try:
            OutputPlan.for_inputs(self.job_inputs()).file(path, "the file")
            measured = self.job.measured
            measured.reference = self.job.reference
            out = write_result(path, measured, self.result.image, self.result_info(),
                               self.result.extras.get("uncertainty"))
        except Exception as exc:  # noqa: BLE001
            self.fail(exc)
            return None
        show_info(f"saved {out}")
        return out
