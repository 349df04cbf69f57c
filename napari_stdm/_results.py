"""The dock's result actions: a difference layer, DICOM export (with the maps as their own series), h5. They act on
the last finished or cancelled run (RunOutcome) and refuse while a run is in flight; a partial result says so in
its exports."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from napari.utils.notifications import show_info

from . import _dialogs
from ._geometry import layer_kwargs, like
from ._job import RunJob
from ._layers import MAP_KINDS

FINISHED = "finished"


@dataclass
class RunOutcome:
    """A finished or cancelled run: what the result actions act on."""

    job: RunJob
    run: object  # the recon.pipeline.RunResult
    layer: object  # the napari layer that shows it

    @property
    def image(self) -> np.ndarray:
        return self.run.image

    @property
    def step(self) -> int:
        return self.run.steps

    @property
    def total(self) -> int:
        return self.run.total

    @property
    def extras(self) -> dict:
        return self.run.extras

    @property
    def status(self) -> str:
        return self.run.status

    @property
    def partial(self) -> bool:
        return self.run.status != FINISHED

    @property
    def name(self) -> str:
        return self.layer.name


class ResultActions:
    """Mixed into the dock widget (napari_stdm._widget.ReconWidget), whose state these methods read: `result`,
    `running`, `viewer`, `native`, `dicom_maps`, `fail`, `unique_name`."""

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

    def ask_dicom(self, *_):
        path = _dialogs.ask_folder(self.native, "Empty folder for the DICOM series")
        if path:
            self.export_dicom(path)

    def ask_h5(self, *_):
        path = _dialogs.ask_save_path(self.native, "Save reconstruction", "HDF5 (*.h5)")
        if path:
            self.save_h5(path)

    def result_info(self, result: RunOutcome | None = None) -> dict:
        result = result or self.result
        job = result.job
        options = job.load_options.changed() if job.load_options else {}
        return {"name": result.name, "status": result.status, "partial": result.partial,
                "method": job.method_name, "parameters": job.params, "mask": job.mask_info,
                "data": job.data_name, "load": options, "metrics": result.run.metrics, "steps": result.step,
                "total_steps": result.total, "seconds": result.run.seconds}

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
        maps = self.maps_to_export(result)
        try:
            files = export_cine(result.image, meta, folder, method=method, parameters=job.params,
                                acceleration=f"{mask['kind']} {accel}R_eff={mask['effective_accel']:.1f}",
                                inputs=self.job_inputs(job), maps=maps)
        except Exception as exc:  # noqa: BLE001
            self.fail(exc)
            return []
        with_maps = f" and the {', '.join(k.replace('_', ' ') for k in maps)} series beside it" if maps else ""
        show_info(f"wrote {len(files)} DICOM files to {folder}{with_maps}")
        return files

    def maps_to_export(self, result: RunOutcome) -> dict:
        """The result's maps when 'with maps' is ticked (a partial result has none: they belong to the final image)."""
        if not self.dicom_maps.value:
            return {}
        maps = {} if result.partial else {k: result.extras[k] for k in MAP_KINDS if k in result.extras}
        if not maps:
            why = "a cancelled run has none" if result.partial else f"{result.job.method_name} gives none"
            show_info(f"napari-stdm: no maps to export ({why}); the cine series alone is written.")
        return maps

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
            maps = {} if result.partial else result.extras
            out = write_result(path, measured, result.image, self.result_info(result), maps.get("uncertainty"),
                               maps.get("prior_map"), history=result.run.history)
        except Exception as exc:  # noqa: BLE001
            self.fail(exc)
            return None
        show_info(f"saved {out}")
        return out
