"""Read a DICOM cine series back: one 2D image per file, one series, in one folder (what `recon.io.dicom`
writes: IM0001.dcm, IM0002.dcm, ...; a scanner's single-slice cine folder reads the same way).

Frames are ordered by TriggerTime, then InstanceNumber. The folder must hold exactly one series of one slice with
one image size, spacing and orientation; anything else is refused with a FileFormatError that says what was mixed.
Pixel values come back as float32 magnitude (RescaleSlope/Intercept applied when present); geometry and timing
come back as a CineMeta, so a viewer can place the frames (PixelSpacing, TriggerTime) and an export can reuse them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..data import CineMeta
from ..errors import FileFormatError

MAX_FILES = 10_000  # a cine has tens of frames; a folder of thousands is not one series


@dataclass
class DicomCine:
    """A cine read from DICOM: magnitude (frames, y, x) float32, its geometry and timing, and series fields."""

    image: np.ndarray
    meta: CineMeta
    files: list[Path]
    info: dict = field(default_factory=dict)  # SeriesDescription, DerivationDescription, ImageComments, ...


def is_dicom_file(path: Path) -> bool:
    """True when `path` starts like a DICOM Part 10 file (128-byte preamble, then 'DICM')."""
    try:
        with open(path, "rb") as f:
            head = f.read(132)
    except OSError:
        return False
    return len(head) == 132 and head[128:] == b"DICM"


def dicom_files(folder: Path) -> list[Path]:
    """The DICOM files in `folder` (not its subfolders); hidden files are skipped."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileFormatError(f"{folder} is not a folder; a DICOM cine is read from the folder that holds its files.")
    candidates = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    if len(candidates) > MAX_FILES:
        raise FileFormatError(f"{folder} holds {len(candidates)} files; a cine series has far fewer. Open the "
                              "folder of one series.")
    files = [p for p in candidates if is_dicom_file(p)]
    if not files:
        raise FileFormatError(f"{folder} holds no DICOM files (.dcm with a 'DICM' header); choose the folder of "
                              "one cine series.")
    return files


def number(ds, name: str, default=None):
    value = ds.get(name)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def numbers(ds, name: str) -> tuple[float, ...] | None:
    value = ds.get(name)
    if value is None or value == "":
        return None
    values = value if hasattr(value, "__len__") and not isinstance(value, (str, bytes)) else [value]
    try:
        return tuple(float(v) for v in values)
    except (TypeError, ValueError):
        return None


def mixed(files: list[Path], values: list, what: str, hint: str) -> FileFormatError:
    seen: dict = {}
    for path, value in zip(files, values):
        seen.setdefault(value, path)
    examples = "; ".join(f"{p.name}: {v}" for v, p in list(seen.items())[:3])
    return FileFormatError(f"{files[0].parent} mixes {len(seen)} {what} ({examples}); {hint}")


def require_same(files: list[Path], values: list, what: str, hint: str) -> None:
    if len(set(values)) > 1:
        raise mixed(files, values, what, hint)


