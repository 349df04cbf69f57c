import datetime
import shutil
import subprocess

import numpy as np
import pydicom
import pytest

from recon.cli import main
from recon.data import CineMeta
from recon.errors import DataError, ReconError
from recon.io.dicom import Patient, export_cine
from tests.conftest import require_tool

NOW = datetime.datetime(2026, 1, 2, 3, 4, 5)


@pytest.fixture(scope="module")
def series(tmp_path_factory, small_cine):
    out = tmp_path_factory.mktemp("dicom") / "series"
    files = export_cine(small_cine.reference, small_cine.meta, out, method="lps", parameters={"iterations": 5},
                        acceleration="vista R=8", uid_seed="test", now=NOW)
    return small_cine, files


def validator_errors(args) -> list[str]:
    done = subprocess.run(args, capture_output=True, text=True, errors="replace")  # dciodvfy echoes raw bytes
    return [line for line in (done.stdout + done.stderr).splitlines() if line.startswith("Error")]


def test_every_file_passes_dciodvfy(series):
    require_tool("dciodvfy")
    _, files = series
    for path in files:
        assert validator_errors(["dciodvfy", str(path)]) == [], path


def test_series_is_consistent_for_dcentvfy(series):
    require_tool("dcentvfy")
    _, files = series
    assert validator_errors(["dcentvfy", *map(str, files)]) == []


def test_read_back_sorted_by_trigger_time_recovers_frames_and_geometry(series):
    cine, files = series
    datasets = sorted((pydicom.dcmread(p) for p in files), key=lambda d: float(d.TriggerTime))
    assert [int(d.InstanceNumber) for d in datasets] == list(range(1, 9))
    assert [int(d.TemporalPositionIdentifier) for d in datasets] == list(range(1, 9))
    assert len({d.SeriesInstanceUID for d in datasets}) == 1
    stack = np.stack([d.pixel_array for d in datasets]).astype(float)
    magnitude = np.abs(cine.reference)
    assert np.allclose(stack / stack.max(), magnitude / magnitude.max(), atol=1 / 4095 + 1e-6)
    first = datasets[0]
    assert [float(v) for v in first.PixelSpacing] == pytest.approx(cine.meta.pixel_spacing)
    assert [float(v) for v in first.ImageOrientationPatient] == [1, 0, 0, 0, 1, 0]
    assert float(first.ImagePositionPatient[0]) == pytest.approx(-(64 - 1) / 2 * cine.meta.pixel_spacing[1])
    assert "synthesised" in first.ImageComments and "lps" in first.DerivationDescription
    assert list(first.ImageType) == ["DERIVED", "SECONDARY", "OTHER"] and first.BodyPartExamined == "HEART"
    assert "Laterality" not in first and first.SOPClassUID == pydicom.uid.MRImageStorage
    assert [float(d.TriggerTime) for d in datasets] == pytest.approx(cine.meta.times(8), abs=1e-3)


def test_source_geometry_and_patient_are_used(tmp_path):
    meta = CineMeta(pixel_spacing=(1.5, 1.25), extra={"image_orientation": [0, 1, 0, 0, 0, -1],
                                                       "image_position": [10, -20, 30], "patient_position": "FFS"})
    files = export_cine(np.ones((3, 8, 10)), meta, tmp_path / "s", patient=Patient(name="Doe^Jane", id="42"))
    ds = pydicom.dcmread(files[0])
    assert [float(v) for v in ds.ImagePositionPatient] == [10, -20, 30] and ds.PatientPosition == "FFS"
    assert ds.PatientName == "Doe^Jane" and ds.PatientID == "42" and "synthesised" not in ds.ImageComments


def test_deterministic_uids_on_request(tmp_path, small_cine):
    a = export_cine(small_cine.reference, small_cine.meta, tmp_path / "a", uid_seed="x", now=NOW)
    b = export_cine(small_cine.reference, small_cine.meta, tmp_path / "b", uid_seed="x", now=NOW)
    assert pydicom.dcmread(a[0]).SOPInstanceUID == pydicom.dcmread(b[0]).SOPInstanceUID
    c = export_cine(small_cine.reference, small_cine.meta, tmp_path / "c", now=NOW)
    assert pydicom.dcmread(a[0]).SOPInstanceUID != pydicom.dcmread(c[0]).SOPInstanceUID


@pytest.mark.parametrize("image, words", [
    (np.full((3, 8, 8), np.nan), "NaN"), (np.ones((8, 8)), "axes"), (np.ones((0, 8, 8)), "empty")])
def test_bad_images_leave_no_files(tmp_path, image, words):
    with pytest.raises(DataError, match=words):
        export_cine(image, CineMeta(), tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_existing_series_is_kept_unless_overwrite(tmp_path):
    out = tmp_path / "s"
    export_cine(np.ones((2, 8, 8)), CineMeta(), out, uid_seed="1")
    before = sorted(p.read_bytes() for p in out.iterdir())
    with pytest.raises(ReconError, match="already holds"):
        export_cine(np.ones((3, 8, 8)), CineMeta(), out)
    assert sorted(p.read_bytes() for p in out.iterdir()) == before
    export_cine(np.ones((3, 8, 8)), CineMeta(), out, overwrite=True)
    assert len(list(out.iterdir())) == 3
    assert [p.name for p in tmp_path.iterdir()] == ["s"], "no staging folders left behind"


def test_cli_recon_and_export_write_dicom(tmp_path):
    src = tmp_path / "c.h5"
    assert main(["simulate", str(src), "--frames", "4", "--size", "48", "--coils", "2"]) == 0
    assert main(["recon", str(src), "--method", "zero-filled", "--mask", "kt-gaussian", "--accel", "4", "--acs",
                 "12", "--out", str(tmp_path / "r.h5"), "--dicom", str(tmp_path / "d1"), "--quiet"]) == 0
    assert len(list((tmp_path / "d1").glob("*.dcm"))) == 4
    assert main(["export", str(tmp_path / "r.h5"), "--dicom", str(tmp_path / "d2")]) == 0
    ds = pydicom.dcmread(sorted((tmp_path / "d2").glob("*.dcm"))[0])
    assert "zero-filled" in ds.DerivationDescription and "kt-gaussian R=4" in ds.DerivationDescription
    assert main(["export", str(tmp_path / "r.h5"), "--dicom", str(tmp_path / "d2")]) == 2
    assert main(["export", str(src), "--dicom", str(tmp_path / "d3")]) == 2
    assert not (tmp_path / "d3").exists()
    shutil.rmtree(tmp_path / "d1")
