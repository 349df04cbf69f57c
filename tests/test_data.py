import numpy as np
import pytest

from recon.data import CineData
from recon.errors import DataError


def kspace(shape=(4, 2, 16, 16)):
    return (np.random.default_rng(0).standard_normal(shape) + 0j).astype(np.complex64)


@pytest.mark.parametrize("shape, words", [
    ((2, 16, 16), "3 axes"),
    ((2, 2, 2, 16, 16), "5 axes"),
    ((4, 0, 16, 16), "empty"),
    ((1, 2, 16, 16), "single frame"),
    ((4, 2, 4, 4), "too small"),
])
def test_bad_kspace_shapes_are_named(shape, words):
    with pytest.raises(DataError, match=words):
        CineData(kspace=np.ones(shape, np.complex64)).validate()


def test_nan_and_magnitude_and_zero_data_are_rejected():
    bad = kspace()
    bad[0, 0, 0, 0] = np.nan
    with pytest.raises(DataError, match="NaN"):
        CineData(kspace=bad).validate()
    with pytest.raises(DataError, match="not complex"):
        CineData(kspace=np.ones((4, 2, 16, 16), np.float32)).validate()
    with pytest.raises(DataError, match="all zeros"):
        CineData(kspace=np.zeros((4, 2, 16, 16), np.complex64)).validate()


def test_mask_shapes_broadcast_or_fail():
    data = CineData(kspace=kspace(), mask=np.ones((4, 16), bool)).validate()
    assert data.mask.shape == (4, 16, 16)
    assert CineData(kspace=kspace(), mask=np.ones((16, 16))).validate().mask.dtype == bool
    with pytest.raises(DataError, match="does not fit"):
        CineData(kspace=kspace(), mask=np.ones((4, 12, 16))).validate()
    empty = np.ones((4, 16, 16))
    empty[2] = 0
    with pytest.raises(DataError, match="frame"):
        CineData(kspace=kspace(), mask=empty).validate()


def test_reference_and_sens_must_fit():
    with pytest.raises(DataError, match="reference"):
        CineData(kspace=kspace(), reference=np.ones((3, 16, 16))).validate()
    with pytest.raises(DataError, match="coil maps"):
        CineData(kspace=kspace(), sens=np.ones((3, 16, 16))).validate()


def test_with_mask_zeroes_unsampled_locations():
    mask = np.zeros((4, 16, 16), bool)
    mask[:, ::2] = True
    under = CineData(kspace=kspace()).validate().with_mask(mask)
    assert np.all(under.kspace[:, :, 1::2] == 0)
    assert np.all(under.kspace[:, :, ::2] != 0)


def test_empty_frames_are_listed_and_a_long_list_says_it_is_cut():
    from recon.phantom import simulate_cine

    cine = simulate_cine(frames=8, size=16, coils=1, seed=1, snr=None)
    mask = np.ones((8, 16, 16), bool)
    mask[:7] = False
    with pytest.raises(DataError, match=r"frame\(s\) \[0, 1, 2, 3, 4, \.\.\. \(7 frames\)\]"):
        cine.with_mask(mask)
    mask[:] = True
    mask[3] = False
    with pytest.raises(DataError, match=r"frame\(s\) \[3\];"):
        cine.with_mask(mask)
