"""Training planes cut from cines, with augmentations that respect the physics.

Image plane kinds: "yt" — for each x, the (t, y) plane; "xt" — for each y, the (t, x) plane; "xy" — each frame;
"both" — y-t and x-t planes pooled (one shared spatiotemporal model). Each cine is normalised by the 99.5th
percentile of its magnitude, the same rule the reconstruction applies to the zero-filled image of measured data.
Planes are returned as float32 (2, H, W): real and imaginary parts. Other kinds (GLDM's k-space planes) come from
recon.diffusion.kinds.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import torch

from ..errors import DataError, FileFormatError, ReconError
from .kinds import IMAGE_KINDS, plane_kind


def cine_planes(cine: np.ndarray, kind: str) -> list[np.ndarray]:
    """Planes of one complex cine (frames, y, x): yt -> (x, t, y); xt -> (y, t, x); xy -> (t, y, x)."""
    if kind == "yt":
        return [cine.transpose(2, 0, 1)]
    if kind == "xt":
        return [cine.transpose(1, 0, 2)]
    if kind == "both":
        return cine_planes(cine, "yt") + cine_planes(cine, "xt")
    if kind == "xy":
        return [cine]
    raise ReconError(f"plane kind '{kind}' is not an image-domain kind ({', '.join(IMAGE_KINDS)}).")


def normalise(cine: np.ndarray) -> np.ndarray:
    scale = np.percentile(np.abs(cine), 99.5)
    if not np.isfinite(scale) or scale <= 0:
        raise DataError("a training cine is all zeros or not finite.")
    return (cine / scale).astype(np.complex64)


def training_cine(path: Path) -> np.ndarray:
    """A fully sampled cine image from a file: its reference, else the coil combination of full k-space."""
    from ..io import load
    from ..problem import make_problem

    try:
        data = load(path)
        if data.reference is not None:
            return data.reference
        if data.mask is not None and not data.mask.all():
            raise DataError(f"{path} is undersampled and has no reference; y-t / x-t / x-y priors need fully "
                            "sampled cines (GLDM's k-space priors are the ones that train on undersampled data).")
        problem = make_problem(data)
        return problem.to_output(problem.zero_filled())
    except (DataError, FileFormatError) as exc:
        if str(path) in str(exc):
            raise
        raise type(exc)(f"training cine {path}: {exc}") from None


def source_of(path: Path) -> str:
    from ..io.hdf5_safety import open_hdf5

    with open_hdf5(path) as f:  # refuses external links and storage, like every reader
        return str(f.attrs.get("source", path.name))


def seeds_in(sources: list[str]) -> list[int]:
    """Phantom seeds named in the sources ("synthetic phantom seed=N ..."), to prove they avoid benchmark seeds."""
    return sorted(int(m.group(1)) for s in sources for m in [re.search(r"phantom seed=(\d+)", s)] if m)


class PlaneSet:
    """All planes of one kind from training sources, grouped by plane size, sampled with augmentation."""

    def __init__(self, cines: list[np.ndarray], kind: str, crop: int | None = 64, sources: list[str] | None = None,
                 groups: list[np.ndarray] | None = None, group_weights: list[float] | None = None):
        """group_weights: one per group (given or cut from `cines`, in that order); default: by plane count."""
        self.kind, self.crop = kind, crop
        self.spec = plane_kind(kind)
        self.sources = sources or []
        self.groups: list[np.ndarray] = list(groups or [])  # each (n, a, b) complex64, already normalised
        self.groups.extend(self.spec.cine_planes(cines, 0) if cines else [])
        if not self.groups:
            raise DataError("no training cines found.")
        sizes = np.array([g.shape[0] for g in self.groups], float)
        weights = sizes if group_weights is None else np.asarray(group_weights, float)
        self.weights = weights / weights.sum()

    @classmethod
    def from_sources(cls, specs: list[str], kind: str, crop: int | None = 64, variants: int = 16, seed: int = 0,
                     skip_slices: tuple[int, ...] = (), patient_variation: float = 0.0) -> "PlaneSet":
        """Planes from several sources (recon.diffusion.sources), each drawn with its weight, whatever its size."""
        from .sources import Source, describe_source, magnitude_cines

        spec = plane_kind(kind)
        groups, weights, names = [], [], []
        for text in specs:
            source = Source.parse(text)
            if source.is_phantom_folder:
                names += [source_of(p) for p in sorted(source.path.glob("*.h5"))]
                planes = spec.folder_planes(source.path)
            elif source.path.exists():
                cines = magnitude_cines(source, variants, seed, skip_slices, patient_variation)
                names.append(f"real magnitude cine {describe_source(source, skip_slices)}, {len(cines)} augmented")
                planes = spec.cine_planes(cines, seed)
            else:
                raise DataError(f"training source {source.path} does not exist.")
            total = sum(p.shape[0] for p in planes)
            groups += planes
            weights += [source.weight * p.shape[0] / total for p in planes]
        return cls([], kind, crop, names, groups=groups, group_weights=weights)

    @classmethod
    def from_folder(cls, folder: str | Path, kind: str, crop: int | None = 64) -> "PlaneSet":
        files = sorted(p for p in Path(folder).glob("*.h5"))
        if not files:
            raise DataError(f"{folder} holds no .h5 cines; make some with `stdm simulate DIR --count N`.")
        return cls([], kind, crop, [source_of(p) for p in files], groups=plane_kind(kind).folder_planes(Path(folder)))

    def __len__(self) -> int:
        return int(sum(g.shape[0] for g in self.groups))

    def batch(self, size: int, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor | None]:
        """A batch from one randomly chosen group (same plane size), augmented, and the channels a network of this
        kind reads with it (PlaneKind.condition; None for image planes)."""
        group = self.groups[rng.choice(len(self.groups), p=self.weights)]
        return self.spec.batch(group[rng.integers(0, group.shape[0], size)], rng, self.crop)


def augment(planes: np.ndarray, rng: np.random.Generator, crop: int | None, temporal: bool,
            flips: bool = True) -> np.ndarray:
    """Flips, time reversal and circular time shift (a cine is periodic), random global phase, intensity scale,
    and a random crop of the spatial axis. planes: (n, t, a) complex -> (n, 2, t, a') float32."""
    n = planes.shape[0]
    if flips and rng.random() < 0.5:
        planes = planes[:, :, ::-1]
    if temporal:
        if rng.random() < 0.5:
            planes = planes[:, ::-1]
        planes = np.roll(planes, rng.integers(planes.shape[1]), axis=1)
    elif flips and rng.random() < 0.5:
        planes = planes[:, ::-1]
    if crop is not None and planes.shape[2] > crop:
        start = rng.integers(0, planes.shape[2] - crop + 1)
        planes = planes[:, :, start:start + crop]
    phase = np.exp(1j * rng.uniform(0, 2 * np.pi, (n, 1, 1)))
    scale = rng.uniform(0.7, 1.3, (n, 1, 1))
    planes = planes * phase * scale
    return np.ascontiguousarray(np.stack([planes.real, planes.imag], axis=1), dtype=np.float32)
