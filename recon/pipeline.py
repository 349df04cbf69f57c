"""One way from data to a result, shared by the CLI, the napari widget and the benchmarks:

    data = recon.io.load(path, LoadOptions(slice=3))
    prepared = prepare(data, MaskSpec("vista", accel=8))          # (Problem, reference, RunInfo); `data` unchanged
    for event in run(prepared, methods.create("dstdm")):         # Phase, Step ..., then Finished | Cancelled | Failed
        ...

`prepare` undersamples (or keeps the file's own samples), takes the reference out of what the method will see and
estimates coil maps; it never changes the CineData it is given. `run` drives `method.iterate` and turns what the
method yields into typed events (recon.events): a method announces its own phases ("loading model", "fine-tuning")
with step-0 iterates, so no front end needs to know a method's internals. The reference is used only to score.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import asdict, dataclass, field, replace
from typing import Callable, Iterator, NamedTuple

import numpy as np

from .data import CineData
from .errors import DataError, MaskError, MethodError, ReconError
from .events import Cancelled, Failed, Finished, MaskReady, Phase, Step
from .io.options import LoadOptions
from .masks import DEFAULT_ACS, RADIAL_KINDS, accel_for_effective, make_mask
from .methods import Iterate, Method
from .metrics import all_metrics, psnr
from .physics import rss_image
from .problem import Problem, make_problem
from .radial import RadialCine, acquire_radial, nyquist_spokes

SENS_SOURCES = ("espirit", "file")
FINISHED = "finished"


@dataclass(frozen=True)
class MaskSpec:
    """Which samples the method sees: a retrospective mask (`kind`, R counted outside `acs` lines, or `accel_eff`
    = all k-t locations / sampled ones), or "file" for the file's own samples."""

    kind: str = "vista"
    accel: float = 8.0
    acs: int = DEFAULT_ACS
    seed: int = 0
    accel_eff: float | None = None

    def as_dict(self) -> dict:
        return asdict(self)


# ---- the file's own samples ------------------------------------------------------------------------------------
def measured_lines(data: CineData) -> np.ndarray | None:
    """The k-t locations the file holds (frames, ky, kx): its mask, else the phase-encode lines with any non-zero
    sample when some lines are missing; None when the file is fully sampled (no mask, no missing line)."""
    if data.mask is not None:
        return np.asarray(data.mask, bool)
    lines = np.any(data.kspace != 0, axis=(1, 3))  # (frames, ky): zero-padded readout ends do not count
    if lines.all():
        return None
    return np.broadcast_to(lines[:, :, None], (data.frames, *data.image_shape))


def default_mask_kind(data: CineData) -> str:
    """'file' (its own samples) for data that are already undersampled, else a retrospective 'vista' mask."""
    return "file" if measured_lines(data) is not None else "vista"


def adds_acs(kind: str, data: CineData | RadialCine | None = None) -> bool:
    """Whether a mask of `kind` on `data` has an ACS block: Cartesian retrospective masks only (not radial spokes,
    not a file's own samples)."""
    return kind not in (*RADIAL_KINDS, "file") and not isinstance(data, RadialCine)


def share_outside_mask(data: CineData) -> float:
    """The share of the k-space's non-zero samples that its mask does not mark as measured."""
    nonzero = data.kspace != 0
    total = int(nonzero.sum())
    return float((nonzero & ~np.asarray(data.mask, bool)[:, None]).sum() / total) if total else 0.0


def undersample(data: CineData, kind: str = "vista", accel: float = 8, acs: int = 20,
                seed: int = 0, accel_eff: float | None = None) -> tuple[CineData, dict]:
    """A new CineData with a retrospective mask (`kind`), or with the file's own samples (`kind="file"`); the
    caller's object is never returned or changed. With `accel_eff`, R is chosen to give that effective
    acceleration and `accel` is ignored. The info says whether the input was undersampled already and which share
    of its measured samples the mask leaves out (`discarded`)."""
    if isinstance(data, RadialCine) or kind == "golden-angle":
        return radial_samples(data, kind, accel if accel_eff is None else accel_eff, seed)
    own = measured_lines(data)
    if kind == "file":
        if own is None:
            raise MaskError("the mask 'file' (the data's own samples) was asked for, but the data hold no mask and no "
                            "missing lines (they are fully sampled); pick a mask kind such as vista.")
        mask = np.ascontiguousarray(own)
        info = {"kind": "file", "effective_accel": float(mask.size / max(int(mask.sum()), 1)),
                "input_undersampled": True, "discarded": 0.0}
        outside = share_outside_mask(data) if data.mask is not None else 0.0
        if outside > 0:
            warnings.warn(f"the file's k-space holds non-zero samples outside its mask ({outside:.1%} of them); the "
                          "mask says what was measured, so they are not used (nor written with the result).",
                          stacklevel=2)
            return data.with_mask(mask), info
        return replace(data, mask=mask), info
    if accel_eff is not None:
        accel = accel_for_effective(kind, data.image_shape[0], accel_eff, acs)
    mask = make_mask(kind, (data.frames, *data.image_shape), accel, acs, seed)
    array = mask.array if own is None else mask.array & own
    measured = int(own.sum()) if own is not None else array.size
    info = {"kind": kind, "accel": accel, "acs": mask.acs, "seed": seed,
            "effective_accel": float(array.size / max(array.sum(), 1)),
            "input_undersampled": own is not None,
            "discarded": float(1 - array.sum() / max(measured, 1)) if own is not None else 0.0}
    return data.with_mask(array), info


