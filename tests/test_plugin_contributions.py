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
    assert meta["contrast_limits"][1] > 0 and meta["scale"][0] == 1.0
    assert get_reader(str(tmp_path / "x.txt")) is None
    (tmp_path / "other.h5").write_bytes(b"nope")
    assert get_reader(str(tmp_path / "other.h5")) is None


def test_sample_cines_are_time_first_magnitude_layers():
    (data, meta, kind), = synthetic_cine()
    assert kind == "image" and data.shape == (12, 128, 128) and np.isrealobj(data)
    (real, _, _), = real_anatomy_cine()
    assert real.shape == (25, 156, 192)


def test_writer_exports_a_layer_as_dicom_series(tmp_path):
    import pydicom

    from napari_stdm._writer import write_dicom

    data = np.random.default_rng(0).uniform(0, 1, (5, 16, 20))
    files = write_dicom(str(tmp_path / "series"), data, {"name": "lps vista R8", "scale": (1.0, 2.0, 1.5)})
    assert len(files) == 5
    ds = pydicom.dcmread(files[0])
    assert [float(v) for v in ds.PixelSpacing] == [2.0, 1.5] and "lps vista R8" in ds.DerivationDescription
