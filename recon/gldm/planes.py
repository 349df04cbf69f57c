"""GLDM's plane kinds, registered with the training code: 'kspace-global' and 'kspace-local' planes are the
weighted k-space frames of merged time-interleaved acquisitions (recon.gldm.training_data), batched with the ky/kx
position of every pixel (a crop of k-space alone does not say where in k-space it sits)."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import torch

from ..diffusion.kinds import PlaneKind, register_kind
from .kspace import position

KINDS = ("kspace-global", "kspace-local")
POSITION_CHANNELS = 2


def batch(planes: np.ndarray, rng: np.random.Generator, crop: int | None) -> tuple[torch.Tensor, torch.Tensor]:
    """A random column crop of k-space planes with their positions; of the augmentations only a global phase and
    scale keep the physics."""
    from ..diffusion.planes import augment

    where = position(planes.shape[1:])
    if crop is not None and planes.shape[2] > crop:
        start = int(rng.integers(0, planes.shape[2] - crop + 1))
        planes, where = planes[:, :, start:start + crop], where[..., start:start + crop]
    return torch.from_numpy(augment(planes, rng, None, temporal=False, flips=False)), where.contiguous()


def folder_planes(kind: str, folder: Path) -> list[np.ndarray]:
    from .training_data import folder_planes as planes

    return planes(folder, kind)


def cine_planes(kind: str, cines: list[np.ndarray], seed: int = 0) -> list[np.ndarray]:
    from .training_data import magnitude_planes

    return magnitude_planes(cines, kind, seed)


for _kind in KINDS:
    register_kind(_kind, PlaneKind(partial(folder_planes, _kind), partial(cine_planes, _kind), batch,
                                   POSITION_CHANNELS))
