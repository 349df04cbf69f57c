"""What a run tells its front end, as typed events (recon.pipeline yields them; the CLI, the napari widget and the
benchmarks render them). No front end re-implements the loop or knows a method's internals."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .methods import Iterate


@dataclass(frozen=True)
class Phase:
    """A stretch without steps: "loading data", "coil maps", "loading model", "fine-tuning …", "running lps"."""

    text: str
    image: np.ndarray | None = None  # an estimate to show meanwhile (e.g. the start image while fine-tuning)


@dataclass(frozen=True)
class MaskReady:
    mask: np.ndarray  # (frames, ky, kx) bool: what the method will see
    info: dict  # kind, accel, acs, seed, effective_accel (and discarded: share of the file's samples left out)


@dataclass(frozen=True)
class Step:
    iterate: Iterate
    verb: str  # the method's name for a step: "sampling step" for diffusion priors, "iteration" for the others
    psnr: float | None = None  # against the reference, when there is one (never shown to the method)

    @property
    def text(self) -> str:
        """'sampling step 9/16', or with several posterior samples 'sample 2/2, sampling step 1/8'."""
        it = self.iterate
        samples = it.extras.get("samples", 1)
        if samples <= 1 or it.total % samples or "sample" not in it.extras:
            return f"{self.verb} {it.step}/{it.total}"
        per = it.total // samples
        return f"sample {it.extras['sample']}/{samples}, {self.verb} {it.step - (it.extras['sample'] - 1) * per}/{per}"


@dataclass(frozen=True)
class Finished:
    result: object  # recon.pipeline.RunResult


@dataclass(frozen=True)
class Cancelled:
    result: object | None  # the partial RunResult (status "cancelled at step k/N"), None before the first step


@dataclass(frozen=True)
class Failed:
    error: BaseException


Event = Phase | MaskReady | Step | Finished | Cancelled | Failed
