"""Spatiotemporal diffusion reconstruction (Wang et al., IEEE TCI 2025) and the spatial baseline.

`dstdm`     parallel dual: from the same state, a y-t and an x-t step, averaged, then data consistency.
`dstdm-seq` sequential dual: y-t step, then x-t step on its result, then data consistency.
`stdm`      y-t only.
`spatial`   x-y frames only (the baseline the paper argues against).

Two samplers. "predictor" is the paper's: a reverse-diffusion (Euler-Maruyama) step of the VE-SDE per direction,
then hard data consistency on the noisy state. "x0-dc" (default) applies data consistency to the denoised
estimate D(x; sigma) instead and re-noises it to the next level along the predicted noise direction, with a share
`eta` of fresh noise (DDIM-style); it needs far fewer steps. Either way: one network pass per direction per step,
all planes of a direction in one batch, and each yield is the data-consistent estimate. The last step returns the
denoised mean after data consistency. With `samples` K > 1, K independent posterior samples give the mean
image and a pixel-wise standard deviation of the magnitude (`extras["uncertainty"]`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar

import torch

from ..diffusion.checkpoint import CheckpointError, default_model_path, load_model
from ..diffusion.slicing import from_planes, to_planes
from ..errors import MethodError
from . import register
from .base import Iterate, Method, param


@lru_cache(maxsize=4)
def cached_model(path: str):
    return load_model(path)


@dataclass
class DiffusionMethod(Method):
    steps: int = param(40, "reverse-diffusion steps (network passes per direction)", min=1, max=1000)
    model: str = param("", "model file (.safetensors); empty = the shipped default")
    init: str = param("zero-filled", "start from 'zero-filled' or 'lps' (an L+S reconstruction) + noise at "
                                      "sigma_start, or pure 'noise' at sigma_max")
    sigma_start: float = param(0.1, "starting noise level for zero-filled initialisation", min=0.01, max=1000.0)
    dc_weight: float = param(1.0, "data consistency: 1 = hard replacement, < 1 = weighted (noisy data)",
                             min=0.0, max=1.0)
    sampler: str = param("x0-dc", "'x0-dc': data consistency on the denoised estimate, then re-noise; "
                                  "'predictor': the paper's reverse-diffusion step with DC on the noisy state")
    eta: float = param(1.0, "x0-dc: share of fresh noise when re-noising (0 = deterministic)", min=0.0, max=1.0)
    samples: int = param(1, "independent posterior samples (> 1 gives an uncertainty map)", min=1, max=64)
    seed: int = param(0, "random seed")
    preview_every: int = param(1, "yield an iterate every this many steps", min=1, max=1000)

    directions: ClassVar[tuple[str, ...]] = ()
    sequential: ClassVar[bool] = False
    role: ClassVar[str] = "spatiotemporal"
    plane_kinds: ClassVar[tuple[str, ...]] = ("both", "yt", "xt")

    def network(self):
        path = self.model or str(default_model_path(self.role))
        model, sde, config = cached_model(path)
        if config.get("plane_kind") not in self.plane_kinds:
            raise MethodError(f"{self.name} needs a model trained on {' or '.join(self.plane_kinds)} planes; "
                              f"{path} was trained on '{config.get('plane_kind')}'.")
        return model, sde

    def denoised(self, model, sde, x, sigma) -> torch.Tensor:
        """D(x; sigma) along each direction: averaged (parallel) or chained (sequential)."""
        branches = []
        for direction in self.directions:
            planes = to_planes(branches[-1] if self.sequential and branches else x, direction)
            out = sde.denoise(model, planes, torch.full((planes.shape[0],), float(sigma)))
            branches.append(from_planes(out, direction))
        return branches[-1] if self.sequential else torch.stack(branches).mean(dim=0)

    def predictor(self, model, sde, x, sigma, sigma_next, generator, last: bool) -> torch.Tensor:
        """The paper's step: reverse diffusion along each direction with fresh noise (averaged or chained)."""
        branches = []
        for direction in self.directions:
            planes = to_planes(branches[-1] if self.sequential and branches else x, direction)
            denoised = sde.denoise(model, planes, torch.full((planes.shape[0],), float(sigma)))
            if last:
                planes = denoised
            else:
                step = sigma ** 2 - sigma_next ** 2
                noise = torch.randn(planes.shape, generator=generator)
                planes = planes + step * (denoised - planes) / sigma ** 2 + step ** 0.5 * noise
            branches.append(from_planes(planes, direction))
        return branches[-1] if self.sequential else torch.stack(branches).mean(dim=0)

    def complex_noise(self, shape, generator) -> torch.Tensor:
        return torch.complex(torch.randn(shape, generator=generator), torch.randn(shape, generator=generator))

    def start(self, problem, sde, sigma0: float, generator) -> torch.Tensor:
        noise = self.complex_noise(problem.shape, generator)  # std 1 per real channel, as in training
        if self.init == "noise":
            return noise * sde.sigma_max
        if self.init == "zero-filled":
            return problem.zero_filled() + noise * sigma0
        if self.init == "lps":
            return self.warm_start(problem) + noise * sigma0
        raise MethodError(f"init '{self.init}' unknown; use 'zero-filled', 'lps' or 'noise'.")

    def warm_start(self, problem) -> torch.Tensor:
        """L+S with its defaults, computed once per run and shared by every posterior sample."""
        if getattr(self, "_warm", None) is None or self._warm[0] is not problem:
            from .lps import LowRankPlusSparse

            image = LowRankPlusSparse().run(problem).image
            self._warm = (problem, torch.from_numpy(image) / problem.scale)
        return self._warm[1]

    def sample(self, problem, model, sde, index: int):
        """Generator of (step, image) for one posterior sample."""
        generator = torch.Generator().manual_seed(self.seed * 1009 + index)
        sigmas = sde.schedule(self.steps, None if self.init == "noise" else self.sigma_start).tolist()
        x = self.start(problem, sde, sigmas[0], generator)
        weight = None if self.dc_weight >= 1 else self.dc_weight
        if self.sampler not in ("x0-dc", "predictor"):
            raise MethodError(f"sampler '{self.sampler}' unknown; use 'x0-dc' or 'predictor'.")
        for i, sigma in enumerate(sigmas):
            last = i == len(sigmas) - 1
            sigma_next = 0.0 if last else sigmas[i + 1]
            if self.sampler == "predictor":
                x = self.predictor(model, sde, x, sigma, sigma_next, generator, last)
                x = problem.op.data_consistency(x, problem.kspace, weight)
                yield i + 1, x
                continue
            denoised = self.denoised(model, sde, x, sigma)
            clean = problem.op.data_consistency(denoised, problem.kspace, weight)
            yield i + 1, clean  # what a person should see: the data-consistent clean estimate
            direction = (x - denoised) / sigma  # the denoiser's noise estimate (not the DC correction)
            fresh = self.complex_noise(x.shape, generator)
            x = clean + sigma_next * ((1 - self.eta ** 2) ** 0.5 * direction + self.eta * fresh)

    def iterate(self, problem):
        try:
            model, sde = self.network()
        except CheckpointError as exc:
            raise MethodError(str(exc)) from exc
        total = self.steps * self.samples
        finished = []
        with torch.inference_mode():
            for k in range(self.samples):
                for step, x in self.sample(problem, model, sde, k):
                    done = k * self.steps + step
                    if step == self.steps:
                        finished.append(x)
                    if done == total:
                        break
                    if step % self.preview_every == 0 or step == self.steps:
                        yield Iterate(done, total, problem.to_output(x),
                                      {"residual": problem.op.residual(x, problem.kspace), "sample": k + 1})
            stack = torch.stack(finished)
            mean = stack.mean(dim=0)
            extras = {"residual": problem.op.residual(mean, problem.kspace), "sample": self.samples}
            if self.samples > 1:
                extras["uncertainty"] = (stack.abs().std(dim=0) * problem.scale).numpy()
            yield Iterate(total, total, problem.to_output(mean), extras)


@register
@dataclass
class DualSTDM(DiffusionMethod):
    name = "dstdm"
    summary = "dSTDM: y-t and x-t diffusion steps in parallel, averaged, then data consistency."
    directions = ("yt", "xt")


@register
@dataclass
class SequentialDualSTDM(DiffusionMethod):
    name = "dstdm-seq"
    summary = "dSTDM, sequential variant: y-t step, then x-t step, then data consistency."
    directions = ("yt", "xt")
    sequential = True


@register
@dataclass
class STDM(DiffusionMethod):
    name = "stdm"
    summary = "STDM: y-t diffusion steps only, with data consistency."
    directions = ("yt",)


@register
@dataclass
class SpatialDiffusion(DiffusionMethod):
    name = "spatial"
    summary = "Spatial x-y diffusion per frame (baseline without a temporal prior)."
    directions = ("xy",)
    role = "spatial"
    plane_kinds = ("xy",)
