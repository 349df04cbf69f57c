"""True golden-angle radial: trajectory, NUFFT operator, data consistency, the radial Problem, files and methods."""

import numpy as np
import pytest
import torch

from recon import methods
from recon.errors import DataError, MaskError, MethodError
from recon.io import load, write_native
from recon.io.native import read_result, write_result
from recon.metrics import psnr
from recon.physics import fft2c, ifft2c
from recon.phantom import simulate_cine
from recon.pipeline import MaskSpec, prepare, reconstruct
from recon.radial import RadialCine, acquire_radial, golden_angle, make_radial_problem, nyquist_spokes
from recon.radial.operator import RadialOperator, largest_eigenvalue, nufft
from recon.radial.problem import calibration_width
from recon.radial.trajectory import GOLDEN_ANGLE, check_traj, spokes_for_effective
from recon.sens import maps_from_average

from .conftest import require_tool


@pytest.fixture(scope="module")
def cine():
    return simulate_cine(frames=6, size=48, coils=4, seed=5, snr=60.0)


@pytest.fixture(scope="module")
def radial(cine):
    return acquire_radial(cine, 24).validate()


@pytest.fixture(scope="module")
def problem(radial, cine):
    return make_radial_problem(radial, cine.sens)


def random_complex(shape, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.complex(torch.randn(shape, generator=g), torch.randn(shape, generator=g))


def test_golden_angle_spokes_turn_by_the_golden_angle_across_frames():
    traj = golden_angle(3, 4, (32, 40))
    assert traj.shape == (3, 4, 80, 2)
    ends = traj[:, :, 0].reshape(-1, 2)  # the -1 end of every spoke, in acquisition order
    angles = np.arctan2(-ends[:, 0] / 16, -ends[:, 1] / 20)
    steps = np.angle(np.exp(1j * np.diff(angles)))  # modulo 2 pi; full spokes make it modulo pi
    assert np.allclose(np.mod(steps, np.pi), np.mod(GOLDEN_ANGLE, np.pi), atol=1e-5)
    assert np.abs(traj[..., 0]).max() <= 16 and np.abs(traj[..., 1]).max() <= 20


def test_effective_acceleration_counts_spokes_against_nyquist():
    assert nyquist_spokes((128, 128)) == 202
    assert spokes_for_effective((128, 128), 8) == 25
    assert spokes_for_effective((128, 128), 12) == 17


def test_nufft_matches_the_exact_fourier_transform(cine):
    image = cine.reference[0]
    traj = golden_angle(1, 3, image.shape)[0][:, ::7]
    y, x = np.mgrid[-24:24, -24:24]
    exact = np.array([(image * np.exp(-2j * np.pi * (k[0] * y + k[1] * x) / 48)).sum() / 48
                      for k in traj.reshape(-1, 2)])
    fast = nufft(image, traj).ravel()
    assert np.linalg.norm(fast - exact) / np.linalg.norm(exact) < 1e-2


def test_operator_adjoint_and_norm(problem):
    op = problem.op
    x = random_complex(problem.shape, 0).to(torch.complex64)
    y = random_complex(problem.kspace.shape, 1).to(torch.complex64)
    lhs = torch.vdot(op.forward(x).flatten(), y.flatten())
    rhs = torch.vdot(x.flatten(), op.adjoint(y).flatten())
    assert abs(lhs - rhs) / abs(lhs) < 1e-4
    assert largest_eigenvalue(op.normal, problem.shape, 20) <= 1.0


def test_toeplitz_normal_and_gradient_match_the_nufft_on_a_non_square_image():
    traj = golden_angle(3, 11, (40, 56))
    sens = random_complex((3, 40, 56), 2).to(torch.complex64) / 4
    op = RadialOperator(traj, sens)
    x = random_complex((3, 40, 56), 3).to(torch.complex64)
    y = random_complex((3, 3, 11, 112), 4).to(torch.complex64)
    through_nufft = op.adjoint(op.forward(x))
    assert float((op.normal(x) - through_nufft).norm() / through_nufft.norm()) < 1e-2
    gradient, misfit = op.gradient(x, y)
    expected = op.adjoint(op.forward(x) - y)
    assert float((gradient - expected).norm() / expected.norm()) < 1e-2
    assert float(misfit) == pytest.approx(float((op.forward(x) - y).norm()), rel=1e-3)


def test_data_consistency_reduces_the_residual(problem, cine):
    x = problem.average.expand(problem.shape).clone()
    before = problem.op.residual(x, problem.kspace)
    after = problem.op.residual(problem.op.data_consistency(x, problem.kspace, steps=3), problem.kspace)
    soft = problem.op.residual(problem.op.data_consistency(x, problem.kspace, 0.3, steps=3), problem.kspace)
    assert after < soft < before


def test_gridding_and_view_shared_start_are_in_the_image_units(problem, cine):
    gridded = problem.to_output(problem.zero_filled())
    shared = problem.to_output(problem.view_shared())
    assert psnr(gridded, cine.reference) > 18
    assert psnr(shared, cine.reference) > psnr(gridded, cine.reference)


@pytest.mark.parametrize("bad, message", [
    (lambda t: t[:, :, :-1], "must be"),
    (lambda t: np.where(np.arange(t.size).reshape(t.shape) == 7, np.nan, t), "NaN"),
    (lambda t: t * 3, "outside"),
    (lambda t: t / 48, "normalised"),
])
def test_bad_trajectories_are_refused_by_name(radial, bad, message):
    with pytest.raises(DataError, match=message):
        check_traj(bad(radial.traj.copy()), radial.kspace.shape, radial.image_shape)


def test_radial_problem_estimates_coil_maps_without_acs(radial, cine):
    estimated = make_radial_problem(radial)
    image = estimated.to_output(estimated.view_shared())
    assert estimated.sens.shape == cine.sens.shape
    assert psnr(image, cine.reference) > 20


def sense_combined_psnr(sens, cine) -> float:
    """PSNR of the fully sampled coil images combined with `sens`: the best any method can do with these maps."""
    coils = ifft2c(torch.from_numpy(cine.kspace)).numpy()
    sens = np.asarray(sens)
    image = np.abs((sens.conj()[None] * coils).sum(1)) / np.maximum((np.abs(sens) ** 2).sum(0), 1e-12)[None]
    gain = (image * np.abs(cine.reference)).sum() / (image ** 2).sum()
    return psnr(gain * image, cine.reference)


def test_radial_coil_maps_are_as_good_as_those_of_the_true_time_average(radial, cine):
    # gridding each frame's spokes with its own density and averaging misweights the union (8.7 dB lower here)
    estimated = make_radial_problem(radial).sens
    truth = maps_from_average(fft2c(ifft2c(torch.from_numpy(cine.kspace)).mean(dim=0)).numpy(),
                              calibration_width(radial.traj))
    assert sense_combined_psnr(estimated, cine) > sense_combined_psnr(truth, cine) - 0.5


def test_too_few_spokes_for_coil_maps_say_so(cine):
    sparse = acquire_radial(cine, 2)
    with pytest.raises(DataError, match="too sparsely"):
        make_radial_problem(sparse)


def test_native_radial_file_round_trip(tmp_path, radial):
    path = write_native(tmp_path / "r.h5", radial)
    back = load(path)
    assert isinstance(back, RadialCine)
    assert back.image_shape == radial.image_shape
    np.testing.assert_array_equal(back.traj, radial.traj)
    np.testing.assert_array_equal(back.kspace, radial.kspace)


def test_native_radial_file_without_image_shape_is_refused(tmp_path, radial):
    import h5py

    path = write_native(tmp_path / "r.h5", radial)
    with h5py.File(path, "a") as f:
        del f.attrs["image_shape"]
    with pytest.raises(Exception, match="image_shape"):
        load(path)


def test_golden_angle_mask_spec_acquires_radial(cine):
    problem, reference, info = prepare(cine, MaskSpec("golden-angle", accel_eff=6, seed=1))
    assert problem.radial and info.mask["spokes"] == spokes_for_effective(cine.image_shape, 6)
    assert info.mask["effective_accel"] == pytest.approx(nyquist_spokes(cine.image_shape) / info.mask["spokes"])
    assert info.mask_array.shape == (cine.frames, *cine.image_shape)
    assert reference is not None and info.measured.reference is None


def test_radial_file_takes_no_cartesian_mask(radial):
    with pytest.raises(MaskError, match="mask 'file'"):
        prepare(radial, MaskSpec("vista"))


def test_golden_angle_needs_fully_sampled_input(cine):
    under = cine.with_mask(np.ones((cine.frames, *cine.image_shape), bool) & (np.arange(48) % 2 == 0)[None, :, None])
    with pytest.raises(MaskError, match="fully sampled"):
        prepare(under, MaskSpec("golden-angle", accel_eff=4))


@pytest.mark.parametrize("name, params", [("zero-filled", {}), ("sense", {"iterations": 5}),
                                          ("lps", {"iterations": 15})])
def test_operator_methods_run_on_radial(problem, cine, name, params):
    result = reconstruct(problem, methods.create(name, **params), cine.reference)
    assert result.image.shape == cine.reference.shape
    assert result.metrics["psnr"] > 18


def test_lps_improves_on_gridding(problem, cine):
    gridded = reconstruct(problem, methods.create("zero-filled"), cine.reference).metrics["psnr"]
    lps = reconstruct(problem, methods.create("lps", iterations=40), cine.reference).metrics["psnr"]
    assert lps > gridded + 2


def test_dstdm_runs_on_radial(problem, cine, tiny_model):
    result = reconstruct(problem, methods.create("dstdm", model=str(tiny_model), steps=3), cine.reference)
    assert result.image.shape == cine.reference.shape and np.isfinite(result.image).all()
    assert "prior_map" in result.extras


def test_default_dstdm_averages_directions_at_half_the_steps_on_radial_data(problem, tiny_model):
    method = methods.create("dstdm", model=str(tiny_model), steps=6)
    method.announce_phases = True
    iterates = list(method.iterate(problem))
    phases = [it.extras.get("phase", "") for it in iterates if it.step == 0]
    loading = [p for p in phases if p.startswith("loading")]
    assert loading == ["loading model (radial data: directions averaged, 3 steps)"]
    assert iterates[-1].step == iterates[-1].total == 3  # the same network passes as 6 alternating steps
    averaged = reconstruct(problem, methods.create("dstdm", model=str(tiny_model), steps=3, combine="average"))
    assert np.array_equal(iterates[-1].image, averaged.image)
    chosen = methods.create("dstdm", model=str(tiny_model), steps=6, combine="alternate")
    assert chosen.for_problem(problem) is chosen  # an explicit choice is kept
    assert method.combine == "auto" and method.steps == 6  # the caller's method is not changed


def test_noise_aware_data_consistency_refuses_radial_unless_gated(problem, tiny_model):
    with pytest.raises(MethodError, match="dc_noise needs Cartesian"):
        reconstruct(problem, methods.create("dstdm", model=str(tiny_model), steps=2, dc_noise=1.0, dc_noise_below=0))
    gated = reconstruct(problem, methods.create("dstdm", model=str(tiny_model), steps=2))  # the default gate
    plain = reconstruct(problem, methods.create("dstdm", model=str(tiny_model), steps=2, dc_noise=0))
    assert np.array_equal(gated.image, plain.image)  # gated: hard (CG) data consistency, as without dc_noise


def test_radial_data_keep_the_shipped_prior(problem):
    method = methods.create("dstdm")
    assert method.noisy_prior_below > 0  # the default: noisy Cartesian scans get the noisy-scan prior
    path, why = method.model_path(problem)  # radial: no SNR estimate, so the shipped prior
    assert path.endswith("stdm_yt_xt.safetensors") and why == ""


def test_gldm_refuses_radial(problem):
    with pytest.raises(MethodError, match="radial"):
        reconstruct(problem, methods.create("gldm"))


def test_bart_reconstructs_radial_with_its_own_nufft(problem, cine):
    require_tool("bart")
    gridded = reconstruct(problem, methods.create("zero-filled"), cine.reference).metrics["psnr"]
    result = reconstruct(problem, methods.create("bart-ttv", iterations=30), cine.reference)
    assert result.metrics["psnr"] > gridded + 2


def test_radial_result_file_keeps_the_trajectory(tmp_path, problem, radial, cine):
    result = reconstruct(problem, methods.create("zero-filled"), cine.reference)
    path = write_result(tmp_path / "out.h5", radial, result.image, {"method": "zero-filled"})
    data, image, info = read_result(path)
    assert isinstance(data, RadialCine) and image.shape == (radial.frames, *radial.image_shape)
    assert info["method"] == "zero-filled"


@pytest.mark.parametrize("normalised", [True, False])
def test_ismrmrd_radial_acquisitions_read_with_their_trajectory(tmp_path, radial, normalised):
    from .ismrmrd_fixture import write_ismrmrd_radial

    path = tmp_path / "radial.h5"
    write_ismrmrd_radial(path, radial.kspace, radial.traj, radial.image_shape, normalised)
    back = load(path)
    assert isinstance(back, RadialCine) and back.image_shape == radial.image_shape
    np.testing.assert_allclose(back.traj, radial.traj, atol=1e-3)
    np.testing.assert_array_equal(back.kspace, radial.kspace)
    assert back.meta.frame_times is not None


def test_a_radial_run_is_named_by_the_steps_and_combination_it_ran(radial, tiny_model):
    from napari_stdm._job import RunJob

    job = RunJob("layer: radial", "dstdm", {"model": str(tiny_model), "steps": 4}, mask="file", data=radial,
                 data_name="radial")
    events = list(job.iterate())
    assert type(events[-1]).__name__ == "Finished", events[-1]
    assert job.name().endswith("· 2 steps · model tiny · combine average"), job.name()
    assert job.ran_params["steps"] == 2 and job.params["steps"] == 4  # what ran, and what was asked for
