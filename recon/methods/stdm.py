"""Spatiotemporal diffusion reconstruction (Wang et al., IEEE TCI 2025) and the spatial baseline.

`dstdm`     dual: y-t and x-t steps taking turns, each followed by data consistency (`combine=alternate`), or
            from the same state a y-t and an x-t step, averaged, then data consistency (`combine=average`); the
            default `auto` alternates on Cartesian data and averages at half the steps on radial data.
`dstdm-seq` sequential dual: y-t step, then x-t step on its result, then data consistency.
`stdm`      y-t only.
`spatial`   x-y frames only (the baseline the paper argues against).

Samplers come from recon.diffusion.samplers ("x0-dc" default, "heun", and the paper's "predictor"); each
yield is the data-consistent clean estimate, one batched network pass per direction per level (alternating: one
per level). The averaging variant averages the directions' denoised estimates (one noise draw per step, so the
step has the variance the SDE asks for; the paper averaged two noisy steps, which halves it). The sequential
variant tells each network the noise level its input really has. With `samples` K > 1, K independent posterior
samples give the mean image and a pixel-wise standard deviation of the magnitude (`extras["uncertainty"]`). The
final iterate always carries `extras["prior_map"]` (recon.prior_map): how much of each pixel comes from
unmeasured k-space.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import ClassVar

import torch

from ..diffusion.checkpoint import DEFAULT_MODELS, CheckpointError, cached_model, default_model_path
from ..diffusion.precision import PRECISIONS
from ..diffusion.samplers import SAMPLERS, SYMMETRIES, complex_noise, plane_denoiser, sample, symmetrised
from ..errors import MethodError
from ..noise import GAINS, WienerGain, estimated_snr, kspace_noise_variance
from ..physics import CineOperator
from ..prior_map import prior_map
from . import check, register
from .base import Iterate, Method, announce, default_of, param
from .lps import AUTO_ACS_LINES, TemporalSparsity, common_centre_lines
from .warm_start import WARM_STARTS, WarmStart


INITS = ("view-shared", "zero-filled", *WARM_STARTS, "noise")
COMBINES = ("auto", "alternate", "average")


@dataclass
class DiffusionMethod(Method):
    steps: int = param(40, "noise levels visited (network passes per direction per level; heun: twice)",
                       min=1, max=1000)
    model: str = param("", "model file (.safetensors); empty = the shipped default")
    init: str = param("lps", "start from an 'lps' (L+S, the default) or 'bart-ttv' (BART temporal TV) "
                             "reconstruction, the 'view-shared' image (each frame's unsampled k-space from the frames "
                             "that sampled it) or the 'zero-filled' one, plus noise at sigma_start; or from pure "
                             "'noise' at sigma_max (the paper)",
                      choices=INITS)
    sigma_start: float = param(0.1, "starting noise level when starting from an image", min=0.01, max=1000.0)
    dc_weight: float = param(1.0, "data consistency: 1 = hard replacement, < 1 = weighted (noisy data)",
                             min=0.0, max=1.0)
    dc_noise: float = param(0.0, "noise-aware data consistency: each measured sample is blended with the "
                                 "estimate's by the Wiener gain E / (E + c s^2), s^2 the data's noise variance, E "
                                 "as dc_noise_gain says (recon.noise.WienerGain), c this value; 0 = off (hard "
                                 "replacement; Cartesian only)",
                            min=0.0, max=100.0)
    dc_noise_last: int = param(0, "dc_noise only in the last this many steps, hard replacement before (x0-dc / heun: "
                                  "one data consistency per step); 0 = every step", min=0, max=1000)
    dc_noise_below: float = param(0.0, "dc_noise only where the data's estimated SNR (recon.noise.estimated_snr) is "
                                       "below this, else hard replacement (also for radial data); 0 = always",
                                  min=0.0, max=1000.0)
    dc_noise_gain: str = param("power", "dc_noise's E: 'power' = the signal power there (milder); 'error' = how "
                                        "far the estimate is from the data beyond the noise (strongest on very noisy "
                                        "scans, costly on clean ones)", choices=GAINS)
    noisy_prior_below: float = param(0.0, "with `model` empty, on a mask without an ACS block: below this estimated "
                                          "SNR (recon.noise.estimated_snr) use the shipped prior for noisy scans "
                                          "(y-t/x-t only; not fine-tuned on warped real anatomy, which costs ~0.8 dB "
                                          "there); 0 = never",
                                     min=0.0, max=1000.0)
    tv_lambda: float = param(0.0, "temporal TV on each data-consistent estimate (a prox step of this weight, as "
                                  "DiffusionMBIR adds TV along the axis its 2D prior does not see); 0 = off",
                             min=0.0, max=1.0)
    sampler: str = param("x0-dc", "'x0-dc': data consistency on the denoised estimate, then re-noise; 'heun': the "
                                  "same with a second-order step; 'predictor': the paper's reverse diffusion",
                         choices=SAMPLERS)
    eta: float = param(1.0, "x0-dc/heun: share of fresh noise when re-noising (0 = deterministic)", min=0.0, max=1.0)
    corrector_snr: float = param(0.0, "predictor: Langevin corrector step per level at this SNR (0 = none)",
                                 min=0.0, max=1.0)
    # Tuning set (benchmarks/results/tuning_symmetry_notes.md): 'roll-flip' +0.14 / +0.27 dB mean at R_eff 8 / 12,
    # 9 of 10 cases better; 'roll' alone +0.07 at R_eff 8.
    symmetry: str = param("roll-flip", "a random symmetry of the cine at every network call, undone after it: 'roll' "
                                  "(circular shift in time), 'roll-flip' (also time reversal and flips), 'none'; moves "
                                  "the networks' edges and errors from step to step at no extra cost",
                          choices=SYMMETRIES)
    samples: int = param(1, "independent posterior samples (> 1 gives an uncertainty map)", min=1, max=64)
    seed: int = param(0, "random seed")
    preview_every: int = param(1, "yield an iterate every this many steps", min=1, max=1000)
    precision: str = param("auto", "arithmetic of the networks: 'auto' = bfloat16 where the CPU multiplies it in "
                                   "hardware (AMX: ~2x faster, AVX-512 BF16: ~1.25x; same images), else float32",
                           choices=PRECISIONS)

    directions: ClassVar[tuple[str, ...]] = ()
    sequential: ClassVar[bool] = False
    role: ClassVar[str] = "spatiotemporal"
    plane_kinds: ClassVar[tuple[str, ...]] = ("both", "yt", "xt")
    setting_note: ClassVar[str] = ""  # a setting chosen for this data, said when the model loads

    step_name = "sampling step"

    def alternates(self) -> bool:
        """Whether the directions take turns, one per step, instead of all denoising every step."""
        return False

    def map_names(self) -> tuple[str, ...]:
        """The maps the final iterate's extras carry."""
        return ("prior_map", "uncertainty") if self.samples > 1 else ("prior_map",)

    def weight_files(self) -> dict[str, str]:
        if self.model:
            return {"model": self.model}
        files = {"model": str(default_model_path(self.role))}
        if self.noisy_prior_below > 0:
            files["model for noisy scans"] = str(default_model_path(self.noisy_role()))
        return files

    def noisy_role(self) -> str:
        role = f"{self.role}-noisy"
        if role not in DEFAULT_MODELS:
            raise MethodError(f"{self.name} has no shipped prior for noisy scans; set noisy_prior_below 0.")
        return role

    def model_path(self, problem) -> tuple[str, str]:
        """The weights file for this problem, and why, in words, where it is not the one asked for."""
        if self.model:
            return self.model, ""
        if self.noisy_prior_below > 0:
            role = self.noisy_role()
            if not problem.radial and common_centre_lines(problem.mask) < AUTO_ACS_LINES:
                snr = data_snr(problem)
                if snr is not None and snr < self.noisy_prior_below:
                    return (str(default_model_path(role)),
                            f"noisy-scan prior: SNR {snr:.1f} < {self.noisy_prior_below:g}, no ACS block")
        return str(default_model_path(self.role)), ""

    def network(self, path: str):
        model, sde, config = cached_model(path)
        if config.get("plane_kind") not in self.plane_kinds:
            raise MethodError(f"{self.name} needs a model trained on {' or '.join(self.plane_kinds)} planes; "
                              f"{path} was trained on '{config.get('plane_kind')}'.")
        return model, sde

    def start(self, problem, sde, sigma0: float, generator) -> torch.Tensor:
        noise = complex_noise(problem.shape, generator)  # std 1 per real channel, as in training
        if self.init == "noise":
            return noise * sde.sigma_max
        if self.init == "zero-filled":
            return problem.zero_filled() + noise * sigma0
        if self.init == "view-shared":
            return problem.view_shared() + noise * sigma0
        if self.init in WARM_STARTS:
            return self.warm.image(problem, self.init) + noise * sigma0
        raise MethodError(f"init '{self.init}' unknown; use {', '.join(INITS)}.")

    @property
    def warm(self) -> WarmStart:
        """The `init` method's result, computed once per run (L+S takes ~30 s on the GIRAF cine)."""
        if getattr(self, "_warm", None) is None:
            self._warm = WarmStart()
        return self._warm

    def schedule(self, sde) -> list[float]:
        return sde.schedule(self.steps, None if self.init == "noise" else self.sigma_start).tolist()

    def wiener_gain(self, problem) -> tuple[WienerGain | None, str]:
        """The noise-aware data consistency's gain (None: hard replacement) and the reason, in words."""
        if self.dc_noise <= 0:
            return None, "hard data consistency"
        if not isinstance(problem.op, CineOperator):
            if self.dc_noise_below > 0:
                return None, "hard data consistency (radial)"
            raise MethodError(f"{self.name}: dc_noise needs Cartesian k-space, not radial; set dc_noise 0 for radial "
                              "data.")
        gain = WienerGain(problem.kspace, problem.mask, self.dc_noise, self.dc_noise_gain)
        if gain.noise <= 0:  # e.g. zero-padded outer k-space: nothing to weigh the data against
            return None, "hard data consistency (no measurable noise)"
        if self.dc_noise_below <= 0:
            return gain, "noise-aware data consistency"
        snr = estimated_snr(problem.view_shared(), gain.noise)
        if snr >= self.dc_noise_below:
            return None, f"hard data consistency (estimated SNR {snr:.1f} >= {self.dc_noise_below:g})"
        return gain, f"noise-aware data consistency (estimated SNR {snr:.1f} < {self.dc_noise_below:g})"

    def sample(self, problem, model, sde, index: int, gain: WienerGain | None):
        """Generator of (step, image) for one posterior sample."""
        generator = torch.Generator().manual_seed(self.seed * 1009 + index)
        sigmas = self.schedule(sde)
        ratio = sigmas[1] / sigmas[0] if len(sigmas) > 1 else 1.0
        denoise = plane_denoiser(model, sde, self.directions, self.sequential, ratio, self.precision,
                                 alternate=self.alternates())
        denoise = symmetrised(denoise, self.symmetry, torch.Generator().manual_seed(self.seed * 1013 + index + 1))
        weight = None if self.dc_weight >= 1 else self.dc_weight
        tv = TemporalSparsity("temporal-tv")  # its dual is warm-started from one step's prox to the next

        calls = 0  # x0-dc and heun: one data consistency per step

        def consistent(x: torch.Tensor) -> torch.Tensor:
            nonlocal calls
            calls += 1
            late = not self.dc_noise_last or calls > self.steps - self.dc_noise_last
            x = problem.op.data_consistency(x, problem.kspace, weight, gain if late else None)
            return tv.prox(x, self.tv_lambda) if self.tv_lambda > 0 else x

        x = self.start(problem, sde, sigmas[0], generator)
        yield from sample(self.sampler, denoise, consistent, x, sigmas, generator, self.eta, self.corrector_snr)

    def iterate(self, problem):
        for f in fields(self):  # also when built directly, not through methods.create
            check(self.name, f, getattr(self, f.name))
        total = self.steps * self.samples
        try:
            path, why = self.model_path(problem)
            if self.announce_phases:
                notes = "; ".join(note for note in (why, self.setting_note) if note)
                yield announce(f"loading model ({notes})" if notes else "loading model", total)
            model, sde = self.network(path)
        except CheckpointError as exc:
            raise MethodError(str(exc)) from exc
        if self.announce_phases and self.init in WARM_STARTS:
            yield announce(f"warm start ({self.init})", total)
            yield from self.warm.running(problem, self.init, total)  # once here; every posterior sample starts from it
        gain, consistency = self.wiener_gain(problem)
        if self.announce_phases and self.dc_noise > 0:
            yield announce(consistency, total)
        finished = []
        with torch.inference_mode():
            for k in range(self.samples):
                for step, x in self.sample(problem, model, sde, k, gain):
                    done = k * self.steps + step
                    if step == self.steps:
                        finished.append(x)
                    if done == total:
                        break
                    if step % self.preview_every == 0 or step == self.steps:
                        yield Iterate(done, total, problem.to_output(x),
                                      {"residual": problem.op.residual(x, problem.kspace), "sample": k + 1,
                                       "samples": self.samples})
            stack = torch.stack(finished)
            mean = stack.mean(dim=0)
            extras = {"residual": problem.op.residual(mean, problem.kspace), "sample": self.samples,
                      "samples": self.samples, "prior_map": prior_map(problem, mean)}
            if self.samples > 1:
                extras["uncertainty"] = (stack.abs().std(dim=0) * problem.scale).numpy()
            yield Iterate(total, total, problem.to_output(mean), extras)


