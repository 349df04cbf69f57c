import shutil

import numpy as np
import pytest
import torch

from recon import methods
from recon.errors import MethodError
from recon.phantom import simulate_cine
from recon.pipeline import problem_for, undersample


@pytest.fixture(scope="module")
def single_coil_problem():
    cine = simulate_cine(frames=6, size=32, coils=1, seed=77, snr=None)
    measured, _ = undersample(cine, "vista", 4, 8, seed=0)
    measured.reference = None
    return problem_for(measured)


@pytest.mark.parametrize("name", ["dstdm", "dstdm-seq", "stdm"])
def test_hard_dc_preserves_measured_samples(single_coil_problem, tiny_model, name):
    p = single_coil_problem
    result = methods.create(name, model=str(tiny_model), steps=3, dc_noise=0).run(p)  # dstdm gates dc_noise on SNR
    x = torch.from_numpy(result.image) / p.scale
    assert torch.allclose(p.op.forward(x), p.kspace, atol=1e-4 * float(p.kspace.abs().max()))
    assert result.step == result.total == 3 and result.image.shape == (6, 32, 32)


def test_same_seed_same_output_other_seed_other_output(single_coil_problem, tiny_model):
    run = lambda seed: methods.create("dstdm", model=str(tiny_model), steps=2, seed=seed).run(single_coil_problem).image  # noqa: E731
    assert np.array_equal(run(3), run(3))
    assert not np.array_equal(run(3), run(4))


def test_samples_give_an_uncertainty_map(single_coil_problem, tiny_model):
    iterates = list(methods.create("dstdm", model=str(tiny_model), steps=2, samples=3).iterate(single_coil_problem))
    last = iterates[-1]
    assert last.total == 6 and [it.step for it in iterates] == [1, 2, 3, 4, 5, 6]
    u = last.extras["uncertainty"]
    assert u.shape == (6, 32, 32) and (u >= 0).all() and u.max() > 0
    assert "uncertainty" not in iterates[0].extras


@pytest.mark.parametrize("init", ["noise", "view-shared"])
def test_every_yield_is_after_dc_and_carries_the_residual(single_coil_problem, tiny_model, init):
    for it in methods.create("stdm", model=str(tiny_model), steps=3, init=init).iterate(single_coil_problem):
        assert it.extras["residual"] < 1e-3 and np.isfinite(it.image).all()


def test_closing_stops_the_sampler(single_coil_problem, tiny_model):
    gen = methods.create("dstdm", model=str(tiny_model), steps=50).iterate(single_coil_problem)
    assert next(gen).step == 1
    gen.close()
    with pytest.raises(StopIteration):
        next(gen)


def test_wrong_model_kind_and_bad_init_are_explained(single_coil_problem, tiny_model):
    with pytest.raises(MethodError, match="xy"):
        methods.create("spatial", model=str(tiny_model)).run(single_coil_problem)
    with pytest.raises(MethodError, match="init"):
        methods.create("dstdm", model=str(tiny_model), init="magic").run(single_coil_problem)
    with pytest.raises(MethodError, match="does not exist"):
        methods.create("dstdm", model="/nonexistent.safetensors").run(single_coil_problem)


def test_weighted_dc_runs_on_multicoil_data(small_cine, tiny_model):
    measured, _ = undersample(small_cine, "vista", 8, 20, seed=0)
    measured.reference = None
    it = methods.create("dstdm", model=str(tiny_model), steps=2, dc_weight=0.5).run(problem_for(measured))
    assert it.image.shape == (8, 64, 64) and np.isfinite(it.image).all()


def test_noise_aware_dc_fits_the_data_less_closely_than_replacement(small_cine, tiny_model):
    measured, _ = undersample(small_cine, "vista", 8, 20, seed=0)
    measured.reference = None
    problem = problem_for(measured)

    def run(**params):  # ungated, every step, unless a test says otherwise
        params = {"dc_noise_last": 0, "dc_noise_below": 0, **params}
        return methods.create("dstdm", model=str(tiny_model), steps=3, **params).run(problem)

    hard, soft = run(dc_noise=0), run(dc_noise=100)
    assert soft.image.shape == hard.image.shape and np.isfinite(soft.image).all()
    assert soft.extras["residual"] > 1.5 * hard.extras["residual"]
    assert np.array_equal(run(dc_noise=100, dc_noise_last=3).image, soft.image)  # the last 3 of 3 steps = every step
    last = run(dc_noise=100, dc_noise_last=1)
    assert not np.array_equal(last.image, soft.image)
    assert 1.1 * hard.extras["residual"] < last.extras["residual"] < soft.extras["residual"]  # only the last is soft
    assert np.array_equal(run(dc_noise=100, dc_noise_below=1e-3).image, hard.image)  # no data's SNR is that low
    assert np.array_equal(run(dc_noise=100, dc_noise_below=1000).image, soft.image)  # every SNR here is below it


@pytest.mark.parametrize("snr, gated_on", [(5.0, True), (500.0, False)])
def test_default_dstdm_weighs_the_data_by_their_noise_only_on_noisy_scans(tiny_model, snr, gated_on):
    measured, _ = undersample(simulate_cine(frames=8, size=64, coils=4, seed=123, snr=snr), "vista", 8, 20, seed=0)
    measured.reference = None
    method = methods.create("dstdm", model=str(tiny_model), steps=2)
    method.announce_phases = True
    phases = [it.extras["phase"] for it in method.iterate(problem_for(measured)) if it.step == 0]
    decided = [p for p in phases if "data consistency" in p]
    assert len(decided) == 1 and "estimated SNR" in decided[0], phases
    assert decided[0].startswith("noise-aware") == gated_on, decided


