"""SAKE-style low-rank step on block-Hankel k-space: patches (window x window) of every frame side by side
(frames as channels), projected onto the top-`rank` right singular vectors, then averaged back (Hermitian V^H
reconstruction, which the published code gets wrong on PyTorch >= 1.8). The projector comes from the Gram matrix
A^H A and eigh: the same subspace as a full SVD at a fraction of the cost."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def hankel_columns(k: torch.Tensor, window: int) -> torch.Tensor:
    """k (frames, ky, kx) complex -> P (frames * window^2, patches): the block-Hankel matrix, transposed."""
    real = F.unfold(k.real[None], window)[0]
    imag = F.unfold(k.imag[None], window)[0]
    return torch.complex(real, imag)


def unhankel(p: torch.Tensor, shape: tuple[int, int, int], window: int) -> torch.Tensor:
    """Average every k-space location over the patches that contain it (the adjoint of hankel, normalised)."""
    size = shape[1:]
    ones = torch.ones(1, shape[0] * window * window, p.shape[1], dtype=p.real.dtype)
    counts = F.fold(ones, size, window)[0]
    real = F.fold(p.real[None], size, window)[0]
    imag = F.fold(p.imag[None], size, window)[0]
    return torch.complex(real, imag) / counts


def low_rank_step(k: torch.Tensor, rank: int, window: int = 8) -> torch.Tensor:
    """Rank-`rank` projection of the block-Hankel matrix of k (frames, ky, kx), mapped back to k-space."""
    p = hankel_columns(k, window)  # (D, L); the Hankel matrix is A = p^T (L x D)
    gram = p.conj() @ p.T  # A^H A, (D, D), Hermitian
    _, vectors = torch.linalg.eigh(gram)
    v = vectors[:, -rank:]  # top-rank right singular vectors of A
    projected = (v.conj() @ (v.T @ p))  # (A V V^H)^T = conj(V) V^T A^T
    return unhankel(projected, tuple(k.shape), window)
