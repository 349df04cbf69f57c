"""A second phantom family, for evaluation only: never trained or tuned on by the default priors.

Written apart from `recon.phantom` (the training generator) so that a prior which learned that generator's look
gets no credit here. What differs, on purpose:
- anatomy: superellipse torso, a myocardium whose thickness varies around the ring, a crescent right ventricle
  cut from two discs, trabeculated endocardium, lungs with bright vessel dots, a chest wall with sternum and
  ribs, a descending aorta with flow-dependent signal;
- texture: log-normal speckle from anisotropic filtered noise plus point-like fat lobules (not smooth fields);
- motion: contraction with diastasis and an atrial kick, systolic twist of the ring, through-plane motion that
  changes the blood-pool signal, optional free breathing as a drift along an oblique direction;
- sizes: non-square matrices (96-176 x 96-192), 10-30 frames, 4-16 coils on two arrays (anterior, posterior)
  with 1/r^1.5 fall-off, SNR 12-60.
All of it is drawn from the seed; `HELDOUT_TUNING_SEEDS` are for choosing defaults, `HELDOUT_REPORT_SEEDS` for
the numbers we publish.
"""

from __future__ import annotations

import numpy as np

from .data import CineData, CineMeta

HELDOUT_TUNING_SEEDS = range(0, 50)
HELDOUT_REPORT_SEEDS = range(500, 550)


def ramp_edge(signed_distance: np.ndarray, width: float) -> np.ndarray:
    """Occupancy from a signed distance (positive inside) with a linear partial-volume ramp of `width`."""
    return np.clip(0.5 + signed_distance / width, 0.0, 1.0)


def superellipse(y, x, cy, cx, ry, rx, power) -> np.ndarray:
    """Approximate signed distance to a superellipse |u/ry|^p + |v/rx|^p = 1 (positive inside)."""
    level = (np.abs((y - cy) / ry) ** power + np.abs((x - cx) / rx) ** power) ** (1.0 / power)
    return (1.0 - level) * min(ry, rx)


def disc(y, x, cy, cx, r) -> np.ndarray:
    return r - np.hypot(y - cy, x - cx)


def speckle(rng: np.random.Generator, shape: tuple[int, int], length: tuple[float, float], amount: float) -> np.ndarray:
    """Log-normal multiplicative texture with anisotropic correlation lengths (pixels)."""
    ky = np.fft.fftfreq(shape[0])[:, None]
    kx = np.fft.fftfreq(shape[1])[None, :]
    filt = np.exp(-2 * (np.pi ** 2) * ((ky * length[0]) ** 2 + (kx * length[1]) ** 2))
    field = np.real(np.fft.ifft2(np.fft.fft2(rng.standard_normal(shape)) * filt))
    field /= field.std() + 1e-12
    return np.exp(amount * field - 0.5 * amount ** 2)


def lobules(rng: np.random.Generator, shape: tuple[int, int], count: int, size: float) -> np.ndarray:
    """Sum of small Gaussian blobs (fat lobules, vessels) in [0, 1]."""
    out = np.zeros(shape)
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
    for cy, cx, s in zip(rng.uniform(0, shape[0], count), rng.uniform(0, shape[1], count),
                         rng.uniform(0.5, 1.5, count) * size):
        out += np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * s ** 2))
    return np.clip(out, 0, 1)


def cardiac_volume(phase: np.ndarray, rng_params: dict) -> np.ndarray:
    """Relative LV volume over the cycle in [0, 1] (1 = end diastole): ejection, rapid filling, diastasis, kick."""
    p = np.mod(phase, 1.0)
    es, fill_end, kick = rng_params["es"], rng_params["fill_end"], rng_params["kick"]
    eject = 0.5 * (1 + np.cos(np.pi * np.clip(p / es, 0, 1)))  # 1 -> 0
    filling = 0.5 * (1 - np.cos(np.pi * np.clip((p - es) / (fill_end - es), 0, 1)))  # 0 -> 1
    atrial = np.exp(-0.5 * ((p - 0.88) / 0.04) ** 2)
    shape = np.where(p < es, eject, (1 - kick) * filling + kick * np.clip((p - 0.82) / 0.1, 0, 1))
    return np.clip(shape + 0.02 * atrial, 0, 1)


