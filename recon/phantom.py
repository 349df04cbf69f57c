"""Synthetic multi-coil cardiac cine: a seedable thorax with a beating heart, for tests, demos and training.

Every subject-level property (body and heart size, wall thickness, ejection fraction, contrast, texture, coil
layout, background phase, breathing) is drawn from the seed, so different seeds give different subjects.
Tissues have smooth multiplicative texture; the heart's texture lives in the wall's own polar frame so it moves
with the contraction. Geometry is in normalised coordinates: the field of view spans [-1, 1) on both axes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .data import CineData, CineMeta

FOV_MM = 340.0


@dataclass
class Subject:
    """Random anatomy and contrast of one synthetic subject."""

    body: tuple[float, float]  # half-axes (y, x)
    fat: float  # subcutaneous fat thickness
    muscle: float  # chest-wall muscle thickness
    heart_centre: tuple[float, float]
    heart_angle: float
    lv_radius: float  # end-diastolic endocardial radius
    lv_aspect: float
    wall: float  # end-diastolic wall thickness
    ejection: float  # fraction of end-diastolic area lost at end systole
    rv_scale: float
    lung_scale: float
    liver: tuple[float, float, float, float]  # cy, cx, ry, rx
    intensity: dict
    texture_strength: float
    breathing: float  # amplitude of the breathing shift (normalised units); 0 = breath-hold
    phase_coeffs: np.ndarray
    systole_peak: float  # cardiac phase of end systole, fraction of the cycle
    start_phase: float  # cardiac phase of the first frame
    rr_ms: float


def draw_subject(rng: np.random.Generator, breathing: float | None = None) -> Subject:
    u = rng.uniform
    intensity = {
        "blood": u(0.85, 1.0), "myo": u(0.25, 0.4), "fat": u(0.7, 0.95), "muscle": u(0.2, 0.35),
        "liver": u(0.3, 0.5), "lung": u(0.02, 0.08), "bone": u(0.2, 0.35), "csf": u(0.5, 0.8),
        "mediastinum": u(0.1, 0.25), "pericardial_fat": u(0.6, 0.9), "papillary": u(0.25, 0.4),
    }
    return Subject(
        body=(u(0.55, 0.7), u(0.78, 0.92)),
        fat=u(0.03, 0.09),
        muscle=u(0.04, 0.08),
        heart_centre=(u(-0.15, 0.05), u(0.0, 0.2)),
        heart_angle=u(-0.5, 0.5),
        lv_radius=u(0.14, 0.22),
        lv_aspect=u(0.85, 1.15),
        wall=u(0.045, 0.08),
        ejection=u(0.35, 0.7),
        rv_scale=u(0.9, 1.3),
        lung_scale=u(0.8, 1.15),
        liver=(u(0.35, 0.5), u(-0.45, -0.25), u(0.15, 0.25), u(0.25, 0.4)),
        intensity=intensity,
        texture_strength=u(0.08, 0.2),
        breathing=u(0.0, 0.06) if breathing is None else breathing,
        phase_coeffs=rng.normal(0, 1.0, 6) * np.array([np.pi, 0.8, 0.8, 0.5, 0.5, 0.5]),
        systole_peak=u(0.3, 0.4),
        start_phase=u(0.0, 0.1),
        rr_ms=u(750, 1100),
    )


def contraction(phase: np.ndarray, systole_peak: float) -> np.ndarray:
    """Periodic contraction in [0, 1]: 0 at end diastole, 1 at end systole; slower diastolic filling."""
    phase = np.mod(phase, 1.0)
    warped = np.where(phase < systole_peak, 0.5 * phase / systole_peak,
                      0.5 + 0.5 * (phase - systole_peak) / (1 - systole_peak))
    return 0.5 * (1 - np.cos(2 * np.pi * warped))


def smooth_field(rng: np.random.Generator, n: int, correlation: float) -> np.ndarray:
    """Zero-mean, unit-std Gaussian random field with the given correlation length (normalised units)."""
    freq = np.fft.fftfreq(n) * n / 2  # cycles per unit length
    fy, fx = np.meshgrid(freq, freq, indexing="ij")
    spectrum = np.exp(-0.5 * (fy ** 2 + fx ** 2) * (2 * np.pi * correlation) ** 2)
    field = np.fft.ifft2(np.fft.fft2(rng.standard_normal((n, n))) * spectrum).real
    return (field - field.mean()) / (field.std() + 1e-12)


def soft_inside(y, x, cy, cx, ry, rx, angle=0.0, edge=1.0) -> np.ndarray:
    """Partial-volume occupancy in [0, 1] of a rotated ellipse; `edge` is the blur width in normalised units."""
    c, s = np.cos(angle), np.sin(angle)
    dy, dx = y - cy, x - cx
    u, v = c * dy + s * dx, -s * dy + c * dx
    r = np.sqrt((u / ry) ** 2 + (v / rx) ** 2)
    distance = (1 - r) * min(ry, rx)  # approximate signed distance, positive inside
    return 0.5 * (1 + np.tanh(distance / edge))


def paint(image: np.ndarray, occupancy: np.ndarray, value) -> np.ndarray:
    return image * (1 - occupancy) + value * occupancy


class Thorax:
    """Renders one subject's magnitude frames on an n x n grid."""

    def __init__(self, subject: Subject, n: int, rng: np.random.Generator):
        self.s = subject
        self.n = n
        self.y, self.x = normalised_grid((n, n))
        self.edge = 0.6 / n  # about a third of a pixel: smooth, but still sharp boundaries
        self.fine = smooth_field(rng, n, 0.015)
        self.coarse = smooth_field(rng, n, 0.06)
        self.heart_modes = rng.normal(0, 1, (4, 3, 2))  # (angular order, radial order, cos/sin)

    def texture(self, amount: float = 1.0) -> np.ndarray:
        return 1 + amount * self.s.texture_strength * (0.6 * self.fine + 0.8 * self.coarse)

    def heart_texture(self, cy, cx, r_in, r_out) -> np.ndarray:
        """Smooth pattern in the wall's polar frame (angle, relative depth), so it moves with the wall."""
        theta = np.arctan2(self.y - cy, self.x - cx)
        depth = np.clip((np.hypot(self.y - cy, self.x - cx) - r_in) / (r_out - r_in + 1e-6), -1, 2)
        pattern = np.zeros_like(theta)
        for m in range(4):
            for k in range(3):
                a, b = self.heart_modes[m, k]
                pattern += (a * np.cos(m * theta) + b * np.sin(m * theta)) * np.cos(k * np.pi * depth)
        return 1 + 0.5 * self.s.texture_strength * pattern / 4

    def frame(self, phase: float, breath: float) -> np.ndarray:
        s, inten, y, x, e = self.s, self.s.intensity, self.y, self.x, self.edge
        image = np.zeros_like(y)
        tex = self.texture()
        by, bx = s.body
        image = paint(image, soft_inside(y, x, 0.05, 0, by, bx, edge=e), inten["fat"] * tex)
        image = paint(image, soft_inside(y, x, 0.05, 0, by - s.fat, bx - s.fat, edge=e), inten["muscle"] * tex)
        cavity = (by - s.fat - s.muscle, bx - s.fat - s.muscle)
        inside = soft_inside(y, x, 0.05, 0, *cavity, edge=e)
        image = paint(image, inside, inten["mediastinum"] * tex)
        lung_ry, lung_rx = 0.55 * cavity[0] * s.lung_scale, 0.33 * cavity[1] * s.lung_scale
        for side in (-1, 1):
            image = paint(image, soft_inside(y, x, 0.05 + 0.3 * breath, side * 0.5 * cavity[1], lung_ry, lung_rx,
                                             angle=side * 0.3, edge=e), inten["lung"] * self.texture(0.5))
        ly, lx, lry, lrx = s.liver
        image = paint(image, inside * soft_inside(y, x, ly + breath, lx, lry, lrx, angle=0.3, edge=e),
                      inten["liver"] * tex)
        spine_y = 0.05 + by - s.fat - s.muscle - 0.12
        image = paint(image, soft_inside(y, x, spine_y - 0.02, 0, 0.09, 0.1, edge=e), inten["bone"] * tex)
        image = paint(image, soft_inside(y, x, spine_y + 0.08, 0, 0.035, 0.035, edge=e), inten["csf"])
        image = paint(image, soft_inside(y, x, spine_y - 0.1, 0.13, 0.05, 0.05, edge=e), inten["blood"])  # aorta
        return self.heart(image, phase, breath)

    def heart(self, image: np.ndarray, phase: float, breath: float) -> np.ndarray:
        s, inten, y, x, e = self.s, self.s.intensity, self.y, self.x, self.edge
        c = contraction(np.array(phase), s.systole_peak)
        cy, cx = s.heart_centre[0] + breath, s.heart_centre[1]
        r_in = s.lv_radius * np.sqrt(1 - s.ejection * c)
        r_out = np.sqrt(r_in ** 2 + (s.lv_radius + s.wall) ** 2 - s.lv_radius ** 2)  # myocardial area is conserved
        a = s.lv_aspect
        rv_r = s.rv_scale * (s.lv_radius + s.wall) * (1 - 0.3 * s.ejection * c)
        rv_cy, rv_cx = cy - 0.35 * r_out * np.cos(s.heart_angle), cx - 0.9 * r_out
        image = paint(image, soft_inside(y, x, cy, cx, (r_out + 0.03) * a, r_out + 0.03, edge=e),
                      inten["pericardial_fat"] * self.texture(0.5))
        image = paint(image, soft_inside(y, x, rv_cy, rv_cx, rv_r + 0.02, 1.25 * rv_r + 0.02, s.heart_angle, e),
                      inten["myo"] * self.texture(0.5))
        image = paint(image, soft_inside(y, x, rv_cy, rv_cx, rv_r, 1.25 * rv_r, s.heart_angle, e),
                      inten["blood"] * self.texture(0.3))
        wall_texture = self.heart_texture(cy, cx, r_in, r_out)
        image = paint(image, soft_inside(y, x, cy, cx, r_out * a, r_out, edge=e), inten["myo"] * wall_texture)
        image = paint(image, soft_inside(y, x, cy, cx, r_in * a, r_in, edge=e), inten["blood"] * self.texture(0.3))
        for angle in (0.8, 2.3):  # papillary muscles, attached near the wall
            py = cy + 0.7 * r_in * a * np.sin(angle + s.heart_angle)
            px = cx + 0.7 * r_in * np.cos(angle + s.heart_angle)
            size = 0.18 * s.lv_radius * (1 + 0.5 * c)
            image = paint(image, soft_inside(y, x, py, px, size, size, edge=e), inten["papillary"] * wall_texture)
        return image


