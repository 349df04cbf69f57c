"""Problem: what a method is allowed to see — measured k-space, its mask and coil maps, normalised.

The reference image is deliberately not part of it. The scale comes from the measured data only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .data import CineData
from .errors import DataError
from .physics import CineOperator, ifft2c
from .sens import espirit_maps


@dataclass
class Problem:
    kspace: torch.Tensor  # (frames, coils, ky, kx) complex64, divided by `scale`
    mask: torch.Tensor  # (frames, ky, kx) bool
    sens: torch.Tensor  # (coils, y, x) complex64
    scale: float  # multiply a normalised image by this to get the input's units
    op: CineOperator

    radial = False  # Cartesian samples on the grid; RadialProblem (recon.radial) holds spokes and a trajectory

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.mask.shape)

    def zero_filled(self) -> torch.Tensor:
        return self.op.adjoint(self.kspace)

    def view_shared(self) -> torch.Tensor:
        """Each frame's measured k-space, the locations it did not sample filled with the average of the frames that
        did (view sharing), coil-combined. Without an ACS block most frames miss the k-space centre, and their
        zero-filled images are dark and aliased (a third of the true intensity with time-interleaved R 8); a start
        from them left L+S at 16-18 dB where the view-shared start keeps every frame's low frequencies."""
        mask = self.op.mask.to(self.kspace.dtype)  # (frames, 1, ky, kx)
        average = (self.kspace * mask).sum(dim=0) / mask.real.sum(dim=0).clamp_min(1)
        filled = self.kspace * mask + average[None] * (1 - mask)
        return (self.sens.conj()[None] * ifft2c(filled)).sum(dim=1)

    def to_output(self, image: torch.Tensor) -> np.ndarray:
        return (image * self.scale).detach().cpu().numpy().astype(np.complex64)


def sampled_mask(data: CineData) -> np.ndarray:
    """The data's own mask, or every location where any coil holds a non-zero sample."""
    if data.mask is not None:
        return data.mask
    return np.abs(data.kspace).sum(axis=1) > 0


def make_problem(data: CineData, sens: np.ndarray | None = None) -> Problem:
    """Build the normalised problem. Coil maps: `sens` if given, else ESPIRiT from the measured data."""
    mask = sampled_mask(data)
    kspace = data.kspace * mask[:, None]
    if sens is None:
        sens = espirit_maps(kspace, mask)
    if sens.shape != (data.coils, *data.image_shape):
        raise DataError(f"coil maps {sens.shape} do not fit k-space {data.shape}; expected (coils, y, x).")
    mask_t = torch.from_numpy(np.ascontiguousarray(mask))
    op = CineOperator(mask_t, torch.from_numpy(np.ascontiguousarray(sens, np.complex64)))
    kspace_t = torch.from_numpy(np.ascontiguousarray(kspace, np.complex64))
    zero_filled = op.adjoint(kspace_t).abs()
    scale = float(torch.quantile(zero_filled.flatten()[::max(1, zero_filled.numel() // 100_000)], 0.995))
    if not np.isfinite(scale) or scale <= 0:
        raise DataError("the measured data combine to an all-zero image; check the coil maps and the mask.")
    return Problem(kspace=kspace_t / scale, mask=mask_t, sens=op.sens, scale=scale, op=op)