def data_snr(problem) -> float | None:
    """The scan's estimated SNR (recon.noise.estimated_snr); None where it cannot be read (radial data, or no noise
    to measure, e.g. zero-padded outer k-space)."""
    if not isinstance(problem.op, CineOperator):
        return None
    noise = kspace_noise_variance(problem.kspace, problem.mask)
    return estimated_snr(problem.view_shared(), noise) if noise > 0 else None


@register
@dataclass
class DualSTDM(DiffusionMethod):
    name = "dstdm"
    summary = "dSTDM: y-t and x-t diffusion steps taking turns (or averaged), each followed by data consistency."
    directions = ("yt", "xt")

    # Tuning set (benchmarks/results/tuning_alternate_notes.md): alternating at 40 steps = averaging at 40 to
    # +-0.03 dB in 0.55x the time; alternating at 80, about averaging's time at 40, +0.40 dB mean (9 of 10 cases).
    steps: int = param(80, "noise levels visited (one network pass per level when alternating, one per direction "
                           "when averaging; heun: twice)", min=1, max=1000)
    combine: str = param("auto", "'alternate': one direction per step, y-t and x-t taking turns; 'average': "
                                 "both directions every step, their estimates averaged (twice the network time per "
                                 "step); 'auto': alternating on Cartesian data, averaging at half the steps (the same "
                                 "network passes) on radial data",
                         choices=COMBINES)
    # Noise-aware data consistency where the data are noisy (benchmarks/results/tuning_dcnoise_notes.md): tuning
    # cases with estimated SNR <= 17 gain +0.2..+3.4 dB, those >= 34 lose 0.05..0.46 dB with it, so it is gated.
    dc_noise: float = default_of(DiffusionMethod, "dc_noise", 1.0)
    dc_noise_last: int = default_of(DiffusionMethod, "dc_noise_last", 10)
    dc_noise_below: float = default_of(DiffusionMethod, "dc_noise_below", 24.0)
    # The patient-variation prior loses ~0.8 dB on the noisy tuning scans (estimated SNR 12-13) without ACS lines,
    # but gains on them with 8 ACS lines and on the SNR-17 one (benchmarks/results/tuning_noisy_prior_notes.md).
    noisy_prior_below: float = default_of(DiffusionMethod, "noisy_prior_below", 15.0)

    def alternates(self) -> bool:
        return self.combine != "average"  # 'auto' on Cartesian data alternates (for_problem resolves it on radial)

    def for_problem(self, problem) -> "DualSTDM":
        """As it runs on `problem`: combine 'auto' on radial data becomes averaging at half the steps (radial data
        consistency is a CG step; benchmarks/results/tuning_radial_auto_notes.md); otherwise this method itself."""
        if self.combine != "auto" or not problem.radial:
            return self
        concrete = replace(self, combine="average", steps=max(1, self.steps // 2))
        concrete.announce_phases = self.announce_phases
        concrete.setting_note = f"radial data: directions averaged, {concrete.steps} steps"
        return concrete

    def iterate(self, problem):
        concrete = self.for_problem(problem)
        yield from (super().iterate(problem) if concrete is self else concrete.iterate(problem))


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
