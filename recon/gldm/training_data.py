"""Training planes for GLDM, made only from undersampled, time-interleaved acquisitions.

`acquisition_planes` takes what a scanner measured (k-space and its mask) — it has no argument through which fully
sampled data could enter, and `merge_frames` zeroes anything outside the mask. Phantom files and real magnitude cines
(fully sampled) are first undersampled with a time-interleaved mask, so the model never sees what was not acquired.
Real magnitude cines (recon.diffusion.sources: synthetic phase, augmentations) are acquired single-coil.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..data import CineData
from ..io import load
from ..masks import make_mask
from ..physics import fft2c, ifft2c
from ..sens import espirit_maps
from .kspace import ramp, to_weighted, weighted_scale
from .merge import merge_frames

LOCAL_GROUP = 4


def merged_weighted(kspace: np.ndarray, mask: np.ndarray, kind: str, sens: np.ndarray | None = None,
                    group: int = LOCAL_GROUP) -> torch.Tensor:
    """The weighted k-space (frames, ky, kx) of the coil-combined merged cine (`kind` global or local), not
    normalised. `sens`: coil maps (coils, y, x); None = ESPIRiT maps from the acquisition itself."""
    merged = merge_frames(kspace, mask, None if kind == "kspace-global" else group).kspace
    if sens is None:
        sens = espirit_maps(kspace * mask[:, None], mask)
    sens = torch.from_numpy(sens)
    combined = (sens.conj()[None] * ifft2c(torch.from_numpy(merged))).sum(dim=1)
    return to_weighted(combined, ramp(combined.shape[-2:]))


def acquisition_planes(kspace: np.ndarray, mask: np.ndarray, kind: str, group: int = LOCAL_GROUP,
                       sens: np.ndarray | None = None) -> np.ndarray:
    """Weighted, normalised combined k-space planes (frames, ky, kx) from one undersampled acquisition."""
    k = merged_weighted(kspace, mask, kind, sens, group)
    return (k / weighted_scale(k)).numpy().astype(np.complex64)


def interleaved_acquisition(data: CineData, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Retrospective time-interleaved acquisition (R 4, 8 or 12; 8 or 16 ACS lines; random variant half the time)."""
    rng = np.random.default_rng(seed)
    kind = "interleaved-random" if rng.random() < 0.5 else "interleaved"
    accel, acs = int(rng.choice([4, 8, 12])), int(rng.choice([8, 16]))
    mask = make_mask(kind, (data.frames, *data.image_shape), accel, acs, seed).array
    return data.kspace * mask[:, None], mask


def magnitude_planes(cines: list[np.ndarray], kind: str, seed: int) -> list[np.ndarray]:
    """Planes from complex cines (frames, y, x) that a single-coil scanner acquired time-interleaved."""
    planes = []
    for index, cine in enumerate(cines):
        data = CineData(kspace=fft2c(torch.from_numpy(cine)).numpy()[:, None])
        kspace, mask = interleaved_acquisition(data, seed * 100_003 + index)
        planes.append(acquisition_planes(kspace, mask, kind, sens=np.ones((1, *cine.shape[1:]), np.complex64)))
    return planes


def folder_planes(folder: str | Path, kind: str) -> list[np.ndarray]:
    planes = []
    for index, path in enumerate(sorted(Path(folder).glob("*.h5"))):
        data = load(path)
        if data.mask is not None and not data.mask.all():
            kspace, mask = data.kspace, data.mask  # a real undersampled acquisition: used as acquired
        else:
            kspace, mask = interleaved_acquisition(data, index)
        planes.append(acquisition_planes(kspace, mask, kind))
    return planes
