"""Values a DICOM export takes from the data file, checked: a value that is missing or unusable (NaN, zero or
negative spacing, frame times that do not fit the frames, a patient position that is not a DICOM one) is replaced
by a stated fallback, or left empty, with a warning. The export goes on: the user cannot fix the file from here,
and ImageComments says what was synthesised. (What the user gives is refused instead: recon.io.dicom_fields.)
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .dicom_fields import MAX_MM, ds, in_mm_range, number, shown

DEFAULT_THICKNESS = 8.0
DEFAULT_RR = 1000.0  # ms
MAX_RR = 10000.0
PATIENT_POSITIONS = ("HFP", "HFS", "HFDR", "HFDL", "HFI", "FFDR", "FFDL", "FFP", "FFS", "FFI", "LFP", "LFS",
                     "RFP", "RFS", "AFDR", "AFDL", "PFDR", "PFDL")  # DICOM PS3.3 C.7.3.1.1.2 defined terms


def file_spacing(meta) -> tuple[float, float] | None:
    """The file's pixel spacing (y, x) in mm; None when absent or unusable (warned)."""
    spacing = meta.pixel_spacing
    if spacing is None:
        return None
    try:
        values = [float(v) for v in spacing]
    except (TypeError, ValueError):
        values = []
    if len(values) == 2 and all(in_mm_range(v) for v in values):
        return values[0], values[1]
    warnings.warn(f"pixel spacing {shown(spacing)} in the file is not usable (finite, > 0, <= {MAX_MM:g} mm "
                  "needed); the export uses the fallback spacing and says so in ImageComments.")
    return None


def file_thickness(meta) -> float:
    value = meta.slice_thickness
    if value is None:
        return DEFAULT_THICKNESS
    if in_mm_range(value):
        return float(value)
    warnings.warn(f"slice thickness {shown(value)} in the file is not usable (finite, > 0, <= {MAX_MM:g} mm "
                  f"needed); {DEFAULT_THICKNESS:g} mm is written instead.")
    return DEFAULT_THICKNESS


def unit_vectors(values) -> list[float] | None:
    """Six direction cosines made exactly orthonormal, or None when they are not nearly so already."""
    try:
        row, col = np.asarray(values, dtype=float).reshape(2, 3)
    except (TypeError, ValueError):
        return None
    if not (np.isfinite(row).all() and np.isfinite(col).all()):
        return None
    if abs(np.linalg.norm(row) - 1) > 1e-2 or abs(np.linalg.norm(col) - 1) > 1e-2 or abs(row @ col) > 1e-2:
        return None
    row = row / np.linalg.norm(row)
    col = col - (col @ row) * row
    return [*row.tolist(), *(col / np.linalg.norm(col)).tolist()]


def file_placement(extra: dict) -> tuple[list[float], list[float]] | None:
    """(orientation, position) of the slice from the file; None when absent or unusable (warned)."""
    if "image_orientation" not in extra or "image_position" not in extra:
        return None
    orientation = unit_vectors(extra["image_orientation"])
    try:
        position = [float(v) for v in extra["image_position"]]
    except (TypeError, ValueError):
        position = []
    if orientation is None or len(position) != 3 or not all(math.isfinite(v) for v in position):
        warnings.warn(f"slice orientation {shown(extra['image_orientation'])} / position "
                      f"{shown(extra['image_position'])} in the file are not usable; the export synthesises the "
                      "geometry and says so in ImageComments.")
        return None
    return orientation, position


def file_extra(meta) -> dict:
    extra = meta.extra if meta.extra is not None else {}
    if not isinstance(extra, dict):
        warnings.warn(f"the file's extra metadata is a {type(extra).__name__}, not a table of fields; it is ignored.")
        return {}
    return extra


def scanner_fields(extra: dict) -> dict:
    """PatientPosition, RepetitionTime, EchoTime, MagneticFieldStrength from the file; bad ones dropped (warned)."""
    position = extra.get("patient_position")
    position = "HFS" if position is None else str(position).strip().upper()
    if position not in PATIENT_POSITIONS:
        warnings.warn(f"patient position {shown(extra.get('patient_position'))} in the file is not a DICOM patient "
                      f"position ({', '.join(PATIENT_POSITIONS[:4])}, ...); it is left empty.")
        position = ""
    fields = {"PatientPosition": position}
    for key, name, top in (("tr_ms", "RepetitionTime", 1e6), ("te_ms", "EchoTime", 1e6),
                           ("field_strength", "MagneticFieldStrength", 30.0)):
        value, fields[name] = extra.get(key), ""
        if value is None:
            continue
        v = number(value)
        if v is None or not 0 <= v <= top:
            warnings.warn(f"{key} {shown(value)} in the file is not a number in 0..{top:g}; {name} is left empty.")
        else:
            fields[name] = ds(v)
    return fields


def rr_interval(meta) -> float:
    value = meta.rr_interval
    if value is None:
        return DEFAULT_RR
    v = number(value)
    if v is None or not 0 < v <= MAX_RR:
        warnings.warn(f"RR interval {shown(value)} ms in the file is not usable (0..{MAX_RR:g} ms); "
                      f"{DEFAULT_RR:g} ms is assumed for the trigger times.")
        return DEFAULT_RR
    return v


def times_problem(times, frames: int) -> str | None:
    try:
        values = np.asarray(times, dtype=float).ravel()
    except (TypeError, ValueError):
        return "are not numbers"
    if values.size != frames:
        return f"number {values.size} for {frames} frames"
    if not np.isfinite(values).all():
        return "are not all finite"
    if np.unique(np.round(values, 3)).size != frames:
        return "repeat a time (two frames would get the same TriggerTime)"
    return None


def frame_times(meta, frames: int) -> np.ndarray:
    """Trigger time of each frame in ms: the file's when usable, else spread over the RR interval (warned)."""
    rr = rr_interval(meta)
    if meta.frame_times is not None:
        problem = times_problem(meta.frame_times, frames)
        if problem is None:
            return np.asarray(meta.frame_times, dtype=float).ravel()
        warnings.warn(f"frame times in the file {problem}; TriggerTime is spread over the RR interval "
                      f"({rr:g} ms) instead.")
    return np.arange(frames) * rr / frames