def normalised_grid(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    ny, nx = shape
    return np.meshgrid((np.arange(ny) - ny / 2) / (ny / 2), (np.arange(nx) - nx / 2) / (nx / 2), indexing="ij")


def coil_maps(rng: np.random.Generator, coils: int, shape: tuple[int, int], body: tuple[float, float]) -> np.ndarray:
    """Smooth complex receive maps from coils spaced around the body, normalised to sum |S|^2 = 1."""
    if coils == 1:
        return np.ones((1, *shape), np.complex64)
    y, x = normalised_grid(shape)
    angles = rng.uniform(0, 2 * np.pi) + 2 * np.pi * np.arange(coils) / coils
    maps = []
    for k, angle in enumerate(angles):
        cy, cx = 1.15 * body[0] * np.sin(angle) + 0.05, 1.15 * body[1] * np.cos(angle)
        distance2 = (y - cy) ** 2 + (x - cx) ** 2
        magnitude = 1.0 / (distance2 + rng.uniform(0.15, 0.35))
        phase = rng.uniform(0, 2 * np.pi) + 1.5 * (np.sin(angle) * y + np.cos(angle) * x)
        maps.append(magnitude * np.exp(1j * phase))
    maps = np.asarray(maps)
    return (maps / np.sqrt((np.abs(maps) ** 2).sum(axis=0))).astype(np.complex64)


def background_phase(coeffs: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    y, x = normalised_grid(shape)
    return coeffs[0] + coeffs[1] * y + coeffs[2] * x + coeffs[3] * x * y + coeffs[4] * y ** 2 + coeffs[5] * x ** 2


def add_noise(kspace: np.ndarray, signal_level: float, snr: float | None, rng: np.random.Generator) -> np.ndarray:
    """Complex white noise with std signal_level / snr (orthonormal FFT: the same in image and k-space)."""
    if not snr or np.isinf(snr):
        return kspace
    sigma = signal_level / snr / np.sqrt(2)
    noise = rng.standard_normal(kspace.shape, np.float32) + 1j * rng.standard_normal(kspace.shape, np.float32)
    return (kspace + sigma * noise).astype(np.complex64)


def multicoil_kspace(image: np.ndarray, sens: np.ndarray, snr: float | None, rng: np.random.Generator) -> np.ndarray:
    """Centred orthonormal k-space of every coil image, plus noise at `snr` relative to the mean body signal."""
    from numpy.fft import fft2, fftshift, ifftshift

    kspace = fftshift(fft2(ifftshift(image[:, None] * sens[None], axes=(-2, -1)), norm="ortho"), axes=(-2, -1))
    magnitude = np.abs(image)
    body_level = float(magnitude[magnitude > 0.05 * magnitude.max()].mean())
    return add_noise(kspace.astype(np.complex64), body_level, snr, rng)


def simulate_cine(frames: int = 12, size: int = 128, coils: int = 8, seed: int = 0, snr: float | None = 40.0,
                  breathing: float | None = 0.0) -> CineData:
    """Fully sampled multi-coil cine k-space with its noise-free complex reference and the true coil maps.

    snr: mean body magnitude over noise std; None or inf for no noise.
    breathing: shift amplitude in normalised units (0 = breath-hold; None = drawn from the seed).
    """
    rng = np.random.default_rng(seed)
    subject = draw_subject(rng, breathing)
    thorax = Thorax(subject, size, rng)
    t = np.arange(frames) / frames
    breath = subject.breathing * np.sin(2 * np.pi * (t * rng.uniform(0.15, 0.3) + rng.uniform()))
    magnitude = np.stack([thorax.frame(subject.start_phase + ti, b) for ti, b in zip(t, breath)])
    image = (magnitude * np.exp(1j * background_phase(subject.phase_coeffs, (size, size)))).astype(np.complex64)
    sens = coil_maps(rng, coils, (size, size), subject.body)
    kspace = multicoil_kspace(image, sens, snr, rng)
    meta = CineMeta(
        pixel_spacing=(FOV_MM / size, FOV_MM / size), slice_thickness=8.0, rr_interval=subject.rr_ms,
        frame_times=tuple(float(v) for v in t * subject.rr_ms),
        source=f"synthetic phantom seed={seed} snr={snr} breathing={subject.breathing:.3f}",
    )
    return CineData(kspace=kspace, reference=image, sens=sens, meta=meta).validate()
