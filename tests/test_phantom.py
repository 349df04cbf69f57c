import numpy as np

from recon.phantom import contraction, simulate_cine


def test_shapes_types_and_normalised_maps():
    c = simulate_cine(frames=6, size=64, coils=5, seed=1)
    assert c.kspace.shape == (6, 5, 64, 64) and c.kspace.dtype == np.complex64
    assert c.reference.shape == (6, 64, 64)
    assert np.allclose((np.abs(c.sens) ** 2).sum(axis=0), 1, atol=1e-4)
    assert np.isfinite(c.kspace).all()
    assert c.meta.pixel_spacing and len(c.meta.frame_times) == 6


def test_same_seed_same_cine_other_seed_other_subject():
    a, b = simulate_cine(6, 64, 2, seed=5), simulate_cine(6, 64, 2, seed=5)
    assert np.array_equal(a.kspace, b.kspace)
    c = simulate_cine(6, 64, 2, seed=6)
    diff = np.abs(np.abs(a.reference) - np.abs(c.reference)).mean() / np.abs(a.reference).mean()
    assert diff > 0.1, "different seeds must give visibly different subjects"


def test_heart_moves_and_body_does_not():
    c = simulate_cine(frames=12, size=96, coils=1, seed=2, snr=None)
    mag = np.abs(c.reference)
    change = np.abs(mag - mag.mean(axis=0)).max(axis=0)
    moving = change > 0.1
    assert 0.005 < moving.mean() < 0.2, "only the heart region should change over the cycle"


def test_texture_is_not_piecewise_constant():
    mag = np.abs(simulate_cine(frames=2, size=128, coils=1, seed=3, snr=None).reference[0])
    assert np.unique(np.round(mag, 3)).size > 200


def test_noise_level_follows_snr():
    clean = simulate_cine(2, 64, 2, seed=4, snr=None)
    noisy = simulate_cine(2, 64, 2, seed=4, snr=20.0)
    noise = noisy.kspace - clean.kspace
    mag = np.abs(clean.reference)
    expected = mag[mag > 0.05 * mag.max()].mean() / 20
    assert abs(noise.std() / expected - 1) < 0.1


def test_contraction_is_periodic_and_peaks_at_end_systole():
    phase = np.linspace(0, 1, 101)
    c = contraction(phase, 0.35)
    assert c[0] == 0 and abs(c[-1]) < 1e-9
    assert abs(phase[np.argmax(c)] - 0.35) < 0.02


def test_single_coil_has_unit_map():
    c = simulate_cine(frames=3, size=32, coils=1, seed=0)
    assert np.allclose(c.sens, 1)
