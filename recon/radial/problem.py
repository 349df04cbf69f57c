"""The radial Problem: what a method sees of a RadialCine (density-weighted samples, coil maps, the operator).

Coil maps come from the time average: golden-angle spokes of all frames together cover the k-space centre, so
ESPIRiT calibrates on their time average (all spokes fitted together by least squares), with no ACS block.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sigpy
import torch

from ..errors import DataError
from ..held_signals import held_signals
from ..physics import fft2c
from ..problem import Problem
from ..sens import maps_from_average
from .data import RadialCine
from .operator import FAST, RadialOperator, density, nufft_adjoint

CALIB_WIDTH = 24
AVERAGE_ITERATIONS = 3  # least-squares steps for the time average (coil maps, start image); 5 and 10 gave the same maps
MIN_CALIB_WIDTH = 8


@dataclass
class RadialProblem(Problem):
    traj: np.ndarray  # (frames, spokes, readout, 2), cycles per FOV
    samples: torch.Tensor  # the measured samples without density weighting, divided by `scale` (for BART)
    average: torch.Tensor  # (y, x) the coil-combined gridded time average, in normalised units

    radial = True

    def zero_filled(self) -> torch.Tensor:
        """The gridding reconstruction A^H y, scaled by the one complex factor that best fits the data (the
        density-compensated adjoint alone is darker than the image: ||A|| <= 1 is set by its largest mode)."""
        return fit_to_data(self.op, self.op.adjoint(self.kspace), self.kspace)

    def view_shared(self) -> torch.Tensor:
        """The gridded average of all frames' spokes, moved onto each frame's own spokes by the data-consistency
        steps: the radial counterpart of filling a frame's missing k-space from the frames that sampled it."""
        start = self.average.expand(self.shape).clone()
        return self.op.data_consistency(start, self.kspace)


def fit_to_data(op, image: torch.Tensor, kspace: torch.Tensor) -> torch.Tensor:
    predicted = op.forward(image)
    gain = torch.vdot(predicted.flatten(), kspace.flatten()) / torch.vdot(predicted.flatten(), predicted.flatten())
    return image * gain


def calibration_width(traj: np.ndarray, largest: int = CALIB_WIDTH) -> int:
    """Widest centred square the spokes of all frames together sample at Nyquist: spokes P through the centre are
    at most one cycle apart up to radius P / pi."""
    radius = traj.shape[0] * traj.shape[1] / math.pi
    width = min(largest, 2 * int(radius / math.sqrt(2)))
    if width < MIN_CALIB_WIDTH:
        raise DataError(f"{traj.shape[0]} frames x {traj.shape[1]} spokes sample the k-space centre too sparsely for "
                        "ESPIRiT coil maps (a calibrated centre of at least 8 x 8 needs 36 spokes in all); supply "
                        "coil maps in the file or acquire more spokes.")
    return width


def time_average(data: RadialCine, weights: np.ndarray, iterations: int = AVERAGE_ITERATIONS) -> np.ndarray:
    """Coil images (coils, y, x) of the time average: all frames' spokes fitted together by `iterations` CG steps of
    density-weighted least squares, from the mean of the frames' own gridding. The mean alone weights each frame's
    spokes by that frame's sparse-set density, which misweights the union: coil maps from it capped the SENSE
    combination of fully sampled data at 32.5 / 36.5 dB (held-out phantom 500 / GIRAF), 41.6 / 44.9 after 3 steps
    (the true time average's maps: 41.6 / 44.3)."""
    start = np.mean([nufft_adjoint(data.kspace[t] * weights[t], data.traj[t], data.image_shape)
                     for t in range(data.frames)], axis=0)
    coord = data.traj.reshape(-1, 2)
    samples = data.kspace.transpose(1, 0, 2, 3).reshape(data.coils, -1)  # (coils, all spokes' samples)
    sqrt_w = np.sqrt(weights.reshape(-1)).astype(np.float32)
    model = sigpy.linop.Multiply(samples.shape, sqrt_w) * \
        sigpy.linop.NUFFT((data.coils, *data.image_shape), coord, oversamp=FAST[0], width=FAST[1])
    average = np.ascontiguousarray(start, np.complex64)
    with held_signals():  # sigpy's NUFFT kernels (numba) run here
        sigpy.app.LinearLeastSquares(model, samples * sqrt_w, x=average, max_iter=iterations, show_pbar=False).run()
    return average  # updated in place, complex64


def make_radial_problem(data: RadialCine, sens: np.ndarray | None = None) -> RadialProblem:
    """Normalised radial problem; coil maps `sens` if given, else ESPIRiT from the gridded time average."""
    weights = density(data.traj, data.image_shape)
    average = time_average(data, weights)
    if sens is None:
        sens = np.ones((1, *data.image_shape), np.complex64) if data.coils == 1 else \
            maps_from_average(fft2c(torch.from_numpy(average)).numpy(), calibration_width(data.traj))
    if sens.shape != (data.coils, *data.image_shape):
        raise DataError(f"coil maps {sens.shape} do not fit radial k-space {data.shape} on a {data.image_shape} "
                        "image; expected (coils, y, x).")
    sens_t = torch.from_numpy(np.ascontiguousarray(sens, np.complex64))
    op = RadialOperator(data.traj, sens_t, weights)
    samples = torch.from_numpy(np.ascontiguousarray(data.kspace, np.complex64))
    weighted = samples * torch.from_numpy(op.sqrt_w)
    zero_filled = fit_to_data(op, op.adjoint(weighted), weighted).abs()
    scale = float(torch.quantile(zero_filled.flatten()[::max(1, zero_filled.numel() // 100_000)], 0.995))
    if not np.isfinite(scale) or scale <= 0:
        raise DataError("the radial samples combine to an all-zero image; check the coil maps and the trajectory.")
    combined = (sens_t.conj() * torch.from_numpy(average)).sum(dim=0)[None]
    combined = fit_to_data(op, combined.expand(data.frames, -1, -1), weighted)[0] / scale
    mask = torch.from_numpy(data.mask)
    return RadialProblem(kspace=weighted / scale, mask=mask, sens=sens_t, scale=scale, op=op, traj=data.traj,
                         samples=samples / scale, average=combined)
