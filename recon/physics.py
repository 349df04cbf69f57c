"""Cartesian multi-coil cine forward model in torch: A(x) = M * F_xy(S x), centred orthonormal FFTs.

Shapes: image x (frames, y, x); coil maps S (coils, y, x); k-space / mask (frames, coils, ky, kx) / (frames, ky, kx).
"""

from __future__ import annotations

import functools

import torch

_AXES = (-2, -1)


@functools.lru_cache(maxsize=16)
def checkerboards(ny: int, nx: int, dtype: torch.dtype, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """(-1)^(y+x), and the same times (-1)^((ny+nx)/2), for even ny and nx.

    With them fftshift(fft2(ifftshift(x))) = outer * fft2(inner * x): two multiplications instead of two rolls
    (torch.roll of the GIRAF cine's coil k-space takes twice as long as its FFT, 2 cores)."""
    sign = torch.tensor([1.0, -1.0], dtype=dtype, device=device)
    inner = sign.repeat(ny // 2)[:, None] * sign.repeat(nx // 2)[None, :]
    return inner, inner * (-1) ** ((ny + nx) // 2)


def centred(transform, x: torch.Tensor) -> torch.Tensor:
    ny, nx = x.shape[-2:]
    if ny % 2 or nx % 2:
        shifted = torch.fft.ifftshift(x, dim=_AXES)
        return torch.fft.fftshift(transform(shifted, dim=_AXES, norm="ortho"), dim=_AXES)
    inner, outer = checkerboards(ny, nx, x.dtype, x.device)
    return outer * transform(inner * x, dim=_AXES, norm="ortho")


def fft2c(x: torch.Tensor) -> torch.Tensor:
    """Centred orthonormal 2D FFT over the last two axes."""
    return centred(torch.fft.fft2, x)


def ifft2c(k: torch.Tensor) -> torch.Tensor:
    """Centred orthonormal 2D inverse FFT over the last two axes."""
    return centred(torch.fft.ifft2, k)


def norm(z: torch.Tensor) -> torch.Tensor:
    """||z||_2; on CPU torch's vector_norm of a complex tensor is ~40x slower than of its real view."""
    return torch.linalg.vector_norm(torch.view_as_real(z.resolve_conj()) if z.is_complex() else z)


def frame_dot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Real part of <a, b> per frame, shaped to broadcast over (frames, y, x)."""
    return (a.conj() * b).real.sum(dim=(-2, -1), keepdim=True)


class CineOperator:
    """The sampling operator A and its adjoint for one cine. ||A|| <= 1 when sum |S|^2 <= 1."""

    def __init__(self, mask: torch.Tensor, sens: torch.Tensor):
        self.mask = mask[:, None].to(torch.complex64)  # (frames, 1, ky, kx)
        self.sens = sens  # (coils, y, x)
        ny, nx = sens.shape[-2:]
        self.modulated = ny % 2 == 0 and nx % 2 == 0
        if self.modulated:  # the centring checkerboards folded into the maps and the mask (see `checkerboards`)
            inner, self.outer = checkerboards(ny, nx, sens.dtype, sens.device)
            self.coil_weights = sens * inner
            self.k_weights = self.mask * self.outer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.modulated:
            return self.k_weights * torch.fft.fft2(self.coil_weights[None] * x[:, None], dim=_AXES, norm="ortho")
        return self.mask * fft2c(self.sens[None] * x[:, None])

    def adjoint(self, k: torch.Tensor) -> torch.Tensor:
        if self.modulated:
            coil_images = torch.fft.ifft2(self.k_weights * k, dim=_AXES, norm="ortho")
            return (self.coil_weights.conj()[None] * coil_images).sum(dim=1)
        return (self.sens.conj()[None] * ifft2c(self.mask * k)).sum(dim=1)

    def normal(self, x: torch.Tensor) -> torch.Tensor:
        return self.adjoint(self.forward(x))

    def gradient(self, x: torch.Tensor, kspace: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """A^H (A x - y), the data term's gradient, and the misfit ||A x - y||."""
        misfit = self.forward(x) - kspace
        return self.adjoint(misfit), norm(misfit)

    def data_consistency(self, x: torch.Tensor, kspace: torch.Tensor, weight: float | None = None,
                         gain=None) -> torch.Tensor:
        """Project x onto the measured data.

        weight None: hard replacement of measured samples in each coil image (exact at sampled locations).
        weight w in (0, 1]: k <- k + w * M (y - k), the soft version for noisy data (w = 1 is hard).
        gain: a function of (x's coil k-space, the measured samples there) giving the share each measured sample
        takes, in [0, 1], times w (recon.noise.WienerGain: noise-aware data consistency).
        """
        w = 1.0 if weight is None else float(weight)
        if self.modulated:  # in the modulated k-space: y moves there, the coil k-space never leaves it
            coil_k = torch.fft.fft2(self.coil_weights[None] * x[:, None], dim=_AXES, norm="ortho")
            measured = self.outer * kspace
            coil_k = coil_k + self.share(coil_k, measured, w, gain) * self.mask * (measured - coil_k)
            return (self.coil_weights.conj()[None] * torch.fft.ifft2(coil_k, dim=_AXES, norm="ortho")).sum(dim=1)
        coil_k = fft2c(self.sens[None] * x[:, None])
        coil_k = coil_k + self.share(coil_k, kspace, w, gain) * self.mask * (kspace - coil_k)
        return (self.sens.conj()[None] * ifft2c(coil_k)).sum(dim=1)

    @staticmethod
    def share(coil_k: torch.Tensor, measured: torch.Tensor, weight: float, gain) -> torch.Tensor | float:
        return weight if gain is None else weight * gain(coil_k, measured)

    def residual(self, x: torch.Tensor, kspace: torch.Tensor) -> float:
        """Relative data mismatch ||A x - y|| / ||y||."""
        return float(norm(self.forward(x) - kspace) / norm(kspace))


def rss_image(kspace) -> "np.ndarray":
    """Root-sum-of-squares magnitude (frames, y, x) of zero-filled coil images: a map-free preview of the data."""
    import numpy as np

    coil_images = ifft2c(torch.as_tensor(np.ascontiguousarray(kspace, np.complex64)))
    return coil_images.abs().pow(2).sum(dim=1).sqrt().numpy()
