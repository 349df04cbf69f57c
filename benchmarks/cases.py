"""Evaluation cases, kept in two disjoint sets.

- tuning: what defaults may be chosen on: Sunnybrook SCD slices 4 and 7 (held out of the priors' training by
  `make weights`) and held-out-family phantoms from HELDOUT_TUNING_SEEDS.
- report: what we publish: the GIRAF real cine (never trained or tuned on) and held-out-family phantoms from
  HELDOUT_REPORT_SEEDS (a generator the priors never saw). Real magnitude cines get simulated phase, coils, noise.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from recon.heldout_phantom import HELDOUT_REPORT_SEEDS, HELDOUT_TUNING_SEEDS, simulate_heldout
from recon.samples import magnitude_case, real_cine

SUNNYBROOK = Path(__file__).resolve().parents[2] / "shared" / "data" / "sunnybrook_scd2001_sax_cine.npz"
SUNNYBROOK_TUNING_SLICES = (4, 7)  # `make weights` keeps them out of training (--skip-slices)


def sunnybrook_slice(index: int, seed: int, path: Path = SUNNYBROOK):
    """One Sunnybrook slice, central 144 x 176 (1.37 mm pixels), with sub-LSB dither, 8 coils, SNR 40."""
    with np.load(path) as f:
        cine = f["cine"][index].astype(np.float32)
    rng = np.random.default_rng([seed, index])
    cine = cine + rng.uniform(-0.5, 0.5, cine.shape).astype(np.float32)
    cine = cine[:, 56:200, 40:216]
    cine = np.clip(cine, 0, None) / np.percentile(cine, 99.5)
    return magnitude_case(cine, 8, 40.0, seed, (1.37, 1.37), f"Sunnybrook SCD2001 slice {index} (CC0)")


SOURCES = ("real", "heldout")


def cases(which: str, count: int, sources: tuple[str, ...] = SOURCES, heldout_seeds: tuple[int, ...] = ()):
    """(name, CineData, mask seed) for the first `count` cases of each chosen source ('real', 'heldout') in the set;
    `heldout_seeds`: these phantoms of the set instead of its first `count` (e.g. the low-SNR ones)."""
    if which not in ("report", "tuning"):
        raise ValueError(f"case set {which!r}: use 'report' or 'tuning'")
    if "real" in sources and which == "report":
        for seed in range(count):
            yield f"giraf-s{seed}", real_cine(coils=8, snr=40.0, seed=seed), seed
    if "real" in sources and which == "tuning":
        for i, index in enumerate(SUNNYBROOK_TUNING_SLICES[:count]):
            yield f"sunnybrook-{index}", sunnybrook_slice(index, seed=i), i
    if "heldout" in sources:
        seeds = HELDOUT_REPORT_SEEDS if which == "report" else HELDOUT_TUNING_SEEDS
        outside = [s for s in heldout_seeds if s not in seeds]
        if outside:
            raise ValueError(f"phantom seeds {outside} are not in the {which} set ({seeds.start}-{seeds.stop - 1})")
        for seed in list(heldout_seeds) or list(seeds)[:count]:
            yield f"heldout-{seed}", simulate_heldout(seed), seed
