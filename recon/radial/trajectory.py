"""Golden-angle radial trajectories and their checks.

Coordinates are in cycles per field of view, sigpy's convention: traj[..., 0] along y in [-ny/2, ny/2], traj[..., 1]
along x in [-nx/2, nx/2]; shape (frames, spokes, readout, 2). Spokes pass through the centre, the readout is
oversampled twice (2 * max(ny, nx) samples), and each spoke turns by the golden angle 111.25 degrees (180 / phi)
from the one before, continuing across frames (Winkelmann et al. 2007).
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import DataError, MaskError

GOLDEN_ANGLE = np.pi * (np.sqrt(5) - 1) / 2  # 111.25 degrees: full spokes cover 180 degrees
RANGE_TOLERANCE = 1e-3  # cycles per FOV beyond +-n/2 still accepted (float rounding of the edge sample)


def nyquist_spokes(image_shape: tuple[int, int]) -> int:
    """Spokes a radial frame needs for Nyquist sampling at the edge of k-space: pi/2 * n."""
    return math.ceil(math.pi / 2 * max(image_shape))


def spokes_for_effective(image_shape: tuple[int, int], accel_eff: float) -> int:
    """Spokes per frame that give `accel_eff` = Nyquist spokes / spokes (the radial effective acceleration)."""
    if not np.isfinite(accel_eff) or accel_eff < 1:
        raise MaskError(f"effective acceleration {accel_eff} must be a finite number >= 1.")
    return max(1, round(nyquist_spokes(image_shape) / accel_eff))


def golden_angle(frames: int, spokes: int, image_shape: tuple[int, int], first: int = 0) -> np.ndarray:
    """(frames, spokes, readout, 2) float32 coordinates; spoke k overall (from `first`) lies at k * golden angle."""
    if frames < 1 or spokes < 1:
        raise MaskError(f"a radial trajectory needs at least one frame and one spoke (got {frames}, {spokes}).")
    ny, nx = image_shape
    readout = 2 * max(ny, nx)
    rho = (np.arange(readout) - readout // 2) / (readout // 2)  # [-1, 1): the +1 edge is the next spoke's -1
    angles = (first + np.arange(frames * spokes)) * GOLDEN_ANGLE
    ky = ny / 2 * np.sin(angles)[:, None] * rho[None]
    kx = nx / 2 * np.cos(angles)[:, None] * rho[None]
    return np.stack([ky, kx], axis=-1).reshape(frames, spokes, readout, 2).astype(np.float32)


def check_traj(traj, kspace_shape: tuple[int, ...], image_shape: tuple[int, int]) -> np.ndarray:
    """The trajectory as float32 (frames, spokes, readout, 2), or a DataError that says what is wrong and how to
    fix it: its shape against the k-space (frames, coils, spokes, readout), NaN/Inf, or coordinates outside the
    field of view's k-space (a trajectory in radians or in [-0.5, 0.5] instead of cycles per FOV)."""
    traj = np.asarray(traj)
    if traj.dtype.kind not in "iuf":
        raise DataError(f"the trajectory is {traj.dtype}, not real numbers; pass (frames, spokes, readout, 2) floats.")
    frames, _, spokes, readout = kspace_shape
    if traj.shape != (frames, spokes, readout, 2):
        raise DataError(f"the trajectory is {traj.shape}; for k-space (frames, coils, spokes, readout) = "
                        f"{tuple(kspace_shape)} it must be {(frames, spokes, readout, 2)} (ky, kx last).")
    if not np.isfinite(traj).all():
        raise DataError(f"the trajectory holds {int((~np.isfinite(traj)).sum())} NaN or Inf coordinates; every "
                        "sample needs a finite (ky, kx).")
    limits = np.asarray(image_shape, float) / 2 + RANGE_TOLERANCE
    largest = np.abs(traj).reshape(-1, 2).max(axis=0)
    if (largest > limits).any():
        raise DataError(f"trajectory coordinates reach |ky|, |kx| = {largest[0]:.3g}, {largest[1]:.3g}, outside "
                        f"+-{image_shape[0] / 2:g}, +-{image_shape[1] / 2:g} for a {image_shape[0]}x{image_shape[1]} "
                        "image; give them in cycles per field of view (scale [-0.5, 0.5] by the matrix size, "
                        "radians by n / (2 pi)) or choose a larger matrix.")
    if largest.max() <= 0.5:
        raise DataError("every trajectory coordinate is within +-0.5 cycles per field of view: it is probably "
                        "normalised to [-0.5, 0.5]; multiply ky by ny and kx by nx.")
    return np.ascontiguousarray(traj, np.float32)


def rasterise(traj: np.ndarray, image_shape: tuple[int, int]) -> np.ndarray:
    """(frames, ny, nx) bool: the Cartesian cells the spokes pass through, to show where a frame sampled."""
    ny, nx = image_shape
    frames = traj.shape[0]
    cells = np.zeros((frames, ny, nx), bool)
    ky = np.clip(np.round(traj[..., 0] + ny / 2).astype(int), 0, ny - 1).reshape(frames, -1)
    kx = np.clip(np.round(traj[..., 1] + nx / 2).astype(int), 0, nx - 1).reshape(frames, -1)
    for t in range(frames):
        cells[t, ky[t], kx[t]] = True
    return cells
