"""Recipes in the dock: a run's settings as recon.recipe JSON, and a recipe back into the controls."""

from __future__ import annotations

from pathlib import Path

from recon import methods
from recon.io import LoadOptions
from recon.pipeline import MaskSpec
from recon.recipe import Recipe, make_recipe

from ._job import RunJob

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

