"""DICOM cine export: one classic MR Image Storage file per frame, one series, sortable by TriggerTime.

Magnitude is scaled into uint16 (RescaleSlope is not part of the classic MR IOD). Geometry comes from the source
when the reader found it (meta.extra: image_orientation, image_position), otherwise it is synthesised (identity
orientation, centred field of view) and ImageComments says so. Every series is marked derived, research use.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset
from pydicom.uid import MRImageStorage, generate_uid

from ..data import CineMeta
from ..errors import DataError
from . import dicom_fields as vr
from . import dicom_source as src

MANUFACTURER = "napari-stdm (research reconstruction)"
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

    def __post_init__(self):
        """Trim each field and refuse (DataError) any DICOM cannot hold: a real name is never silently changed."""
        for name, value in vr.patient_fields(self).items():
            setattr(self, name, value)


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


def geometry(meta: CineMeta, shape: tuple[int, int], spacing: tuple[float, float] | None) -> tuple[dict, str]:
    """Orientation, position of the top-left voxel centre and spacing, and a note on what was synthesised.

    `spacing` (the user's fallback) must be usable whether or not the file has its own (DataError otherwise); the
    file's spacing and placement are used when usable, else replaced with a warning.
    """
    ny, nx = shape
    fallback = vr.checked_spacing(spacing) or (1.0, 1.0)
    own = src.file_spacing(meta)
    dy, dx = own or fallback
    placed = src.file_placement(src.file_extra(meta))
    if placed is not None:
        note = "" if own else f". Pixel spacing not in source: {dy:g} x {dx:g} mm is synthesised"
        return {"orientation": placed[0], "position": placed[1], "spacing": (dy, dx)}, note
    position = [-(nx - 1) / 2 * dx, -(ny - 1) / 2 * dy, 0.0]
    note = ". Geometry not in source: identity orientation, centred position" + \
           (" are synthesised" if own else f" and spacing {dy:g} x {dx:g} mm are synthesised")
    return {"orientation": [1.0, 0.0, 0.0, 0.0, 1.0, 0.0], "position": position, "spacing": (dy, dx)}, note


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
    scanner = src.scanner_fields(src.file_extra(meta))
    ds.PatientName, ds.PatientID = patient.name, patient.id
    ds.PatientBirthDate, ds.PatientSex = patient.birth_date, patient.sex
    ds.StudyInstanceUID, ds.SeriesInstanceUID = uid("study"), uid("series")
    ds.FrameOfReferenceUID = uid("frame-of-reference")
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = now.strftime("%Y%m%d")
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = now.strftime("%H%M%S")
    ds.ReferringPhysicianName = patient.referring_physician
    ds.StudyID, ds.AccessionNumber = "1", patient.accession_number
    ds.StudyDescription = patient.study_description
    ds.Modality, ds.SeriesNumber, ds.SeriesDescription = "MR", 901, vr.clean_text(description, "LO")
    ds.PatientPosition = scanner["PatientPosition"]
    ds.BodyPartExamined = "HEART"
    ds.PositionReferenceIndicator = ""
    ds.Manufacturer = MANUFACTURER
    ds.AcquisitionNumber = 1
    ds.ImageType = ["DERIVED", "SECONDARY", "OTHER"]
    ds.DerivationDescription = vr.clean_text(derivation, "ST")
    ds.ImageComments = vr.clean_text(comments, "LT")
    ds.ImageOrientationPatient = [vr.ds(v) for v in geo["orientation"]]
    ds.PixelSpacing = [vr.ds(v) for v in geo["spacing"]]
    ds.SliceThickness = vr.ds(src.file_thickness(meta))
    ds.ScanningSequence, ds.SequenceVariant, ds.ScanOptions = "GR", "SS", "CG"
    ds.MRAcquisitionType = "2D"
    ds.RepetitionTime, ds.EchoTime = scanner["RepetitionTime"], scanner["EchoTime"]
    ds.EchoTrainLength = 1
    ds.MagneticFieldStrength = scanner["MagneticFieldStrength"]
    ds.CardiacNumberOfImages = frames
    ds.NumberOfTemporalPositions = frames
    ds.BurnedInAnnotation = "NO"
    if not all(str(e.value).isascii() for e in ds if e.VR in ("PN", "LO", "SH", "ST", "LT")):
        ds.SpecificCharacterSet = "ISO_IR 192"  # UTF-8
    return ds


def frame_dataset(base: Dataset, pixels: np.ndarray, index: int, trigger_ms: float, geo: dict,
                  window: tuple[float, float], uid) -> Dataset:
    ds = Dataset()
    ds.update(base)
    ds.SOPInstanceUID = uid("instance", index)
    ds.InstanceNumber = index + 1
    ds.TemporalPositionIdentifier = index + 1
    ds.TriggerTime = vr.ds(round(float(trigger_ms), 3))
    ds.ImagePositionPatient = [vr.ds(v) for v in geo["position"]]
    ds.SliceLocation = 0.0
    ds.WindowCenter, ds.WindowWidth = round(window[0], 1), round(window[1], 1)
    ds.set_pixel_data(np.ascontiguousarray(pixels), "MONOCHROME2", 16, generate_instance_uid=False)
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    return ds


def export_cine(image, meta: CineMeta, out_dir: str | Path, *, method: str = "", parameters: dict | None = None,
                acceleration: str = "", patient: Patient | None = None, spacing: tuple[float, float] | None = None,
                overwrite: bool = False, uid_seed: str | None = None, now: datetime.datetime | None = None,
                inputs: tuple = (), maps: dict | None = None) -> list[Path]:
    """Write the cine as one DICOM series in `out_dir`: created, or replaced as a whole with `overwrite` when it
    holds only a series this tool wrote. `inputs`: files the folder must not contain (the data it came from).
    `maps` ({kind: (frames, y, x)}, kinds of MAP_SERIES): each also as its own series in the sibling folder
    map_folder(out_dir, kind); all folders are written, or none.

    spacing: pixel spacing (mm) to use when the source has none. Returns the written files in frame order.
    """
    from .outputs import OutputPlan

    plan = OutputPlan.for_inputs(inputs)
    target = plan.folder(out_dir, "DICOM folder", overwrite, foreign_content)
    map_targets = {kind: plan.folder(map_folder(out_dir, kind), f"DICOM {kind.replace('_', ' ')} folder", overwrite,
                                     foreign_content) for kind in (maps or {})}
    with plan.staged():
        names = write_series(image, meta, plan.path(target), method=method, parameters=parameters,
                             acceleration=acceleration, patient=patient, spacing=spacing, uid_seed=uid_seed, now=now)
        for kind, folder in map_targets.items():
            write_map_series(maps[kind], meta, plan.path(folder), names[0], kind=kind,
                             per_unit=map_per_unit(kind, image), method=method, acceleration=acceleration,
                             spacing=spacing, uid_seed=uid_seed, now=now)
    return [target / n.name for n in names]


def map_folder(cine_folder: str | Path, kind: str) -> Path:
    """Where a map series goes: beside the cine's folder, DIR_prior_map / DIR_uncertainty."""
    base = Path(cine_folder)
    return base.with_name(f"{base.name}_{kind}")


def map_per_unit(kind: str, image) -> float | None:
    """Pixel values per map unit: the prior map's default (1000 per unit); the uncertainty, which is in the image's
    units, in the cine series' own pixel scaling (PIXEL_MAX / peak magnitude)."""
    if kind == "prior_map":
        return None
    peak = float(np.abs(image).max())
    return PIXEL_MAX / peak if peak > 0 else 1.0


def parameter_text(parameters) -> str:
    """`k=v, ...` for a parameter table; anything else (a hand-edited result file) as its text."""
    if isinstance(parameters, dict):
        return ", ".join(f"{k}={v}" for k, v in parameters.items())
    return "" if parameters is None else str(parameters)


def write_series(image, meta: CineMeta, folder: Path, *, method: str = "", parameters: dict | None = None,
                 acceleration: str = "", patient: Patient | None = None, spacing: tuple[float, float] | None = None,
                 uid_seed: str | None = None, now: datetime.datetime | None = None) -> list[Path]:
    """Write the series' files into the existing, empty `folder` (a staging folder); see export_cine.

    Everything is checked before the first file is written (recon.io.dicom_fields): what the caller gives (patient
    fields, `spacing`) and DICOM cannot hold is refused with a DataError; what the data file says (pixel spacing,
    slice thickness, frame times, RR interval, scanner fields) is replaced by a stated fallback, or dropped, with a
    warning; method and parameter text is cleaned and cut to length. The series passes dciodvfy without errors.
    """
    magnitude = magnitude_frames(image)
    patient = replace(patient) if patient is not None else Patient()  # checked again: fields may have changed
    frames = magnitude.shape[0]
    geo, note = geometry(meta, magnitude.shape[1:], spacing)
    times = src.frame_times(meta, frames)
    pixels, centre, width = to_uint16(magnitude)
    derivation = f"napari-stdm {method} reconstruction; {acceleration}; {parameter_text(parameters)}".strip("; ")
    comments = "RESEARCH USE ONLY - not for diagnosis. Reconstructed by napari-stdm. Source: " + \
               (str(meta.source or "") or "?") + note
    uid = uid_factory(uid_seed)
    base = series_dataset(meta, patient, uid, frames, f"{method or 'recon'} {acceleration}".strip(),
                          derivation, comments, now or datetime.datetime.now(), geo)
    paths = []
    for index in np.argsort(times, kind="stable"):
        ds = frame_dataset(base, pixels[index], len(paths), times[index], geo, (centre, width), uid)
        paths.append(Path(folder) / f"IM{len(paths) + 1:04d}.dcm")
        ds.save_as(paths[-1], enforce_file_format=True)
    return paths


SERIES_FILE = re.compile(r"^IM\d{4}\.dcm$")


def foreign_content(folder: Path) -> str | None:
    """Why `folder` is not a series this tool wrote (so must not be replaced), or None when it is one."""
    from pydicom import dcmread
    from pydicom.errors import InvalidDicomError

    entries = sorted(folder.iterdir())
    if len(entries) > 100_000:
        return f"it holds {len(entries)} entries"
    series = set()
    for entry in entries:
        if not (entry.is_file() and not entry.is_symlink() and SERIES_FILE.match(entry.name)):
            return f"it holds {entry.name}, which this tool did not write"
        try:
            ds = dcmread(entry, stop_before_pixels=True, specific_tags=["Manufacturer", "SeriesInstanceUID"])
        except (InvalidDicomError, OSError, ValueError) as exc:
            return f"{entry.name} is not a DICOM file this tool wrote ({exc})"
        if not str(ds.get("Manufacturer", "")).startswith(MANUFACTURER):
            return f"{entry.name} was written by {ds.get('Manufacturer', 'an unknown program')!s}"
        series.add(str(ds.get("SeriesInstanceUID", "")))
    if len(series) > 1:
        return f"it holds {len(series)} series"
    return None


# --- secondary series: maps that go with a cine (prior contribution, uncertainty) ---------------------------------

# kind -> (SeriesDescription, series number offset from the cine's, what a pixel value means)
PRIOR_MAP_PER_UNIT = 1000.0  # pixel values per unit of the prior map
PRIOR_MAP_WINDOW_TOP = 0.2  # the stored window shows 0-0.2, as napari does
MAP_SERIES = {
    "prior_map": ("prior contribution (research)", 1,
                  "pixel value = 1000 x prior contribution (what k-space that was not measured added to the pixel, "
                  "relative to the cine's bright-tissue signal level; 0 = measured data decided, 1000 = as much as "
                  "that whole level filled in by the prior)"),
    "uncertainty": ("posterior std (research)", 2,
                    "pixel value = std of the magnitude over the posterior samples, in the pixel units of the cine "
                    "series"),
}
STUDY_FIELDS = ("SpecificCharacterSet", "PatientName", "PatientID", "PatientBirthDate", "PatientSex",
                "StudyInstanceUID", "StudyDate", "StudyTime", "StudyID", "AccessionNumber", "ReferringPhysicianName",
                "StudyDescription", "FrameOfReferenceUID", "PositionReferenceIndicator", "PatientPosition")


def map_pixels(values, frames_shape: tuple, per_unit: float) -> np.ndarray:
    """A map (frames, y, x) of non-negative finite numbers as uint16 pixels, `per_unit` pixels per map unit."""
    values = np.asarray(values, dtype=np.float64)
    if values.shape != frames_shape:
        raise DataError(f"map {values.shape} does not fit the cine {frames_shape}; expected (frames, y, x).")
    if not np.isfinite(values).all():
        raise DataError("map contains NaN or Inf; nothing was exported.")
    if not (np.isfinite(per_unit) and per_unit > 0):
        raise DataError(f"map scaling {per_unit} must be a positive number.")
    return np.clip(np.round(values * per_unit), 0, PIXEL_MAX).astype(np.uint16)


def write_map_series(values, meta: CineMeta, folder: Path, cine_file: Path, *, kind: str, per_unit: float | None = None,
                     method: str = "", acceleration: str = "", spacing: tuple[float, float] | None = None,
                     uid_seed: str | None = None, now: datetime.datetime | None = None) -> list[Path]:
    """Write a map of the cine whose first file is `cine_file` as its own DERIVED series in the existing, empty
    `folder`: same patient, study and frame of reference (copied from `cine_file`), same geometry and frame order,
    its own SeriesInstanceUID, SeriesNumber and SeriesDescription (MAP_SERIES). `per_unit`: pixel values per map
    unit (prior_map default 1000; for uncertainty give the cine's own scaling, 4095 / its peak magnitude)."""
    from pydicom import dcmread

    if kind not in MAP_SERIES:
        raise DataError(f"map kind '{kind}' unknown; use {', '.join(MAP_SERIES)}.")
    description, offset, meaning = MAP_SERIES[kind]
    values = np.asarray(values)
    if values.ndim != 3 or 0 in values.shape:
        raise DataError(f"map has shape {values.shape}; a cine map needs (frames, y, x).")
    per_unit = PRIOR_MAP_PER_UNIT if per_unit is None else float(per_unit)
    pixels = map_pixels(values, values.shape, per_unit)
    cine = dcmread(cine_file, stop_before_pixels=True)
    frames = pixels.shape[0]
    geo, note = geometry(meta, pixels.shape[1:], spacing)
    times = src.frame_times(meta, frames)
    derivation = f"napari-stdm {method} {description.split(' (')[0]} map; {acceleration}".strip("; ")
    comments = f"RESEARCH USE ONLY - not for diagnosis. {meaning}. Map of series {cine.get('SeriesNumber', '?')}" \
               + note
    uid = uid_factory(None if uid_seed is None else f"{uid_seed}:{kind}")
    base = series_dataset(meta, Patient(), uid, frames, description, derivation, comments,
                          now or datetime.datetime.now(), geo)
    for keyword in STUDY_FIELDS:  # the cine's patient, study and frame of reference: one study, two series
        if keyword in cine:
            setattr(base, keyword, cine.data_element(keyword).value)
    base.SeriesNumber = int(cine.get("SeriesNumber", 901)) + offset
    if kind == "prior_map":
        top = PRIOR_MAP_WINDOW_TOP * per_unit
        window = (top / 2, top)
    else:
        low, high = np.percentile(pixels, [1, 99.5])
        window = (float(low + max(high - low, 1.0) / 2), max(float(high - low), 1.0))
    paths = []
    for index in np.argsort(times, kind="stable"):
        ds = frame_dataset(base, pixels[index], len(paths), times[index], geo, window, uid)
        paths.append(Path(folder) / f"IM{len(paths) + 1:04d}.dcm")
        ds.save_as(paths[-1], enforce_file_format=True)
    return paths
