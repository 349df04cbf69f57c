"""What one Run does, without Qt: load the data, undersample, build the problem, drive the method.

The widget runs `RunJob.iterate()` in a worker thread and only turns the typed events it yields (Phase, MaskReady,
Step) into layers and status text on the main thread. The job never changes the data it was given.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path

import numpy as np

from recon import methods
from recon.data import CineData
from recon.io import load
from recon.methods import Iterate
from recon.metrics import all_metrics, psnr
from recon.pipeline import problem_for, undersample
from recon.samples import real_cine, sample_cine

SAMPLE_SOURCES = {"synthetic sample": sample_cine, "real cine (simulated coils)": real_cine}
SAMPLE_NAMES = {"synthetic sample": "sample", "real cine (simulated coils)": "real cine"}
SAMPLE_SHAPES = {"synthetic sample": (12, 128, 128), "real cine (simulated coils)": (25, 156, 192)}  # frames, y, x
COUNT_PARAMETERS = ("steps", "iterations")  # shown first in a layer name: "40 steps"
UNNAMED_PARAMETERS = ("preview_every",)  # do not change the result
DEFAULT_ACS = 20


def load_source(source: str, path: str | None = None, layer_data: CineData | None = None) -> CineData:
    if source in SAMPLE_SOURCES:
        return SAMPLE_SOURCES[source]()
    if layer_data is not None:
        return layer_data
    if not path:
        raise FileNotFoundError("choose a k-space file first")
    return load(path)


# ---- what the job yields ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Phase:
    """The run is in a phase without steps: "loading data", "coil maps", "loading model", "fine-tuning …"."""

    text: str
    image: np.ndarray | None = None  # an estimate to show meanwhile (e.g. the start image while fine-tuning)


@dataclass(frozen=True)
class MaskReady:
    mask: np.ndarray  # (frames, ky, kx) bool
    info: dict  # kind, accel, acs, seed, effective_accel


@dataclass(frozen=True)
class Step:
    iterate: Iterate
    verb: str  # "sampling step" for diffusion priors, "iteration" for the others

    @property
    def text(self) -> str:
        return f"{self.verb} {self.iterate.step}/{self.iterate.total}"


def number_text(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str) and ("/" in value or value.endswith((".safetensors", ".pt", ".pth"))):
        return Path(value).stem  # a model file: its name, not its folder
    return str(value)


def uses_model(method_name: str) -> bool:
    """Whether the method reads a trained model (a parameter names one): its set-up says "loading model"."""
    return any("model" in f.name for f in fields(methods.get(method_name)))


@dataclass
class RunJob:
    source: str  # a SAMPLE_SOURCES key, a file, or a layer
    method_name: str
    params: dict
    mask: str = "vista"
    accel: float = 8.0
    acs: int = DEFAULT_ACS
    seed: int = 0
    input_path: str | None = None  # the file the data came from: no export may overwrite it
    data: CineData | None = None  # given (an opened layer's data) or loaded by the run
    data_name: str = "data"
    # filled in while running
    mask_info: dict = field(default_factory=dict)
    mask_array: np.ndarray | None = None
    measured: CineData | None = None  # the undersampled data the method saw (no reference)
    reference: np.ndarray | None = None
    history: list = field(default_factory=list)  # (step, residual, psnr or None)

    # ---- names -------------------------------------------------------------------------------------------
    def mask_text(self) -> str:
        effective = self.mask_info.get("effective_accel")
        kind = "file mask" if self.mask == "file" else self.mask
        text = f"{kind} R_eff {effective:.1f}" if effective else f"{kind} R {self.accel:g}"
        if self.mask != "file":
            text += f" ACS {self.acs}" if self.acs != DEFAULT_ACS else ""
            text += f" seed {self.seed}" if self.seed else ""
        return text

    def parameter_texts(self) -> list[str]:
        """The iteration count first ("40 steps"), then every parameter that differs from its default."""
        counts, others = [], []
        for f in fields(methods.get(self.method_name)):
            value = self.params.get(f.name, f.default)
            if f.name in COUNT_PARAMETERS:
                counts.append(f"{value} {f.name}")
            elif f.name not in UNNAMED_PARAMETERS and (f.default is MISSING or value != f.default):
                others.append(f"{f.name.replace('_', ' ')} {number_text(value)}")
        return counts + others

    def name(self) -> str:
        """data · method · mask and effective acceleration · key parameters, e.g.
        `sample · dstdm · vista R_eff 8.0 · 40 steps`."""
        return " · ".join([self.data_name, self.method_name, self.mask_text(), *self.parameter_texts()])

    @property
    def title(self) -> str:
        return self.name()

    # ---- running -----------------------------------------------------------------------------------------
    def iterate(self):
        """Yields Phase, MaskReady once, then a Step per iterate. Closing it stops the method at its next step."""
        method = methods.create(self.method_name, **self.params)  # parameters are checked before anything loads
        if self.data is None:
            yield Phase("loading data")
            self.data = load_source(self.source, self.input_path)
        measured, self.mask_info = undersample(self.data, self.mask, self.accel, self.acs, self.seed)
        # `undersample` may return the caller's own object (mask "file"): copy, never strip the stored data
        self.reference = measured.reference
        self.measured = measured = replace(measured, reference=None)
        self.mask_array = np.asarray(measured.mask)
        yield MaskReady(self.mask_array, dict(self.mask_info))
        yield Phase("coil maps")
        problem = problem_for(measured)
        model = uses_model(self.method_name)
        yield Phase("loading model" if model else f"running {self.method_name}")
        verb = "sampling step" if model else "iteration"
        for it in method.iterate(problem):
            if "finetune" in it.extras:  # progress of a scan-specific training (GLDM), not an estimate yet
                yield Phase(f"fine-tuning {it.extras['finetune']}", it.image)
                continue
            quality = psnr(it.image, self.reference) if self.reference is not None else None
            self.history.append((it.step, it.extras.get("residual"), quality))
            yield Step(it, verb)

    def metrics(self, image: np.ndarray) -> dict | None:
        return all_metrics(image, self.reference) if self.reference is not None else None
