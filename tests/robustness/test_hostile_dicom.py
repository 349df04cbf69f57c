"""DICOM export under hostile values: what the user gives and DICOM cannot hold is refused before anything is
written; what a file says that cannot be trusted is replaced with a warning; every series that is written passes
dciodvfy with no error (docs/DICOM.md)."""

import json
import shutil
import subprocess

import h5py
import numpy as np
import pydicom
import pytest

from recon.data import CineMeta
from recon.errors import DataError
from recon.io import write_result
from recon.io.dicom import Patient, export_cine
from recon.phantom import simulate_cine
from tests.conftest import require_tool

from .conftest import QUICK
from .harness import hostile

FRAMES = 6
INFO = {"method": "zero-filled", "parameters": {"iterations": 1},
        "mask": {"kind": "vista", "accel": 4.0, "effective_accel": 3.2}}


@pytest.fixture(scope="module")
def result_template(tmp_path_factory):
    """A reconstruction file as `stdm recon` writes it: 6 frames, 32 x 32, pixel spacing in the file."""
    data = simulate_cine(frames=FRAMES, size=32, coils=2, seed=5, snr=40.0)
    path = tmp_path_factory.mktemp("result") / "r.h5"
    write_result(path, data, data.reference, INFO)
    return path


@pytest.fixture
def result(result_template, tmp_path):
    return shutil.copy(result_template, tmp_path / "r.h5")


def edited(path, **attrs):
    """The result file with HDF5 attributes replaced (JSON for dicts), as a careless tool might leave it."""
    with h5py.File(path, "a") as f:
        for name, value in attrs.items():
            f.attrs[name] = json.dumps(value) if isinstance(value, dict) else value
    return path


def validator_errors(path) -> list[str]:
    done = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True, errors="replace")
    return [line for line in (done.stdout + done.stderr).splitlines() if line.startswith("Error")]


def assert_valid_series(folder, frames=FRAMES) -> list:
    require_tool("dciodvfy")
    files = sorted(folder.glob("*.dcm"))
    assert len(files) == frames
    for path in files:
        assert validator_errors(path) == [], path
    datasets = [pydicom.dcmread(p) for p in files]
    assert all(int(d.CardiacNumberOfImages) == frames for d in datasets)
    times = [float(d.TriggerTime) for d in datasets]
    assert times == sorted(times) and len(set(times)) == frames
    return datasets


def export(result, folder, *extra):
    return ["export", result, "--dicom", folder, *extra]


# ---- what the user types: refused, nothing written --------------------------------------------------------------

LONG = "A" * 300
REFUSED = [
    ("spacing-nan", ["--spacing", "nan"], ["spacing"]),
    ("spacing-zero", ["--spacing", "0"], ["spacing"]),
    ("spacing-negative", ["--spacing", "-1"], ["spacing"]),
    ("spacing-inf", ["--spacing", "inf"], ["spacing"]),
    ("spacing-huge", ["--spacing", "1000"], ["spacing"]),
    ("spacing-text", ["--spacing", "wide"], ["spacing"]),
    ("name-300-chars", ["--patient-name", LONG], ["patient name", "64"]),
    ("name-backslash", ["--patient-name", "Doe\\Jane"], ["patient name", "backslash"]),
    ("name-newline", ["--patient-name", "Doe^Jane\nX"], ["patient name", "control"]),
    ("name-tab", ["--patient-name", "Doe\tJane"], ["control"]),
    ("name-escape", ["--patient-name", "Doe\x1b[31m"], ["control"]),
    ("name-delete", ["--patient-name", "Doe\x7f"], ["control"]),
    ("name-line-separator", ["--patient-name", "Doe\u2028Jane"], ["control"]),
    ("name-six-parts", ["--patient-name", "a^b^c^d^e^f"], ["parts"]),
    ("name-four-groups", ["--patient-name", "a=b=c=d"], ["groups"]),
    ("name-66-utf8-bytes", ["--patient-name", "\u00fc" * 33], ["bytes", "64"]),
    ("id-backslash", ["--patient-id", "12\\34"], ["patient id", "backslash"]),
    ("id-65-chars", ["--patient-id", "9" * 65], ["patient id", "64"]),
    ("id-nul", ["--patient-id", "12\x0034"], ["patient id", "control"]),
]


