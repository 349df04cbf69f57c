"""The dock widget: data (and how to read it) → mask → method and its parameters → Run / Cancel / Sweep → live
layers, metrics, a table of runs, export, recipes.

Thin by design: controls become a RunJob (napari_stdm._job), the job runs in a napari thread_worker through
recon.pipeline (the CLI's path), and the typed events it yields (recon.events) become layers and status text on the
main thread. No reconstruction maths here, and no method-specific names: a method announces its own phases.

Every layer it adds carries the data's geometry (napari_stdm._geometry). Result actions (napari_stdm._results)
act on the last finished or cancelled run and are disabled while a run is in flight; a cancelled run's partial
result is kept and marked "cancelled at step k/N" in its layer name, metadata and exports.
"""

from __future__ import annotations

import json
import time
import weakref
from collections import deque
from dataclasses import fields, replace
from pathlib import Path

import numpy as np
from magicgui.widgets import (CheckBox, ComboBox, Container, FileEdit, FloatSpinBox, Label, LineEdit, ProgressBar,
                              PushButton, SpinBox)
from napari.qt.threading import thread_worker
from napari.utils.notifications import show_error

from recon import methods
from recon.errors import ReconError
from recon.masks import KINDS
from recon.pipeline import discard_text

from . import _dialogs
from ._after_run import AfterRun, later
from ._data_source import DataSource
from ._effective_accel import EffectiveAccel
from ._elide import ElidedText, keep_narrow
from ._garbage import collect_when_idle, freeze_startup_objects
from ._geometry import layer_kwargs
from ._job import (FILE_SOURCE, LAYER_PREFIX, SAMPLE_SOURCES, Cancelled, Failed, Finished, MaskReady, Phase,
                   Question, RunJob, Step)
from ._layers import MAP_KINDS, contrast
from ._load_options import LoadControls
from ._map_layers import MapLayers
from ._memory import release_freed_memory
from ._parameters import fit_labels, parameter_value, parameter_widget
from ._playback import Playback
from ._plot import ConvergencePlot
from ._recipe import RecipeActions
from ._results import ResultActions, RunOutcome
from ._sweep import RunTable, SweepActions
from ._warm_up import warm_up_tick_font

PREVIEW_INTERVAL_S = 0.1  # at most ~10 previews per second
SHOWN_AFTER_MS = 100  # a new preview layer is painted within this (napari paint 15-30 ms here)
WARM_UP_MS = 1000  # after the dock opens: the colour bars' font warm-up (napari_stdm._warm_up)
RELEASE_DELAY_MS = 100  # after a run: gc and malloc_trim in a turn of their own
FILE_FILTER = "*.h5 *.hdf5 *.mat *.npy *.npz"  # every k-space format the engine reads
MAPS_TOOLTIP = ("also write the run's maps (prior contribution; uncertainty with samples > 1) as their own DERIVED "
                "series in the cine's study, in folders beside it: FOLDER_prior_map, FOLDER_uncertainty")


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
        if widget is None:
            return
        widget.after_run.clear()  # no layer is added to a closing viewer
        worker = widget.worker
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


