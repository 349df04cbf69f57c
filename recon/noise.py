"""The measurement noise of Cartesian k-space, estimated from the data alone.

Two successive acquisitions of the same k-space location differ by the noise of both (variance 2 s^2) plus what
moved in between. In the outermost readout (kx) columns the moving heart contributes little, and the static
anatomy, whose sharp edges fill those columns with signal as strong as the noise, cancels; the magnitude of k-space
there would overestimate s^2 up to 3x on sharp-edged phantoms (measured on the held-out phantom family).
|difference|^2 of white complex noise is exponential with median 2 s^2 ln 2; the median keeps the few moving edges
from dominating. Where no location is measured twice (few frames, no ACS block), |k|^2 itself in those columns is
used (median s^2 ln 2): high rather than low."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

OUTER_SHARE = 0.1  # the outermost tenth of kx on each side


def kspace_noise_variance(kspace: torch.Tensor, mask: torch.Tensor) -> float:
    """Per-sample complex noise variance of (frames, coils, ky, kx) k-space measured on the (frames, ky, kx) mask."""
    nx = kspace.shape[-1]
    band = max(1, int(round(OUTER_SHARE * nx)))
    columns = torch.cat([torch.arange(band), torch.arange(nx - band, nx)])
    sampled, values = mask[..., columns], kspace[..., columns]  # (frames, ky, b), (frames, coils, ky, b)
    frames = torch.arange(mask.shape[0]).reshape(-1, 1, 1)
    latest = torch.where(sampled, frames, -1).cummax(dim=0).values  # the last frame up to t that sampled a location
    previous = latest[:-1]  # ... before frame t (t >= 1)
    pairs = sampled[1:] & (previous >= 0)
    if not bool(pairs.any()):
        power = values.permute(0, 2, 3, 1)[sampled]
        if power.numel() == 0:
            raise ValueError("no measured samples in the outer k-space columns to estimate the noise from")
        return float((power.real.square() + power.imag.square()).median()) / math.log(2)
    earlier = values.gather(0, previous.clamp_min(0)[:, None].expand(-1, values.shape[1], -1, -1))
    difference = (values[1:] - earlier).permute(0, 2, 3, 1)[pairs]  # (pairs, coils)
    power = difference.real.square() + difference.imag.square()
    return float(power.median()) / (2 * math.log(2))


READOUT_WINDOW = 9  # kx samples averaged for local power estimates
GAINS = ("error", "power")


def local_power(k: torch.Tensor) -> torch.Tensor:
    """|k|^2 averaged over READOUT_WINDOW neighbours along kx (every kx of a measured line is measured)."""
    power = (k.real.square() + k.imag.square()).reshape(-1, 1, k.shape[-1])
    local = F.avg_pool1d(power, READOUT_WINDOW, stride=1, padding=READOUT_WINDOW // 2, count_include_pad=False)
    return local.reshape(k.shape)


class WienerGain:
    """The share of each measured sample a noise-aware data-consistency step takes: E / (E + c s^2), E what the data
    are trusted for there.

    'error': E is the estimate's own error there, as the data show it: |measured - estimated|^2 averaged over
    READOUT_WINDOW neighbours along kx, less the s^2 that noise alone explains. Where the estimate disagrees with
    the data by more than the noise, the data win; where by no more than the noise, the estimate stays (an
    empirical Wiener / James-Stein shrinkage). 'power': E is the signal power instead (the larger of the
    estimate's and the data's), which ignores how good the estimate is."""

    def __init__(self, kspace: torch.Tensor, mask: torch.Tensor, strength: float = 1.0, kind: str = "power"):
        if kind not in GAINS:
            raise ValueError(f"gain {kind!r} not in {GAINS}")
        self.kind, self.noise = kind, kspace_noise_variance(kspace, mask)
        self.data_power = (local_power(kspace) - self.noise).clamp_min(0) if kind == "power" else None
        self.scaled_noise = strength * self.noise

    def __call__(self, coil_k: torch.Tensor, measured: torch.Tensor) -> torch.Tensor:
        if self.kind == "error":
            trusted = (local_power(measured - coil_k) - self.noise).clamp_min(0)
        else:
            trusted = torch.maximum(coil_k.real.square() + coil_k.imag.square(), self.data_power)
        return trusted / (trusted + self.scaled_noise)


def estimated_snr(image: torch.Tensor, noise_var: float) -> float:
    """Mean magnitude of the bright pixels (above a tenth of the maximum) over the noise's standard deviation:
    the held-out phantom generator's own definition of SNR, read back from data (its SNR 12-53 is estimated as
    11-48 from VISTA data with 8 ACS lines, view-shared image). `image`: a coil-combined cine in k-space's units."""
    magnitude = image.abs()
    return float(magnitude[magnitude > 0.1 * magnitude.max()].mean()) / max(noise_var, 1e-30) ** 0.5
