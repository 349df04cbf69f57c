"""The dock widget: data → mask → method and its parameters → Run / Cancel → live layers, metrics, export.

Thin by design: controls become a RunJob (napari_stdm._job), the job runs in a napari thread_worker, and the typed
events it yields become layers and status text on the main thread. No reconstruction maths here.

Every layer it adds carries the data's geometry (napari_stdm._geometry). Result actions (difference, DICOM, h5)
act on the last finished or cancelled run and are disabled while a run is in flight; a cancelled run's partial
result is kept and marked "cancelled at step k/N" in its layer name, metadata and exports.
"""

from __future__ import annotations

import json
import math
import time
import weakref
from dataclasses import MISSING, dataclass, fields, replace
from pathlib import Path

import numpy as np
from magicgui.widgets import ComboBox, Container, FileEdit, FloatSpinBox, Label, ProgressBar, PushButton, SpinBox
from magicgui.widgets import create_widget
from napari.qt.threading import thread_worker
from napari.utils.notifications import show_error, show_info

from recon import methods
from recon.errors import ReconError
from recon.masks import KINDS, make_mask

from ._elide import ElidedText, keep_narrow
from ._geometry import layer_kwargs, like
from ._job import SAMPLE_NAMES, SAMPLE_SHAPES, SAMPLE_SOURCES, MaskReady, Phase, RunJob, Step
from ._layers import contrast
from ._memory import release_freed_memory
from ._plot import ConvergencePlot

FILE_SOURCE = "k-space file"
LAYER_PREFIX = "layer: "
PREVIEW_INTERVAL_S = 0.1  # at most ~10 previews per second
FINISHED = "finished"
FILE_FILTER = "*.h5 *.hdf5 *.mat *.npy *.npz"


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


def stop_on_close(widget):
    """A slot for the dock's `destroyed`: a run still in flight when napari closes is stopped, and its signals no
    longer reach the deleted widgets. Holds the widget weakly, so it does not keep a closed dock alive."""
    ref = weakref.ref(widget)

    def stop(*_):
        widget = ref()
        worker = None if widget is None else widget.worker
        if worker is None:
            return
        for signal in (worker.yielded, worker.errored, worker.finished):
            try:
                signal.disconnect()
            except (TypeError, RuntimeError):
                pass
        worker.quit()
        widget.worker = None

    return stop


@dataclass
class RunOutcome:
    """A finished or cancelled run: what the result actions act on."""

    job: RunJob
    last: object  # the last recon.methods.Iterate
    status: str  # "finished" or "cancelled at step k/N"
    layer: object  # the napari layer that shows it

    @property
    def image(self) -> np.ndarray:
        return self.last.image

    @property
    def step(self) -> int:
        return self.last.step

    @property
    def extras(self) -> dict:
        return self.last.extras

    @property
    def partial(self) -> bool:
        return self.status != FINISHED

    @property
    def name(self) -> str:
        return self.layer.name


