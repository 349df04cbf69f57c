import numpy as np

from recon.heldout_phantom import HELDOUT_REPORT_SEEDS, HELDOUT_TUNING_SEEDS, simulate_heldout
from recon.metrics import psnr


def test_same_seed_same_cine_and_seeds_differ():
    a, b = simulate_heldout(3), simulate_heldout(3)
    assert np.array_equal(a.kspace, b.kspace)
    shapes = {simulate_heldout(s).shape for s in (500, 501, 502, 503)}
    assert len(shapes) > 1  # frames, coils and matrix vary with the subject


def test_cine_beats_and_maps_are_normalised():
    data = simulate_heldout(7, shape=(64, 80), frames=10, coils=4, snr=np.inf)
    assert data.shape == (10, 4, 64, 80)
    assert np.allclose((np.abs(data.sens) ** 2).sum(axis=0), 1, atol=1e-4)
    magnitude = np.abs(data.reference)
    assert np.abs(magnitude - magnitude[0]).max() > 0.2 * magnitude.max()  # the heart moves
    combined = (data.sens.conj()[None] * np.fft.fftshift(np.fft.ifft2(np.fft.ifftshift(
        data.kspace, axes=(-2, -1)), norm="ortho"), axes=(-2, -1))).sum(axis=1)
    assert psnr(combined, data.reference) > 60  # noise-free k-space is the reference's


def test_tuning_and_report_seeds_are_disjoint():
    assert not set(HELDOUT_TUNING_SEEDS) & set(HELDOUT_REPORT_SEEDS)
