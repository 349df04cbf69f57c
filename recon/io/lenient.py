"""Optional metadata read from files: keep what checks out, drop the rest with a one-line warning.

Geometry and timing are optional (the DICOM export falls back to --spacing and evenly spread frame times), so a bad
value costs the user a warning, not the run; it never reaches an export.
"""

from __future__ import annotations

import json
import math
import warnings

from ..data import check_frame_times, positive_numbers, shown
from ..errors import DataError

PATIENT_POSITIONS = {"HFS", "HFP", "FFS", "FFP", "HFDR", "HFDL", "FFDR", "FFDL", "HFI", "FFI"}


def kept(check, value, where: str, *args):
    """check(value, *args), or None and a warning naming `where` when the check raises DataError."""
    try:
        return check(value, *args)
    except DataError as exc:
        warnings.warn(f"{where}: {exc} It is ignored.", stacklevel=2)
        return None


def finite_numbers(value, name: str, count: int) -> list[float]:
    try:
        numbers = [float(v) for v in value]
    except (TypeError, ValueError):
        raise DataError(f"{name} {shown(value)} is not a list of numbers.") from None
    if len(numbers) != count or not all(map(math.isfinite, numbers)):
        raise DataError(f"{name} {shown(value)} must be {count} finite numbers.")
    return numbers


def patient_position(value, name: str) -> str:
    if value not in PATIENT_POSITIONS:
        raise DataError(f"{name} {shown(value)} is not a DICOM patient position "
                        f"({', '.join(sorted(PATIENT_POSITIONS))}).")
    return value


EXTRA_CHECKS = {  # the extra fields the DICOM export reads, and what each must be
    "image_orientation": lambda v, n: finite_numbers(v, n, 6),
    "image_position": lambda v, n: finite_numbers(v, n, 3),
    "tr_ms": lambda v, n: positive_numbers(v, n, 1)[0],
    "te_ms": lambda v, n: positive_numbers(v, n, 1)[0],
    "field_strength": lambda v, n: positive_numbers(v, n, 1)[0],
    "patient_position": patient_position,
}


def extra_fields(text, where: str) -> dict:
    """A JSON object of extra metadata; fields the export reads are checked one by one."""
    try:
        extra = json.loads(text.decode() if isinstance(text, bytes) else text)
    except (TypeError, ValueError, RecursionError):
        extra = None
    if not isinstance(extra, dict):
        warnings.warn(f"{where}: meta_extra {shown(text)} is not a JSON object; it is ignored.", stacklevel=2)
        return {}
    for name, check in EXTRA_CHECKS.items():
        if name in extra:
            extra[name] = kept(check, extra[name], where, name)
            if extra[name] is None:
                del extra[name]
    return extra


def frame_times(value, frames: int, where: str):
    return kept(check_frame_times, value, where, frames)
