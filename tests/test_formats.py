"""Readers for the layouts people bring, each tested on a small file written here in that layout."""

import tracemalloc

import h5py
import numpy as np
import pytest
import scipy.io

from recon.errors import FileFormatError
from recon.io import detect, load
from recon.phantom import simulate_cine
from recon.physics import rss_image

MAT73_HEADER = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5 schema 1.00 ."


@pytest.fixture(scope="module")
def slices():
    """Two slices of (frames, coils, ky, kx) k-space: what the fixtures are built from."""
    return [simulate_cine(frames=5, size=32, coils=3, seed=s, snr=None).kspace for s in (1, 2)]


def write_mat73(path, variables: dict, chunks=None):
    """A MATLAB v7.3-like file: HDF5 with a 512-byte MATLAB user block, complex as compound real/imag."""
    with h5py.File(path, "w", userblock_size=512) as f:
        for name, array in variables.items():
            if np.iscomplexobj(array):
                compound = np.dtype([("real", "<f4"), ("imag", "<f4")])
                ds = f.create_dataset(name, shape=array.shape, dtype=compound, chunks=chunks)
                data = np.empty(array.shape, compound)
                data["real"], data["imag"] = array.real, array.imag
                ds[...] = data
            else:
                ds = f.create_dataset(name, data=array)
            ds.attrs["MATLAB_class"] = np.bytes_("double")
    with open(path, "r+b") as f:
        f.write(MAT73_HEADER.ljust(128, b" "))


def test_cmrxrecon_v73_slice_selection_and_mask(tmp_path, slices):
    stacked = np.stack(slices, axis=1)  # (time, slice, coil, ky, kx), as h5py shows MATLAB (kx, ky, coil, slice, t)
    mask = np.zeros((32, 32), np.uint8)
    mask[::4] = 1
    write_mat73(tmp_path / "cine_sax.mat", {"kspace_sub04": stacked * mask, "mask04": mask})
    assert detect(tmp_path / "cine_sax.mat") == "cmrxrecon"
    data = load(tmp_path / "cine_sax.mat", slice=1)
    assert np.allclose(data.kspace, slices[1] * mask, atol=1e-5)
    assert data.mask.shape == (5, 32, 32) and data.mask[:, ::4].all() and not data.mask[:, 1::4].any()
    assert np.allclose(rss_image(data.kspace), rss_image(slices[1] * mask), atol=1e-5)
    with pytest.raises(FileFormatError, match="2 slices"):
        load(tmp_path / "cine_sax.mat")
    with pytest.raises(FileFormatError, match="slice 5 does not exist"):
        load(tmp_path / "cine_sax.mat", slice=5)


def test_cmrxrecon_kt_mask_in_sibling_file(tmp_path, slices):
    kt = np.random.default_rng(0).uniform(size=(5, 32, 32)) < 0.3
    write_mat73(tmp_path / "cine_lax.mat", {"kus": np.stack(slices, 1) * kt[:, None, None]})
    write_mat73(tmp_path / "cine_lax_mask.mat", {"mask": kt.astype(np.uint8)})
    data = load(tmp_path / "cine_lax.mat", slice=0)
    assert np.array_equal(data.mask, kt)


def test_cmrxrecon_mat_v5(tmp_path, slices):
    matlab_order = np.stack(slices, axis=1).T  # (kx, ky, coil, slice, time)
    scipy.io.savemat(tmp_path / "old.mat", {"kspace_full": matlab_order})
    data = load(tmp_path / "old.mat", slice=0)
    assert np.allclose(data.kspace, slices[0], atol=1e-6)
    scipy.io.savemat(tmp_path / "none.mat", {"image": np.ones((4, 4))})
    with pytest.raises(FileFormatError, match="kspace_full"):
        load(tmp_path / "none.mat")


def test_readout_oversampling_is_cropped_on_request(tmp_path):
    cine = simulate_cine(frames=4, size=32, coils=2, seed=3, snr=None)
    write_mat73(tmp_path / "os.mat", {"kspace_full": cine.kspace[:, None]})
    full = load(tmp_path / "os.mat")
    cropped = load(tmp_path / "os.mat", crop_oversampling=True)
    assert full.kspace.shape[-1] == 32 and cropped.kspace.shape[-1] == 16
    assert np.allclose(rss_image(cropped.kspace), rss_image(full.kspace)[..., 8:24], atol=1e-4)