@pytest.mark.parametrize("extra, words", [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_export_refuses_values_dicom_cannot_hold(result, tmp_path, extra, words):
    hostile(export(result, tmp_path / "d", *extra), tmp_path, words=tuple(words))


@pytest.mark.parametrize("extra, words", [
    (["--patient-name", "Doe\\Jane"], ["backslash", "--patient-name"]),
    (["--patient-id", "x" * 70], ["patient id", "--patient-id"]),
    (["--spacing", "nan"], ["spacing"]),
], ids=["name", "id", "spacing"])
def test_recon_refuses_bad_dicom_values_before_reconstructing(cine, tmp_path, extra, words):
    """Nothing at all is written: not the DICOM folder, and not the .h5 result either."""
    hostile(["recon", cine, *QUICK, "--out", tmp_path / "r.h5", "--dicom", tmp_path / "d", *extra], tmp_path,
            words=tuple(words))


@pytest.mark.parametrize("field, value, words", [
    ("birth_date", "20230230", "YYYYMMDD"), ("birth_date", "1970-01-31", "YYYYMMDD"), ("sex", "X", "M, F, O"),
    ("accession_number", "A" * 17, "16"), ("study_description", "cine\\sax", "backslash"),
    ("referring_physician", "R" * 65, "64"), ("name", "Doe\r^Jane", "control"),
])
def test_patient_fields_are_checked_against_their_dicom_rules(tmp_path, field, value, words):
    with pytest.raises(DataError, match=words):
        Patient(**{field: value})


@pytest.mark.parametrize("spacing", [(float("nan"), 1.0), (1.0,), (0.0, 0.0), (1.0, -2.0), (1.0, float("inf"))],
                         ids=["nan", "one-value", "zero", "negative", "inf"])
def test_export_cine_refuses_a_bad_spacing_argument_and_writes_nothing(tmp_path, spacing):
    with pytest.raises(DataError, match="spacing"):
        export_cine(np.ones((3, 8, 8)), CineMeta(), tmp_path / "out", spacing=spacing)
    assert list(tmp_path.iterdir()) == []


def test_a_patient_changed_after_it_was_checked_is_checked_again(tmp_path):
    patient = Patient(name="Doe^Jane")
    patient.name = "Doe\\Jane"
    with pytest.raises(DataError, match="backslash"):
        export_cine(np.ones((3, 8, 8)), CineMeta(), tmp_path / "out", patient=patient)
    assert list(tmp_path.iterdir()) == []


# ---- what a file says: replaced with a warning; the series is still valid ---------------------------------------

def synthetic_meta(**fields):
    return CineMeta(source="test", **fields)


FILE_META = [
    ("spacing-nan", dict(pixel_spacing=(float("nan"), float("nan"))), "pixel spacing"),
    ("spacing-zero", dict(pixel_spacing=(0.0, 0.0)), "pixel spacing"),
    ("spacing-negative", dict(pixel_spacing=(-1.0, 1.0)), "pixel spacing"),
    ("spacing-three-values", dict(pixel_spacing=(1.0, 1.0, 1.0)), "pixel spacing"),
    ("thickness-nan", dict(slice_thickness=float("nan")), "slice thickness"),
    ("thickness-negative", dict(slice_thickness=-3.0), "slice thickness"),
    ("times-short", dict(frame_times=(0.0, 40.0, 80.0)), "frame times"),
    ("times-long", dict(frame_times=tuple(range(0, 400, 40))), "frame times"),
    ("times-nan", dict(frame_times=(0.0, 40.0, float("nan"), 120.0, 160.0, 200.0)), "frame times"),
    ("times-repeated", dict(frame_times=(0.0, 40.0, 40.0, 120.0, 160.0, 200.0)), "frame times"),
    ("times-text", dict(frame_times=("a",) * 6), "frame times"),
    ("rr-nan", dict(rr_interval=float("nan")), "RR interval"),
    ("rr-zero", dict(rr_interval=0.0), "RR interval"),
    ("extra-not-a-dict", dict(extra=["HFS"]), "extra metadata"),
]


@pytest.mark.parametrize("fields, words", [c[1:] for c in FILE_META], ids=[c[0] for c in FILE_META])
def test_untrustworthy_file_values_are_replaced_with_a_warning(tmp_path, fields, words):
    with pytest.warns(UserWarning, match=words):
        export_cine(np.random.default_rng(0).random((FRAMES, 8, 8)), synthetic_meta(**fields), tmp_path / "d",
                    spacing=(1.5, 1.5), uid_seed="t")
    datasets = assert_valid_series(tmp_path / "d")
    first = datasets[0]
    assert float(first.SliceThickness) > 0 and all(float(v) > 0 for v in first.PixelSpacing)
    if "pixel_spacing" in fields:
        assert [float(v) for v in first.PixelSpacing] == [1.5, 1.5] and "synthesised" in first.ImageComments


def test_frame_times_out_of_order_are_sorted_not_refused(tmp_path):
    times = (200.0, 0.0, 120.0, 40.0, 160.0, 80.0)
    image = np.stack([np.full((8, 8), k + 1.0) for k in range(FRAMES)])
    export_cine(image, synthetic_meta(frame_times=times), tmp_path / "d", uid_seed="t")
    datasets = assert_valid_series(tmp_path / "d")
    assert [float(d.TriggerTime) for d in datasets] == sorted(times)
    assert [int(d.pixel_array[0, 0]) for d in datasets][0] < [int(d.pixel_array[0, 0]) for d in datasets][1]


EXTRA = [
    ("position-unknown", {"patient_position": "XYZ"}, "patient position"),
    ("tr-text", {"tr_ms": "abc", "te_ms": 2.1}, "tr_ms"),
    ("te-nan", {"te_ms": float("nan")}, "te_ms"),
    ("field-huge", {"field_strength": 1e9}, "field_strength"),
    ("orientation-not-orthogonal", {"image_orientation": [1, 0, 0, 1, 0, 0], "image_position": [0, 0, 0]},
     "orientation"),
    ("position-two-values", {"image_orientation": [1, 0, 0, 0, 1, 0], "image_position": [0, 0]}, "position"),
    ("orientation-text", {"image_orientation": "axial", "image_position": [0, 0, 0]}, "orientation"),
]


@pytest.mark.parametrize("extra, words", [c[1:] for c in EXTRA], ids=[c[0] for c in EXTRA])
def test_bad_scanner_fields_in_a_result_file_are_dropped_with_a_warning(result, tmp_path, extra, words):
    edited(result, meta_extra=extra)
    err = hostile(export(result, tmp_path / "d"), tmp_path, code=0, new=("d",))
    assert "warning" in err and words.lower() in err.lower()
    assert_valid_series(tmp_path / "d")


@pytest.mark.parametrize("extra, words", [c[1:] for c in EXTRA] + [({"field_strength": True}, "field_strength")],
                         ids=[c[0] for c in EXTRA] + ["field-bool"])
def test_bad_scanner_fields_given_to_the_exporter_are_dropped_with_a_warning(tmp_path, extra, words):
    """The exporter checks them itself: the napari writer and Python callers pass metadata no reader checked."""
    with pytest.warns(UserWarning, match=words):
        export_cine(np.ones((FRAMES, 8, 8)), synthetic_meta(extra=extra), tmp_path / "d", uid_seed="t")
    first = assert_valid_series(tmp_path / "d")[0]
    assert first.PatientPosition in ("", "HFS")


def test_scanner_fields_that_are_fine_are_written(tmp_path):
    extra = {"patient_position": " ffs ", "tr_ms": "3.2", "te_ms": 1.6, "field_strength": 1.5,
             "image_orientation": [1, 1e-4, 0, 0, 1, 0], "image_position": [-10.123456789012345, 20, 30]}
    export_cine(np.ones((FRAMES, 8, 8)), synthetic_meta(extra=extra), tmp_path / "d", uid_seed="t")
    first = assert_valid_series(tmp_path / "d")[0]
    assert first.PatientPosition == "FFS" and float(first.RepetitionTime) == 3.2
    assert float(first.MagneticFieldStrength) == 1.5 and "Pixel spacing not in source" in first.ImageComments
    assert float(first.ImagePositionPatient[0]) == pytest.approx(-10.123456789012345)


def test_huge_pixel_spacing_in_a_result_file_falls_back_to_the_spacing_option(result, tmp_path):
    edited(result, pixel_spacing=np.array([1e6, 1e6]))
    err = hostile(export(result, tmp_path / "d", "--spacing", "0.8"), tmp_path, code=0, new=("d",))
    assert "pixel spacing" in err
    first = assert_valid_series(tmp_path / "d")[0]
    assert [float(v) for v in first.PixelSpacing] == [0.8, 0.8]


def test_hostile_method_text_in_a_result_file_is_cleaned(result, tmp_path):
    info = {**INFO, "method": "evil\x00\\method\n" + "m" * 2000, "parameters": "a\x1b[2Jb\r\nc"}
    edited(result, recon_info=json.dumps(info), source="scan\x07\\01\n")
    hostile(export(result, tmp_path / "d"), tmp_path, code=0, new=("d",))
    first = assert_valid_series(tmp_path / "d")[0]
    assert first.SeriesDescription.startswith("evil /method") and len(first.SeriesDescription) <= 64
    assert len(first.DerivationDescription) <= 1024 and "\x1b" not in first.DerivationDescription
    assert "\x07" not in first.ImageComments


# ---- edge values that are fine: accepted, and the series is valid -----------------------------------------------

ACCEPTED = [
    ("spacing-0.1", ["--spacing", "0.1"]),
    ("spacing-100", ["--spacing", "100"]),
    ("spacing-0.7", ["--spacing", "0.7"]),
    ("spacing-0.001", ["--spacing", "0.001"]),
    ("name-64-chars", ["--patient-name", "D" * 30 + "^" + "J" * 33]),
    ("name-five-parts", ["--patient-name", "Doe^Jane^Mary^Dr^Jr"]),
    ("name-utf8", ["--patient-name", "M\u00fcller^J\u00fcrgen", "--patient-id", "\u00c4\u00d6-1"]),
    ("name-64-utf8-bytes", ["--patient-name", "\u00fc" * 32]),
    ("name-three-groups", ["--patient-name", "Yamada^Tarou=\u5c71\u7530^\u592a\u90ce=\u3084\u307e\u3060^\u305f\u308d\u3046"]),
    ("name-padded", ["--patient-name", "  Doe^Jane  "]),
    ("id-64-chars", ["--patient-id", "7" * 64]),
    ("id-empty", ["--patient-id", ""]),
]


@pytest.mark.parametrize("extra", [c[1] for c in ACCEPTED], ids=[c[0] for c in ACCEPTED])
def test_edge_values_that_dicom_can_hold_export_a_valid_series(result, tmp_path, extra):
    with h5py.File(result, "a") as f:
        del f.attrs["pixel_spacing"]  # so --spacing is the one used
    hostile(export(result, tmp_path / "d", *extra), tmp_path, code=0, new=("d",))
    first = assert_valid_series(tmp_path / "d")[0]
    if "--spacing" in extra:
        assert float(first.PixelSpacing[0]) == pytest.approx(float(extra[1]))
    if "--patient-name" in extra:
        assert str(first.PatientName) == extra[extra.index("--patient-name") + 1].strip()
