import numpy as np
import pytest
import torch

from recon.masks import make_mask
from recon.physics import CineOperator, fft2c, ifft2c
from recon.problem import make_problem
from recon.sens import normalise_maps


def random_complex(shape, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.complex(torch.randn(shape, generator=g), torch.randn(shape, generator=g))


def operator(frames=5, coils=3, n=32, seed=0):
    sens = torch.from_numpy(normalise_maps(random_complex((coils, n, n), seed).numpy()))
    mask = torch.rand((frames, n, n), generator=torch.Generator().manual_seed(seed)) < 0.4
    return CineOperator(mask, sens)


def test_fft_is_centred_orthonormal_and_inverted():
    x = random_complex((3, 32, 32), 1)
    assert torch.allclose(torch.linalg.vector_norm(fft2c(x)), torch.linalg.vector_norm(x), rtol=1e-5)
    assert torch.allclose(ifft2c(fft2c(x)), x, atol=1e-5)
    impulse = torch.zeros(32, 32, dtype=torch.complex64)
    impulse[16, 16] = 1
    assert torch.allclose(fft2c(impulse).abs(), torch.full((32, 32), 1 / 32.0))  # centre pixel -> flat k-space


def test_forward_and_adjoint_are_adjoint():
    op = operator()
    x, y = random_complex((5, 32, 32), 2), random_complex((5, 3, 32, 32), 3)
    lhs = torch.vdot(op.forward(x).flatten(), y.flatten())
    rhs = torch.vdot(x.flatten(), op.adjoint(y).flatten())
    assert abs(lhs - rhs) / abs(lhs) < 1e-5


def test_maps_are_normalised():
    maps = normalise_maps(random_complex((4, 16, 16), 4).numpy())
    assert np.allclose((np.abs(maps) ** 2).sum(axis=0), 1, atol=1e-5)


def test_hard_data_consistency_keeps_measured_samples_single_coil():
    op = CineOperator(torch.rand(4, 32, 32) < 0.3, torch.ones(1, 32, 32, dtype=torch.complex64))
    truth = random_complex((4, 32, 32), 5)
    measured = op.forward(truth)
    out = op.data_consistency(random_complex((4, 32, 32), 6), measured)
    assert torch.allclose(op.forward(out), measured, atol=1e-5)
    assert torch.allclose(op.data_consistency(out, measured, weight=1.0), out, atol=1e-5)
    half = op.data_consistency(torch.zeros(4, 32, 32, dtype=torch.complex64), measured, weight=0.5)
    assert torch.allclose(op.forward(half), 0.5 * measured, atol=1e-5)


@pytest.mark.parametrize("n", [32, 33])  # the modulated (even) and the shifted (odd) path
def test_data_consistency_takes_the_share_of_each_sample_its_gain_gives(n):
    op = CineOperator(torch.rand(2, n, n) < 0.5, torch.ones(1, n, n, dtype=torch.complex64))
    estimate = random_complex((2, n, n), 7)
    coil_k = fft2c(estimate)[:, None]
    measured = op.forward(random_complex((2, n, n), 8))
    share = torch.rand(coil_k.shape, generator=torch.Generator().manual_seed(1))
    seen = []
    out = op.forward(op.data_consistency(estimate, measured, gain=lambda k, y: seen.append((k - y).abs()) or share))
    sampled = op.mask.expand_as(out).real > 0
    assert torch.allclose(seen[0][sampled], (coil_k - measured).abs()[sampled], atol=1e-4)  # sees x and y, aligned
    expected = coil_k + share * (measured - coil_k)
    assert torch.allclose(out[sampled], expected[sampled], atol=1e-4)


def test_wiener_gain_trusts_the_data_only_where_the_estimate_is_off_by_more_than_the_noise():
    from recon.noise import WienerGain

    g = torch.Generator().manual_seed(3)
    shape = (6, 2, 32, 64)
    noise = 0.1 * torch.complex(torch.randn(shape, generator=g), torch.randn(shape, generator=g))
    truth = torch.zeros(shape, dtype=torch.complex64)
    truth[..., 16:48] = 5.0
    estimate = truth.clone()
    estimate[..., 16:32] = 0  # the estimate misses half of the signal; elsewhere it is right
    mask = torch.ones(6, 32, 64, dtype=torch.bool)
    gain = WienerGain(truth + noise, mask, kind="error")(estimate, truth + noise)
    assert gain[..., 20:28].min() > 0.99  # far off: the data win
    assert gain[..., 36:44].mean() < 0.2  # right to within the noise: the estimate stays
    stronger = WienerGain(truth + noise, mask, strength=4.0, kind="error")(estimate, truth + noise)
    assert stronger[..., 36:44].mean() < gain[..., 36:44].mean()
    power_gain = WienerGain(truth + noise, mask)(estimate, truth + noise)  # 'power', the default
    assert power_gain[..., 36:44].min() > 0.99  # 'power' keeps strong data even where the estimate is right
    assert power_gain[..., :6].mean() < 0.2
    with pytest.raises(ValueError, match="gain"):
        WienerGain(truth + noise, mask, kind="magic")


def test_noise_variance_is_estimated_from_repeated_samples_where_static_signal_cancels():
    from recon.noise import kspace_noise_variance

    g = torch.Generator().manual_seed(9)
    static = 0.5 * random_complex((1, 2, 64, 64), 10).expand(4, -1, -1, -1)  # edges as strong as the noise
    noise = 0.2 * torch.complex(torch.randn(static.shape, generator=g), torch.randn(static.shape, generator=g))
    mask = torch.rand(4, 64, 64, generator=g) < 0.5
    measured = (static + noise) * mask[:, None]
    assert kspace_noise_variance(measured, mask) == pytest.approx(2 * 0.2 ** 2, rel=0.1)
    once = kspace_noise_variance(measured[:1], mask[:1])  # one frame: no repeats, |k|^2 itself, signal included
    assert once > 1.5 * 2 * 0.2 ** 2
    with pytest.raises(ValueError, match="outer k-space"):
        kspace_noise_variance(measured, torch.zeros(4, 64, 64, dtype=torch.bool))


def test_espirit_combination_of_fully_sampled_data_matches_reference(small_cine):
    problem = make_problem(small_cine)  # fully sampled: the adjoint is the SENSE combination
    image = np.abs(problem.to_output(problem.zero_filled()))
    ref = np.abs(small_cine.reference)
    body = ref > 0.2 * ref.max()
    assert np.median(np.abs(image[body] - ref[body]) / ref[body]) < 0.05


def test_scale_comes_from_measured_data_only(small_cine):
    mask = make_mask("vista", (8, 64, 64), 4, 20, seed=0).array
    data = small_cine.with_mask(mask)
    scale_with_ref = make_problem(data).scale
    data.reference = data.reference * 1000
    assert make_problem(data).scale == scale_with_ref


def test_view_sharing_recovers_a_static_cine_without_acs_and_is_zero_filled_when_fully_sampled(small_cine):
    from dataclasses import replace

    static = np.repeat(small_cine.reference[:1], small_cine.frames, axis=0)  # no motion: view sharing is exact
    kspace = fft2c(torch.from_numpy(small_cine.sens[None] * static[:, None])).numpy()
    mask = make_mask("interleaved", (small_cine.frames, *small_cine.image_shape), small_cine.frames, acs=0).array
    assert mask.all(axis=0).mean() < 0.1 and mask.any(axis=0).all()  # every line once over the frames, no ACS
    data = replace(small_cine, kspace=kspace * mask[:, None], mask=mask, reference=None)
    problem = make_problem(data, small_cine.sens)
    shared, zero_filled = problem.view_shared(), problem.zero_filled()
    truth = torch.from_numpy(static) / problem.scale
    error = lambda x: float(torch.linalg.vector_norm(x - truth) / torch.linalg.vector_norm(truth))  # noqa: E731
    assert error(shared) < 1e-4 and error(zero_filled) > 0.5
    full = make_problem(replace(small_cine, mask=np.ones_like(mask), reference=None), small_cine.sens)
    assert torch.allclose(full.view_shared(), full.zero_filled(), atol=1e-5)


@pytest.mark.parametrize("shape", [(3, 2, 8, 6), (2, 156, 192), (2, 7, 8), (2, 6, 5), (1, 9, 11)])
def test_centred_ffts_match_the_shift_definition(shape):
    """Even sizes take the checkerboard path, odd ones the rolls; both are fftshift . fft2 . ifftshift."""
    x = torch.randn(shape, dtype=torch.complex64, generator=torch.Generator().manual_seed(0))
    axes = (-2, -1)
    for fast, transform in ((fft2c, torch.fft.fft2), (ifft2c, torch.fft.ifft2)):
        slow = torch.fft.fftshift(transform(torch.fft.ifftshift(x, dim=axes), dim=axes, norm="ortho"), dim=axes)
        assert torch.allclose(fast(x), slow, atol=1e-5)


def test_norm_of_complex_and_conjugated_tensors():
    from recon.physics import norm

    z = torch.randn(4, 5, dtype=torch.complex64, generator=torch.Generator().manual_seed(1))
    expected = float(torch.sqrt((z.abs() ** 2).sum()))
    assert float(norm(z)) == pytest.approx(expected, rel=1e-5)
    assert float(norm(z.conj())) == pytest.approx(expected, rel=1e-5)
