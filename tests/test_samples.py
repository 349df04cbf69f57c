import numpy as np

from recon.samples import real_cine, real_cine_magnitude, sample_cine


def test_real_cine_keeps_the_anatomy_and_simulates_coils():
    magnitude = real_cine_magnitude()
    assert magnitude.shape == (25, 156, 192)
    cine = real_cine(coils=4, snr=None, seed=1)
    assert cine.kspace.shape == (25, 4, 156, 192)
    assert np.allclose(np.abs(cine.reference), magnitude, atol=1e-5)
    assert "simulated" in cine.meta.source


def test_sample_is_fixed():
    a, b = sample_cine(), sample_cine()
    assert np.array_equal(a.kspace, b.kspace) and a.shape == (12, 8, 128, 128)
