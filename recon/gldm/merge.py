"""Pseudo fully sampled k-space from time-interleaved acquisitions: each frame keeps its own samples and fills the
rest from the other frames of its group (global: all frames; local: groups of G adjacent frames), averaging where
several frames sampled a location. Only the measured samples (inside the mask) ever enter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import DataError


@dataclass
class Merged:
    kspace: np.ndarray  # (frames, coils, ky, kx)
    uncovered: float  # fraction of (frame, ky, kx) locations no frame of the group sampled


def groups(frames: int, size: int | None) -> list[np.ndarray]:
    if size is None or size >= frames:
        return [np.arange(frames)]
    if size < 1:
        raise DataError(f"group size {size} must be at least 1.")
    return [np.arange(start, min(start + size, frames)) for start in range(0, frames, size)]


def merge_frames(kspace: np.ndarray, mask: np.ndarray, group_size: int | None = None) -> Merged:
    """kspace (frames, coils, ky, kx) as acquired and its mask (frames, ky, kx); group_size None = global."""
    if mask.shape != (kspace.shape[0], *kspace.shape[2:]):
        raise DataError(f"mask {mask.shape} does not fit k-space {kspace.shape}.")
    measured = kspace * mask[:, None]  # nothing outside the mask can leak in, whatever the caller passed
    merged = np.empty_like(measured)
    uncovered = 0
    for members in groups(kspace.shape[0], group_size):
        counts = mask[members].sum(axis=0)
        average = measured[members].sum(axis=0) / np.maximum(counts, 1)[None]
        uncovered += int((counts == 0).sum()) * len(members)
        for t in members:
            merged[t] = np.where(mask[t][None], measured[t], average)
    return Merged(merged.astype(np.complex64), uncovered / mask.size)
