"""GLDM (Guan et al., NMR Biomed 2025): global-to-local k-space diffusion with a low-rank Hankel step.

State: the weighted k-space of the coil-combined cine (recon.gldm.kspace). The paper's iteration (`predictor`), at
noise level sigma_i: global predictor + DC + Langevin corrector, then the same with the local model, DC, one
SAKE-style low-rank step (rank `rank`, `window` x `window` patches, frames as channels; Gram matrix + eigh), then
DC. The default uses the shared x0-dc sampler instead (docs/METHODS.md says why). Starts from the L+S
reconstruction of the same undersampled data (zero-shot still: nothing but this acquisition), or the view-shared or
zero-filled k-space, weighted; returns the last iterate (never a best-of against a reference). With
`finetune_seconds` > 0, copies of both priors are first trained further on this scan's own merged k-space.
The final iterate carries `extras["prior_map"]` (recon.prior_map).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..diffusion.checkpoint import CheckpointError, cached_model, default_model_path
from ..diffusion.finetune import finetune
from ..diffusion.planes import PlaneSet
from ..diffusion.precision import PRECISIONS
from ..diffusion.samplers import SAMPLERS, complex_noise, corrector_step, network_denoise, predictor_step, sample
from ..errors import MethodError
from ..gldm.kspace import from_weighted, position, ramp, to_weighted, weighted_scale
from ..gldm import planes as _registers_kspace_plane_kinds  # noqa: F401
from ..gldm.lowrank import low_rank_step
from ..gldm.training_data import acquisition_planes, merged_weighted
from ..physics import fft2c, ifft2c
from ..prior_map import prior_map
from . import register
from .base import Iterate, Method, announce, param
from .warm_start import WARM_STARTS, WarmStart

INITS = ("zero-filled", "view-shared", *WARM_STARTS)


@register
@dataclass
class GLDM(Method):
    name = "gldm"
    summary = "GLDM: zero-shot global-to-local k-space diffusion + low-rank Hankel step (time-interleaved data)."
    steps: int = param(30, "iterations (noise levels from sigma_start down to sigma_min)", min=1, max=1000)
    global_model: str = param("", "global k-space model (.safetensors); empty = the shipped one")
    local_model: str = param("", "local k-space model (.safetensors); empty = the shipped one")
    corrector_snr: float = param(0.075, "predictor sampler: Langevin corrector signal-to-noise ratio (0 = none)",
                                 min=0.0, max=1.0)
    rank: int = param(96, "rank of the block-Hankel matrix in the low-rank step (0 = no low-rank step)", min=0,
                      max=4096)
    window: int = param(8, "Hankel patch size", min=2, max=32)
    priors: str = param("global+local", "priors used every iteration: 'global+local', 'global', 'local', or "
                                        "'none' (low-rank step and DC only: shows what the priors add)",
                        choices=("global+local", "global", "local", "none"))
    finetune_seconds: float = param(0.0, "scan-specific mode: fine-tune both priors on this scan's own merged "
                                          "k-space for this many seconds in all before reconstructing (0 = off)",
                                     min=0.0, max=3600.0)
    init: str = param("lps", "start from an 'lps' (L+S, the default) or 'bart-ttv' reconstruction of the same "
                             "data, the 'zero-filled' k-space or the 'view-shared' one (each frame's unsampled "
                             "k-space from the frames that sampled it), plus noise at sigma_start", choices=INITS)
    sigma_start: float = param(0.2, "starting noise level (0 = the priors' sigma_max, the paper)", min=0.0,
                               max=1000.0)
    sampler: str = param("x0-dc", "'predictor': the paper's predictor + corrector per prior, then the low-rank "
                                      "step; 'x0-dc' / 'heun': the shared samplers (recon.diffusion.samplers) on the "
                                      "average of the priors' estimates, DC and the low-rank step on the clean one",
                         choices=SAMPLERS)
    eta: float = param(0.0, "x0-dc/heun: share of fresh noise when re-noising (0 = deterministic)", min=0.0, max=1.0)
    seed: int = param(0, "random seed")
    preview_every: int = param(1, "yield an iterate every this many steps", min=1, max=1000)
    precision: str = param("auto", "arithmetic of the networks: 'auto' = bfloat16 where the CPU multiplies it in "
                                   "hardware (AMX or AVX-512 BF16), else float32", choices=PRECISIONS)

    step_name = "sampling step"

    def map_names(self) -> tuple[str, ...]:
        """The maps the final iterate's extras carry."""
        return ("prior_map",)

    def weight_files(self) -> dict[str, str]:
        return {"global_model": self.global_model or str(default_model_path("gldm-global")),
                "local_model": self.local_model or str(default_model_path("gldm-local"))}

    def model(self, path: str, role: str, kind: str):
        try:
            model, sde, config = cached_model(path or str(default_model_path(role)))
        except CheckpointError as exc:
            raise MethodError(str(exc)) from exc
        if config.get("plane_kind") != kind:
            raise MethodError(f"gldm needs a '{kind}' model; {path or role} was trained on '{config.get('plane_kind')}'.")
        return model, sde

    def chosen_models(self) -> list[tuple]:
        """(model, sde, plane kind) for each prior the `priors` parameter names, global first."""
        choices = {"global+local": ("global", "local"), "global": ("global",), "local": ("local",), "none": ()}
        if self.priors not in choices:
            raise MethodError(f"priors '{self.priors}' unknown; choose one of {', '.join(choices)}.")
        paths = {"global": self.global_model, "local": self.local_model}
        return [(*self.model(paths[p], f"gldm-{p}", f"kspace-{p}"), f"kspace-{p}") for p in choices[self.priors]]

    def iterate(self, problem):
        if problem.radial:
            raise MethodError("GLDM's priors are trained on Cartesian k-space and cannot take radial spokes; use "
                              "dstdm, lps, sense or bart-ttv for radial data.")
        if self.announce_phases:
            yield announce("loading models", self.steps)
        models = self.chosen_models()
        generator = torch.Generator().manual_seed(self.seed)
        weight = ramp(problem.shape[-2:])
        zero_filled = problem.zero_filled()
        measured = problem.kspace.numpy(), problem.mask.numpy(), problem.sens.numpy()
        # normalised like the training planes (the merged k-space), from the measured data only
        scale = weighted_scale(merged_weighted(measured[0], measured[1], "kspace-global", measured[2]))
        if self.finetune_seconds > 0:
            models = yield from self.finetuned(models, measured, problem, zero_filled)
        warm = WarmStart()  # computed lazily by `start` when phases are not announced
        if self.announce_phases and self.init in WARM_STARTS:
            yield announce(f"warm start ({self.init})", self.steps)
            yield from warm.running(problem, self.init, self.steps)

        def consistent(k_weighted: torch.Tensor) -> torch.Tensor:
            image = problem.op.data_consistency(from_weighted(k_weighted * scale, weight), problem.kspace)
            return to_weighted(image, weight) / scale

        def low_rank(k_weighted: torch.Tensor) -> torch.Tensor:
            if self.rank == 0:
                return k_weighted
            image = from_weighted(k_weighted, weight)
            return consistent(to_weighted(ifft2c(low_rank_step(fft2c(image), self.rank, self.window)), weight))

        sigmas = models[0][1].schedule(self.steps, self.sigma_start or None).tolist() if models else [0.0] * self.steps
        k = self.start(problem, zero_filled, warm, weight, scale, sigmas[0], generator)
        if self.sampler == "predictor" or not models:
            states = self.paper_steps(models, k, sigmas, consistent, low_rank, generator)
        else:  # the shared samplers: global and local estimates averaged, DC and the low-rank step on the clean one
            denoisers = [self.denoiser(model, sde) for model, sde, _ in models]
            denoise = lambda k, sigma: torch.stack([d(k, sigma) for d in denoisers]).mean(dim=0)  # noqa: E731
            states = sample(self.sampler, denoise, lambda k: low_rank(consistent(k)), k, sigmas, generator, self.eta)
        with torch.inference_mode():
            for step, k in states:
                if step % self.preview_every == 0 or step == len(sigmas):
                    x = from_weighted(k * scale, weight)
                    extras = {"residual": problem.op.residual(x, problem.kspace)}
                    if step == len(sigmas):
                        extras["prior_map"] = prior_map(problem, x)
                    yield Iterate(step, len(sigmas), problem.to_output(x), extras)

    def paper_steps(self, models, k, sigmas, consistent, low_rank, generator):
        """The paper's iteration per noise level: for the global, then the local prior, a reverse-diffusion
        predictor step + DC and a Langevin corrector step + DC; then the low-rank step + DC. Yields (step, k)."""
        for i, sigma in enumerate(sigmas):
            sigma_next = sigmas[i + 1] if i + 1 < len(sigmas) else 0.0
            for model, sde, _ in models:
                denoise = self.denoiser(model, sde)
                k = consistent(predictor_step(denoise(k, sigma), k, sigma, sigma_next, generator))
                if self.corrector_snr > 0 and sigma_next > 0:
                    k = consistent(corrector_step(denoise, k, sigma_next, self.corrector_snr, generator))
            k = low_rank(k)
            yield i + 1, k

    def start(self, problem, zero_filled, warm, weight, scale, sigma, generator) -> torch.Tensor:
        """The normalised weighted k-space the iterations start from; noise at `sigma` only from a lowered start
        (from sigma_max the paper starts at the zero-filled k-space as it is)."""
        if self.init not in INITS:
            raise MethodError(f"init '{self.init}' unknown; use {', '.join(INITS)}.")
        if self.init in WARM_STARTS:
            image = warm.image(problem, self.init)
        else:
            image = problem.view_shared() if self.init == "view-shared" else zero_filled
        k = to_weighted(image, weight) / scale
        return k + sigma * complex_noise(k.shape, generator) if self.sigma_start > 0 else k

    def finetuned(self, models, measured, problem, zero_filled):
        """Scan-specific mode: each prior trained further on this acquisition's own merged k-space (the time shared
        between them). Yields the zero-filled start while it trains, so a consumer can show progress or stop."""
        kspace, mask, sens = measured
        start = problem.to_output(zero_filled)
        residual = problem.op.residual(zero_filled, problem.kspace)
        tuned = []
        for model, sde, kind in models:
            planes = PlaneSet([], kind, crop=64, groups=[acquisition_planes(kspace, mask, kind, sens=sens)])
            for step, model in finetune(model, sde, planes, self.finetune_seconds / len(models), seed=self.seed):
                yield announce(f"fine-tuning {kind} step {step}", self.steps, start, residual=residual,
                               finetune=f"{kind} step {step}")
            tuned.append((model, sde, kind))
        return tuned

    def denoiser(self, model, sde):
        """D(k, sigma) of the weighted k-space, each frame one plane (with its position in k-space when the prior
        reads it)."""
        def denoise(k: torch.Tensor, sigma: float) -> torch.Tensor:
            where = position(k.shape[-2:]) if model.config.condition else None
            out = network_denoise(model, sde, torch.stack([k.real, k.imag], dim=1), sigma, where, self.precision)
            return torch.complex(out[:, 0], out[:, 1])
        return denoise
