"""What one Run does, without Qt: pick the data, undersample, build the problem, drive the method.

The widget runs `RunJob.iterate()` in a worker thread and only turns what it yields into layers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from recon import methods
from recon.data import CineData
from recon.io import load
from recon.metrics import all_metrics, psnr
from recon.pipeline import problem_for, undersample
from recon.samples import real_cine, sample_cine

SAMPLE_SOURCES = {"synthetic sample": sample_cine, "real cine (simulated coils)": real_cine}


def load_source(source: str, path: str | None = None, layer_data: CineData | None = None) -> CineData:
    if source in SAMPLE_SOURCES:
        return SAMPLE_SOURCES[source]()
    if layer_data is not None:
        return layer_data
    if not path:
        raise FileNotFoundError("choose a k-space file first")
    return load(path)


@dataclass
class RunJob:
    data: CineData
    method_name: str
    params: dict
    mask: str = "vista"
    accel: float = 8.0
    acs: int = 20
    seed: int = 0
    input_path: str | None = None  # the file the data came from: no export may overwrite it
    # filled in while running
    mask_info: dict = field(default_factory=dict)
    mask_array: np.ndarray | None = None
    measured: CineData | None = None  # the undersampled data the method saw
    reference: np.ndarray | None = None
    history: list = field(default_factory=list)  # (step, residual, psnr or None)

    @property
    def title(self) -> str:
        return f"{self.method_name} {self.mask} R={self.accel:g}"

    def iterate(self):
        """Yields ("mask", array) once, then every Iterate. Closing it stops the method at its next step."""
        method = methods.create(self.method_name, **self.params)
        measured, self.mask_info = undersample(self.data, self.mask, self.accel, self.acs, self.seed)
        self.reference, measured.reference = measured.reference, None
        self.measured = measured
        problem = problem_for(measured)
        self.mask_array = problem.mask.numpy()
        yield "mask", self.mask_array
        for it in method.iterate(problem):
            if "finetune" in it.extras:  # progress of GLDM's scan-specific training, not an estimate
                yield "iterate", it
                continue
            quality = psnr(it.image, self.reference) if self.reference is not None else None
            self.history.append((it.step, it.extras.get("residual"), quality))
            yield "iterate", it

    def metrics(self, image: np.ndarray) -> dict | None:
        return all_metrics(image, self.reference) if self.reference is not None else None
