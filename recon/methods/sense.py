"""CG-SENSE: per-frame Tikhonov-regularised least squares, min ||A x - y||^2 + lam ||x||^2, by conjugate gradients.

Frames are independent systems solved together (per-frame step sizes), so nothing is shared across time.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..physics import frame_dot
from . import register
from .base import Iterate, Method, param


@register
@dataclass
class Sense(Method):
    name = "sense"
    summary = "CG-SENSE frame by frame (parallel imaging only, no temporal prior)."
    iterations: int = param(15, "conjugate-gradient iterations", min=1, max=500)
    lam: float = param(0.01, "Tikhonov weight (relative to the normalised data)", min=0.0, max=10.0)

    def iterate(self, problem):
        op, y = problem.op, problem.kspace
        normal = lambda v: op.normal(v) + self.lam * v  # noqa: E731
        x = torch.zeros_like(problem.zero_filled())
        r = op.adjoint(y) - normal(x)
        p = r.clone()
        rr = frame_dot(r, r)
        for it in range(1, self.iterations + 1):
            q = normal(p)
            alpha = rr / frame_dot(p, q).clamp_min(1e-30)
            x = x + alpha * p
            r = r - alpha * q
            rr_new = frame_dot(r, r)
            p = r + (rr_new / rr.clamp_min(1e-30)) * p
            rr = rr_new
            yield Iterate(it, self.iterations, problem.to_output(x), {"residual": op.residual(x, y)})