def radial_samples(data: CineData | RadialCine, kind: str, accel_eff: float, seed: int) -> tuple[RadialCine, dict]:
    """A radial file's own spokes (`kind="file"`), or a golden-angle acquisition (`accel_eff` = Nyquist spokes /
    spokes per frame; `seed` continues the golden-angle sequence) simulated from fully sampled Cartesian data."""
    if isinstance(data, RadialCine):
        if kind != "file":
            raise MaskError(f"this file holds radial spokes; a {kind} mask cannot be applied to them. Reconstruct its "
                            "own samples with mask 'file'.")
        info = {"kind": "file", "spokes": data.spokes, "effective_accel": nyquist_spokes(data.image_shape) /
                data.spokes, "input_undersampled": True, "discarded": 0.0}
        return replace(data), info
    if measured_lines(data) is not None:
        raise MaskError("golden-angle simulates a radial acquisition from fully sampled Cartesian k-space, and this "
                        "file is undersampled; use its own samples (mask 'file') or a fully sampled file.")
    mask = make_mask(kind, (data.frames, *data.image_shape), accel_eff, 0, seed)
    info = {"kind": kind, "accel": mask.accel, "acs": 0, "seed": seed, "spokes": mask.spokes,
            "effective_accel": mask.effective_accel, "input_undersampled": False, "discarded": 0.0}
    return acquire_radial(data, mask.spokes, first=seed * data.frames * mask.spokes), info


def discards_measured(info: dict) -> bool:
    """Whether a retrospective mask leaves out samples a prospectively undersampled file really measured."""
    return bool(info.get("input_undersampled")) and info.get("kind") != "file" and info.get("discarded", 0) > 0


def discard_text(info: dict) -> str:
    return (f"the file is already undersampled; the {info['kind']} mask leaves out {info['discarded']:.1%} of its "
            "measured samples")


class DiscardRefused(ReconError):
    """A retrospective mask would leave out measured samples of an undersampled file, and that was not allowed."""

    def __init__(self, info: dict):
        super().__init__(f"{discard_text(info)}; use the file's own mask ('file') or confirm.")
        self.info = info


def problem_for(data: CineData | RadialCine, sens: str = "espirit") -> Problem:
    if sens not in SENS_SOURCES:
        raise DataError(f"coil maps source '{sens}' unknown; choose one of {', '.join(SENS_SOURCES)}.")
    if sens == "file" and data.sens is None:
        raise DataError("the file holds no coil maps ('sens'); use --sens espirit to estimate them.")
    if isinstance(data, RadialCine):
        from .radial.problem import make_radial_problem

        return make_radial_problem(data, data.sens if sens == "file" else None)
    return make_problem(data, data.sens if sens == "file" else None)


def preview(measured: CineData | RadialCine) -> np.ndarray:
    """A map-free look at the measured data (frames, y, x) while the coil maps are estimated."""
    return measured.preview() if isinstance(measured, RadialCine) else rss_image(measured.kspace)


# ---- prepare -------------------------------------------------------------------------------------------------
@dataclass
class RunInfo:
    """What was prepared: the mask information, the measured data the method sees (no reference) and how."""

    mask: dict  # kind, accel, acs, seed, effective_accel, input_undersampled, discarded
    measured: CineData | RadialCine  # a new object: undersampled k-space and mask, reference removed
    sens: str = "espirit"
    load_options: LoadOptions | None = None

    @property
    def mask_array(self) -> np.ndarray:
        return np.asarray(self.measured.mask)

    def as_dict(self) -> dict:
        """JSON-able: for result files and recipes."""
        load = self.load_options.changed() if self.load_options is not None else {}
        return {"mask": dict(self.mask), "sens": self.sens, "load": load}


class Prepared(NamedTuple):
    problem: Problem
    reference: np.ndarray | None
    info: RunInfo


def measure(data: CineData, mask: MaskSpec = MaskSpec(), sens: str = "espirit",
            load_options: LoadOptions | None = None) -> tuple[RunInfo, np.ndarray | None]:
    """Undersample without touching `data`: (RunInfo, reference). Cheap: no coil maps yet."""
    measured, info = undersample(data, mask.kind, mask.accel, mask.acs, mask.seed, mask.accel_eff)
    reference = measured.reference
    return RunInfo(info, replace(measured, reference=None), sens, load_options), reference