class ReconWidget(DataSource, EffectiveAccel, Playback, ResultActions, MapLayers, SweepActions, RecipeActions,
                  Container):
    def __init__(self, napari_viewer):
        super().__init__(labels=True)
        self.viewer = napari_viewer
        self.source = ComboBox(label="data", choices=self.source_choices,
                               tooltip="the k-space to reconstruct: a shipped sample, a file, or an opened layer")
        self.file = FileEdit(label="file", mode="r", filter=FILE_FILTER,
                             tooltip="a k-space file: native/fastMRI/ISMRMRD .h5, CMRxRecon .mat, .npy/.npz")
        self.reading = LoadControls()
        self.mask = ComboBox(label="mask", choices=[*KINDS, "file"], value="vista",
                             tooltip="retrospective undersampling pattern ('file': the file's own samples; the "
                                     "default for files that are already undersampled)")
        self.accel = FloatSpinBox(value=8.0, min=1.0, max=64.0, step=1.0,
                                  tooltip="acceleration R, counted outside the ACS block")
        self.accel_eff = Label(value="", tooltip="effective acceleration: all k-t locations / sampled ones, "
                                                 "ACS lines included")
        self.accel_row = Container(layout="horizontal", labels=False, label="R", widgets=[self.accel, self.accel_eff],
                                   tooltip="acceleration R (outside the ACS block) and the effective acceleration")
        self.accel_row.margins = (0, 0, 0, 0)
        self.acs = SpinBox(label="ACS lines", value=20, min=0, max=256, tooltip="fully sampled centre lines")
        self.seed = SpinBox(label="mask seed", value=0, min=0, max=2 ** 31 - 1, tooltip="random mask seed")
        self.method = ComboBox(label="method", choices=methods.names(), value="lps",
                               tooltip="reconstruction method; its parameters follow")
        self.params = Container(labels=True, tooltip="the method's parameters (hover each for its meaning)")
        self.run_button = PushButton(text="Run", tooltip="reconstruct with these settings; a new layer shows it live")
        self.cancel_button = PushButton(text="Cancel", enabled=False,
                                        tooltip="stop the run at its next step; the partial result is kept, marked")
        self.play = CheckBox(text="play the cine when done", value=True,
                             tooltip="when a run ends, show its result and play the time axis (the ▶ button of the "
                                     "time slider stops it)")
        self.sweep_text = LineEdit(value="10, 20, 40", tooltip="step (or iteration) counts for a sweep")
        self.sweep_button = PushButton(text="Sweep steps", tooltip="run once per count, in order: each a labelled "
                                                                   "layer and a row in the table below")
        self.sweep_row = Container(layout="horizontal", labels=False, label="sweep",
                                   widgets=[self.sweep_text, self.sweep_button],
                                   tooltip="run the method once per step count (same data, mask and coil maps)")
        self.sweep_row.margins = (0, 0, 0, 0)
        self.progress = ProgressBar(label="progress", value=0, max=1, tooltip="steps done of the run in flight")
        self.status = Label(label="status")
        self.metrics = Label(label="metrics")
        self.maps = Label(label="maps")
        self.plot = ConvergencePlot()
        self.plot.setToolTip("PSNR per step against the reference (when the data have one), else the DC residual")
        self.table = RunTable()
        self.difference_button = PushButton(text="Difference layer", enabled=False)
        self.dicom_button = PushButton(text="Export DICOM…", enabled=False)
        self.dicom_maps = CheckBox(text="with maps", value=False, tooltip=MAPS_TOOLTIP)
        self.dicom_row = Container(layout="horizontal", labels=False, label="DICOM",
                                   widgets=[self.dicom_button, self.dicom_maps],
                                   tooltip="the result as a DICOM cine series (and its maps, when ticked)")
        self.dicom_row.margins = (0, 0, 0, 0)
        self.h5_button = PushButton(text="Save h5…", enabled=False)
        self.save_recipe_button = PushButton(text="Save recipe…", tooltip="save the last run's recipe (data, load "
                                             "options, mask, method, parameters, seeds, weights and their SHA-256, "
                                             "version) as JSON; `stdm recon --recipe FILE` runs it too")
        self.load_recipe_button = PushButton(text="Load recipe…", tooltip="set every control from a saved recipe")
        self.recipe_row = Container(layout="horizontal", labels=False, label="recipe",
                                    widgets=[self.save_recipe_button, self.load_recipe_button],
                                    tooltip="a run's settings as JSON: save, or load back into the controls")
        self.recipe_row.margins = (0, 0, 0, 0)
        self.extend([self.source, self.file, self.reading, self.mask, self.accel_row, self.acs, self.seed,
                     self.method, self.params, self.run_button, self.cancel_button, self.play, self.sweep_row,
                     self.progress, self.status, self.metrics, self.maps])
        self.native.layout().addWidget(self.plot)
        self.native.layout().addWidget(self.table)
        self.extend([self.difference_button, self.dicom_row, self.h5_button, self.recipe_row])
        self.status_text = ElidedText(self.status, "idle", describe="what the dock is doing (full text here)")
        self.metrics_text = ElidedText(self.metrics, describe="PSNR / SSIM against the reference, when the data "
                                                              "have one")
        self.maps_text = ElidedText(self.maps, describe="the legend of the last run's maps (diffusion methods): "
                                                        "drawn over the cine, magma, additive")
        for combo in (self.source, self.mask, self.method):
            keep_narrow(combo)
        self.worker = None
        self.loader = None  # a worker reading another slice of an opened file
        self._failed = False
        self._run_key = self._mask_key = ""
        self.job: RunJob | None = None  # the run in flight, or the last one
        self.result: RunOutcome | None = None  # the last finished or cancelled run with an image
        self.preview = None
        self._kept = None  # (layer, data, name, metadata) of a finished result a rerun draws into until it ends
        self._last_preview = 0.0
        self._latest = None
        self._outcome = None  # the RunResult the worker's Finished / Cancelled carried
        self._question = None  # the mask information a Question carried
        self._sweep: deque = deque()  # counts still to run in a sweep
        self._sweep_parameter = None
        self._opened_path = None  # the FILE_SOURCE path whose slices the load controls show
        # (data key, mask key, data, prepared) of the last run: a run on the same data skips reading it, on the same
        # data and mask also estimating coil maps (ESPIRiT: seconds on 2 cores)
        self._reuse = None
        # mask, map layers, colour bars, playing; then garbage collection
        self.after_run = AfterRun(busy=lambda: self.running, idle=collect_when_idle)
        self.method.changed.connect(self.rebuild_parameters)
        self.source.changed.connect(self.on_source_changed)
        self.file.changed.connect(self.on_file_changed)
        self.reading.changed.connect(self.on_reading_changed)
        for control in (self.mask, self.accel, self.acs, self.seed):
            control.changed.connect(self.update_effective_accel)
        self.run_button.changed.connect(self.run)
        self.cancel_button.changed.connect(self.cancel)
        self.sweep_button.changed.connect(self.sweep)
        self.difference_button.changed.connect(self.add_difference_layer)
        self.dicom_button.changed.connect(self.ask_dicom)
        self.h5_button.changed.connect(self.ask_h5)
        self.save_recipe_button.changed.connect(self.ask_save_recipe)
        self.load_recipe_button.changed.connect(self.ask_load_recipe)
        self.viewer.layers.events.inserted.connect(self.on_layer_inserted)
        self.viewer.layers.events.removed.connect(self.on_layer_removed)
        self.native.destroyed.connect(stop_on_close(self))
        self.later(WARM_UP_MS, lambda: warm_up_tick_font(self.viewer))
        self.later(2 * WARM_UP_MS, freeze_startup_objects)
        self.rebuild_parameters()
        self.on_source_changed()
        self.update_result_actions()

    # ---- controls -------------------------------------------------------------------------------------------
    def source_choices(self, _widget=None) -> list[str]:
        layers = [LAYER_PREFIX + layer.name for layer in self.viewer.layers if "napari_stdm_data" in layer.metadata]
        return [*SAMPLE_SOURCES, FILE_SOURCE, *layers]

    def on_layer_inserted(self, event):
        layer = event.value
        if "napari_stdm_data" in layer.metadata:  # only data layers are choices (50 ms per reset on a busy GUI)
            self.source.reset_choices()
        if "napari_stdm_map" in layer.metadata:  # a reader cannot set this; a turn of its own (a colour bar is
            self.after_run.add("colour bar", lambda: self.show_colorbar(layer), next_=True)  # 50 ms + first paint)
            self.after_run.start()
        if "napari_stdm_data" in layer.metadata and not self.running:
            self.source.value = LAYER_PREFIX + layer.name  # a k-space file was opened: use it

    def show_colorbar(self, layer):
        if layer in self.viewer.layers:
            layer.colorbar.visible = True  # drawn only while the layer is visible

    @property
    def settled(self) -> bool:
        """No run in flight, and every layer a finished run adds after its end (mask, maps, colour bars) is there."""
        return self.worker is None and not self.after_run and not self._sweep

    def on_layer_removed(self, event):
        if "napari_stdm_data" in event.value.metadata:
            self.source.reset_choices()

    def rebuild_parameters(self, *_):
        self.params.clear()
        self.params.extend([parameter_widget(f) for f in fields(methods.get(self.method.value))])
        fit_labels(self.params)

    def parameter_values(self) -> dict:
        return {w.name: parameter_value(w) for w in self.params}

    @property
    def running(self) -> bool:
        return self.worker is not None

    # ---- running --------------------------------------------------------------------------------------------
    def make_job(self, **overrides) -> RunJob:
        data = self.layer_data()
        if self.source.value.startswith(LAYER_PREFIX) and data is None:
            raise ReconError(f"the layer {self.source.value[len(LAYER_PREFIX):]!r} is gone; choose the data again.")
        if self.source.value == FILE_SOURCE and not self.file.value.is_file():
            raise ReconError(f"choose a k-space file first ({self.file.value} is not a file).")
        options = self.load_options()
        layer = self.source_layer()
        if layer is not None and options is not None and layer.metadata.get("napari_stdm_load") != options:
            data = None  # other options than the layer was read with: the run reads the file again
        job = RunJob(self.source.value, self.method.value, self.parameter_values(), self.mask.value,
                     self.accel.value, self.acs.value, self.seed.value, self.input_path(), data, self.data_name(),
                     options)
        if self._reuse is not None and "data" not in overrides:
            data_key, mask_key = self.reuse_keys(data)
            if self._reuse[0] == data_key:  # the same data: not read again
                job = replace(job, data=self._reuse[2])
                if self._reuse[1] == mask_key:  # and the same mask: the same problem, coil maps included
                    job = replace(job, prepared=self._reuse[3])
        return replace(job, **overrides) if overrides else job

    def reuse_keys(self, data) -> tuple[str, str]:
        """(what makes two runs read the same data, ... and see the same prepared problem): the data (the layer's
        very object, or the file with its options and modification time, or the sample), then the mask."""
        path = self.input_path()
        stamp = Path(path).stat().st_mtime_ns if path and Path(path).is_file() else None
        options = self.load_options()
        data_key = json.dumps([self.source.value, path, stamp, options.kwargs() if options else None,
                               id(data) if data is not None else None])
        return data_key, self.mask_key()

    def keep_for_reuse(self, job: RunJob):
        if job is not None and job.data is not None:
            layer_data = self.layer_data()
            data_key, mask_key = self.reuse_keys(layer_data if layer_data is job.data else None)
            self._reuse = (data_key, mask_key if job.prepared is not None else None, job.data, job.prepared)

    def run(self, *_, **overrides):
        """Start a run with the controls' settings; `overrides` set RunJob fields (data already read, a prepared
        problem to reuse, allow_discard after the user agreed)."""
        if self.running:
            return
        self.after_run.flush(drop=("play",))  # the last run's layers, if their turn has not come yet (reset_status
        # hides its maps); its cine does not start playing
        self.reset_status()
        try:
            job = self.make_job(**overrides)
        except Exception as exc:  # noqa: BLE001 — every failure becomes a notification, never a traceback
            self.fail(exc)
            self._sweep.clear()
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
        self._latest, self._failed, self._outcome, self._question = None, False, None, None
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
        self.maps_text.set("")
        self.hide_maps()
        self.plot.clear()

    def set_status(self, text: str):
        self.status_text.set(text)

    def run_key(self) -> str:
        """Everything that determines a run's result: a run with the same key would give the same images."""
        return json.dumps({"mask": self.mask_key(), "method": self.method.value, "params": self.parameter_values()},
                          sort_keys=True, default=str)

    def mask_key(self) -> str:
        path = str(self.file.value) if self.source.value == FILE_SOURCE else None
        options = self.load_options()
        return json.dumps([self.source.value, path, options.kwargs() if options else None, self.mask.value,
                           self.accel.value, self.acs.value, self.seed.value])

    def layer_with(self, key: str, value: str):
        """The layer an earlier run with identical settings made, to be reused rather than duplicated."""
        return next((layer for layer in self.viewer.layers if layer.metadata.get(key) == value), None)

    def cancel(self, *_):
        """Stop the run at its next step (the job ends with its partial result) and the rest of a sweep."""
        self._sweep.clear()
        if self.worker is not None and self.job is not None:
            self.set_status("cancelling…")
            self.job.cancel()

    def on_yielded(self, event):
        if isinstance(event, Phase):
            self.set_status(f"{event.text}…")
            if event.image is not None:
                self.show_image(event.image)
                # the job waits for it (RunJob.wait_until_shown) until the new layer has also been painted
                self.later(SHOWN_AFTER_MS, self.job.preview_shown.set)
        elif isinstance(event, MaskReady):
            self.show_effective_accel(event.info["effective_accel"])
            # a new layer costs the GUI thread 0.1-0.4 s: the (hidden) mask layer is added when the run ends, in its
            # own turn of the event loop, not while the preview layer is made and updated
            job, key, mask = self.job, self._mask_key, event.mask
            self.after_run.add("mask", lambda: self.show_mask(mask.astype(np.uint8), job, key))
        elif isinstance(event, Step):
            it = event.iterate
            self._latest = it
            self.progress.max, self.progress.value = it.total, it.step
            self.set_status(event.text)
            if time.perf_counter() - self._last_preview >= PREVIEW_INTERVAL_S or it.step == it.total:
                self.show_iterate(it)
        elif isinstance(event, (Finished, Cancelled)):
            self._outcome = event.result
        elif isinstance(event, Failed):
            self.fail(event.error)
        elif isinstance(event, Question):
            self._question = event.info

    def geometry(self) -> dict:
        """scale, axis labels, units and geometry metadata of the run's data, for every layer the run adds."""
        return layer_kwargs(self.job.data.meta, self.job.data.frames)

    def add_layer(self, image: np.ndarray, name: str, metadata: dict, **kwargs):
        geometry = self.geometry()
        geometry["metadata"].update(metadata)
        return self.viewer.add_image(image, name=self.unique_name(name), **geometry, **kwargs)

    later = staticmethod(later)

    def show_mask(self, mask: np.ndarray, job: RunJob | None = None, key: str | None = None):
        job, key = job or self.job, key or self._mask_key
        layer = self.layer_with("napari_stdm_mask", key)
        if layer is not None:
            layer.data = mask
            return
        geometry = layer_kwargs(job.data.meta, job.data.frames)
        geometry["metadata"]["napari_stdm_mask"] = key
        selected = set(self.viewer.layers.selection), self.viewer.layers.selection.active
        layer = self.viewer.add_image(mask, name=self.unique_name(f"mask · {job.data_name} · {job.mask_text()}"),
                                      colormap="gray", contrast_limits=(0, 1), visible=False, **geometry)
        layer.events.visible.connect(lambda _event: self.raise_when_shown(layer))
        if selected[1] is not None:  # the hidden mask does not take the selection from the result
            self.viewer.layers.selection = selected[0]
            self.viewer.layers.selection.active = selected[1]

    def raise_when_shown(self, layer):
        """A mask ticked visible comes on top: the results added after it would cover it."""
        layers = self.viewer.layers
        if layer.visible and layer in layers and layers.index(layer) < len(layers) - 1:
            layers.move(layers.index(layer), len(layers))

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
        job = self.job
        step_metrics = job.history[-1][2] if job.history else None
        if step_metrics is not None:
            self.metrics_text.set(f"step {it.step}/{it.total}: PSNR {step_metrics:.2f} dB")
        self.later(0, lambda: self.show_history_of(job))  # its own turn: not with the layer's repaint

    def show_history_of(self, job: RunJob):
        if job is self.job:  # a newer run has its own plot
            self.plot.show_history(job.history)

    def on_finished(self):
        worker, self.worker = self.worker, None
        self.progress.max = max(self.progress.max, 1)  # no busy bar after the run
        self.set_running(False)
        # the work after a run in separate turns of the event loop, so the GUI answers in between: the
        # young-generation gc + malloc_trim, the mask layer, the map layers and their colour bars, then playing
        self.later(RELEASE_DELAY_MS, release_freed_memory)
        job, outcome, kept, question = self.job, self._outcome, self._kept, self._question
        if outcome is not None and not outcome.partial and any(k in outcome.extras for k in MAP_KINDS):
            key = self._run_key
            self.after_run.add("maps", lambda: self.show_maps(outcome, key))
        self.after_run.start()
        self._kept = self._outcome = self._question = None
        self.keep_for_reuse(job)
        if question is not None and not self._failed:
            self.give_back(kept)
            self.answer(question, job)
            self.update_result_actions()
            return
        if worker is None or self._failed or outcome is None:
            self.give_back(kept)
            if worker is not None and not self._failed:
                cancelled = job is not None and job.cancel_requested.is_set()
                self.set_status("cancelled before the first step" if cancelled else "no result")
            self._sweep.clear()
            self.update_result_actions()
            return
        self.hide_maps()
        self.show_image(outcome.image)
        self.plot.show_history(job.history, final=True)
        if outcome.partial and kept is not None:  # the identical finished result keeps its layer
            partial = self.preview.data
            self.give_back(kept)
            self.preview = self.add_layer(partial, job.name(), {"napari_stdm_run": self._run_key},
                                          contrast_limits=contrast(partial))
        layer = self.preview
        if not outcome.partial:  # the window was set on the first preview (a radial gridding is dimmer than the result)
            layer.contrast_limits = contrast(np.abs(outcome.image))
        name = job.name() if not outcome.partial else f"{job.name()} · {outcome.status}"
        if layer.name != name:
            layer.name = self.unique_name(name, layer)
        self.result = RunOutcome(job, outcome, layer)
        layer.metadata["napari_stdm_result"] = self.result_info()
        final = outcome.metrics
        if final:  # the short form fits the dock; the tooltip has everything
            self.metrics_text.set(f"PSNR {final['psnr']:.2f} dB · SSIM {final['ssim']:.3f}",
                                  f"PSNR {final['psnr']:.2f} dB  SSIM {final['ssim']:.3f}  NMSE {final['nmse']:.2e}"
                                  f"  (R_eff {job.mask_info['effective_accel']:.2f})")
        self.add_table_row(self.result)
        self.set_status(f"done: {layer.name}" if not outcome.partial else
                        f"{outcome.status}; partial result kept: {layer.name}")
        self.update_result_actions()
        if self._sweep and not outcome.partial:
            prepared = job.prepared  # same data, mask and coil maps: the next count reuses them
            self.later(0, lambda: self.run_next_count(prepared, job.data))
        else:
            self._sweep.clear()
            self.after_run.add("play", self.play_when_shown)  # after the mask and map layers (a new layer stops
            # playing)

    def answer(self, info: dict, job: RunJob):
        """A retrospective mask would leave out measured samples of an undersampled file: ask, then act."""
        text = (f"{discard_text(info)} (effective acceleration {info['effective_accel']:.1f} instead of the "
                f"file's own). Apply the {info['kind']} mask anyway, use the file's own samples, or don't run?")
        choice = _dialogs.ask_discard(self.native, text)
        if choice == _dialogs.DISCARD:
            self.run(data=job.data, allow_discard=True)
        elif choice == _dialogs.USE_FILE_MASK:
            self.mask.value = "file"
            self.run(data=job.data)
        else:
            self._sweep.clear()
            self.set_status(f"not run: {discard_text(info)}")

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
        self.run_button.enabled = self.sweep_button.enabled = not running
        self.cancel_button.enabled = running
        if running:
            self.stop_playing()
        for w in (self.source, self.file, self.reading, self.mask, self.accel_row, self.acs, self.seed, self.method,
                  self.params, self.sweep_text, self.recipe_row):
            w.enabled = not running
        if not running:
            self.enable_mask_controls()
        self.update_result_actions()

    def update_result_actions(self):
        """Difference, Export DICOM and Save h5 act on the last result: never while a run is in flight."""
        result = self.result if not self.running else None
        self.dicom_button.enabled = self.h5_button.enabled = result is not None
        has_maps = result is not None and not result.partial and any(k in result.extras for k in MAP_KINDS)
        self.dicom_maps.enabled = has_maps
        self.dicom_maps.tooltip = MAPS_TOOLTIP if has_maps else \
            f"{MAPS_TOOLTIP} (disabled: the last result has none; the diffusion methods give them)"
        self.difference_button.enabled = result is not None and result.job.reference is not None
        what = "a run is in flight" if self.running else "no result yet"
        target = f"acts on: {result.name}" if result is not None else f"disabled: {what}"
        for button, does in ((self.difference_button, "|result| - |reference| as a layer"),
                             (self.dicom_button, "write the result as a DICOM cine series into an empty folder"),
                             (self.h5_button, "save the result, its data, mask and convergence history as .h5")):
            button.tooltip = f"{does}; {target}"

    def unique_name(self, base: str, layer=None) -> str:
        names = {other.name for other in self.viewer.layers if other is not layer}
        name, n = base, 2
        while name in names:
            name, n = f"{base} [{n}]", n + 1
        return name

