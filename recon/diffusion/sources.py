"""Training sources for the image-domain priors: phantom folders and real magnitude cines, mixed with weights.

A source is `PATH[:WEIGHT]`. PATH is a folder of fully sampled `.h5` cines (`stdm simulate DIR --count N`), or a
magnitude cine file: `.npz` (array `cine`, or the only array), `.npy`, shaped (slices, frames, y, x) or
(frames, y, x), or a folder of DICOM files of one cine (grouped by SliceLocation, ordered by TriggerTime).

Real magnitude cines become complex cines the way a scanner would give them: sub-LSB dither for integer data, a
smooth synthetic background phase (a prior trained on real-valued images learns that the imaginary part is zero),
and augmentations that keep a plausible cine: a crop at a random field of view resampled to a random matrix,
flips and 90-degree rotations, periodic temporal resampling to another frame count, intensity gamma and a smooth
bias field; with `variation` > 0 also another patient's anatomy, motion and contrast
(recon.diffusion.patient_variation). Each magnitude slice yields `variants` such cines, drawn once when training
starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError, ReconError
from ..phantom import background_phase, normalised_grid, smooth_field
from .patient_variation import another_patient

MAGNITUDE_SUFFIXES = (".npz", ".npy")


@dataclass
class Source:
    path: Path
    weight: float = 1.0

    @classmethod
    def parse(cls, spec: str) -> "Source":
        path, _, weight = spec.rpartition(":")
        if not path or "/" in weight or Path(spec).exists():
            return cls(Path(spec))
        try:
            value = float(weight)
        except ValueError:
            raise ReconError(f"training source '{spec}': the weight after ':' must be a number > 0, not "
                             f"'{weight}' (a path with ':' in its name must exist).") from None
        if not 0 < value < float("inf"):
            raise ReconError(f"training source '{spec}': the weight after ':' must be > 0.")
        return cls(Path(path), value)

    @property
    def is_phantom_folder(self) -> bool:
        return self.path.is_dir() and any(self.path.glob("*.h5"))


def read_magnitude(path: Path) -> tuple[np.ndarray, bool]:
    """(slices, frames, y, x) magnitude and whether it was stored as integers (quantised: needs dither)."""
    if path.is_dir():
        array = dicom_cine(path)
    elif path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as f:
            if "cine" not in f.files and len(f.files) != 1:
                raise DataError(f"{path} holds {', '.join(f.files)}; name the magnitude cine array 'cine'.")
            array = f["cine" if "cine" in f.files else f.files[0]]
    elif path.suffix == ".npy":
        array = np.load(path, allow_pickle=False)
    else:
        raise DataError(f"training source {path}: expected a folder of .h5 cines or DICOM files, or a "
                        f"{'/'.join(MAGNITUDE_SUFFIXES)} magnitude cine.")
    if array.ndim == 3:
        array = array[None]
    if array.ndim != 4 or min(array.shape[1:]) < 4:
        raise DataError(f"{path}: magnitude cine has shape {array.shape}; expected (slices, frames, y, x) or "
                        "(frames, y, x) with at least 4 frames and 4 x 4 pixels.")
    if np.iscomplexobj(array) or not np.isfinite(array).all():
        raise DataError(f"{path}: a magnitude cine must be real and finite.")
    return np.abs(array.astype(np.float32)), np.issubdtype(array.dtype, np.integer)


def dicom_cine(folder: Path) -> np.ndarray:
    import pydicom

    files = sorted(p for p in folder.iterdir() if p.is_file())
    slices: dict[float, list] = {}
    for p in files:
        try:
            ds = pydicom.dcmread(p)
            pixels = ds.pixel_array
        except Exception as exc:  # noqa: BLE001 - any unreadable file is named, whatever pydicom raised
            raise DataError(f"{p} is not a readable DICOM image ({exc}).") from exc
        key = float(getattr(ds, "SliceLocation", 0.0))
        slices.setdefault(key, []).append((float(getattr(ds, "TriggerTime", 0.0)), pixels))
    if not slices:
        raise DataError(f"{folder} holds no DICOM files.")
    counts = {len(v) for v in slices.values()}
    if len(counts) != 1:
        raise DataError(f"{folder}: slices have different numbers of frames ({sorted(counts)}).")
    return np.stack([np.stack([p for _, p in sorted(v, key=lambda item: item[0])])
                     for _, v in sorted(slices.items())])


def periodic_resample(cine: np.ndarray, frames: int) -> np.ndarray:
    """Fourier resampling along time: a cine is one cardiac cycle, so it is periodic."""
    from scipy.signal import resample

    return cine if frames == cine.shape[0] else resample(cine, frames, axis=0)


def resize(cine: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    from scipy.ndimage import zoom

    factors = (1, shape[0] / cine.shape[1], shape[1] / cine.shape[2])
    return zoom(cine, factors, order=1, grid_mode=True, mode="nearest")[:, :shape[0], :shape[1]]


def bias_field(rng: np.random.Generator, shape: tuple[int, int], strength: float) -> np.ndarray:
    y, x = normalised_grid(shape)
    coeffs = rng.normal(0, strength, 5)
    return np.exp(coeffs[0] * y + coeffs[1] * x + coeffs[2] * x * y + coeffs[3] * y ** 2 + coeffs[4] * x ** 2)


def augmented_cine(magnitude: np.ndarray, rng: np.random.Generator, quantised: bool,
                   variation: float = 0.0) -> np.ndarray:
    """One plausible complex cine (frames, y, x) from a magnitude cine, as described in the module docstring."""
    cine = magnitude.astype(np.float32)
    if quantised:
        cine = np.clip(cine + rng.uniform(-0.5, 0.5, cine.shape).astype(np.float32), 0, None)
    _, ny, nx = cine.shape
    fov = rng.uniform(0.5, 1.0)  # share of the source's field of view, centred near the middle
    h, w = max(8, int(ny * fov)), max(8, int(nx * fov * rng.uniform(0.8, 1.2)))
    h, w = min(h, ny), min(w, nx)
    top = int(np.clip(rng.normal((ny - h) / 2, (ny - h) / 6 + 1e-6), 0, ny - h))
    left = int(np.clip(rng.normal((nx - w) / 2, (nx - w) / 6 + 1e-6), 0, nx - w))
    cine = cine[:, top:top + h, left:left + w]
    matrix = int(rng.choice([64, 80, 96, 112, 128, 144, 160]))
    cine = resize(cine, (matrix, max(16, int(round(matrix * w / h / 8)) * 8)))
    cine = np.rot90(cine, int(rng.integers(4)), axes=(1, 2))
    if rng.random() < 0.5:
        cine = cine[:, :, ::-1]
    cine = periodic_resample(cine, int(rng.integers(12, 33)))
    cine = np.clip(cine, 0, None)
    cine = cine / (np.percentile(cine, 99.5) + 1e-12)
    if variation > 0:  # drawn only then, so that recipes without it still give the same cines
        cine = another_patient(cine, rng, variation)
    cine = cine ** rng.uniform(0.75, 1.35)
    cine = cine * bias_field(rng, cine.shape[1:], 0.25)
    phase = background_phase(rng.normal(0, 1.0, 6) * np.array([np.pi, 0.8, 0.8, 0.5, 0.5, 0.5]), cine.shape[1:])
    drift = 0.1 * smooth_field(rng, max(cine.shape[1:]), 0.2)[:cine.shape[1], :cine.shape[2]]
    return (cine * np.exp(1j * (phase + drift))).astype(np.complex64)


def magnitude_cines(source: Source, variants: int, seed: int, skip_slices: tuple[int, ...] = (),
                    variation: float = 0.0) -> list[np.ndarray]:
    """`variants` augmented complex cines per slice of a magnitude source (slices in `skip_slices` left out;
    `variation`: recon.diffusion.patient_variation's strength, 0 = off)."""
    magnitude, quantised = read_magnitude(source.path)
    keep = [i for i in range(magnitude.shape[0]) if i not in skip_slices]
    if not keep:
        raise DataError(f"{source.path}: every slice is held out (--skip-slices); nothing left to train on.")
    rng = np.random.default_rng([seed, 7919])
    return [augmented_cine(magnitude[i], rng, quantised, variation) for i in keep for _ in range(variants)]


def describe_source(source: Source, skip_slices: tuple[int, ...]) -> str:
    held = f", slices {list(skip_slices)} held out" if skip_slices and not source.is_phantom_folder else ""
    return f"{source.path.name} (weight {source.weight:g}{held})"
