"""Multi-coil radial cine forward model: A x = sqrt(w) * NUFFT(S x), frame by frame, with sigpy's NUFFT.

w is the Pipe-Menon density compensation of each frame's spokes, scaled once so that ||A|| <= 1 like the Cartesian
operator (methods take unit gradient steps). Weighting by sqrt(w) (Otazo's radial L+S does the same) makes A^H y
the gridding reconstruction and keeps the normal equations well conditioned; the data a method sees are the
measured samples times sqrt(w). Where Cartesian data consistency replaces samples, here a few conjugate-gradient
steps on the (regularised) normal equations move the image onto the data.

Iterative methods only need the normal operator A^H A and A^H y. A^H A of one frame is a convolution, applied by
Toeplitz embedding (torchkbnufft): two FFTs on a twice-as-large grid instead of a NUFFT and its adjoint, 8x faster
and closer to the exact transform; A^H y is computed once per data set (`measured_adjoint`).
"""

from __future__ import annotations

import numpy as np
import sigpy
import sigpy.mri
import torch
import torchkbnufft

from ..held_signals import held_signals
from ..physics import frame_dot, norm
from .trajectory import rasterise

# NUFFT grid oversampling and kernel width. Reconstruction: sigpy's defaults, 7e-3 relative error against the
# exact DFT, well below the noise, and 40% faster than 1.5/6 (5e-5). Simulation: 2/6 (9e-6), so that simulated
# data are not made with the operator that reconstructs them.
FAST, EXACT = (1.25, 4), (2.0, 6)
DC_STEPS = 1  # CG steps per data-consistency call: 1 gave +8 dB over 3 on a tuning phantom (more fit the noise)
POWER_ITERATIONS = 8
DENSITY_ITERATIONS = 10  # Pipe-Menon; 30 changes the gridding gain by < 15% and takes twice as long


def nufft(images: np.ndarray, coord: np.ndarray, accuracy: tuple[float, int] = FAST) -> np.ndarray:
    """(..., ny, nx) -> (..., spokes, readout), centred and orthonormal like fft2c on integer coordinates."""
    with held_signals():  # numba compiles sigpy's kernels on the first call (recon.held_signals)
        return sigpy.nufft(images, coord, oversamp=accuracy[0], width=accuracy[1])


def nufft_adjoint(samples: np.ndarray, coord: np.ndarray, image_shape: tuple[int, int],
                  accuracy: tuple[float, int] = FAST) -> np.ndarray:
    with held_signals():
        return sigpy.nufft_adjoint(samples, coord, (*samples.shape[:-coord.ndim + 1], *image_shape),
                                   oversamp=accuracy[0], width=accuracy[1])


def density(traj: np.ndarray, image_shape: tuple[int, int]) -> np.ndarray:
    """Pipe-Menon density compensation (frames, spokes, readout), one frame's spokes at a time."""
    with held_signals():
        return np.stack([np.asarray(sigpy.mri.pipe_menon_dcf(t, image_shape, max_iter=DENSITY_ITERATIONS,
                                                             show_pbar=False), np.float32) for t in traj])


def toeplitz_kernels(traj: np.ndarray, weights: np.ndarray, image_shape: tuple[int, int]) -> torch.Tensor:
    """(frames, 2 ny, 2 nx) FFT kernels with which torchkbnufft.ToepNufft applies each frame's NUFFT^H w NUFFT."""
    frames = traj.shape[0]
    omega = torch.from_numpy(2 * np.pi * traj / np.asarray(image_shape, np.float32)).reshape(frames, -1, 2)
    w = torch.from_numpy(weights).reshape(frames, 1, -1).to(torch.complex64)
    kernels = torchkbnufft.calc_toeplitz_kernel(omega.permute(0, 2, 1).contiguous(), image_shape, weights=w,
                                                norm="ortho")
    # "ortho" normalises the FFTs by the embedding grid, 2^ndim times the image: undo it to match sigpy's NUFFT
    return kernels * 2 ** len(image_shape)


def largest_eigenvalue(apply, shape: tuple[int, ...], iterations: int = POWER_ITERATIONS) -> float:
    """Power iteration for the largest eigenvalue of a positive semi-definite `apply`."""
    x = torch.randn(shape, dtype=torch.complex64, generator=torch.Generator().manual_seed(0))
    value = 0.0
    for _ in range(iterations):
        x = x / torch.linalg.vector_norm(x)
        y = apply(x)
        value = float(torch.vdot(x.flatten(), y.flatten()).real)
        x = y
    return value


