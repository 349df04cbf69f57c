"""BART `pics` as an external peer (temporal total variation, or locally low rank), when `bart` is on PATH.

The same k-space, mask and coil maps as every other method are handed over as .cfl files: BART dims
(ky, kx, 1, coils, ..., time at dim 10). BART runs as one process, so the generator yields once at the end.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..cfl import read_cfl, write_cfl
from ..errors import MethodError
from . import register
from .base import Iterate, Method, param

TIME_DIM = 10


def to_bart(array: np.ndarray) -> np.ndarray:
    """(frames, coils, ky, kx) -> BART (ky, kx, 1, coils, 1, 1, 1, 1, 1, 1, frames)."""
    frames, coils, ny, nx = array.shape
    return array.transpose(2, 3, 1, 0).reshape(ny, nx, 1, coils, 1, 1, 1, 1, 1, 1, frames)


def radial_to_bart(samples: np.ndarray) -> np.ndarray:
    """(frames, coils, spokes, readout) -> BART (1, readout, spokes, coils, 1, ..., frames at dim 10)."""
    frames, coils, spokes, readout = samples.shape
    return samples.transpose(3, 2, 1, 0).reshape(1, readout, spokes, coils, 1, 1, 1, 1, 1, 1, frames)


def traj_to_bart(traj: np.ndarray) -> np.ndarray:
    """(frames, spokes, readout, 2) cycles per FOV -> BART (3, readout, spokes, 1, ..., frames at dim 10); BART's
    dims 0 and 1 are our y and x, in the same units."""
    frames, spokes, readout, _ = traj.shape
    coords = np.zeros((3, readout, spokes, frames), np.complex64)
    coords[:2] = traj.transpose(3, 2, 1, 0)
    return coords.reshape(3, readout, spokes, 1, 1, 1, 1, 1, 1, 1, frames)


def bart_pics(kspace: np.ndarray, sens: np.ndarray, regulariser: str, iterations: int,
              traj: np.ndarray | None = None, weights: np.ndarray | None = None) -> np.ndarray:
    """Run `bart pics` and return the (frames, y, x) image. With `traj`, kspace is (frames, coils, spokes, readout)
    along that trajectory (BART's own NUFFT, `pics -t`), and `weights` (frames, spokes, readout) weight the data
    (`pics -p`)."""
    if shutil.which("bart") is None:
        raise MethodError("BART is not installed; install it with `apt-get install bart` to use the bart-* methods.")
    with tempfile.TemporaryDirectory(prefix="stdm-bart-") as tmp:
        tmp = Path(tmp)
        write_cfl(tmp / "k", to_bart(kspace) if traj is None else radial_to_bart(kspace))
        write_cfl(tmp / "s", to_bart(sens[None])[..., 0])
        radial = [] if traj is None else ["-t", str(tmp / "t")]
        if traj is not None:
            write_cfl(tmp / "t", traj_to_bart(traj))
        if weights is not None:
            write_cfl(tmp / "p", radial_to_bart(weights[:, None].astype(np.complex64)))
            radial += ["-p", str(tmp / "p")]
        cmd = ["bart", "pics", "-d0", "-S", "-i", str(iterations), "-R", regulariser, *radial, str(tmp / "k"),
               str(tmp / "s"), str(tmp / "x")]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise MethodError(f"bart pics failed: {done.stderr.strip()[:300]}")
        image = read_cfl(tmp / "x")  # (ky, kx[, ..., frames])
    return np.ascontiguousarray(image.reshape(image.shape[0], image.shape[1], -1).transpose(2, 0, 1))


@dataclass
class BartPics(Method):
    iterations: int = param(100, "iterations of BART's solver", min=1, max=2000)

    def regulariser(self) -> str:
        raise NotImplementedError

    def iterate(self, problem):
        if problem.radial:
            # the measured samples and the same density weighting as ours (sqrt(w), `-p`): without it BART's
            # unweighted least squares lost 2-5 dB on the tuning cases (heldout-0 33.81 vs 37.89 dB at lambda 0.01)
            sqrt_w = problem.op.sqrt_w[:, 0]
            image = bart_pics(problem.samples.numpy(), problem.sens.numpy(), self.regulariser(), self.iterations,
                              problem.traj, sqrt_w / sqrt_w.max())
        else:
            kspace = problem.kspace.numpy() * problem.mask.numpy()[:, None]
            image = bart_pics(kspace, problem.sens.numpy(), self.regulariser(), self.iterations)
        image_t = torch.from_numpy(image.astype(np.complex64))
        yield Iterate(1, 1, problem.to_output(image_t), {"residual": problem.op.residual(image_t, problem.kspace)})


@register
@dataclass
class BartTemporalTV(BartPics):
    name = "bart-ttv"
    summary = "BART pics with temporal total variation (external peer; needs `bart`)."
    lam: float = param(0.01, "temporal TV weight", min=0.0, max=10.0)

    def regulariser(self) -> str:
        return f"T:{1 << TIME_DIM}:0:{self.lam}"


@register
@dataclass
class BartLocallyLowRank(BartPics):
    name = "bart-llr"
    summary = "BART pics with locally low-rank regularisation over 7x7 blocks (external peer; needs `bart`)."
    lam: float = param(0.02, "locally-low-rank weight", min=0.0, max=10.0)

    def regulariser(self) -> str:
        return f"L:7:7:{self.lam}"
