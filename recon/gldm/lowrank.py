"""SAKE-style low-rank step on block-Hankel k-space: patches (window x window) of every frame side by side
(frames as channels), projected onto the top-`rank` right singular vectors, then averaged back (Hermitian V^H
reconstruction, which the published code gets wrong on PyTorch >= 1.8). The projector comes from the Gram matrix
A^H A and eigh: the same subspace as a full SVD at a fraction of the cost. The Gram matrix is one BLAS `herk`
(only its upper triangle: half the work of a general product), which `eigh` reads as it is.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from scipy.linalg.blas import get_blas_funcs


def hankel_matrix(k: torch.Tensor, window: int) -> torch.Tensor:
    """k (frames, ky, kx) complex -> P (frames * window^2, patches), contiguous: the block-Hankel matrix A = P^T."""
    parts = F.unfold(torch.stack([k.real, k.imag]), window)
    return torch.complex(parts[0], parts[1])


def unhankel(p: torch.Tensor, shape: tuple[int, int, int], window: int) -> torch.Tensor:
    """Average every k-space location over the patches that contain it (the adjoint of hankel, normalised)."""
    size = shape[1:]
    ones = torch.ones(1, shape[0] * window * window, p.shape[1], dtype=p.real.dtype)
    counts = F.fold(ones, size, window)[0]
    folded = F.fold(torch.stack([p.real, p.imag]), size, window) / counts
    return torch.complex(folded[0], folded[1])


def gram_upper(p: torch.Tensor) -> torch.Tensor:
    """The upper triangle of A^H A = conj(P) P^T (the lower one is not filled in)."""
    a = p.numpy().T  # A, Fortran-ordered: no copy
    herk = get_blas_funcs("herk", (a,))
    return torch.from_numpy(herk(1.0, a, trans=2, lower=0))


def low_rank_step(k: torch.Tensor, rank: int, window: int = 8) -> torch.Tensor:
    """Rank-`rank` projection of the block-Hankel matrix of k (frames, ky, kx), mapped back to k-space."""
    p = hankel_matrix(k, window)  # (D, L)
    _, vectors = torch.linalg.eigh(gram_upper(p), UPLO="U")
    v = vectors[:, -rank:]  # top-rank right singular vectors of A
    projected = v.conj() @ (v.T @ p)  # (A V V^H)^T = conj(V) V^T A^T
    return unhankel(projected, tuple(k.shape), window)
