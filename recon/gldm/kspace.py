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


def to_weighted(image: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    return fft2c(image) * weight


def from_weighted(k: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    return ifft2c(k / weight)


def weighted_scale(k: torch.Tensor) -> float:
    return float(np.percentile(np.abs(k.numpy()), 99.5)) or 1.0
