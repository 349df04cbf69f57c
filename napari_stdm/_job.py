"""What one Run does, without Qt: load the data, prepare the problem and drive the method — all through
recon.pipeline, the same path the CLI and the benchmarks take.

The widget runs `RunJob.iterate()` in a worker thread and only turns the typed events it yields (recon.events:
Phase, MaskReady, Step, Finished, Cancelled, Failed; and Question here) into layers and status text on the main
thread. The job never changes the data it was given.
"""

from __future__ import annotations

import threading
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path

import numpy as np

from recon import methods
from recon.data import CineData
from recon.events import Cancelled, Failed, Finished, MaskReady, Phase, Step  # noqa: F401  (re-exported)
from recon.io import LoadOptions, load
from recon.masks import DEFAULT_ACS
from recon.pipeline import DiscardRefused, MaskSpec, Prepared, preparing, preview, run
from recon.samples import real_cine, sample_cine

FILE_SOURCE = "k-space file"  # the data control's value for a file chosen in the dock
LAYER_PREFIX = "layer: "  # ... and the prefix of an opened k-space layer's name
SAMPLE_SOURCES = {"synthetic sample": sample_cine, "real cine (simulated coils)": real_cine}
SAMPLE_NAMES = {"synthetic sample": "sample", "real cine (simulated coils)": "real cine"}
SAMPLE_SHAPES = {"synthetic sample": (12, 128, 128), "real cine (simulated coils)": (25, 156, 192)}  # frames, y, x
COUNT_PARAMETERS = ("steps", "iterations")  # shown first in a layer name: "40 steps"
UNNAMED_PARAMETERS = ("preview_every",)  # do not change the result
PREVIEW_WAIT_S = 0.5  # at most, for the widget to show a preview image (RunJob.wait_until_shown)


def load_source(source: str, path: str | None = None, options: LoadOptions | None = None) -> CineData:
    if source in SAMPLE_SOURCES:
        return SAMPLE_SOURCES[source]()
    if not path:
        raise FileNotFoundError("choose a k-space file first")
    return load(path, options)


@dataclass(frozen=True)
class Question:
    """The run stopped before the coil maps: the chosen retrospective mask would leave out samples the
    (prospectively undersampled) file measured. The widget asks, then runs again or not."""

    info: dict  # the mask information, with `discarded` (share of measured samples left out)