@pytest.mark.parametrize("snr, acs, noisy", [(5.0, 0, True), (5.0, 20, False), (500.0, 0, False)])
def test_default_dstdm_takes_the_noisy_scan_prior_only_on_noisy_scans_without_acs_lines(snr, acs, noisy):
    measured, _ = undersample(simulate_cine(frames=8, size=64, coils=4, seed=123, snr=snr), "vista", 8, acs, seed=0)
    measured.reference = None
    problem = problem_for(measured)
    method = methods.create("dstdm", steps=1)  # the shipped weights
    method.announce_phases = True
    phases = [it.extras["phase"] for it in method.iterate(problem) if it.step == 0]
    loading = [p for p in phases if p.startswith("loading model")]
    assert len(loading) == 1 and ("noisy-scan prior" in loading[0]) == noisy, phases
    path, _ = method.model_path(problem)
    assert path.endswith("stdm_yt_xt_noisy.safetensors" if noisy else "stdm_yt_xt.safetensors")


def test_noisy_scan_prior_gives_way_to_a_model_file_and_can_be_switched_off(tiny_model):
    measured, _ = undersample(simulate_cine(frames=8, size=64, coils=4, seed=123, snr=5.0), "vista", 8, 0, seed=0)
    problem = problem_for(measured)
    assert methods.create("dstdm", model=str(tiny_model)).model_path(problem) == (str(tiny_model), "")
    assert methods.create("dstdm", noisy_prior_below=0).model_path(problem)[0].endswith("stdm_yt_xt.safetensors")
    assert set(methods.create("dstdm").weight_files()) == {"model", "model for noisy scans"}  # both in the recipe
    with pytest.raises(MethodError, match="no shipped prior for noisy scans"):
        methods.create("spatial", noisy_prior_below=24).run(problem)


def test_estimated_snr_reads_back_the_bright_level_over_the_noise():
    from recon.noise import estimated_snr

    image = torch.zeros(4, 32, 32, dtype=torch.complex64)
    image[:, 8:24, 8:24] = 2.0
    image[:, 0, 0] = 0.1  # below a tenth of the maximum: not counted
    assert estimated_snr(image, 0.01) == pytest.approx(20.0)


def test_paper_predictor_sampler_also_keeps_measured_samples(single_coil_problem, tiny_model):
    p = single_coil_problem
    result = methods.create("dstdm", model=str(tiny_model), steps=3, sampler="predictor", dc_noise=0).run(p)
    x = torch.from_numpy(result.image) / p.scale
    assert torch.allclose(p.op.forward(x), p.kspace, atol=1e-4 * float(p.kspace.abs().max()))
    with pytest.raises(MethodError, match="sampler"):
        methods.create("dstdm", model=str(tiny_model), sampler="euler").run(p)


@pytest.mark.parametrize("init", ["lps", "bart-ttv"])
def test_warm_start_is_the_classical_result_computed_once_per_problem(single_coil_problem, init):
    from tests.conftest import require_tool

    if init == "bart-ttv":
        require_tool("bart")
    p = single_coil_problem
    method = methods.create("dstdm", init=init)
    warm = method.warm.image(p, method.init)
    expected = methods.create(init).run(p).image
    assert np.allclose(warm.numpy() * p.scale, expected, atol=1e-5 * np.abs(expected).max())
    assert method.warm.image(p, method.init) is warm  # shared by every posterior sample
    other = "lps" if init == "bart-ttv" else "bart-ttv"
    if other == "lps" or shutil.which("bart"):
        method.init = other
        assert method.warm.image(p, method.init) is not warm  # another init: computed again


def test_view_shared_start_runs_through_the_pipeline(single_coil_problem, tiny_model):
    from recon.pipeline import reconstruct

    method = methods.create("dstdm", model=str(tiny_model), steps=2, init="view-shared")
    result = reconstruct(single_coil_problem, method)
    assert result.steps == 2 and np.isfinite(result.image).all()


def test_warm_start_shows_its_progress_with_images(single_coil_problem, tiny_model):
    """A front end gets the warm start's current image every 10 of its iterations, not a silent wait."""
    method = methods.create("dstdm", model=str(tiny_model), steps=2, init="lps")
    method.announce_phases = True
    phases = [it for it in method.iterate(single_coil_problem) if it.step == 0]
    warming = [it for it in phases if it.extras["phase"].startswith("warm start (lps) ")]
    assert warming and all(it.image is not None and it.image.shape == (6, 32, 32) for it in warming)
    assert warming[0].extras["phase"] == "warm start (lps) 10/100"


def test_temporal_tv_in_data_consistency_smooths_the_cine_over_time(single_coil_problem, tiny_model):
    from recon.pipeline import reconstruct

    def temporal_variation(tv_lambda):
        method = methods.create("dstdm", model=str(tiny_model), steps=2, init="view-shared", tv_lambda=tv_lambda)
        image = reconstruct(single_coil_problem, method).image
        assert np.isfinite(image).all()
        return np.abs(np.diff(image, axis=0)).sum()

    assert temporal_variation(0.2) < 0.9 * temporal_variation(0.0)
