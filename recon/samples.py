"""The example cines the project ships: the synthetic sample and one real-anatomy cine (simulated coils)."""

from __future__ import annotations

from importlib import resources

import numpy as np
import scipy.io

from .data import CineData, CineMeta
from .phantom import background_phase, coil_maps, multicoil_kspace, simulate_cine

SAMPLE_SEED = 7  # the shipped synthetic sample; training seeds must never include it (nor benchmark seeds)
BENCHMARK_SEEDS = range(1000, 1100)  # held out for benchmarks; default weights train on seeds >= 10000
REAL_CINE_FILE = "giraf_sax_cine_data25.mat"


def sample_cine() -> CineData:
    """The bundled synthetic sample: 12 frames, 128 x 128, 8 coils, SNR 40."""
    return simulate_cine(frames=12, size=128, coils=8, seed=SAMPLE_SEED, snr=40.0)


def real_cine_magnitude() -> np.ndarray:
    """The shipped real short-axis cine (GIRAF data25, MIT licence): magnitude (25, 156, 192) scaled to ~[0, 1]."""
    path = resources.files("sample_data") / REAL_CINE_FILE
    with resources.as_file(path) as p:
        data = scipy.io.loadmat(p)["data"].astype(np.float64)  # (x, y, t)
    frames = data.transpose(2, 1, 0)
    return (frames / np.percentile(frames, 99.5)).astype(np.float32)


def real_cine(coils: int = 8, snr: float | None = 40.0, seed: int = 0) -> CineData:
    """Real anatomy and motion; the phase, coil maps and noise are simulated (the source is magnitude only)."""
    return magnitude_case(real_cine_magnitude(), coils, snr, seed, (1.8, 1.8), "real SAX cine (GIRAF data25, MIT)")


def magnitude_case(magnitude: np.ndarray, coils: int, snr: float | None, seed: int, spacing: tuple[float, float],
                   name: str) -> CineData:
    """A test case from a real magnitude cine (frames, y, x): smooth synthetic phase, simulated coils and noise."""
    rng = np.random.default_rng(seed)
    shape = magnitude.shape[1:]
    phase = background_phase(rng.normal(0, 1.0, 6) * np.array([np.pi, 0.8, 0.8, 0.5, 0.5, 0.5]), shape)
    image = (magnitude * np.exp(1j * phase)).astype(np.complex64)
    sens = coil_maps(rng, coils, shape, body=(0.7, 0.8))
    meta = CineMeta(pixel_spacing=spacing, slice_thickness=8.0, rr_interval=1000.0,
                    source=f"{name} with simulated phase, {coils} coils, SNR {snr}, seed {seed}")
    return CineData(kspace=multicoil_kspace(image, sens, snr, rng), reference=image, sens=sens, meta=meta).validate()
