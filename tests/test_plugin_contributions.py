"""The npe2 contributions that need no Qt: reader and sample data return proper layer tuples."""

import numpy as np

from napari_stdm._reader import get_reader
from napari_stdm._sample_data import real_anatomy_cine, synthetic_cine
from recon.io import write_native
from recon.masks import make_mask


def test_reader_claims_kspace_files_only(tmp_path, small_cine):
    path = write_native(tmp_path / "c.h5", small_cine.with_mask(make_mask("vista", (8, 64, 64), 4, 20).array))
    reader = get_reader(str(path))
    assert callable(reader)
    (data, meta, kind), = reader(str(path))
    assert kind == "image" and data.shape == (8, 64, 64)
    assert meta["contrast_limits"][1] > 0
    interval = float(np.median(np.diff(small_cine.meta.frame_times)))
    assert meta["scale"] == (interval, *small_cine.meta.pixel_spacing)  # ms per frame, mm per pixel
    assert meta["axis_labels"] == ("time", "y", "x") and meta["units"] == ("ms", "mm", "mm")
    assert get_reader(str(tmp_path / "x.txt")) is None
    (tmp_path / "other.h5").write_bytes(b"nope")
    assert get_reader(str(tmp_path / "other.h5")) is None


def test_reader_claims_result_files_and_dicom_folders(tmp_path, small_cine):
    from napari_stdm._reader import get_dicom_reader, read_dicom_folder, read_result_layers
    from recon.io import write_result
    from recon.io.dicom import export_cine

    image = small_cine.reference * 2
    path = write_result(tmp_path / "r.h5", small_cine, image, {"method": "lps", "name": "c · lps · 5 iterations"})
    assert get_reader(str(path)) is read_result_layers
    (data, meta, _), = read_result_layers(str(path))
    assert meta["name"] == "c · lps · 5 iterations" and np.allclose(data, np.abs(image))
    folder = tmp_path / "series"
    export_cine(image, small_cine.meta, folder, method="lps")
    assert get_dicom_reader(str(folder)) is read_dicom_folder and get_dicom_reader(str(tmp_path)) is None
    (frames, meta, _), = read_dicom_folder(str(folder))
    assert frames.shape == (8, 64, 64) and meta["scale"][1:] == tuple(small_cine.meta.pixel_spacing)


def test_sample_cines_are_time_first_magnitude_layers():
    (data, meta, kind), = synthetic_cine()
    assert kind == "image" and data.shape == (12, 128, 128) and np.isrealobj(data)
    assert meta["scale"][1:] == (2.65625, 2.65625) and meta["scale"][0] > 50  # mm and ms
    (real, meta, _), = real_anatomy_cine()
    assert real.shape == (25, 156, 192) and meta["scale"] == (40.0, 1.8, 1.8)


def test_writer_exports_a_layer_as_dicom_series(tmp_path):
    import pydicom

    from napari_stdm._writer import write_dicom

    data = np.random.default_rng(0).uniform(0, 1, (5, 16, 20))
    files = write_dicom(str(tmp_path / "series"), data, {"name": "lps vista R8", "scale": (1.0, 2.0, 1.5)})
    assert len(files) == 5
    ds = pydicom.dcmread(files[0])
    assert [float(v) for v in ds.PixelSpacing] == [2.0, 1.5] and "lps vista R8" in ds.DerivationDescription
    assert "spacing" not in ds.ImageComments  # the layer's spacing is used, not synthesised
    files = write_dicom(str(tmp_path / "timed"), data, {"name": "x", "scale": (40.0, 2.0, 1.5),
                                                         "units": ("ms", "mm", "mm")})
    assert [float(pydicom.dcmread(f).TriggerTime) for f in files] == [0, 40, 80, 120, 160]
    files = write_dicom(str(tmp_path / "pixels"), data, {"name": "x", "scale": (1, 1, 1)})  # no geometry known
    assert "spacing 1 x 1 mm are synthesised" in pydicom.dcmread(files[0]).ImageComments