class HeldoutSubject:
    def __init__(self, seed: int, shape: tuple[int, int]):
        rng = np.random.default_rng([seed, 424242])
        self.rng, self.shape = rng, shape
        u = rng.uniform
        self.torso = (u(0.62, 0.8), u(0.8, 0.95), u(2.2, 3.5))  # half-axes (of the FOV) and superellipse power
        self.heart = (u(-0.2, 0.1), u(-0.05, 0.25))
        self.lv_r, self.wall = u(0.12, 0.2), u(0.04, 0.075)
        self.wall_mod = rng.normal(0, 0.25, 3)  # thickness variation: cos/sin of angle, cos 2 angle
        self.ef = u(0.3, 0.65)
        self.twist = u(0.05, 0.2)  # radians at end systole
        self.cycle = {"es": u(0.28, 0.4), "fill_end": u(0.5, 0.65), "kick": u(0.1, 0.3)}
        self.through_plane = u(0.05, 0.25)
        self.breath = (u(0.0, 0.05), u(0.1, 0.35), u(0, 2 * np.pi))  # amplitude, breaths per cycle, phase
        self.signal = {k: u(*r) for k, r in {
            "blood": (0.8, 1.0), "myo": (0.18, 0.35), "fat": (0.75, 1.0), "muscle": (0.15, 0.3),
            "lung": (0.01, 0.06), "liver": (0.25, 0.45), "bone": (0.1, 0.25), "vessel": (0.6, 1.0)}.items()}
        ny, nx = shape
        self.texture = speckle(rng, shape, (u(1.0, 3.0), u(1.0, 3.0)), u(0.08, 0.2))
        self.fat_dots = lobules(rng, shape, int(u(20, 60)), 0.8 * max(ny, nx) / 128)
        self.lung_vessels = lobules(rng, shape, int(u(10, 30)), 0.7 * max(ny, nx) / 128)
        self.trabeculae = rng.normal(0, 1, 12)
        self.phase_poly = rng.normal(0, 1, 5) * np.array([np.pi, 1.2, 1.2, 0.4, 0.4])

    def grid(self, shift: tuple[float, float]):
        ny, nx = self.shape
        y = (np.arange(ny) - ny / 2) / (ny / 2) - shift[0]
        x = (np.arange(nx) - nx / 2) / (nx / 2) - shift[1]
        return np.meshgrid(y, x, indexing="ij")

    def frame(self, phase: float) -> np.ndarray:
        ry, rx, power = self.torso
        amp, rate, start = self.breath
        drift = amp * np.sin(2 * np.pi * rate * phase + start)
        y, x = self.grid((0.0, 0.0))
        edge = 1.2 / max(self.shape)
        s = self.signal
        body = ramp_edge(superellipse(y, x, 0.05, 0, ry, rx, power), edge)
        inner = ramp_edge(superellipse(y, x, 0.05, 0, ry - 0.07, rx - 0.07, power), edge)
        image = s["fat"] * body * (1 - inner) * (0.7 + 0.6 * self.fat_dots)
        chest = ramp_edge(superellipse(y, x, 0.05, 0, ry - 0.07, rx - 0.07, power), edge) \
            - ramp_edge(superellipse(y, x, 0.05, 0, ry - 0.13, rx - 0.13, power), edge)
        image += s["muscle"] * chest
        cavity = ramp_edge(superellipse(y, x, 0.05, 0, ry - 0.13, rx - 0.13, power), edge)
        yb, xb = self.grid((drift, 0.4 * drift))  # organs move with breathing, the body wall does not
        lungs = sum(ramp_edge(superellipse(yb, xb, -0.05, side * 0.42, 0.45, 0.3, 2.0), edge) for side in (-1, 1))
        image += cavity * (1 - np.clip(lungs, 0, 1)) * 0.12
        image += cavity * np.clip(lungs, 0, 1) * (s["lung"] + 0.5 * s["vessel"] * self.lung_vessels)
        liver = ramp_edge(superellipse(yb, xb, 0.55, -0.3, 0.3, 0.45, 2.0), edge) * cavity
        image = image * (1 - liver) + s["liver"] * liver
        spine = ramp_edge(disc(y, x, 0.05 + ry - 0.25, 0, 0.1), edge)
        image = image * (1 - spine) + s["bone"] * spine
        aorta = ramp_edge(disc(yb, xb, 0.05 + ry - 0.42, 0.16, 0.055), edge)
        image = image * (1 - aorta) + s["vessel"] * (0.8 + 0.2 * np.cos(2 * np.pi * phase)) * aorta
        return self.add_heart(image, yb, xb, phase, edge) * self.texture

    def add_heart(self, image, y, x, phase, edge) -> np.ndarray:
        s = self.signal
        volume = cardiac_volume(np.array(phase), self.cycle)
        cy, cx = self.heart
        r_in = self.lv_r * np.sqrt(1 - self.ef * (1 - volume))
        angle = np.arctan2(y - cy, x - cx) + self.twist * (1 - volume)
        thickness = self.wall * (1 + self.wall_mod[0] * np.cos(angle) + self.wall_mod[1] * np.sin(angle)
                                 + self.wall_mod[2] * np.cos(2 * angle))
        r_out = np.sqrt(r_in ** 2 + (self.lv_r + thickness) ** 2 - self.lv_r ** 2)
        ragged = r_in * (1 + 0.04 * sum(self.trabeculae[k] * np.cos((k + 3) * angle) for k in range(6)))
        rho = np.hypot(y - cy, x - cx)
        epi = ramp_edge(r_out - rho, edge)
        endo = ramp_edge(ragged - rho, edge)
        rv_outer = ramp_edge(disc(y, x, cy - 0.1, cx - 1.3 * self.lv_r, 1.6 * self.lv_r * (0.8 + 0.2 * volume)), edge)
        rv_cavity = np.clip(rv_outer - ramp_edge(disc(y, x, cy, cx, self.lv_r + 1.3 * self.wall), edge), 0, 1)
        blood = s["blood"] * (1 - self.through_plane * (1 - volume))  # inflow changes with through-plane motion
        image = image * (1 - rv_cavity) + blood * rv_cavity
        image = image * (1 - epi) + s["myo"] * epi
        return image * (1 - endo) + blood * endo

    def coil_maps(self, coils: int) -> np.ndarray:
        """Two loop arrays (anterior, posterior), 1/r^1.5 fall-off and a linear phase per coil."""
        y, x = self.grid((0.0, 0.0))
        front = coils - coils // 2
        positions = [(-1.15, v) for v in np.linspace(-0.7, 0.7, front)] + \
                    [(1.2, v) for v in np.linspace(-0.6, 0.6, coils // 2)]
        maps = []
        for py, px in positions:
            r = np.hypot(y - py, x - px) + 0.25
            maps.append(r ** -1.5 * np.exp(1j * (self.rng.uniform(0, 2 * np.pi) + 0.8 * (py * y + px * x))))
        maps = np.asarray(maps)
        return (maps / np.sqrt((np.abs(maps) ** 2).sum(0))).astype(np.complex64)


def simulate_heldout(seed: int, shape: tuple[int, int] | None = None, frames: int | None = None,
                     coils: int | None = None, snr: float | None = None) -> CineData:
    """A held-out-family cine: fully sampled multi-coil k-space, noise-free reference, true coil maps.
    Unset sizes, coil count and SNR are drawn from the seed; snr=inf gives noise-free k-space."""
    rng = np.random.default_rng([seed, 31337])
    shape = shape or (int(rng.integers(6, 12)) * 16, int(rng.integers(6, 13)) * 16)
    frames = frames or int(rng.integers(10, 31))
    coils = coils or int(rng.choice([4, 6, 8, 12, 16]))
    snr = float(rng.uniform(12, 60)) if snr is None else snr
    subject = HeldoutSubject(seed, shape)
    start = rng.uniform(0, 1)
    magnitude = np.stack([subject.frame(start + t / frames) for t in range(frames)])
    y, x = subject.grid((0.0, 0.0))
    c = subject.phase_poly
    phase = c[0] + c[1] * y + c[2] * x + c[3] * y * x + c[4] * (x ** 2 - y ** 2)
    image = (magnitude * np.exp(1j * phase)).astype(np.complex64)
    sens = subject.coil_maps(coils)
    coil_images = image[:, None] * sens[None]
    kspace = np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(coil_images, axes=(-2, -1)), norm="ortho"), axes=(-2, -1))
    level = float(np.abs(image)[np.abs(image) > 0.1 * np.abs(image).max()].mean())
    noise = rng.standard_normal(kspace.shape) + 1j * rng.standard_normal(kspace.shape)
    kspace = (kspace + level / snr / np.sqrt(2) * noise).astype(np.complex64)  # snr inf: + 0
    rr = float(rng.uniform(700, 1200))
    spacing = float(rng.uniform(1.3, 2.2))
    meta = CineMeta(pixel_spacing=(spacing, spacing), slice_thickness=float(rng.uniform(6, 10)), rr_interval=rr,
                    frame_times=tuple(float(v) for v in np.arange(frames) * rr / frames),
                    source=f"held-out phantom family seed={seed} {frames}x{shape[0]}x{shape[1]} {coils} coils "
                           f"snr={snr:.1f}")
    return CineData(kspace=kspace, reference=image, sens=sens, meta=meta).validate()
