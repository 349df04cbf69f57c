"""Checks of the values a DICOM export writes, against their value representation (DICOM PS3.5 6.2).

The rule everywhere: a value the user gave (patient fields, `spacing`) that DICOM cannot hold is refused with a
DataError naming the field, the rule and the fix (a real patient's name is never silently changed; only
surrounding whitespace is trimmed). A value that came from the data file is replaced by a stated fallback, or
dropped, with a warning (recon.io.dicom_source). Free text the program composes (method, parameters, source) is
cleaned: control characters become spaces, and it is cut to the VR's length. Lengths count UTF-8 bytes, as
validators do; any non-ASCII text makes the series UTF-8 (ISO_IR 192).
"""

from __future__ import annotations

import datetime
import math
import unicodedata

import numpy as np
from pydicom.valuerep import format_number_as_ds

from ..errors import DataError

MAX_MM = 100.0  # largest pixel spacing or slice thickness taken as real, in mm
SEXES = ("M", "F", "O", "")
LIMITS = {"PN": 64, "LO": 64, "SH": 16, "ST": 1024, "LT": 10240}


def shown(value, width: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= width else text[:width - 3] + "...'"


def nbytes(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def size(text: str) -> str:
    return f"{len(text)} characters" if text.isascii() else f"{nbytes(text)} bytes in UTF-8"


def bad_character(text: str) -> str | None:
    """The first character no DICOM string may hold (controls, line breaks, unassigned code points), or None."""
    for ch in text:
        if unicodedata.category(ch)[0] == "C" or unicodedata.category(ch) in ("Zl", "Zp"):
            return ch
    return None


def string_problem(text: str, vr: str) -> str | None:
    """What makes `text` invalid for a single-valued PN/LO/SH, or None."""
    ch = bad_character(text)
    if ch is not None:
        return f"holds the control character {ch!r}; DICOM text may not contain control characters"
    if "\\" in text:
        return "holds a backslash, which DICOM reads as a value separator"
    if vr != "PN":
        return None if nbytes(text) <= LIMITS[vr] else f"is {size(text)}; DICOM {vr} allows {LIMITS[vr]}"
    groups = text.split("=")
    if len(groups) > 3:
        return "has more than 3 '='-separated groups; a DICOM name has at most alphabetic=ideographic=phonetic"
    for group in groups:
        if group.count("^") > 4:
            return "has more than 5 '^'-separated parts; a DICOM name is Family^Given^Middle^Prefix^Suffix"
        if nbytes(group) > LIMITS["PN"]:
            return f"is {size(group)}; DICOM allows {LIMITS['PN']} per name"
    return None


def checked_string(field: str, value, vr: str, fix: str) -> str:
    """`value` with surrounding whitespace trimmed; DataError when DICOM's `vr` cannot hold it."""
    text = "" if value is None else str(value).strip()
    problem = string_problem(text, vr)
    if problem:
        raise DataError(f"{field} {shown(text)} {problem}; {fix}.")
    return text


def checked_date(field: str, value, fix: str) -> str:
    text = "" if value is None else str(value).strip()
    if text:
        try:
            ok = len(text) == 8 and text.isdigit() and datetime.date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            ok = False
        if not ok:
            raise DataError(f"{field} {shown(text)} is not a date written YYYYMMDD (e.g. 19700131); {fix}.")
    return text


def checked_sex(value) -> str:
    text = "" if value is None else str(value).strip().upper()
    if text not in SEXES:
        raise DataError(f"patient sex {shown(value)} is not one DICOM knows; use M, F, O (other) or leave it empty.")
    return text


def clean_text(value, vr: str) -> str:
    """Program-composed text made safe for `vr`: controls become spaces, LO loses backslashes, cut to length."""
    text = "".join(" " if bad_character(ch) else ch for ch in str(value)).strip()
    if vr in ("LO", "SH", "PN"):
        text = text.replace("\\", "/")
    encoded = text.encode("utf-8", "replace")[:LIMITS[vr]]
    return encoded.decode("utf-8", "ignore").strip()


def number(value) -> float | None:
    """A finite float from a number or numeric string; None for anything else (bools included)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def ds(value: float) -> str:
    """A decimal string of at most 16 characters (DICOM DS)."""
    return format_number_as_ds(float(value))


def in_mm_range(value) -> bool:
    v = number(value)
    return v is not None and 0 < v <= MAX_MM


# ---- what the user gives: refused when DICOM cannot hold it ---------------------------------------------------

NAME_RULE = "at most 64 characters per name, no backslash or control characters"


def patient_fields(patient) -> dict:
    """The fields of `patient` (recon.io.dicom.Patient) trimmed; DataError for any DICOM cannot hold."""
    return dict(
        name=checked_string("patient name", patient.name, "PN",
                            f"give a name with {NAME_RULE}, e.g. Doe^Jane (--patient-name)"),
        id=checked_string("patient ID", patient.id, "LO",
                          "give an ID of at most 64 characters without backslash or control characters (--patient-id)"),
        birth_date=checked_date("patient birth date", patient.birth_date, "give it as YYYYMMDD or leave it empty"),
        sex=checked_sex(patient.sex),
        study_description=checked_string("study description", patient.study_description, "LO",
                                         "shorten it to 64 characters, without backslash or control characters"),
        accession_number=checked_string("accession number", patient.accession_number, "SH",
                                        "shorten it to 16 characters, without backslash or control characters"),
        referring_physician=checked_string("referring physician", patient.referring_physician, "PN",
                                           f"give a name with {NAME_RULE}, e.g. Doe^John"),
    )


def checked_spacing(spacing) -> tuple[float, float] | None:
    """The user's pixel spacing (mm) as (y, x): one number or two, each finite, > 0 and <= MAX_MM."""
    if spacing is None:
        return None
    values = list(np.ravel(spacing)) if np.ndim(spacing) else [spacing, spacing]
    if len(values) != 2 or not all(in_mm_range(v) for v in values):
        raise DataError(f"pixel spacing {shown(spacing)} mm cannot be exported; give a finite spacing above 0 and "
                        f"at most {MAX_MM:g} mm (--spacing, e.g. 1.25).")
    return float(values[0]), float(values[1])
