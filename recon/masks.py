"""k-t sampling masks (frames, ky, kx), deterministic for a seed.

R counts the phase-encode lines *outside* the ACS block: each frame samples round((ny - acs) / R) of them plus the
`acs` central lines. The effective acceleration (all locations / sampled locations) is reported by `Mask`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import MaskError
from .radial.trajectory import golden_angle, nyquist_spokes, rasterise, spokes_for_effective

GOLDEN_ANGLE = np.pi * (3 - np.sqrt(5))  # 137.5 degrees: rotation between consecutive spokes and frames


@dataclass
class Mask:
    kind: str
    accel: float
    acs: int
    seed: int
    array: np.ndarray  # (frames, ky, kx) bool; for golden-angle the cells the spokes cross (for display)
    spokes: int | None = None  # golden-angle: spokes per frame

    @property
    def effective_accel(self) -> float:
        if self.spokes is not None:  # true radial: Nyquist spokes / spokes, not the share of grid cells touched
            return float(nyquist_spokes(self.array.shape[1:]) / self.spokes)
        return float(self.array.size / max(self.array.sum(), 1))

    def describe(self) -> str:
        return (f"{self.kind} R={self.accel:g} ACS={self.acs} seed={self.seed}: "
                f"effective acceleration {self.effective_accel:.2f}")


def acs_lines(ny: int, acs: int) -> np.ndarray:
    start = ny // 2 - acs // 2
    return np.arange(start, start + acs)


def outer_lines(ny: int, acs: int) -> np.ndarray:
    return np.setdiff1d(np.arange(ny), acs_lines(ny, acs))


def lines_per_frame(ny: int, acs: int, accel: float) -> int:
    available = ny - acs
    if accel < 1:
        raise MaskError(f"acceleration R={accel} must be at least 1.")
    if acs < 0 or acs >= ny:
        raise MaskError(f"ACS={acs} lines must be between 0 and the number of phase-encode lines ({ny}) minus 1.")
    if accel > available:
        raise MaskError(f"acceleration R={accel} is larger than the {available} phase-encode lines outside the ACS; "
                        f"choose R <= {available}.")
    return max(1, int(round(available / accel)))


def rows_to_mask(rows: np.ndarray, nx: int) -> np.ndarray:
    """(frames, ky) line pattern broadcast along the fully sampled readout."""
    return np.repeat(rows[:, :, None], nx, axis=2)


def kt_uniform(frames: int, ny: int, accel: float, acs: int) -> np.ndarray:
    """Sheared lattice: every R-th line, offset by a shift coprime with R from frame to frame."""
    step = int(round(accel))
    shift = max(1, int(round(step * 0.382)))  # golden-ratio shear spreads the lattice in k-t
    while np.gcd(shift, step) != 1:
        shift += 1
    rows = np.zeros((frames, ny), bool)
    outer = outer_lines(ny, acs)
    for t in range(frames):
        rows[t, outer[(outer - t * shift) % step == 0]] = True
    rows[:, acs_lines(ny, acs)] = True
    return rows


def interleaved(frames: int, ny: int, accel: float, acs: int, rng: np.random.Generator | None) -> np.ndarray:
    """Time-interleaved: frame t takes lines r = t (mod R), so any R consecutive frames tile k-space.

    With an rng (random variant) the outer lines are split at random into R groups, redrawn every R frames.
    """
    step = int(round(accel))
    outer = outer_lines(ny, acs)
    rows = np.zeros((frames, ny), bool)
    for block in range(0, frames, step):
        order = rng.permutation(outer.size) if rng is not None else np.arange(outer.size)
        for t in range(block, min(block + step, frames)):
            rows[t, outer[order[(t - block)::step]]] = True
    rows[:, acs_lines(ny, acs)] = True
    return rows


def kt_gaussian(frames: int, ny: int, accel: float, acs: int, rng: np.random.Generator) -> np.ndarray:
    """Variable-density random lines per frame, drawn from a Gaussian centred on k-space centre."""
    n = lines_per_frame(ny, acs, accel)
    outer = outer_lines(ny, acs)
    weights = np.exp(-0.5 * ((outer - ny / 2) / (ny / 4)) ** 2)
    rows = np.zeros((frames, ny), bool)
    for t in range(frames):
        rows[t, rng.choice(outer, n, replace=False, p=weights / weights.sum())] = True
    rows[:, acs_lines(ny, acs)] = True
    return rows


def vista(frames: int, ny: int, accel: float, acs: int, rng: np.random.Generator) -> np.ndarray:
    """VISTA-like variable-density incoherent spatiotemporal sampling (after Ahmad et al., MRM 2015), simplified.

    Samples sit on a jittered lattice in (time, density rank) that is sheared by the golden ratio from frame to
    frame, which spreads them evenly in k-t as VISTA's repulsion does, then are warped to ky through a Gaussian
    variable-density CDF and snapped to distinct free lines. Ahmad's iterative Coulomb refinement is not
    reproduced. The ACS block is added on top; without one (acs = 0) VISTA's fill step makes the time average
    cover every line, which ESPIRiT calibrates the coil maps from (`fill_empty_lines`).
    """
    n = lines_per_frame(ny, acs, accel)
    outer = outer_lines(ny, acs)
    density = np.exp(-0.5 * ((outer - ny / 2) / (ny / 3.5)) ** 2)
    cdf = np.cumsum(density) / density.sum()
    rows = np.zeros((frames, ny), bool)
    for frame in range(frames):
        rank = np.mod((np.arange(n) + frame * 0.618034 + rng.uniform(-0.25, 0.25, n)) / n, 1.0)
        for idx in np.sort(np.searchsorted(cdf, rank).clip(0, outer.size - 1)):
            free = np.flatnonzero(~rows[frame, outer])
            rows[frame, outer[free[np.argmin(np.abs(free - idx))]]] = True
    rows[:, acs_lines(ny, acs)] = True
    return rows if acs else fill_empty_lines(rows)


def fill_empty_lines(rows: np.ndarray) -> np.ndarray:
    """VISTA's fill (Ahmad et al. 2015): every line no frame sampled takes a sample from the nearest line that
    another frame also sampled, in the frame where that line is sampled and the empty one's neighbours are not, so
    each frame keeps its count and the time average covers all lines. Lines nearest the centre are filled first."""
    rows = rows.copy()
    frames, ny = rows.shape
    for line in sorted(np.flatnonzero(~rows.any(axis=0)), key=lambda l: abs(l - ny // 2)):
        counts = rows.sum(axis=0)
        donors = [d for d in np.argsort(np.abs(np.arange(ny) - line), kind="stable") if counts[d] >= 2]
        if not donors:
            break  # fewer samples than lines: the average cannot cover k-space
        donor = donors[0]
        in_frames = np.flatnonzero(rows[:, donor])
        crowding = [rows[t, max(line - 1, 0):line + 2].sum() for t in in_frames]
        frame = in_frames[int(np.argmin(crowding))]
        rows[frame, donor], rows[frame, line] = False, True
    return rows


def radial(frames: int, ny: int, nx: int, accel: float) -> np.ndarray:
    """Golden-angle pseudo-radial: spokes through the centre rasterised on the Cartesian grid, rotated by the
    golden angle from spoke to spoke across frames. The number of spokes gives about 1/R of the grid per frame."""

    def rasterise(angles: np.ndarray) -> np.ndarray:
        grid = np.zeros((ny, nx), bool)
        radius = np.arange(-max(ny, nx), max(ny, nx)) * 0.5
        for a in angles:
            ky = np.round(ny / 2 + radius * np.sin(a)).astype(int)
            kx = np.round(nx / 2 + radius * np.cos(a)).astype(int)
            keep = (ky >= 0) & (ky < ny) & (kx >= 0) & (kx < nx)
            grid[ky[keep], kx[keep]] = True
        return grid

    target = 1.0 / accel
    spokes = 1
    while rasterise(np.arange(spokes) * GOLDEN_ANGLE).mean() < target and spokes < 4 * max(ny, nx):
        spokes += 1
    return np.stack([rasterise((t * spokes + np.arange(spokes)) * GOLDEN_ANGLE) for t in range(frames)])


# golden-angle: true radial spokes (recon.radial, NUFFT); radial: the same spokes rasterised onto the grid
KINDS = ("vista", "kt-uniform", "kt-gaussian", "interleaved", "interleaved-random", "radial", "golden-angle")
RADIAL_KINDS = ("radial", "golden-angle")  # spokes through the centre: no ACS block
DEFAULT_ACS = 20


def make_mask(kind: str, shape: tuple[int, int, int], accel: float, acs: int = 20, seed: int = 0) -> Mask:
    """Mask of `kind` for (frames, ky, kx). ACS is ignored by `radial` (spokes sample the centre densely)."""
    frames, ny, nx = shape
    if kind not in KINDS:
        raise MaskError(f"unknown mask kind '{kind}'; choose one of {', '.join(KINDS)} (or 'file' for the file's).")
    if not isinstance(accel, (int, float, np.number)) or not np.isfinite(accel):
        raise MaskError(f"acceleration R={accel} must be a finite number >= 1.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**32:
        raise MaskError(f"mask seed {seed!r} must be a whole number from 0 to 2**32 - 1.")
    rng = np.random.default_rng(seed)
    if kind == "golden-angle":  # R is the effective acceleration: Nyquist spokes / spokes per frame
        spokes = spokes_for_effective((ny, nx), accel)
        traj = golden_angle(frames, spokes, (ny, nx), first=seed * frames * spokes)
        return Mask(kind, accel, 0, seed, rasterise(traj, (ny, nx)), spokes)
    if kind == "radial":
        if accel < 1:
            raise MaskError(f"acceleration R={accel} must be at least 1.")
        return Mask(kind, accel, 0, seed, radial(frames, ny, nx, accel))
    lines_per_frame(ny, acs, accel)  # validates R and ACS against the matrix
    if kind == "vista":
        rows = vista(frames, ny, accel, acs, rng)
    elif kind == "kt-uniform":
        rows = kt_uniform(frames, ny, accel, acs)
    elif kind == "kt-gaussian":
        rows = kt_gaussian(frames, ny, accel, acs, rng)
    else:
        rows = interleaved(frames, ny, accel, acs, rng if kind == "interleaved-random" else None)
    return Mask(kind, accel, acs, seed, rows_to_mask(rows, nx))


def accel_for_effective(kind: str, ny: int, target: float, acs: int) -> float:
    """The R (counted outside the ACS block) that gives about `target` = all k-t locations / sampled ones.

    Line masks sample ny / target lines per frame, `acs` of them in the ACS block; interleaved and k-t uniform need
    a whole R, so their effective acceleration lands near, not on, the target (the mask reports the exact value).
    """
    if not target >= 1 or not np.isfinite(target):
        raise MaskError(f"effective acceleration {target} must be a finite number >= 1.")
    if kind in RADIAL_KINDS:
        return float(target)
    outer = ny / target - acs
    if outer < 1:
        if not acs:
            raise MaskError(f"effective acceleration {target:g} leaves {ny / target:.1f} lines per frame; every frame "
                            f"needs at least one line: use an effective acceleration of at most {ny}.")
        raise MaskError(f"effective acceleration {target:g} leaves {ny / target:.1f} lines per frame, no more than "
                        f"the {acs} ACS lines; use fewer ACS lines (--acs) or a lower acceleration.")
    accel = (ny - acs) / outer
    return float(max(1, round(accel))) if kind in ("kt-uniform", "interleaved", "interleaved-random") else accel