class RadialOperator:
    """A and its adjoint for one radial cine: image (frames, y, x) <-> samples (frames, coils, spokes, readout)."""

    def __init__(self, traj: np.ndarray, sens: torch.Tensor, weights: np.ndarray | None = None):
        self.traj = np.ascontiguousarray(traj, np.float32)
        self.sens = sens  # (coils, y, x)
        self.image_shape = tuple(sens.shape[-2:])
        if weights is None:
            weights = density(self.traj, self.image_shape)
        self.toeplitz = torchkbnufft.ToepNufft()
        self.kernels = toeplitz_kernels(self.traj, np.asarray(weights, np.float32), self.image_shape)
        largest = self.single_coil_norm() * 1.02  # 2% margin over the power-iteration estimate
        self.sqrt_w = (np.sqrt(weights) / np.sqrt(largest)).astype(np.float32)[:, None]  # (frames, 1, spokes, readout)
        self.kernels /= largest
        self._measured: tuple[torch.Tensor, torch.Tensor] | None = None
        # the Cartesian cells the spokes cross, (frames, 1, ky, kx) like CineOperator.mask: what the prior map
        # (recon.prior_map) counts as measured
        self.mask = torch.from_numpy(rasterise(self.traj, self.image_shape))[:, None].to(torch.complex64)

    def single_coil_norm(self) -> float:
        def normal(x):
            return self.toeplitz(x[:, None], self.kernels, norm="ortho")[:, 0]
        return largest_eigenvalue(normal, (len(self.traj), *self.image_shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        coil_images = (self.sens[None] * x[:, None]).numpy()
        samples = np.stack([nufft(coil_images[t], c) for t, c in enumerate(self.traj)]) * self.sqrt_w
        return torch.from_numpy(samples.astype(np.complex64))

    def adjoint(self, k: torch.Tensor) -> torch.Tensor:
        weighted = k.numpy() * self.sqrt_w
        coil_images = np.stack([nufft_adjoint(weighted[t], c, self.image_shape) for t, c in enumerate(self.traj)])
        return (self.sens.conj()[None] * torch.from_numpy(coil_images.astype(np.complex64))).sum(dim=1)

    def normal(self, x: torch.Tensor) -> torch.Tensor:
        """A^H A x by Toeplitz embedding (agrees with adjoint(forward(x)) to the NUFFT's own 2e-3)."""
        smaps = self.sens[None].expand(x.shape[0], *self.sens.shape)
        return self.toeplitz(x[:, None], self.kernels, smaps=smaps, norm="ortho")[:, 0]

    def measured_adjoint(self, kspace: torch.Tensor) -> torch.Tensor:
        """A^H y, kept for the last `kspace` seen: methods pass the same samples at every step."""
        if self._measured is None or self._measured[0] is not kspace:
            self._measured = (kspace, self.adjoint(kspace))
        return self._measured[1]

    def gradient(self, x: torch.Tensor, kspace: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """A^H (A x - y) and ||A x - y|| without a NUFFT: ||A x - y||^2 = <x, A^H A x> - 2 Re <x, A^H y> + ||y||^2."""
        normal_x, measured = self.normal(x), self.measured_adjoint(kspace)
        squared = torch.vdot(x.flatten(), (normal_x - 2 * measured).flatten()).real + norm(kspace) ** 2
        return normal_x - measured, squared.clamp_min(0).sqrt()

    def data_consistency(self, x: torch.Tensor, kspace: torch.Tensor, weight: float | None = None,
                         steps: int | None = None) -> torch.Tensor:
        """`steps` CG steps from x on min ||A z - y||^2 + mu ||z - x||^2, mu = (1 - weight) / weight (0 when weight
        is None or 1): the radial counterpart of replacing (or, softly, blending) the measured samples."""
        mu = 0.0 if weight is None or weight >= 1 else (1 - float(weight)) / max(float(weight), 1e-6)
        z = x.clone()
        r = self.measured_adjoint(kspace) - self.normal(z)  # the mu term vanishes at z = x
        p, rr = r.clone(), frame_dot(r, r)
        for _ in range(DC_STEPS if steps is None else steps):
            q = self.normal(p) + mu * p
            alpha = rr / frame_dot(p, q).clamp_min(1e-30)
            z, r = z + alpha * p, r - alpha * q
            rr_new = frame_dot(r, r)
            p, rr = r + (rr_new / rr.clamp_min(1e-30)) * p, rr_new
        return z

    def residual(self, x: torch.Tensor, kspace: torch.Tensor) -> float:
        return float(norm(self.forward(x) - kspace) / norm(kspace))
