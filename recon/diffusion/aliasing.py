"""Training inputs that carry the errors a data-consistent sampler leaves, not only white noise (`--alias-share`).

A prior trained on x + sigma n learns to remove independent noise. In dSTDM's x0-dc sampler its input is a
data-consistent estimate plus fresh noise; the estimate's own error lies only where k-t space was not sampled:
residual aliasing, shared by neighbouring planes and coherent along the phase-encoding axis
(benchmarks/results/tuning_context_notes.md). The network treats that as anatomy. Here a batch can carry, beside
its white noise, a share of the zero-filled error of the cine it was cut from, -F^H (1 - M) F x, for a random
line mask M over (frames, ky): VISTA, k-t Gaussian or random interleaved, R_eff 4-14, 0 or 8 ACS lines. Its size
is a random ratio of sigma (recon.diffusion.sde.VESDE.loss), so the network learns to remove both.

Image-domain groups are cut per cine (recon.diffusion.kinds.image_kind): y-t planes (x, t, y) and x-t planes
(y, t, x), in that order for "both". Phase encoding runs along y, so the error of a y-t plane is its own 1-D
aliasing and that of an x-t plane mixes the cine's rows: it is computed from the whole group.
"""

from __future__ import annotations

import numpy as np
import scipy.fft

from ..masks import interleaved, kt_gaussian, vista

MASK_KINDS = ("vista", "kt-gaussian", "interleaved-random")
R_EFF = (4.0, 14.0)
ACS = (0, 8)


def group_directions(kind: str, groups: list[np.ndarray]) -> list[str]:
    """The direction ("yt" / "xt") of each image-domain group, as kinds.image_kind cuts them."""
    if kind in ("yt", "xt"):
        return [kind] * len(groups)
    directions = ["yt", "xt"] * (len(groups) // 2)
    pairs_match = len(groups) % 2 == 0 and all(
        a.shape == (b.shape[2], b.shape[1], b.shape[0]) for a, b in zip(groups[::2], groups[1::2]))
    if kind != "both" or not pairs_match:
        raise ValueError(f"aliasing errors need y-t / x-t planes cut per cine, not '{kind}' groups")
    return directions


def random_rows(frames: int, ny: int, rng: np.random.Generator) -> np.ndarray:
    """A random line mask (frames, ky), centred k-space, as recon.masks draws them."""
    kind = MASK_KINDS[rng.integers(len(MASK_KINDS))]
    acs = int(ACS[rng.integers(len(ACS))]) if ny >= 32 else 0
    lines = max(int(round(ny / rng.uniform(*R_EFF))), acs + 1)
    accel = (ny - acs) / (lines - acs)
    if kind == "vista":
        return vista(frames, ny, accel, acs, rng)
    if kind == "kt-gaussian":
        return kt_gaussian(frames, ny, accel, acs, rng)
    return interleaved(frames, ny, max(1, round(accel)), acs, rng)


def zero_filled_error(group: np.ndarray, direction: str, rows: np.ndarray, picks: np.ndarray) -> np.ndarray:
    """-F^H (1 - M) F x along y for the planes `picks` of a group of planes of one cine, in the group's layout
    (a y-t plane's error is its own; an x-t plane's needs all the cine's rows).

    rows: (frames, ny) sampled lines, centred k-space (the centring is a phase ramp in k, which commutes with the
    mask, so the uncentred FFT with the mask shifted gives the same projection)."""
    if direction == "yt":
        group = group[picks]
    axis = 2 if direction == "yt" else 0
    missed = ~np.fft.ifftshift(rows, axes=1)  # (t, ky)
    missed = missed[None] if direction == "yt" else missed.T[:, :, None]  # (1, t, ky) or (ky, t, 1)
    spectrum = scipy.fft.fft(group, axis=axis)
    error = -scipy.fft.ifft(spectrum * missed, axis=axis).astype(np.complex64, copy=False)
    return error if direction == "yt" else error[picks]
