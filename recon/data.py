"""CineData: one 2D+time multi-coil acquisition, as the engine sees it, and its validation."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .errors import DataError


@dataclass
class CineMeta:
    """What is known about where the data came from. Unknown fields stay None."""

    pixel_spacing: tuple[float, float] | None = None  # mm, (y, x)
    slice_thickness: float | None = None  # mm
    frame_times: tuple[float, ...] | None = None  # ms from the R wave, one per frame
    rr_interval: float | None = None  # ms
    source: str = ""
    extra: dict = field(default_factory=dict)  # geometry, timing, patient fields from the reader

    def times(self, frames: int) -> np.ndarray:
        """Trigger time of each frame in ms: given, else spread over the RR interval, else 1 s."""
        if self.frame_times is not None:
            return np.asarray(self.frame_times, dtype=float)
        rr = self.rr_interval or 1000.0
        return np.arange(frames) * rr / frames


@dataclass
class CineData:
    """k-space (frames, coils, ky, kx) complex64, centred; optional mask, reference image and coil maps."""

    kspace: np.ndarray
    mask: np.ndarray | None = None  # (frames, ky, kx) bool; None = use every non-zero sample
    reference: np.ndarray | None = None  # (frames, y, x) complex64; never shown to a method
    sens: np.ndarray | None = None  # (coils, y, x) complex64, sum |S|^2 = 1 on the support
    meta: CineMeta = field(default_factory=CineMeta)

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return tuple(self.kspace.shape)

    @property
    def frames(self) -> int:
        return self.kspace.shape[0]

    @property
    def coils(self) -> int:
        return self.kspace.shape[1]

    @property
    def image_shape(self) -> tuple[int, int]:
        return tuple(self.kspace.shape[2:])

    def with_mask(self, mask: np.ndarray) -> "CineData":
        """A copy that keeps only the samples in `mask` (retrospective undersampling)."""
        mask = check_mask(mask, self.kspace.shape)
        kspace = (self.kspace * mask[:, None]).astype(np.complex64)
        return replace(self, kspace=kspace, mask=mask)

    def validate(self) -> "CineData":
        """Coerce dtypes and raise DataError for anything the engine cannot work with."""
        self.kspace = check_kspace(self.kspace)
        if self.mask is not None:
            self.mask = check_mask(self.mask, self.kspace.shape)
        if self.reference is not None:
            self.reference = check_reference(self.reference, self.kspace.shape)
        if self.sens is not None:
            self.sens = check_sens(self.sens, self.kspace.shape)
        return self


def check_kspace(kspace) -> np.ndarray:
    kspace = np.asarray(kspace)
    if kspace.ndim == 3:
        raise DataError(
            f"k-space has 3 axes {kspace.shape}; expected (frames, coils, ky, kx). "
            "For single-coil data add a coils axis of length 1; for a single frame add a frames axis."
        )
    if kspace.ndim != 4:
        raise DataError(f"k-space has {kspace.ndim} axes {kspace.shape}; expected 4: (frames, coils, ky, kx).")
    frames, coils, ny, nx = kspace.shape
    if coils == 0 or frames == 0 or ny == 0 or nx == 0:
        raise DataError(f"k-space {kspace.shape} is empty along an axis; (frames, coils, ky, kx) must all be > 0.")
    if frames < 2:
        raise DataError(
            f"k-space has a single frame {kspace.shape}; a cine needs at least 2 frames on the first axis. "
            "If time is on another axis, reorder to (frames, coils, ky, kx)."
        )
    if ny < 8 or nx < 8:
        raise DataError(f"image matrix {ny}x{nx} is too small; at least 8x8 is needed.")
    if not np.iscomplexobj(kspace):
        raise DataError(f"k-space is {kspace.dtype}, not complex; pass complex k-space, not magnitude images.")
    kspace = kspace.astype(np.complex64, copy=False)
    if not np.isfinite(kspace).all():
        bad = int((~np.isfinite(kspace)).sum())
        raise DataError(f"k-space contains {bad} NaN or Inf values; fix or zero them before reconstruction.")
    if not np.any(kspace):
        raise DataError("k-space is all zeros; nothing was measured.")
    return kspace


def check_mask(mask, kspace_shape) -> np.ndarray:
    frames, _, ny, nx = kspace_shape
    mask = np.asarray(mask)
    if mask.ndim == 2 and mask.shape == (frames, ny):
        mask = np.broadcast_to(mask[:, :, None], (frames, ny, nx))
    elif mask.ndim == 2 and mask.shape == (ny, nx):
        mask = np.broadcast_to(mask[None], (frames, ny, nx))
    if mask.shape != (frames, ny, nx):
        raise DataError(
            f"mask shape {mask.shape} does not fit k-space {tuple(kspace_shape)}; expected (frames, ky, kx) = "
            f"{(frames, ny, nx)}, (frames, ky) = {(frames, ny)} or (ky, kx) = {(ny, nx)}."
        )
    if not np.isfinite(mask.astype(float)).all():
        raise DataError("mask contains NaN or Inf; it must be 0/1.")
    mask = mask != 0
    empty = np.flatnonzero(~mask.reshape(frames, -1).any(axis=1))
    if empty.size:
        raise DataError(f"mask samples nothing in frame(s) {empty[:5].tolist()}; every frame needs some samples.")
    return np.ascontiguousarray(mask)


def check_reference(reference, kspace_shape) -> np.ndarray:
    frames, _, ny, nx = kspace_shape
    reference = np.asarray(reference)
    if reference.shape != (frames, ny, nx):
        raise DataError(f"reference shape {reference.shape} does not fit k-space; expected (frames, y, x) = "
                        f"{(frames, ny, nx)}.")
    if not np.isfinite(reference).all():
        raise DataError("reference image contains NaN or Inf.")
    return reference.astype(np.complex64, copy=False)


def check_sens(sens, kspace_shape) -> np.ndarray:
    _, coils, ny, nx = kspace_shape
    sens = np.asarray(sens)
    if sens.shape != (coils, ny, nx):
        raise DataError(f"coil maps shape {sens.shape} do not fit k-space; expected (coils, y, x) = "
                        f"{(coils, ny, nx)}. Drop them to estimate maps with ESPIRiT.")
    if not np.isfinite(sens).all():
        raise DataError("coil maps contain NaN or Inf; drop them to estimate maps with ESPIRiT.")
    return sens.astype(np.complex64, copy=False)
