import numpy as np
import pytest

from recon.diffusion.patient_variation import another_patient, contrast_curve, cycle_profile, warped
from recon.diffusion.sources import augmented_cine


@pytest.fixture
def beating_disc():
    """12 frames of a bright disc whose radius follows the cycle, on a dim background, normalised to 1."""
    t, y, x = np.meshgrid(np.arange(12), np.arange(48), np.arange(56), indexing="ij")
    radius = 10 + 3 * np.cos(2 * np.pi * t / 12)
    return np.where(np.hypot(y - 24, x - 28) < radius, 1.0, 0.2).astype(np.float32)


def test_no_warp_leaves_the_cine_unchanged(beating_disc, rng):
    assert np.allclose(warped(beating_disc, rng, 0.0), beating_disc, atol=1e-6)


def test_warp_moves_anatomy_but_keeps_it_a_cine(beating_disc, rng):
    out = warped(beating_disc, rng, 0.03)
    assert out.shape == beating_disc.shape and np.isfinite(out).all()
    assert out.min() >= 0.2 - 1e-6 and out.max() <= 1.0 + 1e-6  # linear interpolation: no new intensities
    moved = np.abs(out - beating_disc).mean(axis=(1, 2))
    assert (moved > 0.002).all()  # every frame changes
    disc = (out > 0.6).sum(axis=(1, 2)) / (beating_disc > 0.6).sum(axis=(1, 2))
    assert (np.abs(disc - 1) < 0.35).all()  # bent, not torn apart


def test_motion_profile_is_periodic_and_bounded(rng):
    profile = cycle_profile(rng, 20)
    assert np.abs(profile).max() == pytest.approx(1.0)
    longer = cycle_profile(np.random.default_rng(5), 40)
    again = cycle_profile(np.random.default_rng(5), 20)
    same_phases = longer[::2] / np.abs(longer[::2]).max()
    assert np.allclose(same_phases, again, atol=1e-6)  # a function of the phase in the cycle, not of the frame index


def test_contrast_curve_is_monotone_and_keeps_black_and_the_reference_level(rng):
    levels = np.linspace(0, 1.4, 200, dtype=np.float32)
    for _ in range(20):
        out = contrast_curve(levels, rng)
        assert np.all(np.diff(out) > 0)
        assert out[0] == 0 and np.interp(1.0, levels, out) == pytest.approx(1.0, abs=0.01)
    assert not np.allclose(contrast_curve(levels, rng), levels)


def test_another_patient_differs_from_the_source(beating_disc, rng):
    out = another_patient(beating_disc, rng, 0.03)
    assert out.shape == beating_disc.shape and out.min() >= 0
    assert np.abs(out - beating_disc).mean() > 0.01


def test_variation_off_gives_the_cines_earlier_recipes_gave(beating_disc):
    base = augmented_cine(beating_disc * 200, np.random.default_rng(3), quantised=True)
    off = augmented_cine(beating_disc * 200, np.random.default_rng(3), quantised=True, variation=0.0)
    on = augmented_cine(beating_disc * 200, np.random.default_rng(3), quantised=True, variation=0.03)
    assert np.array_equal(base, off)
    assert on.shape[1:] == base.shape[1:] or on.shape[1:] == base.shape[2:0:-1]
    assert not (on.shape == base.shape and np.allclose(on, base))