def read_dicom_cine(folder: str | Path) -> DicomCine:
    """The cine in `folder`, frames sorted by TriggerTime then InstanceNumber; FileFormatError when the folder
    does not hold exactly one single-slice cine series."""
    from pydicom import dcmread
    from pydicom.errors import InvalidDicomError

    files = dicom_files(Path(folder))
    datasets = []
    for path in files:
        try:
            datasets.append(dcmread(path))
        except (InvalidDicomError, OSError, ValueError, EOFError) as exc:
            raise FileFormatError(f"{path} could not be read as DICOM ({exc}); the file may be damaged.") from None
    same = "choose a folder that holds one cine series only."
    require_same(files, [str(ds.get("SeriesInstanceUID", "")) for ds in datasets], "series (SeriesInstanceUID)", same)
    missing = [p.name for p, ds in zip(files, datasets) if "PixelData" not in ds]
    if missing:
        raise FileFormatError(f"{', '.join(missing[:3])} in {files[0].parent} hold no image (PixelData); a cine "
                              "folder holds one image per frame.")
    require_same(files, [(int(ds.get("Rows", 0)), int(ds.get("Columns", 0))) for ds in datasets],
                 "image sizes (Rows, Columns)", same)
    require_same(files, [numbers(ds, "PixelSpacing") for ds in datasets], "pixel spacings", same)
    require_same(files, [numbers(ds, "ImageOrientationPatient") for ds in datasets], "orientations", same)
    positions = [numbers(ds, "ImagePositionPatient") for ds in datasets]
    locations = {tuple(round(v, 2) for v in p) for p in positions if p is not None}
    if len(locations) > 1:
        raise mixed(files, [None if p is None else tuple(round(v, 2) for v in p) for p in positions],
                    "slice positions (ImagePositionPatient)", "a cine is one slice over time; choose the folder of "
                    "one slice, or split the series by slice first.")
    order = sorted(range(len(datasets)), key=lambda i: (number(datasets[i], "TriggerTime", float("inf")),
                                                        number(datasets[i], "InstanceNumber", float(i)), i))
    datasets = [datasets[i] for i in order]
    files = [files[i] for i in order]
    frames = []
    for path, ds in zip(files, datasets):
        try:
            pixels = np.asarray(ds.pixel_array, dtype=np.float32)
        except Exception as exc:  # noqa: BLE001 — pydicom raises many kinds for undecodable pixel data
            raise FileFormatError(f"{path}: the image could not be decoded ({exc}).") from None
        if pixels.ndim != 2:
            raise FileFormatError(f"{path} holds an image of shape {pixels.shape}; one 2D frame per file is "
                                  "expected (multi-frame and colour images are not cine frames).")
        slope, intercept = number(ds, "RescaleSlope", 1.0), number(ds, "RescaleIntercept", 0.0)
        frames.append(pixels * np.float32(slope) + np.float32(intercept))
    image = np.stack(frames)
    return DicomCine(image, cine_meta(datasets, files), files, series_info(datasets[0]))


def frame_times(datasets) -> tuple[float, ...] | None:
    """TriggerTime per frame when every frame has one and they increase; else None (timing unknown)."""
    times = [number(ds, "TriggerTime") for ds in datasets]
    if len(times) < 2 or any(t is None or not np.isfinite(t) for t in times):
        return None
    return tuple(times) if all(b > a for a, b in zip(times, times[1:])) else None


def cine_meta(datasets, files: list[Path]) -> CineMeta:
    first = datasets[0]
    spacing = numbers(first, "PixelSpacing")
    usable = spacing is not None and len(spacing) == 2 and all(np.isfinite(v) and v > 0 for v in spacing)
    spacing = tuple(spacing) if usable else None
    thickness = number(first, "SliceThickness")
    thickness = thickness if thickness is not None and np.isfinite(thickness) and thickness > 0 else None
    extra = {}
    orientation, position = numbers(first, "ImageOrientationPatient"), numbers(first, "ImagePositionPatient")
    if orientation is not None and len(orientation) == 6 and position is not None and len(position) == 3:
        extra["image_orientation"], extra["image_position"] = list(orientation), list(position)
    if first.get("PatientPosition"):
        extra["patient_position"] = str(first.PatientPosition)
    for key, name in (("tr_ms", "RepetitionTime"), ("te_ms", "EchoTime"), ("field_strength", "MagneticFieldStrength")):
        value = number(first, name)
        if value is not None:
            extra[key] = value
    nominal = number(first, "NominalInterval")
    nominal = nominal if nominal is not None and np.isfinite(nominal) and nominal > 0 else None
    description = str(first.get("SeriesDescription", "")).strip()
    return CineMeta(pixel_spacing=spacing, slice_thickness=thickness,
                    frame_times=frame_times(datasets), rr_interval=nominal,
                    source=f"DICOM series {description or files[0].parent.name} ({files[0].parent})", extra=extra)


def series_info(ds) -> dict:
    keys = ("SeriesDescription", "DerivationDescription", "ImageComments", "Manufacturer", "SeriesInstanceUID",
            "Modality")
    return {k: str(ds.get(k, "")) for k in keys if ds.get(k) not in (None, "")}
