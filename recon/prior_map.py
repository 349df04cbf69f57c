"""Prior-contribution map: where the image comes from k-space that no measurement determined (docs/METHODS.md).

A cine x (frames, y, x; coil-combined, normalised units) is split into its temporal mean m and the dynamic rest
d_t = x_t - m. The mean is measured at a k-space location when any frame sampled it (union mask M_any); the dynamic
part of frame t only where frame t sampled it (M_t). The image of what no sample determined is

    u_t = S^H F^-1 [ (1 - M_t) F(S d_t) + (1 - M_any) F(S m) ]

(static anatomy that other frames measured does not count as filled in; anatomy in k-space no frame sampled, and
motion at locations this frame did not sample, do). With every location measured u = 0. The map is the local RMS
of u (Gaussian window of SIGMA pixels, per frame) relative to the cine's signal level L, the 99th percentile of the
local RMS of x over the whole cine:

    P = sqrt(G * |u|^2) / L

P is dimensionless: 0 where the data decided, about 1 where as much was filled in as the brightest tissue's whole
signal. `temporal=False` gives the per-frame version (u_t = S^H F^-1 (1 - M_t) F(S x_t): every location this frame
did not sample counts, even when other frames sampled it); it ranks the actual error worse
(benchmarks/results/calibration.md). Cost: two FFTs per coil and frame and two small filters.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.ndimage import gaussian_filter

from .physics import fft2c, ifft2c

SIGMA = 2.0  # Gaussian window (pixels) for the local RMS
LEVEL_PERCENTILE = 99  # the cine's signal level L: this percentile of the local RMS of the image


def unmeasured_image(op, x: torch.Tensor, temporal: bool = True) -> torch.Tensor:
    """u (frames, y, x): the part of x that no measured k-space sample determined (see the module docstring)."""
    unmeasured = 1 - op.mask  # (frames, 1, ky, kx)
    if not temporal:
        return (op.sens.conj()[None] * ifft2c(unmeasured * fft2c(op.sens[None] * x[:, None]))).sum(dim=1)
    mean = x.mean(dim=0, keepdim=True)
    never = 1 - op.mask.abs().amax(dim=0, keepdim=True)  # (1, 1, ky, kx): no frame sampled it
    coil_k = unmeasured * fft2c(op.sens[None] * (x - mean)[:, None]) + never * fft2c(op.sens[None] * mean[:, None])
    return (op.sens.conj()[None] * ifft2c(coil_k)).sum(dim=1)


def local_rms(a: torch.Tensor, sigma: float) -> np.ndarray:
    power = a.abs().square().numpy().astype(np.float64)
    return np.sqrt(gaussian_filter(power, sigma=(0, sigma, sigma), mode="nearest"))


def prior_map(problem, image, sigma: float = SIGMA, temporal: bool = True) -> np.ndarray:
    """The prior-contribution map (frames, y, x) float32 of `image` for `problem`'s mask and coil maps. `image` is
    in the input's units (as a method returns it) or a normalised torch tensor (as a method holds it)."""
    if isinstance(image, torch.Tensor):
        x = image.detach().to(torch.complex64)
    else:
        x = torch.from_numpy(np.ascontiguousarray(image, np.complex64)) / problem.scale
    with torch.inference_mode():
        u = unmeasured_image(problem.op, x, temporal)
    signal = local_rms(x, sigma)
    level = float(np.percentile(signal, LEVEL_PERCENTILE)) if signal.size else 0.0
    if not (np.isfinite(level) and level > 0):
        return np.zeros(signal.shape, np.float32)
    return np.nan_to_num(local_rms(u, sigma) / level, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)