def test_one_slice_of_a_large_file_is_read_lazily(tmp_path):
    shape = (12, 700, 4, 64, 128)  # about 2.2 GB as complex64; only slice 3 is ever written
    path = tmp_path / "big.mat"
    with h5py.File(path, "w", userblock_size=512) as f:
        compound = np.dtype([("real", "<f4"), ("imag", "<f4")])
        ds = f.create_dataset("kspace_full", shape=shape, dtype=compound, chunks=(12, 1, 4, 64, 128))
        block = np.zeros((12, 4, 64, 128), compound)
        block["real"] = np.random.default_rng(0).standard_normal(block.shape)
        ds[:, 3] = block
    with open(path, "r+b") as f:
        f.write(MAT73_HEADER)
    logical = np.prod(shape) * 8
    assert path.stat().st_size < logical / 100
    tracemalloc.start()
    data = load(path, slice=3)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert data.kspace.shape == (12, 4, 64, 128)
    assert peak < logical / 50, f"peak {peak / 1e6:.0f} MB for a {logical / 1e9:.1f} GB file"


def test_fastmri_style_needs_the_time_axis(tmp_path, slices):
    with h5py.File(tmp_path / "fm.h5", "w") as f:
        f["kspace"] = slices[0]
        f["ismrmrd_header"] = np.bytes_(b"<ismrmrdHeader></ismrmrdHeader>")
    with pytest.raises(FileFormatError, match="frames"):
        load(tmp_path / "fm.h5")
    data = load(tmp_path / "fm.h5", frames_axis=0)
    assert np.array_equal(data.kspace, slices[0]) and "ismrmrd_header" in data.meta.extra


def test_numpy_arrays_with_axis_order(tmp_path, slices):
    np.save(tmp_path / "k.npy", slices[0].transpose(1, 0, 2, 3))  # (coils, frames, ky, kx)
    assert np.array_equal(load(tmp_path / "k.npy", axes="ctyx").kspace, slices[0])
    np.savez(tmp_path / "k.npz", kspace=slices[0][:, 0])  # single coil (frames, ky, kx)
    assert load(tmp_path / "k.npz", axes="tyx").kspace.shape == (5, 1, 32, 32)
    with pytest.raises(Exception, match="axis order"):
        load(tmp_path / "k.npy", axes="tyx")
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(FileFormatError, match="objects"):
        load(tmp_path / "obj.npy")


def test_truncated_and_empty_files(tmp_path, slices):
    write_mat73(tmp_path / "a.mat", {"kspace_full": np.stack(slices, 1)})
    raw = (tmp_path / "a.mat").read_bytes()
    (tmp_path / "cut.mat").write_bytes(raw[: len(raw) // 3])
    with pytest.raises(FileFormatError):
        load(tmp_path / "cut.mat", slice=0)
    with h5py.File(tmp_path / "empty.h5", "w") as f:
        f.create_dataset("kspace", shape=(0, 2, 8, 8), dtype=np.complex64)
        f.attrs["format"] = "napari-stdm"
    with pytest.raises(Exception, match="empty"):
        load(tmp_path / "empty.h5")


def test_info_lists_slices_then_reads_the_chosen_one(tmp_path, slices, capsys):
    from recon.cli import main

    write_mat73(tmp_path / "cine.mat", {"kspace_full": np.stack(slices, 1)})
    assert main(["info", str(tmp_path / "cine.mat")]) == 0
    out = capsys.readouterr().out
    assert "cmrxrecon" in out and "(5, 2, 3, 32, 32)" in out and "choose one" in out
    assert main(["info", str(tmp_path / "cine.mat"), "--slice", "1"]) == 0
    assert "frames       5" in capsys.readouterr().out
    assert main(["recon", str(tmp_path / "cine.mat"), "--slice", "0", "--method", "zero-filled", "--mask",
                 "kt-gaussian", "--accel", "2", "--acs", "8", "--out", str(tmp_path / "r.h5"), "--quiet"]) == 0


def ocmr_case(tmp_path, **kw):
    from tests.ismrmrd_fixture import write_ismrmrd

    cine = simulate_cine(frames=4, size=32, coils=2, seed=8, snr=None)
    oversampled = np.zeros((4, 2, 32, 64), np.complex64)  # readout x2: image padded to twice the width
    image = np.fft.fftshift(np.fft.ifft2(np.fft.ifftshift(cine.kspace, axes=(-2, -1)), norm="ortho"), axes=(-2, -1))
    wide = np.pad(image, ((0, 0), (0, 0), (0, 0), (16, 16)))
    oversampled[:] = np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(wide, axes=(-2, -1)), norm="ortho"), axes=(-2, -1))
    sampled = np.zeros((4, 32), bool)
    sampled[:, 12:20] = True
    sampled[np.arange(4)[:, None], np.arange(4)[:, None] + np.arange(0, 32, 4)] = True  # interleaved
    path = tmp_path / "ocmr.h5"
    write_ismrmrd(path, oversampled, sampled, **kw)
    return path, cine, sampled


