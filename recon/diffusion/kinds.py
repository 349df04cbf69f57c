"""Plane kinds a prior is trained on, and how each is cut from training sources and batched.

The image-domain kinds (y-t, x-t, both, x-y) are defined here. A representation with its own planes registers
its kinds with `register_kind` (GLDM's k-space kinds: recon.gldm.planes); the training code, the checkpoint checks
and the CLI ask `plane_kinds()` and never name them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

IMAGE_KINDS = ("yt", "xt", "both", "xy")


@dataclass(frozen=True)
class PlaneKind:
    folder_planes: Callable[[Path], list[np.ndarray]]  # groups (n, a, b) from a folder of fully sampled .h5 cines
    cine_planes: Callable[[list[np.ndarray], int], list[np.ndarray]]  # groups from complex cines (frames, y, x), seed
    batch: Callable  # (planes (n, a, b) complex, rng, crop) -> (float32 tensor (n, 2, a, b'), condition or None)
    condition: int = 0  # channels the network reads beside the plane (UNetConfig.condition)


_REGISTERED: dict[str, PlaneKind] = {}


def register_kind(name: str, kind: PlaneKind) -> None:
    _REGISTERED[name] = kind


def _load_registrations() -> None:
    from .. import methods  # noqa: F401  (the methods' packages register their plane kinds on import)


def plane_kinds() -> tuple[str, ...]:
    _load_registrations()
    return IMAGE_KINDS + tuple(_REGISTERED)


def plane_kind(name: str) -> PlaneKind:
    """The registered kind, or the image-domain one."""
    from ..errors import ReconError

    if name in IMAGE_KINDS:
        return image_kind(name)
    _load_registrations()
    if name not in _REGISTERED:
        raise ReconError(f"plane kind '{name}' unknown; choose one of {', '.join(plane_kinds())}.")
    return _REGISTERED[name]


def image_kind(name: str) -> PlaneKind:
    from .planes import augment, cine_planes, normalise, training_cine

    def from_cines(cines: list[np.ndarray], seed: int = 0) -> list[np.ndarray]:
        return [p for cine in cines for p in cine_planes(normalise(cine), name)]

    def from_folder(folder: Path) -> list[np.ndarray]:
        return from_cines([training_cine(p) for p in sorted(Path(folder).glob("*.h5"))])

    def batch(planes: np.ndarray, rng: np.random.Generator, crop: int | None) -> tuple[torch.Tensor, None]:
        return torch.from_numpy(augment(planes, rng, crop, temporal=name != "xy")), None

    return PlaneKind(from_folder, from_cines, batch)
