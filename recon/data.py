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


class LeadingAxes:
    """frames and coils: the first two axes of `kspace`, Cartesian (ky, kx) or radial (spokes, readout) after."""

    kspace: np.ndarray

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return tuple(self.kspace.shape)

    @property
    def frames(self) -> int:
        return self.kspace.shape[0]

    @property
    def coils(self) -> int:
        return self.kspace.shape[1]


@dataclass
class CineData(LeadingAxes):
    """k-space (frames, coils, ky, kx) complex64, centred; optional mask, reference image and coil maps."""

    kspace: np.ndarray
    mask: np.ndarray | None = None  # (frames, ky, kx) bool; None = use every non-zero sample
    reference: np.ndarray | None = None  # (frames, y, x) complex64; never shown to a method
    sens: np.ndarray | None = None  # (coils, y, x) complex64, sum |S|^2 = 1 on the support
    meta: CineMeta = field(default_factory=CineMeta)

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
        self.meta = check_meta(self.meta, self.frames)
        return self


def numeric(array, what: str) -> np.ndarray:
    """array as numbers; text, compound records or Python objects are refused by name."""
    array = np.asarray(array)
    if array.dtype.kind not in "biufc":
        kind = "records with fields " + ", ".join(array.dtype.names) if array.dtype.names else str(array.dtype)
        raise DataError(f"{what} holds {kind}, not numbers; pass a numeric array.")
    return array


def check_kspace(kspace) -> np.ndarray:
    kspace = numeric(kspace, "k-space")
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
    mask = numeric(mask, "mask")
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
        listed = ", ".join(map(str, empty[:5].tolist())) + (f", ... ({empty.size} frames)" if empty.size > 5 else "")
        raise DataError(f"mask samples nothing in frame(s) [{listed}]; every frame needs some samples.")
    return np.ascontiguousarray(mask)


def check_reference(reference, kspace_shape) -> np.ndarray:
    frames, _, ny, nx = kspace_shape
    reference = numeric(reference, "reference image")
    if reference.shape != (frames, ny, nx):
        raise DataError(f"reference shape {reference.shape} does not fit k-space; expected (frames, y, x) = "
                        f"{(frames, ny, nx)}.")
    if not np.isfinite(reference).all():
        raise DataError("reference image contains NaN or Inf.")
    return reference.astype(np.complex64, copy=False)


def check_sens(sens, kspace_shape) -> np.ndarray:
    _, coils, ny, nx = kspace_shape
    sens = numeric(sens, "coil maps")
    if sens.shape != (coils, ny, nx):
        raise DataError(f"coil maps shape {sens.shape} do not fit k-space; expected (coils, y, x) = "
                        f"{(coils, ny, nx)}. Drop them to estimate maps with ESPIRiT.")
    if not np.isfinite(sens).all():
        raise DataError("coil maps contain NaN or Inf; drop them to estimate maps with ESPIRiT.")
    return sens.astype(np.complex64, copy=False)


def positive_numbers(value, name: str, count: int | None = None) -> tuple[float, ...]:
    """value as finite numbers > 0 (exactly `count` of them when given), or a DataError naming `name`."""
    array = numbers_1d(value, name)
    if count is not None and array.size != count:
        raise DataError(f"{name} {shown(value)} has {array.size} values; expected {count}.")
    if not np.isfinite(array).all() or np.any(array <= 0):
        raise DataError(f"{name} {shown(value)} must be finite and greater than 0.")
    return tuple(float(v) for v in array)


def check_frame_times(value, frames: int) -> tuple[float, ...]:
    """One finite trigger time per frame, strictly increasing, or a DataError."""
    times = numbers_1d(value, "frame_times")
    if times.size != frames:
        raise DataError(f"frame_times has {times.size} values for {frames} frames; one trigger time per frame "
                        "is needed.")
    if not np.isfinite(times).all():
        raise DataError("frame_times contains NaN or Inf.")
    if np.any(np.diff(times) <= 0):
        raise DataError(f"frame_times {shown(value)} does not increase from frame to frame.")
    return tuple(float(t) for t in times)


def numbers_1d(value, name: str) -> np.ndarray:
    try:
        array = np.atleast_1d(np.asarray(value))
    except (ValueError, TypeError):
        array = np.array([None])
    if array.dtype.kind not in "biuf" or array.ndim != 1:
        raise DataError(f"{name} {shown(value)} is not a list of numbers.")
    return array


def check_meta(meta: CineMeta, frames: int) -> CineMeta:
    """Geometry and timing that an export can trust: refuse values that would mislabel the images."""
    spacing = None if meta.pixel_spacing is None else positive_numbers(meta.pixel_spacing, "pixel_spacing", 2)
    thickness, rr = (None if v is None else positive_numbers(v, name, 1)[0]
                     for v, name in ((meta.slice_thickness, "slice_thickness"), (meta.rr_interval, "rr_interval")))
    times = None if meta.frame_times is None else check_frame_times(meta.frame_times, frames)
    if not isinstance(meta.extra, dict):
        raise DataError(f"meta.extra must be a dict, not {type(meta.extra).__name__}.")
    return replace(meta, pixel_spacing=spacing, slice_thickness=thickness, rr_interval=rr, frame_times=times)


def shown(value) -> str:
    """A short repr for messages (hostile values can be long)."""
    text = repr(value.tolist() if isinstance(value, np.ndarray) else value)
    return text if len(text) <= 40 else text[:37] + "..."
