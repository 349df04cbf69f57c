"""Make a real magnitude cine look like another patient's: other anatomy, other motion, other tissue contrast.

Only 9 real slices of one patient are there to train on (recon.diffusion.sources); flips, crops and gamma do not
change the shape of the heart, how it moves, or how bright blood is against myocardium. Here, with a strength s
(standard deviation of the displacement as a share of the field of view):
- a smooth random warp, the same in every frame (another heart's shape and position);
- a smooth random warp scaled by a periodic function of the cardiac phase (another contraction or a little
  breathing), its std up to half of s x the field of view;
- a random monotone intensity curve (another sequence's or scanner's contrast), applied to the cine normalised to
  its 99.5th percentile.
Warps are smooth on the scale of about a sixth of the field of view, so they bend anatomy without folding it.
"""

from __future__ import annotations

import numpy as np

from ..phantom import smooth_field

CORRELATION = 0.35  # recon.phantom.smooth_field units: the field of view is 2 wide, so ~1/6 of it


def warp_field(rng: np.random.Generator, shape: tuple[int, int], std: float) -> np.ndarray:
    """(2, y, x) smooth displacement in pixels with standard deviation `std` per component."""
    n = max(shape)
    return np.stack([std * smooth_field(rng, n, CORRELATION)[:shape[0], :shape[1]] for _ in range(2)])


def cycle_profile(rng: np.random.Generator, frames: int) -> np.ndarray:
    """A random periodic profile over the cardiac cycle, two harmonics, peak |value| 1."""
    t = 2 * np.pi * np.arange(frames) / frames
    profile = np.cos(t + rng.uniform(0, 2 * np.pi)) + rng.uniform(0, 0.5) * np.cos(2 * t + rng.uniform(0, 2 * np.pi))
    return profile / np.abs(profile).max()


def warped(cine: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    from scipy.ndimage import map_coordinates

    frames, ny, nx = cine.shape
    std = strength * max(ny, nx)
    static = warp_field(rng, (ny, nx), std * rng.uniform(0.3, 1.0))
    moving = warp_field(rng, (ny, nx), 0.5 * std * rng.uniform(0.0, 1.0))
    profile = cycle_profile(rng, frames)
    grid = np.stack(np.meshgrid(np.arange(ny), np.arange(nx), indexing="ij")).astype(np.float32)
    return np.stack([map_coordinates(cine[t], grid + static + profile[t] * moving, order=1, mode="reflect")
                     for t in range(frames)]).astype(np.float32)


def contrast_curve(cine: np.ndarray, rng: np.random.Generator, spread: float = 0.5) -> np.ndarray:
    """A monotone piecewise-linear curve through (0, 0) and (1, 1) with random slopes in [1 - spread, 1 + spread]
    (relative), continued with its last slope above 1; `cine` is normalised to its 99.5th percentile."""
    slopes = rng.uniform(1 - spread, 1 + spread, 5)
    slopes = slopes / slopes.mean()
    knots = np.linspace(0, 1, 6)
    values = np.concatenate([[0.0], np.cumsum(slopes) / 5])
    below = np.interp(np.minimum(cine, 1.0), knots, values)
    return (below + slopes[-1] * np.maximum(cine - 1.0, 0)).astype(np.float32)


def another_patient(cine: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """A magnitude cine (frames, y, x), >= 0, normalised to 1 at its 99.5th percentile, as another patient's."""
    return contrast_curve(warped(cine, rng, strength), rng)
