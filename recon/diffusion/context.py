"""Neighbour planes as context (UNetConfig.context): a y-t network also reads the y-t planes of the columns beside
its own, an x-t network the rows beside its own, so a 2D network sees some of the third dimension at the cost of
a wider first convolution.

Order of the channels: the plane itself (real, imaginary), then its neighbours at offsets -1, +1, -2, +2, ...
Planes past an edge are mirrored back inside (offset -1 of the first plane is the second), as in training.
"""

from __future__ import annotations

import numpy as np
import torch


def offsets(context: int) -> list[int]:
    """The plane itself, then its neighbours nearest first: [0, -1, 1, -2, 2, ...]."""
    return [0] + [sign * k for k in range(1, context + 1) for sign in (-1, 1)]


def mirrored(index: np.ndarray, n: int) -> np.ndarray:
    """Indices past either end reflected back inside 0..n-1 (without repeating the edge)."""
    if n == 1:
        return np.zeros_like(index)
    period = 2 * (n - 1)
    index = np.mod(index, period)
    return np.where(index >= n, period - index, index)


def with_neighbours(planes: torch.Tensor, context: int) -> torch.Tensor:
    """(n, 2, h, w) planes in their spatial order -> (n, 2 (1 + 2 context), h, w), each with its neighbours."""
    if context == 0:
        return planes
    n = planes.shape[0]
    base = np.arange(n)
    return torch.cat([planes[torch.from_numpy(mirrored(base + k, n))] for k in offsets(context)], dim=1)


def neighbour_batch(group: np.ndarray, size: int, context: int, rng: np.random.Generator) -> np.ndarray:
    """`size` random planes of one cine's ordered group (n, a, b), each followed by its neighbours:
    (size * (1 + 2 context), a, b), consecutive per sample. Half the batches mirror the neighbour order (the other
    spatial axis flipped, a symmetry of the data)."""
    n = group.shape[0]
    index = rng.integers(0, n, size)
    sign = -1 if rng.random() < 0.5 else 1
    rows = np.stack([mirrored(index + sign * k, n) for k in offsets(context)], axis=1)  # (size, K)
    return group[rows.reshape(-1)]


def widen_input(state: dict, model: torch.nn.Module) -> dict:
    """Weights of a network without context (or with less) for `model`: the new input channels of its first
    convolution start at zero, so the widened network computes what the old one did."""
    key = "conv_in.weight"
    target = model.state_dict()[key]
    old = state[key]
    if old.shape == target.shape:
        return state
    if old.shape[0] != target.shape[0] or old.shape[1] > target.shape[1] or old.shape[2:] != target.shape[2:]:
        raise ValueError(f"{key} is {tuple(old.shape)}; cannot widen it to {tuple(target.shape)}")
    widened = torch.zeros_like(target)
    widened[:, :old.shape[1]] = old
    return {**state, key: widened}
