"""The steps every front end shares: undersample, build the problem, drive a method, score it.

The CLI, the benchmarks and the napari widget all go through here, so they treat data the same way.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .data import CineData
from .errors import DataError, MaskError, MethodError
from .masks import accel_for_effective, make_mask
from .methods import Iterate, Method
from .metrics import all_metrics
from .problem import Problem, make_problem

SENS_SOURCES = ("espirit", "file")


def undersample(data: CineData, kind: str = "vista", accel: float = 8, acs: int = 20,
                seed: int = 0, accel_eff: float | None = None) -> tuple[CineData, dict]:
    """Apply a retrospective mask (`kind`), or keep the file's own mask (`kind="file"`). With `accel_eff`, R is
    chosen to give that effective acceleration (all k-t locations / sampled ones) and `accel` is ignored."""
    if kind == "file":
        if data.mask is None:
            raise MaskError("--mask file was asked for, but the file holds no mask; pick a mask kind such as vista.")
        info = {"kind": "file", "effective_accel": float(data.mask.size / data.mask.sum())}
        return data, info
    if accel_eff is not None:
        accel = accel_for_effective(kind, data.image_shape[0], accel_eff, acs)
    mask = make_mask(kind, (data.frames, *data.image_shape), accel, acs, seed)
    array = mask.array if data.mask is None else mask.array & data.mask
    info = {"kind": kind, "accel": accel, "acs": mask.acs, "seed": seed,
            "effective_accel": float(array.size / max(array.sum(), 1))}
    return data.with_mask(array), info


def problem_for(data: CineData, sens: str = "espirit") -> Problem:
    if sens not in SENS_SOURCES:
        raise DataError(f"coil maps source '{sens}' unknown; choose one of {', '.join(SENS_SOURCES)}.")
    if sens == "file" and data.sens is None:
        raise DataError("the file holds no coil maps ('sens'); use --sens espirit to estimate them.")
    return make_problem(data, data.sens if sens == "file" else None)


@dataclass
class RunResult:
    image: np.ndarray
    extras: dict
    steps: int
    seconds: float
    metrics: dict | None = None  # against the reference, computed after the run
    history: list = field(default_factory=list)  # (step, residual) per iterate


def check_finite(image: np.ndarray, method: str) -> None:
    bad = int(np.size(image) - np.isfinite(image).sum())
    if bad:
        raise MethodError(f"{method} produced {bad} NaN or Inf pixels (diverged, or a model with bad weights); the "
                          "result is refused and nothing was written. Lower the step size / lambda or check the "
                          "model file.")


def reconstruct(problem: Problem, method: Method, reference: np.ndarray | None = None,
                on_iterate: Callable[[Iterate], None] | None = None) -> RunResult:
    """Drive `method` to the end. The reference is only used to score the final image, never given to the method."""
    start = time.perf_counter()
    last, history = None, []
    for last in method.iterate(problem):
        history.append((last.step, last.extras.get("residual")))
        if on_iterate is not None:
            on_iterate(last)
    seconds = time.perf_counter() - start
    if last is None:
        raise MethodError(f"{type(method).__name__} produced no image; nothing was written.")
    check_finite(last.image, type(method).__name__)
    metrics = all_metrics(last.image, reference) if reference is not None else None
    return RunResult(last.image, last.extras, last.step, seconds, metrics, history)
