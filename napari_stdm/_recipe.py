"""Recipes in the dock: a run's settings as recon.recipe JSON (Save recipe…), and a recipe back into the controls
(Load recipe…)."""

from __future__ import annotations

from pathlib import Path

from napari.utils.notifications import show_info

from recon import methods
from recon.errors import ReconError
from recon.io import LoadOptions
from recon.pipeline import MaskSpec
from recon.recipe import Recipe, make_recipe

from . import _dialogs
from ._job import FILE_SOURCE, LAYER_PREFIX, RunJob
from ._parameters import set_parameter

SAMPLE_INPUTS = {"synthetic sample": "sample", "real cine (simulated coils)": "real-sample"}  # control -> CLI name


def job_input(job: RunJob, sample: str | None = None) -> str:
    """What a recipe calls the job's data: a file's path, or the shipped sample's CLI name."""
    if job.source in SAMPLE_INPUTS:
        return SAMPLE_INPUTS[job.source]
    if job.input_path:
        return str(Path(job.input_path).resolve())
    if sample:
        return sample
    raise ValueError(f"the data {job.data_name!r} came from no file; a recipe needs a file or a shipped sample.")


def job_recipe(job: RunJob, sample: str | None = None) -> Recipe:
    method = methods.create(job.method_name, **job.params)
    return make_recipe(job_input(job, sample), method, MaskSpec(job.mask, job.accel, job.acs, job.seed),
                       job.load_options or LoadOptions())


def sample_control(input: str) -> str | None:
    """The data control's value for a shipped sample's CLI name."""
    return next((control for control, name in SAMPLE_INPUTS.items() if name == input), None)


class RecipeActions:
    """Mixed into the dock widget (napari_stdm._widget.ReconWidget), whose state these methods read: `result`,
    `viewer`, `native`, the controls, `make_job`, `source_layer`, `reads_file`, `on_file_changed`,
    `on_reading_changed`, `fail`, `set_status`."""

    def ask_save_recipe(self, *_):
        path = _dialogs.ask_save_path(self.native, "Save recipe", "Recipe (*.json)")
        if path:
            self.save_recipe(path)

    def ask_load_recipe(self, *_):
        path = _dialogs.ask_open_path(self.native, "Load recipe", "Recipe (*.json)")
        if path:
            self.load_recipe(path)

    def save_recipe(self, path: str) -> Path | None:
        """The last run's recipe (or, before any run, what Run would do) as JSON."""
        try:
            job = self.result.job if self.result is not None else self.make_job()
            layer = self.source_layer()
            sample = None if layer is None else layer.metadata.get("napari_stdm_sample")
            out = job_recipe(job, sample).save(path)
        except Exception as exc:  # noqa: BLE001
            self.fail(exc)
            return None
        show_info(f"saved recipe {out}")
        return out

    def load_recipe(self, path: str) -> bool:
        """Set every control from a recipe: data (a shipped sample, an opened layer of that file, or the file),
        load options, mask, method, parameters. Weights that changed since are reported."""
        from recon.recipe import read_recipe

        try:
            recipe = read_recipe(path)
            self.choose_input(recipe.input)
        except Exception as exc:  # noqa: BLE001
            self.fail(exc)
            return False
        if self.reads_file():
            with self.reading.changed.blocked():
                self.reading.set_options(recipe.load)
            self.on_reading_changed()  # an opened layer reads the recipe's slice
        mask = recipe.mask
        self.mask.value, self.accel.value, self.acs.value, self.seed.value = mask.kind, mask.accel, mask.acs, mask.seed
        self.method.value = recipe.method
        for widget in self.params:
            if widget.name in recipe.parameters:
                set_parameter(widget, recipe.parameters[widget.name])
        notes = recipe.weight_warnings()
        if mask.accel_eff is not None:
            notes.append(f"the recipe asks for R_eff {mask.accel_eff:g}; the dock sets R ({mask.accel:g}) only.")
        for note in notes:
            show_info(f"napari-stdm: recipe: {note}")
        self.set_status(f"recipe loaded: {Path(path).name}")
        return True

    def choose_input(self, input: str):
        control = sample_control(input)
        if control is not None:
            self.source.value = control
            return
        resolved = str(Path(input).resolve())
        layer = next((layer for layer in self.viewer.layers
                      if layer.metadata.get("napari_stdm_path") == resolved and "napari_stdm_data" in layer.metadata),
                     None)
        if layer is not None:
            self.source.value = LAYER_PREFIX + layer.name
            return
        if not Path(input).is_file():
            raise ReconError(f"the recipe's data {input} is not there; open the file, then load the recipe again.")
        self.source.value = FILE_SOURCE
        self.file.value = input
        self.on_file_changed()
