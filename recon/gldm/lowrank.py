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
    """k (frames, ky, kx) complex -> P (frames * window^2, patches): the block-Hankel matrix A = P^T, rows ordered
    (frame, dy, dx), columns (patch y, patch x). One copy of a strided view."""
    frames = k.shape[0]
    patches = k.unfold(1, window, 1).unfold(2, window, 1)  # (frames, py, px, window, window), a view
    return patches.permute(0, 3, 4, 1, 2).reshape(frames * window * window, -1)


def coverage(n: int, window: int) -> torch.Tensor:
    """How many window positions along an axis of length n contain each index."""
    i = torch.arange(n)
    return (torch.clamp(i, max=n - window) - torch.clamp(i - window + 1, min=0) + 1).float()


def unhankel(p: torch.Tensor, shape: tuple[int, int, int], window: int) -> torch.Tensor:
    """Average every k-space location over the patches that contain it (the adjoint of hankel, normalised)."""
    size = shape[1:]
    counts = coverage(size[0], window)[:, None] * coverage(size[1], window)[None, :]
    folded = F.fold(torch.view_as_real(p).permute(2, 0, 1), size, window) / counts
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
