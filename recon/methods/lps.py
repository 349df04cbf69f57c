"""L+S (Otazo et al., MRM 2015): the cine as low-rank background plus a component sparse in time (FFT or TV).

Per iteration: singular-value thresholding of the Casorati matrix (space x time) of M - S, soft-thresholding of the
temporal FFT of M - L_prev, then a gradient step on the data term. lambda_L is relative to the largest singular
value of the zero-filled cine; lambda_S is relative to the normalised data (99.5th percentile of |zero-filled| = 1).

`solver="fista"` (the default since 2026-12-01): the same objective by accelerated proximal gradient on (L, S)
jointly (Lin & Fessler, MRM 2019): step 1/2 (the joint gradient's Lipschitz constant is 2), Nesterov momentum.
Without ACS lines Otazo's iteration (`solver="otazo"`) converges too slowly to be useful in 100 iterations; with
them both give the same images to ±0.3 dB (docs/METHODS.md). FISTA uses continuation: both thresholds start
CONTINUATION_START times larger and shrink geometrically to their set values, reached after CONTINUATION_SHARE of
the iterations (64 of 100). The minimiser is the same. Without ACS lines most frames never sample the k-space
centre, and a proximal step moves their unmeasured low frequencies by at most the threshold, so the small final
thresholds alone needed ~300 iterations (tuning phantom 0, time-interleaved R_eff 8: 24.8 dB after 100
iterations, 33.9 with continuation, 34.3 converged; docs/METHODS.md).

`sparsity="temporal-tv"`: S sparse in its frame-to-frame differences instead (Otazo's choice for perfusion, and
what BART's temporal TV penalises), by the exact proximal step of temporal total variation. A regular
time-interleaved lattice without ACS lines aliases into a few temporal frequencies, which the FFT model keeps;
the aliasing jumps from frame to frame, which temporal TV removes. The default `auto` takes TV where the mask has
no ACS block and FFT where it has one (tuning set: benchmarks/results/tuning_lps_tv_notes.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..physics import norm
from . import register
from .base import Iterate, Method, param


SOLVERS = ("otazo", "fista")
SPARSITIES = ("auto", "temporal-fft", "temporal-tv")
AUTO_ACS_LINES = 4  # "auto": temporal FFT when at least this many central lines are sampled in every frame
TV_INNER = 10  # dual iterations per proximal step, warm-started from the previous step's dual
CONTINUATION_START, CONTINUATION_SHARE = 100.0, 0.64


def soft(z: torch.Tensor, threshold: float) -> torch.Tensor:
    magnitude = z.abs()
    return z * (magnitude - threshold).clamp_min(0) / magnitude.clamp_min(1e-12)


def singular_value_threshold(cine: torch.Tensor, threshold: float) -> torch.Tensor:
    frames = cine.shape[0]
    u, s, vh = torch.linalg.svd(cine.reshape(frames, -1), full_matrices=False)
    return ((u * (s - threshold).clamp_min(0).to(u.dtype)) @ vh).reshape(cine.shape)


def temporal_fft(x: torch.Tensor) -> torch.Tensor:
    return torch.fft.fft(x, dim=0, norm="ortho")


def temporal_ifft(x: torch.Tensor) -> torch.Tensor:
    return torch.fft.ifft(x, dim=0, norm="ortho")


def temporal_difference(x: torch.Tensor) -> torch.Tensor:
    return x[1:] - x[:-1]


def temporal_difference_adjoint(p: torch.Tensor) -> torch.Tensor:
    zero = torch.zeros_like(p[:1])
    return torch.cat([zero, p]) - torch.cat([p, zero])


class TemporalSparsity:
    """The proximal step of lambda * ||T s||_1 for the temporal sparsifying transform T (FFT or differences)."""

    def __init__(self, kind: str):
        self.kind = kind
        self.dual = None  # temporal TV's dual variable, carried from one proximal step to the next

    def prox(self, z: torch.Tensor, threshold: float) -> torch.Tensor:
        if self.kind == "temporal-fft":
            return temporal_ifft(soft(temporal_fft(z), threshold))
        if z.shape[0] < 2 or threshold <= 0:
            return z
        # projected gradient on the dual of min 0.5 ||s - z||^2 + threshold ||D s||_1 (step 1/4 = 1/||D||^2)
        p = torch.zeros_like(z[1:]) if self.dual is None or self.dual.shape != z[1:].shape else self.dual
        for _ in range(TV_INNER):
            p = p + 0.25 * temporal_difference(z - temporal_difference_adjoint(p))
            p = p * (threshold / p.abs().clamp_min(threshold))
        self.dual = p
        return z - temporal_difference_adjoint(p)


def common_centre_lines(mask: torch.Tensor) -> int:
    """The width of the block of central ky lines that every frame samples (an ACS block), from a (frames, ky, kx)
    mask."""
    every_frame = mask.any(dim=-1).all(dim=0).tolist()
    centre = len(every_frame) // 2
    if not every_frame[centre]:
        return 0
    low, high = centre, centre
    while low > 0 and every_frame[low - 1]:
        low -= 1
    while high + 1 < len(every_frame) and every_frame[high + 1]:
        high += 1
    return high - low + 1


def chosen_sparsity(sparsity: str, problem) -> str:
    """'auto': temporal TV where no ACS block breaks a coherent aliasing pattern, else temporal FFT (also radial)."""
    if sparsity != "auto":
        return sparsity
    if problem.radial or common_centre_lines(problem.mask) >= AUTO_ACS_LINES:
        return "temporal-fft"
    return "temporal-tv"


@register
@dataclass
class LowRankPlusSparse(Method):
    name = "lps"
    summary = "L+S (Otazo): low-rank + temporally sparse (FFT or TV) decomposition with data consistency."
    iterations: int = param(100, "iterations", min=1, max=1000)
    lambda_l: float = param(0.03, "low-rank threshold, fraction of the largest singular value", min=0.0, max=1.0)
    lambda_s: float = param(0.02, "sparsity threshold of S in its temporal transform (normalised units)",
                            min=0.0, max=1.0)
    tolerance: float = param(1e-4, "stop when the relative update falls below this", min=0.0, max=1.0)
    solver: str = param("fista", "fista: accelerated proximal gradient (converges without ACS lines too); "
                                 "otazo: Otazo's iteration", choices=SOLVERS)
    sparsity: str = param("auto", "S sparse in temporal frequency ('temporal-fft', Otazo's cine choice) or in its "
                                  "frame-to-frame differences ('temporal-tv'); 'auto': TV without an ACS block "
                                  "(fewer than 4 central lines in every frame), FFT with one and for radial",
                          choices=SPARSITIES)

    def iterate(self, problem):
        if self.solver == "fista":
            yield from self.iterate_fista(problem)
            return
        op, y = problem.op, problem.kspace
        m = op.adjoint(y)
        largest = float(torch.linalg.matrix_norm(m.reshape(m.shape[0], -1), ord=2))
        sparse = torch.zeros_like(m)
        low_rank_prev = m
        sparsity = TemporalSparsity(chosen_sparsity(self.sparsity, problem))
        y_norm = norm(y)
        for it in range(1, self.iterations + 1):
            low_rank = singular_value_threshold(m - sparse, self.lambda_l * largest)
            sparse = sparsity.prox(m - low_rank_prev, self.lambda_s)
            x = low_rank + sparse
            gradient, misfit = op.gradient(x, y)
            m_new = x - gradient
            change = float(norm(m_new - m) / norm(m).clamp_min(1e-12))
            m, low_rank_prev = m_new, low_rank
            done = change < self.tolerance or it == self.iterations
            yield Iterate(it, it if done else self.iterations, problem.to_output(x),
                          {"residual": float(misfit / y_norm), "update": change})
            if done:
                return

    def iterate_fista(self, problem):
        op, y = problem.op, problem.kspace
        start = op.adjoint(y)
        largest = float(torch.linalg.matrix_norm(start.reshape(start.shape[0], -1), ord=2))
        step, theta = 0.5, 1.0
        low_rank, sparse = start, torch.zeros_like(start)
        low_rank_ahead, sparse_ahead = low_rank, sparse
        y_norm = norm(y)
        sparsity = TemporalSparsity(chosen_sparsity(self.sparsity, problem))
        for it in range(1, self.iterations + 1):
            gradient, misfit = op.gradient(low_rank_ahead + sparse_ahead, y)
            boost = CONTINUATION_START ** max(0.0, 1 - it / (CONTINUATION_SHARE * self.iterations))
            new_low_rank = singular_value_threshold(low_rank_ahead - step * gradient,
                                                    boost * step * self.lambda_l * largest)
            new_sparse = sparsity.prox(sparse_ahead - step * gradient, boost * step * self.lambda_s)
            theta_next = (1 + (1 + 4 * theta ** 2) ** 0.5) / 2
            momentum = (theta - 1) / theta_next
            x_old = low_rank + sparse
            low_rank_ahead = new_low_rank + momentum * (new_low_rank - low_rank)
            sparse_ahead = new_sparse + momentum * (new_sparse - sparse)
            low_rank, sparse, theta = new_low_rank, new_sparse, theta_next
            x = low_rank + sparse
            change = float(norm(x - x_old) / norm(x_old).clamp_min(1e-12))
            done = (change < self.tolerance and boost == 1.0) or it == self.iterations
            yield Iterate(it, it if done else self.iterations, problem.to_output(x),
                          {"residual": float(misfit / y_norm), "update": change})
            if done:
                return
