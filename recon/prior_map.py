"""Prior-contribution map: where the image comes from k-space that was not measured (docs/METHODS.md).

For a final estimate x (coil-combined, normalised units) the estimate's own multi-coil k-space is F(S x). Its
unmeasured part, brought back to one image with the coil maps, is

    u = S^H F^-1 ((1 - M) F(S x))            (= S^H S x - A^H A x, i.e. x - A^H A x on the maps' support)

which is exactly what data consistency could not check: with every location measured u = 0. The map is the local
RMS of u (Gaussian window, per frame) relative to the cine's signal level L, the 99th percentile of the local RMS
of x over the whole cine:

    P = sqrt(G * |u|^2) / L                    ("cine", the default)

P is dimensionless, 0 where the data decided and about 1 where as much was filled in as the brightest tissue's whole
signal. `relative_to="local"` divides by the local RMS of x instead (floored at EPS * L): the local share of the
signal that was filled in. It ranks the actual error worse (benchmarks/results/calibration.md), because a dark
region filled in heavily carries a large share but a small error. Cost: two FFTs per coil and frame and two small
filters, negligible next to one network pass.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.ndimage import gaussian_filter

from .physics import fft2c, ifft2c

SIGMA = 2.0  # Gaussian window (pixels) for the local RMS
EPS = 0.05  # "local": floor of the local signal, as a share of L
RELATIVE_TO = ("cine", "local")


def unmeasured_image(op, x: torch.Tensor) -> torch.Tensor:
    """S^H F^-1((1 - M) F(S x)): the part of x made of k-space locations the mask did not sample."""
    coil_k = fft2c(op.sens[None] * x[:, None])
    return (op.sens.conj()[None] * ifft2c((1 - op.mask) * coil_k)).sum(dim=1)


def local_rms(a: torch.Tensor, sigma: float) -> np.ndarray:
    power = a.abs().square().numpy().astype(np.float64)
    return np.sqrt(gaussian_filter(power, sigma=(0, sigma, sigma), mode="nearest"))


def prior_map(problem, image, sigma: float = SIGMA, relative_to: str = "cine", eps: float = EPS) -> np.ndarray:
    """The prior-contribution map (frames, y, x) float32 of `image` for `problem`'s mask and coil maps. `image` is
    in the input's units (as a method returns it) or a normalised torch tensor (as a method holds it)."""
    if relative_to not in RELATIVE_TO:
        raise ValueError(f"relative_to {relative_to!r}: use one of {RELATIVE_TO}")
    if isinstance(image, torch.Tensor):
        x = image.detach().to(torch.complex64)
    else:
        x = torch.from_numpy(np.ascontiguousarray(image, np.complex64)) / problem.scale
    with torch.inference_mode():
        u = unmeasured_image(problem.op, x)
    unmeasured, signal = local_rms(u, sigma), local_rms(x, sigma)
    level = float(np.percentile(signal, 99)) if signal.size else 0.0
    if level <= 0 or not np.isfinite(level):
        return np.zeros(signal.shape, np.float32)
    below = level if relative_to == "cine" else np.maximum(signal, eps * level)
    return np.nan_to_num(unmeasured / below, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)