def preparing(data: CineData, mask: MaskSpec = MaskSpec(), sens: str = "espirit",
              load_options: LoadOptions | None = None, allow_discard: bool = True):
    """`prepare` as a generator for front ends that show progress: yields MaskReady, then Phase("coil maps") with a
    map-free preview of the measured data, and returns the Prepared. With allow_discard=False a mask that would leave out measured samples of an undersampled
    file raises DiscardRefused (before the coil maps), so the front end can ask first; with True it warns."""
    info, reference = measure(data, mask, sens, load_options)
    if discards_measured(info.mask):
        if not allow_discard:
            raise DiscardRefused(info.mask)
        warnings.warn(f"{discard_text(info.mask)}; --mask file keeps them all.", stacklevel=2)
    yield MaskReady(info.mask_array, dict(info.mask))
    # what was measured, as a map-free preview (root-sum-of-squares of the zero-filled coil images), while the
    # coil maps are estimated: a front end can show it at once
    yield Phase("coil maps", preview(info.measured))
    return Prepared(problem_for(info.measured, sens), reference, info)


def prepare(data: CineData, mask: MaskSpec = MaskSpec(), sens: str = "espirit",
            load_options: LoadOptions | None = None) -> Prepared:
    """(Problem, reference, RunInfo) for `data`; `data` itself is never changed. A retrospective mask that leaves
    out measured samples of an already undersampled file is applied with a warning saying how many."""
    steps = preparing(data, mask, sens, load_options)
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value


# ---- run -----------------------------------------------------------------------------------------------------
@dataclass
class RunResult:
    image: np.ndarray
    extras: dict
    steps: int
    seconds: float
    metrics: dict | None = None  # against the reference, computed after the run
    history: list = field(default_factory=list)  # (step, residual, psnr or None) per iterate
    total: int = 0
    status: str = FINISHED  # or "cancelled at step k/N"

    @property
    def partial(self) -> bool:
        return self.status != FINISHED


def check_finite(image: np.ndarray, method: str) -> None:
    bad = int(np.size(image) - np.isfinite(image).sum())
    if bad:
        raise MethodError(f"{method} produced {bad} NaN or Inf pixels (diverged, or a model with bad weights); the "
                          "result is refused and nothing was written. Lower the step size / lambda or check the "
                          "model file.")


def run(prepared: Prepared | Problem, method: Method, reference: np.ndarray | None = None,
        cancelled: Callable[[], bool] | None = None) -> Iterator:
    """Drive `method` over the prepared problem, yielding events: Phase (the method's own announcements), Step per
    iterate (with PSNR against the reference when there is one), then Finished, Cancelled (when `cancelled()` turns
    true: the method is stopped at its next step and the partial result is marked) or Failed (any error; nothing
    is raised). Closing this generator stops the method too."""
    if isinstance(prepared, Prepared):
        problem, reference = prepared.problem, prepared.reference
    else:
        problem = prepared
    name = method.name or type(method).__name__
    yield Phase(f"running {name}")
    start, last, history = time.perf_counter(), None, []
    method.announce_phases = True  # the method may say "loading model" before it loads
    iterates = method.iterate(problem)

    def result(status: str) -> RunResult:
        check_finite(last.image, name)
        metrics = all_metrics(last.image, reference) if reference is not None else None
        return RunResult(last.image, last.extras, last.step, time.perf_counter() - start, metrics, history,
                         last.total, status)

    try:
        for it in iterates:
            if it.step == 0:  # the method says what it is doing before its steps
                yield Phase(it.extras.get("phase") or f"running {name}", it.image)
            else:
                last = it
                quality = psnr(it.image, reference) if reference is not None else None
                history.append((it.step, it.extras.get("residual"), quality))
                yield Step(it, method.step_name, quality)
            if cancelled is not None and cancelled():
                iterates.close()
                yield Cancelled(result(f"cancelled at step {last.step}/{last.total}") if last else None)
                return
        if last is None:
            raise MethodError(f"{name} produced no image; nothing was written.")
        finished = result(FINISHED)
    except Exception as exc:  # noqa: BLE001 — a front end renders the failure; the CLI re-raises it
        yield Failed(exc)
        return
    finally:
        iterates.close()
    yield Finished(finished)


def reconstruct(problem: Prepared | Problem, method: Method, reference: np.ndarray | None = None,
                on_iterate: Callable[[Iterate], None] | None = None,
                on_event: Callable[[object], None] | None = None) -> RunResult:
    """`run` to the end for callers that want the result or the error: the CLI and scripts."""
    for event in run(problem, method, reference):
        if on_event is not None:
            on_event(event)
        if isinstance(event, Step) and on_iterate is not None:
            on_iterate(event.iterate)
        elif isinstance(event, Failed):
            raise event.error
        elif isinstance(event, Finished):
            return event.result
    raise MethodError(f"{type(method).__name__} stopped without a result.")  # pragma: no cover
