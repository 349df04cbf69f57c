"""RadialCine: one 2D+time multi-coil acquisition along non-Cartesian spokes, with its trajectory."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..data import CineData, CineMeta, LeadingAxes, check_meta, check_reference, check_sens, numeric
from ..errors import DataError
from .trajectory import check_traj, golden_angle, rasterise


@dataclass
class RadialCine(LeadingAxes):
    """k-space (frames, coils, spokes, readout) complex64 at `traj` (frames, spokes, readout, 2), cycles per FOV;
    the image is `image_shape` (y, x). Optional reference image and coil maps as for CineData."""

    kspace: np.ndarray
    traj: np.ndarray
    image_shape: tuple[int, int]
    reference: np.ndarray | None = None  # (frames, y, x) complex64; never shown to a method
    sens: np.ndarray | None = None  # (coils, y, x) complex64
    meta: CineMeta = field(default_factory=CineMeta)

    @property
    def spokes(self) -> int:
        return self.kspace.shape[2]

    @property
    def mask(self) -> np.ndarray:
        """(frames, y, x) bool: the Cartesian cells the spokes cross; for display, never for reconstruction."""
        return rasterise(self.traj, self.image_shape)

    def preview(self) -> np.ndarray:
        """Root-sum-of-squares (frames, y, x) of ramp-filtered gridded coil images, each frame scaled by the gain
        that best fits its own samples (so the preview is in the image's units): a quick map-free look."""
        from .operator import nufft, nufft_adjoint

        ramp = np.linalg.norm(self.traj, axis=-1)[:, None] + 0.5
        frames = []
        for t in range(self.frames):
            images = nufft_adjoint(self.kspace[t] * ramp[t], self.traj[t], self.image_shape)
            predicted = nufft(images, self.traj[t])
            gain = abs(np.vdot(predicted, self.kspace[t])) / max(float(np.vdot(predicted, predicted).real), 1e-30)
            frames.append(np.sqrt((np.abs(images) ** 2).sum(axis=0)) * gain)
        return np.stack(frames).astype(np.float32)

    def cartesian_shape(self) -> tuple[int, int, int, int]:
        return (self.frames, self.coils, *self.image_shape)

    def validate(self) -> "RadialCine":
        self.image_shape = check_image_shape(self.image_shape)
        self.kspace = check_radial_kspace(self.kspace)
        self.traj = check_traj(self.traj, self.kspace.shape, self.image_shape)
        if self.reference is not None:
            self.reference = check_reference(self.reference, self.cartesian_shape())
        if self.sens is not None:
            self.sens = check_sens(self.sens, self.cartesian_shape())
        self.meta = check_meta(self.meta, self.frames)
        return self


def check_image_shape(shape) -> tuple[int, int]:
    values = numeric(shape, "image shape").ravel()
    if values.size != 2 or values.dtype.kind not in "iu" or (values < 8).any():
        raise DataError(f"image shape {tuple(values.tolist())} must be two whole numbers >= 8 (y, x).")
    return int(values[0]), int(values[1])


def check_radial_kspace(kspace) -> np.ndarray:
    kspace = numeric(kspace, "radial k-space")
    if kspace.ndim != 4:
        raise DataError(f"radial k-space has {kspace.ndim} axes {kspace.shape}; expected 4: "
                        "(frames, coils, spokes, readout).")
    if min(kspace.shape) == 0:
        raise DataError(f"radial k-space {kspace.shape} is empty along an axis.")
    if kspace.shape[0] < 2:
        raise DataError(f"radial k-space has a single frame {kspace.shape}; a cine needs at least 2 frames.")
    if not np.iscomplexobj(kspace):
        raise DataError(f"radial k-space is {kspace.dtype}, not complex; pass the complex samples.")
    kspace = kspace.astype(np.complex64, copy=False)
    if not np.isfinite(kspace).all():
        raise DataError(f"radial k-space contains {int((~np.isfinite(kspace)).sum())} NaN or Inf values; fix or "
                        "zero them before reconstruction.")
    if not np.any(kspace):
        raise DataError("radial k-space is all zeros; nothing was measured.")
    return kspace


def acquire_radial(data: CineData, spokes: int, first: int = 0) -> RadialCine:
    """Golden-angle radial acquisition of a fully sampled Cartesian cine: each coil image sampled along `spokes`
    spokes per frame (the sequence starting at spoke `first`) with an accurate NUFFT, not the one reconstructions
    use. Reference, maps and meta carry over."""
    from ..physics import ifft2c
    from .operator import EXACT, nufft

    if data.mask is not None and not np.asarray(data.mask).all():
        raise DataError("a radial acquisition is simulated from fully sampled Cartesian k-space; this cine is "
                        "undersampled. Use a fully sampled file (or its reference) as the source.")
    import torch

    coil_images = ifft2c(torch.from_numpy(np.ascontiguousarray(data.kspace, np.complex64))).numpy()
    traj = golden_angle(data.frames, spokes, data.image_shape, first)
    kspace = np.stack([nufft(coil_images[t], traj[t], EXACT) for t in range(data.frames)]).astype(np.complex64)
    return RadialCine(kspace, traj, data.image_shape, data.reference, data.sens, data.meta)