def test_ismrmrd_cine_is_assembled_and_cropped(tmp_path):
    path, cine, sampled = ocmr_case(tmp_path, asymmetric=6)
    assert detect(path) == "ismrmrd"
    data = load(path)
    assert data.kspace.shape == (4, 2, 32, 32)
    assert np.array_equal(data.mask[:, :, 0], sampled)
    expected = rss_image(cine.kspace * sampled[:, None, :, None])
    got = rss_image(data.kspace)
    # the asymmetric echo lost 6 of 64 oversampled readout samples: small blurring along x only
    assert np.abs(got - expected).mean() / expected.mean() < 0.1
    (tmp_path / "full").mkdir()
    full = load(ocmr_case(tmp_path / "full", asymmetric=0)[0])
    assert np.allclose(rss_image(full.kspace), expected, atol=1e-4 * expected.max())


def test_ismrmrd_geometry_and_timing_reach_the_metadata(tmp_path):
    data = load(ocmr_case(tmp_path)[0])
    extra = data.meta.extra
    assert extra["tr_ms"] == 2.8 and extra["te_ms"] == 1.4 and extra["patient_position"] == "HFS"
    assert extra["image_orientation"] == [1, 0, 0, 0, 1, 0]
    assert data.meta.frame_times == pytest.approx((0, 40, 80, 120))
    assert data.meta.pixel_spacing == pytest.approx((300 / 32, 400 / 32))
    assert extra["image_position"][0] < 10.0 and extra["image_position"][1] < -20.0


def test_ismrmrd_slices_and_missing_phase(tmp_path):
    from tests.ismrmrd_fixture import write_ismrmrd

    k = np.ones((3, 2, 8, 16), np.complex64)
    write_ismrmrd(tmp_path / "two.h5", k, np.ones((3, 8), bool), slices=2)
    with pytest.raises(FileFormatError, match="slices"):
        load(tmp_path / "two.h5")
    assert np.allclose(load(tmp_path / "two.h5", slice=1).kspace, 2 * load(tmp_path / "two.h5", slice=0).kspace)
    write_ismrmrd(tmp_path / "nophase.h5", k, np.ones((3, 8), bool), with_phase=False)
    with pytest.raises(FileFormatError, match="phase index"):
        load(tmp_path / "nophase.h5")


def test_ismrmrd_geometry_flows_into_dicom(tmp_path):
    import pydicom

    from recon.io.dicom import export_cine

    data = load(ocmr_case(tmp_path)[0])
    files = export_cine(rss_image(data.kspace), data.meta, tmp_path / "dcm", method="zero-filled")
    ds = pydicom.dcmread(files[1])
    assert float(ds.RepetitionTime) == 2.8 and float(ds.TriggerTime) == 40.0
    assert [float(v) for v in ds.ImagePositionPatient] == pytest.approx(data.meta.extra["image_position"])
    assert "synthesised" not in ds.ImageComments
