"""SAKE-style low-rank step on block-Hankel k-space: patches (window x window) of every frame side by side
(frames as channels), projected onto the top-`rank` right singular vectors, then averaged back (Hermitian V^H
reconstruction, which the published code gets wrong on PyTorch >= 1.8). The projector comes from the Gram matrix
A^H A and eigh: the same subspace as a full SVD at a fraction of the cost.

The complex Hankel matrix is kept as its real and imaginary parts: the Hermitian Gram then costs three real matrix
products instead of one complex product of four, and no complex copy of the (large) Hankel matrix is ever made.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def hankel_parts(k: torch.Tensor, window: int) -> tuple[torch.Tensor, torch.Tensor]:
    """k (frames, ky, kx) complex -> real and imaginary parts of P (frames * window^2, patches), A = P^T."""
    parts = F.unfold(torch.stack([k.real, k.imag]), window)
    return parts[0], parts[1]


def unhankel(real: torch.Tensor, imag: torch.Tensor, shape: tuple[int, int, int], window: int) -> torch.Tensor:
    """Average every k-space location over the patches that contain it (the adjoint of hankel, normalised)."""
    size = shape[1:]
    ones = torch.ones(1, shape[0] * window * window, real.shape[1], dtype=real.dtype)
    counts = F.fold(ones, size, window)[0]
    folded = F.fold(torch.stack([real, imag]), size, window) / counts
    return torch.complex(folded[0], folded[1])


def hermitian_gram(real: torch.Tensor, imag: torch.Tensor) -> torch.Tensor:
    """A^H A = conj(P) P^T for P = real + i imag; its imaginary part is C - C^T with C = real imag^T."""
    cross = real @ imag.T
    return torch.complex(real @ real.T + imag @ imag.T, cross - cross.T)


def low_rank_step(k: torch.Tensor, rank: int, window: int = 8) -> torch.Tensor:
    """Rank-`rank` projection of the block-Hankel matrix of k (frames, ky, kx), mapped back to k-space."""
    real, imag = hankel_parts(k, window)
    _, vectors = torch.linalg.eigh(hermitian_gram(real, imag))
    v = vectors[:, -rank:]  # top-rank right singular vectors of A
    # (A V V^H)^T = conj(V) (V^T P), in real arithmetic
    vr, vi = v.real.T.contiguous(), v.imag.T.contiguous()
    coef_r, coef_i = vr @ real - vi @ imag, vr @ imag + vi @ real
    out_r = vr.T @ coef_r + vi.T @ coef_i
    out_i = vr.T @ coef_i - vi.T @ coef_r
    return unhankel(out_r, out_i, tuple(k.shape), window)