class ReconWidget(Container):
    def __init__(self, napari_viewer):
        super().__init__(labels=True)
        self.viewer = napari_viewer
        self.source = ComboBox(label="data", choices=self.source_choices,
                               tooltip="the k-space to reconstruct: a shipped sample, a file, or an opened layer")
        self.file = FileEdit(label="file", mode="r", filter=FILE_FILTER)
        self.mask = ComboBox(label="mask", choices=[*KINDS, "file"], value="vista",
                             tooltip="retrospective undersampling pattern ('file': the file's own mask)")
        self.accel = FloatSpinBox(value=8.0, min=1.0, max=64.0, step=1.0,
                                  tooltip="acceleration R, counted outside the ACS block")
        self.accel_eff = Label(value="", tooltip="effective acceleration: all k-t locations / sampled ones, "
                                                 "ACS lines included")
        self.accel_row = Container(layout="horizontal", labels=False, label="R", widgets=[self.accel, self.accel_eff])
        self.accel_row.margins = (0, 0, 0, 0)
        self.acs = SpinBox(label="ACS lines", value=20, min=0, max=256, tooltip="fully sampled centre lines")
        self.seed = SpinBox(label="mask seed", value=0, min=0, max=2 ** 31 - 1, tooltip="random mask seed")
        self.method = ComboBox(label="method", choices=methods.names(), value="lps",
                               tooltip="reconstruction method; its parameters follow")
        self.params = Container(labels=True)
        self.run_button = PushButton(text="Run")
        self.cancel_button = PushButton(text="Cancel", enabled=False)
        self.progress = ProgressBar(label="progress", value=0, max=1)
        self.status = Label(label="status")
        self.metrics = Label(label="metrics")
        self.plot = ConvergencePlot()
        self.difference_button = PushButton(text="Difference layer", enabled=False)
        self.dicom_button = PushButton(text="Export DICOM…", enabled=False)
        self.h5_button = PushButton(text="Save h5…", enabled=False)
        self.extend([self.source, self.file, self.mask, self.accel_row, self.acs, self.seed, self.method, self.params,
                     self.run_button, self.cancel_button, self.progress, self.status, self.metrics])
        self.native.layout().addWidget(self.plot)
        self.extend([self.difference_button, self.dicom_button, self.h5_button])
        self.status_text, self.metrics_text = ElidedText(self.status, "idle"), ElidedText(self.metrics)
        for combo in (self.source, self.mask, self.method):
            keep_narrow(combo)
        self.worker = None
        self._failed = False
        self._run_key = self._mask_key = ""
        self.job: RunJob | None = None  # the run in flight, or the last one
        self.result: RunOutcome | None = None  # the last finished or cancelled run with an image
        self.preview = None
        self._kept = None  # (layer, data, name, metadata) of a finished result a rerun draws into until it ends
        self._last_preview = 0.0
        self._latest = None
        self.method.changed.connect(self.rebuild_parameters)
        self.source.changed.connect(self.on_source_changed)
        for control in (self.mask, self.accel, self.acs, self.seed):
            control.changed.connect(self.update_effective_accel)
        self.run_button.changed.connect(self.run)
        self.cancel_button.changed.connect(self.cancel)
        self.difference_button.changed.connect(self.add_difference_layer)
        self.dicom_button.changed.connect(lambda: self.ask_path(self.export_dicom, folder=True))
        self.h5_button.changed.connect(lambda: self.ask_path(self.save_h5, folder=False))
        self.viewer.layers.events.inserted.connect(self.on_layer_inserted)
        self.viewer.layers.events.removed.connect(lambda _: self.source.reset_choices())
        self.native.destroyed.connect(stop_on_close(self))
        self.rebuild_parameters()
        self.file.visible = False
        self.update_effective_accel()
        self.update_result_actions()

    # ---- controls -------------------------------------------------------------------------------------------
    def source_choices(self, _widget=None) -> list[str]:
        layers = [LAYER_PREFIX + layer.name for layer in self.viewer.layers if "napari_stdm_data" in layer.metadata]
        return [*SAMPLE_SOURCES, FILE_SOURCE, *layers]

    def on_layer_inserted(self, event):
        self.source.reset_choices()
        layer = event.value
        if "napari_stdm_data" in layer.metadata and not self.running:
            self.source.value = LAYER_PREFIX + layer.name  # a k-space file was opened: use it

    def on_source_changed(self, *_):
        self.file.visible = self.source.value == FILE_SOURCE
        self.update_effective_accel()

    def rebuild_parameters(self, *_):
        self.params.clear()
        self.params.extend([parameter_widget(f) for f in fields(methods.get(self.method.value))])

    def parameter_values(self) -> dict:
        return {w.name: w.value for w in self.params}

    @property
    def running(self) -> bool:
        return self.worker is not None

    def source_layer(self):
        if self.source.value and self.source.value.startswith(LAYER_PREFIX):
            name = self.source.value[len(LAYER_PREFIX):]
            return self.viewer.layers[name] if name in self.viewer.layers else None
        return None

    def layer_data(self):
        layer = self.source_layer()
        return None if layer is None else layer.metadata["napari_stdm_data"]

    def input_path(self) -> str | None:
        if self.source.value == FILE_SOURCE:
            return str(self.file.value)
        layer = self.source_layer()
        return None if layer is None else layer.metadata.get("napari_stdm_path")

    def data_name(self) -> str:
        if self.source.value in SAMPLE_NAMES:
            return SAMPLE_NAMES[self.source.value]
        if self.source.value == FILE_SOURCE:
            return Path(str(self.file.value)).stem or "file"
        return self.source.value[len(LAYER_PREFIX):]

    def data_shape(self) -> tuple[int, int, int] | None:
        """(frames, ky, kx) of the chosen data when known without reading a file."""
        data = self.layer_data()
        if data is not None:
            return data.frames, *data.image_shape
        return SAMPLE_SHAPES.get(self.source.value)

    def update_effective_accel(self, *_):
        """R_eff next to R: the chosen mask on the chosen data's grid (and the file's own samples, if any)."""
        data, shape = self.layer_data(), self.data_shape()
        try:
            if self.mask.value == "file":
                mask = None if data is None else data.mask
            elif shape is None:
                mask = None
            else:
                mask = make_mask(self.mask.value, shape, self.accel.value, self.acs.value, self.seed.value).array
                if data is not None and data.mask is not None:
                    mask = mask & data.mask
        except ReconError as exc:
            self.accel_eff.value, self.accel_eff.tooltip = "R_eff –", str(exc)
            return
        if mask is None:
            self.accel_eff.value = "R_eff –"
            self.accel_eff.tooltip = "effective acceleration: shown once the data are loaded"
            return
        self.show_effective_accel(mask.size / max(int(mask.sum()), 1))

    def show_effective_accel(self, value: float):
        self.accel_eff.value = f"R_eff {value:.1f}"
        self.accel_eff.tooltip = (f"effective acceleration {value:.2f}: all k-t locations / sampled ones, ACS lines "
                                  "included")

    # ---- running --------------------------------------------------------------------------------------------
    def make_job(self) -> RunJob:
        data = self.layer_data()
        if self.source.value.startswith(LAYER_PREFIX) and data is None:
            raise ReconError(f"the layer {self.source.value[len(LAYER_PREFIX):]!r} is gone; choose the data again.")
        if self.source.value == FILE_SOURCE and not self.file.value.is_file():
            raise ReconError(f"choose a k-space file first ({self.file.value} is not a file).")
        return RunJob(self.source.value, self.method.value, self.parameter_values(), self.mask.value,
                      self.accel.value, self.acs.value, self.seed.value, self.input_path(), data, self.data_name())

    def run(self, *_):
        if self.running:
            return
        self.reset_status()
        try:
            job = self.make_job()
        except Exception as exc:  # noqa: BLE001 — every failure becomes a notification, never a traceback
            self.fail(exc)
            return
        self.progress.max = 0  # min = max = 0: a busy bar until the first step
        self.job = job
        self._run_key, self._mask_key = self.run_key(), self.mask_key()
        self.preview = self.layer_with("napari_stdm_run", self._run_key)
        self._kept = None
        if self.preview is not None and "napari_stdm_result" in self.preview.metadata:
            # an identical finished run: draw into its layer, but give it back if this run is cancelled
            self._kept = (self.preview, self.preview.data, self.preview.name,
                          self.preview.metadata["napari_stdm_result"])
        self._latest, self._failed = None, False
        self.worker = thread_worker(iterate_job, start_thread=False, ignore_errors=True)(job)
        self.set_running(True)
        self.worker.yielded.connect(self.on_yielded)
        self.worker.errored.connect(self.fail)
        self.worker.finished.connect(self.on_finished)
        self.worker.start()

    def reset_status(self):
        """At Run: no old progress, metrics or curve may stand next to the new run."""
        self.progress.max, self.progress.value = 1, 0
        self.set_status("starting…")
        self.metrics_text.set("")
        self.plot.clear()

    def set_status(self, text: str):
        self.status_text.set(text)

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
            self.set_status("cancelling…")
            self.worker.quit()

    def on_yielded(self, event):
        if isinstance(event, Phase):
            self.set_status(f"{event.text}…")
            if event.image is not None:
                self.show_image(event.image)
        elif isinstance(event, MaskReady):
            self.show_mask(event.mask.astype(np.uint8))
            self.show_effective_accel(event.info["effective_accel"])
        elif isinstance(event, Step):
            it = event.iterate
            self._latest = it
            self.progress.max, self.progress.value = it.total, it.step
            self.set_status(event.text)
            if time.perf_counter() - self._last_preview >= PREVIEW_INTERVAL_S or it.step == it.total:
                self.show_iterate(it)

    def geometry(self) -> dict:
        """scale, axis labels, units and geometry metadata of the run's data, for every layer the run adds."""
        return layer_kwargs(self.job.data.meta, self.job.data.frames)

    def add_layer(self, image: np.ndarray, name: str, metadata: dict, **kwargs):
        geometry = self.geometry()
        geometry["metadata"].update(metadata)
        return self.viewer.add_image(image, name=self.unique_name(name), **geometry, **kwargs)

    def show_mask(self, mask: np.ndarray):
        layer = self.layer_with("napari_stdm_mask", self._mask_key)
        if layer is not None:
            layer.data = mask
            return
        job = self.job
        self.add_layer(mask, f"mask · {job.data_name} · {job.mask_text()}", {"napari_stdm_mask": self._mask_key},
                       colormap="gray", contrast_limits=(0, 1), visible=False)

    def show_image(self, image: np.ndarray):
        self._last_preview = time.perf_counter()
        magnitude = np.abs(image)
        if self.preview is None or self.preview not in self.viewer.layers:
            self.preview = self.add_layer(magnitude, self.job.name(), {"napari_stdm_run": self._run_key},
                                          contrast_limits=contrast(magnitude))
        else:
            self.preview.data = magnitude

    def show_iterate(self, it):
        self.show_image(it.image)
        self.plot.show_history(self.job.history)
        step_metrics = self.job.history[-1][2] if self.job.history else None
        if step_metrics is not None:
            self.metrics_text.set(f"step {it.step}/{it.total}: PSNR {step_metrics:.2f} dB")

    def on_finished(self):
        worker, self.worker = self.worker, None
        self.progress.max = max(self.progress.max, 1)  # no busy bar after the run
        self.set_running(False)
        release_freed_memory()
        job, latest, kept = self.job, self._latest, self._kept
        self._kept = None
        if worker is None or self._failed or latest is None:
            self.give_back(kept)
            if worker is not None and not self._failed:
                self.set_status("cancelled before the first step" if worker.abort_requested else "no result")
            self.update_result_actions()
            return
        status = f"cancelled at step {latest.step}/{latest.total}" if worker.abort_requested else FINISHED
        self.show_iterate(latest)
        if status != FINISHED and kept is not None:  # the identical finished result keeps its layer
            partial = self.preview.data
            self.give_back(kept)
            self.preview = self.add_layer(partial, job.name(), {"napari_stdm_run": self._run_key},
                                          contrast_limits=contrast(partial))
        layer = self.preview
        name = job.name() if status == FINISHED else f"{job.name()} · {status}"
        if layer.name != name:
            layer.name = self.unique_name(name, layer)
        self.result = RunOutcome(job, latest, status, layer)
        layer.metadata["napari_stdm_result"] = self.result_info()
        if status == FINISHED and "uncertainty" in latest.extras:
            uncertainty = latest.extras["uncertainty"]
            self.add_layer(uncertainty, f"uncertainty · {layer.name}", {}, colormap="magma",
                           contrast_limits=contrast(uncertainty))
        final = job.metrics(latest.image)
        if final:  # the short form fits the dock; the tooltip has everything
            self.metrics_text.set(f"PSNR {final['psnr']:.2f} dB · SSIM {final['ssim']:.3f}",
                                  f"PSNR {final['psnr']:.2f} dB  SSIM {final['ssim']:.3f}  NMSE {final['nmse']:.2e}"
                                  f"  (R_eff {job.mask_info['effective_accel']:.2f})")
        self.set_status(f"done: {layer.name}" if status == FINISHED else f"{status}; partial result kept: {layer.name}")
        self.update_result_actions()

    def give_back(self, kept):
        """A cancelled or failed rerun returns the identical finished result's layer as it was."""
        if kept is None:
            return
        layer, data, name, info = kept
        if layer in self.viewer.layers:
            layer.data, layer.name = data, name
            layer.metadata["napari_stdm_result"] = info

    def fail(self, exc):
        """Any error becomes a notification (full text) and the status line (elided, full text in its tooltip); a
        worker's `finished` follows and returns the widget to idle."""
        self._failed = True
        show_error(f"napari-stdm: {exc}")
        self.set_status(f"error: {exc}")

    def set_running(self, running: bool):
        self.run_button.enabled = not running
        self.cancel_button.enabled = running
        for w in (self.source, self.file, self.mask, self.accel_row, self.acs, self.seed, self.method, self.params):
            w.enabled = not running
        self.update_result_actions()

    def update_result_actions(self):
        """Difference, Export DICOM and Save h5 act on the last result: never while a run is in flight."""
        result = self.result if not self.running else None
        self.dicom_button.enabled = self.h5_button.enabled = result is not None
        self.difference_button.enabled = result is not None and result.job.reference is not None
        what = "a run is in flight" if self.running else "no result yet"
        target = f"acts on: {result.name}" if result is not None else f"disabled: {what}"
        for button in (self.difference_button, self.dicom_button, self.h5_button):
            button.tooltip = target

    def unique_name(self, base: str, layer=None) -> str:
        names = {other.name for other in self.viewer.layers if other is not layer}
        name, n = base, 2
        while name in names:
            name, n = f"{base} [{n}]", n + 1
        return name

    # ---- results --------------------------------------------------------------------------------------------
    def usable_result(self) -> RunOutcome | None:
        """The result an action may use, or None with a notification (a run in flight, or none yet)."""
        if self.running:
            show_info("napari-stdm: wait for the run to finish (or cancel it) before using its result.")
            return None
        if self.result is None:
            show_info("napari-stdm: run a reconstruction first.")
            return None
        return self.result

    def add_difference_layer(self, *_):
        result = self.usable_result()
        if result is None or result.job.reference is None:
            return None
        difference = np.abs(result.image) - np.abs(result.job.reference)
        peak = float(np.abs(difference).max()) or 1.0
        geometry = like(result.layer) if result.layer in self.viewer.layers else \
            layer_kwargs(result.job.data.meta, result.job.data.frames)
        return self.viewer.add_image(difference, name=self.unique_name(f"difference · {result.name}"),
                                     colormap="twilight_shifted", contrast_limits=(-peak, peak), **geometry)

    def ask_path(self, action, folder: bool):
        from qtpy.QtWidgets import QFileDialog

        if folder:
            path = QFileDialog.getExistingDirectory(self.native, "Empty folder for the DICOM series")
        else:
            path, _ = QFileDialog.getSaveFileName(self.native, "Save reconstruction", "", "HDF5 (*.h5)")
        if path:
            action(path)

    def result_info(self, result: RunOutcome | None = None) -> dict:
        result = result or self.result
        job = result.job
        return {"name": result.name, "status": result.status, "partial": result.partial,
                "method": job.method_name, "parameters": job.params, "mask": job.mask_info,
                "data": job.data_name, "metrics": job.metrics(result.image), "steps": result.step,
                "total_steps": result.last.total}

    def job_inputs(self, job: RunJob) -> list[str]:
        """Files an export must not overwrite: the k-space file and any model file the run read."""
        named = [v for v in job.params.values() if isinstance(v, str)]
        return [p for p in (job.input_path, *named) if p]

    def export_dicom(self, folder: str) -> list[Path]:
        from recon.io.dicom import export_cine

        result = self.usable_result()
        if result is None:
            return []
        job, mask = result.job, result.job.mask_info
        meta = job.data.meta  # the data's spacing, timing and placement
        method = job.method_name
        if result.partial:  # SeriesDescription, DerivationDescription and ImageComments say it is partial
            method = f"{method} {result.status}"
            meta = replace(meta, source=f"{meta.source}. PARTIAL RESULT: {result.status}")
        accel = f"R={mask['accel']:g} " if "accel" in mask else ""
        try:
            files = export_cine(result.image, meta, folder, method=method, parameters=job.params,
                                acceleration=f"{mask['kind']} {accel}R_eff={mask['effective_accel']:.1f}",
                                inputs=self.job_inputs(job))
        except Exception as exc:  # noqa: BLE001
            self.fail(exc)
            return []
        show_info(f"wrote {len(files)} DICOM files to {folder}")
        return files

    def save_h5(self, path: str) -> Path | None:
        from recon.io import write_result
        from recon.io.outputs import OutputPlan

        result = self.usable_result()
        if result is None:
            return None
        job = result.job
        try:
            OutputPlan.for_inputs(self.job_inputs(job)).file(path, "the file")
            measured = replace(job.measured, reference=job.reference)  # never change the job's own data
            out = write_result(path, measured, result.image, self.result_info(result),
                               result.extras.get("uncertainty") if not result.partial else None)
        except Exception as exc:  # noqa: BLE001
            self.fail(exc)
            return None
        show_info(f"saved {out}")
        return out
