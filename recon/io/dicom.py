"""DICOM cine export: one classic MR Image Storage file per frame, one series, sortable by TriggerTime.

Magnitude is scaled into uint16 (RescaleSlope is not part of the classic MR IOD). Geometry comes from the source
when the reader found it (meta.extra: image_orientation, image_position), otherwise it is synthesised (identity
orientation, centred field of view) and ImageComments says so. Every series is marked derived, research use.
"""

from __future__ import annotations

import datetime
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset
from pydicom.uid import MRImageStorage, generate_uid

from ..data import CineMeta
from ..errors import DataError, ReconError

PIXEL_MAX = 4095  # 12-bit range, what cardiac viewers expect from MR


@dataclass
class Patient:
    """Patient and study fields. The defaults are anonymous placeholders; a user may give real ones."""

    name: str = "Anonymous^Research"
    id: str = "STDM-ANON"
    birth_date: str = ""
    sex: str = "O"
    study_description: str = "napari-stdm reconstruction"
    accession_number: str = ""
    referring_physician: str = ""
    extra: dict = field(default_factory=dict)


def magnitude_frames(image) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 3:
        raise DataError(f"image has {image.ndim} axes {image.shape}; a cine export needs (frames, y, x).")
    if 0 in image.shape:
        raise DataError(f"image {image.shape} is empty; nothing to export.")
    magnitude = np.abs(image).astype(np.float64)
    if not np.isfinite(magnitude).all():
        raise DataError("image contains NaN or Inf; the reconstruction failed, nothing was exported.")
    return magnitude


