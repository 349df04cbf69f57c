"""Variance-exploding SDE (Song et al. 2021): sigma(t) = sigma_min (sigma_max / sigma_min)^t, t in [0, 1].

Training is continuous denoising score matching with t ~ U(0, 1). The network is wrapped in the EDM
preconditioning of Karras et al. (2022), so one set of weights behaves well from sigma_min to sigma_max; the
score is (D(x; sigma) - x) / sigma^2 with D the denoiser.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass
class VESDE:
    sigma_min: float = 0.01
    sigma_max: float = 50.0
    sigma_data: float = 0.5  # typical std of a training plane after normalisation

    def sigma(self, t: torch.Tensor) -> torch.Tensor:
        return self.sigma_min * (self.sigma_max / self.sigma_min) ** t

    def schedule(self, steps: int, sigma_start: float | None = None) -> torch.Tensor:
        """Geometric sequence of `steps` noise levels from sigma_start (default sigma_max) down to sigma_min."""
        top = self.sigma_max if sigma_start is None else min(sigma_start, self.sigma_max)
        return torch.exp(torch.linspace(math.log(top), math.log(self.sigma_min), steps))

    def denoise(self, network, x: torch.Tensor, sigma: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        """EDM-preconditioned denoiser D(x; sigma); sigma has shape (batch,); `cond`: channels the network reads
        as they are (UNetConfig.condition), or None."""
        s = sigma.reshape(-1, 1, 1, 1)
        sd2 = self.sigma_data ** 2
        c_skip = sd2 / (s ** 2 + sd2)
        c_out = s * self.sigma_data / torch.sqrt(s ** 2 + sd2)
        c_in = 1 / torch.sqrt(s ** 2 + sd2)
        out = network(c_in * x, torch.log(sigma) / 4) if cond is None else network(c_in * x, torch.log(sigma) / 4, cond)
        return c_skip * x + c_out * out

    def score(self, network, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        return (self.denoise(network, x, sigma) - x) / sigma.reshape(-1, 1, 1, 1) ** 2

    def loss(self, network, x0: torch.Tensor, generator: torch.Generator | None = None,
             focus: float | None = None, focus_share: float = 0.75, cond: torch.Tensor | None = None) -> torch.Tensor:
        """Denoising score matching at sigma = sigma(t), t ~ U(0, 1), EDM loss weighting. With `focus`, a share
        `focus_share` of the batch draws sigma from [sigma_min, focus] instead (log-uniform): the noise levels the
        data-consistent samplers visit (they start at sigma 0.1) get most of the training."""
        t = torch.rand(x0.shape[0], generator=generator, device=x0.device)
        if focus is not None:
            top = math.log(min(focus, self.sigma_max) / self.sigma_min) / math.log(self.sigma_max / self.sigma_min)
            focused = torch.rand(x0.shape[0], generator=generator, device=x0.device) < focus_share
            t = torch.where(focused, t * top, t)
        sigma = self.sigma(t)
        noise = torch.randn(x0.shape, generator=generator, device=x0.device)
        denoised = self.denoise(network, x0 + sigma.reshape(-1, 1, 1, 1) * noise, sigma, cond)
        weight = (sigma ** 2 + self.sigma_data ** 2) / (sigma * self.sigma_data) ** 2
        return (weight.reshape(-1, 1, 1, 1) * (denoised - x0) ** 2).mean()
