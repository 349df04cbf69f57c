"""Zero-filled: the adjoint of the sampling operator (coil-combined with the maps). The baseline of baselines."""

from __future__ import annotations

from dataclasses import dataclass

from . import register
from .base import Iterate, Method


@register
@dataclass
class ZeroFilled(Method):
    name = "zero-filled"
    summary = "Coil-combined inverse FFT of the measured samples (no prior)."

    def iterate(self, problem):
        image = problem.zero_filled()
        yield Iterate(1, 1, problem.to_output(image), {"residual": problem.op.residual(image, problem.kspace)})
