"""GLDM's representation: the k-space of the coil-combined cine, weighted by a radial ramp so that its dynamic
range suits a score model. w(r) = max(r, 1) / (N / 2), r the distance from the k-space centre in pixels (the paper
uses 0.011 r / 96 on 192 x 192 before its own scaling; the constant is absorbed by our normalisation).

Multi-coil data are handled by combining coils with ESPIRiT maps: the prior works on F(S^H F^-1 k), data
consistency uses the full multi-coil operator. Single-coil data are used as they are (S = 1).
"""

from __future__ import annotations

import numpy as np
import torch

from ..physics import fft2c, ifft2c


def ramp(shape: tuple[int, int]) -> torch.Tensor:
    ny, nx = shape
    y = torch.arange(ny, dtype=torch.float32) - ny // 2
    x = torch.arange(nx, dtype=torch.float32) - nx // 2
    r = torch.sqrt(y[:, None] ** 2 + x[None, :] ** 2)
    return torch.clamp(r, min=1.0) / (min(ny, nx) / 2)


def position(shape: tuple[int, int]) -> torch.Tensor:
    """(1, 2, ky, kx): each pixel's ky and kx offset from the k-space centre in the ramp's unit, the channels a
    position-aware prior reads (a crop of k-space alone does not say where in k-space it sits)."""
    ny, nx = shape
    unit = min(ny, nx) / 2
    y = (torch.arange(ny, dtype=torch.float32) - ny // 2) / unit
    x = (torch.arange(nx, dtype=torch.float32) - nx // 2) / unit
    return torch.stack(torch.meshgrid(y, x, indexing="ij"))[None]


def to_weighted(image: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    return fft2c(image) * weight


def from_weighted(k: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    return ifft2c(k / weight)


def weighted_scale(k: torch.Tensor) -> float:
    return float(np.percentile(np.abs(k.numpy()), 99.5)) or 1.0
