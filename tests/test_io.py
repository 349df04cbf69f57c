import os

import h5py
import numpy as np
import pytest

from recon.errors import DataError, FileFormatError
from recon.io import load, read_result, write_native, write_result
from recon.io.atomic import atomic_path
from recon.masks import make_mask


def test_native_round_trip_keeps_everything(tmp_path, small_cine):
    data = small_cine.with_mask(make_mask("vista", (8, 64, 64), 4, 20).array)
    path = write_native(tmp_path / "c.h5", data)
    back = load(path)
    assert np.array_equal(back.kspace, data.kspace)
    assert np.array_equal(back.mask, data.mask)
    assert np.array_equal(back.reference, data.reference)
    assert np.array_equal(back.sens, data.sens)
    assert back.meta.pixel_spacing == data.meta.pixel_spacing
    assert back.meta.frame_times == pytest.approx(data.meta.frame_times)
    assert back.meta.source == data.meta.source


def test_result_file_holds_recon_and_info(tmp_path, small_cine):
    image = small_cine.reference * 2
    write_result(tmp_path / "r.h5", small_cine, image, {"method": "lps", "metrics": {"psnr": 30.0}})
    data, recon, info = read_result(tmp_path / "r.h5")
    assert np.array_equal(recon, image) and info["method"] == "lps" and info["metrics"]["psnr"] == 30.0
    assert data.kspace.shape == small_cine.kspace.shape
    with pytest.raises(FileFormatError, match="no 'recon'"):
        read_result(write_native(tmp_path / "in.h5", small_cine))


def test_missing_and_non_hdf5_files(tmp_path):
    with pytest.raises(FileFormatError, match="does not exist"):
        load(tmp_path / "missing.h5")
    (tmp_path / "text.h5").write_text("hello")
    with pytest.raises(FileFormatError, match="neither HDF5"):
        load(tmp_path / "text.h5")
    with pytest.raises(FileFormatError, match="folder"):
        load(tmp_path)


def test_missing_kspace_and_wrong_axes(tmp_path):
    with h5py.File(tmp_path / "nokspace.h5", "w") as f:
        f["image"] = np.zeros((2, 8, 8))
    with pytest.raises(FileFormatError, match="image"):
        load(tmp_path / "nokspace.h5")
    with h5py.File(tmp_path / "3d.h5", "w") as f:
        f["kspace"] = np.ones((4, 16, 16), np.complex64)
        f.attrs["format"] = "napari-stdm"
    with pytest.raises(DataError, match="3 axes"):
        load(tmp_path / "3d.h5")


def test_truncated_file_is_reported(tmp_path, small_cine):
    path = write_native(tmp_path / "c.h5", small_cine)
    raw = path.read_bytes()
    (tmp_path / "cut.h5").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(FileFormatError):
        load(tmp_path / "cut.h5")


def test_mask_that_does_not_fit_is_reported(tmp_path, small_cine):
    write_native(tmp_path / "c.h5", small_cine)
    with h5py.File(tmp_path / "c.h5", "a") as f:
        f["mask"] = np.ones((8, 32, 64), np.uint8)
    with pytest.raises(DataError, match="does not fit"):
        load(tmp_path / "c.h5")


def test_failed_write_leaves_nothing(tmp_path):
    target = tmp_path / "out.h5"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"partial")
            raise RuntimeError("cancelled")
    assert list(tmp_path.iterdir()) == []
    target.write_text("old")
    with pytest.raises(FileExistsError):
        with atomic_path(target, overwrite=False):
            pass
    assert target.read_text() == "old"


def test_atomic_write_is_reported_and_gets_the_usual_mode(tmp_path):
    from safetensors.numpy import save_file

    from recon.io.outputs import WRITTEN

    WRITTEN.clear()
    target = tmp_path / "w.safetensors"
    with atomic_path(target) as tmp:
        save_file({"a": np.zeros(2, np.float32)}, str(tmp))  # safetensors creates its file with mode 0600
    old = os.umask(0o022)
    os.umask(old)
    assert target.stat().st_mode & 0o777 == 0o666 & ~old
    assert WRITTEN == [target]  # so an error or a cancel later in the run can say it exists
    with atomic_path(target) as tmp:
        tmp.write_bytes(b"again")  # e.g. a training checkpoint, rewritten
    assert WRITTEN == [target]
    WRITTEN.clear()
