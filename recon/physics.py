"""Cartesian multi-coil cine forward model in torch: A(x) = M * F_xy(S x), centred orthonormal FFTs.

Shapes: image x (frames, y, x); coil maps S (coils, y, x); k-space / mask (frames, coils, ky, kx) / (frames, ky, kx).
"""

from __future__ import annotations

import torch

_AXES = (-2, -1)


def fft2c(x: torch.Tensor) -> torch.Tensor:
    """Centred orthonormal 2D FFT over the last two axes."""
    x = torch.fft.ifftshift(x, dim=_AXES)
    return torch.fft.fftshift(torch.fft.fft2(x, dim=_AXES, norm="ortho"), dim=_AXES)


def ifft2c(k: torch.Tensor) -> torch.Tensor:
    """Centred orthonormal 2D inverse FFT over the last two axes."""
    k = torch.fft.ifftshift(k, dim=_AXES)
    return torch.fft.fftshift(torch.fft.ifft2(k, dim=_AXES, norm="ortho"), dim=_AXES)


def frame_dot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Real part of <a, b> per frame, shaped to broadcast over (frames, y, x)."""
    return (a.conj() * b).real.sum(dim=(-2, -1), keepdim=True)


class CineOperator:
    """The sampling operator A and its adjoint for one cine. ||A|| <= 1 when sum |S|^2 <= 1."""

    def __init__(self, mask: torch.Tensor, sens: torch.Tensor):
        self.mask = mask[:, None].to(torch.complex64)  # (frames, 1, ky, kx)
        self.sens = sens  # (coils, y, x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mask * fft2c(self.sens[None] * x[:, None])

    def adjoint(self, k: torch.Tensor) -> torch.Tensor:
        return (self.sens.conj()[None] * ifft2c(self.mask * k)).sum(dim=1)

    def normal(self, x: torch.Tensor) -> torch.Tensor:
        return self.adjoint(self.forward(x))

    def data_consistency(self, x: torch.Tensor, kspace: torch.Tensor, weight: float | None = None) -> torch.Tensor:
        """Project x onto the measured data.

        weight None: hard replacement of measured samples in each coil image (exact at sampled locations).
        weight w in (0, 1]: k <- k + w * M (y - k), the soft version for noisy data (w = 1 is hard).
        """
        w = 1.0 if weight is None else float(weight)
        coil_k = fft2c(self.sens[None] * x[:, None])
        coil_k = coil_k + w * self.mask * (kspace - coil_k)
        return (self.sens.conj()[None] * ifft2c(coil_k)).sum(dim=1)

    def residual(self, x: torch.Tensor, kspace: torch.Tensor) -> float:
        """Relative data mismatch ||A x - y|| / ||y||."""
        return float(torch.linalg.vector_norm(self.forward(x) - kspace) / torch.linalg.vector_norm(kspace))


def rss_image(kspace) -> "np.ndarray":
    """Root-sum-of-squares magnitude (frames, y, x) of zero-filled coil images: a map-free preview of the data."""
    import numpy as np

    coil_images = ifft2c(torch.as_tensor(np.ascontiguousarray(kspace, np.complex64)))
    return coil_images.abs().pow(2).sum(dim=1).sqrt().numpy()