def number_text(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str) and ("/" in value or value.endswith((".safetensors", ".pt", ".pth"))):
        return Path(value).stem  # a model file: its name, not its folder
    return str(value)


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
    load_options: LoadOptions | None = None  # how a file is read (slice, axes, ...)
    allow_discard: bool = False  # apply a retrospective mask to an undersampled file without asking
    prepared: Prepared | None = None  # given (a sweep reuses the problem of its first run) or made by the run
    # filled in while running
    mask_info: dict = field(default_factory=dict)
    mask_array: np.ndarray | None = None
    measured: CineData | None = None  # the undersampled data the method saw (no reference)
    reference: np.ndarray | None = None
    history: list = field(default_factory=list)  # (step, residual, psnr or None)
    outcome: object | None = None  # the RunResult of Finished / Cancelled
    params_used: dict | None = None  # the parameters as the method ran them ('auto' resolved by the data)
    cancel_requested: threading.Event = field(default_factory=threading.Event, repr=False)
    preview_shown: threading.Event = field(default_factory=threading.Event, repr=False)  # set by the widget

    # ---- names -------------------------------------------------------------------------------------------
    @property
    def ran_params(self) -> dict:
        """The parameters as the method ran them, once it has started; the ones asked for before."""
        return self.params_used or self.params

    def mask_text(self) -> str:
        effective = self.mask_info.get("effective_accel")
        kind = "file mask" if self.mask == "file" else self.mask
        text = f"{kind} R_eff {effective:.1f}" if effective else f"{kind} R {self.accel:g}"
        if self.mask != "file":
            text += f" ACS {self.acs}" if self.acs != DEFAULT_ACS else ""
            text += f" seed {self.seed}" if self.seed else ""
        return text

    def parameter_texts(self) -> list[str]:
        """The iteration count first ("40 steps"), then every parameter that differs from its default; as the
        method ran them once it has started (radial dSTDM: "40 steps · combine average")."""
        params = self.ran_params
        counts = [f"{params.get(f.name, f.default)} {f.name}" for f in fields(methods.get(self.method_name))
                  if f.name in COUNT_PARAMETERS]
        return counts + self.changed_parameter_texts()

    def changed_parameter_texts(self) -> list[str]:
        """Every parameter other than the iteration count that differs from its default ("combine average")."""
        params = self.ran_params
        texts = []
        for f in fields(methods.get(self.method_name)):
            value = params.get(f.name, f.default)
            if f.name not in (*COUNT_PARAMETERS, *UNNAMED_PARAMETERS) and (f.default is MISSING or value != f.default):
                texts.append(f"{f.name.replace('_', ' ')} {number_text(value)}")
        return texts

    def name(self) -> str:
        """method · data · mask and effective acceleration · key parameters, e.g.
        `dstdm · sample · vista R_eff 8.0 · 80 steps`: the method first, as napari's layer list cuts long names in
        the middle and runs on the same data differ by method."""
        return " · ".join([self.method_name, self.data_name, self.mask_text(), *self.parameter_texts()])

    @property
    def title(self) -> str:
        return self.name()

    # ---- running -----------------------------------------------------------------------------------------
    def mask_spec(self) -> MaskSpec:
        return MaskSpec(self.mask, self.accel, self.acs, self.seed)

    def cancel(self) -> None:
        """Stop at the method's next step (or before it starts); the run ends with Cancelled and its partial
        result."""
        self.cancel_requested.set()

    def wait_until_shown(self, event) -> None:
        """After a preview image, wait (at most PREVIEW_WAIT_S) until the widget has put it in its layer: the GUI
        then makes that new layer while this thread is idle, not while the coil maps keep both cores busy (alongside
        them it held the GUI thread 80-180 ms, the largest stalls of a dSTDM run; benchmarks/widget_timing.py)."""
        if isinstance(event, Phase) and event.image is not None:
            self.preview_shown.wait(PREVIEW_WAIT_S)
            self.preview_shown.clear()

    def iterate(self):
        """Yields Phase, MaskReady once, then the driver's events (Phase, Step ..., Finished | Cancelled | Failed);
        or Question (and nothing more) when a mask would discard measured samples and that was not allowed.
        Closing it stops the method at its next step."""
        method = methods.create(self.method_name, **self.params)  # parameters are checked before anything loads
        if self.data is None:
            yield Phase("loading data")
            self.data = load_source(self.source, self.input_path, self.load_options)
        if self.prepared is None:
            steps = preparing(self.data, self.mask_spec(), load_options=self.load_options,
                              allow_discard=self.allow_discard)
            try:
                while True:
                    event = next(steps)
                    if isinstance(event, MaskReady):
                        self.mask_info, self.mask_array = dict(event.info), event.mask
                    yield event
                    self.wait_until_shown(event)
                    if self.cancel_requested.is_set():
                        yield Cancelled(None)
                        return
            except StopIteration as done:
                self.prepared = done.value
            except DiscardRefused as refused:
                yield Question(refused.info)
                return
        else:
            self.mask_info, self.mask_array = dict(self.prepared.info.mask), self.prepared.info.mask_array
            yield MaskReady(self.mask_array, dict(self.mask_info))
            # the measured data at once (as a fresh run shows them during its coil maps)
            shown = Phase("coil maps of the last run", preview(self.prepared.info.measured))
            yield shown
            self.wait_until_shown(shown)
        self.reference, self.measured = self.prepared.reference, self.prepared.info.measured
        self.params_used = method.for_problem(self.prepared.problem).parameters()
        if self.cancel_requested.is_set():
            yield Cancelled(None)
            return
        for event in run(self.prepared, method, cancelled=self.cancel_requested.is_set):
            if isinstance(event, Step):
                self.history.append((event.iterate.step, event.iterate.extras.get("residual"), event.psnr))
            elif isinstance(event, (Finished, Cancelled)):
                self.outcome = event.result
            yield event
