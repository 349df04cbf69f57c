"""Reading a DICOM cine series back (recon.io.dicom_cine): frames, spacing, timing, and refusal of mixed folders."""

import datetime
import shutil

import numpy as np
import pydicom
import pytest

from recon.data import CineMeta
from recon.errors import FileFormatError
from recon.io.dicom import export_cine
from recon.io.dicom_cine import read_dicom_cine

NOW = datetime.datetime(2026, 1, 2, 3, 4, 5)


def cine(frames=6, ny=24, nx=20, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.1, 1.0, (frames, ny, nx)).astype(np.float32)


def export(image, folder, spacing=(1.5, 2.0), times=None, seed="a"):
    meta = CineMeta(pixel_spacing=spacing, slice_thickness=6.0,
                    frame_times=times or tuple(40.0 * i + 10 for i in range(image.shape[0])), source="test")
    return export_cine(image, meta, folder, method="lps", acceleration="vista R=8", uid_seed=seed, now=NOW)


def test_export_reads_back_with_frames_spacing_and_timing(tmp_path):
    image = cine()
    export(image, tmp_path / "s")
    back = read_dicom_cine(tmp_path / "s")
    assert back.image.shape == (6, 24, 20) and back.image.dtype == np.float32
    # uint16 scaling keeps the frames' relative values to 1/4095
    assert np.allclose(back.image / back.image.max(), image / image.max(), atol=1 / 4095 + 1e-6)
    assert back.meta.pixel_spacing == pytest.approx((1.5, 2.0))
    assert back.meta.frame_times == pytest.approx([10, 50, 90, 130, 170, 210])
    assert back.meta.slice_thickness == pytest.approx(6.0)
    assert back.meta.extra["image_orientation"] == [1, 0, 0, 0, 1, 0]
    assert "lps" in back.info["SeriesDescription"]


def test_frames_are_sorted_by_trigger_time_not_file_name(tmp_path):
    image = cine(frames=4)
    files = export(image, tmp_path / "s")
    # shuffle the file names: IM0001 now holds the last frame
    for i, path in enumerate(files):
        path.rename(path.with_name(f"tmp{i}.dcm"))
    for i, j in enumerate([3, 1, 0, 2]):
        (tmp_path / "s" / f"tmp{j}.dcm").rename(tmp_path / "s" / f"IM{i + 1:04d}.dcm")
    back = read_dicom_cine(tmp_path / "s")
    assert np.allclose(back.image / back.image.max(), image / image.max(), atol=1 / 4095 + 1e-6)
    assert list(back.meta.frame_times) == sorted(back.meta.frame_times)


def test_instance_number_orders_frames_without_trigger_times(tmp_path):
    image = cine(frames=4)
    files = export(image, tmp_path / "s")
    for path in files:
        ds = pydicom.dcmread(path)
        del ds.TriggerTime
        ds.save_as(path)
    files[0].rename(files[0].with_name("ZZ.dcm"))  # the first frame's file now sorts last by name
    back = read_dicom_cine(tmp_path / "s")
    assert np.allclose(back.image / back.image.max(), image / image.max(), atol=1 / 4095 + 1e-6)
    assert back.meta.frame_times is None  # timing unknown, not invented


def test_mixed_series_are_refused_with_a_clear_error(tmp_path):
    export(cine(seed=1), tmp_path / "a", seed="a")
    export(cine(seed=2), tmp_path / "b", seed="b")
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    for i, path in enumerate(sorted((tmp_path / "a").iterdir()) + sorted((tmp_path / "b").iterdir())):
        shutil.copy(path, mixed / f"F{i:03d}.dcm")
    with pytest.raises(FileFormatError, match="mixes 2 series"):
        read_dicom_cine(mixed)


def test_mixed_spacing_within_a_series_is_refused(tmp_path):
    files = export(cine(), tmp_path / "s")
    ds = pydicom.dcmread(files[2])
    ds.PixelSpacing = [3.0, 3.0]
    ds.save_as(files[2])
    with pytest.raises(FileFormatError, match="pixel spacings"):
        read_dicom_cine(tmp_path / "s")


def test_folder_without_dicom_and_a_plain_file_are_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(FileFormatError, match="no DICOM files"):
        read_dicom_cine(tmp_path)
    with pytest.raises(FileFormatError, match="not a folder"):
        read_dicom_cine(tmp_path / "notes.txt")