def to_uint16(magnitude: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Scale to 0..PIXEL_MAX; window centre/width from the 1st-99.5th percentile of the scaled data."""
    peak = magnitude.max()
    scaled = np.round(magnitude / peak * PIXEL_MAX) if peak > 0 else np.zeros_like(magnitude)
    low, high = np.percentile(scaled, [1, 99.5])
    width = max(float(high - low), 1.0)
    return scaled.astype(np.uint16), float(low + width / 2), width


def geometry(meta: CineMeta, shape: tuple[int, int], spacing: tuple[float, float] | None) -> tuple[dict, bool]:
    """Orientation, position of the top-left voxel centre and spacing; True when synthesised."""
    ny, nx = shape
    dy, dx = meta.pixel_spacing or spacing or (1.0, 1.0)
    extra = meta.extra or {}
    if "image_orientation" in extra and "image_position" in extra:
        return {"orientation": [float(v) for v in extra["image_orientation"]],
                "position": [float(v) for v in extra["image_position"]], "spacing": (dy, dx)}, False
    position = [-(nx - 1) / 2 * dx, -(ny - 1) / 2 * dy, 0.0]
    return {"orientation": [1.0, 0.0, 0.0, 0.0, 1.0, 0.0], "position": position, "spacing": (dy, dx)}, True


def uid_factory(seed: str | None):
    """Deterministic UIDs from `seed` (for tests and reproducible exports), random ones otherwise."""
    def make(*parts) -> str:
        return generate_uid(entropy_srcs=[seed, *map(str, parts)]) if seed is not None else generate_uid()
    return make


def series_dataset(meta: CineMeta, patient: Patient, uid, frames: int, description: str, derivation: str,
                   comments: str, now: datetime.datetime, geo: dict) -> Dataset:
    """Attributes shared by every frame of the series."""
    ds = Dataset()
    ds.SOPClassUID = MRImageStorage
    ds.PatientName, ds.PatientID = patient.name, patient.id
    ds.PatientBirthDate, ds.PatientSex = patient.birth_date, patient.sex
    ds.StudyInstanceUID, ds.SeriesInstanceUID = uid("study"), uid("series")
    ds.FrameOfReferenceUID = uid("frame-of-reference")
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = now.strftime("%Y%m%d")
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = now.strftime("%H%M%S")
    ds.ReferringPhysicianName = patient.referring_physician
    ds.StudyID, ds.AccessionNumber = "1", patient.accession_number
    ds.StudyDescription = patient.study_description
    ds.Modality, ds.SeriesNumber, ds.SeriesDescription = "MR", 901, description[:64]
    ds.PatientPosition = str(meta.extra.get("patient_position", "HFS"))
    ds.BodyPartExamined = "HEART"
    ds.PositionReferenceIndicator = ""
    ds.Manufacturer = "napari-stdm (research reconstruction)"
    ds.AcquisitionNumber = 1
    ds.ImageType = ["DERIVED", "SECONDARY", "OTHER"]
    ds.DerivationDescription = derivation[:1024]
    ds.ImageComments = comments[:10240]
    ds.ImageOrientationPatient = geo["orientation"]
    ds.PixelSpacing = [float(v) for v in geo["spacing"]]
    ds.SliceThickness = float(meta.slice_thickness or 8.0)
    ds.ScanningSequence, ds.SequenceVariant, ds.ScanOptions = "GR", "SS", "CG"
    ds.MRAcquisitionType = "2D"
    ds.RepetitionTime = meta.extra.get("tr_ms", "")
    ds.EchoTime = meta.extra.get("te_ms", "")
    ds.EchoTrainLength = 1
    ds.MagneticFieldStrength = meta.extra.get("field_strength", "")
    ds.CardiacNumberOfImages = frames
    ds.NumberOfTemporalPositions = frames
    ds.BurnedInAnnotation = "NO"
    return ds


def frame_dataset(base: Dataset, pixels: np.ndarray, index: int, trigger_ms: float, geo: dict,
                  window: tuple[float, float], uid) -> Dataset:
    ds = Dataset()
    ds.update(base)
    ds.SOPInstanceUID = uid("instance", index)
    ds.InstanceNumber = index + 1
    ds.TemporalPositionIdentifier = index + 1
    ds.TriggerTime = round(float(trigger_ms), 3)
    ds.ImagePositionPatient = geo["position"]
    ds.SliceLocation = 0.0
    ds.WindowCenter, ds.WindowWidth = round(window[0], 1), round(window[1], 1)
    ds.set_pixel_data(np.ascontiguousarray(pixels), "MONOCHROME2", 16, generate_instance_uid=False)
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    return ds


def export_cine(image, meta: CineMeta, out_dir: str | Path, *, method: str = "", parameters: dict | None = None,
                acceleration: str = "", patient: Patient | None = None, spacing: tuple[float, float] | None = None,
                overwrite: bool = False, uid_seed: str | None = None,
                now: datetime.datetime | None = None) -> list[Path]:
    """Write the cine as one DICOM series in `out_dir` (created; atomically replaced only with `overwrite`).

    spacing: pixel spacing (mm) to use when the source has none. Returns the written files in frame order.
    """
    magnitude = magnitude_frames(image)
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()) and not overwrite:
        raise ReconError(f"{out_dir} already holds files; choose a new folder or allow overwriting (--overwrite).")
    frames = magnitude.shape[0]
    pixels, centre, width = to_uint16(magnitude)
    geo, synthesised = geometry(meta, magnitude.shape[1:], spacing)
    params = ", ".join(f"{k}={v}" for k, v in (parameters or {}).items())
    derivation = f"napari-stdm {method} reconstruction; {acceleration}; {params}".strip("; ")
    comments = "RESEARCH USE ONLY - not for diagnosis. Reconstructed by napari-stdm. Source: " + (meta.source or "?")
    if synthesised:
        comments += ". Geometry not in source: identity orientation, centred position and spacing " \
                    f"{geo['spacing'][0]:g} x {geo['spacing'][1]:g} mm are synthesised"
    uid = uid_factory(uid_seed)
    base = series_dataset(meta, patient or Patient(), uid, frames, f"{method or 'recon'} {acceleration}".strip(),
                          derivation, comments, now or datetime.datetime.now(), geo)
    times = meta.times(frames)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        names = []
        for index in np.argsort(times, kind="stable"):
            ds = frame_dataset(base, pixels[index], len(names), times[index], geo, (centre, width), uid)
            name = f"IM{len(names) + 1:04d}.dcm"
            ds.save_as(staging / name, enforce_file_format=True)
            names.append(name)
        replace_dir(staging, out_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return [out_dir / n for n in names]


def replace_dir(new: Path, target: Path) -> None:
    """Move `new` to `target`; an existing `target` is removed only after the new one is in place."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        target.rename(old)
    new.rename(target)
    if old is not None:
        shutil.rmtree(old)
