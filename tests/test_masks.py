import numpy as np
import pytest

from recon.errors import MaskError
from recon.masks import KINDS, acs_lines, make_mask

SHAPE = (12, 96, 80)


@pytest.mark.parametrize("kind", KINDS)
def test_each_mask_is_deterministic_and_bool(kind):
    a = make_mask(kind, SHAPE, 8, 20, seed=3)
    b = make_mask(kind, SHAPE, 8, 20, seed=3)
    assert a.array.shape == SHAPE and a.array.dtype == bool
    assert np.array_equal(a.array, b.array)
    assert a.array.reshape(12, -1).any(axis=1).all()


@pytest.mark.parametrize("kind", ["vista", "kt-gaussian", "interleaved-random"])
def test_random_masks_change_with_the_seed(kind):
    assert not np.array_equal(make_mask(kind, SHAPE, 8, 20, seed=1).array, make_mask(kind, SHAPE, 8, 20, seed=2).array)


@pytest.mark.parametrize("kind", ["vista", "kt-uniform", "kt-gaussian", "interleaved", "interleaved-random"])
@pytest.mark.parametrize("accel", [4, 8, 16])
def test_cartesian_masks_count_r_outside_acs(kind, accel):
    mask = make_mask(kind, SHAPE, accel, 20, seed=0)
    rows = mask.array[:, :, 0]
    assert rows[:, acs_lines(96, 20)].all(), "ACS lines must be sampled in every frame"
    outside = rows.sum(axis=1) - 20
    assert np.all(np.abs(outside - 76 / accel) <= 1)
    assert np.array_equal(mask.array, np.repeat(rows[:, :, None], 80, axis=2)), "lines are fully sampled in kx"
    assert mask.effective_accel == pytest.approx(mask.array.size / mask.array.sum())


@pytest.mark.parametrize("kind", ["interleaved", "interleaved-random"])
def test_interleaved_frames_tile_kspace(kind):
    rows = make_mask(kind, SHAPE, 4, 16, seed=0).array[:, :, 0]
    for start in range(0, 12, 4):
        assert rows[start:start + 4].any(axis=0).all()


def test_kt_uniform_is_a_sheared_lattice():
    rows = make_mask("kt-uniform", SHAPE, 8, 0, seed=0).array[:, :, 0]
    first = np.flatnonzero(rows[0])
    assert np.all(np.diff(first) == 8)
    assert not np.array_equal(rows[0], rows[1])


def test_vista_spreads_samples_over_time_with_variable_density():
    rows = make_mask("vista", SHAPE, 8, 20, seed=0).array[:, :, 0]
    outer = np.setdiff1d(np.arange(96), acs_lines(96, 20))
    assert rows[:, outer].any(axis=0).mean() > 0.6, "VISTA should visit most lines across frames"
    near = np.abs(outer - 48) < 25
    assert rows[:, outer[near]].mean() > 1.5 * rows[:, outer[~near]].mean(), "denser near the centre"
    assert not np.array_equal(rows[0], rows[1])


def test_radial_reaches_its_acceleration_and_rotates():
    mask = make_mask("radial", SHAPE, 8, 20, seed=0)
    assert 6.5 < mask.effective_accel <= 8.5
    assert mask.array[:, 48, 40].all(), "every spoke passes through the centre"
    assert not np.array_equal(mask.array[0], mask.array[1])


def test_bad_mask_requests_are_explained():
    with pytest.raises(MaskError, match="larger than"):
        make_mask("vista", SHAPE, 200, 20)
    with pytest.raises(MaskError, match="unknown mask kind"):
        make_mask("spiral", SHAPE, 4, 20)
    with pytest.raises(MaskError, match="at least 1"):
        make_mask("kt-uniform", SHAPE, 0.5, 20)
    with pytest.raises(MaskError, match="ACS"):
        make_mask("vista", SHAPE, 4, 96)


@pytest.mark.parametrize("kind", ["vista", "kt-gaussian", "interleaved", "radial"])
@pytest.mark.parametrize("target", [4.0, 8.0])
def test_effective_acceleration_is_what_was_asked(kind, target):
    from recon.masks import accel_for_effective

    accel = accel_for_effective(kind, 128, target, 8)
    mask = make_mask(kind, (16, 128, 96), accel, 8, seed=1)
    assert mask.effective_accel == pytest.approx(target, rel=0.12)


def test_effective_acceleration_beyond_the_acs_block_is_refused():
    from recon.masks import accel_for_effective

    with pytest.raises(MaskError, match="ACS"):
        accel_for_effective("vista", 128, 12, 20)
    with pytest.raises(MaskError, match="finite"):
        accel_for_effective("vista", 128, float("nan"), 8)


@pytest.mark.parametrize("shape", [(12, 96, 96), (12, 128, 128), (20, 144, 176)])
def test_acs_free_vista_covers_every_line_over_time_with_equal_frames_and_variable_density(shape):
    """Ahmad et al. 2015: the same number of samples in every frame, denser near the centre, and (fill step) a time
    average that covers every line, which ESPIRiT calibrates the coil maps from when there is no ACS block."""
    from recon.masks import accel_for_effective
    from recon.sens import calibration_width

    frames, ny, nx = shape
    for seed in range(10):  # without the fill 9 of these 30 left a line of the central 8 empty: no coil maps
        mask = make_mask("vista", shape, accel_for_effective("vista", ny, 8, 0), 0, seed)
        rows = mask.array[:, :, 0]
        assert mask.effective_accel == pytest.approx(8, rel=0.05)
        assert np.all(rows.sum(axis=1) == rows.sum(axis=1)[0]), "every frame samples as many lines"
        assert rows.any(axis=0).all(), "the frames together sample every line"
        centre = np.abs(np.arange(ny) - ny // 2) < ny / 6
        assert rows[:, centre].mean() > 1.4 * rows[:, ~centre].mean(), "denser near the centre"
        assert calibration_width(mask.array.any(axis=0), 24) == 24


def test_vista_with_an_acs_block_is_not_filled():
    """With ACS lines the coil maps come from them: the masks (and every benchmark made with them) stay as they were."""
    rows = make_mask("vista", (12, 128, 8), 15, 8, seed=0).array[:, :, 0]
    assert not rows.any(axis=0).all()


def test_acs_free_vista_reconstructs_within_1_db_of_8_acs_lines_at_the_same_effective_acceleration():
    from recon import methods
    from recon.phantom import simulate_cine
    from recon.pipeline import MaskSpec, prepare, reconstruct

    cine = simulate_cine(frames=12, size=64, coils=4, seed=123, snr=50.0)
    psnr = {0: [], 8: []}
    for seed in range(3):
        for acs in psnr:
            problem, reference, info = prepare(cine, MaskSpec("vista", acs=acs, seed=seed, accel_eff=6))
            assert info.mask["effective_accel"] == pytest.approx(5.82, abs=0.05)
            psnr[acs].append(reconstruct(problem, methods.create("lps"), reference, None).metrics["psnr"])
    assert np.mean(psnr[0]) > np.mean(psnr[8]) - 1.0, psnr


def test_too_high_an_effective_acceleration_gets_advice_that_can_be_followed():
    from recon.masks import accel_for_effective

    with pytest.raises(MaskError, match="fewer ACS lines"):
        accel_for_effective("vista", 128, 20, 8)
    with pytest.raises(MaskError, match="at most 128") as refused:
        accel_for_effective("vista", 128, 200, 0)
    assert "fewer ACS" not in str(refused.value)
